"""Digests of new requests: subscriptions, building each due member's email, unsubscribing.

`send_digests` does a fixed number of SQL queries however many subscribers there are: it loads the
due subscriptions, the open needs and the members' offer categories in bulk, picks each member's
needs with numpy, and writes every digest and its outbox email with two multi-row INSERTs in one
transaction (and, for members who chose digests by text, one more for the texts). The unique (member, period) constraint makes a second run, or two at once, send nothing
twice.
"""
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from flask import current_app, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from itsdangerous import BadSignature, Signer
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.i18n import in_language
from app.models import Digest, DigestSubscription, NoticeChoice, OutboxEmail, OutboxText, Post, User
from app.models.mail import DIGEST_FREQUENCIES
from app.models.posts import CATEGORIES, most_urgent_first
from app.services import FieldError, ServiceError
from app.services import geo, membership
from app.services import holds
from app.services.mail import render_email
from app.services.texts import due_at, render_text
from app.timeutil import local_today, utc_to_local, utcnow

log = logging.getLogger(__name__)
DEFAULT_RADIUS = 10.0
SUBJECT = _l("New requests near you")


# Subscriptions ------------------------------------------------------------------------------

def new_subscription(user_id: int, since: datetime | None = None) -> dict:
    """Column values of a member's default subscription: weekly, their offers' categories, 10 miles."""
    return dict(user_id=user_id, frequency="weekly", categories=None, radius_miles=DEFAULT_RADIUS,
                since=since or utcnow(), unsubscribe_key=secrets.token_urlsafe(24), updated_at=utcnow())


def subscription_for(user: User) -> DigestSubscription:
    """The member's subscription, created with the defaults if they have none yet (caller commits)."""
    sub = db.session.get(DigestSubscription, user.id)
    if sub is None:
        sub = DigestSubscription(**new_subscription(user.id, since=user.created_at))
        db.session.add(sub)
    return sub


def settings_of(user: User) -> DigestSubscription:
    """The member's saved subscription, or the defaults they would get (not saved) for showing."""
    return db.session.get(DigestSubscription, user.id) or DigestSubscription(**new_subscription(user.id))


def offer_categories(user_id: int) -> list[str]:
    return list(db.session.scalars(
        select(Post.category).distinct().where(Post.owner_id == user_id, Post.kind == "offer", Post.status == "open")))


def update_subscription(user: User, frequency: str, categories: list[str] | None, radius_miles: float | None) -> DigestSubscription:
    """Save the member's digest settings; `categories=None` follows the categories of their offers."""
    if frequency not in DIGEST_FREQUENCIES:
        raise FieldError("frequency", _("Choose daily, weekly or never."))
    if categories is not None:
        unknown = set(categories) - set(CATEGORIES)
        if unknown:
            raise FieldError("categories", _("Choose from the listed categories."))
        if not categories and frequency != "never":
            raise FieldError("categories", _("Choose at least one category, or follow the categories of your offers."))
    if radius_miles is None or not (0.5 <= radius_miles <= 100):
        raise FieldError("radius_miles", _("Enter a distance between 0.5 and 100 miles."))
    if frequency != "never" and user.lat is None:
        raise FieldError("frequency", _("Add your ZIP code above first: digests list requests near your place."))
    sub = subscription_for(user)
    sub.frequency, sub.categories, sub.radius_miles = frequency, sorted(categories) if categories is not None else None, radius_miles
    db.session.commit()
    return sub


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="digest-unsubscribe")


def unsubscribe_token(sub: DigestSubscription | dict) -> str:
    key = sub["unsubscribe_key"] if isinstance(sub, dict) else sub.unsubscribe_key
    return _signer().sign(key).decode()


def subscription_for_token(token: str) -> DigestSubscription:
    """The subscription an unsubscribe link names; ServiceError if the link is not one of ours."""
    try:
        key = _signer().unsign(token or "").decode()
    except BadSignature:
        raise ServiceError(_("This unsubscribe link is not valid. You can change your emails on your account page.")) from None
    sub = db.session.scalar(select(DigestSubscription).where(DigestSubscription.unsubscribe_key == key))
    if sub is None:
        raise ServiceError(_("This unsubscribe link is not valid. You can change your emails on your account page."))
    return sub


def unsubscribe(token: str) -> DigestSubscription:
    """One-click unsubscribe (RFC 8058): digests stop; repeating it changes nothing."""
    sub = subscription_for_token(token)
    if sub.frequency != "never":
        sub.frequency = "never"
        db.session.commit()
        log.info("digest subscription %s unsubscribed by link", sub.user_id)
    return sub


# Periods ------------------------------------------------------------------------------------

