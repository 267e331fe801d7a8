"""What the text provider posts to us: the texts people send (inbound) and what became of the
texts we sent (status). Both are public and outside CSRF (the provider has no form token); the
provider's own signature over our public URL and the parameters is the authority, and a request
without a valid one gets 403 and changes nothing."""
from flask import abort, current_app, request

from app.extensions import csrf, limiter
from app.services import text_commands, texts
from app.services.text_providers import provider
from app.texts import bp
from app.web import public

# An empty TwiML answer: the replies go through the outbox as texts of their own.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _limit() -> str:
    return current_app.config.get("TEXT_WEBHOOK_RATE_LIMIT") or "120 per minute;3000 per hour"


def public_url() -> str:
    """The URL the provider signed: BASE_URL and this path (and query), whatever host or scheme
    the request reached us under behind a proxy."""
    url = current_app.config["BASE_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def _check_signature() -> None:
    if not provider().valid_signature(public_url(), request.form.to_dict(), request.headers):
        abort(403)


@bp.route("/inbound", methods=["POST"])
@public
@csrf.exempt
@limiter.limit(_limit)
def inbound():
    _check_signature()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    if not sid:
        abort(400)
    text_commands.handle(sid, request.form.get("From", ""), request.form.get("Body", ""))
    return current_app.response_class(EMPTY_TWIML, status=200, mimetype="text/xml")


@bp.route("/status", methods=["POST"])
@public
@csrf.exempt
@limiter.limit(_limit)
def status():
    _check_signature()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    state = request.form.get("MessageStatus") or request.form.get("SmsStatus") or ""
    if sid and state:
        texts.record_delivery(sid, state, request.form.get("ErrorCode") or None)
    return "", 204
