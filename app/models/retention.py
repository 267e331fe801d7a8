"""What retention leaves behind when it removes old personal data: counts, for the reports."""
from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class PurgedCount(db.Model):
    """How many rows of one kind (messages, case notes, emails of a kind) the retention job removed,
    by the month they were written, so "how many messages were exchanged in March" still has an
    answer once the words are gone (app/services/retention.py)."""

    __tablename__ = "purged_counts"
    __table_args__ = (UniqueConstraint("kind", "month", name="uq_purged_counts_kind_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7))  # "2026-03", the month the rows were written (UTC)
    count: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<PurgedCount {self.kind} {self.month} {self.count}>"
