"""What each match decision records for the people who read it later: the audit row's object,
the times, who proposed it, the engine's reasons, and the link the emails carry.
Fixtures and helpers: test_match_rules.py."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Match, OutboxEmail, Post, Suggestion, User
from app.services import Conflict, matches
from app.services.disclosure import contact_cards
from app.services.posts import withdraw_post
from tests.services.test_match_rules import link, people, proposal, proposals_for, suggest_all  # noqa: F401


def _audit_rows():
    return db.session.execute(select(AuditEntry.action, AuditEntry.subject_type, AuditEntry.subject_id)
                              .order_by(AuditEntry.id)).all()


def test_every_decision_is_audited_against_its_match_with_its_times(people, make_post):
    make_post(people.helper, kind="offer", title="Rides", quantity=2)
    second = make_post(people.helper2, kind="offer", title="More rides")
    need = make_post(people.asker, title="Ride")
    suggest_all(need)
    m = proposal(need)
    new = matches.swap(people.coord, m.id, second.id if m.offer_id != second.id else proposals_for(need)[0].offer_id)
    db.session.expire_all()
    old = db.session.get(Match, m.id)
    assert old.decided_at is not None and old.closed_at is not None
    assert (new.created_by_id, new.source) == (people.coord.id, "engine")
    assert new.reasons and new.score > 0  # the engine's reasons for the new pair come along
    matches.reject(people.coord, new.id, "The helper is away that week.")
    rejected = db.session.get(Match, new.id)
    assert rejected.decided_at is not None and rejected.closed_at is not None
    coat = make_post(people.asker2, category="household_items", title="A coat")
    coats = make_post(people.helper, kind="offer", category="household_items", title="Coats")
    by_hand = matches.manual_match(people.coord, coat.id, coats.id, None, link)
    assert (by_hand.created_by_id, by_hand.source, by_hand.status) == (people.coord.id, "manual", "approved")
    assert by_hand.reasons and by_hand.distance_km is not None
    contact_cards(people.asker2, by_hand)
    matches.answer(people.asker2, by_hand.id, accept=False)
    declined = db.session.get(Match, by_hand.id)
    assert declined.closed_at is not None and declined.reject_reason == "declined by the person asking"
    assert [row for row in _audit_rows() if row.action != "contact_view"] == [
        ("swap", "match", m.id), ("reject", "match", new.id), ("manual_match", "match", by_hand.id),
        ("approve", "match", by_hand.id)]
    assert ("contact_view", "match", by_hand.id) in _audit_rows()


def test_answering_for_a_resident_is_audited_against_the_match(people, make_post, make_user):
    resident = make_user("resident", email="", name="Pat Resident")
    resident.password_hash = None
    resident.created_by_id = people.coord.id
    db.session.commit()
    offer = make_post(people.helper, kind="offer", title="Rides")
    need = make_post(resident, title="Ride", actor=people.coord)
    m = proposal(need)
    matches.approve(people.coord2, m.id, link)
    matches.answer(people.coord, m.id, accept=True)
    assert ("answer_for_resident", "match", m.id) in _audit_rows()
    assert db.session.get(Match, m.id).need_answer == "accepted" and offer.id == m.offer_id


def test_a_match_made_by_hand_emails_both_with_the_link_to_it(people, make_post):
    coat = make_post(people.asker, category="household_items", title="A coat")
    coats = make_post(people.helper, kind="offer", category="household_items", title="Coats")
    m = matches.manual_match(people.coord, coat.id, coats.id, None, link)
    bodies = db.session.scalars(select(OutboxEmail.body_text)).all()
    assert len(bodies) == 2 and all(f"http://localhost/matches/{m.id}" in body for body in bodies)


def test_i_can_help_keeps_its_own_pair_its_reasons_and_no_made_up_note(people, make_post):
    rides = make_post(people.helper, kind="offer", title="Rides", quantity=3)
    first = make_post(people.asker, title="Ride to work")
    second = make_post(people.asker2, title="Ride to the clinic")
    for need in (first, second):
        for m in proposals_for(need):
            matches.reject(people.coord, m.id, "Trying another way.")
    joined = matches.volunteer(people.helper, first.id, rides.id, None)
    assert (joined.need_id, joined.offer_id, joined.note, joined.source) == (first.id, rides.id, None, "volunteer")
    assert joined.reasons and joined.score > 0
    other = matches.volunteer(people.helper, second.id, rides.id, "Happy to.")
    assert other.id != joined.id and (other.need_id, other.note) == (second.id, "Happy to.")
    assert matches.pending_pair(first.id, rides.id) and matches.pending_pair(second.id, rides.id)
    matches.reject(people.coord, other.id, "Not this time.")
    assert not matches.pending_pair(second.id, rides.id) and matches.pending_pair(first.id, rides.id)


def test_withdrawing_a_request_ends_every_waiting_proposal_whoever_made_it(people, make_post):
    rides = make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    for m in proposals_for(need):
        matches.reject(people.coord, m.id, "Trying another way.")
    offered = matches.volunteer(people.helper, need.id, rides.id, "I can.")
    withdraw_post(people.asker, need)
    db.session.expire_all()
    assert db.session.get(Match, offered.id).status == "cancelled"


def test_an_approval_records_when_and_until_when_the_two_may_answer(people, make_post, app):
    from datetime import timedelta

    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    m = matches.approve(people.coord, proposal(need).id, link)
    db.session.expire_all()
    m = db.session.get(Match, m.id)
    assert m.decided_by_id == people.coord.id and m.decided_at is not None
    assert m.respond_by - m.decided_at == timedelta(hours=app.config["MATCH_RESPONSE_HOURS"])


def test_a_request_already_covered_by_another_match_cannot_be_approved_again(people, make_post):
    make_post(people.helper, kind="offer", title="Rides")
    make_post(people.helper2, kind="offer", title="More rides")
    need = make_post(people.asker, title="Ride")
    suggest_all(need)
    first = proposal(need)
    other = next(s.offer for s in db.session.scalars(select(Suggestion)) if s.offer_id != first.offer_id)
    second = matches.swap(people.coord, first.id, other.id)
    again = matches.volunteer(db.session.get(User, first.offer.owner_id), need.id, first.offer_id, "Still free.")
    matches.approve(people.coord, second.id, link)
    with pytest.raises(Conflict) as info:
        matches.approve(people.coord2, again.id, link)
    assert info.value.message == "This request is already covered by other matches, or it was closed."
    db.session.expire_all()
    assert db.session.get(Match, again.id).status == "proposed"
    assert db.session.get(Post, first.offer_id).units_committed == 0