def current_period(frequency: str, now: datetime) -> str | None:
    """The period key for `now` (naive UTC), or None when that period's digest is not due yet.

    Daily digests are due from DIGEST_HOUR local time; weekly ones from Monday at DIGEST_HOUR.
    """
    local = utc_to_local(now)
    hour = current_app.config["DIGEST_HOUR"]
    if frequency == "daily":
        return f"D{local:%Y-%m-%d}" if local.hour >= hour else None
    if frequency == "weekly":
        year, week, weekday = local.isocalendar()
        if weekday == 1 and local.hour < hour:
            return None
        return f"W{year}-{week:02d}"
    return None


# Building and sending -----------------------------------------------------------------------

@dataclass
class DigestRun:
    due: int = 0
    sent: int = 0
    empty: int = 0
    skipped_no_place: int = 0


def _ensure_subscriptions() -> None:
    """Members who can receive email but have no subscription row get the default one."""
    missing = db.session.execute(
        select(User.id, User.created_at)
        .outerjoin(DigestSubscription, DigestSubscription.user_id == User.id)
        .where(DigestSubscription.user_id.is_(None), User.email.is_not(None), User.password_hash.is_not(None))
    ).all()
    if missing:
        db.session.execute(insert(DigestSubscription), [new_subscription(uid, since=created) for uid, created in missing])


@dataclass
class _Needs:
    """The open needs as parallel arrays, most urgent first, then oldest first."""

    posts: list
    category: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    created: np.ndarray
    owner: np.ndarray


def _load_needs(since: datetime, now: datetime) -> _Needs:
    rows = db.session.execute(
        select(Post.id, Post.category, Post.cell_lat, Post.cell_lon, Post.created_at, Post.owner_id,
               Post.urgency, Post.needed_by, Post.town, Post.state, Post.title)
        .where(Post.kind == "need", Post.status == "open", Post.expires_at > now, Post.created_at > since,
               holds.post_visible())
        # Most urgent first: the earliest date still to come, then those needed "whenever".
        .order_by(*most_urgent_first(local_today()))
    ).all()
    cats = {name: i for i, name in enumerate(CATEGORIES)}
    return _Needs(
        posts=rows,
        category=np.array([cats.get(r.category, -1) for r in rows], dtype=np.int16),
        lat=np.radians(np.array([r.cell_lat for r in rows], dtype=np.float64)),
        lon=np.radians(np.array([r.cell_lon for r in rows], dtype=np.float64)),
        created=np.array([r.created_at for r in rows], dtype="datetime64[us]"),
        owner=np.array([r.owner_id for r in rows], dtype=np.int64),
    )


