"""Messages between the two people of a match, inside the site (app/services/messages.py)."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class Message(db.Model):
    """One message in a match's thread. `side` is whose it is ("need" or "offer"): the person, or
    the coordinator writing for someone who cannot log in (`author_id` says who typed it; pages
    show only the side's first name, so a message never tells who is a resident)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_match_created", "match_id", "created_at"),
        # The per-person hourly limit counts with this index.
        Index("ix_messages_author_created", "author_id", "created_at"),
        CheckConstraint("side in ('need', 'offer')", name="ck_messages_side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"))
    side: Mapped[str] = mapped_column(String(5))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:  # never the words
        return f"<Message {self.id} match={self.match_id}>"
