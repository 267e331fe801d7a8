"""`flask backup create` / `flask backup restore`, on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

The database is filled through the services (people, posts, a match, the fund's ledger, the outbox),
then backed up, wiped or changed, and restored: every table must come back row for row, with the
alembic revision. A backup also restores into a fresh database, where the fund's books must balance."""
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url

from app.cli_backup import backup_cli
from app.extensions import db
from app.models import AuditEntry, LedgerEntry, LedgerTransaction, Match, Post, User
from app.services import backup as backup_service
from app.services import fund, matches
from tests.conftest import PG_URL, make_app, postgres_only
from tests.services.test_fund import TODAY

ROOT = Path(__file__).resolve().parents[2]
HAS_PG_TOOLS = all(os.access(f"/usr/bin/{tool}", os.X_OK) for tool in ("pg_dump", "pg_restore"))
if PG_URL and not HAS_PG_TOOLS:
    pytest.skip("PostgreSQL backups need /usr/bin/pg_dump and pg_restore", allow_module_level=True)


def _with_backup_cli(flask_app):
    if "backup" not in flask_app.cli.commands:
        flask_app.cli.add_command(backup_cli)
    return flask_app


def other_app(url: str):
    """An app like the fixture's, on another database, with the backup commands."""
    return _with_backup_cli(make_app(SQLALCHEMY_DATABASE_URI=url))


@pytest.fixture
def cli(app, runner):
    _with_backup_cli(app)

    def invoke(*args, input=None):
        result = runner.invoke(args=["backup", *args], input=input)
        db.session.remove()  # whatever the test holds is read again from the (maybe restored) database
        return result

    return invoke


@pytest.fixture
def schema_guard(app):
    """A test that drops every table relies on the restore to bring them back; should it fail, the
    schema is rebuilt from the migrations so that the tests after it still find their tables."""
    yield
    db.session.remove()
    expected = set(db.metadata.tables) | {"alembic_version"}
    if set(sa_inspect(db.engine).get_table_names()) != expected:
        from flask_migrate import upgrade

        drop_everything()
        upgrade()
        db.engine.dispose()


def link(m):
    return f"http://localhost/matches/{m.id}"


def fill(make_user, make_post):
    """A small community's worth of everything, made the way the site makes it."""
    a, b, c = (make_user("coordinator", name=f"Coord {n}", email=f"coord{n}@example.org") for n in "abc")
    donor = make_user(name="Dana Donor", email="dana@example.org")
    helper = make_user(name="Hana Helper", email="hana@example.org")
    resident = make_user("resident", name="Robin Resident", email="robin@example.org")
    resident.created_by_id = a.id
    db.session.commit()

    make_post(helper, kind="offer", title="Rides to appointments", quantity=3)
    ride = make_post(resident, title="Ride to the clinic", details="Tuesday morning, back by noon.")
    make_post(donor, kind="offer", category="food", title="Soup on Sundays", quantity=4)
    meals = make_post(resident, category="food", title="Meals for a week", quantity=2)
    [proposed] = db.session.scalars(select(Match).where(Match.need_id == ride.id)).all()
    matches.approve(a, proposed.id, link)
    matches.answer(helper, proposed.id, True)
    [soup] = db.session.scalars(select(Match).where(Match.need_id == meals.id)).all()
    matches.reject(b, soup.id, "The soup is already promised this week.")

    promise = fund.pledge(donor, "250", "monthly", "From the church")
    fund.record_receipt(a, "250", "check", TODAY, promise.id, "chk 1001")
    fund.record_receipt(b, "40.50", "cash", TODAY, None)
    rent = fund.create_request(resident, resident, "120", "rent", "Valley Apartments")
    fund.approve(a, rent.id)
    fund.approve(b, rent.id)
    fund.record_payment(c, rent.id, TODAY, "check", "chk 2001")
    power = fund.create_request(a, resident, "60", "utilities", "Xcel Energy")  # approved, not yet paid
    fund.approve(b, power.id)
    fund.approve(c, power.id)
    coord_id = a.id
    db.session.remove()
    return coord_id


