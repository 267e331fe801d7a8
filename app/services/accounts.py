"""Accounts: sign-up, log-in checks, password reset, roles, residents created by coordinators."""
import logging

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import User
from app.models.users import CONTACT_METHODS, ROLES, new_token
from app.services import FieldError, NotAllowed, ServiceError
from app.services import audit, geo, membership
from app.services.digests import subscription_for
from app.services.mail import queue_email
from app.i18n import current
from app.timeutil import utcnow

log = logging.getLogger(__name__)
MIN_PASSWORD = 10
# A valid hash of a random password, checked when the email is unknown so timing does not
# tell whether an account exists.
_DUMMY_HASH: str | None = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    email = normalize_email(email)
    if not email:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == email))


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise FieldError(field, _("Use at least %(count)s characters.", count=MIN_PASSWORD))
    if len(password) > 200:
        raise FieldError(field, _("Use at most 200 characters."))


class NotConfirmed(ServiceError):
    """The member has not confirmed their email yet, so they cannot post, offer help or be matched."""


def sign_up(name: str, email: str, password: str, zip_code: str | None, confirm_url_for, login_url: str,
            reset_url: str) -> None:
    """Sign up, answering the same whether or not the address has an account (membership of this
    community is itself sensitive). A new address gets a new, unconfirmed account and a link to
    confirm it; a known address gets an email saying someone tried to sign up with it (with a
    fresh confirmation link if that account was never confirmed). Raises FieldError only for
    problems with what was typed, which say nothing about other accounts."""
    email = normalize_email(email)
    check_password_strength(password)
    password_hash = hash_password(password)  # hashed either way, so both answers take as long
    existing = find_by_email(email)
    if existing is None:
        # Their language is the one this page is in, so the confirmation email is in it too.
        user = User(name=name.strip(), email=email, password_hash=password_hash, role="member", language=current())
        if zip_code:
            _set_place(user, zip_code)
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError:  # the same address signed up a moment ago: answer as for a known one
            db.session.rollback()
            existing = find_by_email(email)
    if existing is not None:
        confirm_url = None if existing.is_confirmed else confirm_url_for(make_confirm_token(existing))
        queue_email(existing.email, _l("Someone tried to sign up with your email"), "signup_attempt", kind="signup_attempt",
                    locale=existing.language, user=existing, login_url=login_url, reset_url=reset_url,
                    confirm_url=confirm_url)
        db.session.commit()
        log.info("sign-up attempted for existing member %s", existing.id)
        return
    subscription_for(user)  # weekly digest, the categories of their offers, within 10 miles
    membership.on_sign_up(user)  # members-only board: the account waits for a coordinator's approval
    queue_email(user.email, _l("Confirm your email address"), "confirm_email", kind="confirm_email",
                locale=user.language, user=user, url=confirm_url_for(make_confirm_token(user)), days=CONFIRM_DAYS)
    db.session.commit()
    log.info("member %s signed up", user.id)


CONFIRM_DAYS = 7


def _confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="confirm-email")


def make_confirm_token(user: User) -> str:
    return _confirm_serializer().dumps({"u": user.id, "e": user.email})


def user_for_confirm_token(token: str) -> User:
    """The member a confirmation link belongs to; ServiceError if expired or tampered."""
    try:
        data = _confirm_serializer().loads(token, max_age=CONFIRM_DAYS * 86400)
    except SignatureExpired:
        raise ServiceError(_("This confirmation link has expired. Log in to get a new one.")) from None
    except BadSignature:
        raise ServiceError(_("This confirmation link is not valid.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or user.email is None or data.get("e") != user.email:
        raise ServiceError(_("This confirmation link is not valid."))
    return user


def confirm_email(token: str) -> User:
    user = user_for_confirm_token(token)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db.session.commit()
        log.info("member %s confirmed their email", user.id)
    return user


def resend_confirmation(user: User, confirm_url_for) -> None:
    if user.is_confirmed or not user.email:
        return
    queue_email(user.email, _l("Confirm your email address"), "confirm_email", kind="confirm_email",
                locale=user.language, user=user, url=confirm_url_for(make_confirm_token(user)), days=CONFIRM_DAYS)
    db.session.commit()


def require_confirmed(user: User) -> None:
    """Posting, offering help, pledging and asking the fund wait for a confirmed email."""
    if not user.is_confirmed:
        raise NotConfirmed(_("Please confirm your email address first: we sent you a link when you signed up."))


def _set_place(user: User, zip_code: str) -> None:
    place = geo.locate(zip_code)
    user.zip_code, user.town, user.state, user.lat, user.lon = place.zip_code, place.town, place.state, place.lat, place.lon


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password these are, or None."""
    global _DUMMY_HASH
    user = find_by_email(email)
    if user is None or not user.password_hash:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(new_token())
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def end_sessions(user: User) -> None:
    """Make every session cookie issued so far for this user stop working."""
    user.session_token = new_token()
    db.session.commit()


def update_profile(user: User, name: str, zip_code: str | None, phone: str | None, contact_method: str = "email",
                   contact_name: str | None = None, contact_detail: str | None = None,
                   language: str | None = None) -> None:
    """Save the profile form; `language` None leaves the member's language as it is."""
    if language is not None:
        _check_language(language)
    user.name = name.strip()
    user.phone = (phone or "").strip() or None
    if zip_code:
        _set_place(user, zip_code)
    else:
        user.zip_code = user.town = user.state = user.lat = user.lon = None
    _set_contact(user, contact_method, contact_name, contact_detail)
    if language is not None:
        user.language = language
    db.session.commit()


def _set_contact(user: User, method: str, name: str | None, detail: str | None) -> None:
    """How matched people reach this member; the same three choices for everyone."""
    name, detail = (name or "").strip(), (detail or "").strip()
    if method not in CONTACT_METHODS:
        raise FieldError("contact_method", _("Choose how people you are matched with can reach you."))
    if method == "email" and not user.email:
        raise FieldError("contact_method", _("There is no email address on this account: choose a phone or a contact person."))
    if method == "phone" and not user.phone:
        raise FieldError("phone", _("Enter the phone number people should call or text."))
    if method == "person":
        if not name:
            raise FieldError("contact_name", _("Enter the contact person's name."))
        if not detail:
            raise FieldError("contact_detail", _("Enter the contact person's email or phone number."))
    if len(name) > 80:
        raise FieldError("contact_name", _("Keep the name under 80 characters."))
    if len(detail) > 120:
        raise FieldError("contact_detail", _("Keep it under 120 characters."))
    user.contact_method = method
    user.contact_name, user.contact_detail = (name, detail) if method == "person" else (None, None)


def _check_language(code: str) -> None:
    from app.i18n import LANGUAGES

    if code not in LANGUAGES:
        raise FieldError("language", _("Choose one of the languages offered."))


def set_language(user: User, code: str) -> None:
    """The member's language for pages, emails and texts (the switcher, the profile)."""
    _check_language(code)
    user.language = code
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    if not user.password_hash or not check_password_hash(user.password_hash, current or ""):
        raise FieldError("current_password", _("That is not your current password."))
    check_password_strength(new, "new_password")
    user.password_hash = hash_password(new)
    user.session_token = new_token()  # other sessions end; the view logs this one in again
    user.reset_nonce = new_token()  # and every reset link issued before the change stops working
    db.session.commit()


# Password reset -----------------------------------------------------------------------------

def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"u": user.id, "n": user.reset_nonce})


