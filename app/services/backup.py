"""Backups of the whole database, and restoring one: `flask backup create|restore PATH`.

SQLite goes through its online backup API, which copies a consistent snapshot while the site keeps
writing (in WAL mode readers never block the writer); the copy is written to a temporary file beside
the target and renamed into place, so a half-written backup never carries the target's name.
PostgreSQL goes through pg_dump's custom format (one repeatable-read snapshot) and pg_restore, in a
single transaction: a restore that fails half-way leaves the database as it was.

Restoring replaces every row of the configured database with the backup's. The backup must come
from this site: it has to hold an `alembic_version` table at a revision these migrations know.
"""
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from sqlalchemy.engine import make_url

from app.extensions import db
from app.services import ServiceError

log = logging.getLogger(__name__)
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds: the schema revision, how many tables, its size on disk."""

    path: str
    database: str  # "sqlite" or "postgresql"
    revision: str
    tables: int
    size_bytes: int
    up_to_date: bool  # False: an older schema; `flask db upgrade` after restoring brings it up to date


def create(path: str | os.PathLike, force: bool = False) -> BackupInfo:
    """Back the configured database up into `path`; an existing file is replaced only with `force`."""
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise ServiceError(f"{target} is a folder; give a file name for the backup.")
    if not target.parent.is_dir():
        raise ServiceError(f"The folder {target.parent} does not exist.")
    if target.exists() and not force:
        raise ServiceError(f"There is already a file at {target}; choose another name or replace it with --force.")
    url = _url()
    live = _sqlite_file(url) if url.get_backend_name() == "sqlite" else None
    if live is not None and _same_file(target, live):
        raise ServiceError("That is the site's own database file; choose another name for the backup.")
    log.info("backup of the %s database started: %s", url.get_backend_name(), target.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)  # mode 0600
    os.close(fd)
    try:
        if live is not None:
            raw = db.engine.raw_connection()  # with the app's busy timeout
            try:
                _sqlite_copy(raw.driver_connection, tmp, standalone=True)
            finally:
                raw.close()
            info = _inspect_sqlite(Path(tmp))
        else:
            _pg_tool("pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", tmp, _pg_url(url))
            info = _inspect_pg(Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_dir(target.parent)
    info = BackupInfo(str(target), info.database, info.revision, info.tables, target.stat().st_size, info.up_to_date)
    log.info("backup finished: %s tables at revision %s, %s bytes", info.tables, info.revision, info.size_bytes)
    return info


def inspect(path: str | os.PathLike) -> BackupInfo:
    """Check that `path` is a backup of this site that fits the configured database; say what it holds."""
    source = Path(path).expanduser().absolute()
    if not source.is_file():
        raise ServiceError(f"There is no backup file at {source}.")
    with open(source, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    url = _url()
    if url.get_backend_name() == "sqlite":
        if _same_file(source, _sqlite_file(url)):
            raise ServiceError("That is the site's own database file, not a backup.")
        if head.startswith(PGDUMP_MAGIC):
            raise ServiceError("That is a PostgreSQL backup; this site runs on SQLite.")
        if head != SQLITE_MAGIC:
            raise ServiceError(f"{source.name} is not a SQLite database, so it is not a backup of this site.")
        return _known(_inspect_sqlite(source))
    if head == SQLITE_MAGIC:
        raise ServiceError("That is a SQLite backup; this site runs on PostgreSQL.")
    if not head.startswith(PGDUMP_MAGIC):
        raise ServiceError(f"{source.name} is not a pg_dump backup (custom format), so not a backup of this site.")
    return _known(_inspect_pg(source))


def restore(path: str | os.PathLike) -> BackupInfo:
    """Replace all data in the configured database with the backup at `path` (checked first)."""
    info = inspect(path)
    url = _url()
    live = _sqlite_file(url) if url.get_backend_name() == "sqlite" else None
    log.info("restore into the %s database started: %s", url.get_backend_name(), Path(info.path).name)
    # Our own pooled connections must not hold locks while the database is replaced under them.
    db.session.remove()
    db.engine.dispose()
    if live is not None:
        source = sqlite3.connect(Path(info.path).as_uri() + "?mode=ro", uri=True)
        try:
            _sqlite_copy(source, str(live), standalone=False)
        finally:
            source.close()
    else:
        _pg_tool("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                 "--exit-on-error", "-d", _pg_url(url), info.path)
    db.engine.dispose()
    log.info("restore finished: %s tables at revision %s", info.tables, info.revision)
    return info


# SQLite ---------------------------------------------------------------------------------------

def _sqlite_file(url) -> Path:
    if url.database in (None, "", ":memory:") or url.database.startswith("file::memory:"):
        raise ServiceError("This site's SQLite database lives in memory; there is no file to back up or restore.")
    return Path(url.database).expanduser().absolute()


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _sqlite_copy(source: sqlite3.Connection, target: str, standalone: bool) -> None:
    """Copy every page of `source` into the database file `target` in one step of the backup API:
    one read snapshot of the source, one write transaction on the target (all or nothing)."""
    try:
        dest = sqlite3.connect(target, timeout=30)
        try:
            source.backup(dest)
            if standalone:  # a backup file is one self-contained file, without -wal and -shm beside it
                dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise ServiceError(f"SQLite could not copy the database ({exc}); the target was not changed.") from None


def _inspect_sqlite(path: Path) -> BackupInfo:
    try:
        conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        raise ServiceError(f"{path.name} could not be opened as a SQLite database.") from None
    try:
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise ServiceError(f"{path.name} is a damaged SQLite database; it cannot be restored.")
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                              "AND name NOT LIKE 'sqlite_%'").fetchone()[0]
        try:
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.OperationalError:
            rows = None
    except sqlite3.DatabaseError:
        raise ServiceError(f"{path.name} is not a readable SQLite database.") from None
    finally:
        conn.close()
    return _info(path, "sqlite", rows and [r[0] for r in rows], tables)


# PostgreSQL -----------------------------------------------------------------------------------

def _pg_url(url) -> str:
    """The libpq URL without the SQLAlchemy driver name and without the password (sent through PGPASSWORD)."""
    # _replace, not set(): set(password=None) leaves the password in.
    return url._replace(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _pg_tool(name: str, *args: str) -> str:
    """Run a PostgreSQL client tool; its stdout, or a ServiceError naming its exit code and last words."""
    exe = shutil.which(name) or shutil.which(name, path="/usr/bin")  # cron's PATH may be short
    if exe is None:
        raise ServiceError(f"{name} is not installed; install the PostgreSQL client tools (postgresql-client).")
    env = dict(os.environ)
    password = _url().password
    if password:
        env["PGPASSWORD"] = str(password)
    done = subprocess.run([exe, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines() or ["no message"]
        # The last "error:" line says what went wrong; DETAIL/HINT/"Command was" lines follow it.
        last = [line for line in lines if line.startswith(f"{name}: error:")][-1:] or lines[-1:]
        last = last[0]
        for secret in filter(None, [password and str(password), *(a for a in args if "://" in a)]):
            last = last.replace(secret, "***")
        raise ServiceError(f"{name} failed with exit code {done.returncode}: {last.strip()}")
    return done.stdout.decode(errors="replace")


_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) ", re.M)


def _inspect_pg(path: Path) -> BackupInfo:
    tables = [name for _schema, name in _TOC_TABLE.findall(_pg_tool("pg_restore", "--list", str(path)))]
    revisions = None
    if "alembic_version" in tables:
        sql = _pg_tool("pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path))
        copy = re.search(r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(.*?)^\\\.$", sql, re.M | re.S)
        revisions = copy.group(1).split() if copy else []
    return _info(path, "postgresql", revisions, len(tables))


# Both -----------------------------------------------------------------------------------------

def _info(path: Path, database: str, revisions: list[str] | None, tables: int) -> BackupInfo:
    if revisions is None:
        raise ServiceError(f"{path.name} has no alembic_version table, so it is not a backup of this site.")
    if len(revisions) != 1:
        raise ServiceError(f"{path.name} records {len(revisions)} schema revisions, not one; it cannot be restored.")
    head = ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()
    return BackupInfo(str(path), database, revisions[0], tables, path.stat().st_size, revisions[0] == head)


def _known(info: BackupInfo) -> BackupInfo:
    """Refuse a backup from a newer (or another) version of the site: its schema is not ours."""
    try:
        known = ScriptDirectory(current_app.extensions["migrate"].directory).get_revision(info.revision) is not None
    except CommandError:
        known = False
    if not known:
        raise ServiceError(f"{Path(info.path).name} is at schema revision {info.revision}, which this version of the "
                           "site does not know; restore it with the version that made it.")
    return info


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