def _pick(needs: _Needs, lat: float, lon: float, radius: float, since: datetime, user_id: int,
          categories: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Indexes (in urgency order) and distances of the needs one member's digest lists."""
    lat1, lon1 = np.radians(lat), np.radians(lon)
    # A cheap box first (a degree of latitude is ~69 miles), the exact great-circle distance after.
    dlat_max = radius / geo.EARTH_RADIUS_MI
    dlon_max = dlat_max / max(np.cos(lat1 + np.sign(lat1) * dlat_max), 0.01)
    mask = (np.abs(needs.lat - lat1) <= dlat_max) & (np.abs(needs.lon - lon1) <= dlon_max)
    mask &= np.isin(needs.category, categories) & (needs.created > np.datetime64(since, "us")) & (needs.owner != user_id)
    idx = np.flatnonzero(mask)
    dlat, dlon = needs.lat[idx] - lat1, needs.lon[idx] - lon1
    a = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(needs.lat[idx]) * np.sin(dlon / 2) ** 2
    miles = 2 * geo.EARTH_RADIUS_MI * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    keep = miles <= radius
    return idx[keep], miles[keep]


def send_digests(now: datetime | None = None) -> DigestRun:
    """Queue one digest for every member whose digest is due and who has new needs; commit once.

    The caller then runs the outbox sender (`flask digest send` does).
    """
    now = now or utcnow()
    run = DigestRun()
    _ensure_subscriptions()
    periods = {f: current_period(f, now) for f in ("daily", "weekly")}
    periods = {f: p for f, p in periods.items() if p}
    if not periods:
        db.session.commit()
        return run

    last_cutoff = (select(Digest.user_id, func.max(Digest.created_at).label("cutoff"))
                   .group_by(Digest.user_id).subquery())
    already = select(Digest.user_id).where(Digest.period.in_(list(periods.values())))
    subs = db.session.execute(
        select(DigestSubscription, User.email, User.name, User.lat, User.lon, User.language, last_cutoff.c.cutoff,
               User.mobile, User.mobile_verified_at, User.texts_stopped_at)
        .join(User, User.id == DigestSubscription.user_id)
        .outerjoin(last_cutoff, last_cutoff.c.user_id == DigestSubscription.user_id)
        .where(DigestSubscription.frequency.in_(list(periods)), User.email.is_not(None),
               User.password_hash.is_not(None), DigestSubscription.user_id.not_in(already),
               *membership.readers_filter())  # a members-only board: approved members only
        .order_by(DigestSubscription.user_id)
    ).all()
    run.due = len(subs)
    if not subs:
        db.session.commit()
        return run

    def since_of(row) -> datetime:
        return max(row.DigestSubscription.since, row.cutoff) if row.cutoff else row.DigestSubscription.since

    # Which channels each member chose for digests (app/services/notify.py; email only by default).
    choices = {uid: (email, text) for uid, email, text in db.session.execute(
        select(NoticeChoice.user_id, NoticeChoice.email, NoticeChoice.text)
        .where(NoticeChoice.kind == "digest", NoticeChoice.user_id.in_([r.DigestSubscription.user_id for r in subs])))}
    needs = _load_needs(min(since_of(r) for r in subs), now)
    offer_cats: dict[int, set[str]] = {}
    for owner_id, category in db.session.execute(
            select(Post.owner_id, Post.category).distinct().where(Post.kind == "offer", Post.status == "open")):
        offer_cats.setdefault(owner_id, set()).add(category)
    cat_index = {name: i for i, name in enumerate(CATEGORIES)}
    max_items = current_app.config["DIGEST_MAX_ITEMS"]

    digests, emails, texts = [], [], []
    quiet_due = due_at(utcnow())
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        account_url = url_for("account.profile", _external=True)
        help_urls: dict[int, str] = {}
        for row in subs:
            sub = row.DigestSubscription
            if row.lat is None:
                run.skipped_no_place += 1
                continue
            wanted = sub.categories if sub.categories is not None else sorted(offer_cats.get(sub.user_id, CATEGORIES))
            idx, miles = _pick(needs, row.lat, row.lon, sub.radius_miles, since_of(row), sub.user_id,
                               [cat_index[c] for c in wanted if c in cat_index])
            if not idx.size:
                run.empty += 1
                continue
            items = []
            for i, m in zip(idx[:max_items], miles[:max_items]):
                if i not in help_urls:
                    help_urls[i] = url_for("posts.detail", post_id=needs.posts[i].id, _external=True) + "#help"
                items.append(dict(post=needs.posts[i], bucket=geo.distance_bucket(float(m)), help_url=help_urls[i]))
            by_email, by_text = choices.get(sub.user_id, (True, False))
            by_text = by_text and row.mobile and row.mobile_verified_at and not row.texts_stopped_at
            if not by_email and not by_text:
                run.empty += 1
                continue
            digests.append(dict(user_id=sub.user_id, period=periods[sub.frequency], need_count=int(idx.size), created_at=now))
            if by_text:
                with in_language(row.language):
                    body = render_text("digest", count=int(idx.size), link=url_for("posts.browse", kind="need", _external=True))
                texts.append(dict(user_id=sub.user_id, to_number=row.mobile, body=body, kind="digest", status="pending",
                                  attempts=0, next_attempt_at=quiet_due, created_at=utcnow()))
            if not by_email:
                continue
            token = unsubscribe_token(dict(unsubscribe_key=sub.unsubscribe_key))
            unsubscribe_url = url_for("main.unsubscribe", token=token, _external=True)
            with in_language(row.language):  # the member's language, subject and both parts
                text, html = render_email("digest", name=row.name.split(" ")[0], items=items,
                                          more=int(idx.size) - len(items), frequency=sub.frequency,
                                          radius=sub.radius_miles, unsubscribe_url=unsubscribe_url,
                                          account_url=account_url)
                subject = str(SUBJECT)
            emails.append(dict(to_addr=row.email, subject=subject, body_text=text, body_html=html, kind="digest",
                               unsubscribe_url=unsubscribe_url, status="pending", attempts=0,
                               next_attempt_at=utcnow(), created_at=utcnow()))
    if digests:
        try:
            db.session.execute(insert(Digest), digests)
            if emails:
                db.session.execute(insert(OutboxEmail), emails)
            if texts:
                db.session.execute(insert(OutboxText), texts)
            db.session.commit()
        except IntegrityError:
            # Another run queued some of these digests in the meantime: it sends them, not us.
            db.session.rollback()
            log.warning("another digest run was faster; this run queued nothing")
            return DigestRun(due=run.due)
    else:
        db.session.commit()
    run.sent = len(digests)
    log.info("digests: %s due, %s queued, %s empty, %s without a place", run.due, run.sent, run.empty, run.skipped_no_place)
    return run
