"""Keeping people safe and apart: vetting checks, what each kind of help needs, blocks and bars.

Only coordinators ever see checks, rules and bars; a member sees their own blocks and nothing
else of any of this (app/services/vetting.py, blocks.py, bars.py, exclusions.py).
"""
from datetime import date, datetime

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow

# The checks a coordinator records, as codes (rows keep the code, pages the label).
CHECK_KINDS = {
    "licence": _l("Driver's license seen"),
    "insurance": _l("Insurance"),
    "background": _l("Background check"),
    "training": _l("Training completed"),
}
# Training need not expire; every other check has an expiry date.
EXPIRY_OPTIONAL = ("training",)
# Why a helper is left out, for coordinators: "No insurance check", "License check expired Oct 3".
MISSING = {
    "licence": lambda: _("No license check"),
    "insurance": lambda: _("No insurance check"),
    "background": lambda: _("No background check"),
    "training": lambda: _("No training completed"),
}
EXPIRED = {
    "licence": lambda when: _("License check expired %(date)s", date=when),
    "insurance": lambda when: _("Insurance check expired %(date)s", date=when),
    "background": lambda when: _("Background check expired %(date)s", date=when),
    "training": lambda when: _("Training expired %(date)s", date=when),
}
# Whose needs a rule covers: needs posted by (or for) residents, or every need of the category.
AUDIENCES = {"residents": _l("Needs of residents"), "everyone": _l("Everyone's needs")}
# The categories a rule can be set for (money never goes person to person).
RULE_CATEGORIES = ("rides", "food", "skills", "peer_support", "household_items")


class VettingCheck(db.Model):
    """One check of one person, by a coordinator: its latest date, who did it, until when it holds."""

    __tablename__ = "vetting_checks"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", name="uq_vetting_checks_user_kind"),
        Index("ix_vetting_checks_expires_on", "expires_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    checked_on: Mapped[date]
    checked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_on: Mapped[date | None]
    # The expiry date coordinators were last reminded of: each expiry is announced once.
    reminded_for: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    checked_by = relationship("User", foreign_keys=[checked_by_id], lazy="joined")
    person = relationship("User", foreign_keys=[user_id], lazy="joined")

    @property
    def label(self) -> str:
        return str(CHECK_KINDS.get(self.kind, self.kind))

    def in_date(self, on: date) -> bool:
        return self.expires_on is None or self.expires_on >= on

    def __repr__(self) -> str:
        return f"<VettingCheck {self.id} {self.kind}>"


class HelpRule(db.Model):
    """A check that helpers must hold, in date, for needs of a category and audience."""

    __tablename__ = "help_rules"
    __table_args__ = (UniqueConstraint("category", "audience", "check_kind", name="uq_help_rules"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(30))
    audience: Mapped[str] = mapped_column(String(12))
    check_kind: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Block(db.Model):
    """A member who never wants to be matched or to meet another. The other is never told."""

    __tablename__ = "blocks"
    __table_args__ = (
        # One row per post blocked through: the blocks page lists each, and never shows that two
        # posts have the same owner (which a single row for the person would).
        UniqueConstraint("blocker_id", "blocked_id", "context", name="uq_blocks_pair_context"),
        CheckConstraint("blocker_id <> blocked_id", name="ck_blocks_not_self"),
        Index("ix_blocks_blocked_id", "blocked_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # What the blocker saw when they blocked (a post's title): the blocks page names no one the
    # blocker did not know by name already.
    context: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Bar(db.Model):
    """A coordinator's bar: a person never matched with residents, or with one resident (a
    no-contact order). The reason is for coordinators only; lifting keeps the row."""

    __tablename__ = "bars"
    __table_args__ = (Index("ix_bars_person_lifted", "person_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # None: every resident
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    person = relationship("User", foreign_keys=[person_id], lazy="joined")
    resident = relationship("User", foreign_keys=[resident_id], lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None
