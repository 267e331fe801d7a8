"""Scheduling group sessions: a series from a repeat rule, its sessions some weeks ahead, and
changing or cancelling one session (or the rest of the series).

The rule is RFC 5545 RRULE text expanded by python-dateutil over NAIVE LOCAL wall-clock times,
each then turned into UTC in the community's zone: a weekly group at 19:00 stays at 19:00 local
across daylight-saving changes (its UTC time moves by an hour). Sessions are rows, materialised
`HORIZON_DAYS` ahead (or to the rule's end) when the series is created and by the hourly job;
each keeps the occurrence it stands for (`original_start`), so a moved or cancelled session is
neither materialised again nor touched by the rest of the series.
"""
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable

from dateutil.rrule import rrulestr
from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from app.extensions import db
from app.ids import get_by_id
from app.models import GroupSession, Post, SeriesMember, SessionSeat, SessionSeries, User
from app.services import Conflict, FieldError, NotAllowed
from app.services.group_access import get_series, get_session, may_schedule, require_manager, why_not
from app.services.groups_join import enter, lock_series, lock_session, promote, rolls_back
from app.services.groups_notices import notify
from app.timeutil import local_to_utc, utc_to_local, utcnow

log = logging.getLogger(__name__)
HORIZON_DAYS = 84  # sessions exist as rows this far ahead
MAX_SESSIONS = 104  # two years of a weekly group
MAX_PLACES = 500
MAX_MINUTES = 12 * 60
MAX_PLACE = 500
REPEATS = ("once", "weekly", "biweekly", "monthly")
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
NTH = (1, 2, 3, 4, -1)  # -1: the last one of the month


@dataclass
class SeriesInput:
    """The schedule form, parsed: local dates and wall-clock times in the community's zone."""

    first_day: date | None
    start: time | None
    end: time | None
    repeat: str = "once"
    days: list[int] = field(default_factory=list)  # weekly, every other week: 0 = Monday
    nth: int | None = None  # monthly: 1..4, or -1 for the last
    weekday: int | None = None  # monthly
    ends: str = "count"  # "count" (after `count` sessions) or "until" (on `until`)
    count: int | None = None
    until: date | None = None
    places: int | None = None
    place_details: str = ""
    ask_first: bool = False


@dataclass
class SessionChange:
    """One session changed: its day and local times, its places, its own place."""

    day: date | None
    start: time | None
    end: time | None
    places: int | None
    place_details: str = ""


# The rule -------------------------------------------------------------------------------------

