"""Text messages: the outbox of texts, verified phone numbers, each member's channels per kind of
notice, texts people send us, and the requests for help that arrive by text."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

TEXT_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


class OutboxText(db.Model):
    """One text, written in the same transaction as the change that causes it; sent after commit.

    The same life as an email's (app/services/outbox.py): pending -> sending (claimed) -> sent, or
    pending again with a later `next_attempt_at`, or failed with the provider's error. Quiet hours
    put `next_attempt_at` at the next morning. A STOP cancels every text still waiting."""

    __tablename__ = "outbox_texts"
    __table_args__ = (Index("ix_outbox_texts_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for the one generic answer an unknown number gets.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_number: Mapped[str] = mapped_column(String(16))  # E.164
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(30), default="notice")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When what it is about happens (naive UTC), if it has a time: a retry, like the first try,
    # waits out quiet hours unless that comes before the morning.
    happens_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(40), index=True)
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # The provider's id for the message (Twilio's "SM..." sid), and what it later reported.
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    delivery: Mapped[str | None] = mapped_column(String(20))


class PhoneCode(db.Model):
    """A six-digit code texted to a number to prove it reaches this member (10 minutes, 5 tries).

    Only the code's hash is kept. `consent_by_id` is the coordinator who added a resident's number
    and recorded that the resident agreed to texts."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    number: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class NoticeChoice(db.Model):
    """A member's own choice of channels for one kind of notice (app/services/notify.py); without
    a row, the defaults there apply."""

    __tablename__ = "notice_choices"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    email: Mapped[bool] = mapped_column(default=True)
    text: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InboundText(db.Model):
    """A text someone sent us, once per provider message id (the provider may post it again).

    The number is kept only when it is a member's verified number (then `user_id` says whose);
    an unknown number leaves nothing but this row's time and outcome."""

    __tablename__ = "inbound_texts"
    __table_args__ = (UniqueConstraint("provider_id", name="uq_inbound_texts_provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str | None] = mapped_column(Text)  # None for an unknown number
    command: Mapped[str | None] = mapped_column(String(12))  # YES, NO, DONE, NOSHOW, STOP, ... or None
    # What came of it: "done", "listed" (several things wait: the reply lists them), "nothing"
    # (nothing waits), "stopped", "started", "help", "need", "unmatched", "unknown_number", ...
    outcome: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # a coordinator dealt with it


class TextChoice(db.Model):
    """The short codes of the last list a member was texted ("YES 2"): code -> what it answers."""

    __tablename__ = "text_choices"
    __table_args__ = (UniqueConstraint("user_id", "code", name="uq_text_choices_user_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code: Mapped[int]
    question: Mapped[str] = mapped_column(String(12))  # "confirm" (YES/NO) or "outcome" (DONE/NOSHOW)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"))
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("need_occurrences.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TextRequest(db.Model):
    """"NEED ride Tuesday 9am clinic", read into what could be parsed: a member checks and posts
    it from the link texted back; a resident's goes to the coordinators' queue to complete."""

    __tablename__ = "text_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(30))
    starts_at: Mapped[datetime | None]  # naive local (community time), as the post form takes it
    parsed: Mapped[dict] = mapped_column(JSON, default=dict)  # what was read from which words
    # "draft" (the member checks it), "queued" (coordinators complete it), "posted", "dismissed"
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