def request_password_reset(email: str, reset_url_for) -> None:
    """Email a reset link if the account exists. Says nothing about whether it does."""
    user = find_by_email(email)
    if user is None or not user.email:
        return
    token = make_reset_token(user)
    queue_email(user.email, _l("Reset your password"), "reset_password", kind="password_reset",
                locale=user.language, user=user, url=reset_url_for(token), minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)
    db.session.commit()


def user_for_reset_token(token: str) -> User:
    """The user a reset link belongs to; ServiceError if expired, tampered or already used."""
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise ServiceError(_("This reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise ServiceError(_("This reset link is not valid. Ask for a new one.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or data.get("n") != user.reset_nonce:
        raise ServiceError(_("This reset link has already been used. Ask for a new one."))
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset_token(token)
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    user.reset_nonce = new_token()  # single use
    user.session_token = new_token()  # sessions from before the reset end
    db.session.commit()
    log.info("user %s reset their password", user.id)
    return user


# Roles and residents --------------------------------------------------------------------------

def set_role(actor: User, target: User, role: str) -> None:
    """Admins set any role; coordinators may only mark a member as a resident (or back)."""
    if role not in ROLES:
        raise FieldError("role", _("Choose one of the listed roles."))
    if actor.is_admin:
        if target.id == actor.id and role != "admin":
            raise ServiceError(_("You cannot remove your own admin role; ask another admin."))
    elif actor.role == "coordinator":
        if not ({target.role, role} <= {"member", "resident"}):
            raise NotAllowed(_("Coordinators can only mark members as residents."))
    else:
        raise NotAllowed(_("Only coordinators and admins can change roles."))
    old = target.role
    target.role = role
    audit.record(actor, "role_change", "user", target.id, old=old, new=role)
    db.session.commit()
    log.info("user %s set role of user %s to %s", actor.id, target.id, role)


def create_resident(actor: User, name: str, zip_code: str | None, email: str | None = None,
                    phone: str | None = None, contact_name: str | None = None,
                    contact_detail: str | None = None) -> User:
    """A coordinator registers a resident, who needs no email address to be helped. Matched people
    reach them by their email, else their phone, else a named contact person (the coordinator,
    unless another is given), exactly as any member may choose."""
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can add residents."))
    email = normalize_email(email) or None
    if email and find_by_email(email):
        raise FieldError("email", _("An account with this email already exists."))
    # The coordinator vouches for the resident: no email confirmation is needed.
    user = User(name=name.strip(), email=email, role="resident", phone=(phone or "").strip() or None,
                created_by_id=actor.id, email_confirmed_at=utcnow(), language=current())
    if zip_code:
        _set_place(user, zip_code)
    if contact_name or contact_detail:
        _set_contact(user, "person", contact_name, contact_detail)
    elif not (email or user.phone):
        # Reached through whoever coordinates for them at the time (see disclosure.reach_of).
        user.contact_method, user.contact_name, user.contact_detail = "person", None, None
    else:
        _set_contact(user, "email" if email else "phone", None, None)
    db.session.add(user)
    db.session.commit()
    return user


def create_admin(name: str, email: str, password: str) -> User:
    """The first admin, from `flask user create-admin`."""
    email = normalize_email(email)
    check_password_strength(password)
    user = find_by_email(email)
    if user is None:
        user = User(name=name.strip(), email=email, role="admin")
        db.session.add(user)
    user.role = "admin"
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    user.password_hash = hash_password(password)
    user.session_token = new_token()
    db.session.commit()
    return user