def table_rows() -> dict:
    """Every table's columns and rows, read fresh from the database (reflected, not the models)."""
    meta = MetaData()
    meta.reflect(db.engine)
    out = {}
    with db.engine.connect() as conn:
        for table in meta.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = ([c.name for c in table.columns],
                               [tuple(row) for row in conn.execute(select(table).order_by(*order))])
    return out


def drop_everything():
    """Nothing of the site left: no tables, no triggers, no functions, no sequences."""
    db.session.remove()
    with db.engine.begin() as conn:
        if PG_URL:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        else:
            meta = MetaData()
            meta.reflect(conn)
            meta.drop_all(conn)
    assert table_rows() == {}


@contextmanager
def fresh_database(tmp_path):
    """The URL of an empty database: a new SQLite file, or a second PostgreSQL database."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        return
    name = f"{make_url(PG_URL).database}_fresh_{os.getpid()}"
    env = dict(os.environ, PG_ADMIN_URL=PG_URL)
    subprocess.run([sys.executable, "tests/pgdb.py", "create", name], cwd=ROOT, env=env, check=True)
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        subprocess.run([sys.executable, "tests/pgdb.py", "drop", name], cwd=ROOT, env=env, check=True)


def check_books(expected_balances=None):
    """The fund's balance check: each transaction sums to zero, so the accounts do too."""
    per_tx = db.session.execute(select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount_cents),
                                       func.count()).group_by(LedgerEntry.transaction_id)).all()
    transactions = db.session.scalar(select(func.count()).select_from(LedgerTransaction))
    assert len(per_tx) == transactions > 0
    assert all(total == 0 and n >= 2 for _tx, total, n in per_tx), per_tx
    balances = fund.balances()
    assert sum(balances.values()) == 0
    if expected_balances is not None:
        assert balances == expected_balances
    return balances


# Backup, lose everything, restore ---------------------------------------------------------------

def test_a_restore_brings_back_every_table_row_for_row(app, cli, schema_guard, make_user, make_post, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="app.services.backup")
    coord_id = fill(make_user, make_post)
    before = table_rows()
    for table in ("alembic_version", "users", "posts", "matches", "suggestions", "audit_log", "outbox_emails",
                  "fund_pledges", "fund_requests", "fund_approvals", "ledger_transactions", "ledger_entries"):
        assert before[table][1], f"{table} is empty: the test would not notice it lost"
    assert set(db.metadata.tables) | {"alembic_version"} <= set(before)
    path = tmp_path / "site.backup"

    result = cli("create", str(path))
    assert result.exit_code == 0, result.output
    assert f"{len(before)} tables" in result.output and before["alembic_version"][1][0][0] in result.output
    assert path.stat().st_size > 0 and path.stat().st_mode & 0o077 == 0  # personal data: owner only
    assert [p.name for p in tmp_path.iterdir()] == ["site.backup"]  # no temporary file left behind

    # Changes after the backup are undone, not merged.
    fund.record_receipt(db.session.get(User, coord_id), "999", "cash", TODAY, None)
    make_user(name="Late Comer", email="late@example.org")
    db.session.execute(update(Post).values(title="Changed after the backup"))
    db.session.commit()
    assert table_rows() != before
    result = cli("restore", "--yes", str(path))
    assert result.exit_code == 0, result.output
    assert table_rows() == before

    # Nothing left at all: the backup rebuilds the schema too.
    drop_everything()
    result = cli("restore", "--yes", str(path))
    assert result.exit_code == 0, result.output
    after = table_rows()
    assert set(after) == set(before)
    for table in before:
        assert after[table] == before[table], table

    # The restored site keeps working: new rows get new ids, the ledger still refuses changes.
    fund.record_receipt(db.session.get(User, coord_id), "5", "cash", TODAY, None)
    newcomer = make_user(name="New Neighbor", email="new@example.org")
    assert newcomer.id > max(row[0] for row in before["users"][1])
    if PG_URL:  # the append-only triggers came back with the tables
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM audit_log")
    else:
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    logged = caplog.text
    assert "backup finished" in logged and "restore finished" in logged
    assert not any(secret in logged for secret in ("example.org", "Robin", "Valley Apartments"))


