"""The coordinators' dashboard and the funder report: what became of the needs posted in a period,
how fast, group sessions, and the fund, all counted by the database (GROUP BY), never by loading
posts into Python. The needs' figures come from the daily summary the worker keeps
(report_summary.py) for the days where nothing changed since it counted, and from the posts for
the others: the cost depends on the period's length, not on how often the page is read.

Definitions (also written on the page):
- A need is "posted in the period" when it was created between the first day's local midnight and
  the midnight after the last day (money needs are left out: money goes through the fund).
- Each such need is counted once, as the first that applies, as things stand today:
  met: at least one match for it was completed, or its owner marked it fulfilled;
  withdrawn: its owner (or a coordinator) withdrew it;
  under way: a coordinator approved a match that is waiting for both people or confirmed by both;
  unmet: the rest (open or expired with nothing approved).
- Fill rate: met / (posted - withdrawn).
- Time to an approved match: posting to the first approval of any of its matches (one that was
  later declined counts: it was approved). Time to done: posting to the first completed match, or
  to the moment the owner marked it fulfilled, to the whole second. Median and 90th percentile by
  nearest rank (the value at position ceil(p * n) in the sorted list).
- No-show rate: matches of these needs that ended "did not happen" / (those + completed ones).
- Group sessions held: sessions not cancelled that started in the period and before now; people
  with a place and people marked present in them.
- Fund: money in and out as on the public summary (cash received less reversed receipts; payments
  to payees), by the date it moved; households helped: people with a request paid in the period;
  pending and approved-but-unpaid requests as of now.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, distinct, func, select

from app.extensions import db
from app.models import FundRequest, GroupSession, LedgerEntry, LedgerTransaction, Match, Post, SessionSeat, User
from app.models.posts import CATEGORIES, MONEY_CATEGORY
from app.services import FieldError, NotAllowed, report_summary
from app.timeutil import local_to_utc, local_today, utcnow

OUTCOMES = ("met", "under_way", "unmet", "withdrawn")
MAX_DAYS = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    start: date  # first day, local
    end: date  # last day, local, inclusive

    @property
    def utc_start(self) -> datetime:
        return local_to_utc(self.start, time(0))

    @property
    def utc_end(self) -> datetime:
        return local_to_utc(self.end + timedelta(days=1), time(0))

    def weeks(self) -> list[date]:
        """The Mondays of the weeks the period touches (the first and last may be partial)."""
        monday = self.start - timedelta(days=self.start.weekday())
        out = []
        while monday <= self.end:
            out.append(monday)
            monday += timedelta(days=7)
        return out


def default_period() -> Period:
    today = local_today()
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


def period(start: date | None, end: date | None) -> Period:
    """The period asked for; a missing end is today, a missing start 30 days before the end."""
    end = end or local_today()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise FieldError("end", _("The end date is before the start date."))
    if (end - start).days >= MAX_DAYS:
        raise FieldError("end", _("Choose a period of at most %(days)s days.", days=MAX_DAYS))
    return Period(start, end)


@dataclass
class Counts:
    posted: int = 0
    met: int = 0
    under_way: int = 0
    unmet: int = 0
    withdrawn: int = 0

    def add(self, outcome: str, n: int) -> None:
        setattr(self, outcome, getattr(self, outcome) + n)
        self.posted += n

    @property
    def fill_rate(self) -> float | None:
        base = self.posted - self.withdrawn
        return self.met / base if base else None


@dataclass
class Timing:
    count: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None


@dataclass
class Dashboard:
    period: Period
    totals: Counts = field(default_factory=Counts)
    by_category: dict = field(default_factory=dict)  # key -> Counts, in CATEGORIES order
    by_town: dict = field(default_factory=dict)  # town -> Counts, most posted first
    by_week: dict = field(default_factory=dict)  # Monday -> Counts
    to_approval: Timing = field(default_factory=Timing)
    to_done: Timing = field(default_factory=Timing)
    completed: int = 0
    no_shows: int = 0
    sessions_held: int = 0
    places_taken: int = 0
    attended: int = 0
    sessions_by_week: dict = field(default_factory=dict)  # Monday -> (held, places taken, present)
    money_in: int = 0
    money_out: int = 0
    money_by_week: dict = field(default_factory=dict)  # Monday -> (in cents, out cents)
    households_helped: int = 0
    pending: tuple = (0, 0)  # requests waiting for approvals: (count, cents)
    to_pay: tuple = (0, 0)  # approved, not yet paid: (count, cents)

    @property
    def no_show_rate(self) -> float | None:
        ended = self.completed + self.no_shows
        return self.no_shows / ended if ended else None


def _require_coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can see reports."))


def bucket(column, bounds: list):
    """The index of the bucket `column` falls in, for ascending lower bounds (bounds[0] is the
    first bucket's start, already filtered on): one CASE, so each bucket is exact in local time."""
    if len(bounds) == 1:
        return case((column >= bounds[0], 0), else_=0)
    return case(*[(column < bound, i) for i, bound in enumerate(bounds[1:])], else_=len(bounds) - 1)


def dashboard(actor: User, p: Period) -> Dashboard:
    _require_coordinator(actor)
    d = Dashboard(p)
    weeks = p.weeks()
    d.by_category = {key: Counts() for key in CATEGORIES if key != MONEY_CATEGORY}
    d.by_week = {monday: Counts() for monday in weeks}
    t = report_summary.tally(p.start, p.end, weeks)
    towns: dict[str, Counts] = {}
    for (dimension, key, outcome), n in t.counts.items():
        if dimension == "week":
            d.totals.add(outcome, n)
            d.by_week[weeks[key]].add(outcome, n)
        elif dimension == "category":
            d.by_category.setdefault(key, Counts()).add(outcome, n)
        else:
            towns.setdefault(key, Counts()).add(outcome, n)
    d.completed, d.no_shows = t.completed, t.no_shows
    for timing, measure in ((d.to_approval, "approval"), (d.to_done, "done")):
        seconds = t.times[measure]
        timing.count = len(seconds)
        if seconds:
            timing.median_hours = report_summary.nearest_rank(seconds, 50) / 3600
            timing.p90_hours = report_summary.nearest_rank(seconds, 90) / 3600
    d.by_town = dict(sorted(towns.items(), key=lambda item: (-item[1].posted, item[0])))
    _groups(d, weeks)
    _fund(d, weeks)
    return d


def _groups(d: Dashboard, weeks: list[date]) -> None:
    p = d.period
    until = min(p.utc_end, utcnow())
    week = bucket(GroupSession.starts_at, [max(local_to_utc(monday, time(0)), p.utc_start) for monday in weeks])
    rows = db.session.execute(
        select(week, func.count(distinct(GroupSession.id)),
               func.coalesce(func.sum(case((SessionSeat.status == "joined", 1), else_=0)), 0),
               func.coalesce(func.sum(case((and_(SessionSeat.status == "joined", SessionSeat.attended.is_(True)), 1),
                                           else_=0)), 0))
        .select_from(GroupSession).outerjoin(SessionSeat, SessionSeat.session_id == GroupSession.id)
        .where(GroupSession.status == "scheduled", GroupSession.starts_at >= p.utc_start, GroupSession.starts_at < until)
        .group_by(week)).all()
    d.sessions_by_week = {monday: (0, 0, 0) for monday in weeks}
    for week_index, held, taken, present in rows:
        d.sessions_by_week[weeks[int(week_index)]] = (int(held), int(taken), int(present))
        d.sessions_held += int(held)
        d.places_taken += int(taken)
        d.attended += int(present)


def _fund(d: Dashboard, weeks: list[date]) -> None:
    p = d.period
    week = bucket(LedgerTransaction.occurred_on, [max(monday, p.start) for monday in weeks])
    rows = db.session.execute(
        select(week, func.sum(case((LedgerTransaction.kind != "payment", LedgerEntry.amount_cents), else_=0)),
               func.sum(case((LedgerTransaction.kind == "payment", -LedgerEntry.amount_cents), else_=0)))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerEntry.account == "cash", LedgerTransaction.occurred_on >= p.start,
               LedgerTransaction.occurred_on <= p.end).group_by(week)).all()
    d.money_by_week = {monday: (0, 0) for monday in weeks}
    for week_index, money_in, money_out in rows:
        d.money_by_week[weeks[int(week_index)]] = (int(money_in or 0), int(money_out or 0))
        d.money_in += int(money_in or 0)
        d.money_out += int(money_out or 0)
    d.households_helped = db.session.scalar(
        select(func.count(distinct(FundRequest.requester_id)))
        .where(FundRequest.status == "paid", FundRequest.paid_on >= p.start, FundRequest.paid_on <= p.end)) or 0
    waiting = dict((status, (int(n), int(cents or 0))) for status, n, cents in db.session.execute(
        select(FundRequest.status, func.count(), func.sum(FundRequest.amount_cents))
        .where(FundRequest.status.in_(("pending", "approved"))).group_by(FundRequest.status)))
    d.pending, d.to_pay = waiting.get("pending", (0, 0)), waiting.get("approved", (0, 0))


