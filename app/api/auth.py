"""Who is calling the API: a personal access token in `Authorization: Bearer <token>`, nothing else.

Cookies never authenticate the API: the token's account is put where Flask-Login looks for the
current user (`g._login_user`) before any view runs, so a browser's session cookie sent along is
never read, and without a token the answer is 401 whoever is logged in. CSRF does not apply (the
blueprints are exempt): a token is not sent by a browser on its own. Reads need a token; anything
that changes something needs a write token (403 otherwise). The account acts with the role it has
now, and on a members-only board only once approved, as on the site (app/web.py).
"""
import hashlib

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_smorest import abort

from app.extensions import csrf, limiter
from app.services import api_tokens, membership

READS = ("GET", "HEAD", "OPTIONS")
DEFAULT_RATE_LIMIT = "120 per minute;3000 per hour"


def bearer() -> str | None:
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def rate_key() -> str:
    """Each token has its own allowance (a hash of it: the limiter's storage never holds a token);
    requests without one share their address's."""
    raw = bearer()
    if raw:
        return "api-token:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return "api-addr:" + (request.remote_addr or "")


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


def authenticate():
    """before_request of every API blueprint (not of the description and docs pages)."""
    # Nothing below may fall back to the session cookie: anonymous until the token says otherwise.
    g._login_user = current_app.login_manager.anonymous_user()
    found = api_tokens.authenticate(bearer())
    if found is None:
        abort(401)
    user, token = found
    g._login_user, g.api_token = user, token
    if request.method not in READS and not token.can_write:
        abort(403, message=_("This token is read only: create a read and write token to change things."))
    if not membership.can_see_board(user):
        abort(403, message=_("Your account is waiting for a coordinator's approval."))


def current():
    """The account the token acts for (set by `authenticate`)."""
    return g._login_user


def secure(blueprint) -> None:
    """Token authentication, the rate limit, JSON errors and no CSRF for one API blueprint."""
    from app.api import errors

    blueprint.before_request(authenticate)
    errors.register(blueprint)
    csrf.exempt(blueprint)
    limiter.limit(_rate_limit, key_func=rate_key)(blueprint)
