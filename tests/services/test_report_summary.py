"""The reports' daily summary (app/services/report_summary.py): after the worker's refresh the
dashboard reads summary rows, not posts, and its figures stay the ones recomputed from the raw
rows in plain Python (tests/services/test_reports.py's expected_rows) whatever changed since:
matches completed, needs withdrawn or edited, needs added, rows written by Core UPDATEs, and
writes stamped just before the refresh by a transaction still open while it counted."""
import csv
import io
import random
from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import func, select, update

from app.extensions import db
from app.jobs import registry
from app.models import Match, Post, ReportDay, ReportMark
from app.services import report_summary, reports
from app.timeutil import utcnow
from tests.services.test_reports import build_world, expected_rows, raw_post


@pytest.fixture
def world(make_user):
    w = build_world(make_user, seed=23, needs=120)
    # Everything so far was written an hour ago: the refresh's margin does not cover it.
    hour_ago = utcnow() - timedelta(hours=1)
    db.session.execute(update(Post).values(updated_at=hour_ago))
    db.session.execute(update(Match).values(updated_at=hour_ago))
    db.session.commit()
    return w


def csv_rows(w):
    return [tuple(r) for r in csv.reader(io.StringIO(reports.funder_csv(w.coord, w.period)))][1:]


class Statements:
    def __init__(self):
        self.seen = []

    def __call__(self, conn, cursor, statement, *args):
        self.seen.append(statement)

    def reading_posts(self):
        return [s for s in self.seen if "FROM posts LEFT OUTER JOIN matches" in s]


@pytest.fixture
def statements(app):
    from sqlalchemy import event

    seen = Statements()
    event.listen(db.engine, "before_cursor_execute", seen)
    yield seen
    event.remove(db.engine, "before_cursor_execute", seen)


def test_before_any_refresh_every_day_is_counted_from_the_posts(world, statements):
    assert db.session.scalar(select(ReportMark.counted_to)) is None
    assert csv_rows(world) == expected_rows(world.period)
    assert len(statements.reading_posts()) == 1


def test_after_a_refresh_the_dashboard_reads_the_summary_and_the_figures_stay_exact(world, statements):
    done = report_summary.refresh()
    posted = db.session.scalar(select(func.count()).select_from(Post).where(Post.kind == "need",
                                                                           Post.category != "emergency_funds"))
    assert done["needs"] == posted and db.session.scalar(select(func.count()).select_from(ReportDay)) > 0
    statements.seen.clear()
    assert csv_rows(world) == expected_rows(world.period)
    assert any("FROM report_days" in s for s in statements.seen) and not statements.reading_posts()
    # A second refresh with nothing changed recounts nothing.
    assert report_summary.refresh() == {"days": 0, "needs": 0}


def _changes(world, rng):
    """Things that happen after the summary counted: a match completed (a Core UPDATE), a need
    withdrawn, one moved to another category and town, a new need on the first day, a match
    approved through the ORM."""
    needs = db.session.scalars(select(Post).where(Post.kind == "need", Post.category != "emergency_funds",
                                                  Post.created_at >= world.period.utc_start,
                                                  Post.created_at < world.period.utc_end).order_by(Post.id)).all()
    proposed = db.session.scalars(select(Match).where(Match.status == "proposed").order_by(Match.id)).all()
    first = proposed[0]
    db.session.execute(update(Match).where(Match.id == first.id)
                       .values(status="completed", decided_at=func.coalesce(Match.decided_at, utcnow()),
                               closed_at=utcnow()))
    rng.choice([n for n in needs if n.status == "open"]).status = "withdrawn"
    moved = rng.choice(needs)
    moved.category, moved.town = "household_items", "Somerset"
    raw_post(world.member, "need", "food", world.period.utc_start + timedelta(minutes=3))
    second = proposed[1]
    second.status, second.decided_at = "approved", utcnow()
    db.session.commit()


