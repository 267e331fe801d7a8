"""Personal access tokens for the JSON API: creating, listing, revoking, and recognising one.

A token acts for its owner with the role and the rights the account has *now*: nothing about the
role is kept with the token, so a coordinator made a member, or an account deleted, loses what
went with it on the next request. Creating and revoking go to the audit log (codes and ids only:
a token's name is its owner's words and stays out of the log).
"""
import hashlib
import logging
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.extensions import db
from app.ids import get_by_id
from app.models import User
from app.models.api_tokens import SCOPES, ApiToken
from app.services import FieldError, NotAllowed, audit
from app.timeutil import utcnow

log = logging.getLogger(__name__)

PREFIX = "mae_"  # every token starts so: a secret scanner (or a person) can tell what it is
PREFIX_SHOWN = len(PREFIX) + 8  # "mae_Xy3k9QpL": enough to tell tokens apart, far too short to use
MAX_NAME = 60
MAX_ACTIVE = 20
# last_used_at is written at most this often per token: one write per request would make every
# read a write (and, on SQLite, wait for the write lock).
TOUCH_EVERY = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def may_have_tokens(user: User) -> bool:
    """Anyone who can log in (members, residents with a login, coordinators, admins, each for
    themselves); never a deleted account."""
    return bool(getattr(user, "is_authenticated", False)) and user.can_log_in and user.deleted_at is None


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, active ones first, newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))


def create(actor: User, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for the actor: (the row, the token itself). The token is shown once and never stored."""
    if not may_have_tokens(actor):
        raise NotAllowed(_("Only an account that can log in can have API tokens."))
    name = (name or "").strip()
    if not name:
        raise FieldError("name", _("Give the token a name, so you know later what uses it."))
    if len(name) > MAX_NAME:
        raise FieldError("name", _("Keep the name under %(limit)s characters.", limit=MAX_NAME))
    if scope not in SCOPES:
        raise FieldError("scope", _("Choose read only, or read and write."))
    active = db.session.scalar(select(func.count()).select_from(ApiToken)
                               .where(ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None)))
    if active >= MAX_ACTIVE:
        raise FieldError("name", _("You have %(count)s tokens in use: revoke one you no longer need first.",
                                   count=active))
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, scope=scope, prefix=raw[:PREFIX_SHOWN], token_hash=digest(raw))
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "api_token_create", "api_token", token.id, scope=scope)
    db.session.commit()
    log.info("user %s created API token %s (%s)", actor.id, token.id, scope)
    return token, raw


def revoke(actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (NotAllowed, a 404, for anyone else's: they are not seen)."""
    token = get_by_id(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotAllowed(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "api_token_revoke", "api_token", token.id)
        db.session.commit()
        log.info("user %s revoked API token %s", actor.id, token.id)
    return token


def authenticate(raw: str | None) -> tuple[User, ApiToken] | None:
    """The account and token for a bearer token, or None: unknown, revoked, or an account that can
    no longer log in (deleted, or its login removed). One indexed lookup."""
    raw = (raw or "").strip()
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(raw)))
    if token is None or token.revoked_at is not None:
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not may_have_tokens(user):
        return None
    _touch(token)
    return user, token


def _touch(token: ApiToken) -> None:
    now = utcnow()
    if token.last_used_at is not None and token.last_used_at > now - TOUCH_EVERY:
        return
    db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    token.last_used_at = now

