"""The systemd units, the environment file and the flask wrapper in deploy/ (docs/deploy.md).

- systemd: `systemd-analyze verify` on copies of the units whose paths and user are rewritten to
  ones that exist here (the binaries are the checkout's .venv), which must print nothing; a copy
  with a misspelt key proves the check can fail; `systemd-analyze security --offline` keeps the
  exposure of every service "OK".
- deploy/env.example: parsed by sh as the wrapper and systemd read it, every variable in it
  documented in docs/deploy.md; the units read /etc/mutual-aid/env.
- deploy/mutual-aid-flask: run with a stand-in flask.
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


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: dict, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def rewritten_units(tmp: Path, *, user: bool = True) -> Path:
    """Copies of the units in tmp/units whose paths (and, with user=True, user and group) exist
    here: the checkout is tmp/opt with the repository's .venv and deploy/."""
    opt = tmp / "opt"
    (opt / "instance").mkdir(parents=True)
    (opt / ".venv").symlink_to(REPO / ".venv")
    (opt / "deploy").symlink_to(DEPLOY)
    (tmp / "backups").mkdir()
    shutil.copy(DEPLOY / "env.example", tmp / "env")
    me = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    units = tmp / "units"
    units.mkdir()
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        text = substitute(text, HOME, str(opt))
        if name.endswith(".service"):
            text = substitute(text, f"EnvironmentFile={ENV_FILE}", f"EnvironmentFile={tmp / 'env'}")
            if user:
                text = substitute(text, "User=mutual-aid", f"User={me}")
                text = substitute(text, "Group=mutual-aid", f"Group={group}")
        text = text.replace("/var/backups/mutual-aid", str(tmp / "backups"))
        (units / name).write_text(text)
    return units


def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    tool = need("systemd-analyze")
    version = run([tool, "--version"]).stdout.splitlines()[0]
    units = rewritten_units(tmp_path)
    for binary in ("gunicorn", "flask"):
        assert os.access(tmp_path / "opt" / ".venv" / "bin" / binary, os.X_OK), binary
    # --man=no: the Documentation= links are file:// ones, and man pages may not be installed.
    r = run([tool, "verify", "--man=no", *sorted(units.iterdir())])
    out = (r.stdout + r.stderr).strip()
    # verify exits 0 on a misspelt key or a value it cannot parse, and only says so: any word about
    # our units is a failure.
    ours = [line for line in out.splitlines() if "mutual-aid" in line or str(units) in line]
    assert r.returncode == 0 and not ours, f"{version}\n{out}"


def test_systemd_analyze_verify_catches_a_broken_unit(tmp_path):
    """The check above can fail: a misspelt key and a missing binary are reported. (An unescaped %
    is not, since %Y, %m, %d, %H, %M and %S are all specifiers: the backup line's test checks.)"""
    tool = need("systemd-analyze")
    units = rewritten_units(tmp_path)
    web = units / "mutual-aid-web.service"
    web.write_text(substitute(web.read_text(), "ProtectClock=yes", "ProtectClok=yes"))
    worker = units / "mutual-aid-worker.service"
    worker.write_text(substitute(worker.read_text(), ".venv/bin/flask", ".venv/bin/flask-missing"))
    r = run([tool, "verify", "--man=no", web, worker])
    out = r.stdout + r.stderr
    assert "ProtectClok" in out and "flask-missing" in out and r.returncode != 0, out


def test_systemd_analyze_security_keeps_the_services_hardened(tmp_path):
    tool = need("systemd-analyze")
    units = rewritten_units(tmp_path, user=False)
    for name in SERVICES:
        # --threshold is in tenths: 2.5 and below is what systemd calls "OK".
        r = run([tool, "security", "--offline=yes", "--threshold=25", units / name])
        last = (r.stdout.strip().splitlines() or [r.stderr])[-1]
        assert r.returncode == 0, f"{name}: {last}\n{r.stderr}"


