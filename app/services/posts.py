"""Needs and offers: posting, editing, closing and expiry (browsing and search: browse.py, search.py)."""
import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import format_decimal, gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import select, update

from app.extensions import db
from app.models import Post, PostWindow, User, WeeklySlot
from app.models.posts import (CATEGORIES, DESTINATION_KINDS, FUND_PURPOSES, KINDS, MONEY_CATEGORY, OFFER_FORMATS,
                              URGENCIES, URGENCY_DAYS, PASSED, urgency_key_for)
from app.services import FieldError, NotAllowed, ServiceError
from app.services import accounts, geo, matches, proposals, repeat, search
from app.services.disclosure import notice_recipient
from app.services.mail import queue_email
from app.timeutil import community_zone, local_to_utc, local_today, utc_to_local, utcnow

log = logging.getLogger(__name__)
MAX_DETAILS = 2000
FLEXIBLE_DAYS = 14


@dataclass
class PostInput:
    """What a person typed into the post form, already parsed into Python values.

    Dated windows are (start, end) naive local datetimes in the community's zone; weekly slots
    are (day 0..6, start minute, end minute) in the same zone.
    """

    kind: str
    category: str
    title: str
    details: str = ""
    zip_code: str = ""
    street_address: str | None = None
    quantity: int = 1
    urgency: int = 0
    duration_min: int = 60
    flexible: bool = False
    radius_miles: float | None = None
    offer_format: str | None = None
    pickup_area: str | None = None
    destination_kind: str | None = None
    appointment_at: datetime | None = None  # local
    return_trip: bool = False
    fund_purpose: str | None = None
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)
    weekly: list[tuple[int, int, int]] = field(default_factory=list)
    repeat: "repeat.RepeatInput | None" = None  # needs: weekly on chosen days (app/services/repeat.py)
    return_time: time | None = None  # rides with a return trip: when to be picked up again (local)


def can_manage(actor: User, post: Post) -> bool:
    """The owner and today's coordinators may change a post. Having posted it for a resident
    grants nothing by itself: a coordinator made a plain member loses access on the next request."""
    return actor.is_authenticated and (post.owner_id == actor.id or actor.is_coordinator)


RIDE_SLACK = timedelta(minutes=30)


def ride_window(appointment: datetime, duration_min: int) -> tuple[datetime, datetime]:
    """The time a driver is needed for a ride to an appointment: from the trip's length plus half an
    hour before it, until the appointment."""
    return appointment - timedelta(minutes=duration_min or 60) - RIDE_SLACK, appointment


HORIZON_DAYS = 731  # dated times are for the next two years


def _check_times(data: PostInput, saved: tuple[set, datetime | None] | None = None) -> None:
    """A window must end, and an appointment be, still to come, and within the next two years
    (further out is a typo; a year like 9999 would also overflow turning it into UTC). On an edit,
    a window or appointment left exactly as it was saved passes even if it has gone by since."""
    kept_windows, kept_appointment = saved or (set(), None)
    now = utc_to_local(utcnow()).replace(tzinfo=None)
    last = now + timedelta(days=HORIZON_DAYS)
    is_need = data.kind == "need"
    appointment = data.appointment_at if is_need and data.category == "rides" else None
    if appointment and appointment != kept_appointment:
        if appointment <= now:
            raise FieldError("appointment_day", _("That appointment time has already passed. Check the date and time."))
        if appointment > last:
            raise FieldError("appointment_day", _("Choose a date within the next two years."))
    if is_need and (data.flexible or appointment):
        return  # the typed windows are not used: flexible, or derived from the appointment
    for i, (start, end) in enumerate(data.windows):
        if (start, end) in kept_windows:
            continue
        if end <= now:
            raise FieldError(f"windows-{i}", _("This time has already passed. Choose a time still to come."))
        if start > last:
            raise FieldError(f"windows-{i}", _("Choose a date within the next two years."))


def _saved_times(post: Post) -> tuple[set, datetime | None]:
    """A post's windows and appointment as the edit form shows them: naive local wall-clock times."""
    zone = community_zone()
    local = lambda value: utc_to_local(value, zone).replace(tzinfo=None)  # noqa: E731
    return ({(local(w.start_at), local(w.end_at)) for w in post.windows},
            local(post.appointment_at) if post.appointment_at else None)


