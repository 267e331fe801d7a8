"""Help that repeats: the rule a member chooses, checked, and expanded into occurrences.

A need repeats weekly on chosen days at the time of its first date (a ride's appointment, or the
first window of other help), until a date or for a number of times. The rule is kept as RFC 5545
text (`DTSTART:20261207T073000` + `RRULE:FREQ=WEEKLY;BYDAY=MO,TU,...;COUNT=20`) in the community's
wall-clock time and expanded with python-dateutil, so a 7:30 ride stays at 7:30 across a
daylight-saving change. A ride that wants a return trip has a second leg on each date. The rows
(`NeedOccurrence`) are kept in step with the post when it is saved: an edit keeps every occurrence
already answered for (skipped, done) and those whose time did not change.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrulestr
from flask_babel import gettext as _, ngettext

from app.extensions import db
from app.models.repeat import LIVE, MAX_OCCURRENCES, NeedOccurrence
from app.services import FieldError
from app.timeutil import community_zone, local_to_utc, utcnow

BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_REPEAT_DAYS = 366
# A return trip with no pickup time: the driver is needed within this long after the appointment.
RETURN_WITHIN = timedelta(hours=3)
RIDE_SLACK = timedelta(minutes=30)


@dataclass
class RepeatInput:
    """The repeat part of the post form: weekdays (0 = Monday), and an end date or a count."""

    days: list[int]
    until: date | None = None
    count: int | None = None

    @property
    def wanted(self) -> bool:
        return bool(self.days or self.until or self.count)


def first_time(data) -> tuple[datetime, datetime] | None:
    """The first occurrence's window (naive local) from the post form: a ride's appointment, or
    the first dated window of other help."""
    if data.category == "rides" and data.appointment_at:
        appointment = data.appointment_at
        return appointment - timedelta(minutes=data.duration_min or 60) - RIDE_SLACK, appointment
    if data.windows:
        return min(data.windows)
    return None


def validate(data) -> None:
    """Check the repeat part of a need (`data` is a PostInput with `.repeat` and `.return_time`)."""
    rep: RepeatInput | None = getattr(data, "repeat", None)
    if data.kind != "need" or rep is None or not rep.wanted:
        return
    if data.flexible:
        raise FieldError("repeat_days", _("Help that repeats needs a date and time: untick \u201cI'm flexible\u201d."))
    first = first_time(data)
    if first is None:
        field = "appointment_day" if data.category == "rides" else "windows"
        raise FieldError(field, _("Give the first date and time; it repeats from there."))
    if not rep.days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in rep.days):
        raise FieldError("repeat_days", _("Choose the days of the week it repeats on."))
    if first[0].weekday() not in rep.days:
        from app.models.posts import DAY_LABELS

        # The first date is the first time it happens: its weekday is one of the days it repeats on.
        raise FieldError("repeat_days", _("The first date is a %(day)s: tick %(day)s too, or change the first date.",
                                          day=DAY_LABELS[first[0].weekday()]))
    return_time = getattr(data, "return_time", None)
    if data.category == "rides" and data.return_trip and return_time and data.appointment_at \
            and return_time <= data.appointment_at.time():
        raise FieldError("return_time", _("The ride back must be after the appointment."))
    if (rep.until is None) == (rep.count is None):
        raise FieldError("repeat_until", _("Say until when it repeats, or how many times (one of the two)."))
    start_day = first[1].date()
    if rep.until is not None:
        if rep.until < start_day:
            raise FieldError("repeat_until", _("The last date must be on or after the first date."))
        if rep.until > start_day + timedelta(days=MAX_REPEAT_DAYS):
            raise FieldError("repeat_until", _("Repeat for a year at most; post again after that."))
    if rep.count is not None and not 2 <= rep.count <= MAX_OCCURRENCES:
        raise FieldError("repeat_count", _("Enter a number of times from 2 to %(max)s.", max=MAX_OCCURRENCES))
    dates = local_dates(rule_text(first[0], rep))
    if not dates:
        raise FieldError("repeat_days", _("No date falls on those days in that time: check the days and the last date."))
    if len(dates) > MAX_OCCURRENCES:
        raise FieldError("repeat_until", _("That is more than %(max)s times; choose an earlier last date.",
                                           max=MAX_OCCURRENCES))


def rule_text(first_start: datetime, rep: RepeatInput) -> str:
    """The RFC 5545 rule (floating local time) for weekly repeats from the first window's start
    (whose weekday is one of `rep.days`, see `validate`)."""
    days = sorted(set(rep.days))
    end = f"COUNT={rep.count}" if rep.count else f"UNTIL={rep.until:%Y%m%d}T235959"
    return f"DTSTART:{first_start:%Y%m%dT%H%M%S}\nRRULE:FREQ=WEEKLY;BYDAY={','.join(BYDAY[d] for d in days)};{end}"


def local_dates(rule: str) -> list[datetime]:
    """The local wall-clock starts of a rule (at most MAX_OCCURRENCES + 1, to tell "too many")."""
    out = []
    for start in rrulestr(rule):
        out.append(start)
        if len(out) > MAX_OCCURRENCES:
            break
    return out


def _utc(value: datetime, zone) -> datetime:
    return local_to_utc(value.date(), value.time(), zone)


def planned(post, first: tuple[datetime, datetime] | None, return_time: time | None) -> list[tuple[str, str, datetime, datetime]]:
    """Every occurrence the post asks for, as (key, leg, start, end) in naive UTC; empty when the
    need neither repeats nor wants a return leg matched."""
    if first is None or (not post.repeat_rule and not post.return_trip):
        return []
    zone = community_zone()
    start, end = first
    length = end - start
    starts = local_dates(post.repeat_rule) if post.repeat_rule else [start]
    out = []
    # Lengths are added in UTC: a window that starts in the hour skipped when clocks go forward
    # keeps its length instead of ending before it starts.
    for local_start in starts:
        start_utc = _utc(local_start, zone)
        key = f"{local_start:%Y-%m-%d}"
        out.append((f"{key}/out", "out", start_utc, start_utc + length))
        if post.return_trip:
            trip = timedelta(minutes=post.duration_min or 60)
            if return_time is not None:
                back = _utc(datetime.combine(local_start.date(), return_time), zone)
                out.append((f"{key}/return", "return", back, back + trip + RIDE_SLACK))
            else:
                back = start_utc + length
                out.append((f"{key}/return", "return", back, back + RETURN_WITHIN + trip))
    return out


def apply(post, data) -> None:
    """Set the post's rule and return time from the form, and keep its occurrences in step."""
    rep: RepeatInput | None = getattr(data, "repeat", None)
    is_need = data.kind == "need"
    first = first_time(data) if is_need and not data.flexible else None
    post.repeat_rule = rule_text(first[0], rep) if first and rep is not None and rep.wanted else None
    return_time = getattr(data, "return_time", None) if post.return_trip else None
    post.return_min = return_time.hour * 60 + return_time.minute if return_time else None
    wanted = planned(post, first, return_time)
    if post.id is not None and bool(wanted) != bool(post.repeats):
        _refuse_if_under_way(post, "repeat_days" if post.repeat_rule or post.repeats else "return_trip")
    sync(post, wanted)
    if wanted:
        # A need that repeats stays open until its last date (posts otherwise expire sooner).
        post.expires_at = max(post.expires_at or wanted[-1][3], max(w[3] for w in wanted) + timedelta(days=1))


