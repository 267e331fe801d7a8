"""A local server that speaks Twilio's Programmable Messaging API, as the official `twilio` library
calls it, so the tests send texts for real (as they send email to a real SMTP server) and read what
arrived. Plus helpers that post to the app the way Twilio does: an inbound text and a status
callback, signed with X-Twilio-Signature by twilio's own RequestValidator.

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json
        form: To, From or MessagingServiceSid, Body, StatusCallback ...; HTTP Basic auth (SID, token)
        201 and the message resource as JSON; 401/400/429/500 with Twilio's JSON error body

Controls: `refuse(n, status)`, `invalid_numbers`, `stopped_numbers`, `hold_at` + `held` + `release`.
"""
import base64
import json
import secrets
import socket
import threading
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API = "2010-04-01"
ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "An internal server error has occurred"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
}
STATUS_CODES = {401: 20003, 404: 20404, 429: 20429, 500: 20500}


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def error_body(code: int, status: int | None = None, message: str | None = None) -> dict:
    """Twilio's (legacy) JSON error body, which the library turns into a TwilioRestException."""
    default_status, default_message = ERRORS[code]
    return {"code": code, "message": message or default_message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status or default_status}


def _gone(sock: socket.socket) -> bool:
    """Whether the client closed its end: a non-blocking peek reads b"" (EOF) instead of blocking."""
    try:
        sock.setblocking(False)
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        finally:
            sock.setblocking(True)
    except BlockingIOError:
        return False
    except OSError:  # reset by the peer
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API does (the library pools connections)
    server: "_Server"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _reply(self, status: int, payload: dict | None, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Twilio-Request-Id", new_sid("RQ"))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: int, status: int | None = None) -> None:
        body = error_body(code, status)
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if body["status"] == 401 else None
        self._reply(body["status"], body, headers)

    def do_GET(self):  # noqa: N802
        self._error(20404)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        self.server.box.handle(self, urlsplit(self.path).path, raw)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    box: "TextServer"


class TextServer:
    """What the tests see: `messages` (each accepted text), `requests` (every request, in order),
    and the controls."""

    def __init__(self, account_sid: str | None = None, auth_token: str | None = None,
                 from_number: str = "+16515550100", host: str = "127.0.0.1", port: int = 0):
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token or secrets.token_hex(16)
        self.from_number = from_number
        self.messages: list[dict] = []
        self.requests: list[dict] = []  # every request to the API, accepted or not (path, form, status)
        self.lock = threading.Lock()
        self.invalid_numbers: set[str] = set()  # 400, code 21211
        self.stopped_numbers: set[str] = set()  # 400, code 21610 (the number sent STOP to the carrier)
        # Hold the n-th Messages request (1-based, counting every one) until `release` is set, so a
        # test can kill the sender there. A held request whose client has gone is not recorded.
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self._refuse: list[int] = []  # statuses for the next requests to refuse
        self._count = 0
        self._httpd = _Server((host, port), _Handler)
        self._httpd.box = self
        self.port = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    # Lifecycle ------------------------------------------------------------------------------

    def start(self) -> "TextServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # Controls -------------------------------------------------------------------------------

    def refuse(self, n: int = 1, status: int = 500) -> None:
        """The next `n` requests fail with `status` (500 or 429) and Twilio's error body; `refuse(0)`
        accepts again."""
        if status not in STATUS_CODES:
            raise ValueError(f"refuse() takes one of {sorted(STATUS_CODES)}")
        with self.lock:
            self._refuse = [status] * n

    @property
    def refusing(self) -> int:
        return len(self._refuse)

    # What arrived ---------------------------------------------------------------------------

    def to(self, number: str) -> list[dict]:
        return [m for m in self.messages if m["to"] == number]

    def bodies(self) -> list[str]:
        return [m["body"] for m in self.messages]

    def message(self, sid: str) -> dict:
        return next(m for m in self.messages if m["sid"] == sid)

    # The API --------------------------------------------------------------------------------

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(password, self.auth_token)

    def handle(self, handler: _Handler, path: str, raw: str) -> None:
        form = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        parts = path.strip("/").split("/")
        is_messages = (len(parts) == 4 and parts[0] == API and parts[1] == "Accounts" and parts[3] == "Messages.json")
        if not is_messages:
            return handler._error(20404)
        with self.lock:
            self._count += 1
            n = self._count
            entry = {"n": n, "path": path, "form": form, "headers": dict(handler.headers.items()), "status": None}
            self.requests.append(entry)
        if self.hold_at is not None and n == self.hold_at:
            self.held.set()
            self.release.wait()
            if _gone(handler.connection):
                entry["status"] = "dropped"
                handler.close_connection = True
                return  # the client went away before an answer: nothing was sent
        if parts[2] != self.account_sid or not self._authorised(handler.headers.get("Authorization")):
            entry["status"] = 401
            return handler._error(20003)
        with self.lock:
            refusal = self._refuse.pop(0) if self._refuse else None
        if refusal is not None:
            entry["status"] = refusal
            return handler._error(STATUS_CODES[refusal])
        to = form.get("To", "")
        sender = form.get("From", "")
        service = form.get("MessagingServiceSid")
        body = form.get("Body")
        problem = (21604 if not to else 21603 if not sender and not service else 21602 if not body
                   else 21211 if to in self.invalid_numbers or not to.startswith("+")
                   else 21610 if to in self.stopped_numbers else None)
        if problem is not None:
            entry["status"] = 400
            return handler._error(problem)
        sid = new_sid("SM")
        now = datetime.now(timezone.utc)
        record = {"sid": sid, "to": to, "from": sender or None, "messaging_service_sid": service, "body": body,
                  "status_callback": form.get("StatusCallback"), "form": form, "headers": entry["headers"],
                  "account_sid": parts[2], "received_at": now}
        with self.lock:
            self.messages.append(record)
        entry["status"] = 201
        handler._reply(201, self._resource(record, now))

    def _resource(self, m: dict, now: datetime) -> dict:
        """The message as Twilio answers a create: what MessageInstance reads."""
        uri = f"/{API}/Accounts/{self.account_sid}/Messages/{m['sid']}"
        body = m["body"]
        gsm = all(ord(c) < 128 for c in body)
        per = 153 if gsm else 67
        segments = 1 if len(body) <= (160 if gsm else 70) else -(-len(body) // per)
        return {
            "account_sid": self.account_sid, "api_version": API, "body": body,
            "date_created": format_datetime(now, usegmt=False), "date_sent": None,
            "date_updated": format_datetime(now, usegmt=False), "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": m["from"],
            "messaging_service_sid": m["messaging_service_sid"], "num_media": "0",
            "num_segments": str(segments), "price": None, "price_unit": "USD", "sid": m["sid"],
            "status": "queued" if m["from"] else "accepted", "to": m["to"], "uri": uri + ".json",
            "subresource_uris": {"media": uri + "/Media.json", "feedback": uri + "/Feedback.json"},
        }

    # Posting to the app the way Twilio does -------------------------------------------------

    def inbound(self, target, body: str, from_number: str, to_number: str | None = None,
                url: str = "http://localhost/texts/inbound", sid: str | None = None, **extra):
        """Someone texts our number: Twilio posts the message to the app's inbound webhook, signed."""
        params = inbound_params(self.account_sid, from_number, to_number or self.from_number, body, sid, **extra)
        return signed_post(target, url, params, self.auth_token)

    def status(self, target, sid: str, status: str, error_code: int | str | None = None,
               url: str | None = None, **extra):
        """Twilio's later word on a text it accepted, posted to its StatusCallback (or `url`)."""
        sent = next((m for m in self.messages if m["sid"] == sid), None)
        url = url or (sent and sent["status_callback"]) or "http://localhost/texts/status"
        params = status_params(self.account_sid, sid, status, error_code,
                               to_number=sent["to"] if sent else None,
                               from_number=(sent["from"] if sent else None) or self.from_number, **extra)
        return signed_post(target, url, params, self.auth_token)


# Webhooks: what Twilio posts to the app ----------------------------------------------------

def inbound_params(account_sid: str, from_number: str, to_number: str, body: str, sid: str | None = None,
                   **extra) -> dict:
    """The form fields of Twilio's incoming-message webhook."""
    sid = sid or new_sid("SM")
    params = {
        "ToCountry": "US", "ToState": "MN", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "", "FromZip": "",
        "SmsSid": sid, "FromState": "MN", "SmsStatus": "received", "FromCity": "", "Body": body,
        "FromCountry": "US", "To": to_number, "ToZip": "", "NumSegments": "1", "MessageSid": sid,
        "AccountSid": account_sid, "From": from_number, "ApiVersion": API,
    }
    params.update({key: str(value) for key, value in extra.items()})
    return params


def status_params(account_sid: str, sid: str, status: str, error_code: int | str | None = None,
                  to_number: str | None = None, from_number: str | None = None, **extra) -> dict:
    """The form fields of Twilio's status callback for a message it accepted."""
    params = {"SmsSid": sid, "SmsStatus": status, "MessageStatus": status, "MessageSid": sid,
              "AccountSid": account_sid, "ApiVersion": API}
    if to_number:
        params["To"] = to_number
    if from_number:
        params["From"] = from_number
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    params.update({key: str(value) for key, value in extra.items()})
    return params


def signature(auth_token: str, url: str, params: dict) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(auth_token).compute_signature(url, params)


def twilio_headers(auth_token: str | None, url: str, params: dict) -> dict:
    """The headers Twilio's webhook requests carry; no signature when `auth_token` is None."""
    headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": secrets.token_hex(16),
               "X-Home-Region": "us1"}
    if auth_token is not None:
        headers["X-Twilio-Signature"] = signature(auth_token, url, params)
    return headers


def signed_post(target, url: str, params: dict, auth_token: str | None, headers: dict | None = None):
    """POST `params` form-encoded to `url` as Twilio does, signed with `auth_token` (None: unsigned).

    `target` is a Flask test client (the path and host of `url` are used with it), or None to
    send a real HTTP request with `requests` to a running server. Returns the response."""
    all_headers = twilio_headers(auth_token, url, params)
    all_headers.update(headers or {})
    if target is None:
        import requests

        return requests.post(url, data=params, headers=all_headers, timeout=30, allow_redirects=False)
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return target.post(path, data=params, headers=all_headers, base_url=f"{parts.scheme}://{parts.netloc}")
