"""Personal access tokens for the JSON API (app/api/, app/services/api_tokens.py).

Only a SHA-256 of each token is stored: the token is 32 random bytes, not a password, so a fast
hash is enough (nobody can guess one to test against it), and a copy of the database lets no one
call the API. The prefix (the first characters of the token) is shown so its owner can tell their
tokens apart; it is too short to use.
"""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

SCOPES = ("read", "write")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("scope in ('read', 'write')", name="ck_api_tokens_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))  # what its owner called it ("my phone app")
    scope: Mapped[str] = mapped_column(String(5))  # read: GET only; write: also what changes things
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == "write"

    def __repr__(self) -> str:  # never the hash or the name
        return f"<ApiToken {self.id} user={self.user_id}>"
