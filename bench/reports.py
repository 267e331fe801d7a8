"""The reports with 100,000 posts and their matches: time per page and SQL queries (prints numbers).

  .venv/bin/python bench/reports.py [--posts 100000] [--database-url URL] [--runs 7]

Builds a throwaway database (SQLite in a temp folder unless --database-url names an empty
PostgreSQL database): posts spread over the last year (half needs, half offers), matches for most
needs in every state, group sessions with seats, and fund receipts and payments. Then it asks the
dashboard for the last 30 days, a whole year, the funder CSV and the public impact page, through the
test client as a coordinator, and prints the median of several runs: before the worker's first
count of the daily summary, with it, and with 200 needs changed since. The target: under 300 ms.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, insert, select, update  # noqa: E402

from app import create_app  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import GroupSession, Match, Post, ReportMark, SessionSeat, SessionSeries, User  # noqa: E402
from app.models.posts import POST_CATEGORIES  # noqa: E402
from app.services import accounts, fund, geo, planner, report_summary  # noqa: E402
from app.timeutil import local_today, utcnow  # noqa: E402

ZIPS = ["55082", "54016", "54022", "54017", "55003", "55042", "54025", "54020", "54021", "54002", "55001"]
STATES = ("proposed", "approved", "accepted", "completed", "completed", "completed", "rejected", "declined",
          "cancelled", "no_show")


def build(n_posts: int) -> User:
    rng = random.Random(1)
    places = [geo.lookup_zip(z) for z in ZIPS]
    users = [User(name=f"Bench {i}", email=f"bench{i}@example.org", role="resident" if i % 3 else "member",
                  email_confirmed_at=utcnow()) for i in range(300)]
    coords = [User(name=f"Coordinator {i}", email=f"coord{i}@example.org", role="coordinator", email_confirmed_at=utcnow(),
                   password_hash=accounts.hash_password("correct horse battery")) for i in range(2)]
    db.session.add_all(users + coords)
    db.session.commit()
    now = utcnow()
    cats = list(POST_CATEGORIES)
    rows = []
    for i in range(n_posts):
        place = rng.choice(places)
        lat, lon = place.lat + rng.gauss(0, 0.03), place.lon + rng.gauss(0, 0.03)
        cell_lat, cell_lon = geo.coarse_cell(lat, lon)
        kind = "need" if i % 2 else "offer"
        created = now - timedelta(seconds=rng.randrange(365 * 86400))
        status = rng.choice(("open", "open", "fulfilled", "withdrawn", "expired"))
        owner = users[i % len(users)].id
        rows.append(dict(kind=kind, owner_id=owner, created_by_id=owner, category=rng.choice(cats), title="Bench post",
                         details="", status=status, zip_code=place.zip_code, town=place.town, state=place.state,
                         lat=lat, lon=lon, cell_lat=cell_lat, cell_lon=cell_lon, quantity=1, urgency=0, duration_min=60,
                         flexible=True, radius_miles=10.0 if kind == "offer" else None, return_trip=False,
                         created_at=created, updated_at=created, expires_at=created + timedelta(days=30),
                         closed_at=created + timedelta(hours=rng.randrange(1, 400)) if status != "open" else None))
        if len(rows) == 10000:
            db.session.execute(insert(Post), rows)
            rows = []
    if rows:
        db.session.execute(insert(Post), rows)
    db.session.commit()
    offers = db.session.scalars(select(Post.id).where(Post.kind == "offer")).all()
    needs = db.session.execute(select(Post.id, Post.created_at).where(Post.kind == "need")).all()
    rows = []
    for need_id, created in needs:
        for _ in range(rng.choice((0, 1, 1, 1, 2))):
            state = rng.choice(STATES)
            decided = created + timedelta(minutes=rng.randrange(10, 20000)) if state != "proposed" else None
            rows.append(dict(need_id=need_id, offer_id=rng.choice(offers), units=1, status=state, source="engine", score=0.5,
                             reasons=[], created_at=created, decided_at=decided,
                             closed_at=decided + timedelta(minutes=rng.randrange(60, 9000)) if decided else None))
            if len(rows) == 10000:
                db.session.execute(insert(Match), rows)
                rows = []
    if rows:
        db.session.execute(insert(Match), rows)
    series = SessionSeries(offer_id=offers[0], host_id=users[0].id, created_by_id=users[0].id, first_start_local=now,
                           duration_min=60, places=12)
    db.session.add(series)
    db.session.flush()
    for k in range(500):
        at = now - timedelta(days=365) + timedelta(hours=17 * k)
        session = GroupSession(series_id=series.id, offer_id=offers[0], starts_at=at, ends_at=at + timedelta(hours=1),
                               original_start=at, places=12, taken=0)
        db.session.add(session)
        db.session.flush()
        db.session.execute(insert(SessionSeat), [dict(session_id=session.id, user_id=users[j].id, status="joined",
                                                      attended=rng.random() < 0.8) for j in rng.sample(range(300), 6)])
    db.session.commit()
    coord, coord2 = coords
    today = local_today()
    for k in range(120):
        fund.record_receipt(coord, str(rng.randrange(20, 400)), "check", today - timedelta(days=3 * k), None)
    for k in range(40):
        person = users[1 + 3 * k]
        req = fund.create_request(person, person, str(rng.randrange(20, 200)), "rent", "Bench Landlord")
        fund.approve(coord, req.id)
        fund.approve(coord2, req.id)
        fund.record_payment(coord, req.id, today - timedelta(days=k), "check", "bench")
    return coord


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--database-url")
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    url = a.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mae-bench-')}/bench.sqlite"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    app = create_app(config)
    with app.app_context():
        upgrade()
        t0 = time.perf_counter()
        coord = build(a.posts)
        email = coord.email
        matches = db.session.scalar(select(db.func.count()).select_from(Match))
        print(f"database: {db.engine.url.get_backend_name()}, {a.posts:,} posts and {matches:,} matches "
              f"inserted in {time.perf_counter() - t0:.1f} s")
        planner.after_bulk_load()
        today = local_today()
    client = app.test_client()
    assert client.post("/auth/login", data={"email": email, "password": "correct horse battery"}).status_code == 302
    year = f"from={(today - timedelta(days=365)).isoformat()}&to={today.isoformat()}"
    pages = [("dashboard, last 30 days (default)", "/reports"), ("dashboard, a whole year", f"/reports?{year}"),
             ("funder CSV, last 30 days", "/reports/funder.csv"), ("funder page, a whole year", f"/reports/funder?{year}"),
             ("impact page (12 months)", "/impact"), ("fund page (public summary)", "/fund/")]
    print("\n-- before the worker's first count: every need read from the posts")
    measure(app, client, pages[:2], a.runs)
    with app.app_context():
        t0 = time.perf_counter()
        done = report_summary.refresh(full=True)
        print(f"\nfull count of the summary: {done['needs']:,} needs on {done['days']} days in "
              f"{time.perf_counter() - t0:.2f} s")
        # The margin covers writes of the last minutes; the bench's rows are older than that in real life.
        report_summary.MARGIN = timedelta(0)
        t0 = time.perf_counter()
        report_summary.refresh()
        print(f"count with nothing changed: {(time.perf_counter() - t0) * 1000:.1f} ms")
    print("\n-- with the summary (the worker counts every minute)")
    measure(app, client, pages, a.runs)
    with app.app_context():
        touched = change_needs(200)
    print(f"\n-- 200 needs changed since the last count ({touched} days read from the posts)")
    measure(app, client, pages[:2], a.runs)
    with app.app_context():
        t0 = time.perf_counter()
        done = report_summary.refresh()
        print(f"\ncount of the changed days: {done['needs']:,} needs on {done['days']} days in "
              f"{(time.perf_counter() - t0) * 1000:.0f} ms")


def change_needs(n: int) -> int:
    """Withdraw n needs spread over the year, as members would between two counts."""
    rng = random.Random(2)
    ids = db.session.scalars(select(Post.id).where(Post.kind == "need", Post.status == "open")).all()
    chosen = rng.sample(ids, n)
    db.session.execute(update(Post).where(Post.id.in_(chosen)).values(status="withdrawn"))
    db.session.commit()
    return len(report_summary.changed_days(db.session.scalar(select(ReportMark.counted_to))))


def measure(app, client, pages, runs: int) -> None:
    print(f"{'page':<36} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for label, page in pages:
        times, queries = [], []
        for _ in range(runs):
            count = [0]
            with app.app_context():
                hook = lambda *args: count.__setitem__(0, count[0] + 1)  # noqa: E731
                event.listen(db.engine, "before_cursor_execute", hook)
                t0 = time.perf_counter()
                response = client.get(page)
                times.append((time.perf_counter() - t0) * 1000)
                event.remove(db.engine, "before_cursor_execute", hook)
            queries.append(count[0])
            assert response.status_code == 200, (page, response.status_code)
        print(f"{label:<36} {statistics.median(times):>10.1f} {max(times):>8.1f} {max(queries):>8}")


if __name__ == "__main__":
    main()
