"""Browse with 100,000 open posts: time per page and SQL queries per page (prints numbers).

  .venv/bin/python bench/browse.py [--posts 100000] [--database-url URL]

Builds a throwaway database (SQLite in a temp folder unless --database-url names an empty
PostgreSQL database), bulk-inserts posts spread over the St. Croix Valley and beyond, then
requests browse pages through the test client and reports the median time of several runs.
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
from sqlalchemy import event, insert  # noqa: E402

from app import create_app  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Post, User  # noqa: E402
from app.models.posts import CATEGORIES  # noqa: E402
from app.services import geo, search  # noqa: E402
from app.timeutil import utcnow  # noqa: E402

WORDS = ("ride clinic groceries resume writing interview sewing lessons meals formula rent utility bill "
         "winter coat bed frame kitchen pots support group budget computer garden tutoring pharmacy").split()
ZIPS = ["55082", "54016", "54022", "54017", "55003", "55042", "54025", "54020", "54021", "54002", "55001",
        "55125", "55128", "55016", "55033", "55025", "55101", "55401", "53202", "60601"]


def build(n_posts: int, owners: int = 1):
    rng = random.Random(1)
    places = [geo.lookup_zip(z) for z in ZIPS]
    users = [User(name=f"Bench {i}", email=f"bench{i}@example.org", role="member") for i in range(owners)]
    db.session.add_all(users)
    db.session.commit()
    owner_ids = [u.id for u in users]
    now = utcnow()
    rows = []
    for i in range(n_posts):
        place = rng.choice(places)
        lat, lon = place.lat + rng.gauss(0, 0.03), place.lon + rng.gauss(0, 0.03)
        cell_lat, cell_lon = geo.coarse_cell(lat, lon)
        kind = "need" if i % 2 else "offer"
        owner_id = owner_ids[i % owners]
        rows.append(dict(kind=kind, owner_id=owner_id, created_by_id=owner_id, category=rng.choice(list(CATEGORIES)),
                         title=" ".join(rng.sample(WORDS, 3)).capitalize(), details="", status="open",
                         zip_code=place.zip_code, town=place.town, state=place.state, lat=lat, lon=lon,
                         cell_lat=cell_lat, cell_lon=cell_lon, quantity=1, urgency=rng.randint(0, 3),
                         duration_min=60, flexible=True, radius_miles=10.0 if kind == "offer" else None,
                         return_trip=False, created_at=now - timedelta(minutes=i), updated_at=now,
                         expires_at=now + timedelta(days=30)))
        if len(rows) == 10000:
            db.session.execute(insert(Post), rows)
            rows = []
    if rows:
        db.session.execute(insert(Post), rows)
    db.session.commit()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--database-url")
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    url = a.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mae-bench-')}/bench.sqlite"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False)
    app = create_app(config)
    with app.app_context():
        upgrade()
        t0 = time.perf_counter()
        build(a.posts)
        print(f"database: {db.engine.url.get_backend_name()}, {a.posts:,} open posts inserted in {time.perf_counter() - t0:.1f} s")
        # The posts went in as bulk rows, past set_terms: write their search terms the same way.
        t0 = time.perf_counter()
        terms = search.reindex_open_posts()
        db.session.commit()
        pg = db.engine.dialect.name == "postgresql"
        if pg:
            # What autovacuum soon does to freshly loaded tables in production (statistics, and the
            # visibility map that lets the terms index answer without reading the table); a test
            # server may run with autovacuum off. Without statistics PostgreSQL guesses 1 row.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        print(f"{terms:,} search terms written{', VACUUM ANALYZE' if pg else ''} in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        search._vocabulary().current()
        print(f"vocabulary loaded in {(time.perf_counter() - t0) * 1000:.0f} ms (once per process, then topped up)")
    client = app.test_client()
    pages = [
        ("newest needs", "/browse?kind=need&sort=newest"),
        ("most urgent needs, page 50", "/browse?kind=need&page=50"),
        ("category rides", "/browse?kind=need&category=rides"),
        ("within 10 mi of 54016, closest", "/browse?kind=need&near=54016&within=10&sort=closest"),
        ("offers, closest (no radius)", "/browse?kind=offer&near=54016&sort=closest"),
        ("fuzzy search 'resmue'", "/browse?kind=offer&q=resmue"),
        ("fuzzy search 'resmue intervew'", "/browse?kind=offer&q=resmue+intervew"),
        ("fuzzy search 'rdie', needs by match", "/browse?kind=need&q=rdie"),
        ("fuzzy search + category + 10 mi", "/browse?kind=offer&q=resmue&category=skills&near=54016&within=10"),
    ]
    print(f"{'page':<36} {'median ms':>10} {'max ms':>8} {'queries':>8} {'results':>8}")
    for label, url in pages:
        times, queries = [], []
        for _ in range(a.runs):
            count = [0]
            with app.app_context():
                hook = lambda *args: count.__setitem__(0, count[0] + 1)  # noqa: E731
                event.listen(db.engine, "before_cursor_execute", hook)
                t0 = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                event.remove(db.engine, "before_cursor_execute", hook)
            queries.append(count[0])
            assert response.status_code == 200
        html = response.get_data(as_text=True)
        total = html.split('aria-live="polite">')[1].split(" ")[0]
        print(f"{label:<36} {statistics.median(times):>10.1f} {max(times):>8.1f} {max(queries):>8} {total:>8}")


if __name__ == "__main__":
    main()
