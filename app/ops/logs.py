"""One JSON line per request and per job run, with a request id; never personal data.

Only the fields named in `FIELDS` leave a record: a log call cannot leak an email by passing it as
an extra. Requests are logged by endpoint name, never by path or query string (a search box or a
token could carry personal text). The request id comes from a proxy's `X-Request-ID` when it looks
like one, else a new one; it goes back in the response headers and on the error page, so a member
can quote it.
"""
import json
import logging
import re
import time
import uuid

from flask import Flask, g, has_request_context, request

FIELDS = ("request_id", "method", "endpoint", "status", "duration_ms", "user_id", "job", "period", "counts",
          "threads", "queue", "gc", "email_id", "attempt")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
log = logging.getLogger("app.request")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
               "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


JsonFormatter.converter = time.gmtime


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = g.get("request_id")
        return True


def configure(app: Flask) -> None:
    root = logging.getLogger()
    if not getattr(root, "_mae_configured", False):
        handler = logging.StreamHandler()
        if app.config["LOG_FORMAT"] == "json":
            handler.setFormatter(JsonFormatter())
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_RequestIdFilter())
        root.handlers[:] = [handler]
        root.setLevel(logging.INFO)
        root._mae_configured = True
    # Werkzeug's own request lines carry the path and query string: ours replace them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("huey").setLevel(logging.WARNING)
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)  # its INFO lines carry client addresses


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def init_app(app: Flask) -> None:
    configure(app)

    def log_exception(exc_info) -> None:
        # Flask's own line names the path, which can hold a token (/auth/reset/<token>).
        log.error("unhandled error", exc_info=exc_info,
                  extra={"method": request.method, "endpoint": request.endpoint or "unmatched"})

    app.log_exception = log_exception

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        from flask_login import current_user

        rid = g.get("request_id")
        if rid is None:
            return response
        response.headers["X-Request-ID"] = rid
        seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
        endpoint = request.endpoint or "unmatched"
        if endpoint != "static":
            user_id = current_user.id if getattr(current_user, "is_authenticated", False) else None
            log.info("request", extra={"method": request.method, "endpoint": endpoint, "status": response.status_code,
                                       "duration_ms": round(seconds * 1000, 1), "user_id": user_id})
        from app.ops import metrics

        metrics.request_finished(endpoint, request.method, response.status_code, seconds)
        return response


def _scrub(event: dict, _hint: dict) -> dict:
    """What goes to Sentry about the request: its method and route pattern only. A path can hold
    a token (/auth/reset/<token>), a query string a search, headers an address; none of it goes."""
    req = event.get("request")
    if req is not None:
        rule = request.url_rule.rule if has_request_context() and request.url_rule else None
        event["request"] = {"method": req.get("method"), "url": rule or "(unmatched)"}
    event.pop("user", None)
    event.pop("breadcrumbs", None)  # earlier log lines and outgoing URLs (a geocoder query is an address)
    event.get("extra", {}).pop("sys.argv", None)  # a command line can hold an email
    event.setdefault("tags", {})["request_id"] = request_id()
    return event


def init_sentry(app: Flask) -> None:
    """Error reports to Sentry when SENTRY_DSN is set: no personal data, no local variables, no bodies."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration()], send_default_pii=False,
                    include_local_variables=False, max_request_body_size="never", environment=app.config["APP_ENV"],
                    traces_sample_rate=0.0, max_breadcrumbs=0, before_send=_scrub)
