"""Blocks and bars, as the services apply them: proposals withdrawn quietly and never made again,
"I can help" taken but never approved, group sessions refused with one sentence, the roster, the
waiting list, and coordinators' bars (every resident, or one: a no-contact order)."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Bar, Block, Match, OutboxEmail
from app.services import Conflict, FieldError, NotAllowed, bars, blocks, exclusions, group_access, groups_join
from app.services import matches, proposals
from tests.conftest import reads_as_a_sentence
from tests.services.groups_helpers import group_offer, link, schedule, sessions_of
from tests.services.safety_helpers import link_for, people, proposed_pairs  # noqa: F401 - a fixture


# Blocks ------------------------------------------------------------------------------------------

def test_a_block_withdraws_pending_proposals_quietly_and_the_two_are_never_proposed_again(people, make_post):
    member, helper = people["member"], people["helper"]
    offer = make_post(helper, kind="offer", title="Rides around town", quantity=5)
    need = make_post(member, title="Ride to the clinic")
    proposal = db.session.scalar(select(Match).where(Match.need_id == need.id))
    assert proposal.offer_id == offer.id
    blocks.block_post_owner(member, offer.id)
    db.session.expire_all()
    assert db.session.get(Match, proposal.id).status == "cancelled"
    assert db.session.query(OutboxEmail).count() == 0  # nobody is told
    proposals.propose_missing()  # the tick
    proposals.run_all()  # the nightly run
    make_post(member, title="Another ride")
    make_post(helper, kind="offer", title="More rides")
    assert proposed_pairs() == set()
    # The other person volunteering: taken like any offer, never approved.
    volunteered = matches.volunteer(helper, need.id, offer.id, "")
    with pytest.raises(Conflict) as err:
        matches.approve(people["coord"], volunteered.id, link_for)
    assert "blocked" in err.value.message
    db.session.rollback()
    with pytest.raises(FieldError):
        matches.manual_match(people["coord"], need.id, offer.id, None, link_for)
    db.session.rollback()
    assert db.session.query(OutboxEmail).count() == 0


def test_blocks_are_made_only_through_what_one_can_see_and_undone_only_by_their_owner(people, make_post):
    member, helper, other = people["member"], people["helper"], people["resident"]
    offer = make_post(helper, kind="offer", title="Rides around town")
    need = make_post(member, title="Ride to the clinic")
    match = db.session.scalar(select(Match).where(Match.need_id == need.id))
    with pytest.raises(NotAllowed):
        blocks.block_match_partner(other, match.id)  # not theirs
    with pytest.raises(Conflict):
        blocks.block_post_owner(member, need.id)  # their own post
    block = blocks.block_match_partner(member, match.id)
    assert (block.blocker_id, block.blocked_id, block.context) == (member.id, helper.id, "Rides around town")
    assert blocks.block_post_owner(member, offer.id).id == block.id  # the same block
    from app.services.posts import withdraw_post

    withdraw_post(helper, offer)
    with pytest.raises(NotAllowed):
        blocks.block_post_owner(other, offer.id)  # a closed post they can't see
    assert blocks.blocks_of(helper) == [] and [b.id for b in blocks.blocks_of(member)] == [block.id]
    with pytest.raises(NotAllowed):
        blocks.unblock(helper, block.id)
    blocks.unblock(member, block.id)
    assert db.session.scalars(select(Block)).all() == []


def test_blocking_one_person_through_two_posts_lists_two_blocks_so_the_page_never_links_their_posts(people,
                                                                                                  make_post):
    member, helper = people["member"], people["helper"]
    rides = make_post(helper, kind="offer", title="Rides around town")
    meals = make_post(helper, kind="offer", category="food", title="Soup on Sundays")
    first, second = blocks.block_post_owner(member, rides.id), blocks.block_post_owner(member, meals.id)
    assert first.id != second.id
    assert [b.context for b in blocks.blocks_of(member)] == ["Soup on Sundays", "Rides around town"]
    blocks.unblock(member, first.id)
    assert [b.context for b in blocks.blocks_of(member)] == ["Soup on Sundays"]
    assert exclusions.load().apart(member.id, helper.id) == "block"  # still blocked through the other post


def test_blocked_people_cannot_join_each_others_groups_and_hear_the_same_sentence(people, make_post):
    host, member, stranger = people["helper"], people["member"], people["resident"]
    offer = group_offer(make_post, host)
    series = schedule(host, offer)
    session = sessions_of(series)[0]
    blocks.block_post_owner(member, offer.id)  # the member blocks the host
    with pytest.raises(NotAllowed) as one:
        groups_join.join_session(member, session.id, link_for=link)
    with pytest.raises(NotAllowed):
        groups_join.join_series(member, series.id, link_for=link)
    # The other way round: someone the host blocked.
    blocked_by_host = people["resident2"]
    their_post = make_post(blocked_by_host, title="Ride to the clinic")
    blocks.block_post_owner(host, their_post.id)
    with pytest.raises(NotAllowed) as two:
        groups_join.join_session(blocked_by_host, session.id, link_for=link)
    assert "block" not in one.value.message.lower() and "block" not in two.value.message.lower()
    # Someone the host blocked reads what anyone the host turned down reads: nothing of a block.
    assert two.value.message == "The host did not accept you for this session."
    with pytest.raises(NotAllowed) as whole:
        groups_join.join_series(blocked_by_host, series.id, link_for=link)
    assert whole.value.message == "The host did not accept you for this series."
    assert groups_join.join_session(stranger, session.id, link_for=link).status == "joined"
    assert group_access.why_not(blocked_by_host, session) == two.value.message


def test_a_hosts_sessions_are_left_out_of_the_groups_page_for_someone_the_host_blocked(people, make_post):
    from app.services import groups_browse

    host, blocked, other = people["helper"], people["resident2"], people["member"]
    session = sessions_of(schedule(host, group_offer(make_post, host)))[0]
    blocks.block_post_owner(host, make_post(blocked, title="Ride to the clinic").id)
    shown = groups_browse.upcoming(groups_browse.GroupFilters(), blocked)
    assert (shown.total, shown.items) == (0, [])
    assert [i.session.id for i in groups_browse.upcoming(groups_browse.GroupFilters(), other).items] == [session.id]
    assert groups_browse.upcoming(groups_browse.GroupFilters(), host).total == 1


def test_the_roster_says_a_barred_request_cant_be_accepted_and_blocked_requests_are_withdrawn(people, make_post):
    from app.models import SessionSeat
    from app.services import groups_roster

    host, asker, other, barred = people["helper"], people["member"], people["resident2"], people["resident"]
    offer = group_offer(make_post, host)
    session = sessions_of(schedule(host, offer, ask_first=True))[0]
    for person in (asker, other, barred):
        assert groups_join.join_session(person, session.id, link_for=link).status == "requested"
    db.session.query(OutboxEmail).delete()
    db.session.commit()
    blocks.block_post_owner(host, make_post(asker, title="Ride to the clinic").id)  # the host blocks the asker
    blocks.block_post_owner(other, offer.id)  # another requester blocks the host
    bars.add_bar(people["coord"], barred, None, "Asked to stay away from residents")
    db.session.expire_all()
    roster = groups_roster.roster(host, session.id)
    ((request,),) = [roster.requests]  # both blocked requests were withdrawn, quietly
    assert request.first_name == barred.first_name and request.blocked == group_access.why_not(barred, session)
    seat_id = db.session.scalar(select(SessionSeat.id).where(SessionSeat.user_id == asker.id))
    with pytest.raises(Conflict):
        groups_join.accept_request(host, seat_id, link_for=link)
    for person in (asker, other):
        assert db.session.scalar(select(SessionSeat.status).where(SessionSeat.user_id == person.id)) == "left"
    assert db.session.query(OutboxEmail).filter(OutboxEmail.to_addr.in_([asker.email, other.email])).count() == 0


def test_someone_blocked_while_on_the_waiting_list_is_never_given_the_place(people, make_post):
    host, first, waiting, next_in_line = people["helper"], people["member"], people["resident"], people["resident2"]
    offer = group_offer(make_post, host)
    session = sessions_of(schedule(host, offer, places=1))[0]
    for person in (first, waiting, next_in_line):
        groups_join.join_session(person, session.id, link_for=link)
    db.session.query(OutboxEmail).delete()
    db.session.commit()
    blocks.block_post_owner(host, make_post(waiting, title="Ride to the clinic").id)
    groups_join.leave_session(first, session.id, link_for=link)
    from tests.services.groups_helpers import seat

    # The host's block ended their place in line at once (quietly); the next in line gets the place.
    assert (seat(session, waiting).status, seat(session, next_in_line).status) == ("left", "joined")
    assert [m.to_addr for m in db.session.scalars(select(OutboxEmail))] == [next_in_line.email]


def test_a_swap_to_a_candidate_kept_apart_is_refused_with_the_reason(people, make_post):
    coord, member = people["coord"], people["member"]
    first = make_post(people["helper"], kind="offer", title="Rides around town")
    second = make_post(people["resident"], kind="offer", title="Rides on weekends")
    need = make_post(member, title="Ride to the clinic")
    proposal = db.session.scalar(select(Match).where(Match.need_id == need.id, Match.status == "proposed"))
    other = second if proposal.offer_id == first.id else first
    bars.add_bar(coord, member, None, "Reported")  # the member may no longer meet residents
    if proposal.offer_id == second.id:  # the engine had picked the resident's offer: the bar withdrew it
        proposal, other = matches.volunteer(people["helper"], need.id, first.id, ""), second
    with pytest.raises(FieldError) as err:
        matches.swap(coord, proposal.id, other.id)
    assert err.value.field == "offer_id" and "barred from being matched with residents" in err.value.message
    db.session.rollback()
    assert db.session.get(Match, proposal.id).status == "proposed"


# Bars --------------------------------------------------------------------------------------------

def test_a_bar_keeps_a_person_from_every_resident_is_audited_without_its_reason_and_can_be_lifted(people, make_post):
    coord, helper = people["coord"], people["helper"]
    make_post(helper, kind="offer", title="Rides around town", quantity=5)
    make_post(people["resident"], title="Ride to the clinic")
    assert (people["resident"].id, helper.id) in proposed_pairs()
    bar = bars.add_bar(coord, helper, None, "Reported for aggressive driving")
    assert proposed_pairs() == set()  # the waiting proposal was withdrawn
    make_post(people["resident2"], title="Ride to work")
    make_post(people["member"], title="Ride to the store")
    proposals.run_all()
    assert proposed_pairs() == {(people["member"].id, helper.id)}
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "bar_add"))
    assert entry.subject_id == helper.id and "aggressive" not in str(entry.details)
    with pytest.raises(Conflict):
        bars.add_bar(people["coord2"], helper, None, "again")
    db.session.rollback()
    bars.lift_bar(people["coord2"], bar.id)
    proposals.run_all()
    assert {p[0] for p in proposed_pairs()} >= {people["resident"].id, people["resident2"].id}
    assert [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("bar_%"))
                                                 .order_by(AuditEntry.id))] == ["bar_add", "bar_lift"]
    assert db.session.query(OutboxEmail).filter(OutboxEmail.to_addr == helper.email).count() == 0


def test_a_no_contact_order_keeps_two_people_apart_everywhere_and_no_one_else(people, make_post):
    coord, helper, riley, rae = people["coord"], people["helper"], people["resident"], people["resident2"]
    bars.add_bar(coord, helper, riley.id, "Court order, case 22-114")
    offer = make_post(helper, kind="offer", title="Rides around town", quantity=5)
    riley_need = make_post(riley, title="Ride to the clinic")
    make_post(rae, title="Ride to the clinic")
    assert proposed_pairs() == {(rae.id, helper.id)}
    with pytest.raises(FieldError) as err:
        matches.manual_match(coord, riley_need.id, offer.id, None, link_for)
    assert "no-contact" in err.value.message
    db.session.rollback()
    volunteered = matches.volunteer(helper, riley_need.id, offer.id, "")
    assert volunteered.status == "proposed"
    with pytest.raises(Conflict):
        matches.approve(coord, volunteered.id, link_for)
    db.session.rollback()
    # Group sessions: the barred person joins none; the resident does not join theirs.
    host_offer = group_offer(make_post, riley, title="Knitting circle")
    session = sessions_of(schedule(riley, host_offer))[0]
    with pytest.raises(NotAllowed):
        groups_join.join_session(helper, session.id, link_for=link)
    own = sessions_of(schedule(helper, group_offer(make_post, helper, title="Chess club")))[0]
    with pytest.raises(NotAllowed):
        groups_join.join_session(riley, own.id, link_for=link)
    assert groups_join.join_session(rae, own.id, link_for=link).status == "joined"
    with pytest.raises(FieldError):
        bars.add_bar(coord, helper, people["member"].id, "not a resident")


def test_a_bar_needs_a_reason_and_names_a_resident(people):
    with pytest.raises(FieldError) as err:
        bars.add_bar(people["coord"], people["helper"], None, "  ")
    assert err.value.field == "reason" and reads_as_a_sentence(err.value.message)
    for bad in ("abc", "99999999999", str(people["helper"].id), str(people["member"].id)):
        with pytest.raises(FieldError) as err:
            bars.add_bar(people["coord"], people["helper"], bad, "why")
        assert err.value.field == "resident_id"
    assert db.session.scalars(select(Bar)).all() == []


def test_a_host_who_blocks_someone_ends_their_places_in_the_hosts_sessions_still_to_come(people, make_post):
    from app.models import GroupSession, SeriesMember
    from app.services import groups_roster
    from tests.services.groups_helpers import seat

    host, blocked, waiting = people["helper"], people["member"], people["resident2"]
    series = schedule(host, group_offer(make_post, host), repeat="weekly", ends="count", count=2, places=1)
    first, second = sessions_of(series)
    assert groups_join.join_series(blocked, series.id, share_contact=True, link_for=link).joined == 2
    groups_join.join_session(waiting, first.id, link_for=link)
    other_host = people["resident"]
    elsewhere = sessions_of(schedule(other_host, group_offer(make_post, other_host)))[0]
    groups_join.join_session(blocked, elsewhere.id, link_for=link)
    db.session.query(OutboxEmail).delete()
    db.session.commit()
    blocks.block_post_owner(host, make_post(blocked, title="Ride to the clinic").id)
    db.session.expire_all()
    assert (seat(first, blocked).status, seat(second, blocked).status) == ("left", "left")
    assert seat(first, waiting).status == "joined"  # the waiting list moved up
    assert db.session.get(GroupSession, second.id).taken == 0
    assert db.session.scalar(select(SeriesMember.status).where(SeriesMember.user_id == blocked.id)) == "left"
    assert seat(elsewhere, blocked).status == "joined"  # another host's group is not touched
    assert [m.to_addr for m in db.session.scalars(select(OutboxEmail))] == [waiting.email]  # the blocked: no email
    roster = groups_roster.roster(host, first.id)
    assert [r.first_name for r in roster.joined + roster.waiting] == [waiting.first_name] != [blocked.first_name]
    assert blocked.email not in str([r.contact for r in roster.joined + roster.waiting])
