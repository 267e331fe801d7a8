"""Coordination: proposals from the engine, decisions, answers, capacity, follow-up, audit."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Match, Post, Suggestion
from app.models.audit import AppendOnlyError
from app.models.matches import TRANSITIONS, can_move
from app.services import Conflict, FieldError, NotAllowed
from app.services import matches
from app.services import proposals as proposal_service
from app.services import match_queue
from app.services import followup
from app.services.mail import send_pending
from app.timeutil import utcnow
from tests.conftest import local_dt, postgres_only


def link(match):
    return f"http://localhost/matches/{match.id}"


@pytest.fixture
def people(make_user):
    class People:
        coord = make_user("coordinator", name="Casey Coordinator", email="casey@example.org")
        coord2 = make_user("coordinator", name="Drew Coordinator", email="drew@example.org")
        asker = make_user("resident", name="Riley Resident", email="riley@example.org")
        helper = make_user(name="Hana Helper", email="hana@example.org")
        helper2 = make_user(name="Ivan Helper", email="ivan@example.org")
    People.asker.phone, People.helper.phone = "715-555-0101", "715-555-0202"
    People.helper.contact_method = "phone"
    db.session.commit()
    return People


def proposals(need=None, status="proposed"):
    stmt = select(Match).where(Match.status == status)
    if need is not None:
        stmt = stmt.where(Match.need_id == need.id)
    return db.session.scalars(stmt.order_by(Match.id)).all()


def test_posting_a_need_proposes_the_best_offer_with_reasons(people, make_post):
    offer = make_post(people.helper, kind="offer", title="Rides to medical appointments")
    far = make_post(people.helper2, kind="offer", title="Rides in Minneapolis", zip_code="55401", radius_miles=5.0)
    need = make_post(people.asker, title="Ride to the clinic")
    [m] = proposals(need)
    assert (m.offer_id, m.source, m.units) == (offer.id, "engine", 1)
    assert m.score > 0 and 2 <= len(m.reasons) <= 4 and m.distance_km is not None
    assert far.id not in {s.offer_id for s in db.session.scalars(select(Suggestion))}  # out of its reach
    assert match_queue.looking_for(need) == "We're looking for a match."


def test_posting_an_offer_proposes_it_to_waiting_needs_up_to_its_capacity(people, make_post, make_user):
    needs = [make_post(make_user("resident"), title=f"Ride to work {i}", urgency=i % 4) for i in range(4)]
    assert proposals() == []  # nothing to offer yet: all four are unmet
    assert len(match_queue.unmet_needs()) == 4
    offer = make_post(people.helper, kind="offer", title="Morning rides", quantity=3)
    made = proposals()
    assert len(made) == 3 and {m.offer_id for m in made} == {offer.id}
    assert sum(m.units for m in made) == 3
    assert len(match_queue.unmet_needs()) == 1
    assert {m.need_id for m in made} <= {n.id for n in needs}


def test_queue_orders_by_urgency_then_waiting_time(people, make_post, make_user):
    make_post(people.helper, kind="offer", title="Rides", quantity=10)
    calm = make_post(make_user("resident"), title="Ride whenever", urgency=0)
    old_urgent = make_post(make_user("resident"), title="Ride today, posted first", urgency=3)
    new_urgent = make_post(make_user("resident"), title="Ride today, posted later", urgency=3)
    old_urgent.created_at = utcnow() - timedelta(hours=5)
    db.session.commit()
    assert [i.match.need_id for i in match_queue.queue()] == [old_urgent.id, new_urgent.id, calm.id]


def test_approve_takes_capacity_emails_both_and_is_audited(people, make_post, smtp):
    offer = make_post(people.helper, kind="offer", title="Rides", quantity=2)
    need = make_post(people.asker, title="Ride to the clinic", street_address="12 Hidden Lane")
    [m] = proposals(need)
    matches.approve(people.coord, m.id, link)
    send_pending()
    db.session.expire_all()
    assert db.session.get(Match, m.id).status == "approved"
    assert db.session.get(Post, offer.id).units_committed == 1 and db.session.get(Post, need.id).units_committed == 1
    by_rcpt = {msg["rcpt"][0]: msg["msg"].get_body(("plain",)).get_content() for msg in smtp.messages}
    assert set(by_rcpt) == {"riley@example.org", "hana@example.org"}
    # Each is reached the one way they chose: Hana by phone (so her email stays hers), Riley by email.
    assert "Phone, 715-555-0202" in by_rcpt["riley@example.org"] and "hana@example.org" not in by_rcpt["riley@example.org"]
    assert "riley@example.org" in by_rcpt["hana@example.org"] and "12 Hidden Lane" in by_rcpt["hana@example.org"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "approve"))
    assert entry.actor_id == people.coord.id and entry.subject_id == m.id


def test_a_failing_mail_server_never_loses_an_approval(people, make_post, smtp, app):
    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride to the clinic")
    [m] = proposals(need)
    app.config.update(MAIL_PORT=1)
    matches.approve(people.coord, m.id, link)
    send_pending()
    db.session.expire_all()
    assert db.session.get(Match, m.id).status == "approved"


def test_coordinator_cannot_decide_a_match_on_their_own_post(people, make_post):
    make_post(people.coord, kind="offer", title="Rides from a coordinator")
    need = make_post(people.asker, title="Ride to the clinic")
    [m] = proposals(need)
    with pytest.raises(NotAllowed):
        matches.approve(people.coord, m.id, link)
    with pytest.raises(NotAllowed):
        matches.reject(people.coord, m.id, "no")
    matches.approve(people.coord2, m.id, link)  # another coordinator can


def test_reject_needs_a_reason_and_then_the_match_is_final(people, make_post):
    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    [m] = proposals(need)
    with pytest.raises(FieldError):
        matches.reject(people.coord, m.id, "  ")
    matches.reject(people.coord, m.id, "Helper is away this week")
    with pytest.raises(Conflict):
        matches.approve(people.coord, m.id, link)
    assert [n.id for n in match_queue.unmet_needs()] == [need.id]


def test_swap_to_another_candidate_from_the_needs_list(people, make_post):
    first = make_post(people.helper, kind="offer", title="Rides to the clinic")
    second = make_post(people.helper2, kind="offer", title="Weekend rides")
    need = make_post(people.asker, title="Ride to the clinic")
    [m] = proposals(need)
    other = second if m.offer_id == first.id else first
    new = matches.swap(people.coord, m.id, other.id)
    assert db.session.get(Match, m.id).status == "rejected" and new.offer_id == other.id and new.status == "proposed"
    with pytest.raises(FieldError):
        matches.swap(people.coord, new.id, 999999)


def test_manual_match_is_approved_at_once_and_audited(people, make_post, smtp):
    offer = make_post(people.helper, kind="offer", category="food", title="Soup on Sundays", quantity=20)
    need = make_post(people.asker, category="household_items", title="A winter coat")
    m = matches.manual_match(people.coord, need.id, offer.id, None, link)
    assert (m.status, m.source) == ("approved", "manual")
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "manual_match"))


def test_need_larger_than_one_offer_is_split_across_offers(people, make_post):
    a = make_post(people.helper, kind="offer", category="food", title="Meals", quantity=3)
    b = make_post(people.helper2, kind="offer", category="food", title="More meals", quantity=3)
    need = make_post(people.asker, category="food", title="Meals for my family", quantity=5)
    made = proposals(need)
    assert sorted(m.units for m in made) == [2, 3] and {m.offer_id for m in made} == {a.id, b.id}
    for m in made:
        matches.approve(people.coord, m.id, link)
    db.session.expire_all()
    assert db.session.get(Post, need.id).units_committed == 5


def test_capacity_is_never_oversubscribed(people, make_post, make_user):
    offer = make_post(people.helper, kind="offer", title="Rides", quantity=1)
    needs = [make_post(make_user("resident"), title=f"Ride {i}") for i in range(3)]
    first = proposals(needs[0])[0]
    others = [proposal_service._proposal(n, offer, 1, None) for n in needs[1:]]
    db.session.commit()
    matches.approve(people.coord, first.id, link)
    for m in others:
        with pytest.raises(Conflict, match="No longer available"):
            matches.approve(people.coord2, m.id, link)
    db.session.expire_all()
    assert db.session.get(Post, offer.id).units_committed == 1
    assert [m.status for m in others] == ["proposed", "proposed"]


def test_both_accept_then_confirmed(people, make_post, smtp):
    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    [m] = proposals(need)
    matches.approve(people.coord, m.id, link)
    matches.answer(people.asker, m.id, True)
    assert db.session.get(Match, m.id).status == "approved"
    with pytest.raises(Conflict):
        matches.answer(people.asker, m.id, True)  # answered already
    matches.answer(people.helper, m.id, True, link)
    assert db.session.get(Match, m.id).status == "accepted"
    with pytest.raises(NotAllowed):
        matches.answer(people.helper2, m.id, True)


def test_decline_reopens_the_need_and_proposes_the_next_candidate(people, make_post):
    first = make_post(people.helper, kind="offer", title="Rides to the clinic")
    second = make_post(people.helper2, kind="offer", title="Rides to appointments")
    need = make_post(people.asker, title="Ride to the clinic")
    [m] = proposals(need)
    matches.approve(people.coord, m.id, link)
    decliner = people.helper if m.offer_id == first.id else people.helper2
    matches.answer(decliner, m.id, False)
    db.session.expire_all()
    assert db.session.get(Match, m.id).status == "declined"
    assert db.session.get(Post, m.offer_id).units_committed == 0 and db.session.get(Post, need.id).units_committed == 0
    [nxt] = proposals(need)
    assert nxt.offer_id == (second.id if m.offer_id == first.id else first.id)


def test_no_answer_in_time_reopens_the_need(people, make_post):
    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    [m] = proposals(need)
    matches.approve(people.coord, m.id, link)
    assert matches.expire_unanswered(now=utcnow() + timedelta(hours=47)) == 0
    assert matches.expire_unanswered(now=utcnow() + timedelta(hours=49)) == 1
    db.session.expire_all()
    assert db.session.get(Match, m.id).status == "declined" and "no answer" in db.session.get(Match, m.id).reject_reason


def _accepted(people, make_post, **need_fields):
    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride", **need_fields)
    [m] = proposals(need)
    matches.approve(people.coord, m.id, link)
    matches.answer(people.asker, m.id, True)
    matches.answer(people.helper, m.id, True)
    return need, db.session.get(Match, m.id)


def test_yes_from_either_side_completes_and_fulfils_the_need(people, make_post):
    need, m = _accepted(people, make_post)
    followup.record_outcome(people.helper, m.id, True, "Went well")
    db.session.expire_all()
    m = db.session.get(Match, m.id)
    assert m.status == "completed" and m.offer_feedback == "Went well"
    assert db.session.get(Post, need.id).status == "fulfilled"
    followup.record_outcome(people.asker, m.id, True, "Thank you!")  # the other side may still leave feedback
    assert db.session.get(Match, m.id).need_feedback == "Thank you!"


def test_no_show_reopens_the_need(people, make_post):
    need, m = _accepted(people, make_post)
    followup.record_outcome(people.asker, m.id, False)
    db.session.expire_all()
    assert db.session.get(Match, m.id).status == "no_show"
    assert db.session.get(Post, need.id).status == "open" and db.session.get(Post, need.id).units_committed == 0
    assert need.id in {n.id for n in match_queue.unmet_needs()}  # the same helper is not proposed again


def test_reminder_the_day_before_and_follow_up_after(people, make_post, smtp):
    start = local_dt(days=1, hour=10)
    need, m = _accepted(people, make_post, flexible=False, windows=[(start, start + timedelta(hours=2))])
    assert m.scheduled_at is not None
    send_pending()
    smtp.messages.clear()
    assert followup.send_reminders(link) == 1 and followup.send_reminders(link) == 0
    assert followup.send_followups(link, lambda t: f"http://localhost/matches/outcome/{t}") == 0  # not yet
    later = m.scheduled_at + timedelta(hours=3)
    assert followup.send_followups(link, lambda t: f"http://localhost/matches/outcome/{t}", now=later) == 1
    send_pending()
    subjects = sorted(msg["msg"]["Subject"] for msg in smtp.messages)
    assert subjects.count("Reminder: your match is coming up") == 2 and subjects.count("Did it happen?") == 2


def test_state_machine_allows_only_the_listed_moves():
    assert can_move("proposed", "approved") and can_move("approved", "accepted") and can_move("accepted", "completed")
    assert not can_move("proposed", "completed") and not can_move("rejected", "approved")
    assert all(not TRANSITIONS[s] for s in ("completed", "rejected", "declined", "cancelled", "no_show"))


def test_withdrawing_a_need_cancels_its_approved_match_and_frees_the_offer(people, make_post):
    from app.services.posts import withdraw_post

    offer = make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    [m] = proposals(need)
    matches.approve(people.coord, m.id, link)
    withdraw_post(people.asker, db.session.get(Post, need.id))
    db.session.expire_all()
    assert db.session.get(Match, m.id).status == "cancelled" and db.session.get(Post, offer.id).units_committed == 0


def test_audit_log_is_append_only_in_the_model(people):
    from app.services import audit

    entry = audit.record(people.coord, "approve", "match", 1)
    db.session.commit()
    entry.action = "something else"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(AppendOnlyError):
        db.session.execute(db.delete(AuditEntry))
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.action)) == "approve"


def test_match_run_replaces_waiting_proposals_and_keeps_approved_ones(people, make_post, runner, make_user):
    make_post(people.helper, kind="offer", title="Rides", quantity=2)
    a = make_post(people.asker, title="Ride A")
    b = make_post(make_user("resident"), title="Ride B")
    approved = proposals(a)[0]
    matches.approve(people.coord, approved.id, link)
    result = runner.invoke(args=["match", "run"])
    assert result.exit_code == 0, result.output
    assert "proposals" in result.output
    db.session.expire_all()
    assert db.session.get(Match, approved.id).status == "approved"
    assert [m.need_id for m in proposals()] == [b.id]


@postgres_only
def test_audit_log_refuses_update_and_delete_in_postgresql_itself(people):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from app.services import audit

    audit.record(people.coord, "approve", "match", 1)
    db.session.commit()
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with db.engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
    assert db.session.scalar(select(AuditEntry.action)) == "approve"


def test_withdrawing_an_offer_after_both_confirmed_cancels_and_tells_the_other_side(people, make_post, smtp):
    from app.services.posts import withdraw_post

    need, m = _accepted(people, make_post)
    send_pending()
    smtp.messages.clear()
    withdraw_post(people.helper, db.session.get(Post, m.offer_id))
    send_pending()
    db.session.expire_all()
    assert db.session.get(Match, m.id).status == "cancelled"
    assert db.session.get(Post, need.id).units_committed == 0
    assert [msg["rcpt"] for msg in smtp.messages] == [["riley@example.org"]]


def test_outcome_before_confirmation_is_refused(people, make_post):
    make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    [m] = proposals(need)
    with pytest.raises(Conflict):
        followup.record_outcome(people.helper, m.id, True)
    matches.approve(people.coord, m.id, link)
    with pytest.raises(Conflict):
        followup.record_outcome(people.helper, m.id, True)
    with pytest.raises(NotAllowed):
        followup.record_outcome(people.helper2, m.id, True)


def test_editing_a_need_re_runs_the_engine(people, make_post):
    from app.services.posts import PostInput, update_post

    make_post(people.helper, kind="offer", category="food", title="Soup")
    need = make_post(people.asker, title="Ride")
    assert proposals(need) == []
    update_post(people.asker, need, PostInput(kind="need", category="food", title="Soup for the week",
                                              zip_code="54016", flexible=True))
    [m] = proposals(need)
    assert m.offer.title == "Soup"


def test_quantity_cannot_drop_below_what_approved_matches_hold(people, make_post):
    from app.services.posts import PostInput, update_post

    offer = make_post(people.helper, kind="offer", title="Rides", quantity=3)
    need = make_post(people.asker, title="Ride", quantity=2)
    [m] = proposals(need)
    matches.approve(people.coord, m.id, link)
    with pytest.raises(FieldError, match="already promised"):
        update_post(people.helper, db.session.get(Post, offer.id),
                    PostInput(kind="offer", category="rides", title="Rides", zip_code="54016", quantity=1, radius_miles=10.0))