def _validate(data: PostInput, saved: tuple[set, datetime | None] | None = None) -> None:
    if data.kind not in KINDS:
        raise FieldError("kind", _("Choose whether this is a need or an offer."))
    if data.category == MONEY_CATEGORY:
        raise FieldError("category", _("Money is asked for and given through the emergency fund, not as a post: "
                                       "see the Fund page."))
    if data.category not in CATEGORIES:
        raise FieldError("category", _("Choose a category."))
    if not data.title.strip():
        raise FieldError("title", _("Give your post a short title."))
    if len(data.details or "") > MAX_DETAILS:
        raise FieldError("details", _("Details can be at most %(max)s characters (you have %(count)s).",
                                       max=format_decimal(MAX_DETAILS), count=format_decimal(len(data.details))))
    if data.quantity < 1:
        raise FieldError("quantity", _("Enter at least 1."))
    for i, (start, end) in enumerate(data.windows):
        if end <= start:
            raise FieldError(f"windows-{i}", _("The end must be after the start."))
    for i, (_day, start, end) in enumerate(data.weekly):
        if start == end:
            raise FieldError(f"weekly-{i}", _("A weekly slot needs different start and end times."))
    _check_times(data, saved)
    if data.kind == "need":
        if data.urgency not in URGENCIES:
            raise FieldError("urgency", _("Choose how soon you need it."))
        if data.category == "rides" and data.appointment_at and not data.flexible:
            # A ride is asked for once, by its appointment: the window is derived from it.
            data.windows = [ride_window(data.appointment_at, data.duration_min)]
        if not data.flexible and not data.windows:
            if data.category == "rides":
                raise FieldError("appointment_day", _("Give the date and time of the appointment, or tick \u201cI'm flexible\u201d."))
            raise FieldError("windows", _("Add at least one date and time, or tick \u201cI'm flexible\u201d."))
        if data.category == "rides" and data.destination_kind not in DESTINATION_KINDS:
            raise FieldError("destination_kind", _("Choose what kind of place the ride is to."))
        if data.category == "emergency_funds" and data.fund_purpose not in FUND_PURPOSES:
            raise FieldError("fund_purpose", _("Choose what the money is for."))
        repeat.validate(data)
    else:
        if data.radius_miles is None or not (0 < data.radius_miles <= 100):
            raise FieldError("radius_miles", _("Enter how far you can travel, between 0.5 and 100 miles."))
        if data.offer_format is not None and data.offer_format not in OFFER_FORMATS:
            raise FieldError("offer_format", _("Choose one to one or a workshop or group."))


def _apply(post: Post, data: PostInput) -> None:
    place = geo.locate(data.zip_code, data.street_address)
    zone = community_zone()
    post.kind, post.category = data.kind, data.category
    post.title, post.details = data.title.strip(), (data.details or "").strip()
    post.zip_code, post.town, post.state = place.zip_code, place.town, place.state
    post.street_address = (data.street_address or "").strip() or None
    post.lat, post.lon = place.lat, place.lon
    post.cell_lat, post.cell_lon = geo.coarse_cell(place.lat, place.lon)
    post.quantity = data.quantity
    is_need = data.kind == "need"
    urgency = data.urgency if is_need else 0
    if not urgency:
        post.needed_by = None
    elif post.needed_by is None or post.urgency != urgency:
        # Urgency means a date, fixed when it is said: "Today" posted on Nov 10 is needed by Nov 10.
        said_on = utc_to_local(post.created_at if post.id is None and post.created_at else utcnow(), zone).date()
        post.needed_by = said_on + timedelta(days=URGENCY_DAYS[urgency])
    post.urgency = urgency
    post.urgency_key = urgency_key_for(post.needed_by, local_today(zone))
    post.duration_min = data.duration_min if is_need else 60
    post.flexible = data.flexible if is_need else False
    post.radius_miles = None if is_need else data.radius_miles
    post.offer_format = (data.offer_format or "individual") if not is_need and data.category in ("skills", "peer_support") else None
    rides = data.category == "rides"
    post.pickup_area = (data.pickup_area or "").strip() or None if rides else None
    post.destination_kind = data.destination_kind if rides and is_need else None
    post.appointment_at = (
        local_to_utc(data.appointment_at.date(), data.appointment_at.time(), zone)
        if rides and is_need and data.appointment_at else None
    )
    post.return_trip = bool(data.return_trip) if rides and is_need else False
    post.fund_purpose = data.fund_purpose if data.category == "emergency_funds" and is_need else None
    post.windows = [
        PostWindow(start_at=local_to_utc(s.date(), s.time(), zone), end_at=local_to_utc(e.date(), e.time(), zone))
        for s, e in ([] if post.flexible else data.windows)
    ]
    post.weekly_slots = [WeeklySlot(day=d, start_min=s, end_min=e) for d, s, e in ([] if is_need else data.weekly)]
    # Saved even when only its times changed: the engine's index and the reports go by this stamp.
    post.updated_at = utcnow()
    repeat.apply(post, data)  # its occurrences, when it repeats or wants a return leg
    search.set_terms(post)  # the words search finds it by, saved in the same transaction


