"""Joining and leaving group sessions: places, the waiting list, "ask me first" requests.

Every change to who holds a place in a session starts by locking that session's row (a no-op
UPDATE: a row lock on PostgreSQL, the write lock on SQLite), so joins, leaves and promotions of one
session happen one after another and a place that frees up always finds the first person waiting.
The place itself is taken with one conditional UPDATE (`... AND status = 'scheduled' AND taken <
places`), as capacity is in app/services/matches.py; the CHECK constraint on `taken` is the
backstop. Several sessions are locked in id order, a series before its sessions, so two
transactions never wait on each other in a cycle. Emails go into the outbox in the same transaction.
"""
import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.extensions import db
from app.ids import get_by_id
from app.models import GroupSession, SeriesMember, SessionSeat, SessionSeries, User
from app.models.groups import ACTIVE_SEATS
from app.services import Conflict, NotAllowed, ServiceError, exclusions
from app.services.group_access import get_series, get_session, may_join, may_join_series, require_manager, why_not
from app.services.groups_notices import notify
from app.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass
class JoinResult:
    """Where one person stands after joining: "joined", "waiting" (with their place in line) or "requested"."""

    status: str
    position: int | None = None


@dataclass
class SeriesResult:
    joined: int = 0
    waiting: int = 0
    requested: bool = False


def rolls_back(action):
    """A refusal after a lock was taken ends the transaction, so the lock goes with it."""

    @functools.wraps(action)
    def wrapped(*args, **kwargs):
        try:
            return action(*args, **kwargs)
        except ServiceError:
            db.session.rollback()
            raise

    return wrapped


# Locks and places -----------------------------------------------------------------------------

def lock_session(session_id: int) -> GroupSession:
    """Take the session's row lock for this transaction and return it as the database has it now."""
    db.session.execute(update(GroupSession).where(GroupSession.id == session_id)
                       .values(taken=GroupSession.taken).execution_options(synchronize_session=False))
    return db.session.get(GroupSession, session_id, populate_existing=True)


def lock_series(series_id: int) -> SessionSeries:
    db.session.execute(update(SessionSeries).where(SessionSeries.id == series_id)
                       .values(places=SessionSeries.places).execution_options(synchronize_session=False))
    return db.session.get(SessionSeries, series_id, populate_existing=True)


def _take(session_id: int) -> bool:
    """One place, if one is still free in a scheduled session (one atomic UPDATE)."""
    return db.session.execute(
        update(GroupSession).where(GroupSession.id == session_id, GroupSession.status == "scheduled",
                                   GroupSession.taken < GroupSession.places)
        .values(taken=GroupSession.taken + 1).execution_options(synchronize_session=False)
    ).rowcount == 1


def _release(session_id: int) -> None:
    db.session.execute(update(GroupSession).where(GroupSession.id == session_id, GroupSession.taken > 0)
                       .values(taken=GroupSession.taken - 1).execution_options(synchronize_session=False))


def _set_seat(seat: SessionSeat, status: str, now: datetime, expected: str | None = None) -> None:
    """Change a seat's state; with `expected`, only if it is still in that state (else Conflict)."""
    values = dict(status=status, changed_at=now)
    if status in ("joined", "waiting") and seat.status not in ("joined", "waiting"):
        values["queued_at"] = now  # a new place in line
    if expected is not None:
        done = db.session.execute(update(SessionSeat).where(SessionSeat.id == seat.id, SessionSeat.status == expected)
                                  .values(**values).execution_options(synchronize_session=False)).rowcount
        if done != 1:
            db.session.rollback()
            raise Conflict(_("Someone else answered this a moment ago. Reload to see where it stands."))
    for key, value in values.items():
        setattr(seat, key, value)


def _seat_of(session_id: int, user_id: int) -> SessionSeat | None:
    """This person's seat as the database has it now (after a lock: never a copy read before it)."""
    return db.session.scalar(select(SessionSeat).where(SessionSeat.session_id == session_id,
                                                       SessionSeat.user_id == user_id)
                             .execution_options(populate_existing=True))


