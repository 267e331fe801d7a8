"""Invitations: a coordinator invites an email address; the signed link signs up an approved member.

The link carries the invitation's id and a random nonce, signed with the secret key and valid
INVITATION_DAYS; it works once (the first sign-up through it marks it used with a conditional
UPDATE). Following it proves the address, so the account needs neither the confirmation email nor
a coordinator's approval.
"""
import logging
import re
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.i18n import current
from app.models import User
from app.models.membership import Invitation
from app.models.users import new_token
from app.services import Conflict, FieldError, NotAllowed, ServiceError, accounts, audit, membership
from app.services.digests import subscription_for
from app.services.mail import queue_email
from app.timeutil import utcnow

log = logging.getLogger(__name__)
INVITATION_DAYS = 14
# The form checks the address properly; this only keeps anything that cannot be one out of the table.
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="invitation")


def make_token(invitation: Invitation) -> str:
    return _serializer().dumps({"i": invitation.id, "n": invitation.nonce})


def invite(actor: User, email: str, url_for_token) -> Invitation:
    """A coordinator invites `email`: the invitation and its email (in the coordinator's language,
    the one the page is in) are saved in one commit. FieldError when the address is not one or
    already has an account (a waiting one is approved from the list instead)."""
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can invite new members."))
    email = accounts.normalize_email(email)
    if len(email) > 254 or not _ADDRESS.match(email):
        raise FieldError("email", _("Enter a valid email address."))
    if accounts.find_by_email(email) is not None:
        raise FieldError("email", _("There is already an account with this address. If it is waiting, approve it in the list above."))
    invitation = Invitation(email=email, nonce=new_token(), invited_by_id=actor.id)
    db.session.add(invitation)
    db.session.flush()
    queue_email(email, _l("You are invited to join Mutual Aid Exchange"), "invitation", kind="invitation",
                locale=current(), url=url_for_token(make_token(invitation)), days=INVITATION_DAYS,
                inviter=actor.first_name)
    audit.record(actor, "invitation", "invitation", invitation.id)
    db.session.commit()
    log.info("coordinator %s sent invitation %s", actor.id, invitation.id)
    return invitation


def open_invitations(actor: User, limit: int = 100) -> list[Invitation]:
    """Invitations not used yet and still valid, newest first (coordinators' page)."""
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can see the invitations."))
    cutoff = utcnow() - timedelta(days=INVITATION_DAYS)
    return list(db.session.scalars(
        select(Invitation).where(Invitation.used_at.is_(None), Invitation.created_at > cutoff)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(limit)))


def expires_at(invitation: Invitation):
    return invitation.created_at + timedelta(days=INVITATION_DAYS)


def invitation_for_token(token: str) -> Invitation:
    """The unused invitation a link names; ServiceError if it expired, was tampered with or was used."""
    try:
        data = _serializer().loads(token, max_age=INVITATION_DAYS * 86400)
    except SignatureExpired:
        raise ServiceError(_("This invitation has expired. Ask a coordinator for a new one.")) from None
    except BadSignature:
        raise ServiceError(_("This invitation link is not valid.")) from None
    invitation = None
    if isinstance(data, dict) and isinstance(data.get("i"), int) and 0 < data["i"] < 2**31:
        invitation = db.session.get(Invitation, data["i"])
    if invitation is None or data.get("n") != invitation.nonce:
        raise ServiceError(_("This invitation link is not valid."))
    if invitation.used_at is not None:
        raise ServiceError(_("This invitation has already been used. Log in, or ask a coordinator for a new one."))
    return invitation


def sign_up(token: str, name: str, password: str, zip_code: str | None) -> tuple[User, bool]:
    """Sign up through an invitation: (the account, True if it is new). The new account is
    approved and its address confirmed. Someone who already has an account with that address
    (they signed up meanwhile) gets it approved instead, and their password stays as it was.
    ServiceError when the link no longer works; FieldError for what was typed."""
    invitation = invitation_for_token(token)
    if not (name or "").strip():
        raise FieldError("name", _("Tell us your name."))
    accounts.check_password_strength(password)
    password_hash = accounts.hash_password(password)
    # Claim the invitation first: of two sign-ups through one link, only one gets past here.
    claimed = db.session.execute(update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
                                 .values(used_at=utcnow())).rowcount
    if not claimed:
        db.session.rollback()
        raise ServiceError(_("This invitation has already been used. Log in, or ask a coordinator for a new one."))
    existing = accounts.find_by_email(invitation.email)
    if existing is not None:
        membership.approve_existing(existing, invitation.id, invitation.invited_by_id)
        invitation.used_by_id = existing.id
        db.session.commit()
        log.info("invitation %s approved existing account %s", invitation.id, existing.id)
        return existing, False
    user = User(name=name.strip(), email=invitation.email, password_hash=password_hash, role="member",
                language=current(), email_confirmed_at=utcnow())
    if zip_code:
        accounts._set_place(user, zip_code)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the address signed up the ordinary way at this very moment
        db.session.rollback()
        raise Conflict(_("An account with this address was just created. Log in instead.")) from None
    subscription_for(user)  # weekly digest, as for every new member
    membership.on_sign_up(user, invitation_id=invitation.id, invited_by_id=invitation.invited_by_id)
    invitation.used_by_id = user.id
    db.session.commit()
    log.info("member %s signed up through invitation %s", user.id, invitation.id)
    return user, True
