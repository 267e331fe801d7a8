"""Errors as JSON: every API answer that is not a success has the same shape (ErrorSchema):
{"code": 404, "status": "Not Found", "message": "...", "errors": {"json": {"title": ["..."]}}}.

The site's own handlers (app/__init__.py) answer HTML; these are registered on each API
blueprint, which Flask asks first. A request under /api/ that matched no route (an unknown path,
an id out of range, a method not allowed) belongs to no blueprint: `jsonify_unrouted` turns the
site's HTML page into the same JSON there.
"""
import json
import logging

from flask import jsonify, request
from flask_babel import gettext as _
from flask_smorest import abort
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from app.extensions import db
from app.services import Conflict, NotAllowed, ServiceError

log = logging.getLogger(__name__)
CODES = (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500)


def _message(code: int) -> str:
    return {
        400: _("Something was wrong with that request."),
        401: _("Send a valid API token: Authorization: Bearer <token>."),
        403: _("You don't have permission to do that."),
        404: _("Not found."),
        405: _("That method is not allowed here."),
        409: _("That can't be done now."),
        413: _("That was more than we can accept."),
        415: _("Send JSON (Content-Type: application/json)."),
        422: _("Some of what was sent is not valid: see errors."),
        429: _("Too many requests: wait a minute before trying again."),
        500: _("Sorry, that didn't work. Nothing you saved before was lost."),
    }.get(code, HTTP_STATUS_CODES.get(code, "Error"))


def payload(code: int, message: str | None = None, errors: dict | None = None) -> dict:
    body = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Error"), "message": str(message or _message(code))}
    if errors:
        body["errors"] = errors
    return body


def handle(error: HTTPException):
    code = error.code or 500
    if code >= 500:
        db.session.rollback()
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message")
    if message is None and code in (403, 409) and error.description and error.description != type(error).description:
        message = error.description  # abort(409, description=the service's sentence)
    response = jsonify(payload(code, message, _plain(errors)))
    response.status_code = code
    headers = dict(data.get("headers") or {})
    if code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    if code == 429 and getattr(error, "response", None) is not None:
        headers.update({k: v for k, v in error.response.headers.items() if k.lower().startswith(("retry", "x-ratelimit"))})
    response.headers.update(headers)
    return response


def _plain(errors):
    """Validation messages as plain JSON (lazy strings made text, in the reader's language)."""
    if errors is None:
        return None
    return json.loads(json.dumps(errors, default=str))


def register(blueprint) -> None:
    for code in CODES:
        blueprint.register_error_handler(code, handle)


def jsonify_unrouted(response):
    """after_request on the app: an /api/ error page from the site's HTML handlers becomes JSON."""
    if (response.status_code >= 400 and request.path.startswith("/api/") and request.blueprint is None
            and response.mimetype == "text/html"):
        body = payload(response.status_code)
        response.set_data(json.dumps(body))
        response.mimetype = "application/json"
    return response


def fail(err: ServiceError, *, not_allowed: int = 403, plain: int = 409):
    """Abort with the JSON answer for a service's refusal: bad input 422 beside its field, a rule
    403 (or 404 where the object is not to be seen), a state that no longer allows it 409."""
    if isinstance(err, NotAllowed):
        abort(not_allowed, message=str(err.message) if not_allowed != 404 else _message(404))
    if isinstance(err, Conflict):
        abort(409, message=str(err.message))
    if err.field:
        abort(422, message=str(err.message), errors={"json": {err.field: [str(err.message)]}})
    abort(plain, message=str(err.message))


def documented(blueprint, *codes):
    """Document the error answers an operation gives (each also has the default Error answer)."""
    from http import HTTPStatus

    def decorate(view):
        for code in codes:
            view = blueprint.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorate
