"""Posting a need or an offer with the engine's proposals, against many open posts (prints numbers).

  .venv/bin/python bench/suggest.py [--posts 100000] [--database-url URL]

Builds a throwaway database with open posts spread over the valley, the Twin Cities, Milwaukee and
Chicago (half needs, half offers, six categories; `bench/browse.py`'s generator), then times
`create_post` (validation, insert, the engine's single-post call, proposals, commit) for new needs
and new offers in the valley, and reports the median and the SQL statements per post. With
--nightly it also times the whole re-assignment (`flask match run`).
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Match, User  # noqa: E402
from app.services.posts import PostInput, create_post  # noqa: E402
from bench.browse import build  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--database-url")
    ap.add_argument("--nightly", action="store_true", help="also time `flask match run` over all open posts")
    a = ap.parse_args()
    url = a.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mae-bench-')}/bench.sqlite"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=url, INSTANCE_PATH=tempfile.mkdtemp(prefix="mae-bench-instance-"))
    app = create_app(config)
    with app.app_context():
        upgrade()
        build(a.posts, owners=max(a.posts // 50, 1))  # people post a few needs and offers each
        poster = User(name="Poster", email="poster@example.org", role="member")
        db.session.add(poster)
        db.session.commit()
        print(f"database: {db.engine.url.get_backend_name()}, {a.posts:,} open posts")
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
        for kind, extra in (("need", dict(flexible=True, urgency=2, destination_kind="medical")), ("offer", dict(radius_miles=10.0))):
            times, counts = [], []
            for i in range(a.runs):
                zip_code = ("54016", "55082", "54022")[i % 3]
                statements.clear()
                t0 = time.perf_counter()
                create_post(poster, PostInput(kind=kind, category="rides", title=f"Ride to the clinic {i}",
                                              zip_code=zip_code, quantity=1, **extra))
                times.append((time.perf_counter() - t0) * 1000)
                counts.append(len(statements))
            made = db.session.scalar(select(func.count()).select_from(Match))
            print(f"new {kind}: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms, "
                  f"{statistics.median(counts):.0f} SQL statements; proposals so far {made}")
        if a.nightly:
            from app.services.proposals import run_all

            t0 = time.perf_counter()
            report = run_all()
            print(f"nightly run: {report.needs:,} needs x {report.offers:,} offers -> {report.proposals:,} proposals, "
                  f"{report.unmet:,} unmet, in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
