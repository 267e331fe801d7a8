"""Done when: a small script using only the API and a token (docs/api_example.py, standard library
only) posts a need to a real running server and reads its match once a coordinator approves it."""
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Match, Post
from tests.conftest import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "api_example.py"


@pytest.fixture
def server(app):
    port = free_port()
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()
    thread.join(timeout=10)


def _wait_for(what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        found = what()
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_the_example_script_posts_a_need_and_reads_its_match(server, api, make_user, make_post, make_token):
    asker, helper = make_user(name="Ada Asker"), make_user(name="Hal Helper", email="hal@example.org")
    coord = make_user("coordinator")
    make_post(helper, kind="offer", category="food", title="Cooked meals on Sundays", quantity=4)
    env = {"MAE_TOKEN": make_token(asker, "write"), "PATH": "/usr/bin:/bin"}
    script = subprocess.Popen([sys.executable, str(SCRIPT), server, "--title", "Meals for two weeks", "--zip", "54016",
                               "--wait", "60"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        need_id = _wait_for(lambda: db.session.scalar(select(Post.id).where(Post.owner_id == asker.id)))
        match_id = _wait_for(lambda: db.session.scalar(select(Match.id).where(Match.need_id == need_id)))
        approved = api(make_token(coord, "write")).post(f"/api/v1/coord/matches/{match_id}/approve")
        assert approved.status_code == 200
        out, err = script.communicate(timeout=60)
    finally:
        script.kill()
    assert script.returncode == 0, err
    first, _, rest = out.partition("\n")
    assert first.startswith(f"posted request {need_id}:")
    match = json.loads(rest)
    assert match["id"] == match_id and match["status"] == "approved" and match["need"]["id"] == need_id
    assert [(c["whose"], c["first_name"], c["reach"]) for c in match["contacts"]] == [("offer", "Hal", "hal@example.org")]
