from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flask_babel import lazy_gettext as _l
from app.extensions import db
from app.timeutil import utcnow

MAIL_STATUSES = ("pending", "sending", "sent", "failed")
DIGEST_FREQUENCIES = {"daily": _l("Daily"), "weekly": _l("Weekly"), "never": _l("Never")}


class OutboxEmail(db.Model):
    """One email, written in the same transaction as the change that causes it; sent after commit.

    pending -> sending (claimed by one sender, committed before any SMTP traffic) -> sent, or back
    to pending with a later `next_attempt_at` after a failure, or failed after the last attempt.
    A row left in `sending` by a sender that died is claimed again once its lease has run out.
    """

    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(30), default="notice")
    # RFC 8058 one-click unsubscribe URL, for digests.
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(40), index=True)
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class DigestSubscription(db.Model):
    """How often, in which categories and how far a member wants to hear about new requests."""

    __tablename__ = "digest_subscriptions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(10), default="weekly")
    # None: the categories of the member's own open offers (every category if they have none).
    categories: Mapped[list | None] = mapped_column(JSON)
    radius_miles: Mapped[float] = mapped_column(default=10.0)
    # Needs posted after this moment are "new" for the next digest.
    since: Mapped[datetime] = mapped_column(default=utcnow)
    # Opaque random id used in the signed unsubscribe link; no user id appears in the link.
    unsubscribe_key: Mapped[str] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Digest(db.Model):
    """One digest sent to a member for one period; the database refuses a second."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("user_id", "period", name="uq_digests_user_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    period: Mapped[str] = mapped_column(String(12))  # "D2026-11-24" or "W2026-48"
    need_count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
