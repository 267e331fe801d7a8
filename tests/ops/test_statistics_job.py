"""The nightly `statistics` job: planner statistics exist after it, and with them SQLite reads a
member's own offers (for "I can help") through the owner's index, not the category's."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.runner import run_job
from app.models import Post
from app.services.posts import open_offers_of


def _stats_of_posts():
    """SQLite: the rows of sqlite_stat1 for posts; PostgreSQL: when posts was last analysed."""
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            return conn.exec_driver_sql("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'posts'").scalar()
        if not conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar():
            return 0
        return conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'posts'").scalar()


def test_the_statistics_job_analyzes_the_database(app, make_user, make_post):
    make_post(make_user(), kind="offer")
    before = _stats_of_posts()
    assert run_job("statistics", force_period="2026-12-03").status == "succeeded"
    after = _stats_of_posts()
    assert after and (not before or after > before)


def test_with_statistics_a_members_offers_are_read_through_the_owners_index(app, make_user, make_post):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL costs plans of tiny tables by their pages; the case is SQLite's, which never analyses by itself")
    owners = [make_user() for _ in range(30)]
    for owner in owners:
        for i in range(3):
            make_post(owner, kind="offer", title=f"Rides to appointments {i}")
    me = owners[0]
    seen = []

    def plan_of_next(conn, cursor, statement, parameters, context, executemany):
        if "FROM posts" in statement and "owner_id" in statement and not seen:
            seen.append((statement, parameters))

    from sqlalchemy import event

    run_job("statistics", force_period="2026-12-03")
    event.listen(db.engine, "before_cursor_execute", plan_of_next)
    try:
        offers = open_offers_of(me.id, "rides")
    finally:
        event.remove(db.engine, "before_cursor_execute", plan_of_next)
    assert {o.id for o in offers} == set(db.session.scalars(select(Post.id).where(Post.owner_id == me.id)))
    with db.engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + seen[0][0], seen[0][1]))
    assert "ix_posts_owner_status" in plan, plan


def test_after_a_bulk_load_postgresql_tables_are_vacuumed_too(app, make_user, make_post):
    """A table just filled has no visibility map, so every index-only scan (a browse page's capped
    count) reads its rows as well: after a bulk load the tables are vacuumed, not only analysed."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's plans do not depend on VACUUM (which would rewrite the whole file)")
    from app.services import planner

    owner = make_user()
    for i in range(30):
        make_post(owner, title=f"Ride to the clinic {i}")

    def vacuums():
        with db.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'posts' "
                                        "AND schemaname = current_schema()").scalar()

    before = vacuums()
    planner.refresh()
    assert vacuums() == before  # ANALYZE alone leaves the visibility map as it was
    planner.after_bulk_load()
    assert vacuums() == before + 1