def waiting_line(session_id: int) -> list[SessionSeat]:
    """The waiting list, first in line first."""
    return list(db.session.scalars(select(SessionSeat).where(SessionSeat.session_id == session_id,
                                                             SessionSeat.status == "waiting")
                                   .order_by(SessionSeat.queued_at, SessionSeat.id)
                                   .execution_options(populate_existing=True)))


def waiting_position(seat: SessionSeat) -> int | None:
    """1 for the first person waiting; None for a seat that is not waiting."""
    if seat.status != "waiting":
        return None
    ahead = db.session.scalar(select(func.count()).where(
        SessionSeat.session_id == seat.session_id, SessionSeat.status == "waiting",
        (SessionSeat.queued_at < seat.queued_at) | ((SessionSeat.queued_at == seat.queued_at) & (SessionSeat.id < seat.id))))
    return ahead + 1


def promote(session: GroupSession, link_for: Callable | None, now: datetime) -> int:
    """Give every free place to the first person waiting, and email each; the session is locked."""
    promoted = 0
    line = waiting_line(session.id)
    apart = exclusions.load(with_rules=False) if line else None
    for seat in line:
        if exclusions.kept_from_group(seat.user_id, session.series.host_id, apart):
            continue  # blocked or barred since they joined the line: never given a place
        if not _take(session.id):
            break
        _set_seat(seat, "joined", now)
        notify(seat.user, "group_place_opened", session, link_for, with_place=True)
        promoted += 1
    if promoted:
        db.session.refresh(session)
    return promoted


def enter(session: GroupSession, user: User, now: datetime, *, share_contact: bool = False,
          from_series: bool = False, ask: bool = False) -> SessionSeat:
    """Put someone in a locked session: a request (ask), a place if one is free, or the waiting list."""
    seat = _seat_of(session.id, user.id)
    if seat is None:
        seat = SessionSeat(session_id=session.id, user_id=user.id, status="left", created_at=now, queued_at=now,
                           changed_at=now)
        seat.user = user
        db.session.add(seat)
    seat.share_contact, seat.from_series = share_contact, from_series
    if ask:
        status = "requested"
    else:
        status = "joined" if _take(session.id) else "waiting"
    _set_seat(seat, status, now)
    db.session.flush()
    return seat


def _leave_seat(seat: SessionSeat, session: GroupSession, link_for: Callable | None, now: datetime) -> None:
    was = seat.status
    _set_seat(seat, "left", now)
    if was == "joined":
        _release(session.id)
        db.session.flush()
        db.session.refresh(session)
        promote(session, link_for, now)


def _upcoming(series_id: int, now: datetime) -> list[GroupSession]:
    """The series' scheduled sessions still to come, in id order (the order they are locked in)."""
    return list(db.session.scalars(select(GroupSession).where(GroupSession.series_id == series_id,
                                                              GroupSession.status == "scheduled",
                                                              GroupSession.starts_at > now)
                                   .order_by(GroupSession.id)))


# One session ----------------------------------------------------------------------------------

@rolls_back
def join_session(actor: User, session_id: int, share_contact: bool = False, link_for: Callable | None = None,
                 now: datetime | None = None) -> JoinResult:
    """Join one session: a place if one is free, else the waiting list; a request if the host asks first."""
    now = now or utcnow()
    session = get_session(session_id)
    may_join(actor, session, now)
    session = lock_session(session.id)
    may_join(actor, session, now)  # again, as it stands now that it is locked
    seat = _seat_of(session.id, actor.id)
    if seat is not None and seat.status in ACTIVE_SEATS:
        raise Conflict(_("You are already in this session: %(state)s.", state=seat.status_label.lower()))
    ask = session.series.ask_first
    seat = enter(session, actor, now, share_contact=share_contact, ask=ask)
    if ask:
        notify(db.session.get(User, session.series.host_id), "group_request", session, link_for,
               requester=actor.first_name, whole_series=False)
    result = JoinResult(seat.status, waiting_position(seat))
    db.session.commit()
    log.info("member %s joined session %s: %s", actor.id, session.id, result.status)
    return result