def _times(day: date | None, start: time | None, end: time | None, now: datetime, day_field: str) -> tuple[datetime, int]:
    """The first start (naive local) and the duration in minutes; FieldError for what is wrong."""
    if day is None:
        raise FieldError(day_field, _("Choose a date."))
    if start is None:
        raise FieldError("start", _("Enter the start time."))
    if end is None:
        raise FieldError("end", _("Enter the end time."))
    if end <= start:
        raise FieldError("end", _("The end must be after the start."))
    first = datetime.combine(day, start)
    if local_to_utc(day, start) <= now:
        raise FieldError(day_field, _("Choose a date and time still to come."))
    minutes = (datetime.combine(day, end) - first).seconds // 60
    if minutes > MAX_MINUTES:
        raise FieldError("end", _("A session can last at most %(hours)s hours.", hours=MAX_MINUTES // 60))
    return first, minutes


def _places(places: int | None) -> int:
    if places is None or not 1 <= places <= MAX_PLACES:
        raise FieldError("places", _("Enter a number of places from 1 to %(most)s.", most=MAX_PLACES))
    return places


def _place_details(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_PLACE:
        raise FieldError("place_details", _("Keep the place under %(limit)s characters.", limit=MAX_PLACE))
    return text


def build_rule(data: SeriesInput, first: datetime) -> str | None:
    """The RRULE text for what the form says (None for a single date); FieldError when it can't be."""
    if data.repeat not in REPEATS:
        raise FieldError("repeat", _("Choose how often it repeats."))
    if data.repeat == "once":
        return None
    if data.repeat in ("weekly", "biweekly"):
        days = sorted(set(data.days)) or [first.weekday()]
        if any(d not in range(7) for d in days):
            raise FieldError("days", _("Choose days of the week."))
        parts = ["FREQ=WEEKLY"] + (["INTERVAL=2"] if data.repeat == "biweekly" else [])
        parts.append("BYDAY=" + ",".join(RRULE_DAYS[d] for d in days))
    else:
        if data.nth not in NTH:
            raise FieldError("nth", _("Choose which week of the month."))
        if data.weekday not in range(7):
            raise FieldError("weekday", _("Choose the day of the week."))
        parts = ["FREQ=MONTHLY", f"BYDAY={data.nth}{RRULE_DAYS[data.weekday]}"]
    if data.ends == "count":
        if data.count is None or not 1 <= data.count <= MAX_SESSIONS:
            raise FieldError("count", _("Enter a number of sessions from 1 to %(most)s.", most=MAX_SESSIONS))
        parts.append(f"COUNT={data.count}")
    elif data.ends == "until":
        if data.until is None:
            raise FieldError("until", _("Choose the date of the last session."))
        if data.until < first.date():
            raise FieldError("until", _("The last date must be on or after the first."))
        parts.append(f"UNTIL={data.until:%Y%m%d}T235959")
    else:
        raise FieldError("ends", _("Choose when the sessions end."))
    rule = "RRULE:" + ";".join(parts)
    found = occurrences(rule, first, limit=MAX_SESSIONS + 1)
    if not found:
        raise FieldError("until" if data.ends == "until" else "days", _("No session falls on those days before the end."))
    if len(found) > MAX_SESSIONS:
        raise FieldError("until", _("That makes more than %(most)s sessions: choose an earlier last date.", most=MAX_SESSIONS))
    return rule


def occurrences(rule: str | None, first: datetime, until: datetime | None = None, limit: int = MAX_SESSIONS) -> list[datetime]:
    """The rule's occurrences as naive local wall-clock times, from `first` (up to `until`), at most `limit`."""
    if rule is None:
        return [first] if until is None or first <= until else []
    found = []
    for start in rrulestr(rule, dtstart=first):
        if until is not None and start > until or len(found) >= limit:
            break
        found.append(start)
    return found


# Creating and materialising -----------------------------------------------------------------------

@rolls_back
def create_series(actor: User, offer_id: int, data: SeriesInput, link_for: Callable | None = None,
                  now: datetime | None = None) -> SessionSeries:
    """Schedule sessions for a workshop or peer-group offer (its owner, or a coordinator for any)."""
    now = now or utcnow()
    offer = get_by_id(Post, offer_id)
    if offer is None:
        raise NotAllowed(_("No such offer."))
    may_schedule(actor, offer)
    if offer.status != "open":
        raise Conflict(_("This offer is closed; renew it first."))
    first, minutes = _times(data.first_day, data.start, data.end, now, "first_day")
    places = _places(data.places)
    rule = build_rule(data, first)
    series = SessionSeries(offer_id=offer.id, host_id=offer.owner_id, created_by_id=actor.id, rrule=rule,
                           first_start_local=first, duration_min=minutes, places=places,
                           place_details=_place_details(data.place_details), ask_first=bool(data.ask_first), created_at=now)
    db.session.add(series)
    db.session.flush()
    made = materialise(series, now)
    # The offer stays open for as long as its group meets (posts otherwise expire after a month,
    # and an expiring offer ends its series): until the last session of the rule, 104 at most.
    last = (occurrences(rule, first) or [first])[-1]
    offer.expires_at = max(offer.expires_at, local_to_utc(last.date(), last.time()) + timedelta(days=1, minutes=minutes))
    db.session.commit()
    log.info("series %s scheduled for offer %s: %s sessions so far", series.id, offer.id, made)
    return series


def materialise(series: SessionSeries, now: datetime) -> int:
    """Add the sessions of the rule still to come within the horizon; series members get their seats.
    The caller holds the series (or has just created it) and commits."""
    if series.ended_at is not None:
        return 0
    horizon = utc_to_local(now + timedelta(days=HORIZON_DAYS)).replace(tzinfo=None)
    known = set(db.session.scalars(select(GroupSession.original_start).where(GroupSession.series_id == series.id)))
    members = list(db.session.scalars(select(SeriesMember).where(SeriesMember.series_id == series.id,
                                                                 SeriesMember.status == "member")
                                      .order_by(SeriesMember.id)))
    made = 0
    for local in occurrences(series.rrule, series.first_start_local, until=horizon):
        starts = local_to_utc(local.date(), local.time())
        if starts in known or starts <= now:
            continue
        session = GroupSession(series_id=series.id, offer_id=series.offer_id, starts_at=starts,
                               ends_at=starts + timedelta(minutes=series.duration_min), original_start=starts,
                               places=series.places, taken=0, status="scheduled", created_at=now)
        session.series = series
        db.session.add(session)
        db.session.flush()
        for member in members:
            if why_not(member.user, session, now) is None:
                enter(session, member.user, now, share_contact=member.share_contact, from_series=True)
        made += 1
    return made


def extend_all(now: datetime | None = None) -> int:
    """The hourly job: every active series gets its sessions up to the horizon. Returns how many were added."""
    now = now or utcnow()
    made = 0
    ids = list(db.session.scalars(select(SessionSeries.id).where(SessionSeries.ended_at.is_(None))
                                  .order_by(SessionSeries.id)))
    db.session.rollback()
    for series_id in ids:
        series = lock_series(series_id)
        made += materialise(series, now)
        db.session.commit()  # one series at a time: the lock is held only while its sessions are added
    return made


# Changing and cancelling ----------------------------------------------------------------------

def _attendees(session_id: int, statuses=("joined", "waiting", "requested")) -> list[SessionSeat]:
    return list(db.session.scalars(select(SessionSeat).where(SessionSeat.session_id == session_id,
                                                             SessionSeat.status.in_(statuses))
                                   .order_by(SessionSeat.id)))


@rolls_back
def change_session(actor: User, session_id: int, change: SessionChange, link_for: Callable | None = None,
                   now: datetime | None = None) -> GroupSession:
    """Move one session, change its place or its number of places. Everyone in it is emailed when the
    time or place changes; more places go to the people waiting, first in line first."""
    now = now or utcnow()
    session = get_session(session_id)
    require_manager(actor, session.series)
    if session.status == "cancelled":
        raise Conflict(_("This session was cancelled."))
    if session.starts_at <= now or session.series.ended_at is not None:
        raise Conflict(_("This session has begun or its series has ended; it can't be changed now."))
    first, minutes = _times(change.day, change.start, change.end, now, "day")
    places = _places(change.places)
    place = _place_details(change.place_details)
    session = lock_session(session.id)
    if places < session.taken:
        raise FieldError("places", ngettext("%(num)s person already has a place: keep at least that many.",
                                          "%(num)s people already have a place: keep at least that many.", session.taken))
    starts = local_to_utc(first.date(), first.time())
    moved = starts != session.starts_at or minutes != (session.ends_at - session.starts_at).seconds // 60
    new_place = place != session.place
    session.starts_at, session.ends_at, session.places = starts, starts + timedelta(minutes=minutes), places
    if new_place:
        session.place_details = place
    if moved:
        session.reminded_at = session.host_reminded_at = None  # remind again, for the new time
    if moved or new_place:
        session.moved_at = now
        for seat in _attendees(session.id):
            notify(seat.user, "group_session_moved", session, link_for, with_place=seat.status == "joined",
                   moved=moved, new_place=new_place)
    db.session.flush()
    promote(session, link_for, now)
    db.session.commit()
    return session


@rolls_back
def cancel_session(actor: User, session_id: int, link_for: Callable | None = None, now: datetime | None = None) -> GroupSession:
    """Cancel one session; the others of the series stay. Everyone in it is emailed."""
    now = now or utcnow()
    session = get_session(session_id)
    require_manager(actor, session.series)
    session = lock_session(session.id)
    if session.status == "cancelled":
        raise Conflict(_("This session is already cancelled."))
    if session.starts_at <= now:
        raise Conflict(_("This session has already started."))
    session.status, session.cancelled_at = "cancelled", now
    for seat in _attendees(session.id):
        notify(seat.user, "group_session_cancelled", session, link_for)
    db.session.commit()
    return session


@rolls_back
def cancel_series(actor: User, series_id: int, link_for: Callable | None = None, now: datetime | None = None) -> int:
    """Cancel every session still to come and schedule no more; each person is emailed once."""
    now = now or utcnow()
    series = get_series(series_id)
    require_manager(actor, series)
    series = lock_series(series.id)
    if series.ended_at is not None:
        raise Conflict(_("The rest of this series is already cancelled."))
    count = end_series(series, now, link_for)
    db.session.commit()
    return count


def end_series(series: SessionSeries, now: datetime, link_for: Callable | None = None) -> int:
    """Cancel the series' sessions still to come and email each person once, in the caller's
    transaction (a host cancelling, or the offer being withdrawn or expiring)."""
    series.ended_at = now
    told: set[int] = set()
    sessions = list(db.session.scalars(select(GroupSession).where(GroupSession.series_id == series.id,
                                                                  GroupSession.status == "scheduled",
                                                                  GroupSession.starts_at > now)
                                       .order_by(GroupSession.id)))
    for upcoming in sessions:
        session = lock_session(upcoming.id)
        session.status, session.cancelled_at = "cancelled", now
        for seat in _attendees(session.id):
            if seat.user_id not in told:
                told.add(seat.user_id)
                notify(seat.user, "group_series_cancelled", session, link_for)
    for member in db.session.scalars(select(SeriesMember).where(SeriesMember.series_id == series.id,
                                                                SeriesMember.status == "member")):
        if member.user_id not in told and sessions:
            told.add(member.user_id)
            notify(member.user, "group_series_cancelled", sessions[0], link_for)
    return len(sessions)


def end_open_series(offer: Post, link_for: Callable | None = None) -> int:
    """An offer closed (withdrawn, fulfilled, expired): its groups meet no more."""
    now = utcnow()
    ended = 0
    for series in db.session.scalars(select(SessionSeries).where(SessionSeries.offer_id == offer.id,
                                                                 SessionSeries.ended_at.is_(None))
                                     .order_by(SessionSeries.id)).all():
        ended += end_series(lock_series(series.id), now, link_for)
    return ended
