"""What the deploy/ checks share: paths, the tools, a recording upstream, HTTP and TLS helpers."""
from __future__ import annotations

import grp
import http.client
import json
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DOC = REPO / "docs" / "deploy.md"
SERVICES = ["mutual-aid-migrate.service", "mutual-aid-web.service", "mutual-aid-worker.service",
            "mutual-aid-backup.service"]
UNITS = SERVICES + ["mutual-aid-backup.timer"]
ENV_FILE = "/etc/mutual-aid/env"
HOME = "/opt/mutual-aid"
DOMAIN = "aid.example.org"
CERTBOT_CERT = f"/etc/letsencrypt/live/{DOMAIN}/fullchain.pem"
CERTBOT_KEY = f"/etc/letsencrypt/live/{DOMAIN}/privkey.pem"

# Every setting the app reads in production (the operations issue); env.example must name each one.
REQUIRED_VARIABLES = [
    "APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI", "BASE_URL",
    "MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_USE_TLS",
    "MAIL_DEFAULT_SENDER", "COMMUNITY_TZ", "DIGEST_HOUR", "PROXY_FIX_HOPS",
    "PROMETHEUS_MULTIPROC_DIR", "OPS_ALLOWED_IPS", "SENTRY_DSN", "LOG_FORMAT", "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
]
METRICS = [
    "mae_http_request_duration_seconds", "mae_outbox_pending", "mae_outbox_oldest_pending_seconds",
    "mae_emails_sent_total", "mae_emails_failed_total", "mae_job_runs_total",
    "mae_job_duration_seconds", "mae_job_last_success_timestamp_seconds", "mae_job_overdue",
    "mae_engine_solve_seconds",
]


def need(tool: str) -> str:
    path = shutil.which(tool) or next(
        (p for p in (f"/usr/sbin/{tool}", f"/usr/bin/{tool}") if os.access(p, os.X_OK)), None)
    if not path:
        pytest.skip(f"{tool} is not installed (Debian: apt-get install {tool}); `make test` installs it")
    return path


def run(cmd, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("timeout", 60)
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"{what} exited with {proc.returncode}:\n{out}\n{err}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def substitute(text: str, old: str, new: str) -> str:
    assert old in text, f"expected {old!r} in the file"
    return text.replace(old, new)


# --- a recording upstream standing in for gunicorn -------------------------------------------------

class Upstream:
    """Answers every request with 200 and a JSON echo; keeps what it received."""

    def __init__(self):
        self.requests: list[dict] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = {"method": self.command, "path": self.path, "body_bytes": len(body),
                        "peer": self.client_address[0],
                        "headers": {k.lower(): v for k, v in self.headers.items()}}
                upstream.requests.append(seen)
                out = json.dumps(seen).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def request(port, path, *, method="GET", body=None, headers=None, source="127.0.0.1", tls=None,
            host=DOMAIN):
    """One request to 127.0.0.1:port from the loopback address `source`; TLS with SNI `host` when
    `tls` is an SSL context. Returns (status, headers, body)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    if tls is not None:
        sock = tls.wrap_socket(sock, server_hostname=host)
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.sock = sock
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


# --- nginx -----------------------------------------------------------------------------------------

def self_signed(tmp: Path) -> tuple[Path, Path]:
    openssl = need("openssl")
    cert, key = tmp / "fullchain.pem", tmp / "privkey.pem"
    r = run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "2", "-subj", f"/CN={DOMAIN}", "-addext",
             f"subjectAltName=DNS:{DOMAIN}", "-keyout", key, "-out", cert])
    assert r.returncode == 0, r.stderr
    return cert, key


def nginx_setup(tmp: Path, site: str, *, daemon: bool) -> Path:
    """A main nginx.conf in tmp that includes `site`; every path nginx writes is in tmp."""
    for d in ("logs", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / d).mkdir(exist_ok=True)
    (tmp / "mutual-aid.conf").write_text(site)
    main = tmp / "nginx.conf"
    main.write_text(f"""
{"" if daemon else "daemon off;"}
{"" if daemon else "master_process off;"}
worker_processes 1;
error_log {tmp}/logs/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp}/logs/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/mutual-aid.conf;
}}
""")
    return main


def nginx_site(tmp: Path) -> str:
    cert, key = self_signed(tmp)
    site = (DEPLOY / "nginx.conf").read_text()
    site = substitute(site, CERTBOT_CERT, str(cert))
    return substitute(site, CERTBOT_KEY, str(key))


def nginx_complaints(out: str) -> list[str]:
    """nginx's warnings and errors, but for the one that nginx 1.25 and later give for
    `listen ... http2` (Debian 12's nginx 1.22 knows no `http2 on;`; deploy/nginx.conf says so)."""
    return [line for line in out.splitlines()
            if re.search(r"\[(warn|emerg|alert|crit|error)\]", line)
            and 'the "listen ... http2" directive is deprecated' not in line]