# The same figures as rows: the CSV, and the page's tables read them ---------------------------

def _plain(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _counts_rows(section: str, group: str, c: Counts) -> list[tuple]:
    return [(section, group, name, str(getattr(c, name))) for name in ("posted", *OUTCOMES)] + \
        [(section, group, "fill_rate", _ratio(c.fill_rate))]


def rows(d: Dashboard) -> list[tuple[str, str, str, str]]:
    """(section, group, measure, value) for every figure: plain numbers (cents as dollars with two
    decimals, rates as fractions, times in hours), the same as the page shows."""
    out = [("period", "", "from", d.period.start.isoformat()), ("period", "", "to", d.period.end.isoformat())]
    out += _counts_rows("needs", "all", d.totals)
    for name, timing in (("time_to_approved_match_hours", d.to_approval), ("time_to_done_hours", d.to_done)):
        out += [(name, "all", "needs", str(timing.count)), (name, "all", "median", _hours(timing.median_hours)),
                (name, "all", "p90", _hours(timing.p90_hours))]
    out += [("matches", "all", "completed", str(d.completed)), ("matches", "all", "no_show", str(d.no_shows)),
            ("matches", "all", "no_show_rate", _ratio(d.no_show_rate))]
    for key, c in d.by_category.items():
        out += _counts_rows("by_category", key, c)
    for town, c in d.by_town.items():
        out += _counts_rows("by_town", town, c)
    for monday, c in d.by_week.items():
        out += _counts_rows("by_week", monday.isoformat(), c)
    out += [("groups", "all", "sessions_held", str(d.sessions_held)), ("groups", "all", "places_taken", str(d.places_taken)),
            ("groups", "all", "attended", str(d.attended))]
    for monday, (held, taken, present) in d.sessions_by_week.items():
        out += [("groups_by_week", monday.isoformat(), "sessions_held", str(held)),
                ("groups_by_week", monday.isoformat(), "places_taken", str(taken)),
                ("groups_by_week", monday.isoformat(), "attended", str(present))]
    out += [("fund", "all", "money_in", _plain(d.money_in)), ("fund", "all", "money_out", _plain(d.money_out)),
            ("fund", "all", "households_helped", str(d.households_helped)),
            ("fund", "all", "pending_requests", str(d.pending[0])), ("fund", "all", "pending_amount", _plain(d.pending[1])),
            ("fund", "all", "approved_unpaid_requests", str(d.to_pay[0])),
            ("fund", "all", "approved_unpaid_amount", _plain(d.to_pay[1]))]
    for monday, (money_in, money_out) in d.money_by_week.items():
        out += [("fund_by_week", monday.isoformat(), "money_in", _plain(money_in)),
                ("fund_by_week", monday.isoformat(), "money_out", _plain(money_out))]
    return out


def funder_csv(actor: User, p: Period) -> str:
    """The funder report as CSV: one figure a line, cells disarmed as in the ledger's export."""
    import csv
    import io

    from app.services.fund_reports import _csv_safe

    d = dashboard(actor, p)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "group", "measure", "value"])
    for row in rows(d):
        writer.writerow([_csv_safe(cell) for cell in row])
    return out.getvalue()
