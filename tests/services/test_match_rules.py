"""The match lifecycle's rules, on the services themselves (web, CLI and any later API inherit them):
who may decide, what each decision changes, and that a refused call changes nothing at all.
What the two people do and see ("I can help", answers, contact cards), closing, expiry:
test_match_disclosure.py."""
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEntry, Match, OutboxEmail, Post, Suggestion, User
from app.models.posts import MONEY_CATEGORY
from app.services import Conflict, FieldError, NotAllowed
from app.services import matches
from app.services import proposals as proposal_service
from app.services.posts import withdraw_post
from tests.conftest import reads_as_a_sentence


def link(m):
    return f"http://localhost/matches/{m.id}"


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        coord=make_user("coordinator", name="Casey Coordinator", email="casey@example.org"),
        coord2=make_user("coordinator", name="Drew Coordinator", email="drew@example.org"),
        asker=make_user("resident", name="Riley Resident", email="riley@example.org"),
        asker2=make_user("resident", name="Sam Resident", email="sam@example.org"),
        helper=make_user(name="Hana Helper", email="hana@example.org"),
        helper2=make_user(name="Ivan Helper", email="ivan@example.org"),
        member=make_user(name="Mo Member", email="mo@example.org"),
    )


def snapshot():
    """What is committed, read on a connection of its own."""
    with db.engine.connect() as conn:
        return {
            "matches": conn.execute(select(
                Match.id, Match.status, Match.need_id, Match.offer_id, Match.units, Match.source, Match.note,
                Match.need_answer, Match.offer_answer, Match.reject_reason, Match.decided_by_id, Match.closed_at,
            ).order_by(Match.id)).all(),
            "posts": conn.execute(select(Post.id, Post.status, Post.units_committed).order_by(Post.id)).all(),
            "audit": conn.execute(select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.subject_id,
                                         AuditEntry.details).order_by(AuditEntry.id)).all(),
            "outbox": conn.execute(select(OutboxEmail.to_addr, OutboxEmail.subject).order_by(OutboxEmail.id)).all(),
        }


def diff(before, after):
    """Matches and posts that changed or appeared (by id); audit rows and emails added since."""
    out = {}
    for key in ("matches", "posts"):
        old = {row.id: row for row in before[key]}
        out[key] = {row.id: row for row in after[key] if old.get(row.id) != row}
    for key in ("audit", "outbox"):
        assert after[key][:len(before[key])] == before[key]
        out[key] = [tuple(row) for row in after[key][len(before[key]):]]
    return out


def refused(exc, fn, *args, field=None, match=None):
    """`fn(*args)` raises `exc` (on `field`) and changes nothing, even for a caller that commits after."""
    before = snapshot()
    with pytest.raises(exc, match=match) as info:
        fn(*args)
    db.session.commit()
    assert snapshot() == before
    assert reads_as_a_sentence(info.value.message), info.value.message
    if field is not None:
        assert info.value.field == field
    return info.value


def proposals_for(need):
    return db.session.scalars(select(Match).where(Match.need_id == need.id, Match.status == "proposed")
                              .order_by(Match.id)).all()


def proposal(need):
    [m] = proposals_for(need)
    return m


def suggest_all(need):
    """Rank every offer for the need again (as a re-run would), keeping its proposals."""
    proposal_service.propose_for_need(db.session.get(Post, need.id))
    db.session.commit()


def to_money(*posts):
    """Money posts as they were before the fund existed (no form can make one now)."""
    db.session.execute(update(Post).where(Post.id.in_([p.id for p in posts])).values(category=MONEY_CATEGORY))
    db.session.commit()
    db.session.expire_all()


def units(post):
    db.session.expire_all()
    return db.session.get(Post, post.id).units_committed


# Capacity --------------------------------------------------------------------------------------

def _three_approved(people, make_post, seats):
    """Two rides from one shared offer (2 units and 1) and a food match beside them, all approved."""
    shared = make_post(people.helper, kind="offer", title="Rides", quantity=seats)
    need = make_post(people.asker, title="Ride to the clinic", quantity=2)
    other_need = make_post(people.asker2, title="Ride to work")
    soup = make_post(people.helper2, kind="offer", category="food", title="Soup", quantity=4)
    meals = make_post(people.member, category="food", title="Meals", quantity=3)
    approved = [matches.approve(people.coord, proposal(n).id, link) for n in (need, other_need, meals)]
    return (shared, need, other_need, soup, meals), approved


