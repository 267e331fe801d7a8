import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from flask_babel import lazy_gettext as _l
from app.extensions import db
from app.timeutil import utcnow

ROLES = ("member", "resident", "coordinator", "admin")
# How a matched person is reached, chosen by every member alike (so the card never tells who is a
# resident): their own email, their own phone, or a named contact person.
CONTACT_METHODS = {"email": _l("My email"), "phone": _l("My phone"), "person": _l("A contact person")}
ROLE_LABELS = {"member": _l("Member"), "resident": _l("Resident"), "coordinator": _l("Coordinator"), "admin": _l("Admin")}


def new_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A resident created by a coordinator may have no email and then cannot log in.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="member", index=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    zip_code: Mapped[str | None] = mapped_column(String(5))
    town: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str | None] = mapped_column(String(2))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # Rotated at logout and password change: a copied session cookie stops working.
    session_token: Mapped[str] = mapped_column(String(64), default=new_token)
    # Rotated when a reset link is used, so each link works once.
    reset_nonce: Mapped[str] = mapped_column(String(64), default=new_token)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the member follows the link emailed at sign-up (or a coordinator vouches for them):
    # until then they can log in but not post, offer help or be matched.
    email_confirmed_at: Mapped[datetime | None]
    contact_method: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    contact_name: Mapped[str | None] = mapped_column(String(80))  # the contact person's name
    contact_detail: Mapped[str | None] = mapped_column(String(120))  # their email or phone
    # The language of the member's pages, emails and texts (a code of app.i18n.LANGUAGES).
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # Set when the account was deleted (app/services/erasure.py): the row stays, under a pseudonym,
    # for what the fund's books and the audit log point to; everything personal is gone.
    deleted_at: Mapped[datetime | None]
    # A mobile number for texts (E.164), set only once a code texted to it was read back
    # (app/services/phones.py); a number verified by another account later moves to that account.
    mobile: Mapped[str | None] = mapped_column(String(16), unique=True)
    mobile_verified_at: Mapped[datetime | None]
    # A coordinator added the number with the resident's consent to texts: who, and when.
    mobile_consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    mobile_consent_at: Mapped[datetime | None]
    # Set by a STOP text: no text goes to this member until they send START.
    texts_stopped_at: Mapped[datetime | None]

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def first_name(self) -> str:
        return (self.name or "").split(" ")[0]

    @property
    def is_coordinator(self) -> bool:
        return self.role in ("coordinator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_confirmed(self) -> bool:
        """Their email is confirmed, or they have no email and a verified mobile number."""
        return self.email_confirmed_at is not None or (not self.email and self.mobile_verified_at is not None)

    @property
    def acted_for(self) -> bool:
        """A coordinator acts for them: they cannot log in and are a resident (or have no email at
        all). A member imported from a spreadsheet who has not yet chosen a password is not: they
        are reached at their own address, and nobody answers for them."""
        return not self.can_log_in and (self.role == "resident" or not self.email)

    @property
    def can_get_texts(self) -> bool:
        return bool(self.mobile and self.mobile_verified_at and not self.texts_stopped_at and not self.deleted_at)

    @property
    def can_log_in(self) -> bool:
        return bool(self.email and self.password_hash)

    def __repr__(self) -> str:  # no personal data in logs
        return f"<User {self.id}>"
