"""Joining and leaving: places, the waiting list in order, promotion with its email, "ask me first"
requests, the whole series, and who may join (one function decides)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import GroupSession, SeriesMember
from app.services import Conflict, NotAllowed, group_access, groups_join, groups_schedule
from tests.services.groups_helpers import PLACE, emails, group_offer, link, schedule, seat, sessions_of, whole


def _session(make_user, make_post, places=1, **fields):
    host = make_user(name="Hana Host")
    offer = group_offer(make_post, host)
    series = schedule(host, offer, places=places, **fields)
    return host, series, sessions_of(series)[0]


def test_a_full_session_puts_people_on_the_waiting_list_in_order_and_a_freed_place_goes_to_the_first(
        app, make_user, make_post):
    host, _series, session = _session(make_user, make_post, places=1)
    ann, ben, cy = make_user(name="Ann Early", role="resident"), make_user(name="Ben Second"), make_user(name="Cy Third")
    assert groups_join.join_session(ann, session.id, link_for=link).status == "joined"
    ben_result = groups_join.join_session(ben, session.id, link_for=link)
    cy_result = groups_join.join_session(cy, session.id, link_for=link)
    assert (ben_result.status, ben_result.position) == ("waiting", 1)
    assert (cy_result.status, cy_result.position) == ("waiting", 2)
    assert emails() == []  # joining directly sends nothing: the page says where one stands

    groups_join.leave_session(ann, session.id, link_for=link)
    assert seat(session, ann).status == "left"
    assert seat(session, ben).status == "joined"
    assert groups_join.waiting_position(seat(session, cy)) == 1
    assert db.session.get(GroupSession, session.id).taken == 1
    (mail,) = emails()
    assert mail.to_addr == ben.email and mail.kind == "group_place_opened"
    text = whole(mail)
    assert "Ben" in text and "Thursday recovery circle" in text and PLACE in text
    for word in ("Ann", "Cy", "resident", "Resident"):
        assert word not in text, word


def test_leaving_the_waiting_list_keeps_the_order_and_joining_again_goes_to_the_back(app, make_user, make_post):
    _host, _series, session = _session(make_user, make_post, places=1)
    people = [make_user(name=f"P{i} Person") for i in range(4)]
    for person in people:
        groups_join.join_session(person, session.id, link_for=link)
    groups_join.leave_session(people[1], session.id, link_for=link)
    assert [groups_join.waiting_position(seat(session, p)) for p in people[2:]] == [1, 2]
    again = groups_join.join_session(people[1], session.id, link_for=link)
    assert (again.status, again.position) == ("waiting", 3)
    with pytest.raises(Conflict):
        groups_join.join_session(people[2], session.id, link_for=link)  # already waiting
    with pytest.raises(Conflict):
        groups_join.leave_session(make_user(), session.id, link_for=link)  # never joined


def test_ask_first_makes_joining_a_request_the_host_or_a_coordinator_answers(app, make_user, make_post):
    host, _series, session = _session(make_user, make_post, places=1, ask_first=True)
    coordinator = make_user("coordinator", name="Cora Coordinator")
    ann, ben, cy = make_user(name="Ann Asker"), make_user(name="Ben Asker"), make_user(name="Cy Asker")
    assert groups_join.join_session(ann, session.id, share_contact=True, link_for=link).status == "requested"
    groups_join.join_session(ben, session.id, link_for=link)
    groups_join.join_session(cy, session.id, link_for=link)
    assert db.session.get(GroupSession, session.id).taken == 0
    asks = emails(to=host.email, kind="group_request")
    assert len(asks) == 3 and "Ann asks to join" in asks[0].body_text

    outsider = make_user()
    with pytest.raises(NotAllowed):
        groups_join.accept_request(outsider, seat(session, ann).id, link)
    assert groups_join.accept_request(host, seat(session, ann).id, link).status == "joined"
    result = groups_join.accept_request(coordinator, seat(session, ben).id, link)
    assert (result.status, result.position) == ("waiting", 1)  # full: accepted onto the waiting list
    groups_join.refuse_request(host, seat(session, cy).id, link)
    with pytest.raises(Conflict):
        groups_join.accept_request(coordinator, seat(session, cy).id, link)  # already answered
    with pytest.raises(NotAllowed):
        groups_join.join_session(cy, session.id, link_for=link)  # refused: no asking again
    assert group_access.why_not(cy, session) == "The host did not accept you for this session."

    got = {m.to_addr: m for m in emails(kind="group_request_accepted")}
    assert PLACE in got[ann.email].body_text and "you have a place" in got[ann.email].body_text
    assert PLACE not in whole(got[ben.email]) and "number 1 on the waiting list" in got[ben.email].body_text
    (refused,) = emails(kind="group_request_refused")
    assert refused.to_addr == cy.email and "Ann" not in whole(refused) and "Ben" not in whole(refused)
    for mail in emails():
        assert "Coordinator" not in whole(mail) and "Cora" not in whole(mail)


def test_joining_the_whole_series_seats_every_upcoming_session_and_leaving_it_frees_them(app, make_user, make_post):
    host = make_user()
    offer = group_offer(make_post, host)
    series = schedule(host, offer, repeat="weekly", ends="count", count=4, places=1)
    first, second, *_ = sessions_of(series)
    early = make_user(name="Early Bird")
    groups_join.join_session(early, second.id, link_for=link)
    member = make_user(name="Mara Member")
    result = groups_join.join_series(member, series.id, share_contact=True, link_for=link)
    assert (result.joined, result.waiting) == (3, 1)
    assert seat(second, member).status == "waiting" and seat(first, member).from_series
    with pytest.raises(Conflict):
        groups_join.join_series(member, series.id, link_for=link)
    # Skipping one session keeps the series; leaving the series leaves every upcoming session.
    groups_join.leave_session(member, first.id, link_for=link)
    assert db.session.scalar(select(SeriesMember.status).where(SeriesMember.user_id == member.id)) == "member"
    groups_join.leave_session(early, second.id, link_for=link)
    assert seat(second, member).status == "joined"
    assert groups_join.leave_series(member, series.id, link_for=link) == 3
    db.session.expire_all()
    assert [s.taken for s in sessions_of(series)] == [0, 0, 0, 0]
    assert db.session.scalar(select(SeriesMember.status).where(SeriesMember.user_id == member.id)) == "left"


def test_asking_to_join_a_whole_series(app, make_user, make_post):
    host = make_user(name="Hana Host")
    offer = group_offer(make_post, host)
    series = schedule(host, offer, repeat="weekly", ends="count", count=3, places=5, ask_first=True)
    ann = make_user(name="Ann Asker")
    assert groups_join.join_series(ann, series.id, link_for=link).requested
    assert [seat(s, ann) for s in sessions_of(series)] == [None, None, None]
    (ask,) = emails(to=host.email)
    assert "every session" in ask.body_text
    member_id = db.session.scalar(select(SeriesMember.id).where(SeriesMember.user_id == ann.id))
    result = groups_join.accept_series_request(host, member_id, link)
    assert result.joined == 3
    assert {seat(s, ann).status for s in sessions_of(series)} == {"joined"}
    (accepted,) = emails(to=ann.email)
    assert "every session" in accepted.body_text and "3 sessions" in accepted.body_text
    bo = make_user(name="Bo Asker")
    groups_join.join_series(bo, series.id, link_for=link)
    bo_id = db.session.scalar(select(SeriesMember.id).where(SeriesMember.user_id == bo.id))
    groups_join.refuse_series_request(host, bo_id, link)
    (refused,) = emails(to=bo.email)
    assert "every session" in refused.body_text and "Ann" not in whole(refused)
    with pytest.raises(NotAllowed):
        groups_join.join_series(bo, series.id, link_for=link)


def test_who_may_join_is_one_rule_everywhere(app, make_user, make_post):
    host, series, session = _session(make_user, make_post, places=3)
    unconfirmed = make_user(confirmed=False)
    for person, words in ((unconfirmed, "confirm your email"), (host, "You host this group")):
        with pytest.raises(NotAllowed) as err:
            groups_join.join_session(person, session.id, link_for=link)
        assert words in err.value.message
        with pytest.raises(NotAllowed):
            groups_join.join_series(person, series.id, link_for=link)
    later = session.starts_at + timedelta(minutes=1)
    assert "already started" in group_access.why_not(make_user(), session, now=later)
    with pytest.raises(NotAllowed):
        groups_join.join_session(make_user(), session.id, link_for=link, now=later)
    groups_schedule.cancel_session(host, session.id, link)
    assert group_access.why_not(make_user(), db.session.get(GroupSession, session.id)) == "This session was cancelled."
    assert db.session.get(GroupSession, session.id).taken == 0


def test_the_exact_place_is_for_those_holding_a_place_the_host_and_coordinators(app, make_user, make_post):
    host, _series, session = _session(make_user, make_post, places=1)
    holder, waiting, stranger, coordinator = make_user(), make_user(), make_user(), make_user("coordinator")
    groups_join.join_session(holder, session.id, link_for=link)
    groups_join.join_session(waiting, session.id, link_for=link)
    seen = {p.id: group_access.sees_place(p, session) for p in (host, holder, waiting, stranger, coordinator)}
    assert seen == {host.id: True, holder.id: True, waiting.id: False, stranger.id: False, coordinator.id: True}


def test_the_host_taking_back_a_place_gives_it_to_the_first_person_waiting(app, make_user, make_post):
    host, _series, session = _session(make_user, make_post, places=1)
    ann, ben = make_user(name="Ann Attendee"), make_user(name="Ben Waiting")
    groups_join.join_session(ann, session.id, link_for=link)
    groups_join.join_session(ben, session.id, link_for=link)
    groups_join.refuse_request(host, seat(session, ann).id, link)
    assert (seat(session, ann).status, seat(session, ben).status) == ("refused", "joined")
    assert db.session.get(GroupSession, session.id).taken == 1
    (gone,) = emails(kind="group_request_refused")
    assert gone.to_addr == ann.email and "no longer keep a place for you" in gone.body_text and "Ben" not in whole(gone)
    assert [m.to_addr for m in emails(kind="group_place_opened")] == [ben.email]
    with pytest.raises(Conflict):
        groups_join.refuse_request(host, seat(session, ann).id, link)
    with pytest.raises(NotAllowed):
        groups_join.join_session(ann, session.id, link_for=link)