def test_a_decline_frees_exactly_its_units_on_its_own_two_posts(people, make_post):
    (shared, need, other_need, soup, meals), (m, other, food) = _three_approved(people, make_post, seats=5)
    assert (m.units, other.units, food.units) == (2, 1, 3) and m.offer_id == other.offer_id == shared.id
    assert [units(p) for p in (shared, need, other_need, soup, meals)] == [3, 2, 1, 3, 3]
    before = snapshot()
    matches.answer(people.helper, m.id, False)
    d = diff(before, snapshot())
    assert {k: v.units_committed for k, v in d["posts"].items()} == {shared.id: 1, need.id: 0}
    assert list(d["matches"]) == [m.id] and d["matches"][m.id].status == "declined"


def test_a_cancellation_frees_only_its_own_posts_and_never_goes_below_zero(people, make_post):
    (shared, need, other_need, soup, meals), (m, other, food) = _three_approved(people, make_post, seats=3)
    withdraw_post(people.member, db.session.get(Post, meals.id))
    assert [units(p) for p in (soup, meals, shared, need, other_need)] == [0, 0, 3, 2, 1]
    # The need's count is out of step with its match (old data): the release stops at zero.
    db.session.execute(update(Post).where(Post.id == other_need.id).values(units_committed=0))
    db.session.commit()
    withdraw_post(people.helper, db.session.get(Post, shared.id))
    assert [units(p) for p in (shared, need, other_need, soup)] == [0, 0, 0, 0]
    db.session.expire_all()
    assert [db.session.get(Match, x.id).status for x in (m, other, food)] == ["cancelled"] * 3


# Who decides --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["member", "resident"])
def test_only_coordinators_approve_reject_swap_or_match_by_hand(people, make_post, make_user, role):
    someone = make_user(role)
    make_post(people.helper, kind="offer", title="Rides")
    make_post(people.helper2, kind="offer", title="More rides")
    need = make_post(people.asker, title="Ride")
    m = proposal(need)
    other = next(s.offer_id for s in db.session.scalars(select(Suggestion)) if s.offer_id != m.offer_id)
    refused(NotAllowed, matches.approve, someone, m.id, link)
    refused(NotAllowed, matches.reject, someone, m.id, "Helper is away")
    refused(NotAllowed, matches.reject, someone, m.id, "")  # not told about the form's rules either
    refused(NotAllowed, matches.swap, someone, m.id, other)
    refused(NotAllowed, matches.manual_match, someone, need.id, other, 1, link)
    assert matches.swap(people.coord, m.id, other).offer_id == other  # the same calls work for a coordinator


def test_a_coordinator_cannot_decide_on_a_request_they_posted(people, make_post):
    make_post(people.helper, kind="offer", title="Rides")
    make_post(people.helper2, kind="offer", title="More rides")
    need = make_post(people.coord, title="Ride for me")
    m = proposal(need)
    other = next(s.offer_id for s in db.session.scalars(select(Suggestion)) if s.offer_id != m.offer_id)
    refused(NotAllowed, matches.approve, people.coord, m.id, link)
    refused(NotAllowed, matches.reject, people.coord, m.id, "Not needed")
    refused(NotAllowed, matches.swap, people.coord, m.id, other)
    refused(NotAllowed, matches.manual_match, people.coord, need.id, other, 1, link)
    assert matches.approve(people.coord2, m.id, link).status == "approved"


def test_a_coordinator_cannot_decide_on_an_offer_they_posted(people, make_post):
    mine = make_post(people.coord, kind="offer", title="Rides from a coordinator", quantity=2)
    need = make_post(people.asker, title="Ride")
    m = proposal(need)
    assert m.offer_id == mine.id
    theirs = make_post(people.helper, kind="offer", title="Rides")
    suggest_all(need)
    later = make_post(people.asker2, category="household_items", title="A coat")
    refused(NotAllowed, matches.approve, people.coord, m.id, link)
    refused(NotAllowed, matches.reject, people.coord, m.id, "Busy")
    refused(NotAllowed, matches.swap, people.coord, m.id, theirs.id)
    refused(NotAllowed, matches.manual_match, people.coord, later.id, mine.id, 1, link)
    assert matches.reject(people.coord2, m.id, "Busy").status == "rejected"


def test_a_coordinator_cannot_swap_a_request_onto_their_own_offer(people, make_post):
    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    m = proposal(need)
    mine = make_post(people.coord, kind="offer", title="Rides from a coordinator")
    suggest_all(need)
    refused(NotAllowed, matches.swap, people.coord, m.id, mine.id)
    assert matches.swap(people.coord2, m.id, mine.id).offer_id == mine.id


