"""deploy/nginx.conf and deploy/Caddyfile, checked by the programs that read them (docs/deploy.md).

- nginx: `nginx -t` on a main configuration made here that includes deploy/nginx.conf, with a
  self-signed certificate (openssl) in place of certbot's, then nginx really run on free loopback
  ports in front of a small recording upstream: redirect, certbot's challenge folder, TLS, the
  X-Forwarded-* headers, the body limit and the localhost-only /metrics and /readyz.
- Caddy: `caddy validate` on deploy/Caddyfile as it is (the default site address, automatic TLS;
  no network needed), its adapted JSON, then Caddy run over plain HTTP on a loopback port
  (SITE_ADDRESS) in front of the same upstream.

A test is skipped only when the program it needs is not installed (`make test` installs Debian's
nginx and caddy).
"""
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

from tests.ops.deploy_tools import *  # noqa: F401,F403 - the shared paths and helpers


def test_nginx_t_accepts_the_server_block(tmp_path):
    nginx = need("nginx")
    version = run([nginx, "-v"]).stderr.strip()
    main = nginx_setup(tmp_path, nginx_site(tmp_path), daemon=True)
    r = run([nginx, "-t", "-p", tmp_path, "-c", main, "-e", tmp_path / "logs" / "error.log"])
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"{version}\n{out}"
    assert "syntax is ok" in out and "test is successful" in out, out
    assert not nginx_complaints(out), out


def test_nginx_t_accepts_the_server_block_in_debians_main_config(tmp_path):
    """As installed: Debian's own /etc/nginx/nginx.conf including our file where it includes
    sites-enabled/ (its pid and log paths moved to tmp, the default site left out)."""
    nginx = need("nginx")
    debian = Path("/etc/nginx/nginx.conf")
    assert debian.is_file(), "nginx is installed without Debian's /etc/nginx/nginx.conf"
    (tmp_path / "logs").mkdir()
    (tmp_path / "mutual-aid.conf").write_text(nginx_site(tmp_path))
    main = debian.read_text()
    main = substitute(main, "include /etc/nginx/sites-enabled/*;", f"include {tmp_path}/mutual-aid.conf;")
    main = re.sub(r"(?m)^pid .*;$", f"pid {tmp_path}/nginx.pid;", main)
    main = main.replace("/var/log/nginx/", f"{tmp_path}/logs/")
    (tmp_path / "nginx.conf").write_text(main)
    r = run([nginx, "-t", "-p", tmp_path, "-c", tmp_path / "nginx.conf", "-e", tmp_path / "logs" / "e.log"])
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "test is successful" in out, out
    assert not nginx_complaints(out), out


def test_nginx_t_rejects_a_broken_block(tmp_path):
    """The check above can fail: the same file with a misspelt directive does."""
    nginx = need("nginx")
    site = substitute(nginx_site(tmp_path), "client_max_body_size", "client_max_bodysize")
    main = nginx_setup(tmp_path, site, daemon=True)
    r = run([nginx, "-t", "-p", tmp_path, "-c", main, "-e", tmp_path / "logs" / "error.log"])
    assert r.returncode != 0 and "client_max_bodysize" in r.stderr, r.stderr


