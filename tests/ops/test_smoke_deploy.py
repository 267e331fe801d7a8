"""The deployment guide's commands on this machine (docs/deploy.md), without systemd and TLS:
migrations, the first admin, gunicorn with two workers and the job worker against this run's
database and Redis, then a member's journey over HTTP. Every email arrives in a real SMTP sink;
the digest goes out at its hour through the test clock (APP_ENV=testing only). Afterwards the
processes' logs are searched for the members' emails, names, phones, addresses and post texts."""
import html
import json
import re
import secrets
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Match
from app.timeutil import local_to_utc, local_today, real_utcnow
from tests.conftest import free_port, redis_up, sender_env
from tests.ops import procs

ROOT = Path(__file__).resolve().parent.parent.parent
FLASK = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi"]

pytestmark = pytest.mark.skipif(not redis_up(), reason="needs Redis at 127.0.0.1:6379")


class Browser:
    """Cookies, redirects not followed, and the hidden fields of the form that posts to a path."""

    def __init__(self, base: str):
        self.base, self.jar = base, CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, method: str, path: str, form: dict | None = None):
        data = urlencode(form, doseq=True).encode() if form is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read().decode()

    def submit(self, page: str, action: str | None = None, **fields):
        """Fill the form on `page` that posts to `action` (None: the page itself) and send it."""
        status, _, text = self.request("GET", page)
        assert status == 200, (page, status)
        forms = []
        for attrs, inner in re.findall(r'<form([^>]*)>(.*?)</form>', text, re.S):
            if 'method="post"' not in attrs:
                continue
            act = re.search(r'action="([^"]*)"', attrs)
            forms.append((html.unescape(act.group(1)).split("?")[0] if act else None, inner))
        body = next(inner for act, inner in forms if act == (action.split("?")[0] if action else None))
        hidden = {}
        for tag in re.findall(r"<input[^>]*>", body):
            if 'type="hidden"' in tag:
                name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
                hidden[name.group(1)] = html.unescape(value.group(1)) if value else ""
        return self.request("POST", action or page, {**hidden, **fields})


def _mail_to(smtp, address: str, subject_part: str):
    for m in smtp.messages:
        if m["rcpt"] == [address] and subject_part in m["msg"]["Subject"]:
            return m["msg"]
    return None


def _arrives(smtp, address: str, subject_part: str, within: float = 10.0):
    started = time.monotonic()
    msg = procs.wait_for(lambda: _mail_to(smtp, address, subject_part), within, 0.05,
                         f"'{subject_part}' to {address}")
    return msg, time.monotonic() - started


def _clock_to(path: Path, local_hour: int, minute: int) -> None:
    """Move both processes' clock to the next local HH:MM after the real now."""
    now = real_utcnow()
    at = datetime.min.time().replace(hour=local_hour, minute=minute)
    target = local_to_utc(local_today() + timedelta(days=1), at)
    path.write_text(str((target - now).total_seconds()))


