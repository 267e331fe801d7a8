"""Group sessions for the demo community (called at the end of `demo.seed`): a weekly peer group
with 8 places and a monthly workshop, each with members who joined every session."""
from datetime import time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Post, User
from app.services import groups_join, groups_schedule
from app.services.groups_schedule import SeriesInput
from app.timeutil import local_today


def _group_offer(category: str) -> Post | None:
    return db.session.scalar(select(Post).where(Post.kind == "offer", Post.category == category, Post.status == "open",
                                                Post.offer_format == "group").order_by(Post.id))


def seed(members: list[User], neighbor: User | None, resident: User | None) -> None:
    """Schedule the two series on existing group offers and seat some members (the neighbor's and the
    resident's demo logins among them, so "My calendar" has something to show)."""
    today = local_today()
    plans = (
        ("peer_support", SeriesInput(first_day=today + timedelta(days=2), start=time(19, 0), end=time(20, 30),
                                     repeat="weekly", ends="count", count=12, places=8,
                                     place_details="Valley Community Center, room 3 (side door)"), 5, neighbor),
        ("skills", SeriesInput(first_day=today + timedelta(days=1), start=time(18, 0), end=time(20, 0),
                               repeat="monthly", nth=2, weekday=1, ends="count", count=6, places=6,
                               place_details="St. Croix Library, meeting room B"), 3, resident),
    )
    for category, data, how_many, login in plans:
        offer = _group_offer(category)
        if offer is None:
            continue
        host = db.session.get(User, offer.owner_id)
        series = groups_schedule.create_series(host, offer.id, data)
        joiners = [m for m in members if m.id != host.id][:how_many] + ([login] if login else [])
        for person in joiners:
            groups_join.join_series(person, series.id, share_contact=person.id % 2 == 0)
