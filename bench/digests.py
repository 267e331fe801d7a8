"""Digests for 10,000 subscribers and 20,000 open needs, built and handed to a local SMTP server.

  .venv/bin/python bench/digests.py [--subscribers 10000] [--needs 20000] [--database-url URL]

Builds a throwaway database (SQLite in a temp folder unless --database-url names an empty
PostgreSQL database), bulk-inserts members spread over the valley and the Twin Cities with
subscriptions (daily or weekly, every category or two to four, 5 to 25 miles) and open needs,
starts an aiosmtpd server on a free local port in its own process, then times `send_digests` (the build) and
`send_pending` (the hand-over) and counts the SQL statements of each. The build is run at a
tenth of the size first, to show that its query count does not grow with the subscribers.
"""
import argparse
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, insert, text  # noqa: E402

from app import create_app  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import DigestSubscription, Post, User  # noqa: E402
from app.models.posts import CATEGORIES  # noqa: E402
from app.services import geo  # noqa: E402
from app.services.digests import new_subscription, send_digests  # noqa: E402
from app.services.mail import send_pending  # noqa: E402
from app.timeutil import utcnow  # noqa: E402
from bench.browse import WORDS, ZIPS  # noqa: E402


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, *args):
        self.n += 1


# The mail server runs in its own process, as a real one would: in this process it would compete
# with the sender for the interpreter lock. It prints how many messages it accepted when stdin closes.
SERVER = """
import sys
from aiosmtpd.controller import Controller
class Sink:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return "250 OK"
controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
print(Sink.count, flush=True)
"""


class MailServer:
    def __init__(self, port: int):
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def stop(self) -> int:
        out, _ = self.proc.communicate("", timeout=60)
        return int(out.strip())


def build(n_subscribers: int, n_needs: int, first_id: int = 1) -> None:
    rng = random.Random(first_id)
    places = [geo.lookup_zip(z) for z in ZIPS[:17]]  # the valley and the Twin Cities
    now = utcnow()
    users, subs = [], []
    for i in range(first_id, first_id + n_subscribers):
        place = rng.choice(places)
        users.append(dict(id=i, email=f"member{i}@example.org", name=f"Member {i}", role="member", password_hash="x",
                          zip_code=place.zip_code, town=place.town, state=place.state,
                          lat=place.lat + rng.gauss(0, 0.02), lon=place.lon + rng.gauss(0, 0.02),
                          session_token=f"s{i}", reset_nonce=f"r{i}", created_at=now - timedelta(days=30)))
        sub = new_subscription(i, since=now - timedelta(days=8))
        sub.update(frequency=rng.choice(("daily", "weekly")), radius_miles=rng.choice((5.0, 10.0, 10.0, 25.0)),
                   categories=None if rng.random() < 0.4 else sorted(rng.sample(list(CATEGORIES), rng.randint(2, 4))))
        subs.append(sub)
    db.session.execute(insert(User), users)
    db.session.execute(insert(DigestSubscription), subs)
    rows = []
    for i in range(n_needs):
        place = rng.choice(places)
        lat, lon = place.lat + rng.gauss(0, 0.03), place.lon + rng.gauss(0, 0.03)
        cell_lat, cell_lon = geo.coarse_cell(lat, lon)
        owner = rng.randint(first_id, first_id + n_subscribers - 1)
        rows.append(dict(kind="need", owner_id=owner, created_by_id=owner, category=rng.choice(list(CATEGORIES)),
                         title=" ".join(rng.sample(WORDS, 3)).capitalize(), details="", status="open",
                         zip_code=place.zip_code, town=place.town, state=place.state, lat=lat, lon=lon,
                         cell_lat=cell_lat, cell_lon=cell_lon, quantity=1, urgency=rng.randint(0, 3),
                         duration_min=60, flexible=True, return_trip=False,
                         created_at=now - timedelta(minutes=rng.randint(1, 7 * 24 * 60)), updated_at=now,
                         expires_at=now + timedelta(days=30)))
    db.session.execute(insert(Post), rows)
    db.session.commit()


def wipe() -> None:
    for table in ("outbox_emails", "digests", "posts", "digest_subscriptions", "users"):
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


def measure(label: str, n_subscribers: int, n_needs: int, port: int, send: bool) -> None:
    wipe()
    build(n_subscribers, n_needs)
    counter = Counter()
    event.listen(db.engine, "before_cursor_execute", counter)
    t0 = time.perf_counter()
    run = send_digests()
    t_build = time.perf_counter() - t0
    event.remove(db.engine, "before_cursor_execute", counter)
    print(f"{label}: {n_subscribers:,} subscribers x {n_needs:,} open needs -> {run.sent:,} digests "
          f"({run.empty:,} with nothing new); build {t_build:.1f} s with {counter.n} SQL statements")
    if not send:
        return
    counter = Counter()
    event.listen(db.engine, "before_cursor_execute", counter)
    server = MailServer(port)
    t0 = time.perf_counter()
    sent, failed = send_pending()
    t_send = time.perf_counter() - t0
    event.remove(db.engine, "before_cursor_execute", counter)
    received = server.stop()
    print(f"  handed to SMTP: {sent:,} sent, {failed} failed, server received {received:,}, "
          f"in {t_send:.1f} s ({counter.n:,} SQL statements: a claim per {200} and one committed update per email)")
    print(f"  total {t_build + t_send:.1f} s (target: 60 s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=10_000)
    ap.add_argument("--needs", type=int, default=20_000)
    ap.add_argument("--database-url")
    a = ap.parse_args()
    url = a.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mae-bench-')}/bench.sqlite"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, DIGEST_HOUR=0,
                  INSTANCE_PATH=tempfile.mkdtemp(prefix="mae-bench-instance-"))
    app = create_app(config)
    with app.app_context():
        upgrade()
        print(f"database: {db.engine.url.get_backend_name()}")
        measure("small", a.subscribers // 10, a.needs, port, send=False)
        measure("full ", a.subscribers, a.needs, port, send=True)


if __name__ == "__main__":
    main()
