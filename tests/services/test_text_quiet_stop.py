"""Texts at the outbox level: quiet hours, STOP (nothing more goes, even what was already claimed),
no number or text in our logs, and the provider's later delivery reports; through the real `twilio`
library to the local provider server (tests/textserver.py)."""
import logging
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxText
from app.services import outbox
from app.services import texts as text_service
from app.services.texts import cancel_waiting, due_at, queue_text, quiet_until, record_delivery, send_pending
from app.timeutil import local_to_utc, utcnow
from tests.services.test_text_outbox import _member, _queue, _rows, _run_sender, _settled, _statuses, number


class Clock:
    def __init__(self, monkeypatch):
        self.now = None
        monkeypatch.setattr(text_service, "utcnow", lambda: self.now)
        monkeypatch.setattr(outbox, "utcnow", lambda: self.now)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        self.now = local_to_utc(day, time(hour, minute))
        return self.now


@pytest.mark.parametrize("day", [date(2030, 1, 15), date(2030, 7, 15)])  # winter and summer time
@pytest.mark.parametrize("hour, minute, until", [
    (20, 59, None), (21, 0, "next"), (22, 30, "next"), (23, 59, "next"), (0, 0, "same"), (2, 0, "same"),
    (7, 59, "same"), (8, 0, None), (12, 0, None),
])
def test_quiet_hours_run_from_nine_at_night_to_eight_in_the_morning_community_time(app, day, hour, minute, until):
    now = local_to_utc(day, time(hour, minute))
    expected = {None: None, "same": local_to_utc(day, time(8)),
                "next": local_to_utc(date.fromordinal(day.toordinal() + 1), time(8))}[until]
    assert quiet_until(now) == expected
    assert due_at(now) == (expected or now)


def test_a_text_queued_at_night_waits_for_the_morning_unless_it_is_about_tonight(app, texts, make_user,
                                                                                monkeypatch):
    clock = Clock(monkeypatch)
    night, morning = date(2030, 1, 15), date(2030, 1, 16)
    member = _member(make_user, 1)
    now = clock.at(night, 22, 30)
    tonight = queue_text(member, "Ride at 23:00", kind="reminder", happens_at=local_to_utc(night, time(23)))
    notice = queue_text(member, "New message", kind="message")
    tomorrow = queue_text(member, "Ride at 9:00", kind="reminder", happens_at=local_to_utc(morning, time(9)))
    answer = queue_text(member, "Answer to your text", kind="reply", quiet=False)
    db.session.commit()
    assert tonight.next_attempt_at == now and answer.next_attempt_at == now
    assert notice.next_attempt_at == tomorrow.next_attempt_at == local_to_utc(morning, time(8))

    assert send_pending() == (2, 0)
    assert texts.bodies() == ["Ride at 23:00", "Answer to your text"]
    clock.at(morning, 7, 59)
    assert send_pending() == (0, 0) and len(texts.requests) == 2
    clock.at(morning, 8, 0)
    assert send_pending() == (2, 0)
    assert texts.bodies()[2:] == ["New message", "Ride at 9:00"]
    assert _statuses() == {"sent": 4}


def test_no_text_is_queued_for_a_member_who_cannot_get_texts_but_the_stop_answers_are(app, texts, make_user):
    stopped = _member(make_user, 1, texts_stopped_at=utcnow())
    unverified = _member(make_user, 2, mobile_verified_at=None)
    assert queue_text(stopped, "A notice") is None
    assert queue_text(unverified, "A notice") is None
    assert queue_text(stopped, "You will get no more texts.", kind="stop_confirmed", quiet=False) is not None
    assert queue_text(stopped, "Help: call 651-555-0100", kind="help", quiet=False) is not None
    assert queue_text(unverified, "Help", kind="help", quiet=False) is None
    db.session.commit()
    assert send_pending() == (2, 0)
    assert [(m["to"], m["body"]) for m in texts.messages] == [
        (number(1), "You will get no more texts."), (number(1), "Help: call 651-555-0100")]


def test_stop_cancels_every_text_still_waiting_for_that_member_only(app, texts, make_user, monkeypatch):
    stopper, other = _member(make_user, 1), _member(make_user, 2)
    queue_text(stopper, "Already gone", quiet=False)
    db.session.commit()
    assert send_pending() == (1, 0)
    queue_text(stopper, "Waiting", quiet=False)
    held = queue_text(stopper, "Held for the morning", quiet=False)
    queue_text(other, "For someone else", quiet=False)
    db.session.commit()
    held.next_attempt_at = utcnow().replace(year=2099)
    db.session.commit()

    stopper.texts_stopped_at = utcnow()
    assert cancel_waiting(stopper.id) == 2
    db.session.commit()
    assert [r.status for r in _rows()] == ["sent", "cancelled", "cancelled", "pending"]
    assert send_pending() == (1, 0)
    assert texts.bodies() == ["Already gone", "For someone else"]


