"""The outbox carries texts with email's guarantees (tests/services/test_outbox.py), through the real
`twilio` library to a local server speaking Twilio's Messages API (tests/textserver.py)."""
import base64
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxText
from app.services import outbox
from app.services.texts import queue_text, send_pending
from app.timeutil import utcnow
from tests.conftest import free_port, sender_env

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def number(i: int) -> str:
    return f"+1651555{i:04d}"


def _queue(n, start=0):
    rows = [queue_text(None, f"Text {i}", to_number=number(i), quiet=False) for i in range(start, start + n)]
    db.session.commit()
    return rows


def _member(make_user, i, **fields):
    user = make_user()
    user.mobile, user.mobile_verified_at = number(i), utcnow()
    for key, value in fields.items():
        setattr(user, key, value)
    db.session.commit()
    return user


def _statuses():
    db.session.expire_all()
    return dict(db.session.execute(select(OutboxText.status, func.count()).group_by(OutboxText.status)).all())


def _rows():
    db.session.expire_all()
    return db.session.scalars(select(OutboxText).order_by(OutboxText.id)).all()


def _due_now():
    db.session.execute(OutboxText.__table__.update().values(next_attempt_at=utcnow()))
    db.session.commit()


def test_each_text_reaches_the_provider_once_exactly_as_queued(app, texts, make_user):
    members = [_member(make_user, i) for i in range(2)]
    queue_text(members[0], "Your ride is confirmed.\nDetails: http://localhost/texts/m/abc", quiet=False)
    queue_text(members[1], "Café at 9 – reply YES", quiet=False)
    queue_text(None, "Text 7", to_number=number(7), quiet=False)
    db.session.commit()

    assert send_pending() == (3, 0)
    assert [(m["to"], m["from"], m["body"]) for m in texts.messages] == [
        (number(0), "+16515550100", "Your ride is confirmed.\nDetails: http://localhost/texts/m/abc"),
        (number(1), "+16515550100", "Café at 9 – reply YES"),
        (number(7), "+16515550100", "Text 7"),
    ]
    for m in texts.messages:
        assert m["account_sid"] == texts.account_sid
        scheme, _, encoded = m["headers"]["Authorization"].partition(" ")
        assert scheme == "Basic"
        assert base64.b64decode(encoded).decode() == f"{texts.account_sid}:{texts.auth_token}"
        assert m["status_callback"] == "http://localhost/texts/status"
        assert m["messaging_service_sid"] is None
    for row, m in zip(_rows(), texts.messages):
        assert (row.status, row.attempts, row.provider_id) == ("sent", 1, m["sid"])
        assert row.provider_id.startswith("SM") and len(row.provider_id) == 34
        assert row.sent_at is not None and row.last_error is None and row.claim_token is None
    assert send_pending() == (0, 0) and len(texts.requests) == 3  # a second run sends nothing


def test_a_messaging_service_sends_instead_of_a_from_number(app, texts):
    app.config.update(TWILIO_MESSAGING_SERVICE_SID="MG" + "a" * 32)
    _queue(1)
    assert send_pending() == (1, 0)
    sent = texts.messages[0]
    assert sent["messaging_service_sid"] == "MG" + "a" * 32 and "From" not in sent["form"]


@pytest.mark.parametrize("status, code", [(500, 20500), (429, 20429)])
def test_refused_text_is_retried_with_growing_backoff_then_kept_failed_with_the_error(app, texts, status, code):
    # No quiet hours: the backoff alone decides when it is tried again, whatever the hour of the run.
    app.config.update(TEXT_MAX_ATTEMPTS=3, TEXT_RETRY_BASE_SECONDS=60, TEXT_QUIET_START=0, TEXT_QUIET_END=0)
    _queue(1)
    texts.refuse(10, status=status)
    before = utcnow()
    assert send_pending() == (0, 1)
    row = _rows()[0]
    assert row.status == "pending" and row.attempts == 1 and row.claim_token is None
    assert f"Twilio {status} error {code}" in row.last_error
    assert timedelta(seconds=59) < row.next_attempt_at - before < timedelta(seconds=70)
    assert send_pending() == (0, 0) and len(texts.requests) == 1  # not due yet: nothing is tried

    _due_now()
    before = utcnow()
    assert send_pending() == (0, 1)
    row = _rows()[0]
    assert row.attempts == 2 and timedelta(seconds=119) < row.next_attempt_at - before < timedelta(seconds=130)

    _due_now()
    assert send_pending() == (0, 1)
    row = _rows()[0]
    assert row.status == "failed" and row.attempts == 3 and f"error {code}" in row.last_error
    texts.refuse(0)
    _due_now()
    assert send_pending() == (0, 0) and texts.messages == []  # given up: never sent later by surprise
    assert len(texts.requests) == 3


