"""Serving a crowd: behind a proxy, and several server processes sharing one database and Redis."""
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Match, Post
from tests.conftest import FreshContextClient, csrf_token, free_port, make_app, postgres_only, redis_up, sender_env

ROOT = Path(__file__).resolve().parent.parent.parent
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _login_attempts(app, forwarded_for: str, n: int) -> list[int]:
    app.test_client_class = FreshContextClient
    client = app.test_client()
    codes = []
    for _ in range(n):
        token = csrf_token(client, "/auth/login")
        codes.append(client.post("/auth/login", data={"csrf_token": token, "email": "x@example.org", "password": "nope"},
                                 headers={"X-Forwarded-For": forwarded_for}).status_code)
    return codes


def test_behind_one_proxy_the_rate_limit_counts_each_client_not_the_proxy(app):
    proxied = make_app(PROXY_FIX_HOPS=1, LOGIN_RATE_LIMIT="2 per minute", RATELIMIT_STORAGE_URI="memory://")
    with proxied.app_context():
        assert _login_attempts(proxied, "203.0.113.7", 3) == [200, 200, 429]
        assert _login_attempts(proxied, "203.0.113.8", 1) == [200]  # another person behind the same proxy


def test_without_a_proxy_setting_a_forged_forwarded_header_changes_nothing(app):
    direct = make_app(LOGIN_RATE_LIMIT="2 per minute", RATELIMIT_STORAGE_URI="memory://")
    with direct.app_context():
        assert _login_attempts(direct, "203.0.113.7", 2) == [200, 200]
        assert _login_attempts(direct, "203.0.113.99", 1) == [429]  # still the same client to us


class Server:
    """A real gunicorn process serving the app on a free local port."""

    def __init__(self, env: dict):
        self.port = free_port()
        env = dict(env, PORT=str(self.port), WEB_CONCURRENCY="1", GUNICORN_THREADS="2")
        self.proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read().decode()[-2000:])
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)


def _client(server):
    import http.client
    from http.cookies import SimpleCookie

    class C:
        def __init__(self):
            self.cookies = {}

        def req(self, method, path, form=None):
            from urllib.parse import urlencode

            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
            body = None
            if form is not None:
                body, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            for value in response.headers.get_all("Set-Cookie") or []:
                for key, morsel in SimpleCookie(value).items():
                    self.cookies[key] = morsel.value
            conn.close()
            return response.status, text

        def form_post(self, page, path, **fields):
            _, html = self.req("GET", page)
            return self.req("POST", path, dict(fields, csrf_token=CSRF.search(html).group(1)))

    return C()


@postgres_only
@pytest.mark.skipif(not redis_up(), reason="needs Redis at 127.0.0.1:6379")
def test_two_server_processes_share_one_login_limit(app):
    env = sender_env(app, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15", LOGIN_RATE_LIMIT="4 per minute",
                     RATELIMIT_KEY_PREFIX=f"mae-test-{secrets.token_hex(4)}", APP_ENV="development")
    a, b = Server(env), Server(env)
    try:
        # The limit is one budget across both processes: four tries in all, then 429 from either.
        codes = [_client(s).form_post("/auth/login", "/auth/login", email="nobody@example.org", password="wrong")[0]
                 for s in (a, b, a, b, a, b)]
        assert codes == [200, 200, 200, 200, 429, 429], codes
    finally:
        a.stop()
        b.stop()


@postgres_only
@pytest.mark.skipif(not redis_up(), reason="needs Redis at 127.0.0.1:6379")
def test_a_need_posted_through_one_process_is_proposed_for_an_offer_posted_through_the_other(app, make_user, tmp_path):
    make_user(email="asker@example.org")
    make_user(email="helper@example.org")
    env = sender_env(app, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
                     RATELIMIT_KEY_PREFIX=f"mae-test-{secrets.token_hex(4)}", APP_ENV="development",
                     QUEUE_URL=f"sqlite:///{tmp_path}/queue.sqlite")
    a, b = Server(env), Server(env)
    # The worker beside them, as deployed: the servers hand it each post; it makes the proposals.
    worker = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "worker"], cwd=ROOT,
                              env=dict(env, WORKER_JOBS="outbox"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        helper, asker = _client(b), _client(a)
        assert helper.form_post("/auth/login", "/auth/login", email="helper@example.org",
                                password="correct horse battery")[0] == 302
        assert asker.form_post("/auth/login", "/auth/login", email="asker@example.org",
                               password="correct horse battery")[0] == 302
        status, _ = helper.form_post("/posts/new?kind=offer", "/posts/new?kind=offer", category="food",
                                     title="Soup for two", zip_code="54016", quantity="2", radius_miles="10")
        assert status == 302
        status, _ = asker.form_post("/posts/new?kind=need", "/posts/new?kind=need", category="food",
                                    title="Hot soup this week", zip_code="54016", quantity="1", urgency="1",
                                    duration_min="60", flexible="y")
        assert status == 302
        # Neither server runs the engine: the worker does, from the queue both servers write to.
        need = db.session.scalar(select(Post).where(Post.kind == "need"))
        offer = db.session.scalar(select(Post).where(Post.kind == "offer"))
        deadline = time.monotonic() + 20
        found = None
        while found is None and time.monotonic() < deadline:
            db.session.rollback()
            found = db.session.scalar(select(Match).where(Match.need_id == need.id, Match.offer_id == offer.id))
            time.sleep(0.2)
        assert found is not None
    finally:
        a.stop()
        b.stop()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)


def test_in_production_a_forged_host_is_refused_so_no_email_link_points_elsewhere(app, make_user):
    from app.models import OutboxEmail

    make_user(email="victim@example.org")
    site = make_app(APP_ENV="production", SECRET_KEY="k" * 32, BASE_URL="https://aid.example.org",
                    SESSION_COOKIE_SECURE=False, WTF_CSRF_ENABLED=False)
    client = site.test_client()
    forged = client.post("/auth/reset", data={"email": "victim@example.org"}, headers={"Host": "evil.example"})
    assert forged.status_code == 400
    with site.app_context():
        assert db.session.scalar(select(OutboxEmail.id)) is None  # no reset link was written at all
    assert client.get("/healthz", headers={"Host": "127.0.0.1:5000"}).status_code == 200  # the machine's own checks
    real = client.post("/auth/reset", data={"email": "victim@example.org"}, headers={"Host": "aid.example.org"})
    assert real.status_code in (200, 302)
    with site.app_context():
        body = db.session.scalar(select(OutboxEmail.body_text))
    assert "https://aid.example.org/auth/reset/" in body or "http://aid.example.org/auth/reset/" in body
