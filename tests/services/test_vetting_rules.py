"""Vetting checks and the rules for each kind of help, as the services apply them: what the engine
proposes, what "I can help" and approvals do, what the reminders email; and the guarantee that no
pair a block, bar or rule keeps apart is ever proposed or approved, with or without the engine's help."""
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.i18n import day
from app.models import AuditEntry, Block, Match, OutboxEmail, VettingCheck
from app.services import Conflict, FieldError, NotAllowed, bars, blocks, exclusions
from app.services import help_rules, match_engine, match_queue, matches, proposals, vetting
from app.timeutil import local_today
from tests.conftest import reads_as_a_sentence
from tests.services.safety_helpers import licence, link_for, people, proposed_pairs  # noqa: F401 - a fixture


# Vetting ------------------------------------------------------------------------------------------

def test_checks_are_added_renewed_and_removed_by_coordinators_and_each_change_is_audited(people):
    coord, helper = people["coord"], people["helper"]
    today = local_today()
    check = vetting.save_check(coord, helper, "insurance", today - timedelta(days=2), today + timedelta(days=300))
    assert (check.checked_by_id, check.expires_on) == (coord.id, today + timedelta(days=300))
    renewed = vetting.save_check(people["coord2"], helper, "insurance", today, today + timedelta(days=400))
    assert renewed.id == check.id and renewed.checked_by_id == people["coord2"].id
    training = vetting.save_check(coord, helper, "training", today, None)  # training need not expire
    assert training.expires_on is None
    assert [c.kind for c in vetting.checks_of(coord, helper)] == ["insurance", "training"]
    vetting.remove_check(coord, helper, "insurance")
    assert [c.kind for c in vetting.checks_of(coord, helper)] == ["training"]
    log = [(e.action, e.actor_id, e.subject_id, e.details["check"])
           for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert log == [("vetting_add", coord.id, helper.id, "insurance"),
                   ("vetting_renew", people["coord2"].id, helper.id, "insurance"),
                   ("vetting_add", coord.id, helper.id, "training"),
                   ("vetting_remove", coord.id, helper.id, "insurance")]


@pytest.mark.parametrize("kind, checked, expires, field, words", [
    ("licence", 0, None, "expires_on", "expires"),
    ("licence", 0, 0, "expires_on", "after the date"),
    ("licence", -30, -1, "expires_on", "passed"),
    ("licence", 2, 30, "checked_on", "still to come"),
    ("licence", None, 30, "checked_on", "date the check"),
    ("passport", 0, 30, "kind", "checks listed"),
])
def test_a_bad_check_is_refused_beside_its_field_and_nothing_is_saved(people, kind, checked, expires, field, words):
    today = local_today()
    when = lambda n: None if n is None else today + timedelta(days=n)  # noqa: E731
    with pytest.raises(FieldError) as err:
        vetting.save_check(people["coord"], people["helper"], kind, when(checked), when(expires))
    assert err.value.field == field and words in err.value.message and reads_as_a_sentence(err.value.message)
    db.session.rollback()
    assert db.session.scalars(select(VettingCheck)).all() == []
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_members_cannot_read_or_change_checks_rules_or_bars(people):
    member, helper = people["member"], people["helper"]
    for call in (lambda: vetting.checks_of(member, helper), lambda: vetting.expiring(member),
                 lambda: vetting.save_check(member, helper, "training", local_today(), None),
                 lambda: help_rules.set_rules(member, {"rides:everyone:licence"}),
                 lambda: bars.add_bar(member, helper, None, "reason"), lambda: bars.bars_of(member, helper)):
        with pytest.raises(NotAllowed):
            call()


def test_expiry_reminders_go_to_every_coordinator_once_per_expiry_date(people):
    coord, helper = people["coord"], people["helper"]
    today = local_today()
    soon = vetting.save_check(coord, helper, "licence", today - timedelta(days=300), today + timedelta(days=12))
    vetting.save_check(coord, people["member"], "insurance", today, today + timedelta(days=90))  # not soon
    assert vetting.send_expiry_reminders(lambda: "http://localhost/coordinate/checks/expiring") == 1
    sent = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.to_addr)).all()
    assert [m.to_addr for m in sent] == ["ada@example.org", "casey@example.org", "cleo@example.org"]
    for mail in sent:
        assert mail.subject == "Checks expiring soon"
        assert "Hal Helper" in mail.body_text and "Driver's license seen" in mail.body_text
        assert day(soon.expires_on) in mail.body_text and "Mona" not in mail.body_text
        assert "/coordinate/checks/expiring" in mail.body_text
    assert vetting.send_expiry_reminders() == 0  # the same expiry date is never announced twice
    assert db.session.query(OutboxEmail).count() == 3
    # Renewed to another date that is also soon: that new date is announced once.
    vetting.save_check(coord, helper, "licence", today, today + timedelta(days=20))
    assert vetting.send_expiry_reminders() == 1 and vetting.send_expiry_reminders() == 0
    assert db.session.query(OutboxEmail).count() == 6
    # Members are never told about anyone's checks, their own included.
    assert {m.to_addr for m in db.session.scalars(select(OutboxEmail))} == {"ada@example.org", "casey@example.org",
                                                                           "cleo@example.org"}


