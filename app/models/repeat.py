"""Help that repeats, and the two legs of a ride there and back: a need's occurrences.

A need that repeats (rides to work Mon-Fri at 7:30 for four weeks) or a ride that wants its return
leg matched has one row per occurrence (and leg). Each occurrence is matched as part of a
*standing* match (one helper for the whole series) or by a match that covers some occurrences
(occurrence by occurrence); each can be confirmed, skipped or marked done on its own.
"""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flask_babel import lazy_gettext as _l
from app.extensions import db
from app.timeutil import utcnow

OCCURRENCE_STATES = {
    "open": _l("Looking for a helper"),
    "matched": _l("Helper found"),
    "confirmed": _l("Confirmed"),
    "skipped": _l("Skipped"),
    "done": _l("Done"),
    "missed": _l("Did not happen"),
}
# Occurrences still to be helped with: they follow their match, or go back to the engine.
LIVE = ("open", "matched", "confirmed")
FINISHED = ("skipped", "done", "missed")
LEGS = {"out": _l("There"), "return": _l("Back")}
MAX_OCCURRENCES = 100


class NeedOccurrence(db.Model):
    """One date (and leg) of a need that repeats or wants a return trip."""

    __tablename__ = "need_occurrences"
    __table_args__ = (
        UniqueConstraint("need_id", "key", name="uq_occurrence_need_key"),
        Index("ix_occurrences_need_start", "need_id", "starts_at"),
        Index("ix_occurrences_match", "match_id"),
        CheckConstraint("ends_at > starts_at", name="ck_occurrence_order"),
        CheckConstraint("leg in ('out', 'return')", name="ck_occurrence_leg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # Stable across edits of the series: the local date and leg ("2026-12-07/out").
    key: Mapped[str] = mapped_column(String(40))
    leg: Mapped[str] = mapped_column(String(6), default="out")
    starts_at: Mapped[datetime]  # naive UTC: the window in which the help (duration) must fit
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="open")
    # The match (proposed, approved or confirmed) that covers it; NULL while it looks for a helper.
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"))
    reminded_at: Mapped[datetime | None]  # both people were reminded the day before
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    need = relationship("Post", foreign_keys=[need_id], lazy="raise_on_sql")

    @property
    def state_label(self) -> str:
        return str(OCCURRENCE_STATES.get(self.status, self.status))

    @property
    def leg_label(self) -> str:
        return str(LEGS.get(self.leg, self.leg))

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    def __repr__(self) -> str:
        return f"<NeedOccurrence {self.id} {self.key} {self.status}>"
