"""The two matched people: what each learns about the other and when (contact cards, the exact
place, the emails), who answers for which side, "I can help", and what closing a post or silence
does to a match. The helpers (snapshot, diff, refused) and `people` come from test_match_rules.py."""
from datetime import timedelta
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.models import Match, Post, User
from app.services import Conflict, FieldError, NotAllowed
from app.services import matches
from app.services.accounts import NotConfirmed, create_resident
from app.services.disclosure import ContactCard, can_view, contact_cards, exact_place, reach_of, side_of
from app.services.mail import send_pending
from app.services.posts import mark_fulfilled, withdraw_post
from app.timeutil import utcnow
from tests.conftest import local_dt
from tests.services.test_match_rules import (diff, link, people, proposal, proposals_for, refused,  # noqa: F401
                                             snapshot, to_money, units)

PLACE = "12 Hidden Lane, By the library, Hudson, WI"


@pytest.fixture
def pair(people, make_post):
    """Riley asks for a ride from 12 Hidden Lane; Hana, who wants to be reached by phone, offers one."""
    people.helper.phone, people.helper.contact_method = "715-555-0202", "phone"
    db.session.commit()
    offer = make_post(people.helper, kind="offer", title="Rides to the clinic")
    need = make_post(people.asker, title="Ride to the clinic", street_address="12 Hidden Lane", pickup_area="By the library")
    return SimpleNamespace(need=need, offer=offer, match=proposal(need))


def resident_pair(people, make_post, helper, email=None):
    """A resident who cannot log in, registered by Casey, whose request Drew files; `helper`'s offer;
    approved by Casey."""
    resident = create_resident(people.coord, "Jordan Reyes", "54016", email=email)
    offer = make_post(helper, kind="offer", title="Rides")
    need = make_post(resident, title="Ride to the pharmacy", actor=people.coord2)
    return resident, offer, matches.approve(people.coord, proposal(need).id, link)


# Contact cards ------------------------------------------------------------------------------------------

def test_before_approval_only_coordinators_see_contact_details(people, pair):
    m = pair.match
    assert snapshot()["outbox"] == []  # a proposal tells nobody anything
    assert [can_view(u, m) for u in (people.asker, people.helper, people.coord, people.member)] == [True] * 3 + [False]
    for who in (people.asker, people.helper, people.member):
        before = snapshot()
        assert contact_cards(who, m) == {}
        assert snapshot() == before
    before = snapshot()
    assert set(contact_cards(people.coord, m)) == {"need", "offer"}
    d = diff(before, snapshot())
    assert d["audit"] == [(people.coord.id, "contact_view", m.id, {"whose": w}) for w in ("need", "offer")]
    assert (d["matches"], d["posts"], d["outbox"]) == ({}, {}, [])


def test_after_approval_each_person_sees_only_the_others_card(people, pair):
    m = matches.approve(people.coord, pair.match.id, link)
    hana = ContactCard("Hana", "Phone", "715-555-0202", "Hudson, WI", None)
    riley = ContactCard("Riley", "Email", "riley@example.org", PLACE + " 54016", None)
    before = snapshot()
    assert contact_cards(people.asker, m) == {"offer": hana}
    assert contact_cards(people.helper, m) == {"need": riley}
    assert contact_cards(people.member, m) == {}
    assert contact_cards(people.coord2, m) == {"need": riley, "offer": hana}
    d = diff(before, snapshot())
    assert d["audit"] == [(people.asker.id, "contact_view", m.id, {"whose": "offer"}),
                          (people.helper.id, "contact_view", m.id, {"whose": "need"}),
                          (people.coord2.id, "contact_view", m.id, {"whose": "need"}),
                          (people.coord2.id, "contact_view", m.id, {"whose": "offer"})]
    assert (d["matches"], d["posts"], d["outbox"]) == ({}, {}, [])
    matches.answer(people.helper, m.id, False)
    assert contact_cards(people.asker, m) == {} and contact_cards(people.helper, m) == {}
    assert set(contact_cards(people.coord2, m)) == {"need", "offer"}


