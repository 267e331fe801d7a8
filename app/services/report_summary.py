"""The reports' daily summary: what became of the needs posted on each local day, counted once by
the worker so that a dashboard for a whole year reads a few thousand summary rows instead of
every need and its matches.

- `report_days`: one row per local day: its needs by category and by town and what became of
  them, their completed and no-show matches, and the whole seconds each took to a first approved
  match and to done; `report_marks.counted_to`: the moment the summary has counted to.
- Exact whatever the summary's age: a read takes the summary for the days where nothing has
  changed since `counted_to` (less MARGIN, for clocks a little apart and transactions still open
  at that moment; on PostgreSQL `counted_to` is never later than the start of the oldest
  transaction open elsewhere) and counts the other days from the posts and matches as they are. A change is any write to a need
  (`posts.updated_at`) or to one of its matches (`matches.updated_at`): both move on every ORM
  and Core UPDATE. Before the first refresh every day is counted from the posts.
- `refresh()` (the worker, every minute) recounts the days changed since the last one;
  `refresh(full=True)` (nightly) recounts everything, in case a row was written behind SQLAlchemy's back.
- Medians and 90th percentiles are read from the days' sorted times: exactly the nearest-rank
  values of the raw durations (to the second).
"""
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, time, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, case, delete, func, insert, or_, select, text, union

from app.extensions import db
from app.models import Match, Post, ReportDay, ReportMark
from app.models.posts import MONEY_CATEGORY
from app.timeutil import local_to_utc, utc_to_local, utcnow

MARGIN = timedelta(minutes=5)
MEASURES = ("approval", "done")
MAX_RANGES = 200  # more separate runs of changed days than this: read the span and keep the days in Python
CHUNK = 500


def _seconds(later, earlier):
    """later - earlier in seconds, in SQL (NULL when either is NULL)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def need_rows(*where):
    """One row per need (money needs left out) matching `where`: when it was posted, its category,
    town and outcome as things stand, the seconds to its first approval and to done, and its
    completed and no-show matches. Posts are read once, their matches by need id."""
    approved = and_(Match.decided_at.is_not(None), Match.status != "rejected")
    done = func.max(case((Match.status == "completed", 1), else_=0))
    done_at = func.coalesce(func.min(case((Match.status == "completed", Match.closed_at))),
                            case((Post.status == "fulfilled", Post.closed_at)))
    outcome = case((or_(done == 1, Post.status == "fulfilled"), "met"), (Post.status == "withdrawn", "withdrawn"),
                   (func.max(case((Match.status.in_(("approved", "accepted")), 1), else_=0)) == 1, "under_way"),
                   else_="unmet")
    return (select(Post.created_at, Post.category, Post.town, outcome,
                   _seconds(func.min(case((approved, Match.decided_at))), Post.created_at),
                   _seconds(done_at, Post.created_at),
                   func.sum(case((Match.status == "completed", 1), else_=0)),
                   func.sum(case((Match.status == "no_show", 1), else_=0)))
            .select_from(Post).outerjoin(Match, Match.need_id == Post.id)
            .where(Post.kind == "need", Post.category != MONEY_CATEGORY, *where)
            # Grouped by the key alone: the other columns depend on it (PostgreSQL knows; SQLite allows it).
            .group_by(Post.id))


def _ranges(days: set[date]) -> list[tuple[date, date]]:
    """Runs of consecutive days, each (first, last)."""
    out = []
    for d in sorted(days):
        if out and out[-1][1] + timedelta(days=1) == d:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _posted_on(days: set[date]):
    """Rows of need_rows() for the needs posted on these local days."""
    ranges = _ranges(days)
    if len(ranges) > MAX_RANGES:
        ranges = [(ranges[0][0], ranges[-1][1])]
    where = or_(*[and_(Post.created_at >= local_to_utc(first, time(0)),
                       Post.created_at < local_to_utc(last + timedelta(days=1), time(0))) for first, last in ranges])
    for row in db.session.execute(need_rows(where).execution_options(yield_per=2000)):
        day = utc_to_local(row[0]).date()
        if day in days:
            yield day, row


def _counted_to():
    """How far the summary has counted, or None when it never has (or counted the days of another
    time zone: COMMUNITY_TZ changed since)."""
    row = db.session.execute(select(ReportMark.counted_to, ReportMark.zone).where(ReportMark.id == 1)).first()
    if row is None or row.zone != current_app.config["COMMUNITY_TZ"]:
        return None
    return row.counted_to


def _safe_mark(started):
    """The moment this refresh can say it has counted to: when it started, or, on PostgreSQL, when
    the oldest transaction still open elsewhere began, if earlier (its writes carry stamps from
    then, and it may commit after this refresh has read)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return started
    oldest = db.session.scalar(text("SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"))
    if oldest is None:
        return started
    return min(started, oldest.astimezone(timezone.utc).replace(tzinfo=None))


def changed_days(since) -> set[date]:
    """The local days of the needs written, or whose matches were written, at or after `since`."""
    touched = union(select(Post.created_at).where(Post.kind == "need", Post.updated_at >= since),
                    select(Post.created_at).join(Match, Match.need_id == Post.id).where(Match.updated_at >= since))
    return {utc_to_local(at).date() for at in db.session.scalars(select(touched.subquery().c[0]))}


