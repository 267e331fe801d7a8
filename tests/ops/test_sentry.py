"""With SENTRY_DSN set, an error reaches Sentry, and what reaches it carries no personal data:
no user, no cookies, no local variables, no request body. A local HTTP server plays Sentry and
reads the envelopes the SDK really sends."""
import gzip
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = r'''
import sys, sentry_sdk
from app import create_app
from app.web import public

app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[2], "INSTANCE_PATH": sys.argv[3],
                  "SECRET_KEY": "x" * 32, "SENTRY_DSN": sys.argv[1], "WTF_CSRF_ENABLED": False})

@public
def boom():
    member_email = "priya.secret@example.org"  # a local variable Sentry must not see
    import logging
    logging.getLogger("app.somewhere").warning("looked up priya.breadcrumb@example.org")  # a breadcrumb
    raise RuntimeError("the page broke")

app.add_url_rule("/boom", "boom", boom, methods=["POST"])
with app.app_context():
    from app.extensions import db
    db.create_all()
client = app.test_client()
client.set_cookie("session", "cookie-value-secret")
response = client.post("/boom?q=priya.query", data={"email": "priya.form@example.org", "details": "my private story"})
print(response.status_code, response.headers.get("X-Request-ID"))
sentry_sdk.flush(5)
'''


class _Sentry(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_an_error_reaches_sentry_without_personal_data(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sentry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{server.server_port}/1"
    try:
        run = subprocess.run([sys.executable, "-c", SCRIPT, dsn, str(tmp_path / "db.sqlite"), str(tmp_path)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr[-3000:]
    status, request_id = run.stdout.split()[-2:]
    assert status == "500"
    events = []
    for envelope in _Sentry.received:
        for line in envelope.split(b"\n"):
            if line.startswith(b"{"):
                item = json.loads(line)
                if "exception" in item:
                    events.append(item)
    assert len(events) == 1
    event = events[0]
    assert event["exception"]["values"][-1]["value"] == "the page broke"
    frames = [f for v in event["exception"]["values"] for f in v["stacktrace"]["frames"]]
    assert frames and not any("vars" in f for f in frames)
    raw = b"".join(_Sentry.received).decode(errors="replace")
    for private in ("priya.secret", "priya.form", "priya.query", "priya.breadcrumb", "my private story", "cookie-value-secret"):
        assert private not in raw, private
    assert "user" not in event
    assert event["request"] == {"method": "POST", "url": "/boom"}  # no body, headers, cookies or query
    assert event["tags"]["request_id"] == request_id  # the id the member sees and the log line carries