def test_an_invalid_or_unsubscribed_number_fails_at_once_and_the_rest_go(app, texts):
    _queue(4)
    texts.invalid_numbers.add(number(1))
    texts.stopped_numbers.add(number(2))
    assert send_pending() == (2, 2)
    assert [m["to"] for m in texts.messages] == [number(0), number(3)]
    rows = _rows()
    assert [r.status for r in rows] == ["sent", "failed", "failed", "sent"]
    assert rows[1].attempts == 1 and "21211" in rows[1].last_error
    assert "The 'To' number is not a valid phone number." in rows[1].last_error
    assert rows[2].attempts == 1 and "21610" in rows[2].last_error
    assert "Attempt to send to unsubscribed recipient" in rows[2].last_error
    _due_now()
    assert send_pending() == (0, 0) and len(texts.requests) == 4  # never tried again


def test_provider_down_keeps_every_text_pending(app, texts):
    _queue(2)
    app.config.update(TWILIO_API_BASE=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert send_pending() == (0, 2)
    assert _statuses() == {"pending": 2}
    assert all(r.attempts == 1 and "ConnectionError" in r.last_error for r in _rows())
    assert texts.requests == []


def test_a_refused_login_keeps_texts_waiting_for_the_fixed_configuration(app, texts):
    _queue(2)
    app.config.update(TWILIO_AUTH_TOKEN="not-the-token")
    assert send_pending() == (0, 2)
    assert _statuses() == {"pending": 2}
    assert all("Twilio 401 error 20003" in r.last_error for r in _rows())
    assert [r["status"] for r in texts.requests] == [401, 401] and texts.messages == []
    app.config.update(TWILIO_AUTH_TOKEN=texts.auth_token)
    _due_now()
    assert send_pending() == (2, 0) and [m["body"] for m in texts.messages] == ["Text 0", "Text 1"]


def _run_sender(app, **env):
    return subprocess.Popen(FLASK + ["mail", "send-pending"], cwd=ROOT, env=sender_env(app, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_senders_at_once_send_each_text_once(app, texts):
    _queue(150)
    senders = [_run_sender(app) for _ in range(2)]
    for proc in senders:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    assert len(texts.messages) == 150
    assert sorted(texts.bodies()) == sorted(f"Text {i}" for i in range(150))
    assert sorted(m["to"] for m in texts.messages) == [number(i) for i in range(150)]
    assert _statuses() == {"sent": 150}
    assert sorted(r.provider_id for r in _rows()) == sorted(m["sid"] for m in texts.messages)


def _settled(texts, n, timeout=10):
    """Wait until the server has answered (or dropped) its n-th request."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(texts.requests) >= n and texts.requests[n - 1]["status"] is not None:
            return texts.requests[n - 1]["status"]
        time.sleep(0.02)
    raise AssertionError(f"request {n} never settled")


def test_sender_killed_mid_batch_then_rerun_sends_every_text_exactly_once(app, texts):
    _queue(12)
    texts.hold_at = 5  # the server holds the 5th request; we kill the sender there, for real
    proc = _run_sender(app)
    assert texts.held.wait(60), proc.communicate(timeout=5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    texts.release.set()
    assert proc.returncode == -signal.SIGKILL
    assert _settled(texts, 5) == "dropped"  # its client was gone: never accepted
    assert len(texts.messages) == 4
    # The dead sender's claim stays on the rest: another run inside the lease leaves them alone...
    assert _statuses() == {"sent": 4, "sending": 8}
    again = _run_sender(app)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "Texts sent 0" in out and len(texts.messages) == 4
    # ...and once the lease has run out they are sent, each once.
    rerun = _run_sender(app, TEXT_CLAIM_LEASE=0)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert "Texts sent 8" in out
    assert sorted(texts.bodies()) == sorted(f"Text {i}" for i in range(12))
    assert len({m["sid"] for m in texts.messages}) == 12
    assert _statuses() == {"sent": 12}


def test_a_text_queued_in_a_transaction_that_rolls_back_is_never_sent(app, texts, make_user):
    member = _member(make_user, 1)
    row = queue_text(member, "You were matched", quiet=False)
    db.session.flush()
    row_id = row.id
    db.session.rollback()
    outbox.deliver_after_commit({"text": [row_id]})  # what the request noted, after its rollback
    assert send_pending() == (0, 0)
    assert texts.requests == [] and _rows() == []


def test_a_text_a_request_queues_goes_after_its_commit_and_not_after_its_rollback(app, texts, client):
    from app.extensions import csrf
    from app.web import public

    @public
    def queue_view(outcome):
        queue_text(None, f"From a request that {outcome}", to_number=number(3), quiet=False)
        db.session.commit() if outcome == "committed" else db.session.rollback()
        return "ok"

    app.add_url_rule("/_test/queue/<outcome>", "test_queue_text", csrf.exempt(queue_view), methods=["POST"])
    assert client.post("/_test/queue/rolled-back").status_code == 200
    assert client.post("/_test/queue/committed").status_code == 200
    # Sent as the response closed, without any sender run.
    assert texts.bodies() == ["From a request that committed"]
    assert _statuses() == {"sent": 1}
