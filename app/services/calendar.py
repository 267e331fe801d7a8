"""A member's calendar: their upcoming items from every area, on a page, in .ics files and in a
private feed that calendar apps subscribe to.

Each area adds its items with one function registered in `PROVIDERS` (see `provider`): it takes
(user, link_for, start, end) and returns `CalendarItem`s. The page shows an item's title; the
.ics never does. Calendars are read by servers and shown on lock screens, so each event there has
a neutral title by kind ("Group session", "Ride"), the time, the town and a link to the site:
never an address, the group's title or topic, or anyone's name.
"""
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

import icalendar
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.extensions import db
from app.models import CalendarFeed, GroupSession, Match, Post, SessionSeat, SessionSeries, User
from app.models.groups import SEAT_LABELS
from app.timeutil import utcnow

# The only words an event carries besides its town: its kind, in the member's language.
KIND_TITLES = {"group_session": _l("Group session"), "workshop": _l("Workshop"), "ride": _l("Ride"), "help": _l("Help")}
DAYS_AHEAD = 120


@dataclass(frozen=True)
class CalendarItem:
    start: datetime  # naive UTC
    end: datetime | None
    kind: str  # a key of KIND_TITLES
    title: str  # shown on the member's own page only, never in a calendar file
    town: str
    url: str  # a link on the site (the .ics makes it absolute with BASE_URL)
    uid: str  # stable for the same item across feeds and downloads
    note: str = ""  # e.g. "On the waiting list"
    tentative: bool = False

    @property
    def kind_label(self) -> str:
        return str(KIND_TITLES.get(self.kind, self.kind))


Provider = Callable[[User, Callable, datetime, datetime], Iterable[CalendarItem]]
PROVIDERS: list[Provider] = []


def provider(func: Provider) -> Provider:
    """Register a source of calendar items (one function per kind of thing)."""
    PROVIDERS.append(func)
    return func


def items_for(user: User, link_for: Callable, start: datetime | None = None, end: datetime | None = None) -> list[CalendarItem]:
    """Everything on this member's calendar between start and end (from now, DAYS_AHEAD days), by time."""
    start = start or utcnow()
    end = end or start + timedelta(days=DAYS_AHEAD)
    items = [item for source in PROVIDERS for item in source(user, link_for, start, end)]
    return sorted(items, key=lambda i: (i.start, i.uid))


# Providers ------------------------------------------------------------------------------------

@provider
def group_sessions(user: User, link_for: Callable, start: datetime, end: datetime) -> list[CalendarItem]:
    """Sessions the member holds a place in or waits for."""
    rows = db.session.execute(
        select(GroupSession, SessionSeat.status).join(SessionSeat, SessionSeat.session_id == GroupSession.id)
        .join(GroupSession.series)
        .where(SessionSeat.user_id == user.id, SessionSeat.status.in_(("joined", "waiting")),
               GroupSession.status == "scheduled", GroupSession.starts_at >= start, GroupSession.starts_at < end,
               SessionSeries.ended_at.is_(None))).all()
    return [session_item(session, link_for, waiting=status == "waiting") for session, status in rows]


def session_item(session: GroupSession, link_for: Callable, waiting: bool = False) -> CalendarItem:
    """One group session as a calendar item (also the one event of its own .ics)."""
    return CalendarItem(session.starts_at, session.ends_at, "workshop" if session.offer.category == "skills" else "group_session",
                        session.offer.title, f"{session.offer.town}, {session.offer.state}",
                        link_for("groups.session", session_id=session.id), f"group-session-{session.id}",
                        note=str(SEAT_LABELS["waiting"]) if waiting else "", tentative=waiting)


