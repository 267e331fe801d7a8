"""Reports of concern: someone says something is wrong with a post, a match or a group session.

Only coordinators read a concern; nobody is ever told who made it. A safety report holds its
subject (`holding`): a post is hidden from everyone but its owner and coordinators, a match is
paused (no contact cards, no messages, no reminders) until a coordinator acts. Whether a post or
a match is held is read from these rows (app/services/holds.py), so there is one source of truth.
"""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow

CONCERN_CATEGORIES = {
    "safety": _l("Safety"),
    "no_show": _l("No-show"),
    "inappropriate": _l("Inappropriate"),
    "other": _l("Other"),
}
SUBJECT_TYPES = ("post", "match", "session")
CONCERN_STATUSES = ("open", "resolved")
# What a coordinator did when closing a concern beyond a note.
CONCERN_ACTIONS = {"withdraw_post": _l("Withdrew the post"), "cancel_match": _l("Cancelled the match"),
                   "cancel_session": _l("Cancelled the session")}


class Concern(db.Model):
    """One report of concern about exactly one post, match or group session."""

    __tablename__ = "concerns"
    __table_args__ = (
        Index("ix_concerns_status_created", "status", "created_at"),
        CheckConstraint("category in ('safety', 'no_show', 'inappropriate', 'other')", name="ck_concerns_category"),
        CheckConstraint("status in ('open', 'resolved')", name="ck_concerns_status"),
        CheckConstraint("(subject_type = 'post' AND post_id IS NOT NULL AND match_id IS NULL AND session_id IS NULL)"
                        " OR (subject_type = 'match' AND match_id IS NOT NULL AND post_id IS NULL AND session_id IS NULL)"
                        " OR (subject_type = 'session' AND session_id IS NOT NULL AND post_id IS NULL AND match_id IS NULL)",
                        name="ck_concerns_one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(10))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("group_sessions.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)  # the reporter's words: coordinators only
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    # True while this report hides its post or pauses its match (safety reports, until a coordinator acts).
    holding: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(20))  # a CONCERN_ACTIONS code, if one was taken

    reporter = relationship("User", foreign_keys=[reporter_id], lazy="select")
    resolved_by = relationship("User", foreign_keys=[resolved_by_id], lazy="select")
    post = relationship("Post", lazy="select")
    match = relationship("Match", lazy="select")
    session = relationship("GroupSession", lazy="select")

    @property
    def category_label(self) -> str:
        return str(CONCERN_CATEGORIES.get(self.category, self.category))

    @property
    def action_label(self) -> str:
        return str(CONCERN_ACTIONS.get(self.action, self.action or ""))

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def __repr__(self) -> str:  # no words, no names in logs
        return f"<Concern {self.id} {self.subject_type} {self.status}>"