def create_post(actor: User, data: PostInput, owner: User | None = None) -> Post:
    """Post a need or offer for the actor, or, for a coordinator, on behalf of a resident."""
    owner = owner or actor
    accounts.require_confirmed(actor)
    if owner.id != actor.id:
        if not actor.is_coordinator:
            raise NotAllowed(_("Only coordinators can post on behalf of someone else."))
        if owner.role != "resident":
            raise NotAllowed(_("Coordinators post on behalf of residents only."))
    _validate(data)
    post = Post(owner_id=owner.id, created_by_id=actor.id,
                expires_at=utcnow() + timedelta(days=current_app.config["POST_LIFETIME_DAYS"]))
    _apply(post, data)
    db.session.add(post)
    db.session.commit()  # the post is saved before anything else can fail
    log.info("user %s posted %s %s", actor.id, post.kind, post.id)
    proposals.after_commit(post.id)  # the engine runs in the worker, or after the response has gone out
    return post


def update_post(actor: User, post: Post, data: PostInput) -> Post:
    if not can_manage(actor, post):
        raise NotAllowed(_("You can only edit your own posts."))
    if not post.is_open:
        raise ServiceError(_("This post is closed and can no longer be edited."))
    data.kind = post.kind  # a need stays a need
    _validate(data, _saved_times(post))
    if data.quantity < (post.units_committed or 0):
        # Translators: the English reads the same for one and for several; your language may not.
        raise FieldError("quantity", ngettext("%(num)s are already promised in approved matches; enter at least %(num)s.",
                                              "%(num)s are already promised in approved matches; enter at least %(num)s.",
                                              post.units_committed))
    _apply(post, data)
    post.proposed_at = None  # its proposals are computed again, after the save
    db.session.commit()
    proposals.after_commit(post.id)
    return post


def _close(actor: User, post: Post, status: str) -> Post:
    if not can_manage(actor, post):
        raise NotAllowed(_("You can only change your own posts."))
    if not post.is_open:
        raise ServiceError(_("This post is already closed."))
    post.status, post.closed_at = status, utcnow()
    matches.post_closed(post)
    db.session.commit()
    return post


def withdraw_post(actor: User, post: Post) -> Post:
    return _close(actor, post, "withdrawn")


def mark_fulfilled(actor: User, post: Post) -> Post:
    return _close(actor, post, "fulfilled")


def renew_post(actor: User, post: Post) -> Post:
    """Give an open post a fresh lifetime (linked from the expiry warning)."""
    if not can_manage(actor, post):
        raise NotAllowed(_("You can only renew your own posts."))
    if not post.is_open:
        raise ServiceError(_("This post is closed and can no longer be renewed."))
    post.expires_at = utcnow() + timedelta(days=current_app.config["POST_LIFETIME_DAYS"])
    post.expiry_warned_at = None
    db.session.commit()
    return post


def refresh_urgency_keys() -> int:
    """Needs whose date has passed move to the end of "most urgent" (run by the hourly tick)."""
    today = local_today()
    done = db.session.execute(update(Post).where(Post.kind == "need", Post.status == "open",
                                                 Post.needed_by < today, Post.urgency_key != PASSED)
                              .values(urgency_key=PASSED).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return done or 0


def expire_posts(post_url_for) -> tuple[int, int]:
    """Close open posts past their expiry and warn owners of posts expiring soon.

    Returns (expired, warned). Residents without email are warned through the coordinator who
    posted for them. Safe to run as often as you like: each post is warned once.
    """
    now = utcnow()
    expired = db.session.scalars(select(Post).where(Post.status == "open", Post.expires_at <= now)).all()
    for post in expired:
        post.status, post.closed_at = "expired", now
        matches.post_closed(post)
    search.prune_closed()  # words of posts closed since the last run (search skips them anyway)
    soon = now + timedelta(days=current_app.config["POST_EXPIRY_WARNING_DAYS"])
    due = db.session.scalars(
        select(Post).where(Post.status == "open", Post.expires_at <= soon, Post.expiry_warned_at.is_(None))
    ).all()
    warned = 0
    for post in due:
        owner, recipient = notice_recipient(post)
        post.expiry_warned_at = now
        if recipient is None:
            continue
        queue_email(recipient.email, _l("Your post is about to expire"), "post_expiring", kind="post_expiring",
                    locale=recipient.language, user=recipient, post=post, url=post_url_for(post), on_behalf=recipient.id != owner.id)
        warned += 1
    db.session.commit()
    return len(expired), warned


def open_offers_of(user_id: int, category: str) -> list[Post]:
    """The member's open offers in a category that still have room (for "I can help")."""
    return list(db.session.scalars(select(Post).where(
        Post.owner_id == user_id, Post.kind == "offer", Post.category == category, Post.status == "open",
        Post.units_committed < Post.quantity).order_by(Post.created_at.desc())))


def posts_of(owner_ids: list[int], include_closed: bool = True) -> list[Post]:
    stmt = select(Post).where(Post.owner_id.in_(owner_ids))
    if not include_closed:
        stmt = stmt.where(Post.status == "open")
    return list(db.session.scalars(stmt.order_by(Post.status != "open", Post.created_at.desc())))