def test_a_card_says_when_for_a_dated_request(people, make_post):
    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride", flexible=False, appointment_at=local_dt(days=3, hour=14))
    m = matches.approve(people.coord, proposal(need).id, link)
    appointment = db.session.get(Post, need.id).appointment_at
    assert appointment is not None and m.scheduled_at == appointment
    assert contact_cards(people.asker, m)["offer"].when == m.scheduled_at


def test_reach_follows_the_chosen_way_then_falls_back_to_what_there_is(make_user):
    u = make_user(name="Pat Doe", email="pat@example.org")
    u.phone = "715-555-0303"
    assert reach_of(u) == ("Email", "pat@example.org")
    u.contact_method = "phone"
    assert reach_of(u) == ("Phone", "715-555-0303")
    u.phone = None
    assert reach_of(u) == ("Email", "pat@example.org")
    u.contact_method, u.contact_name, u.contact_detail = "person", "Kim", "651-555-0101"
    assert reach_of(u) == ("Contact person", "Kim, 651-555-0101")
    u.contact_detail = None  # a name without a number or address: their own email instead
    assert reach_of(u) == ("Email", "pat@example.org")
    u.contact_method, u.email, u.phone = "email", None, "715-555-0303"
    assert reach_of(u) == ("Phone", "715-555-0303")
    u.phone = None
    assert reach_of(u) == ("Email", None)
    u.contact_method = "phone"
    assert reach_of(u) == ("Phone", None)


def test_a_resident_without_a_login_is_reached_through_todays_coordinator(people, make_user):
    resident = create_resident(people.coord, "Jordan Reyes", "54016")
    assert reach_of(resident) == ("Contact person", "Casey, casey@example.org")
    with_login = make_user("resident", name="Lee Doe", email="lee@example.org")
    with_login.contact_method, with_login.created_by_id = "person", people.coord.id
    assert reach_of(with_login) == ("Email", "lee@example.org")  # can read their own mail
    people.coord.role = "member"
    db.session.commit()
    assert reach_of(resident) == ("Contact person", None)


def test_exact_place_is_address_pickup_area_and_town(people, make_post):
    need = make_post(people.asker, title="Ride", street_address="12 Hidden Lane", pickup_area="By the library")
    plain = make_post(people.asker2, category="food", title="Meals")
    assert (exact_place(need), exact_place(need, with_zip=False)) == (PLACE + " 54016", PLACE)
    assert (exact_place(plain), exact_place(plain, with_zip=False)) == ("Hudson, WI 54016", "Hudson, WI")


# Answers ------------------------------------------------------------------------------------------------

def test_the_approval_email_introduces_the_two_and_the_confirmation_reaches_both(people, pair, smtp):
    m = pair.match
    send_pending()
    assert smtp.messages == []  # nothing before approval, so no address either
    matches.approve(people.coord, m.id, link)
    send_pending()
    text = {msg["rcpt"][0]: msg["msg"].get_body(("plain",)).get_content() for msg in smtp.messages}
    assert set(text) == {"riley@example.org", "hana@example.org"}
    assert all(b"Subject: You have a match" in msg["raw"] for msg in smtp.messages)
    assert "How to reach Hana: Phone, 715-555-0202" in text["riley@example.org"]
    assert "hana@example.org" not in text["riley@example.org"]
    assert "How to reach Riley: Email, riley@example.org" in text["hana@example.org"]
    assert all(f"Where: {PLACE}" in body.splitlines() for body in text.values())  # the street, not the ZIP
    smtp.messages.clear()
    matches.answer(people.asker, m.id, True, link)
    send_pending()
    assert smtp.messages == []  # one yes is not a confirmation
    matches.answer(people.helper, m.id, True, link)
    send_pending()
    assert db.session.get(Match, m.id).status == "accepted"
    text = {msg["rcpt"][0]: msg["msg"].get_body(("plain",)).get_content() for msg in smtp.messages}
    assert set(text) == {"riley@example.org", "hana@example.org"}
    assert all(b"Subject: Your match is confirmed" in msg["raw"] for msg in smtp.messages)
    assert "Hana" in text["riley@example.org"] and "Riley" in text["hana@example.org"]
    assert all(link(m) in body for body in text.values())