def test_the_daily_job_sends_the_reminders(people):
    from app.jobs import registry

    today = local_today()
    vetting.save_check(people["coord"], people["helper"], "background", today, today + timedelta(days=5))
    assert [j.name for j in registry.JOBS].count("vetting") == 1 and registry.BY_NAME["vetting"].every == "day"
    assert registry.BY_NAME["vetting"].run()["checks_announced"] == 1
    assert registry.BY_NAME["vetting"].run()["checks_announced"] == 0


# Rules for each kind of help ------------------------------------------------------------------------

def test_a_rule_keeps_an_unvetted_driver_from_residents_rides_until_a_check_is_in_date(people, make_post):
    coord, helper, resident, member = people["coord"], people["helper"], people["resident"], people["member"]
    help_rules.set_rules(coord, {"rides:residents:licence"})
    make_post(helper, kind="offer", title="Rides around town", quantity=3)
    resident_need = make_post(resident, title="Ride to the clinic")
    make_post(member, title="Ride to the clinic")
    assert proposed_pairs() == {(member.id, helper.id)}  # the member's ride, never the resident's
    licence(coord, helper)
    proposals.propose_after_save(resident_need.id)
    assert proposed_pairs() == {(member.id, helper.id), (resident.id, helper.id)}


def test_an_expired_check_leaves_the_driver_out_and_the_coordinator_reads_why(people, make_post):
    coord, helper, resident = people["coord"], people["helper"], people["resident"]
    help_rules.set_rules(coord, {"rides:residents:licence", "rides:residents:insurance"})
    expired_on = local_today() - timedelta(days=3)
    db.session.add(VettingCheck(user_id=helper.id, kind="licence", checked_on=expired_on - timedelta(days=365),
                                checked_by_id=coord.id, expires_on=expired_on))
    db.session.commit()
    offer = make_post(helper, kind="offer", title="Rides around town")
    need = make_post(resident, title="Ride to the clinic")
    assert proposed_pairs() == set()
    assert match_engine.check_pair(need, offer) is None  # the engine's verdict with the rules
    assert match_engine.check_pair(need, offer, rules=False) is not None  # feasible otherwise
    why = exclusions.why_left_out(need, offer)
    assert why == [f"License check expired {day(expired_on, '%b %-d')}", "No insurance check"]
    ((found, candidate, left_out),) = match_queue.search_offers(need, "")
    assert found.id == offer.id and candidate is not None and left_out == why
    with pytest.raises(FieldError) as err:
        matches.manual_match(coord, need.id, offer.id, None, link_for)
    assert err.value.field == "offer_id" and why[0] in err.value.message and "No insurance check" in err.value.message
    db.session.rollback()
    assert db.session.scalars(select(Match)).all() == [] and db.session.query(OutboxEmail).count() == 0


def test_volunteering_against_a_rule_is_taken_like_any_offer_and_never_approved(people, make_post):
    coord, helper, resident, member = people["coord"], people["helper"], people["resident"], people["member"]
    help_rules.set_rules(coord, {"rides:residents:background"})
    offer = make_post(helper, kind="offer", title="Rides around town", quantity=2)
    need = make_post(resident, title="Ride to the clinic")
    other = make_post(member, title="Ride to the clinic")
    db.session.execute(Match.__table__.delete())  # start from the helper's word alone
    db.session.commit()
    to_resident = matches.volunteer(helper, need.id, offer.id, "I drive every day")
    to_member = matches.volunteer(helper, other.id, offer.id, "I drive every day")
    assert (to_resident.status, to_resident.source) == (to_member.status, to_member.source) == ("proposed", "volunteer")
    with pytest.raises(Conflict) as err:
        matches.approve(coord, to_resident.id, link_for)
    assert "No background check" in err.value.message and reads_as_a_sentence(err.value.message)
    db.session.rollback()
    assert db.session.get(Match, to_resident.id).status == "proposed"
    assert matches.approve(coord, to_member.id, link_for).status == "approved"
    assert {m.to_addr for m in db.session.scalars(select(OutboxEmail))} == {"mona@example.org", "hal@example.org"}