@rolls_back
def leave_session(actor: User, session_id: int, link_for: Callable | None = None, now: datetime | None = None) -> None:
    """Give up a place (it goes to the first person waiting), leave the waiting list, or withdraw a request."""
    now = now or utcnow()
    session = get_session(session_id)
    if session.starts_at <= now:
        raise Conflict(_("This session has already started."))
    session = lock_session(session.id)
    seat = _seat_of(session.id, actor.id)
    if seat is None or seat.status not in ACTIVE_SEATS:
        raise Conflict(_("You are not in this session."))
    _leave_seat(seat, session, link_for, now)
    db.session.commit()


# Requests (ask me first) ------------------------------------------------------------------------

def _seat_to_answer(actor: User, seat_id: int, states: tuple[str, ...]) -> tuple[SessionSeat, GroupSession]:
    seat = get_by_id(SessionSeat, seat_id)
    if seat is None:
        raise NotAllowed(_("No such request."))
    require_manager(actor, seat.session.series)
    session = lock_session(seat.session_id)
    db.session.refresh(seat)
    if session.starts_at <= utcnow():
        raise Conflict(_("This session has begun: its places can't change now."))
    if seat.status not in states:
        raise Conflict(_("This request was already answered.") if "joined" not in states
                       else _("This person is no longer in the session."))
    return seat, session


@rolls_back
def accept_request(actor: User, seat_id: int, link_for: Callable | None = None, now: datetime | None = None) -> JoinResult:
    """Let a requester in: a place if one is free, else the waiting list. They are emailed either way."""
    now = now or utcnow()
    seat, session = _seat_to_answer(actor, seat_id, ("requested",))
    try:
        may_join(seat.user, session, now)
    except NotAllowed as err:
        raise Conflict(err.message) from None
    _set_seat(seat, "joined" if _take(session.id) else "waiting", now, expected="requested")
    db.session.flush()
    result = JoinResult(seat.status, waiting_position(seat))
    notify(seat.user, "group_request_accepted", session, link_for, with_place=seat.status == "joined",
           position=result.position, whole_series=False)
    db.session.commit()
    return result


@rolls_back
def refuse_request(actor: User, seat_id: int, link_for: Callable | None = None, now: datetime | None = None) -> None:
    """Refuse a request, or take back someone's place (it goes to the first person waiting) or their
    place in line. They are emailed, and can't join this session again."""
    now = now or utcnow()
    seat, session = _seat_to_answer(actor, seat_id, ("requested", "joined", "waiting"))
    was = seat.status
    _set_seat(seat, "refused", now, expected=was)
    if was == "joined":
        _release(session.id)
        db.session.flush()
        db.session.refresh(session)
        promote(session, link_for, now)
    notify(seat.user, "group_request_refused", session, link_for, whole_series=False, had_place=was != "requested")
    db.session.commit()


# The whole series -----------------------------------------------------------------------------

def series_member(series_id: int, user_id: int) -> SeriesMember | None:
    """This person's membership of the whole series (in any state), or None."""
    return db.session.scalar(select(SeriesMember).where(SeriesMember.series_id == series_id,
                                                        SeriesMember.user_id == user_id)
                             .execution_options(populate_existing=True))


def _enter_series(series: SessionSeries, user: User, share_contact: bool, now: datetime) -> SeriesResult:
    """Seat a series member in every upcoming session they are not in yet (the series is locked)."""
    result = SeriesResult()
    for upcoming in _upcoming(series.id, now):
        if why_not(user, upcoming, now) is not None:
            continue
        session = lock_session(upcoming.id)
        seat = _seat_of(session.id, user.id)
        if seat is not None and seat.status in ("joined", "waiting"):
            continue
        seat = enter(session, user, now, share_contact=share_contact, from_series=True)
        result.joined += seat.status == "joined"
        result.waiting += seat.status == "waiting"
    return result