def test_changes_after_the_refresh_are_counted_before_the_next_one(world, statements, monkeypatch):
    report_summary.refresh()
    before = csv_rows(world)
    _changes(world, random.Random(5))
    statements.seen.clear()
    after = csv_rows(world)
    assert after == expected_rows(world.period) and after != before
    assert len(statements.reading_posts()) == 1  # only the changed days, from the posts
    changed = report_summary.refresh()
    assert 1 <= changed["days"] <= 5
    statements.seen.clear()
    assert csv_rows(world) == expected_rows(world.period)
    # Within the margin the days just counted are still read from the posts too; once it has passed, never.
    assert len(statements.reading_posts()) == 1
    monkeypatch.setattr(report_summary, "MARGIN", timedelta(0))
    statements.seen.clear()
    assert csv_rows(world) == expected_rows(world.period)
    assert not statements.reading_posts()


def test_an_incremental_refresh_leaves_the_same_rows_as_counting_from_scratch(world):
    report_summary.refresh()
    _changes(world, random.Random(8))
    report_summary.refresh()

    def snapshot():
        db.session.expire_all()
        return {r.day: (r.needs, r.completed, r.no_shows, r.counts, r.approval, r.done)
                for r in db.session.scalars(select(ReportDay))}

    incremental = snapshot()
    report_summary.refresh(full=True)
    assert snapshot() == incremental
    assert db.session.scalar(select(ReportMark.rebuilt_at)) is not None


def test_a_write_stamped_just_before_the_refresh_is_still_counted(world):
    """A transaction open while the refresh counted commits after it, with an older stamp."""
    report_summary.refresh()
    counted_to = db.session.scalar(select(ReportMark.counted_to))
    need = db.session.scalars(select(Post).where(Post.kind == "need", Post.status == "open",
                                                 Post.category != "emergency_funds",
                                                 Post.created_at >= world.period.utc_start,
                                                 Post.created_at < world.period.utc_end)).first()
    db.session.execute(update(Post).where(Post.id == need.id)
                       .values(status="withdrawn", updated_at=counted_to - timedelta(minutes=2)))
    db.session.commit()
    assert csv_rows(world) == expected_rows(world.period)
    report_summary.refresh()
    assert csv_rows(world) == expected_rows(world.period)


def test_the_worker_refreshes_every_minute_and_rebuilds_nightly():
    assert registry.BY_NAME["reports"].every == "minute"
    assert registry.BY_NAME["reports-rebuild"].every == "day"
    assert registry.JOBS[-1].name == "housekeeping"


def test_the_reports_job_counts_through_the_registry(world):
    assert registry.BY_NAME["reports"].run()["needs"] > 100
    assert db.session.scalar(select(ReportMark.counted_to)) is not None
    assert csv_rows(world) == expected_rows(world.period)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2000), min_size=1, max_size=60), st.sampled_from([50, 90]))
def test_nearest_rank_is_the_value_at_rank_ceil_p_n(values, percent):
    import math

    ordered = sorted(values)
    assert report_summary.nearest_rank(values, percent) == ordered[math.ceil(percent / 100 * len(values)) - 1]
    assert report_summary.nearest_rank([], percent) is None


def test_a_new_time_zone_counts_every_day_again(world, app, statements, monkeypatch):
    monkeypatch.setattr(report_summary, "MARGIN", timedelta(0))
    report_summary.refresh()
    statements.seen.clear()
    csv_rows(world)
    assert not statements.reading_posts()  # all from the summary
    app.config["COMMUNITY_TZ"] = "America/Los_Angeles"  # the days start two hours later now
    statements.seen.clear()
    assert csv_rows(world) == expected_rows(world.period)  # counted from the posts, in the new zone's days
    assert len(statements.reading_posts()) == 1
    report_summary.refresh()
    assert db.session.scalar(select(ReportMark.zone)) == "America/Los_Angeles"
    assert csv_rows(world) == expected_rows(world.period)