def test_rules_for_everyone_apply_to_every_need_of_the_category_and_only_it(people, make_post):
    coord, helper, member = people["coord"], people["helper"], people["member"]
    help_rules.set_rules(coord, {"food:everyone:training"})
    make_post(helper, kind="offer", title="Rides around town")
    make_post(helper, kind="offer", category="food", title="Soup on Sundays")
    make_post(member, title="Ride to the clinic")
    make_post(member, category="food", title="A meal or two")
    assert {(m.need.category, m.offer.owner_id) for m in db.session.scalars(select(Match))} == {("rides", helper.id)}
    with pytest.raises(FieldError):
        help_rules.set_rules(coord, {"emergency_funds:everyone:licence"})
    help_rules.set_rules(coord, set())
    assert help_rules.current() == set()
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "help_rules"))]
    assert actions == ["help_rules", "help_rules"]


# The guarantee, whatever the engine does ----------------------------------------------------------

@pytest.mark.parametrize("engine_fields", [True, False], ids=["engine-fields", "python-filter-only"])
def test_no_excluded_pair_is_ever_proposed_volunteered_into_approval_or_approved(people, make_user, make_post,
                                                                                  monkeypatch, engine_fields):
    """Random blocks, bars and rules over a small town; every path that pairs people runs, and no
    pair a rule keeps apart is ever waiting from the engine, or approved by anyone."""
    if not engine_fields:  # as before the engine had them: only the Python filter holds the line
        monkeypatch.setattr(exclusions, "_NEED_FIELDS", {})
        monkeypatch.setattr(exclusions, "_OFFER_FIELDS", {})
        monkeypatch.setattr(exclusions, "_INSTANCE_FIELDS", {})
    rng = random.Random(7)
    coord, coord2 = people["coord"], people["coord2"]
    crowd = [make_user(rng.choice(["member", "resident"]), name=f"P{i} Person") for i in range(10)]
    help_rules.set_rules(coord, {"rides:residents:licence", "food:everyone:training"})
    for person in crowd:
        if rng.random() < 0.5:
            licence(coord, person)
        if rng.random() < 0.3:
            vetting.save_check(coord, person, "training", local_today(), None)
    offers, needs = [], []
    for i, person in enumerate(crowd):
        category = rng.choice(["rides", "food"])
        offers.append(make_post(person, kind="offer", category=category, title=f"Offer {i}", quantity=3))
    for a, b in rng.sample([(a, b) for a in crowd for b in crowd if a is not b], 8):
        if not db.session.scalar(select(Block).where(Block.blocker_id == a.id, Block.blocked_id == b.id)):
            blocks._block(a, b.id, "")
    residents = [p for p in crowd if p.role == "resident"]
    bars.add_bar(coord, crowd[0], None, "reason")
    if residents and crowd[1] is not residents[-1]:
        bars.add_bar(coord, crowd[1], residents[-1].id, "reason")
    for i, person in enumerate(crowd):
        category = rng.choice(["rides", "food"])
        needs.append(make_post(person, category=category, title=f"Need {i}"))
    proposals.run_all()
    proposals.propose_missing()
    snapshot = exclusions.load()

    def allowed(m):
        return snapshot.allows(m.need.owner_id, m.need.category, m.offer.owner_id)

    engine_made = db.session.scalars(select(Match).where(Match.source == "engine", Match.status == "proposed")).all()
    assert engine_made and all(allowed(m) for m in engine_made)
    for need in needs:  # everyone offers help everywhere they can
        for offer in offers:
            if offer.owner_id != need.owner_id and offer.category == need.category:
                try:
                    matches.volunteer(db.session.get(type(coord), offer.owner_id), need.id, offer.id, "")
                except (FieldError, Conflict):
                    db.session.rollback()
    refused = approved = 0
    for m in db.session.scalars(select(Match).where(Match.status == "proposed")).all():
        actor = coord if coord.id not in (m.need.owner_id, m.offer.owner_id) else coord2
        try:
            matches.approve(actor, m.id, link_for)
            approved += 1
        except Conflict:
            db.session.rollback()
            refused += 1
    assert approved and refused
    db.session.expire_all()
    for m in db.session.scalars(select(Match).where(Match.status.in_(("approved", "accepted")))):
        assert allowed(m), (m.need.owner_id, m.offer.owner_id)
