"""Issue #15's "done when", end to end through the real Twilio library against the local server
that speaks its API (tests/textserver.py): a resident with no email but a verified phone gets the
approval, the reminder and the follow-up by text, confirms with YES and reports DONE, and a STOP
ends every text at once."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Match, OutboxText, User
from app.services import followup, phones, texts as text_service
from app.services.accounts import create_resident
from app.services.messages import send as send_message
from tests.conftest import csrf_token, local_dt, login
from tests.services.test_match_rules import link, people, proposal  # noqa: F401

NUMBER = "+16515550123"


def _code(server) -> str:
    text_service.send_pending()
    return re.search(r"\b(\d{6})\b", server.to(NUMBER)[-1]["body"]).group(1)


def _bodies(server) -> list[str]:
    return [m["body"] for m in server.to(NUMBER)]


@pytest.fixture
def daytime(app):
    """No quiet hours in this test (they are tested on their own), whenever CI runs it."""
    app.config.update(TEXT_QUIET_START=0, TEXT_QUIET_END=0)


def test_a_resident_with_only_a_phone_is_helped_by_text_from_approval_to_done_and_stop_ends_it(
        app, client, people, make_post, texts, daytime, monkeypatch):
    coord, hana = people.coord, people.helper
    jordan = create_resident(coord, "Jordan Reyes", "54016")  # no email: cannot log in
    # The coordinator adds Jordan's number with Jordan's consent; Jordan reads the code back.
    phones.request_code(coord, jordan, "(651) 555-0123", consent=True)
    phones.verify(coord, jordan, _code(texts))
    jordan = db.session.get(User, jordan.id)
    assert jordan.mobile == NUMBER and jordan.is_confirmed and not jordan.can_log_in

    make_post(hana, kind="offer", title="Rides")
    need = make_post(jordan, title="Ride to the clinic", street_address="12 Hidden Lane", actor=coord,
                     flexible=False, appointment_at=local_dt(days=1, hour=10))
    m = proposal(need)

    # A coordinator approves on the queue page: Jordan's text goes out after the response.
    login(client, coord.email)
    token = csrf_token(client, "/coordinate/queue")
    assert client.post(f"/coordinate/matches/{m.id}/approve", data={"csrf_token": token}).status_code == 302
    approval = _bodies(texts)[-1]
    assert "can help with your request" in approval and "Reply YES to confirm" in approval
    for secret in ("Hidden Lane", "Helper", "Reyes", "hana@example.org"):
        assert secret not in approval
    sent = texts.to(NUMBER)[-1]
    assert sent["from"] == "+16515550100"

    # Jordan answers YES from the verified number: the match is confirmed on Jordan's side.
    assert texts.inbound(client, "yes", from_number=NUMBER).status_code == 200
    db.session.expire_all()
    assert db.session.get(Match, m.id).need_answer == "accepted"
    text_service.send_pending()
    assert len(_bodies(texts)) >= 3  # the code, the approval, and the reply to YES

    # Hana confirms on the site; both have now confirmed, and Jordan is told by text.
    helper = app.test_client()
    login(helper, hana.email)
    token = csrf_token(helper, f"/matches/{m.id}")
    assert helper.post(f"/matches/{m.id}/answer", data={"csrf_token": token, "answer": "accept"}).status_code == 302
    db.session.expire_all()
    match = db.session.get(Match, m.id)
    assert match.status == "accepted"
    assert "both confirmed" in _bodies(texts)[-1]

    # The reminder the day before, and "did it happen?" after it, by text.
    before = match.scheduled_at - timedelta(hours=20)
    assert followup.send_reminders(link, now=before) == 1
    text_service.send_pending()
    assert "reminder" in _bodies(texts)[-1].lower()
    assert followup.send_followups(link, lambda t: f"http://localhost/matches/outcome/{t}",
                                   now=match.scheduled_at + timedelta(hours=3)) == 1
    text_service.send_pending()
    assert "Reply DONE" in _bodies(texts)[-1]

    # Jordan reports DONE: the match is complete.
    assert texts.inbound(client, "DONE", from_number=NUMBER).status_code == 200
    db.session.expire_all()
    assert db.session.get(Match, m.id).status == "completed"

    # A text held for the night, then STOP: nothing more reaches Jordan, the held one included.
    monkeypatch.setattr(text_service, "quiet_until", lambda now: now + timedelta(hours=8))  # night falls
    send_message(hana, m.id, "Thanks for today!", link)
    [held] = db.session.scalars(select(OutboxText).where(OutboxText.user_id == jordan.id,
                                                        OutboxText.kind == "message_notice")).all()
    assert held.status == "pending"
    count = len(texts.to(NUMBER))
    assert texts.inbound(client, "STOP", from_number=NUMBER).status_code == 200
    text_service.send_pending()
    db.session.expire_all()
    assert db.session.get(OutboxText, held.id).status == "cancelled"
    assert db.session.get(User, jordan.id).texts_stopped_at is not None
    after_stop = _bodies(texts)[count:]
    assert len(after_stop) == 1 and "START" in after_stop[0]  # only the confirmation
    monkeypatch.undo()
    send_message(hana, m.id, "One more thing", link)
    text_service.send_pending()
    assert len(texts.to(NUMBER)) == count + 1