def test_units_run_the_app_as_the_docs_say():
    units = {name: parse_unit(DEPLOY / name) for name in UNITS}
    venv = f"{HOME}/.venv/bin"
    for name in SERVICES:
        unit = units[name]
        service = dict(unit["Service"])
        assert values(unit, "Service", "EnvironmentFile") == [ENV_FILE], name
        assert service["User"] == service["Group"] == "mutual-aid", name
        assert service["WorkingDirectory"] == HOME, name
        for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                           ("PrivateTmp", "yes"), ("ProtectHome", "yes"), ("CapabilityBoundingSet", "")):
            assert service.get(key) == value, f"{name}: {key}"
    exec_start = {name: values(units[name], "Service", "ExecStart") for name in SERVICES}
    assert exec_start["mutual-aid-web.service"] == [f"{venv}/gunicorn -c deploy/gunicorn.conf.py wsgi:app"]
    assert exec_start["mutual-aid-worker.service"] == [f"{venv}/flask --app wsgi worker"]
    assert exec_start["mutual-aid-migrate.service"] == [f"{venv}/flask --app wsgi db upgrade"]
    assert f"{venv}/flask --app wsgi backup create " in exec_start["mutual-aid-backup.service"][0]
    assert (DEPLOY / "gunicorn.conf.py").is_file()

    # Migrations: a oneshot that the web and the worker require and start after.
    migrate = dict(units["mutual-aid-migrate.service"]["Service"])
    assert migrate["Type"] == "oneshot" and migrate["RemainAfterExit"] == "yes"
    for name in ("mutual-aid-web.service", "mutual-aid-worker.service"):
        unit = units[name]
        assert "mutual-aid-migrate.service" in " ".join(values(unit, "Unit", "Requires")), name
        assert "mutual-aid-migrate.service" in " ".join(values(unit, "Unit", "After")), name
        assert dict(unit["Service"])["Restart"] == "on-failure", name
        assert values(unit, "Install", "WantedBy") == ["multi-user.target"], name
        assert f"{HOME}/instance" in " ".join(values(unit, "Service", "ReadWritePaths")), name

    # The metrics folder: the web unit creates /run/mutual-aid and empties the folder the env file
    # names before gunicorn starts; the worker writes there and starts after the web.
    env = env_values()
    metrics = env["PROMETHEUS_MULTIPROC_DIR"]
    web = units["mutual-aid-web.service"]
    assert values(web, "Service", "RuntimeDirectory") == ["mutual-aid"]
    assert metrics.startswith("/run/mutual-aid/")
    pre = values(web, "Service", "ExecStartPre")
    assert f"/bin/mkdir -p {metrics}" in pre
    assert f"/usr/bin/find {metrics} -mindepth 1 -delete" in pre
    worker = units["mutual-aid-worker.service"]
    assert "mutual-aid-web.service" in " ".join(values(worker, "Unit", "Requires"))
    assert "mutual-aid-web.service" in " ".join(values(worker, "Unit", "After"))
    assert "/run/mutual-aid" in " ".join(values(worker, "Service", "ReadWritePaths"))
    for name in ("mutual-aid-migrate.service", "mutual-aid-backup.service"):
        assert values(units[name], "Service", "UnsetEnvironment") == ["PROMETHEUS_MULTIPROC_DIR"]

    # Nightly backups with retention, only after a backup that worked.
    backup = units["mutual-aid-backup.service"]
    assert "/var/backups/mutual-aid" in " ".join(values(backup, "Service", "ReadWritePaths"))
    assert any("-mtime +13 -delete" in v for v in values(backup, "Service", "ExecStartPost"))
    timer = units["mutual-aid-backup.timer"]
    assert values(timer, "Timer", "OnCalendar") and values(timer, "Timer", "Persistent") == ["yes"]
    assert values(timer, "Install", "WantedBy") == ["timers.target"]


def test_backup_line_makes_a_dated_file_name(tmp_path):
    """The backup unit's shell line, with systemd's escapes ($$, %%) undone, names a dated file."""
    sh = need("sh")
    line = values(parse_unit(DEPLOY / "mutual-aid-backup.service"), "Service", "ExecStart")[0]
    prefix = "/bin/sh -c '"
    assert line.startswith(prefix) and line.endswith("'")
    # A lone % would be a systemd specifier (%Y is the unit's folder, %m the machine ID...).
    assert "%" not in line.replace("%%", ""), line
    script = line[len(prefix):-1].replace("$$", "$").replace("%%", "%")
    assert "$" not in script.replace("$(date", "")  # no variable that systemd would expand
    fake = tmp_path / "opt" / ".venv" / "bin"
    fake.mkdir(parents=True)
    (fake / "flask").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (fake / "flask").chmod(0o755)
    script = substitute(script, HOME, str(tmp_path / "opt"))
    r = run([sh, "-c", script])
    assert r.returncode == 0, r.stderr
    args = r.stdout.splitlines()
    assert args[:4] == ["--app", "wsgi", "backup", "create"]
    assert re.fullmatch(r"/var/backups/mutual-aid/mutual-aid-\d{4}-\d\d-\d\d-\d{6}\.dump", args[4]), args


# --- env.example and the docs ----------------------------------------------------------------------

NAME_LINE = re.compile(r"^#?([A-Z][A-Z0-9_]*)=")


def env_names() -> list[str]:
    return [m.group(1) for line in (DEPLOY / "env.example").read_text().splitlines()
            if (m := NAME_LINE.match(line))]


def env_values(path: Path = DEPLOY / "env.example") -> dict[str, str]:
    """What sh makes of the file (the wrapper sources it; systemd's reading is the same for the
    forms the file allows, checked by test_env_example_lines_mean_the_same_to_systemd_and_sh)."""
    r = run(["sh", "-c", 'set -a; . "$0"; set +a; env -0', path], env={"PATH": os.environ["PATH"]})
    assert r.returncode == 0, r.stderr
    return dict(item.split("=", 1) for item in r.stdout.split("\0") if "=" in item)


def test_env_example_names_every_setting():
    names = env_names()
    assert sorted(set(REQUIRED_VARIABLES) - set(names)) == []
    assert len(names) == len(set(names)), "a variable is named twice"


