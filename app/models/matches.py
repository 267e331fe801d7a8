from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flask_babel import lazy_gettext as _l
from app.extensions import db
from app.timeutil import utcnow

# Match states and the transitions allowed between them: the one place that says so.
MATCH_STATES = {
    "proposed": _l("Waiting for a coordinator"),
    "approved": _l("Approved: waiting for both to confirm"),
    "accepted": _l("Confirmed by both"),
    "completed": _l("Done"),
    "rejected": _l("Rejected by a coordinator"),
    "declined": _l("Declined"),
    "cancelled": _l("Cancelled"),
    "no_show": _l("Did not happen"),
}
TRANSITIONS = {
    "proposed": {"approved", "rejected", "cancelled"},
    "approved": {"accepted", "declined", "cancelled"},
    "accepted": {"completed", "no_show", "cancelled"},
    "completed": set(),
    "rejected": set(),
    "declined": set(),
    "cancelled": set(),
    "no_show": set(),
}
# States in which a match holds units of the offer's capacity and of the need's quantity.
HOLDING = ("approved", "accepted", "completed")
ACTIVE = ("proposed", "approved", "accepted")
SOURCES = {"engine": _l("Suggested by matching"), "volunteer": _l("\"I can help\""), "manual": _l("Matched by hand")}


def can_move(state: str, to: str) -> bool:
    return to in TRANSITIONS.get(state, set())


class Match(db.Model):
    """A need paired with an offer for some units: proposed, approved by a coordinator, confirmed
    by both people, then completed (or rejected, declined, cancelled, no-show)."""

    __tablename__ = "matches"
    __table_args__ = (
        Index("ix_matches_status_need", "status", "need_id"),
        Index("ix_matches_offer_status", "offer_id", "status"),
        # The reports join every match of the needs in a period, whatever its state.
        Index("ix_matches_need", "need_id"),
        # The reports' summary finds what changed since its last refresh (report_summary.py).
        Index("ix_matches_updated", "updated_at"),
        CheckConstraint("units > 0", name="ck_matches_units_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    units: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default="proposed", index=True)
    source: Mapped[str] = mapped_column(String(10), default="engine")
    score: Mapped[float] = mapped_column(default=0.0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    distance_km: Mapped[float | None]
    overlap_min: Mapped[int | None]
    scheduled_at: Mapped[datetime | None]  # naive UTC: when the help happens, if dated
    note: Mapped[str | None] = mapped_column(Text)  # the helper's note ("I can help")
    # For a need that repeats: True when this helper takes every occurrence (a standing match);
    # False for a match that covers some of them (app/models/repeat.py links each occurrence).
    standing: Mapped[bool] = mapped_column(default=False, server_default=false())

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Any write to the row (ORM or Core UPDATE) moves it: the reports' summary reads it.
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reject_reason: Mapped[str | None] = mapped_column(String(300))
    respond_by: Mapped[datetime | None]
    need_answer: Mapped[str | None] = mapped_column(String(10))  # accepted / declined
    offer_answer: Mapped[str | None] = mapped_column(String(10))
    reminded_at: Mapped[datetime | None]
    followup_sent_at: Mapped[datetime | None]
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    need_feedback: Mapped[str | None] = mapped_column(Text)
    offer_feedback: Mapped[str | None] = mapped_column(Text)

    need = relationship("Post", foreign_keys=[need_id], lazy="joined", innerjoin=True)
    offer = relationship("Post", foreign_keys=[offer_id], lazy="joined", innerjoin=True)

    @property
    def state_label(self) -> str:
        return MATCH_STATES.get(self.status, self.status)

    @property
    def source_label(self) -> str:
        return SOURCES.get(self.source, self.source)

    def __repr__(self) -> str:
        return f"<Match {self.id} {self.status}>"


class Suggestion(db.Model):
    """One ranked candidate offer for a need, kept so a coordinator can swap to the next one."""

    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_need_rank", "need_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    score: Mapped[float]
    distance_km: Mapped[float]
    overlap_min: Mapped[int]
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    offer = relationship("Post", foreign_keys=[offer_id], lazy="joined", innerjoin=True)


class CaseNote(db.Model):
    """A coordinator's private note about a resident; only coordinators ever see it."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author = relationship("User", foreign_keys=[author_id], lazy="joined")