def test_a_backup_restores_into_a_fresh_database_and_the_books_balance(app, cli, make_user, make_post, tmp_path):
    fill(make_user, make_post)
    before = table_rows()
    balances = check_books()
    available = fund.available_cents()
    assert available == 25_000 + 4_050 - 12_000 - 6_000 and balances["payable"] == -6_000
    path = tmp_path / "site.backup"
    assert cli("create", str(path)).exit_code == 0

    with fresh_database(tmp_path) as url:
        other = other_app(url)
        with other.app_context():
            assert table_rows() == {}
            result = other.test_cli_runner().invoke(args=["backup", "restore", "--yes", str(path)])
            assert result.exit_code == 0, result.output
            assert table_rows() == before
            check_books(balances)
            assert fund.available_cents() == available
            # It is a working site: money still moves, and the books still balance.
            coord = db.session.scalar(select(User).where(User.role == "coordinator").order_by(User.id))
            fund.record_receipt(coord, "10", "cash", TODAY, None)
            assert fund.available_cents() == available + 1_000
            check_books()
            db.session.remove()
            db.engine.dispose()


def test_a_backup_taken_while_the_site_writes_is_consistent(app, cli, make_user, tmp_path):
    coord_id = make_user("coordinator").id
    done, stop, errors = [], threading.Event(), []

    def writer():
        with app.app_context():
            actor = db.session.get(User, coord_id)
            try:
                while not stop.is_set():
                    fund.record_receipt(actor, "5", "cash", TODAY, None, f"gift {len(done)}")
                    done.append(1)
            except Exception as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)
            finally:
                db.session.remove()

    def wait_for(n):
        deadline = time.monotonic() + 30
        while len(done) < n and not errors and time.monotonic() < deadline:
            time.sleep(0.005)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for(5)
        started = len(done)
        result = cli("create", str(tmp_path / "busy.backup"))
        finished = len(done)
        wait_for(finished + 5)  # and it went on writing after
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    assert result.exit_code == 0, result.output
    assert len(done) > finished

    with fresh_database(tmp_path) as url:
        other = other_app(url)
        with other.app_context():
            result = other.test_cli_runner().invoke(args=["backup", "restore", "--yes", str(tmp_path / "busy.backup")])
            assert result.exit_code == 0, result.output
            receipts = db.session.scalar(select(func.count()).select_from(LedgerTransaction))
            audited = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                        .where(AuditEntry.action == "fund_receipt"))
            # Every receipt committed before the backup began is in it, none is torn in half.
            assert started <= receipts <= finished + 1
            assert audited == receipts
            assert check_books()["cash"] == 500 * receipts
            db.session.remove()
            db.engine.dispose()


# Refusals: a clear sentence, a non-zero exit, nothing changed ------------------------------------

def _refused(cli, *args, match, input=None):
    before = table_rows()
    result = cli(*args, input=input)
    assert result.exit_code != 0
    assert match in result.output, result.output
    assert table_rows() == before
    return result


def test_restore_refuses_files_that_are_not_a_backup_of_this_site(app, cli, make_user, tmp_path):
    make_user(name="Still Here", email="here@example.org")
    junk = tmp_path / "notes.txt"
    junk.write_text("Not a database at all.\n")
    _refused(cli, "restore", "--yes", str(junk),
             match="is not a pg_dump backup" if PG_URL else "is not a SQLite database")
    _refused(cli, "restore", "--yes", str(tmp_path / "missing.backup"), match="There is no backup file at")
    if not PG_URL:
        live = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
        _refused(cli, "restore", "--yes", live, match="the site's own database file, not a backup")
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.commit()
    conn.close()
    _refused(cli, "restore", "--yes", str(other),
             match="That is a SQLite backup" if PG_URL else "has no alembic_version table")
    if PG_URL:
        no_version = tmp_path / "no_version.backup"
        url = backup_service._pg_url(make_url(app.config["SQLALCHEMY_DATABASE_URI"]))
        subprocess.run(["/usr/bin/pg_dump", "--format=custom", "--exclude-table=alembic_version", "-f",
                        str(no_version), url], check=True)
        _refused(cli, "restore", "--yes", str(no_version), match="has no alembic_version table")