# Swap ----------------------------------------------------------------------------------------------

def test_swap_takes_only_another_free_candidate_of_the_request(people, make_post, make_user):
    for helper in (people.helper, people.helper2, people.member):
        make_post(helper, kind="offer", title="Rides")
    soup = make_post(make_user(), kind="offer", category="food", title="Soup")
    need = make_post(people.asker, title="Ride")
    m = proposal(need)
    full, closed = [s.offer for s in db.session.scalars(select(Suggestion).order_by(Suggestion.rank))
                    if s.offer_id != m.offer_id]
    for bad in (soup.id, m.offer_id, 999999, "abc", "", None, 0, -1, True):
        refused(FieldError, matches.swap, people.coord, m.id, bad, field="offer_id")
    coat = make_post(people.asker2, category="household_items", title="A coat")
    matches.manual_match(people.coord2, coat.id, full.id, None, link)
    withdraw_post(db.session.get(User, closed.owner_id), db.session.get(Post, closed.id))
    refused(Conflict, matches.swap, people.coord, m.id, full.id, match="closed or full")
    refused(Conflict, matches.swap, people.coord, m.id, closed.id, match="closed or full")
    matches.approve(people.coord, m.id, link)
    freed = make_post(make_user(), kind="offer", title="Rides too")
    suggest_all(need)
    refused(Conflict, matches.swap, people.coord, m.id, freed.id)  # approved: no longer swappable


def test_swap_rejects_the_old_proposal_and_proposes_what_the_new_offer_can_take(people, make_post):
    first = make_post(people.helper, kind="offer", category="food", title="Meals", quantity=5)
    need = make_post(people.asker, category="food", title="Meals for three", quantity=3)
    m = proposal(need)
    assert (m.offer_id, m.units) == (first.id, 3)
    second = make_post(people.helper2, kind="offer", category="food", title="More meals", quantity=4)
    coat = make_post(people.asker2, category="household_items", title="A coat", quantity=2)
    matches.manual_match(people.coord2, coat.id, second.id, 2, link)  # 2 of its 4 are promised
    suggest_all(need)
    before = snapshot()
    new = matches.swap(people.coord, m.id, second.id)
    d = diff(before, snapshot())
    old = d["matches"][m.id]
    assert (old.status, old.reject_reason, old.decided_by_id) == ("rejected", "Swapped for another offer", people.coord.id)
    assert old.closed_at is not None
    assert (new.status, new.need_id, new.offer_id, new.units, new.source) == ("proposed", need.id, second.id, 2, "engine")
    assert set(d["matches"]) == {m.id, new.id}
    assert d["audit"] == [(people.coord.id, "swap", m.id, {"new_match": new.id, "offer": second.id})]
    assert d["posts"] == {} and d["outbox"] == []
    back = matches.swap(people.coord, new.id, first.id)  # room for more than the proposal held: its units
    assert (back.offer_id, back.units) == (first.id, 2)


# Reject --------------------------------------------------------------------------------------------

def test_reject_needs_a_reason_of_at_most_300_characters_and_is_audited(people, make_post):
    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    m = proposal(need)
    for reason in ("", "   ", None, "x" * 301):
        refused(FieldError, matches.reject, people.coord, m.id, reason, field="reason")
    refused(NotAllowed, matches.reject, people.coord, 999999, "Gone")
    before = snapshot()
    matches.reject(people.coord, m.id, "  " + "x" * 300 + "\n")
    d = diff(before, snapshot())
    row = d["matches"][m.id]
    assert (row.status, row.reject_reason, row.decided_by_id) == ("rejected", "x" * 300, people.coord.id)
    assert row.closed_at is not None and list(d["matches"]) == [m.id]
    assert d["audit"] == [(people.coord.id, "reject", m.id, {})]  # the reason is on the match, not in the log
    assert d["posts"] == {} and d["outbox"] == []


def test_a_money_proposal_from_before_the_fund_cannot_be_approved(people, make_post):
    offer = make_post(people.helper, kind="offer", category="food", title="Cash")
    need = make_post(people.asker, category="food", title="Rent")
    m = proposal(need)
    to_money(need, offer)
    refused(Conflict, matches.approve, people.coord, m.id, link, match="fund")


