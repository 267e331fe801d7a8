"""The outbox: each email delivered once, through a real SMTP server, even across a crash."""
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEmail
from app.services.mail import build_message, queue_email, send_pending
from app.timeutil import utcnow
from tests.conftest import sender_env

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def _queue(n, prefix="person"):
    for i in range(n):
        queue_email(f"{prefix}{i}@example.org", f"Message {i}", "post_expiring", user=_Named(f"P{i}"),
                    post=_Post(f"Post {i}"), url="http://localhost/x", on_behalf=False)
    db.session.commit()


class _Named:
    def __init__(self, name):
        self.first_name = name


class _Post:
    def __init__(self, title):
        self.title = title
        self.expires_at = utcnow() + timedelta(days=2)


def _statuses():
    db.session.expire_all()
    return dict(db.session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all())


def _subjects(smtp):
    return sorted(m["msg"]["Subject"] for m in smtp.messages)


def test_each_email_goes_to_its_one_recipient_with_text_and_html(app, smtp):
    _queue(3)
    assert send_pending() == (3, 0)
    assert [m["rcpt"] for m in smtp.messages] == [[f"person{i}@example.org"] for i in range(3)]
    for m in smtp.messages:
        msg = m["msg"]
        assert msg["Cc"] is None and msg["Bcc"] is None and len(msg.get_all("To")) == 1
        assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
    assert _statuses() == {"sent": 3}
    assert send_pending() == (0, 0) and len(smtp.messages) == 3  # a second run sends nothing


def test_refused_email_is_retried_with_growing_backoff_then_given_up_with_the_error(app, smtp):
    app.config.update(MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_BASE_SECONDS=60)
    _queue(1)
    smtp.refuse = 10
    before = utcnow()
    assert send_pending() == (0, 1)
    row = db.session.scalar(select(OutboxEmail))
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    assert timedelta(seconds=59) < row.next_attempt_at - before < timedelta(seconds=70)
    assert send_pending() == (0, 0)  # not due yet: nothing is tried

    row.next_attempt_at = utcnow()
    db.session.commit()
    send_pending()
    db.session.refresh(row)
    assert row.attempts == 2 and timedelta(seconds=110) < row.next_attempt_at - utcnow() < timedelta(seconds=125)

    row.next_attempt_at = utcnow()
    db.session.commit()
    send_pending()
    db.session.refresh(row)
    assert row.status == "failed" and row.attempts == 3 and "451" in row.last_error
    row.next_attempt_at = utcnow()
    db.session.commit()
    smtp.refuse = 0
    assert send_pending() == (0, 0) and smtp.messages == []  # given up: never sent later by surprise


def test_a_refused_email_does_not_stop_the_rest(app, smtp):
    _queue(4)
    smtp.refuse = 1
    assert send_pending() == (3, 1)
    assert _subjects(smtp) == ["Message 1", "Message 2", "Message 3"]


def test_mail_server_down_keeps_every_email(app, smtp):
    _queue(2)
    app.config.update(MAIL_PORT=1)  # nothing listens there
    assert send_pending() == (0, 2)
    assert _statuses() == {"pending": 2}


def test_header_injection_in_subject_or_recipient_cannot_add_a_header(app):
    row = queue_email("victim@example.org\r\nBcc: attacker@example.org", "Hi\r\nBcc: attacker@example.org",
                      "post_expiring", user=_Named("Eve"), post=_Post("x"), url="u", on_behalf=False)
    db.session.commit()
    msg = build_message(row)
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"] and "\n" not in msg["To"]
    assert b"\nBcc:" not in msg.as_bytes()


def _run_sender(app, smtp, **env):
    return subprocess.Popen(FLASK + ["mail", "send-pending"], cwd=ROOT, env=sender_env(app, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_senders_at_once_send_each_email_once(app, smtp):
    _queue(150)
    senders = [_run_sender(app, smtp) for _ in range(3)]
    for proc in senders:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert len(smtp.messages) == 150
    assert _subjects(smtp) == sorted(f"Message {i}" for i in range(150))
    assert _statuses() == {"sent": 150}


def test_sender_killed_mid_batch_then_rerun_sends_every_email_exactly_once(app, smtp):
    _queue(12)
    smtp.hold_at = 5  # the sender blocks on the 5th message's RCPT; we kill it there, for real
    proc = _run_sender(app, smtp)
    assert smtp.held.wait(60), proc.communicate(timeout=5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    smtp.release.set()
    assert proc.returncode == -signal.SIGKILL
    assert len(smtp.messages) == 4
    # The dead sender's claim stays on the rest: another run inside the lease leaves them alone...
    assert _statuses() == {"sent": 4, "sending": 8}
    again = _run_sender(app, smtp)
    again.communicate(timeout=60)
    assert len(smtp.messages) == 4
    # ...and once the lease has run out they are sent, each once.
    rerun = _run_sender(app, smtp, MAIL_CLAIM_LEASE=0)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert "Sent 8" in out
    assert _subjects(smtp) == sorted(f"Message {i}" for i in range(12))
    assert len({m["msg"]["Message-ID"] for m in smtp.messages}) == 12
    assert _statuses() == {"sent": 12}


def test_deliver_after_commit_never_fails_the_request(app, smtp, client, make_user):
    from tests.conftest import csrf_token

    make_user(email="down@example.org")
    app.config.update(MAIL_PORT=1)
    response = client.post("/auth/reset", data={"csrf_token": csrf_token(client), "email": "down@example.org"})
    assert response.status_code in (200, 302)
    assert _statuses() == {"pending": 1}


def test_without_a_mail_server_email_is_printed(app, capsys):
    app.config.update(MAIL_SERVER=None)
    _queue(1)
    assert send_pending() == (1, 0)
    assert "Subject: Message 0" in capsys.readouterr().out
