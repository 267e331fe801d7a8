"""`make serve PORT=8080` serves on that port; the install shows pip's progress."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not shutil.which("make"), reason="needs make")


def _dry_run(*args):
    # -B: as if nothing were installed yet, so the install commands are listed too; -n: print, run nothing
    return subprocess.run(["make", "-n", "-B", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_serve_takes_a_port():
    assert "PORT=8080 .venv/bin/gunicorn -c deploy/gunicorn.conf.py wsgi:app" in _dry_run("serve", "PORT=8080")
    assert "PORT=5000 .venv/bin/gunicorn" in _dry_run("serve")
    assert "serve --port 8080" in _dry_run("dev", "PORT=8080")


def test_serve_runs_migrations_as_their_own_step_before_the_server():
    steps = _dry_run("serve").splitlines()
    upgrade = next(i for i, line in enumerate(steps) if "db upgrade" in line)
    server = next(i for i, line in enumerate(steps) if "gunicorn" in line and "-c" in line)
    assert upgrade < server


def test_install_shows_progress():
    install = [line for line in _dry_run("install").splitlines() if "pip install" in line and "requirements.txt" in line]
    assert install and all(" -q" not in line for line in install)


def test_serve_starts_a_worker_beside_the_server_and_stops_it_with_the_server():
    steps = _dry_run("serve", "PORT=8080")
    worker = steps.index(".venv/bin/flask --app wsgi worker &")
    assert worker < steps.index("PORT=8080 .venv/bin/gunicorn")
    assert "trap 'kill -TERM $worker" in steps  # Ctrl+C or the server's exit stops the worker too
    assert ".venv/bin/flask --app wsgi worker" in _dry_run("worker")
