"""Finding group sessions: upcoming ones by date, by category and distance, a page at a time.

Public like browsing posts: each item carries the offer's town and a distance bucket from its
public ~1 km cell, never an address, the exact place or anyone's name.

A host's sessions are left out for a person that host blocked, total and pages included: the page
reads as if the host ran none, as it does for anyone when a host has nothing scheduled (a link to
one of them answers what a person the host turned down reads: app/services/group_access.py).
"""
import math
from dataclasses import dataclass
from datetime import datetime

from flask_babel import ngettext, gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import Block, GroupSession, Post, SessionSeat, SessionSeries, User
from app.models.groups import ACTIVE_SEATS, GROUP_CATEGORIES
from app.services import holds
from app.services.browse import _within, public_distance
from app.timeutil import utcnow


@dataclass
class GroupFilters:
    category: str | None = None
    origin: tuple[float, float] | None = None
    within_miles: float | None = None
    page: int = 1
    per_page: int = 20


@dataclass
class GroupItem:
    session: GroupSession
    distance: str | None  # a bucket label, never a number
    my_status: str | None = None  # the viewer's seat: joined, waiting, requested


@dataclass
class GroupPage:
    items: list[GroupItem]
    total: int
    page: int
    pages: int


def places_label(session: GroupSession) -> str:
    """'3 places left', or 'Full: waiting list'."""
    if session.is_full:
        return _("Full: waiting list")
    return ngettext("%(num)s place left", "%(num)s places left", session.places_left)


def repeat_label(series: SessionSeries) -> str:
    """How often a series meets, in words: 'One date', 'Every week', 'Every other week', 'Once a month'."""
    rule = series.rrule or ""
    if not rule:
        return _("One date")
    if "FREQ=MONTHLY" in rule:
        return _("Once a month")
    return _("Every other week") if "INTERVAL=2" in rule else _("Every week")


def _upcoming_query(now: datetime):
    return (select(GroupSession).join(GroupSession.offer).join(GroupSession.series)
            .where(GroupSession.status == "scheduled", GroupSession.starts_at > now, SessionSeries.ended_at.is_(None),
                   Post.status != "withdrawn", Post.category.in_(GROUP_CATEGORIES), holds.post_visible()))


def upcoming(f: GroupFilters, viewer: User | None = None, now: datetime | None = None) -> GroupPage:
    """One page of upcoming sessions, soonest first; the same few queries whatever the page size.
    None of a host who blocked the viewer."""
    now = now or utcnow()
    stmt = _upcoming_query(now)
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        stmt = stmt.where(SessionSeries.host_id.not_in(select(Block.blocker_id).where(Block.blocked_id == viewer.id)))
    if f.category in GROUP_CATEGORIES:
        stmt = stmt.where(Post.category == f.category)
    if f.origin and f.within_miles:
        stmt = stmt.where(*_within(f.origin, f.within_miles))
    total = db.session.scalar(select(func.count()).select_from(stmt.with_only_columns(GroupSession.id).subquery()))
    pages = max(1, math.ceil(total / f.per_page))
    page = min(max(f.page, 1), pages)
    sessions = db.session.scalars(stmt.options(contains_eager(GroupSession.offer), contains_eager(GroupSession.series))
                                  .order_by(GroupSession.starts_at, GroupSession.id)
                                  .offset((page - 1) * f.per_page).limit(f.per_page)).unique().all()
    mine = {}
    if viewer is not None and getattr(viewer, "is_authenticated", False) and sessions:
        mine = dict(db.session.execute(select(SessionSeat.session_id, SessionSeat.status).where(
            SessionSeat.user_id == viewer.id, SessionSeat.session_id.in_([s.id for s in sessions]),
            SessionSeat.status.in_(ACTIVE_SEATS))).all())
    items = [GroupItem(s, public_distance(s.offer, f.origin), mine.get(s.id)) for s in sessions]
    return GroupPage(items, total, page, pages)


def next_sessions(series_id: int, now: datetime | None = None, limit: int = 6) -> list[GroupSession]:
    """The series' next scheduled sessions, soonest first."""
    now = now or utcnow()
    return list(db.session.scalars(select(GroupSession).where(GroupSession.series_id == series_id,
                                                              GroupSession.status == "scheduled",
                                                              GroupSession.starts_at > now)
                                   .order_by(GroupSession.starts_at, GroupSession.id).limit(limit)))


def hosting(user: User, now: datetime | None = None) -> list[tuple[Post, list[SessionSeries]]]:
    """The host's page: each of their open workshop and peer-group offers, with its active series."""
    now = now or utcnow()
    offers = list(db.session.scalars(select(Post).where(Post.owner_id == user.id, Post.kind == "offer",
                                                        Post.category.in_(GROUP_CATEGORIES), Post.status == "open")
                                     .order_by(Post.created_at.desc(), Post.id.desc())))
    by_offer: dict[int, list[SessionSeries]] = {o.id: [] for o in offers}
    if offers:
        for series in db.session.scalars(select(SessionSeries).where(SessionSeries.offer_id.in_(list(by_offer)),
                                                                     SessionSeries.ended_at.is_(None))
                                         .order_by(SessionSeries.id)):
            by_offer[series.offer_id].append(series)
    return [(o, by_offer[o.id]) for o in offers]


def series_hosted_by_others(user: User) -> list[SessionSeries]:
    """For coordinators: every active series they don't host."""
    return list(db.session.scalars(select(SessionSeries).where(SessionSeries.ended_at.is_(None),
                                                               SessionSeries.host_id != user.id)
                                   .order_by(SessionSeries.id.desc()).limit(200)))
