"""Who may see the board when it is members-only: approvals of new accounts, and invitations."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

APPROVAL_STATUSES = ("waiting", "approved", "declined")


class MemberApproval(db.Model):
    """A coordinator's decision on an account that signed up by itself while the board was members-only.

    Only that sign-up writes a row ("waiting"); every other account (those from before, from the
    public mode, residents a coordinator registers, the demo) has none and counts as approved.
    """

    __tablename__ = "member_approvals"
    __table_args__ = (CheckConstraint("status in ('waiting', 'approved', 'declined')", name="ck_member_approvals_status"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set when the account came through an invitation (approved at sign-up, by whoever invited).
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"))

    def __repr__(self) -> str:
        return f"<MemberApproval {self.user_id} {self.status}>"


class Invitation(db.Model):
    """A coordinator's invitation for one email address: a signed link, single use, valid 14 days."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    # In the signed link: a link is for this row only, and stops working once `used_at` is set.
    nonce: Mapped[str] = mapped_column(String(64))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:  # no personal data in logs
        return f"<Invitation {self.id}>"
