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
    assert "serve --port 8080" in _dry_run("serve", "PORT=8080")
    assert "serve --port 5000" in _dry_run("serve")


def test_install_shows_progress():
    install = [line for line in _dry_run("install").splitlines() if "pip install" in line and "requirements.txt" in line]
    assert install and all(" -q" not in line for line in install)