def test_only_the_two_matched_people_answer_once_while_it_waits(people, pair):
    m = pair.match
    refused(Conflict, matches.answer, people.asker, m.id, True, match="nothing to answer")  # not approved yet
    matches.approve(people.coord, m.id, link)
    refused(NotAllowed, matches.answer, people.member, m.id, True)
    refused(NotAllowed, matches.answer, people.coord2, m.id, True)  # Riley can log in and answers herself
    refused(NotAllowed, matches.answer, people.asker, 999999, True)
    before = snapshot()
    matches.answer(people.asker, m.id, True)
    d = diff(before, snapshot())
    row = d["matches"][m.id]
    assert (row.status, row.need_answer, row.offer_answer) == ("approved", "accepted", None)
    assert (d["posts"], d["audit"], d["outbox"]) == ({}, [], [])
    refused(Conflict, matches.answer, people.asker, m.id, False, match="already answered")
    matches.answer(people.helper, m.id, True)
    refused(Conflict, matches.answer, people.helper, m.id, False, match="nothing to answer")  # confirmed


def test_a_coordinator_answers_for_a_resident_who_cannot_log_in(people, make_post):
    resident, offer, m = resident_pair(people, make_post, people.helper)
    before = snapshot()
    matches.answer(people.coord, m.id, True, link)
    d = diff(before, snapshot())
    assert d["audit"] == [(people.coord.id, "answer_for_resident", m.id, {"side": "need", "answer": "accepted"})]
    assert d["matches"][m.id].need_answer == "accepted" and d["outbox"] == []
    refused(Conflict, matches.answer, people.coord2, m.id, True, match="already answered")
    before = snapshot()
    matches.answer(people.helper, m.id, True, link)
    d = diff(before, snapshot())
    assert d["matches"][m.id].status == "accepted" and d["audit"] == []
    # The resident's email goes to the coordinator who filed the request for them.
    assert sorted(d["outbox"]) == [("drew@example.org", "Your match is confirmed"),
                                   ("hana@example.org", "Your match is confirmed")]


def test_a_resident_with_an_email_but_no_login_is_answered_for_and_reached_by_email(people, make_post):
    resident, offer, m = resident_pair(people, make_post, people.helper, email="jordan@example.org")
    assert not resident.can_log_in and side_of(people.coord, m) == "need"
    assert sorted(snapshot()["outbox"]) == [("drew@example.org", "You have a match"), ("hana@example.org", "You have a match")]
    assert contact_cards(people.helper, m)["need"].reach == "jordan@example.org"


def test_a_coordinator_answers_for_a_resident_who_offers(people, make_post):
    resident = create_resident(people.coord, "Jordan Reyes", "54016")
    make_post(resident, kind="offer", title="Rides", actor=people.coord)
    need = make_post(people.asker, title="Ride")
    m = matches.approve(people.coord2, proposal(need).id, link)
    before = snapshot()
    matches.answer(people.coord2, m.id, False)
    d = diff(before, snapshot())
    assert d["audit"] == [(people.coord2.id, "answer_for_resident", m.id, {"side": "offer", "answer": "declined"})]
    assert (d["matches"][m.id].status, d["matches"][m.id].reject_reason) == ("declined", "declined by the helper")