def test_restore_refuses_a_backup_from_an_unknown_schema_and_asks_before_replacing(app, cli, make_user, tmp_path):
    make_user(name="Still Here", email="here@example.org")
    path = tmp_path / "future.backup"
    with db.engine.begin() as conn:
        real = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000deadbeef'")
    assert cli("create", str(path)).exit_code == 0  # a backup is always taken, whatever it holds
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{real}'")
    _refused(cli, "restore", "--yes", str(path), match="revision 0000deadbeef, which this version of the site does not")

    good = tmp_path / "good.backup"
    assert cli("create", str(good)).exit_code == 0
    make_user(name="After Backup", email="after@example.org")
    result = _refused(cli, "restore", str(good), input="n\n", match="replaces every row")
    assert "Aborted" in result.output


def test_create_refuses_to_overwrite_without_force(app, cli, make_user, tmp_path):
    make_user()
    path = tmp_path / "site.backup"
    path.write_bytes(b"yesterday's backup")
    result = _refused(cli, "create", str(path), match="There is already a file at")
    assert "--force" in result.output and path.read_bytes() == b"yesterday's backup"
    _refused(cli, "create", str(tmp_path / "no-such-folder" / "site.backup"), match="does not exist")
    _refused(cli, "create", str(tmp_path), match="")  # a folder, not a file (click or the service refuses)
    if not PG_URL:
        live = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
        _refused(cli, "create", "--force", live, match="the site's own database file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.backup"]

    result = cli("create", "--force", str(path))
    assert result.exit_code == 0, result.output
    assert backup_service.inspect(path).revision == table_rows()["alembic_version"][1][0][0]


@pytest.mark.skipif(not HAS_PG_TOOLS, reason="needs the PostgreSQL client tools")
def test_pg_tools_get_the_password_from_the_environment_and_failures_never_show_it(app, tmp_path, monkeypatch):
    calls = []
    real_run = subprocess.run

    def spy(argv, **kwargs):
        calls.append((argv, kwargs.get("env", {})))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(backup_service.subprocess, "run", spy)
    secret = "s3cret-Pa55word"
    other = other_app(f"postgresql://mae_nobody:{secret}@127.0.0.1:5432/mae_no_such_database")
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "x.backup")])
        db.engine.dispose()
    assert result.exit_code != 0
    assert "pg_dump failed with exit code" in result.output, result.output
    assert secret not in result.output and "postgresql://" not in result.output
    [(argv, env)] = calls
    assert not any(secret in arg for arg in argv) and env["PGPASSWORD"] == secret
    assert "postgresql://mae_nobody@127.0.0.1:5432/mae_no_such_database" in argv
    assert list(tmp_path.iterdir()) == []

    monkeypatch.setattr(backup_service.shutil, "which", lambda *a, **k: None)
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "x.backup")])
    assert result.exit_code != 0 and "pg_dump is not installed" in result.output
    assert list(tmp_path.iterdir()) == []


@postgres_only
def test_a_failed_pg_restore_leaves_the_database_as_it_was(app, cli, make_user, tmp_path):
    make_user(name="Still Here", email="here@example.org")
    path = tmp_path / "site.backup"
    assert cli("create", str(path)).exit_code == 0
    make_user(name="After Backup", email="after@example.org")
    # Someone's reporting view depends on a table the restore must drop: it fails half-way through.
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE VIEW member_report AS SELECT id, created_at FROM users")
    try:
        before = table_rows()
        result = cli("restore", "--yes", str(path))
        assert result.exit_code != 0
        assert "pg_restore failed with exit code 1: pg_restore: error:" in result.output, result.output
        assert "cannot drop" in result.output and "postgresql://" not in result.output
        assert table_rows() == before  # one transaction: nothing of the restore stayed
        assert db.session.scalar(text("SELECT count(*) FROM member_report")) == 2
    finally:
        db.session.remove()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP VIEW IF EXISTS member_report")