def test_env_example_lines_mean_the_same_to_systemd_and_sh():
    for number, line in enumerate((DEPLOY / "env.example").read_text().splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        assert m, f"line {number}: {line!r}"
        value = m.group(2)
        # Plain, 'single-quoted', or "double-quoted" without $ ` \: read alike by both.
        assert (re.fullmatch(r"[^\s'\"$`\\#]*", value) or re.fullmatch(r"'[^']*'", value)
                or re.fullmatch(r'"[^"$`\\]*"', value)), f"line {number}: {line!r}"


def test_env_example_values_for_production():
    env = env_values()
    assert env["APP_ENV"] == "production"
    assert env["SECRET_KEY"] == ""  # no usable default: the app refuses to start until it is set
    assert env["DATABASE_URL"] == "postgresql://mutual_aid@/mutual_aid"
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert env["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/1"
    assert env["PROXY_FIX_HOPS"] == "1"
    assert env["OPS_ALLOWED_IPS"] == "127.0.0.1/32,::1/128"
    assert env["PROMETHEUS_MULTIPROC_DIR"] == "/run/mutual-aid/metrics"
    assert env["MAIL_DEFAULT_SENDER"] == "Mutual Aid Exchange <no-reply@aid.example.org>"
    assert env["BASE_URL"] == f"https://{DOMAIN}"
    assert "SENTRY_DSN" not in env  # optional, commented out


def test_docs_name_every_variable_and_file():
    doc = DOC.read_text()
    missing = [name for name in env_names() if name not in doc]
    assert missing == [], f"docs/deploy.md does not mention {missing}"
    files = [p.name for p in DEPLOY.iterdir() if p.is_file() and not p.name.startswith(".")]
    assert [f for f in files if f"deploy/{f}" not in doc] == []
    assert ENV_FILE in doc
    assert [m for m in METRICS if m not in doc] == []
    assert "tests/ops/test_smoke_deploy.py" in doc
    for command in ("flask --app wsgi db upgrade", "user create-admin", "backup create",
                    "backup restore", "systemctl enable --now", "pip install -r requirements.txt",
                    "autovacuum", "/readyz", "/healthz", "/metrics"):
        assert command in doc, command


# --- deploy/mutual-aid-flask -----------------------------------------------------------------------

def wrapper_home(tmp: Path) -> Path:
    home = tmp / "opt"
    bin_ = home / ".venv" / "bin"
    bin_.mkdir(parents=True)
    (bin_ / "flask").write_text(
        "#!/bin/sh\nexec python3 -c 'import json, os, sys; print(json.dumps({\"args\": sys.argv[1:],"
        " \"cwd\": os.getcwd(), \"env\": dict(os.environ)}))' \"$@\"\n")
    (bin_ / "flask").chmod(0o755)
    return home


def test_wrapper_runs_flask_in_the_checkout_with_the_env_file(tmp_path):
    sh = need("sh")
    wrapper = DEPLOY / "mutual-aid-flask"
    assert os.access(wrapper, os.X_OK)
    assert run([sh, "-n", wrapper]).returncode == 0
    home = wrapper_home(tmp_path)
    env_file = tmp_path / "env"
    metrics = tmp_path / "metrics"
    env_file.write_text((DEPLOY / "env.example").read_text()
                        .replace("SECRET_KEY=\n", "SECRET_KEY=abc123\n")
                        .replace("/run/mutual-aid/metrics", str(metrics)))
    me = pwd.getpwuid(os.getuid()).pw_name
    base = {"PATH": os.environ["PATH"], "MAE_HOME": str(home), "MAE_ENV_FILE": str(env_file),
            "MAE_USER": me}

    r = run([wrapper, "user", "create-admin"], env=base)
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout)
    assert seen["args"] == ["--app", "wsgi", "user", "create-admin"]
    assert Path(seen["cwd"]) == home
    assert seen["env"]["SECRET_KEY"] == "abc123"
    assert seen["env"]["MAIL_DEFAULT_SENDER"] == "Mutual Aid Exchange <no-reply@aid.example.org>"
    assert "PROMETHEUS_MULTIPROC_DIR" not in seen["env"]  # the web unit is not running

    metrics.mkdir()
    seen = json.loads(run([wrapper, "db", "upgrade"], env=base).stdout)
    assert seen["env"]["PROMETHEUS_MULTIPROC_DIR"] == str(metrics)

    # The restore drill's scratch database; a DATABASE_URL of the caller's own is not used.
    seen = json.loads(run([wrapper, "db", "current"], env={
        **base, "DATABASE_URL": "postgresql://x@/other",
        "MAE_DATABASE_URL": "postgresql://mutual_aid@/mutual_aid_drill"}).stdout)
    assert seen["env"]["DATABASE_URL"] == "postgresql://mutual_aid@/mutual_aid_drill"
    seen = json.loads(run([wrapper, "db", "current"], env={**base, "DATABASE_URL": "x"}).stdout)
    assert seen["env"]["DATABASE_URL"] == "postgresql://mutual_aid@/mutual_aid"

    r = run([wrapper, "db", "upgrade"], env={**base, "MAE_ENV_FILE": str(tmp_path / "missing")})
    assert r.returncode == 1 and "cannot read" in r.stderr