def sync(post, wanted: list[tuple[str, str, datetime, datetime]]) -> None:
    """Make the post's occurrence rows match `wanted`: new ones added; one whose time changed
    starts again (open, without its match); live ones no longer wanted removed; answered ones
    (skipped, done, did not happen) always kept."""
    now = utcnow()
    by_key = {o.key: o for o in post.occurrences} if post.id is not None else {}
    keep = set()
    for key, leg, start, end in wanted:
        row = by_key.get(key)
        if row is None:
            if end > now:
                post.occurrences.append(NeedOccurrence(key=key, leg=leg, starts_at=start, ends_at=end, status="open"))
            continue
        keep.add(key)
        if row.status in LIVE and (row.starts_at, row.ends_at) != (start, end):
            _refuse_if_held(row)
            row.starts_at, row.ends_at, row.status, row.match_id = start, end, "open", None
    for key, row in by_key.items():
        if key not in keep and row.status in LIVE:
            post.occurrences.remove(row)  # a date no longer asked for: its helper is free that day
    post.repeats = bool(wanted)


def _holding(match_id: int | None) -> bool:
    from app.models import Match
    from app.models.matches import HOLDING

    return match_id is not None and db.session.get(Match, match_id).status in HOLDING


def _refuse_if_held(row: NeedOccurrence) -> None:
    """A date a helper has been approved for keeps its time: the helper agreed to that time."""
    if _holding(row.match_id):
        db.session.rollback()  # nothing of the edit is kept
        raise FieldError("repeat_days", _("A helper is matched for the dates you changed: skip the dates you don't need "
                                          "instead, or ask a coordinator to end the match first."))


