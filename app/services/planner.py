"""Planner statistics: what lets the database pick the right index as the tables grow.

Without statistics both databases guess, and guess wrong on this schema: PostgreSQL gave 100x
slower plans after a bulk load, and SQLite (which never gathers them by itself) read a member's
offers for "I can help" through the category's index (60 ms at 100,000 posts) instead of the
owner's (under 1 ms). `refresh()` runs every night (the `statistics` job); on PostgreSQL
autovacuum keeps them fresh in between. `after_bulk_load()` runs after bulk loads (the demo seed,
the benchmarks): on PostgreSQL it also vacuums, since a table freshly filled has no visibility map
and every index-only scan then reads the table's rows too (a browse page's capped count: a
sequential scan, 2.0 ms, before; an index-only scan, 1.2 ms, after, at 100,000 posts).
"""
from app.extensions import db


def refresh(vacuum: bool = False) -> dict:
    """ANALYZE the whole database (SQLite: 0.2 s at 100,000 posts, one short write); with
    `vacuum`, on PostgreSQL, VACUUM (ANALYZE) (SQLite's VACUUM would rewrite the whole file, and its
    plans do not depend on it)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)" if vacuum else "ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return {"analyzed": 1}


def after_bulk_load() -> None:
    """Statistics, and on PostgreSQL the visibility map, for tables just filled in bulk."""
    refresh(vacuum=True)
