"""Fixtures: an app on SQLite (or PostgreSQL when TEST_DATABASE_URL is set), a client, factories,
a real SMTP server (aiosmtpd) on a free local port, and a SQL query counter."""
import asyncio
import os
import re
import shutil
import socket
import tempfile
import threading
from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.timeutil import utcnow

PG_URL = os.environ.get("TEST_DATABASE_URL")
_SQLITE_DIR = tempfile.mkdtemp(prefix="mae-tests-")


def _db_url() -> str:
    # One SQLite file per process: `make mutation` forks workers that run tests side by side.
    return PG_URL or f"sqlite:///{_SQLITE_DIR}/test-{os.getpid()}.sqlite"

postgres_only = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")


def make_app(**overrides):
    config = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=_db_url(), INSTANCE_PATH=_SQLITE_DIR)
    config.update(overrides)
    # The race tests run 20 threads, each with its own connection.
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 30,
                                          "hide_parameters": True}
    return create_app(config)


@pytest.fixture(scope="session")
def _schema():
    """Build the schema once per run through the migrations, so they are tested too."""
    from flask_migrate import upgrade

    template = os.path.join(_SQLITE_DIR, "migrated.sqlite")
    if not PG_URL and os.path.exists(template):
        # A worker forked by `make mutation` after the first run: the same migrations, already applied.
        shutil.copyfile(template, _db_url().removeprefix("sqlite:///"))
        return True
    app = make_app()
    with app.app_context():
        if PG_URL:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        else:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        db.engine.dispose()
    if not PG_URL:
        shutil.copyfile(_db_url().removeprefix("sqlite:///"), template)
    return True


_PG_WIPE: list[str] = []


def _wipe():
    # fund_lock holds the one row the migration inserts; money movements lock it.
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name != "fund_lock"]
    with db.engine.begin() as conn:
        if PG_URL:
            # DELETE, children first, and every id sequence back to 1, as TRUNCATE ... RESTART
            # IDENTITY would, in one round trip: TRUNCATE gives each of ~50 tables and their indexes
            # new files, which cost 170 ms a call, twice per test (6 of the run's 14 minutes).
            # Triggers are off for this transaction only, as they are for TRUNCATE: the append-only
            # tables (audit log, ledger) refuse a DELETE.
            if not _PG_WIPE:
                sequences = conn.exec_driver_sql(
                    "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid"
                    " AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass"
                    " JOIN pg_class t ON t.oid = d.refobjid"
                    " WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') AND t.relname = ANY(%(tables)s)",
                    {"tables": tables}).scalars().all()
                statements = ["SET LOCAL session_replication_role = replica"]
                statements += [f"DELETE FROM {name}" for name in tables]
                # Planner statistics (the statistics job, the workers' runs of every job, autovacuum)
                # survive a DELETE and would steer the plans later tests assert: back to never
                # analysed, as each test finds the tables on a fresh database.
                ours = "SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                statements += [f"DELETE FROM pg_statistic WHERE starelid IN ({ours})",
                               f"UPDATE pg_class SET reltuples = -1 WHERE oid IN ({ours}) AND relkind IN ('r', 'i')"
                               " AND reltuples <> -1"]
                if sequences:
                    statements.append("SELECT " + ", ".join(f"setval('{seq}', 1, false)" for seq in sequences))
                _PG_WIPE.append("; ".join(statements))
            conn.exec_driver_sql(_PG_WIPE[0])
        else:
            for name in tables:
                conn.exec_driver_sql(f"DELETE FROM {name}")
            # Planner statistics one test gathered (the statistics job) would steer the plans of the
            # next, as on PostgreSQL above; dropping the table also makes every open connection
            # read the schema afresh.
            if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
                conn.exec_driver_sql("DROP TABLE sqlite_stat1")


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (own `g` and database session), as in production.

    Without this, requests would share the fixture's context: Flask-Login's cached user and the
    test's database session would leak from one request into the next and hide bugs.
    """

    def open(self, *args, **kwargs):
        # Buffered: the response is read and closed before open() returns, as a server closes it
        # after sending, so work scheduled with call_on_close (sending queued email) has run.
        kwargs.setdefault("buffered", True)
        ctx = self.application.app_context()
        ctx.push()
        try:
            return super().open(*args, **kwargs)
        finally:
            ctx.pop()


@pytest.fixture
def app(_schema):
    app = make_app()
    app.test_client_class = FreshContextClient
    with app.app_context():
        _wipe()
        yield app
        db.session.remove()
        _wipe()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Factories ---------------------------------------------------------------------------------

@pytest.fixture
def make_user(app):
    from app.services import accounts
    from app.models import User

    counter = {"n": 0}

    def factory(role="member", name=None, email=None, password="correct horse battery", zip_code="54016",
                confirmed=True):
        counter["n"] += 1
        n = counter["n"]
        user = User(name=name or f"Person {n}", email=email if email is not None else f"person{n}@example.org",
                    role=role, password_hash=accounts.hash_password(password),
                    email_confirmed_at=utcnow() if confirmed else None)
        if zip_code:
            accounts._set_place(user, zip_code)
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_post(app):
    from app.services.posts import PostInput, create_post

    def factory(owner, kind="need", category="rides", title="Ride to the clinic", **fields):
        defaults = dict(zip_code=owner.zip_code or "54016", quantity=1)
        if kind == "need":
            defaults.update(flexible=True)
            if category == "rides":
                defaults.update(destination_kind="medical")
            if category == "emergency_funds":
                defaults.update(fund_purpose="rent", quantity=200)
        else:
            defaults.update(radius_miles=10.0)
        defaults.update(fields)
        actor = defaults.pop("actor", owner)
        return create_post(actor, PostInput(kind=kind, category=category, title=title, **defaults),
                           owner=owner if actor is not owner else None)

    return factory


# Web helpers ---------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, url="/auth/reset"):
    html = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def login(client, email, password="correct horse battery"):
    token = csrf_token(client, "/auth/login")
    return client.post("/auth/login", data={"csrf_token": token, "email": email, "password": password})


@pytest.fixture
def login_as(client):
    def do(user, password="correct horse battery"):
        response = login(client, user.email, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do


# SQL query counter ---------------------------------------------------------------------------

@pytest.fixture
def count_queries(app):
    class Counter:
        def __init__(self):
            self.statements = []

        def __enter__(self):
            event.listen(db.engine, "before_cursor_execute", self._hook)
            return self

        def __exit__(self, *exc):
            event.remove(db.engine, "before_cursor_execute", self._hook)

        def _hook(self, conn, cursor, statement, *args):
            self.statements.append(statement)

        @property
        def count(self):
            return len(self.statements)

    return Counter


# Real SMTP -----------------------------------------------------------------------------------

def redis_up() -> bool:
    """Redis answers at 127.0.0.1:6379 (CI runs it; tests that need it skip without)."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.refuse = 0  # refuse this many messages with a 451 before accepting
        # Hold the n-th RCPT (1-based) until `release` is set, so a test can kill the sender there.
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self._rcpts = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self._rcpts += 1
        if self.hold_at is not None and self._rcpts == self.hold_at:
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 Try again later"
            msg = message_from_bytes(envelope.content, policy=policy.default)
            # "raw": the bytes exactly as the server received them, to test what is on the wire.
            self.messages.append({"from": envelope.mail_from, "rcpt": list(envelope.rcpt_tos), "msg": msg,
                                  "raw": envelope.original_content or envelope.content})
        return "250 OK"

    def text(self, i=-1):
        return self.messages[i]["msg"].get_body(("plain",)).get_content()