@provider
def matched_help(user: User, link_for: Callable, start: datetime, end: datetime) -> list[CalendarItem]:
    """Approved or confirmed matches with a set time, on either side."""
    own_posts = select(Post.id).where(Post.owner_id == user.id)
    matches = db.session.scalars(select(Match).where(
        Match.status.in_(("approved", "accepted")), Match.scheduled_at.is_not(None),
        Match.need.has(Post.repeats.is_(False)),  # help that repeats is listed date by date (below)
        Match.scheduled_at >= start, Match.scheduled_at < end,
        or_(Match.need_id.in_(own_posts), Match.offer_id.in_(own_posts)))).all()
    items = []
    for match in matches:
        need = match.need
        kind = "ride" if need.category == "rides" else "help"
        items.append(CalendarItem(match.scheduled_at, match.scheduled_at + timedelta(minutes=need.duration_min or 60),
                                  kind, need.title, f"{need.town}, {need.state}",
                                  link_for("matches.detail", match_id=match.id), f"match-{match.id}",
                                  tentative=match.status == "approved"))
    return items


@provider
def repeating_help(user: User, link_for: Callable, start: datetime, end: datetime) -> list[CalendarItem]:
    """Each date of a need that repeats (or a ride's two legs) that a match covers, on either side,
    until it is skipped or answered."""
    from app.models.repeat import NeedOccurrence

    own_posts = select(Post.id).where(Post.owner_id == user.id)
    rows = db.session.execute(
        select(NeedOccurrence, Match).join(Match, Match.id == NeedOccurrence.match_id)
        .where(Match.status.in_(("approved", "accepted")), NeedOccurrence.status.in_(("matched", "confirmed")),
               NeedOccurrence.starts_at >= start, NeedOccurrence.starts_at < end,
               or_(Match.need_id.in_(own_posts), Match.offer_id.in_(own_posts)))).all()
    items = []
    for row, match in rows:
        need = match.need
        items.append(CalendarItem(row.starts_at, row.ends_at, "ride" if need.category == "rides" else "help", need.title,
                                  f"{need.town}, {need.state}", link_for("matches.detail", match_id=match.id),
                                  f"occurrence-{row.id}", note=row.leg_label if need.return_trip else "",
                                  tentative=match.status == "approved" or row.status == "matched"))
    return items


# Calendar files -------------------------------------------------------------------------------

def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc)


def to_ics(items: Iterable[CalendarItem], base_url: str, now: datetime | None = None,
           cancelled: bool = False) -> bytes:
    """An iCalendar file of these items: neutral title, UTC times, the town, a link; nothing else."""
    now = now or utcnow()
    base = base_url.rstrip("/")
    host = base.split("://", 1)[-1].split("/", 1)[0] or "localhost"
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Mutual Aid Exchange//Calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    for item in items:
        event = icalendar.Event()
        link = item.url if item.url.startswith(("http://", "https://")) else base + item.url
        event.add("uid", f"{item.uid}@{host}")
        event.add("dtstamp", _utc(now))
        event.add("dtstart", _utc(item.start))
        if item.end:
            event.add("dtend", _utc(item.end))
        event.add("summary", str(KIND_TITLES.get(item.kind, KIND_TITLES["help"])))
        event.add("location", item.town)
        event.add("url", link)
        event.add("description", link)
        event.add("status", "CANCELLED" if cancelled else "TENTATIVE" if item.tentative else "CONFIRMED")
        event.add("class", "PRIVATE")
        cal.add_component(event)
    return cal.to_ical()


# The private feed -----------------------------------------------------------------------------

def feed_of(user: User) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def reset_feed(user: User) -> CalendarFeed:
    """Make (or replace) the member's private feed address; the old one stops working at once."""
    feed = feed_of(user)
    if feed is None:
        feed = CalendarFeed(user_id=user.id)
        db.session.add(feed)
    feed.token, feed.created_at = secrets.token_urlsafe(32), utcnow()
    db.session.commit()
    return feed


def user_for_feed(token: str) -> User | None:
    """The member whose feed this is, or None (an unknown or replaced token)."""
    if not token or len(token) > 64:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
    if feed is None or not secrets.compare_digest(feed.token, token):
        return None
    user = db.session.get(User, feed.user_id)
    return user if user is not None and user.can_log_in else None