def test_an_approved_match_cannot_be_rejected(people, make_post):
    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    m = matches.approve(people.coord, proposal(need).id, link)
    refused(Conflict, matches.reject, people.coord2, m.id, "Changed my mind")
    assert units(need) == 1


# Matching by hand ------------------------------------------------------------------------------------

def test_manual_match_takes_a_request_and_an_offer_that_exist(people, make_post):
    need = make_post(people.asker, category="household_items", title="A coat")
    offer = make_post(people.helper, kind="offer", category="food", title="Soup")
    for need_id, offer_id in ((offer.id, offer.id), (need.id, need.id), (offer.id, need.id), (None, offer.id),
                              (need.id, None), (999999, offer.id), (need.id, "abc")):
        refused(NotAllowed, matches.manual_match, people.coord, need_id, offer_id, 1, link)


def test_manual_match_refuses_pairs_that_cannot_be_made(people, make_post):
    need = make_post(people.asker, category="household_items", title="A coat")
    offer = make_post(people.helper, kind="offer", category="food", title="Soup")
    own = make_post(people.asker, kind="offer", category="food", title="My soup")
    refused(FieldError, matches.manual_match, people.coord, need.id, own.id, 1, link, field="offer_id")
    money_need = make_post(people.asker2, category="food", title="Rent")
    money_offer = make_post(people.helper2, kind="offer", category="food", title="Cash")
    to_money(money_need, money_offer)
    refused(Conflict, matches.manual_match, people.coord, money_need.id, offer.id, 1, link, match="fund")
    refused(Conflict, matches.manual_match, people.coord, need.id, money_offer.id, 1, link, match="fund")
    closed_need = make_post(people.member, category="skills", title="Help with a form")
    closed_offer = make_post(people.member, kind="offer", category="skills", title="Tax forms")
    withdraw_post(people.member, closed_need)
    withdraw_post(people.member, closed_offer)
    refused(Conflict, matches.manual_match, people.coord, closed_need.id, offer.id, 1, link, match="request or offer is closed")
    refused(Conflict, matches.manual_match, people.coord, need.id, closed_offer.id, 1, link, match="request or offer is closed")


def test_manual_match_units_run_from_one_to_what_the_request_still_needs(people, make_post):
    need = make_post(people.asker, category="household_items", title="Coats", quantity=4)
    one = make_post(people.helper, kind="offer", category="food", title="Soup")
    other = make_post(people.helper2, kind="offer", category="food", title="Meals", quantity=9)
    matches.manual_match(people.coord, need.id, one.id, None, link)  # 1 of the 4 is covered: 3 left
    for bad in (0, -1, 4):
        refused(FieldError, matches.manual_match, people.coord, need.id, other.id, bad, link, field="units")
    m = matches.manual_match(people.coord, need.id, other.id, 3, link)
    assert (m.units, m.status, units(need), units(other)) == (3, "approved", 4, 3)


def test_a_manual_match_the_offer_has_no_room_for_leaves_nothing_behind(people, make_post):
    need = make_post(people.asker, category="household_items", title="Coats", quantity=4)
    offer = make_post(people.helper, kind="offer", category="food", title="Soup", quantity=2)
    refused(Conflict, matches.manual_match, people.coord, need.id, offer.id, 3, link, match="no room")


def test_manual_match_is_approved_at_once_takes_capacity_and_emails_both(people, make_post):
    need = make_post(people.asker, category="household_items", title="Coats", quantity=3)
    offer = make_post(people.helper, kind="offer", category="food", title="Soup", quantity=2)
    before = snapshot()
    m = matches.manual_match(people.coord, need.id, offer.id, None, link)  # as many as both have: 2
    d = diff(before, snapshot())
    row = d["matches"][m.id]
    assert (row.status, row.source, row.units, row.decided_by_id) == ("approved", "manual", 2, people.coord.id)
    assert {k: v.units_committed for k, v in d["posts"].items()} == {need.id: 2, offer.id: 2}
    details = {"need": need.id, "offer": offer.id, "units": 2}
    assert d["audit"] == [(people.coord.id, "manual_match", m.id, details), (people.coord.id, "approve", m.id, details)]
    assert sorted(d["outbox"]) == [("hana@example.org", "You have a match"), ("riley@example.org", "You have a match")]
    small = make_post(people.asker2, category="household_items", title="A blanket", quantity=2)
    big = make_post(people.helper2, kind="offer", category="food", title="Meals", quantity=9)
    assert matches.manual_match(people.coord, small.id, big.id, None, link).units == 2