def test_nginx_serves_the_site_as_described(tmp_path):
    nginx = need("nginx")
    http_port, https_port = free_port(), free_port()
    webroot = tmp_path / "www"
    (webroot / ".well-known" / "acme-challenge").mkdir(parents=True)
    (webroot / ".well-known" / "acme-challenge" / "token123").write_text("challenge-answer")
    with Upstream() as up:
        site = nginx_site(tmp_path)
        site = substitute(site, "server 127.0.0.1:5000;", f"server 127.0.0.1:{up.port};")
        site = substitute(site, "listen [::]:80;", "")
        site = substitute(site, "listen [::]:443 ssl http2;", "")
        site = substitute(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
        site = substitute(site, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
        site = substitute(site, "root /var/www/html;", f"root {webroot};")
        main = nginx_setup(tmp_path, site, daemon=False)
        proc = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(main), "-e",
                                 str(tmp_path / "logs" / "error.log")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_port(https_port, proc, "nginx")
            tls = ssl.create_default_context(cafile=str(tmp_path / "fullchain.pem"))

            # Port 80: a permanent redirect to HTTPS, keeping path and query; certbot's folder served.
            status, headers, _ = request(http_port, "/posts?town=Hudson")
            assert status == 301 and headers["location"] == f"https://{DOMAIN}/posts?town=Hudson"
            status, _, body = request(http_port, "/.well-known/acme-challenge/token123")
            assert (status, body) == (200, b"challenge-answer")

            # HTTPS: proxied with the headers the app trusts with PROXY_FIX_HOPS=1. A client's own
            # X-Forwarded-For never reaches the app.
            status, headers, body = request(https_port, "/posts?town=Hudson", tls=tls,
                                            headers={"X-Forwarded-For": "203.0.113.9"})
            assert status == 200, body
            assert "strict-transport-security" not in headers  # the app sends its own
            seen = json.loads(body)
            assert seen["path"] == "/posts?town=Hudson"
            assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
            assert seen["headers"]["x-forwarded-proto"] == "https"
            assert seen["headers"]["x-forwarded-host"] == DOMAIN
            assert seen["headers"]["host"] == DOMAIN

            # Bodies: up to 1 MiB reach the app; more gets 413 from nginx.
            status, _, body = request(https_port, "/posts/new", method="POST", tls=tls,
                                      body=b"x" * 500_000)
            assert status == 200 and json.loads(body)["body_bytes"] == 500_000
            before = len(up.requests)
            status, _, _ = request(https_port, "/posts/new", method="POST", tls=tls,
                                   body=b"x" * 1_100_000)
            assert status == 413 and len(up.requests) == before

            # /metrics and /readyz: from this machine only; /healthz from anywhere.
            for path in ("/metrics", "/readyz"):
                assert request(https_port, path, tls=tls)[0] == 200
                before = len(up.requests)
                assert request(https_port, path, tls=tls, source="127.0.0.2")[0] == 403
                assert len(up.requests) == before, f"{path} from outside reached the app"
            assert request(https_port, "/healthz", tls=tls, source="127.0.0.2")[0] == 200
            # Only exact paths are limited; /metrics-like pages of the app are not hidden.
            assert request(https_port, "/readyz/", tls=tls, source="127.0.0.2")[0] == 200
        finally:
            stop(proc)


# --- Caddy -----------------------------------------------------------------------------------------

def caddy_env(tmp: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "SITE_ADDRESS"}
    env.update(HOME=str(tmp / "home"), XDG_DATA_HOME=str(tmp / "data"),
               XDG_CONFIG_HOME=str(tmp / "config"), **extra)
    return env


def test_caddy_validate_accepts_the_caddyfile(tmp_path):
    caddy = need("caddy")
    version = run([caddy, "version"]).stdout.strip()
    r = run([caddy, "validate", "--config", DEPLOY / "Caddyfile", "--adapter", "caddyfile"],
            env=caddy_env(tmp_path))
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "Valid configuration" in out, f"caddy {version}\n{out}"
    # Caddy warns (without failing) about an unformatted file or a misplaced directive.
    warnings = [line for line in out.splitlines() if '"level":"warn"' in line]
    assert not warnings, warnings


def test_caddy_validate_rejects_a_broken_caddyfile(tmp_path):
    caddy = need("caddy")
    broken = tmp_path / "Caddyfile"
    broken.write_text(substitute((DEPLOY / "Caddyfile").read_text(), "max_size 1MiB", "max_sise 1MiB"))
    r = run([caddy, "validate", "--config", broken, "--adapter", "caddyfile"], env=caddy_env(tmp_path))
    assert r.returncode != 0 and "max_sise" in r.stdout + r.stderr


def caddy_adapt(caddy, tmp, **env) -> dict:
    r = run([caddy, "adapt", "--config", DEPLOY / "Caddyfile", "--adapter", "caddyfile"],
            env=caddy_env(tmp, **env))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_caddy_default_site_has_automatic_tls(tmp_path):
    caddy = need("caddy")
    config = caddy_adapt(caddy, tmp_path)
    (server,) = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]
    assert "automatic_https" not in server  # not switched off
    assert server["routes"][0]["match"] == [{"host": [DOMAIN]}]
    text = json.dumps(config)
    assert '"dial": "127.0.0.1:5000"' in text
    assert '"max_size": 1048576' in text


def test_caddy_serves_the_site_as_described(tmp_path):
    caddy = need("caddy")
    port = free_port()
    with Upstream() as up:
        config = caddy_adapt(caddy, tmp_path, SITE_ADDRESS=f"http://127.0.0.1:{port}")
        config["admin"] = {"disabled": True}
        text = substitute(json.dumps(config), '"dial": "127.0.0.1:5000"', f'"dial": "127.0.0.1:{up.port}"')
        (tmp_path / "caddy.json").write_text(text)
        proc = subprocess.Popen([caddy, "run", "--config", str(tmp_path / "caddy.json")],
                                env=caddy_env(tmp_path), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            wait_for_port(port, proc, "caddy")
            host = f"127.0.0.1:{port}"
            status, _, body = request(port, "/posts", host=host,
                                      headers={"X-Forwarded-For": "203.0.113.9"})
            assert status == 200, body
            seen = json.loads(body)
            assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
            assert seen["headers"]["x-forwarded-proto"] == "http"  # https in production
            assert seen["headers"]["x-forwarded-host"] == host
            assert seen["headers"]["host"] == host

            status, _, body = request(port, "/posts/new", method="POST", host=host, body=b"x" * 500_000)
            assert status == 200 and json.loads(body)["body_bytes"] == 500_000
            status, _, _ = request(port, "/posts/new", method="POST", host=host, body=b"x" * 1_100_000)
            assert status == 413
            assert all(r["body_bytes"] < 1_048_577 for r in up.requests)

            for path in ("/metrics", "/readyz"):
                assert request(port, path, host=host)[0] == 200
                before = len(up.requests)
                assert request(port, path, host=host, source="127.0.0.2")[0] == 403
                assert len(up.requests) == before, f"{path} from outside reached the app"
            assert request(port, "/healthz", host=host, source="127.0.0.2")[0] == 200
        finally:
            stop(proc)


# --- systemd ---------------------------------------------------------------------------------------
