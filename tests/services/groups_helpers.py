"""Shared by the group-session tests: a group offer, a scheduled series, its sessions, the outbox."""
from datetime import time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import GroupSession, OutboxEmail, SessionSeat
from app.services import groups_schedule
from app.services.groups_schedule import SeriesInput
from app.timeutil import local_today

PLACE = "Room 2, 415 Main St"


def link(session) -> str:
    return f"http://localhost/groups/sessions/{session.id}"


def group_offer(make_post, host, category="peer_support", title="Thursday recovery circle", quantity=8, **fields):
    return make_post(host, kind="offer", category=category, title=title, quantity=quantity, offer_format="group", **fields)


def schedule(actor, offer, *, days_ahead=7, start=time(19, 0), end=time(20, 30), repeat="once", places=8, now=None,
             place_details=PLACE, **fields):
    first_day = fields.pop("first_day", None) or local_today() + timedelta(days=days_ahead)
    data = SeriesInput(first_day=first_day, start=start, end=end, repeat=repeat, places=places,
                       place_details=place_details, **fields)
    return groups_schedule.create_series(actor, offer.id, data, link, now=now)


def sessions_of(series) -> list[GroupSession]:
    return list(db.session.scalars(select(GroupSession).where(GroupSession.series_id == series.id)
                                   .order_by(GroupSession.starts_at)))


def seat(session, user) -> SessionSeat | None:
    db.session.expire_all()
    return db.session.scalar(select(SessionSeat).where(SessionSeat.session_id == session.id,
                                                       SessionSeat.user_id == user.id))


def emails(to=None, kind=None) -> list[OutboxEmail]:
    stmt = select(OutboxEmail).order_by(OutboxEmail.id)
    if to is not None:
        stmt = stmt.where(OutboxEmail.to_addr == to)
    if kind is not None:
        stmt = stmt.where(OutboxEmail.kind == kind)
    return list(db.session.scalars(stmt))


def whole(email: OutboxEmail) -> str:
    """Subject and both bodies: what a check for names that must not appear reads."""
    return "\n".join((email.subject, email.body_text, email.body_html or ""))