@pytest.fixture
def smtp(app):
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield box
    controller.stop()


def sender_env(app, **extra) -> dict:
    """Environment for a `flask` subprocess that uses this test's database and mail server."""
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], INSTANCE_PATH=_SQLITE_DIR, SECRET_KEY=app.config["SECRET_KEY"], BASE_URL="http://localhost",
               MAIL_SERVER=app.config["MAIL_SERVER"] or "", MAIL_PORT=str(app.config["MAIL_PORT"]),
               WORKER_NICE="0")  # workers here keep 2-second leases; the priority test sets its own
    env.update(text_env(app))
    env.update({key: str(value) for key, value in extra.items()})
    return env


def text_env(app) -> dict:
    """The app's text settings (TEXT_*, TWILIO_*) for a subprocess, so it sends texts where this
    test's app would: through the `texts` server when that fixture is in use, printed otherwise."""
    env = {}
    for key, value in app.config.items():
        if key.startswith(("TEXT_", "TWILIO_")) and isinstance(value, (str, int)) and not isinstance(value, bool):
            env[key] = str(value)
    return env


def reads_as_a_sentence(message) -> bool:
    """What people read beside a field or on a page: a capitalised sentence, not shouting."""
    return isinstance(message, str) and message[:1].isupper() and message[-1:] in ".?!" and not message.isupper()


def local_dt(days=3, hour=10, minute=0):
    """A naive wall-clock time `days` after the community's today (not the machine's: in the
    evening in Minnesota the machine's UTC date is already tomorrow)."""
    from zoneinfo import ZoneInfo

    base = datetime.now(ZoneInfo(TestConfig.COMMUNITY_TZ)).replace(tzinfo=None) + timedelta(days=days)
    return base.replace(hour=hour, minute=minute, second=0, microsecond=0)


# Real text provider ----------------------------------------------------------------------------

@pytest.fixture
def texts(app):
    """A local server speaking Twilio's Messages API (tests/textserver.py); the app sends to it
    through the real `twilio` library. `texts.messages` is what it accepted."""
    from tests.textserver import TextServer

    server = TextServer(from_number="+16515550100").start()
    app.config.update(TEXT_PROVIDER="twilio", TWILIO_ACCOUNT_SID=server.account_sid,
                      TWILIO_AUTH_TOKEN=server.auth_token, TWILIO_FROM_NUMBER=server.from_number,
                      TWILIO_MESSAGING_SERVICE_SID="", TWILIO_API_BASE=server.url)
    yield server
    server.stop()