def _refuse_if_under_way(post, field: str) -> None:
    """Turning help that repeats into one-off help (or back) while a match holds it would leave
    that match covering nothing; proposals still waiting are withdrawn instead."""
    from sqlalchemy import select

    from app.models import Match
    from app.models.matches import HOLDING

    under_way = db.session.scalars(select(Match).where(Match.need_id == post.id, Match.status.in_(HOLDING))).first()
    if under_way is not None:
        db.session.rollback()  # nothing of the edit is kept
        raise FieldError(field, _("A match is under way for this request, so it can't switch between one date and "
                                  "several dates now. Post a new request instead."))
    from app.services.proposals import _cancel_proposals

    _cancel_proposals(post, source=None)


def repeat_input_of(post) -> tuple[RepeatInput | None, time | None]:
    """The saved rule as the edit form shows it (days, and the end date or count)."""
    return_time = time(post.return_min // 60, post.return_min % 60) if post.return_min is not None else None
    if not post.repeat_rule:
        return None, return_time
    rule = post.repeat_rule.split("RRULE:", 1)[1]
    parts = dict(p.split("=", 1) for p in rule.split(";"))
    days = [BYDAY.index(d) for d in parts.get("BYDAY", "").split(",") if d in BYDAY]
    until = datetime.strptime(parts["UNTIL"][:8], "%Y%m%d").date() if "UNTIL" in parts else None
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    return RepeatInput(days=days, until=until, count=count), return_time


def live_occurrences(need_id: int, after: datetime | None = None) -> list[NeedOccurrence]:
    """The need's occurrences still to be helped with, earliest first (those not yet over)."""
    from sqlalchemy import select

    after = after or utcnow()
    return list(db.session.scalars(select(NeedOccurrence).where(
        NeedOccurrence.need_id == need_id, NeedOccurrence.status.in_(LIVE), NeedOccurrence.ends_at > after)
        .order_by(NeedOccurrence.starts_at, NeedOccurrence.leg)))


def describe(post) -> str:
    """'Every Mon, Tue, Wed, Thu, Fri until Dec 31' / '... 20 times', in the reader's language."""
    from app.i18n import day
    from app.models.posts import DAY_LABELS

    rep, _return = repeat_input_of(post)
    if rep is None:
        return ""
    days = ", ".join(str(DAY_LABELS[d]) for d in sorted(rep.days))
    if rep.count:
        return ngettext("Every %(days)s, %(num)s time", "Every %(days)s, %(num)s times", rep.count, days=days)
    return _("Every %(days)s until %(date)s", days=days, date=day(rep.until, "%b %-d"))