def test_a_coordinator_answers_first_for_their_own_side(people, make_post):
    resident, offer, m = resident_pair(people, make_post, people.coord2)  # Drew files the request and offers
    assert (side_of(people.coord2, m), side_of(people.coord, m), side_of(people.member, m)) == ("offer", "need", None)
    before = snapshot()
    matches.answer(people.coord2, m.id, True)
    d = diff(before, snapshot())
    assert (d["matches"][m.id].offer_answer, d["matches"][m.id].need_answer) == ("accepted", None)
    assert d["audit"] == []  # their own answer, not one given for someone
    refused(Conflict, matches.answer, people.coord2, m.id, True, match="already answered")


def test_a_decline_frees_the_units_tells_both_and_proposes_the_next_offer(people, make_post):
    first = make_post(people.helper, kind="offer", title="Rides")
    second = make_post(people.helper2, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    m = matches.approve(people.coord, proposal(need).id, link)
    nxt_offer = second if m.offer_id == first.id else first
    before = snapshot()
    matches.answer(people.asker, m.id, False)
    d = diff(before, snapshot())
    nxt = proposal(need)
    assert (d["matches"][m.id].status, d["matches"][m.id].reject_reason) == ("declined", "declined by the person asking")
    assert set(d["matches"]) == {m.id, nxt.id} and (nxt.offer_id, nxt.status) == (nxt_offer.id, "proposed")
    assert {k: v.units_committed for k, v in d["posts"].items()} == {m.offer_id: 0, need.id: 0}
    helper = db.session.get(User, m.offer.owner_id)
    assert sorted(to for to, _ in d["outbox"]) == sorted(["riley@example.org", helper.email])
    assert {s for _, s in d["outbox"]} == {"A match did not go ahead"} and d["audit"] == []
    matches.approve(people.coord, nxt.id, link)
    matches.answer(db.session.get(User, nxt_offer.owner_id), nxt.id, False)
    assert db.session.get(Match, nxt.id).reject_reason == "declined by the helper"
    assert proposals_for(need) == []  # both offers declined: none left to propose


# "I can help" ---------------------------------------------------------------------------------------

def test_i_can_help_refuses_what_the_helper_cannot_offer(people, make_post, make_user):
    mine = make_post(people.helper, kind="offer", title="Rides", quantity=2)
    need = make_post(people.asker, title="Ride")
    theirs = make_post(people.helper2, kind="offer", title="Rides")
    food = make_post(people.helper, kind="offer", category="food", title="Soup")
    gone = make_post(people.helper, kind="offer", title="Old rides")
    withdraw_post(people.helper, gone)
    own_need = make_post(people.helper, title="A ride for me")
    h = people.helper
    refused(NotAllowed, matches.volunteer, h, mine.id, mine.id, "")
    refused(NotAllowed, matches.volunteer, h, 999999, mine.id, "")
    refused(FieldError, matches.volunteer, h, own_need.id, mine.id, "", field="offer_id", match="own request")
    for offer_id in (theirs.id, gone.id, need.id, None, "x"):
        refused(FieldError, matches.volunteer, h, need.id, offer_id, "", field="offer_id", match="your open offers")
    refused(FieldError, matches.volunteer, h, need.id, food.id, "", field="offer_id", match="Rides")
    refused(FieldError, matches.volunteer, h, need.id, mine.id, "x" * 1001, field="note")
    refused(NotConfirmed, matches.volunteer, make_user(confirmed=False), need.id, mine.id, "")
    far = make_post(people.helper, kind="offer", category="food", title="Soup", zip_code="55401", radius_miles=5.0)
    meals = make_post(people.asker2, category="food", title="Meals", zip_code="54016")
    refused(FieldError, matches.volunteer, h, meals.id, far.id, "", field="offer_id", match="doesn't reach")
    matches.manual_match(people.coord, make_post(people.asker2, title="Rides", quantity=2).id, mine.id, 2, link)
    refused(FieldError, matches.volunteer, h, need.id, mine.id, "", field="offer_id", match="no room")


def test_i_can_help_refuses_requests_that_are_closed_full_or_for_money(people, make_post):
    offer = make_post(people.helper, kind="offer", title="Rides", quantity=3)
    covered = make_post(people.asker, title="Ride")
    matches.approve(people.coord, proposal(covered).id, link)
    closed = make_post(people.asker2, title="Ride back")
    withdraw_post(people.asker2, closed)
    mine = make_post(people.helper2, kind="offer", title="Rides", quantity=3)
    for need in (covered, closed):
        refused(Conflict, matches.volunteer, people.helper2, need.id, mine.id, "", match="no longer open")
    money_need = make_post(people.member, category="food", title="Rent")
    money_offer = make_post(people.helper2, kind="offer", category="food", title="Cash")
    to_money(money_need, money_offer)
    refused(Conflict, matches.volunteer, people.helper2, money_need.id, money_offer.id, "", match="fund")
    assert units(offer) == 1


def test_i_can_help_joins_a_waiting_proposal_for_the_same_pair(people, make_post):
    offer = make_post(people.helper, kind="offer", category="skills", title="Tax forms", quantity=2)
    need = make_post(people.asker, category="skills", title="Help with two tax forms", quantity=2)
    m = proposal(need)
    assert (m.offer_id, m.source, m.note, m.units) == (offer.id, "engine", None, 2)
    first = "I can come Tuesdays. Call first."
    notes = [(first, first), (first, first), ("Call first.", first), ("", first),
             ("x" * 1000, first + "\n\n" + "x" * 1000)]
    for note, expected in notes:
        before = snapshot()
        assert matches.volunteer(people.helper, need.id, offer.id, f"  {note} ").id == m.id
        d = diff(before, snapshot())
        assert (d["matches"][m.id].note if d["matches"] else m.note) == expected
        assert db.session.get(Match, m.id).source == "volunteer" and set(d["matches"]) <= {m.id}
        assert (d["posts"], d["audit"], d["outbox"]) == ({}, [], [])
    matches.reject(people.coord, m.id, "One form at a time")
    matches.manual_match(people.coord, need.id, offer.id, 1, link)  # both still have room for one more
    refused(Conflict, matches.volunteer, people.helper, need.id, offer.id, "Again", match="already matched")


def test_i_can_help_proposes_a_new_pair_for_the_coordinators(people, make_post):
    make_post(people.helper2, kind="offer", title="Rides", quantity=3)
    need = make_post(people.asker, title="Rides to therapy", quantity=2)
    mine = make_post(people.helper, kind="offer", title="Rides", quantity=5)
    before = snapshot()
    m = matches.volunteer(people.helper, need.id, mine.id, "I drive that way anyway")
    d = diff(before, snapshot())
    assert list(d["matches"]) == [m.id]
    assert (m.status, m.source, m.units, m.note, m.created_by_id) == ("proposed", "volunteer", 2, "I drive that way anyway",
                                                                     people.helper.id)
    assert (d["posts"], d["audit"], d["outbox"]) == ({}, [], [])



def test_a_pair_waits_for_the_coordinators_only_while_proposed(people, make_post):
    offer = make_post(people.helper, kind="offer", title="Rides")
    other = make_post(people.helper2, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    m = proposal(need)
    mine, theirs = (offer, other) if m.offer_id == offer.id else (other, offer)
    assert matches.pending_pair(need.id, mine.id) is True
    assert (matches.pending_pair(need.id, theirs.id), matches.pending_pair(need.id, None)) == (False, False)
    matches.approve(people.coord, m.id, link)
    assert matches.pending_pair(need.id, mine.id) is False

# Closing a post, running out of time -------------------------------------------------------------------

def test_withdrawing_a_request_cancels_even_confirmed_matches_and_tells_only_the_helpers(people, make_post):
    offers = [make_post(h, kind="offer", title="Rides") for h in (people.helper, people.helper2, people.member)]
    need = make_post(people.asker, title="Rides for three", quantity=3)
    ms = proposals_for(need)
    assert sorted(m.offer_id for m in ms) == [o.id for o in offers]
    confirmed, approved, waiting = sorted(ms, key=lambda m: m.offer_id)
    for m in (confirmed, approved):
        matches.approve(people.coord, m.id, link)
    matches.answer(people.asker, confirmed.id, True)
    matches.answer(people.helper, confirmed.id, True)
    before = snapshot()
    withdraw_post(people.asker, db.session.get(Post, need.id))
    d = diff(before, snapshot())
    assert {k: v.status for k, v in d["matches"].items()} == {m.id: "cancelled" for m in ms}
    assert {k: (v.status, v.units_committed) for k, v in d["posts"].items()} == {
        need.id: ("withdrawn", 0), offers[0].id: ("open", 0), offers[1].id: ("open", 0)}
    assert sorted(d["outbox"]) == [("hana@example.org", "A match was cancelled"), ("ivan@example.org", "A match was cancelled")]
    assert d["audit"] == []


def test_a_fulfilled_request_keeps_its_confirmed_match_and_cancels_the_unconfirmed(people, make_post):
    confirmed_offer = make_post(people.helper, kind="offer", title="Rides")
    open_offer = make_post(people.helper2, kind="offer", title="Rides")
    need = make_post(people.asker, title="Rides for two", quantity=2)
    confirmed, unconfirmed = sorted(proposals_for(need), key=lambda m: m.offer_id != confirmed_offer.id)
    for m in (confirmed, unconfirmed):
        matches.approve(people.coord, m.id, link)
    matches.answer(people.asker, confirmed.id, True)
    matches.answer(people.helper, confirmed.id, True)
    before = snapshot()
    mark_fulfilled(people.asker, db.session.get(Post, need.id))
    d = diff(before, snapshot())
    assert {k: v.status for k, v in d["matches"].items()} == {unconfirmed.id: "cancelled"}
    assert {k: (v.status, v.units_committed) for k, v in d["posts"].items()} == {
        need.id: ("fulfilled", 1), open_offer.id: ("open", 0)}
    assert units(confirmed_offer) == 1
    assert d["outbox"] == [("ivan@example.org", "A match was cancelled")]


def test_only_approved_matches_past_their_answer_time_lapse(people, make_post, make_user):
    offer = make_post(people.helper, kind="offer", title="Rides", quantity=5)
    needs = [make_post(make_user("resident"), title=f"Ride {i}") for i in range(4)]
    silent, half, both, waiting = (proposal(n) for n in needs)
    for m in (silent, half, both):
        matches.approve(people.coord, m.id, link)
    matches.answer(people.helper, half.id, True)
    matches.answer(people.helper, both.id, True)
    matches.answer(db.session.get(User, needs[2].owner_id), both.id, True)
    first, last = (db.session.get(Match, m.id).respond_by for m in (silent, half))
    for now in (utcnow() + timedelta(hours=47), first):  # 48 hours to answer, the deadline itself included
        before = snapshot()
        assert matches.expire_unanswered(now=now) == 0
        assert snapshot() == before
    before = snapshot()
    assert matches.expire_unanswered(now=last + timedelta(seconds=1)) == 2
    d = diff(before, snapshot())
    assert {k: (v.status, v.reject_reason) for k, v in d["matches"].items()} == {
        silent.id: ("declined", "no answer in time"), half.id: ("declined", "no answer in time")}
    assert {k: v.units_committed for k, v in d["posts"].items()} == {offer.id: 1, needs[0].id: 0, needs[1].id: 0}
    assert len(d["outbox"]) == 4 and {s for _, s in d["outbox"]} == {"A match did not go ahead"}
    assert db.session.get(Match, waiting.id).status == "proposed"