def test_the_guide_deploys_a_site_that_mails_on_time_reports_health_and_logs_no_personal_data(
        app, smtp, make_user, tmp_path):
    port = free_port()
    clock = tmp_path / "clock"
    _clock_to(clock, 5, 0)  # tomorrow 05:00 local: before the digest hour
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    redis_db = 14
    subprocess.run(["redis-cli", "-n", str(redis_db), "FLUSHDB"], check=False, capture_output=True)
    env = sender_env(app, APP_ENV="testing", TEST_CLOCK_FILE=clock, BASE_URL=f"http://127.0.0.1:{port}",
                     SECRET_KEY=secrets.token_hex(16), LOG_FORMAT="json", MAIL_DELIVERY="worker",
                     QUEUE_URL=f"redis://127.0.0.1:6379/{redis_db}", RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
                     RATELIMIT_KEY_PREFIX=f"mae-smoke-{secrets.token_hex(4)}", WEB_CONCURRENCY=2,
                     GUNICORN_THREADS=2, PROMETHEUS_MULTIPROC_DIR=metrics_dir, OPS_ALLOWED_IPS="127.0.0.1/32",
                     DIGEST_HOUR=7, WORKER_PERIODIC_SECONDS=1)
    # The guide: migrations as their own step, then the first admin (asked for a password).
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    admin_pw = "a long admin passphrase"
    made = subprocess.run([*FLASK, "user", "create-admin", "--email", "admin@residence.example", "--name", "Ada Admin"],
                          cwd=ROOT, env=env, input=f"{admin_pw}\n{admin_pw}\n", capture_output=True, text=True,
                          timeout=120)
    assert made.returncode == 0, made.stderr
    resident = make_user(role="resident", name="Rosa Quintero", email="rosa.q@example.org", zip_code="54016")
    resident.phone = "715-555-0142"
    db.session.commit()

    web = procs.server(env, tmp_path / "web.log", port)
    work = procs.worker(env, tmp_path / "worker.log")
    try:
        base = f"http://127.0.0.1:{port}"
        # A neighbor signs up; the confirmation email arrives within seconds.
        neighbor = Browser(base)
        status, _, _ = neighbor.submit("/auth/signup", name="Nadia Whitcombe",
                                       email="nadia.w@example.org", zip_code="54016",
                                       password="neighbor passphrase", confirm="neighbor passphrase")
        assert status == 200
        msg, waited = _arrives(smtp, "nadia.w@example.org", "onfirm")
        link = re.search(r"https?://\S+/auth/confirm/\S+", msg.get_body(("plain",)).get_content()).group(0)
        path = link.split(str(port), 1)[1]
        assert neighbor.submit(path)[0] == 302
        assert neighbor.submit("/auth/login", email="nadia.w@example.org",
                               password="neighbor passphrase")[0] == 302
        assert neighbor.submit("/account/", "/account/digest", **{"dg-frequency": "daily", "dg-follow_offers": "y",
                                                                   "dg-radius_miles": "10"})[0] == 302
        status, _, _ = neighbor.submit("/posts/new?kind=offer", category="food",
                                       title="Soup and bread from Nadia's kitchen", zip_code="54016", quantity="2",
                                       radius_miles="10", flexible="y")
        assert status == 302
        # The resident asks for food, with a private street address.
        asker = Browser(base)
        assert asker.submit("/auth/login", email="rosa.q@example.org",
                            password="correct horse battery")[0] == 302
        status, _, _ = asker.submit("/posts/new?kind=need", category="food",
                                    title="Groceries for Rosa this week", zip_code="54016", quantity="1", urgency="1",
                                    duration_min="60", flexible="y", street_address="417 Laurel Avenue")
        assert status == 302
        match = procs.wait_for(lambda: (db.session.rollback(), db.session.scalar(select(Match)))[1], 30, 0.2,
                               "the engine's proposal")
        # The coordinator (the admin) approves; both people are emailed within 10 seconds.
        coord = Browser(base)
        assert coord.submit("/auth/login", email="admin@residence.example", password=admin_pw)[0] == 302
        assert coord.submit("/coordinate/queue", f"/coordinate/matches/{match.id}/approve")[0] == 302
        for person in ("nadia.w@example.org", "rosa.q@example.org"):
            _msg, waited = _arrives(smtp, person, "atch", within=10)
            assert waited < 10
        # Nothing is due at 05:00; at 07:10 the hourly job sends the neighbor's daily digest.
        time.sleep(2)
        assert _mail_to(smtp, "nadia.w@example.org", "New requests") is None
        _clock_to(clock, 7, 10)
        digest, _ = _arrives(smtp, "nadia.w@example.org", "New requests", within=15)
        assert "Groceries for Rosa" in digest.get_body(("plain",)).get_content()

        # Health as a monitor sees it, and metrics summed over both web processes and the worker.
        assert json.loads(coord.request("GET", "/healthz")[2]) == {"status": "ok"}
        status, headers, body = Browser(base).request("GET", "/readyz")
        ready = json.loads(body)
        assert status == 200 and headers["Cache-Control"] == "no-store"
        assert ready["checks"]["database"] == "ok" and ready["checks"]["migrations"] == "at head"
        assert ready["checks"]["redis"] == "ok" and ready["checks"]["jobs"]["digests"]["last_success"]
        for _ in range(10):
            Browser(base).request("GET", "/healthz")
        page = Browser(base).request("GET", "/metrics")[2]
        counted = re.search(r'^mae_http_request_duration_seconds_count\{endpoint="ops.healthz",method="GET",'
                            r'status="200"\} (\S+)$', page, re.M)
        assert counted and float(counted.group(1)) == 11.0
        assert re.search(r'^mae_job_runs_total\{job="digests",status="succeeded"\} [1-9]', page, re.M)
        # The sender counts an email once its row is committed, a moment after the SMTP server has it:
        # read the counter until the four emails above are in it (or 5 s pass).
        def emails_counted():
            found = re.search(r"^mae_emails_sent_total (\S+)$", Browser(base).request("GET", "/metrics")[2], re.M)
            return found and float(found.group(1)) >= 4

        procs.wait_for(emails_counted, 5, 0.1, "the four emails to be counted in /metrics")
        pids = {p.name.split("_")[-1] for p in metrics_dir.iterdir()}
        assert len(pids) >= 3  # two web workers and the job worker each wrote their own figures
    finally:
        codes = (web.stop(), work.stop())
    assert codes == (0, 0), (web.output()[-3000:], work.output()[-3000:])

    logs = web.output() + work.output()
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(e.get("endpoint") == "coord.approve" and e.get("request_id") for e in lines)
    assert any(e.get("msg") == "job succeeded" and e.get("job") == "digests" for e in lines)
    for private in ("nadia.w@example.org", "rosa.q@example.org", "admin@residence.example", "Nadia", "Whitcombe",
                    "Rosa", "Quintero", "Ada Admin", "715-555-0142", "417 Laurel", "Groceries", "Soup and bread",
                    "neighbor passphrase", admin_pw):
        assert private.lower() not in logs.lower(), private