def test_a_text_whose_member_stopped_or_changed_number_after_it_was_queued_is_cancelled(app, texts, make_user):
    stopper, mover, other = (_member(make_user, i) for i in range(3))
    for member in (stopper, mover, other):
        queue_text(member, f"For {member.mobile}", quiet=False)
    db.session.commit()
    # STOP recorded, but the waiting text not cancelled (or cancelled after a sender claimed it).
    stopper.texts_stopped_at = utcnow()
    mover.mobile = number(9)  # the old number may be someone else's now
    db.session.commit()
    assert send_pending() == (1, 0)
    assert texts.bodies() == [f"For {number(2)}"]
    assert [r.status for r in _rows()] == ["cancelled", "cancelled", "sent"]


def test_a_text_already_claimed_when_its_member_sends_stop_is_cancelled_not_sent(app, texts, make_user):
    first, stopper, last = _member(make_user, 1), _member(make_user, 2), _member(make_user, 3)
    queue_text(first, "First", quiet=False)
    queue_text(stopper, "Notice", quiet=False)
    queue_text(stopper, "You will get no more texts.", kind="stop_confirmed", quiet=False)
    queue_text(last, "Last", quiet=False)
    db.session.commit()
    texts.hold_at = 1  # the sender has claimed all four and is sending the first
    proc = _run_sender(app)
    assert texts.held.wait(60), proc.communicate(timeout=5)
    assert _statuses() == {"sending": 4}
    stopper.texts_stopped_at = utcnow()  # what the STOP handler does, while the batch is under way
    assert cancel_waiting(stopper.id) == 0  # nothing of theirs is pending: it is all claimed
    db.session.commit()
    texts.release.set()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert _settled(texts, 1) == 201
    assert [(m["to"], m["body"]) for m in texts.messages] == [
        (number(1), "First"), (number(2), "You will get no more texts."), (number(3), "Last")]
    assert [r.status for r in _rows()] == ["sent", "cancelled", "sent", "sent"]
    assert "Texts sent 3" in out


def test_neither_the_number_nor_the_text_reaches_our_logs(app, texts, caplog):
    app.config.update(TEXT_MAX_ATTEMPTS=2)
    caplog.set_level(logging.DEBUG)
    _queue(4)
    texts.invalid_numbers.add(number(1))
    texts.refuse(1, status=500)  # the first request
    assert send_pending() == (2, 2)
    records = caplog.records
    assert any("text" in r.getMessage() and "failed" in r.getMessage() for r in records)  # we did capture
    assert any(r.name.startswith("urllib3") for r in records)  # ...at DEBUG, the HTTP library's too
    logged = caplog.text + "".join(str(r.args) + str(r.exc_text or "") for r in records)
    for i in range(4):
        assert number(i) not in logged and number(i)[2:] not in logged
        assert f"Text {i}" not in logged
    assert texts.auth_token not in logged


def test_the_providers_delivery_reports_are_kept_on_the_text(app, texts):
    _queue(3)
    assert send_pending() == (3, 0)
    delivered, undelivered, failed = (m["sid"] for m in texts.messages)
    assert record_delivery(delivered, "sent")
    assert record_delivery(delivered, "delivered")
    assert record_delivery(undelivered, "undelivered", "30003")
    assert record_delivery(failed, "failed", "30008")
    assert record_delivery("SM" + "0" * 32, "delivered") is False
    rows = {r.provider_id: r for r in _rows()}
    assert (rows[delivered].delivery, rows[delivered].last_error) == ("delivered", None)
    assert rows[undelivered].delivery == "undelivered" and "30003" in rows[undelivered].last_error
    assert rows[failed].delivery == "failed" and "30008" in rows[failed].last_error
    assert all(r.status == "sent" for r in rows.values())


def test_a_late_report_never_takes_a_text_back_a_step(app, texts):
    # Twilio posts each status change on its own request; they may arrive out of order.
    _queue(2)
    assert send_pending() == (2, 0)
    one, two = (m["sid"] for m in texts.messages)
    assert record_delivery(one, "delivered") and record_delivery(one, "sent")
    assert record_delivery(two, "undelivered", "30005") and record_delivery(two, "sent")
    rows = {r.provider_id: r for r in _rows()}
    assert rows[one].delivery == "delivered"
    assert rows[two].delivery == "undelivered" and "30005" in rows[two].last_error
    assert db.session.scalar(select(OutboxText.delivery).where(OutboxText.provider_id == one)) == "delivered"
