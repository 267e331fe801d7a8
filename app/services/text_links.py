"""Links in texts. A member who logs in gets the site's own page (it asks for their login); one who
cannot (a resident a coordinator registered without email) gets a signed link to their side of one
match, which works for TEXT_LINK_DAYS and shows what the match page would show them."""
from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.extensions import db
from app.models import Match, User
from app.services import ServiceError
from app.services.disclosure import involved


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="text-link")


def absolute(endpoint: str, **values) -> str:
    """An absolute URL, inside a request (its host) or outside one (BASE_URL)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    from app.jobs.registry import external

    return external(endpoint, **values)


def match_token(user: User, match: Match) -> str:
    # The user's session token is in it: a reset of their sessions ends the links too.
    return _serializer().dumps([match.id, user.id, user.session_token[:8]])


def match_link(user: User, match: Match, page_link: str | None = None) -> str:
    """The link a text about this match carries for this person."""
    if user.can_log_in:
        return page_link or absolute("matches.detail", match_id=match.id)
    return absolute("texts.match_link", token=match_token(user, match))


def load_match_token(token: str) -> tuple[Match, User]:
    try:
        data = _serializer().loads(token, max_age=current_app.config["TEXT_LINK_DAYS"] * 86400)
    except SignatureExpired:
        raise ServiceError(_("This link has expired. Text HELP to hear how to reach a coordinator.")) from None
    except BadSignature:
        raise ServiceError(_("This link is not valid.")) from None
    if not (isinstance(data, list) and len(data) == 3):
        raise ServiceError(_("This link is not valid."))
    match = db.session.get(Match, data[0])
    user = db.session.get(User, data[1]) if match else None
    if (match is None or user is None or user.deleted_at or not user.session_token.startswith(str(data[2]))
            or not involved(user, match)):
        raise ServiceError(_("This link is not valid."))
    return match, user
