"""A CSV import of members and 10,000 posts: the preview (what the upload request does) and the
run (what the worker does), timed separately, with the SQL statements of each.

  .venv/bin/python bench/csv_import.py [--posts 10000] [--members 500] [--database-url URL]

Builds a throwaway database (SQLite in a temp folder unless --database-url names an empty
PostgreSQL database), writes a members file and a posts file whose owners are those members,
and runs csv_import.preview, then csv_import_run.run. The welcome emails are queued in the
outbox and, with no mail server, printed to the console after each batch (as `make dev` does).
"""
import argparse
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
from app.models import Post, User  # noqa: E402
from app.models.imports import ImportJob  # noqa: E402
from app.services import accounts, csv_import, csv_import_run  # noqa: E402
from app.timeutil import utcnow  # noqa: E402

ZIPS = ("54016", "54022", "55082", "54017", "55001")


def files(members: int, posts: int) -> tuple[bytes, bytes]:
    m = ["name,email,zip,phone,language"] + [
        f"Member {i},member{i}@example.org,{ZIPS[i % len(ZIPS)]},651-555-{i % 10000:04d},{'es' if i % 5 == 0 else 'en'}"
        for i in range(members)]
    p = ["kind,category,title,details,zip,quantity,owner email,radius"]
    for i in range(posts):
        kind = "need" if i % 2 else "offer"
        category = ("food", "household_items", "skills", "peer_support")[i % 4]
        p.append(f"{kind},{category},Help with {category} {i},Details for line {i}: soup bread chairs,"
                 f"{ZIPS[i % len(ZIPS)]},{1 + i % 3},member{i % members}@example.org,{5 + i % 20}")
    return ("\n".join(m) + "\n").encode(), ("\n".join(p) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--database-url")
    a = parser.parse_args()
    url = a.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='mae-bench-')}/bench.sqlite"
    config = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=url, INSTANCE_PATH=tempfile.mkdtemp(prefix="mae-bench-instance-"))
    app = create_app(config)
    with app.app_context():
        upgrade()
        coord = User(name="Cora Coord", email="cora@example.org", role="coordinator", email_confirmed_at=utcnow(),
                     password_hash=accounts.hash_password("correct horse battery"))
        db.session.add(coord)
        db.session.commit()
        members, posts = files(a.members, a.posts)
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
        t0 = time.perf_counter()
        job = csv_import.preview(coord, members, posts)
        t1 = time.perf_counter()
        preview_sql = len(statements)
        db.session.execute(ImportJob.__table__.update().values(status="queued"))
        db.session.commit()
        t2 = time.perf_counter()
        csv_import_run.run(job.id)
        t3 = time.perf_counter()
        run_sql = len(statements) - preview_sql
        job = db.session.get(ImportJob, job.id)
        print(f"{db.engine.dialect.name}: {a.members} members + {a.posts} posts ({len(members) + len(posts):,} bytes)")
        print(f"  preview (the upload request): {t1 - t0:6.2f} s, {preview_sql} SQL statements, "
              f"{job.good_rows} good lines")
        print(f"  run (the worker):             {t3 - t2:6.2f} s, {run_sql} SQL statements, "
              f"{job.members_created} members and {job.posts_created} posts created, {job.failed_rows} failed")
        print(f"  posts in the database: {db.session.scalar(select(func.count()).select_from(Post))}")


if __name__ == "__main__":
    main()
