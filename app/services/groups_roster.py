"""For the host and coordinators: who is coming, attendance, a message to everyone, feedback.

The roster shows first names only, and a way to reach someone only if they chose "share my contact
with the host" when joining. It never says what anyone's role is. Attendees say how a session went;
the host sees how many did, coordinators read the words.
"""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import GroupSession, SeriesMember, SessionFeedback, SessionSeat, User
from app.services import Conflict, FieldError, NotAllowed, audit
from app.services.disclosure import reach_of
from app.services.group_access import get_session, reads_feedback, require_manager, why_not
from app.services.groups_join import waiting_line
from app.services.groups_notices import notify
from app.timeutil import utcnow

MAX_MESSAGE = 2000
MAX_FEEDBACK = 1000


@dataclass
class RosterRow:
    seat_id: int
    first_name: str
    contact: tuple[str, str | None] | None  # (how, the address or number), only for those who shared it
    from_series: bool
    attended: bool | None = None


@dataclass
class RosterRequest:
    """A pending request: to join this session ("session") or every session of the series ("series")."""

    id: int
    kind: str
    first_name: str
    blocked: str | None  # why it can't be accepted now (`may_join`'s sentence), or None


@dataclass
class Roster:
    session: GroupSession
    joined: list[RosterRow] = field(default_factory=list)
    waiting: list[RosterRow] = field(default_factory=list)
    requests: list[RosterRequest] = field(default_factory=list)
    feedback_count: int = 0
    feedback: list[str] | None = None  # the words, for coordinators only
    started: bool = False

    @property
    def places_left(self) -> int:
        return self.session.places_left


def _row(seat: SessionSeat, shown: list) -> RosterRow:
    contact = None
    if seat.share_contact:
        contact = reach_of(seat.user)
        shown.append(seat.user_id)
    return RosterRow(seat.id, seat.user.first_name, contact, seat.from_series, seat.attended)


def roster(actor: User, session_id: int, now: datetime | None = None) -> Roster:
    """The session's roster for its host or a coordinator (NotAllowed for anyone else). Each
    contact shown goes to the audit log, as contact cards do."""
    now = now or utcnow()
    session = get_session(session_id)
    require_manager(actor, session.series)
    seats = list(db.session.scalars(select(SessionSeat).where(SessionSeat.session_id == session.id,
                                                              SessionSeat.status.in_(("joined", "requested")))
                                    .order_by(SessionSeat.queued_at, SessionSeat.id)))
    shown: list[int] = []
    result = Roster(session, started=session.starts_at <= now)
    result.joined = [_row(s, shown) for s in seats if s.status == "joined"]
    result.waiting = [_row(s, shown) for s in waiting_line(session.id)]
    result.requests = [RosterRequest(s.id, "session", s.user.first_name, why_not(s.user, session, now))
                       for s in seats if s.status == "requested"]
    for member in db.session.scalars(select(SeriesMember).where(SeriesMember.series_id == session.series_id,
                                                                SeriesMember.status == "requested")
                                     .order_by(SeriesMember.changed_at, SeriesMember.id)):
        result.requests.append(RosterRequest(member.id, "series", member.user.first_name,
                                             why_not(member.user, session, now)))
    result.feedback_count = db.session.scalar(select(func.count()).where(SessionFeedback.session_id == session.id))
    if reads_feedback(actor):
        result.feedback = list(db.session.scalars(select(SessionFeedback.body).where(SessionFeedback.session_id == session.id)
                                                  .order_by(SessionFeedback.created_at, SessionFeedback.id)))
    if shown:
        audit.record(actor, "contact_view", "group_session", session.id, people=len(shown))
        db.session.commit()
    return result


def record_attendance(actor: User, session_id: int, marks: dict[int, bool | None], now: datetime | None = None) -> int:
    """After the session: who came (True), who didn't (False), not said (None), per seat id."""
    now = now or utcnow()
    session = get_session(session_id)
    require_manager(actor, session.series)
    if session.starts_at > now:
        raise Conflict(_("Attendance can be taken once the session has started."))
    seats = {s.id: s for s in db.session.scalars(select(SessionSeat).where(SessionSeat.session_id == session.id,
                                                                           SessionSeat.status == "joined"))}
    changed = 0
    for seat_id, mark in marks.items():
        seat = seats.get(seat_id)
        if seat is None:
            raise FieldError("attended", _("That person has no place in this session; reload the page."))
        if seat.attended != mark:
            seat.attended = mark
            changed += 1
    db.session.commit()
    return changed


def message_attendees(actor: User, session_id: int, body: str, link_for: Callable | None = None) -> int:
    """One email to each person holding a place, in their own language, signed with the sender's
    first name; nobody sees anyone else's address. Returns how many were queued."""
    session = get_session(session_id)
    require_manager(actor, session.series)
    body = (body or "").strip()
    if not body:
        raise FieldError("body", _("Write the message first."))
    if len(body) > MAX_MESSAGE:
        raise FieldError("body", _("Keep the message under %(limit)s characters.", limit=MAX_MESSAGE))
    seats = list(db.session.scalars(select(SessionSeat).where(SessionSeat.session_id == session.id,
                                                              SessionSeat.status == "joined")
                                    .order_by(SessionSeat.id)))
    if not seats:
        raise Conflict(_("Nobody has a place in this session yet."))
    for seat in seats:
        notify(seat.user, "group_message", session, link_for, with_place=True, sender=actor.first_name, body=body)
    db.session.commit()
    return len(seats)


def may_give_feedback(user: User, session: GroupSession, now: datetime | None = None) -> bool:
    """Someone who held a place (and was not marked absent) may say how it went, once it started."""
    now = now or utcnow()
    if not getattr(user, "is_authenticated", False) or session.starts_at > now or session.status != "scheduled":
        return False
    seat = db.session.scalar(select(SessionSeat).where(SessionSeat.session_id == session.id,
                                                       SessionSeat.user_id == user.id))
    return seat is not None and seat.status == "joined" and seat.attended is not False


def leave_feedback(actor: User, session_id: int, body: str, now: datetime | None = None) -> SessionFeedback:
    """Say how the session went (a second time replaces the first words)."""
    now = now or utcnow()
    session = get_session(session_id)
    if not may_give_feedback(actor, session, now):
        raise NotAllowed(_("Only people who had a place can say how a session went, once it has started."))
    body = (body or "").strip()
    if not body:
        raise FieldError("body", _("Write a few words first."))
    if len(body) > MAX_FEEDBACK:
        raise FieldError("body", _("Keep it under %(limit)s characters.", limit=MAX_FEEDBACK))
    feedback = db.session.scalar(select(SessionFeedback).where(SessionFeedback.session_id == session.id,
                                                               SessionFeedback.user_id == actor.id))
    if feedback is None:
        feedback = SessionFeedback(session_id=session.id, user_id=actor.id, body=body, created_at=now)
        db.session.add(feedback)
    else:
        feedback.body = body
    db.session.commit()
    return feedback
