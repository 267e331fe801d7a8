"""Reminders for group sessions, sent by the hourly "sessions" job (app/jobs/registry.py).

Attendees holding a place are reminded once, within a day of the session (`reminded_at`). The
host is told once, from 18:00 local the evening before, if places are still free
(`host_reminded_at`): a full session needs no nudge, and if it fills up before the evening, none
is sent (if someone leaves later that evening, the next run sends it). Moving a session clears
both, so the reminders follow the new time.
"""
from datetime import datetime, time, timedelta
from typing import Callable

from sqlalchemy import select, update

from app.extensions import db
from app.models import GroupSession, Post, SessionSeat, SessionSeries, User
from app.services import holds
from app.services.groups_notices import notify
from app.timeutil import local_to_utc, utc_to_local, utcnow

ATTENDEE_HOURS = 24
HOST_EVENING = time(18, 0)


def host_reminder_from(starts_at: datetime) -> datetime:
    """When the host's reminder becomes due: 18:00 local on the day before the session (naive UTC)."""
    local_day = utc_to_local(starts_at).date()
    return local_to_utc(local_day - timedelta(days=1), HOST_EVENING)


def _due(now: datetime, column, within: timedelta) -> list[GroupSession]:
    return list(db.session.scalars(
        select(GroupSession).join(GroupSession.series).join(Post, Post.id == GroupSession.offer_id)
        .where(GroupSession.status == "scheduled", column.is_(None), GroupSession.starts_at > now,
               GroupSession.starts_at <= now + within, SessionSeries.ended_at.is_(None),
               holds.post_visible())  # none for the sessions of an offer a safety report hides
        .order_by(GroupSession.id)))  # id order: the order every other change locks sessions in


def send_reminders(link_for: Callable | None, now: datetime | None = None) -> dict:
    """Queue the reminders that are due; returns how many of each were sent."""
    now = now or utcnow()
    attendees = hosts = 0
    for session in _due(now, GroupSession.reminded_at, timedelta(hours=ATTENDEE_HOURS)):
        if not _claim(session, GroupSession.reminded_at, now):
            continue
        for seat in db.session.scalars(select(SessionSeat).where(SessionSeat.session_id == session.id,
                                                                 SessionSeat.status == "joined")
                                       .order_by(SessionSeat.id)):
            notify(seat.user, "group_reminder", session, link_for, with_place=True)
            attendees += 1
    # The evening before is at most 30 hours ahead (a session at 23:59, in a day of 25 hours).
    for session in _due(now, GroupSession.host_reminded_at, timedelta(hours=31)):
        if now < host_reminder_from(session.starts_at) or session.is_full:
            continue
        if not _claim(session, GroupSession.host_reminded_at, now):
            continue
        notify(db.session.get(User, session.series.host_id), "group_host_reminder", session, link_for,
               with_place=True, places_left=session.places_left, taken=session.taken)
        hosts += 1
    db.session.commit()
    return {"reminded": attendees, "hosts_reminded": hosts}


def _claim(session: GroupSession, column, now: datetime) -> bool:
    """Mark the reminder sent, only if nobody did and the session was not moved or cancelled since it
    was read (a move clears the mark and changes the time: the reminder then follows the new time)."""
    done = db.session.execute(update(GroupSession).where(
        GroupSession.id == session.id, column.is_(None), GroupSession.starts_at == session.starts_at,
        GroupSession.status == "scheduled").values({column: now}).execution_options(synchronize_session=False)).rowcount
    if done:
        setattr(session, column.key, now)
    return bool(done)