OUTCOME_DIMENSIONS = ("category", "town")


@dataclass
class Tally:
    """What one read gathers: needs per (dimension, key, outcome) for the dimensions week (the
    index in the period's weeks), category and town; matches completed and no-shows; and the
    whole seconds each need took, per measure."""
    counts: Counter = field(default_factory=Counter)
    completed: int = 0
    no_shows: int = 0
    times: dict = field(default_factory=lambda: {m: [] for m in MEASURES})

    def add_need(self, week: int, category: str, town: str, outcome: str, approval, done, completed, no_shows):
        for key in (("week", week), ("category", category), ("town", town)):
            self.counts[(*key, outcome)] += 1
        self.completed += int(completed or 0)
        self.no_shows += int(no_shows or 0)
        for measure, seconds in zip(MEASURES, (approval, done)):
            if seconds is not None:
                self.times[measure].append(round(seconds))

    def add_day(self, week: int, row) -> None:
        for dimension in OUTCOME_DIMENSIONS:
            for key, outcomes in row.counts[dimension].items():
                for outcome, n in outcomes.items():
                    self.counts[(dimension, key, outcome)] += n
                    if dimension == "category":
                        self.counts[("week", week, outcome)] += n
        self.completed += row.completed
        self.no_shows += row.no_shows
        self.times["approval"] += row.approval
        self.times["done"] += row.done


def nearest_rank(values: list, percent: int):
    """The value at rank ceil(percent / 100 * n) of the sorted values (None if there are none)."""
    if not values:
        return None
    return sorted(values)[max(1, -(-percent * len(values) // 100)) - 1]


def tally(start: date, end: date, week_starts: list[date]) -> Tally:
    """The needs posted from `start` to `end` (local days, inclusive), weeks bucketed by
    `week_starts` (ascending, the first one at or before `start`)."""
    t = Tally()
    counted_to = _counted_to()
    all_days = {start + timedelta(days=k) for k in range((end - start).days + 1)}
    live = all_days if counted_to is None else changed_days(counted_to - MARGIN) & all_days
    week_of = _week_index(week_starts)
    if live != all_days:
        summary = (select(ReportDay.day, ReportDay.counts, ReportDay.completed, ReportDay.no_shows, ReportDay.approval,
                          ReportDay.done).where(ReportDay.day >= start, ReportDay.day <= end))
        for row in db.session.execute(summary):
            if row.day not in live:
                t.add_day(week_of(row.day), row)
    if live:
        for day, (_at, category, town, outcome, approval, done, completed, no_shows) in _posted_on(live):
            t.add_need(week_of(day), category, town, outcome, approval, done, completed, no_shows)
    return t


def _week_index(week_starts: list[date]):
    def index(day: date) -> int:
        return bisect_right(week_starts, day) - 1
    return index


def _locked_mark() -> ReportMark:
    """The one mark row, locked; created first if missing (the migration inserts it, but a restore
    or a wiped table may lack it), by an insert that two refreshes can both make."""
    query = select(ReportMark).where(ReportMark.id == 1).with_for_update()
    mark = db.session.scalars(query).one_or_none()
    if mark is None:
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        db.session.execute(upsert(ReportMark).values(id=1).on_conflict_do_nothing(index_elements=["id"]))
        mark = db.session.scalars(query).one()
    return mark


def refresh(full: bool = False) -> dict:
    """Count again the days changed since the last refresh (or all of them), in one transaction.
    The mark row is locked first, so two refreshes never count the same day at once."""
    started = utcnow()
    mark = _locked_mark()
    started = _safe_mark(started)
    zone = current_app.config["COMMUNITY_TZ"]
    if full or mark.counted_to is None or mark.zone != zone:
        mark.zone = zone
        db.session.execute(delete(ReportDay))
        rows = ((utc_to_local(row[0]).date(), row) for row in
                db.session.execute(need_rows().execution_options(yield_per=2000)))
        days = None
        mark.rebuilt_at = started
    else:
        days = changed_days(mark.counted_to - MARGIN)
        ordered = sorted(days)
        for i in range(0, len(ordered), CHUNK):
            db.session.execute(delete(ReportDay).where(ReportDay.day.in_(ordered[i:i + CHUNK])))
        rows = _posted_on(days) if days else iter(())
    per_day: dict[date, Tally] = defaultdict(Tally)
    needs = 0
    for day, (_at, category, town, outcome, approval, done, completed, no_shows) in rows:
        per_day[day].add_need(0, category, town, outcome, approval, done, completed, no_shows)
        needs += 1
    out = []
    for day, t in per_day.items():
        counts = {dimension: {} for dimension in OUTCOME_DIMENSIONS}
        for (dimension, key, outcome), n in t.counts.items():
            if dimension in counts:
                counts[dimension].setdefault(key, {})[outcome] = n
        out.append(dict(day=day, needs=sum(n for (dim, _k, _o), n in t.counts.items() if dim == "week"),
                        completed=t.completed, no_shows=t.no_shows, counts=counts,
                        approval=sorted(t.times["approval"]), done=sorted(t.times["done"])))
    for i in range(0, len(out), 1000):
        db.session.execute(insert(ReportDay), out[i:i + 1000])
    mark.counted_to = started
    db.session.commit()
    return {"days": len(per_day) if days is None else len(days), "needs": needs}