@rolls_back
def join_series(actor: User, series_id: int, share_contact: bool = False, link_for: Callable | None = None,
                now: datetime | None = None) -> SeriesResult:
    """Join every upcoming session of a series in one click (and those scheduled later), or ask to."""
    now = now or utcnow()
    series = get_series(series_id)
    may_join_series(actor, series)
    series = lock_series(series.id)
    member = series_member(series.id, actor.id)
    if member is not None and member.status in ("member", "requested"):
        raise Conflict(_("You already joined this series.") if member.status == "member"
                       else _("You already asked to join this series."))
    if member is None:
        member = SeriesMember(series_id=series.id, user_id=actor.id, status="left", created_at=now)
        db.session.add(member)
    member.share_contact, member.changed_at = share_contact, now
    if series.ask_first:
        member.status = "requested"
        first = next(iter(_upcoming(series.id, now)), None)
        if first is not None:
            notify(db.session.get(User, series.host_id), "group_request", first, link_for,
                   requester=actor.first_name, whole_series=True)
        db.session.commit()
        return SeriesResult(requested=True)
    member.status = "member"
    result = _enter_series(series, actor, share_contact, now)
    db.session.commit()
    log.info("member %s joined series %s", actor.id, series.id)
    return result


@rolls_back
def leave_series(actor: User, series_id: int, link_for: Callable | None = None, now: datetime | None = None) -> int:
    """Leave the series and every upcoming session of it; returns how many sessions were left."""
    now = now or utcnow()
    series = lock_series(get_series(series_id).id)
    member = series_member(series.id, actor.id)
    left = 0
    for upcoming in _upcoming(series.id, now):
        session = lock_session(upcoming.id)
        seat = _seat_of(session.id, actor.id)
        if seat is not None and seat.status in ACTIVE_SEATS:
            _leave_seat(seat, session, link_for, now)
            left += 1
    if (member is None or member.status not in ("member", "requested")) and not left:
        raise Conflict(_("You are not in this series."))
    if member is not None and member.status in ("member", "requested"):
        member.status, member.changed_at = "left", now
    db.session.commit()
    return left


def _requested_member(actor: User, member_id: int) -> SeriesMember:
    member = get_by_id(SeriesMember, member_id)
    if member is None:
        raise NotAllowed(_("No such request."))
    require_manager(actor, member.series)
    lock_series(member.series_id)
    db.session.refresh(member)
    if member.status != "requested":
        raise Conflict(_("This request was already answered."))
    return member


@rolls_back
def accept_series_request(actor: User, member_id: int, link_for: Callable | None = None,
                          now: datetime | None = None) -> SeriesResult:
    """Let someone into the whole series: a place (or the waiting list) in every upcoming session."""
    now = now or utcnow()
    member = _requested_member(actor, member_id)
    try:
        may_join_series(member.user, member.series)
    except NotAllowed as err:
        raise Conflict(err.message) from None
    member.status, member.changed_at = "member", now
    result = _enter_series(member.series, member.user, member.share_contact, now)
    first = next(iter(_upcoming(member.series_id, now)), None)
    if first is not None:
        notify(member.user, "group_request_accepted", first, link_for, with_place=False, whole_series=True,
               joined=result.joined, waiting=result.waiting, position=None)
    db.session.commit()
    return result


@rolls_back
def refuse_series_request(actor: User, member_id: int, link_for: Callable | None = None,
                          now: datetime | None = None) -> None:
    now = now or utcnow()
    member = _requested_member(actor, member_id)
    member.status, member.changed_at = "refused", now
    first = next(iter(_upcoming(member.series_id, now)), None)
    if first is not None:
        notify(member.user, "group_request_refused", first, link_for, whole_series=True)
    db.session.commit()
