"""Accounts: sign-up, log-in checks, password reset, roles, residents created by coordinators."""
import logging

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import User
from app.models.users import ROLES, new_token
from app.services import FieldError, NotAllowed, ServiceError
from app.services import audit, geo
from app.services.digests import subscription_for
from app.services.mail import queue_email

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
        raise FieldError(field, f"Use at least {MIN_PASSWORD} characters.")
    if len(password) > 200:
        raise FieldError(field, "Use at most 200 characters.")


def sign_up(name: str, email: str, password: str, zip_code: str | None = None) -> User:
    """Create a member account. Raises FieldError for a taken email or weak password."""
    email = normalize_email(email)
    if find_by_email(email):
        raise FieldError("email", "An account with this email already exists. Log in or reset your password.")
    check_password_strength(password)
    user = User(name=name.strip(), email=email, password_hash=hash_password(password), role="member")
    if zip_code:
        _set_place(user, zip_code)
    db.session.add(user)
    db.session.flush()
    subscription_for(user)  # weekly digest, the categories of their offers, within 10 miles
    db.session.commit()
    log.info("member %s signed up", user.id)
    return user


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


def update_profile(user: User, name: str, zip_code: str | None, phone: str | None) -> None:
    user.name = name.strip()
    user.phone = (phone or "").strip() or None
    if zip_code:
        _set_place(user, zip_code)
    else:
        user.zip_code = user.town = user.state = user.lat = user.lon = None
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    if not user.password_hash or not check_password_hash(user.password_hash, current or ""):
        raise FieldError("current_password", "That is not your current password.")
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
    queue_email(user.email, "Reset your password", "reset_password", kind="password_reset",
                user=user, url=reset_url_for(token), minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)
    db.session.commit()


def user_for_reset_token(token: str) -> User:
    """The user a reset link belongs to; ServiceError if expired, tampered or already used."""
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise ServiceError("This reset link has expired. Ask for a new one.") from None
    except BadSignature:
        raise ServiceError("This reset link is not valid. Ask for a new one.") from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or data.get("n") != user.reset_nonce:
        raise ServiceError("This reset link has already been used. Ask for a new one.")
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
        raise FieldError("role", "Choose one of the listed roles.")
    if actor.is_admin:
        if target.id == actor.id and role != "admin":
            raise ServiceError("You cannot remove your own admin role; ask another admin.")
    elif actor.role == "coordinator":
        if not ({target.role, role} <= {"member", "resident"}):
            raise NotAllowed("Coordinators can only mark members as residents.")
    else:
        raise NotAllowed("Only coordinators and admins can change roles.")
    old = target.role
    target.role = role
    audit.record(actor, "role_change", "user", target.id, old=old, new=role)
    db.session.commit()
    log.info("user %s set role of user %s to %s", actor.id, target.id, role)


def create_resident(actor: User, name: str, zip_code: str | None, email: str | None = None,
                    phone: str | None = None) -> User:
    """A coordinator registers a resident, who needs no email address to be helped."""
    if not actor.is_coordinator:
        raise NotAllowed("Only coordinators can add residents.")
    email = normalize_email(email) or None
    if email and find_by_email(email):
        raise FieldError("email", "An account with this email already exists.")
    user = User(name=name.strip(), email=email, role="resident", phone=(phone or "").strip() or None,
                created_by_id=actor.id)
    if zip_code:
        _set_place(user, zip_code)
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
    user.password_hash = hash_password(password)
    user.session_token = new_token()
    db.session.commit()
    return user
