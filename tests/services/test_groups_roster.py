"""The roster (first names; contact only for those who shared it; never a role), attendance, one
email per attendee in their language, and feedback (the host counts, coordinators read)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, SessionSeat
from app.services import Conflict, FieldError, NotAllowed, groups_join, groups_roster
from tests.services.groups_helpers import PLACE, emails, group_offer, link, schedule, seat, sessions_of, whole


@pytest.fixture
def group(app, make_user, make_post):
    host = make_user(name="Hana Host")
    offer = group_offer(make_post, host)
    (session,) = sessions_of(schedule(host, offer, places=2, ask_first=False))
    return host, session


def test_the_roster_shows_first_names_and_contact_only_for_those_who_shared_it(app, make_user, group):
    host, session = group
    sharer = make_user(name="Sam Sharer", role="resident")
    sharer.phone, sharer.contact_method = "651-555-0142", "phone"
    private = make_user(name="Pia Private", email="pia.private@example.org")
    waiting = make_user(name="Wyn Waiting", email="wyn@example.org")
    db.session.commit()
    groups_join.join_session(sharer, session.id, share_contact=True, link_for=link)
    groups_join.join_session(private, session.id, share_contact=False, link_for=link)
    groups_join.join_session(waiting, session.id, share_contact=False, link_for=link)

    roster = groups_roster.roster(host, session.id)
    assert [(r.first_name, r.contact) for r in roster.joined] == [("Sam", ("Phone", "651-555-0142")), ("Pia", None)]
    assert [(r.first_name, r.contact) for r in roster.waiting] == [("Wyn", None)]
    assert roster.places_left == 0 and roster.feedback is None
    text = repr(roster)
    for secret in ("Sharer", "Private", "pia.private@example.org", "wyn@example.org", "resident", "Resident"):
        assert secret not in text, secret
    # The contact shown is in the audit log, as contact cards are.
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact_view"))
    assert entry.actor_id == host.id and entry.subject_type == "group_session"


def test_only_the_host_and_coordinators_see_the_roster(app, make_user, group):
    host, session = group
    member = make_user()
    groups_join.join_session(member, session.id, link_for=link)
    with pytest.raises(NotAllowed):
        groups_roster.roster(member, session.id)
    assert groups_roster.roster(make_user("coordinator"), session.id).joined[0].first_name == member.first_name
    with pytest.raises(NotAllowed):
        groups_roster.message_attendees(member, session.id, "Hello all", link)
    with pytest.raises(NotAllowed):
        groups_roster.record_attendance(member, session.id, {}, now=session.starts_at + timedelta(hours=1))


def test_requests_show_why_one_cannot_be_accepted(app, make_user, make_post):
    host = make_user()
    offer = group_offer(make_post, host)
    (session,) = sessions_of(schedule(host, offer, places=2, ask_first=True))
    asker = make_user(name="Ari Asker")
    groups_join.join_session(asker, session.id, link_for=link)
    (req,) = groups_roster.roster(host, session.id).requests
    assert (req.kind, req.first_name, req.blocked) == ("session", "Ari", None)
    later = groups_roster.roster(host, session.id, now=session.starts_at + timedelta(minutes=5))
    assert later.requests[0].blocked == "This session has already started."


def test_attendance_after_the_session_per_person(app, make_user, group):
    host, session = group
    came, missed = make_user(), make_user()
    for person in (came, missed):
        groups_join.join_session(person, session.id, link_for=link)
    marks = {seat(session, came).id: True, seat(session, missed).id: False}
    with pytest.raises(Conflict):
        groups_roster.record_attendance(host, session.id, marks)  # not before it starts
    after = session.starts_at + timedelta(hours=2)
    assert groups_roster.record_attendance(host, session.id, marks, now=after) == 2
    assert (seat(session, came).attended, seat(session, missed).attended) == (True, False)
    stranger_seat = 10**6
    with pytest.raises(FieldError):
        groups_roster.record_attendance(host, session.id, {stranger_seat: True}, now=after)


def test_message_everyone_is_one_email_each_in_their_language_with_the_hosts_first_name(app, make_user, group):
    host, session = group
    ana = make_user(name="Ana Uno", email="ana@example.org")
    luz = make_user(name="Luz Dos", email="luz@example.org")
    luz.language = "es"
    waiting = make_user(name="Wes Waiting")
    db.session.commit()
    for person in (ana, luz, waiting):
        groups_join.join_session(person, session.id, link_for=link)
    with pytest.raises(FieldError):
        groups_roster.message_attendees(host, session.id, "   ", link)
    assert groups_roster.message_attendees(host, session.id, "Bring a mug; we start on time.", link) == 2
    got = {m.to_addr: m for m in emails(kind="group_message")}
    assert set(got) == {"ana@example.org", "luz@example.org"}  # those holding a place, one each
    for to, mail in got.items():
        text = whole(mail)
        assert "Bring a mug; we start on time." in mail.body_text and "Hana" in mail.body_text and PLACE in text
        others = {"ana@example.org", "luz@example.org"} - {to}
        assert not any(o in text for o in others) and "Wes" not in text and "Host" not in text
    assert got["ana@example.org"].subject == "A message about your session"
    assert "Hola, Luz" in got["luz@example.org"].body_text  # in her language


def test_feedback_after_the_session_the_host_counts_coordinators_read(app, make_user, group):
    host, session = group
    came, absent, stranger = make_user(), make_user(), make_user()
    for person in (came, absent):
        groups_join.join_session(person, session.id, link_for=link)
    after = session.starts_at + timedelta(hours=2)
    with pytest.raises(NotAllowed):
        groups_roster.leave_feedback(came, session.id, "Good", now=session.starts_at - timedelta(hours=1))
    groups_roster.record_attendance(host, session.id, {seat(session, absent).id: False}, now=after)
    for person in (absent, stranger):
        with pytest.raises(NotAllowed):
            groups_roster.leave_feedback(person, session.id, "I was there", now=after)
    with pytest.raises(FieldError):
        groups_roster.leave_feedback(came, session.id, " ", now=after)
    groups_roster.leave_feedback(came, session.id, "Helpful, and kind.", now=after)
    groups_roster.leave_feedback(came, session.id, "Helpful, and very kind.", now=after)  # replaces the first words
    for_host = groups_roster.roster(host, session.id, now=after)
    assert for_host.feedback_count == 1 and for_host.feedback is None
    assert "kind" not in repr(for_host)
    for_coordinator = groups_roster.roster(make_user("coordinator"), session.id, now=after)
    assert for_coordinator.feedback == ["Helpful, and very kind."]
    assert db.session.scalar(select(db.func.count()).select_from(SessionSeat)) == 2
