"""Messages between matched people, on the services: who reads a thread (the two people; a
coordinator for someone without a login; other coordinators only once the match is reported), the
notice email without the words, the thread closing N days after the match ends, the hourly limit,
and the first message's rule against links and phone numbers. The pages: tests/web/test_concerns_web.py."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Match, Message, OutboxEmail
from app.services import Conflict, FieldError, NotAllowed, concerns, followup, matches
from app.services import messages
from app.services.accounts import create_resident
from app.services.mail import send_pending
from app.timeutil import utcnow
from tests.conftest import reads_as_a_sentence

RULE = ("For everyone's safety, the first message can't carry a link or a phone number: people are often pulled "
        "off the site this way. Write without it; you can share contact details once you have talked here.")


def link(m):
    return f"http://localhost/matches/{m.id}"


@pytest.fixture
def w(make_user, make_post):
    ns = SimpleNamespace(
        coord=make_user("coordinator", name="Casey Coordinator", email="casey@example.org"),
        asker=make_user("resident", name="Riley Resident", email="riley@example.org"),
        helper=make_user(name="Hana Helper", email="hana@example.org"),
        stranger=make_user(name="Sam Stranger", email="sam@example.org"),
    )
    make_post(ns.helper, kind="offer", title="Rides to appointments")
    need = make_post(ns.asker, title="Ride to the clinic")
    proposal = db.session.scalar(select(Match).where(Match.need_id == need.id))
    ns.proposal_id = proposal.id
    ns.match = matches.approve(ns.coord, proposal.id, link)
    db.session.query(OutboxEmail).delete()
    db.session.commit()
    return ns


def _stored():
    return db.session.scalars(select(Message.body).order_by(Message.id)).all()


def _notices():
    return db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "message_notice").order_by(OutboxEmail.id)).all()


# Who reads a thread ---------------------------------------------------------------------------

def test_only_the_two_people_read_and_write_a_thread(w):
    messages.send(w.asker, w.match.id, "Hello, is Tuesday morning fine?", link)
    messages.send(w.helper, w.match.id, "Tuesday works.", link)
    for who, mine in ((w.asker, [True, False]), (w.helper, [False, True])):
        thread = messages.read_thread(who, w.match)
        assert [(m.name, m.body, m.mine) for m in thread.messages] == [
            ("Riley", "Hello, is Tuesday morning fine?", mine[0]), ("Hana", "Tuesday works.", mine[1])]
        assert thread.can_write and not thread.paused
    for who in (w.stranger, w.coord):
        with pytest.raises(NotAllowed):
            messages.read_thread(who, w.match)
        with pytest.raises(NotAllowed):
            messages.send(who, w.match.id, "Hi", link)
    assert len(_stored()) == 2


def test_before_approval_there_is_no_thread(w, make_user, make_post):
    other = make_user(name="Ivy Helper")
    make_post(other, kind="offer", title="Groceries", category="food")
    need = make_post(w.asker, title="Food this week", category="food", destination_kind=None)
    proposal = db.session.scalar(select(Match).where(Match.need_id == need.id))
    with pytest.raises(NotAllowed):
        messages.read_thread(w.asker, proposal)
    with pytest.raises(Conflict):
        messages.send(w.asker, proposal.id, "Hi", link)


def test_coordinators_read_a_thread_only_once_the_match_is_reported(w):
    messages.send(w.helper, w.match.id, "See you at the clinic.", link)
    with pytest.raises(NotAllowed):
        messages.read_thread(w.coord, w.match)
    assert messages.thread_for(w.coord, w.match) is None
    concerns.report(w.asker, "match", w.match.id, "inappropriate", "He was rude to me.", lambda c: "x")
    thread = messages.read_thread(w.coord, w.match)
    assert [m.body for m in thread.messages] == ["See you at the clinic."] and thread.through_report
    assert not thread.can_write
    reads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "message_thread_read")).all()
    assert [(r.actor_id, r.subject_id) for r in reads] == [(w.coord.id, w.match.id)]


def test_a_paused_match_has_no_thread_for_the_two_people_but_coordinators_read_it(w):
    messages.send(w.asker, w.match.id, "Hello there.", link)
    concerns.report(w.helper, "match", w.match.id, "safety", "Worried about this.", lambda c: "x")
    for who in (w.asker, w.helper):
        thread = messages.read_thread(who, w.match)
        assert thread.paused and thread.messages == [] and not thread.can_write
    with pytest.raises(Conflict):
        messages.send(w.asker, w.match.id, "Are you there?", link)
    assert [m.body for m in messages.read_thread(w.coord, w.match).messages] == ["Hello there."]


def test_a_coordinator_writes_for_a_resident_without_a_login(app, w, make_post, make_user):
    resident = create_resident(w.coord, "Jordan Reyes", "54016")
    make_post(w.helper, kind="offer", title="More rides")
    need = make_post(resident, title="Ride to the pharmacy", actor=w.coord)
    proposals = db.session.scalars(select(Match).where(Match.need_id == need.id)).all()
    coord2 = make_user("coordinator", name="Drew Coordinator", email="drew@example.org")
    m = matches.approve(coord2, proposals[0].id, link)
    messages.send(w.coord, m.id, "Jordan can be ready at nine.", link)
    [row] = messages.read_thread(w.helper, m).messages
    assert (row.name, row.mine) == ("Jordan", False)  # the resident's first name, never "coordinator"
    messages.send(w.helper, m.id, "Great.", link)
    assert [n.to_addr for n in _notices()] == ["hana@example.org", "casey@example.org"]
    assert "Someone you post for" in _notices()[1].body_text
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "message_for_resident")).all()
    assert [(a.actor_id, a.details) for a in audit] == [(w.coord.id, {"side": "need"})]


# The notice -----------------------------------------------------------------------------------

def test_the_other_side_gets_a_notice_without_the_words(w, smtp):
    messages.send(w.asker, w.match.id, "My door code is 4412, ring twice", link)
    send_pending()
    [mail] = smtp.messages
    assert mail["rcpt"] == ["hana@example.org"]
    assert mail["msg"]["Subject"] == "You have a new message about your match"
    text = mail["msg"].get_body(("plain",)).get_content()
    html = mail["msg"].get_body(("html",)).get_content()
    for body in (text, html, mail["raw"].decode("utf-8", "replace")):
        assert "4412" not in body and "door code" not in body and "ring twice" not in body
    assert f"http://localhost/matches/{w.match.id}" in text and f'href="http://localhost/matches/{w.match.id}"' in html


# Closing --------------------------------------------------------------------------------------

def test_the_thread_closes_n_days_after_the_match_is_done(app, w):
    matches.answer(w.asker, w.match.id, True)
    matches.answer(w.helper, w.match.id, True)
    messages.send(w.asker, w.match.id, "Thanks for the ride!", link)
    followup.record_outcome(w.helper, w.match.id, True)
    m = db.session.get(Match, w.match.id)
    assert m.status == "completed"
    days = app.config["MESSAGE_THREAD_DAYS"]
    assert days == 14
    messages.send(w.helper, m.id, "You're welcome.", link, now=m.closed_at + timedelta(days=days - 1))
    assert messages.read_thread(w.asker, m).closes_at == m.closed_at + timedelta(days=days)
    with pytest.raises(Conflict) as info:
        messages.send(w.helper, m.id, "One more thing", link, now=m.closed_at + timedelta(days=days, minutes=1))
    assert reads_as_a_sentence(info.value.message)
    assert _stored() == ["Thanks for the ride!", "You're welcome."]
    app.config.update(MESSAGE_THREAD_DAYS=0)
    assert not messages.read_thread(w.asker, m).can_write


def test_a_cancelled_match_keeps_its_messages_for_the_two_but_takes_no_more(w):
    messages.send(w.asker, w.match.id, "Hello", link)
    matches.answer(w.helper, w.match.id, False)
    m = db.session.get(Match, w.match.id)
    thread = messages.read_thread(w.asker, m)
    assert [r.body for r in thread.messages] == ["Hello"] and not thread.can_write
    with pytest.raises(Conflict):
        messages.send(w.asker, m.id, "Why?", link)


# Limits and the first message -----------------------------------------------------------------

def test_each_person_sends_at_most_twenty_messages_an_hour(app, w):
    now = utcnow()
    for i in range(20):
        messages.send(w.asker, w.match.id, f"Message {i}", link, now=now + timedelta(seconds=i))
    with pytest.raises(FieldError) as info:
        messages.send(w.asker, w.match.id, "One too many", link, now=now + timedelta(minutes=30))
    assert info.value.field == "body" and reads_as_a_sentence(info.value.message) and "20" in info.value.message
    messages.send(w.helper, w.match.id, "The other person is not limited by it", link, now=now + timedelta(minutes=30))
    messages.send(w.asker, w.match.id, "An hour later", link, now=now + timedelta(hours=1, seconds=1))
    assert db.session.scalar(select(func.count()).select_from(Message)) == 22


@pytest.mark.parametrize("first", ["call me 715-555-0101", "(715) 555 0101", "www.example.com", "https://x.y",
                                   "example.org", "text me at 715.555.0101 tonight", "+1 715 555 0101", "7155550101",
                                   "write to me@mail.com", "HTTP://EXAMPLE.COM", "find me on wa.me/15551234567"])
def test_a_first_message_with_a_link_or_a_phone_number_goes_back_to_its_sender(w, first):
    with pytest.raises(FieldError) as info:
        messages.send(w.asker, w.match.id, first, link)
    assert info.value.field == "body" and info.value.message == RULE
    assert _stored() == [] and _notices() == []


def test_later_messages_may_carry_links_and_numbers(w):
    messages.send(w.asker, w.match.id, "Hi! Thanks for offering.", link)
    for later in ("call me 715-555-0101", "(715) 555 0101", "www.example.com", "https://x.y", "example.org"):
        messages.send(w.helper if len(_stored()) % 2 else w.asker, w.match.id, later, link)
    assert _stored()[1:] == ["call me 715-555-0101", "(715) 555 0101", "www.example.com", "https://x.y", "example.org"]


@pytest.mark.parametrize("text", ["See you at 10:30 by the library.", "I have 2 kids and 1 bag", "Call me when you're near",
                                  "e.g. bring a bag", "St. Paul or Hudson", "Back by 5.30pm", "Room 204, 2nd floor",
                                  "ZIP 54016-1234", "It was 2024 or 2025", "Thanks.See you"])
def test_ordinary_words_are_not_taken_for_contact_details(text):
    assert not messages.carries_contact(text)


def test_an_empty_or_long_message_is_refused_beside_the_field(w):
    for body in ("", "   ", "x" * 2001):
        with pytest.raises(FieldError) as info:
            messages.send(w.asker, w.match.id, body, link)
        assert info.value.field == "body" and reads_as_a_sentence(info.value.message)
    messages.send(w.asker, w.match.id, "y" * 2000, link)
    assert _stored() == ["y" * 2000]
