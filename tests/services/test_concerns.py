"""Reports of concern on the services: a report on each kind of subject, the coordinators' emails
(on the wire: no reporter, no words), the queue's order, what a safety report holds (a paused match,
a hidden post) until a coordinator acts, the audit trail, and that the people a report is about
never learn of it. The pages: tests/web/test_concerns_web.py."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Concern, GroupSession, Match, OutboxEmail, Post
from app.services import Conflict, FieldError, NotAllowed, browse, concern_actions, concerns, digests
from app.services import followup, matches
from app.services.disclosure import card_for, contact_cards, exact_place
from app.services.mail import send_pending
from app.timeutil import utcnow
from tests.conftest import local_dt, reads_as_a_sentence
from tests.services.groups_helpers import group_offer, schedule, sessions_of
from tests.services.groups_helpers import link as session_link

WORDS = "He shouted at me in the parking lot behind the library"


def link(m):
    return f"http://localhost/matches/{m.id}"


def concern_link(c):
    return f"http://localhost/concerns/{c.id}"


@pytest.fixture
def w(make_user, make_post):
    """Coordinators Casey and Drew and admin Ada; Riley asks for a ride Hana offers (approved);
    Mo is a neighbour who reports things."""
    ns = SimpleNamespace(
        coord=make_user("coordinator", name="Casey Coordinator", email="casey@example.org"),
        coord2=make_user("coordinator", name="Drew Coordinator", email="drew@example.org"),
        admin=make_user("admin", name="Ada Admin", email="ada@example.org"),
        asker=make_user("resident", name="Riley Resident", email="riley@example.org"),
        helper=make_user(name="Hana Helper", email="hana@example.org"),
        member=make_user(name="Mo Reporter", email="mo@example.org"),
    )
    start = local_dt(days=1, hour=10)
    ns.offer = make_post(ns.helper, kind="offer", title="Rides to appointments")
    ns.need = make_post(ns.asker, title="Ride to the dialysis center", flexible=False,
                        windows=[(start, start + timedelta(hours=2))])
    proposal = db.session.scalar(select(Match).where(Match.need_id == ns.need.id))
    ns.match = matches.approve(ns.coord, proposal.id, link)
    db.session.query(OutboxEmail).delete()
    db.session.commit()
    return ns


def _emails(kind=None):
    stmt = select(OutboxEmail).order_by(OutboxEmail.id)
    return list(db.session.scalars(stmt.where(OutboxEmail.kind == kind) if kind else stmt))


def _audit(action=None):
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    return list(db.session.scalars(stmt.where(AuditEntry.action == action) if action else stmt))


def _session(make_post, host):
    offer = group_offer(make_post, host, title="Thursday recovery circle")
    (session,) = sessions_of(schedule(host, offer, days_ahead=5))
    return session


def _visible_ids(q=""):
    page = browse.browse(browse.BrowseFilters(kind="need", q=q))
    return {item.post.id for item in page.items}


# A report on each kind ------------------------------------------------------------------------

def test_a_report_on_each_kind_reaches_every_coordinator_and_the_queue(w, make_user, make_post):
    host = make_user(name="Hal Host", email="hal@example.org")
    session = _session(make_post, host)
    on_post = concerns.report(w.member, "post", w.offer.id, "inappropriate", WORDS, concern_link)
    on_match = concerns.report(w.asker, "match", w.match.id, "no_show", "Nobody came.", concern_link)
    on_session = concerns.report(w.member, "session", session.id, "other", "The room was locked.", concern_link)
    queue = concerns.open_queue(w.coord)
    assert [(i.concern.id, i.subject.kind, i.held) for i in queue] == [
        (on_session.id, "session", False), (on_match.id, "match", False), (on_post.id, "post", False)]
    mails = _emails("concern_reported")
    assert sorted((m.to_addr, m.subject) for m in mails) == sorted(
        (to, "A concern was reported") for to in ("casey@example.org", "drew@example.org", "ada@example.org")
        for _ in range(3))
    assert {m.to_addr for m in mails} & {"hana@example.org", "riley@example.org", "hal@example.org", "mo@example.org"} == set()
    # Nothing but a safety report holds anything.
    assert concerns.is_held(concerns.subject_of(on_post)) is False and contact_cards(w.asker, w.match) != {}


def test_the_coordinators_email_carries_the_category_and_a_link_never_the_words_or_the_reporter(w, smtp):
    concern = concerns.report(w.member, "post", w.need.id, "safety", WORDS, concern_link)
    send_pending()
    assert sorted(m["rcpt"][0] for m in smtp.messages) == ["ada@example.org", "casey@example.org", "drew@example.org"]
    for message in smtp.messages:
        raw = message["raw"].decode("utf-8", "replace")
        parts = [message["msg"].get_body(("plain",)).get_content(), message["msg"].get_body(("html",)).get_content()]
        assert message["msg"]["Subject"] == "A safety concern was reported"
        for text in [raw, *parts]:
            for secret in ("Mo Reporter", "Mo ", "mo@example.org", "shouted", "parking lot", "Riley", "dialysis"):
                assert secret not in text, (secret, message["rcpt"])
        assert "Category: Safety." in parts[0] and f"http://localhost/concerns/{concern.id}" in parts[0]
        assert "The post is hidden until a coordinator acts." in parts[0]
        assert f'href="http://localhost/concerns/{concern.id}"' in parts[1]


def test_a_coordinator_a_report_is_about_is_neither_emailed_nor_shown_it(w, make_post):
    coord_post = make_post(w.coord2, kind="offer", title="Drew's rides")
    concern = concerns.report(w.member, "post", coord_post.id, "inappropriate", WORDS, concern_link)
    assert "drew@example.org" not in {m.to_addr for m in _emails("concern_reported")}
    assert concern.id not in {i.concern.id for i in concerns.open_queue(w.coord2)}
    assert concern.id in {i.concern.id for i in concerns.open_queue(w.coord)}
    with pytest.raises(NotAllowed):
        concerns.read_concern(w.coord2, concern.id)
    with pytest.raises(NotAllowed):
        concern_actions.resolve(w.coord2, concern.id, "Looked at it myself")


def test_the_queue_lists_safety_first_then_newest(w):
    made = {}
    for name, category, hours_ago in (("old other", "other", 5), ("old safety", "safety", 4),
                                      ("new other", "other", 1), ("new safety", "safety", 2)):
        # Coordinators may still see (and report) a hidden post; anyone else could not report it twice.
        made[name] = concerns.report(w.coord2, "post", w.offer.id, category, name, concern_link)
        made[name].created_at = utcnow() - timedelta(hours=hours_ago)
    db.session.commit()
    order = [i.concern.body for i in concerns.open_queue(w.coord)]
    assert order == ["new safety", "old safety", "new other", "old other"]


# Input and who may report ---------------------------------------------------------------------

def _nothing_written(fn, *args):
    before = (db.session.scalar(select(db.func.count()).select_from(Concern)), len(_emails()), len(_audit()))
    with pytest.raises((FieldError, NotAllowed)) as info:
        fn(*args)
    db.session.rollback()
    assert (db.session.scalar(select(db.func.count()).select_from(Concern)), len(_emails()), len(_audit())) == before
    assert reads_as_a_sentence(info.value.message), info.value.message
    return info.value


@pytest.mark.parametrize("category,words,field", [
    ("safety", "", "body"), ("safety", "   ", "body"), ("safety", "x" * 2001, "body"),
    ("danger", WORDS, "category"), ("", WORDS, "category")])
def test_a_report_needs_a_category_and_words_within_2000_characters(w, category, words, field):
    err = _nothing_written(concerns.report, w.member, "post", w.need.id, category, words, concern_link)
    assert isinstance(err, FieldError) and err.field == field
    assert concerns.report(w.member, "post", w.need.id, "other", "y" * 2000, concern_link).body == "y" * 2000


def test_only_what_one_can_see_can_be_reported(w, make_user):
    stranger = make_user(name="Sam Stranger")
    assert isinstance(_nothing_written(concerns.report, w.asker, "post", w.need.id, "other", WORDS, concern_link), NotAllowed)
    assert isinstance(_nothing_written(concerns.report, stranger, "match", w.match.id, "other", WORDS, concern_link), NotAllowed)
    assert isinstance(_nothing_written(concerns.report, stranger, "post", 99999, "other", WORDS, concern_link), NotAllowed)
    assert isinstance(_nothing_written(concerns.report, stranger, "thing", w.need.id, "other", WORDS, concern_link), NotAllowed)
    concerns.report(w.member, "post", w.need.id, "safety", WORDS, concern_link)
    # Hidden now: nobody but its owner and coordinators sees it, so nobody else can report it.
    assert isinstance(_nothing_written(concerns.report, stranger, "post", w.need.id, "other", WORDS, concern_link), NotAllowed)
    concerns.report(w.coord, "post", w.need.id, "other", "Seen from the queue", concern_link)


# A safety report on a match pauses it ---------------------------------------------------------

def test_a_safety_report_pauses_a_match_until_a_coordinator_acts(w):
    assert contact_cards(w.asker, w.match) and contact_cards(w.helper, w.match)
    # Both confirmed before the report (a paused match can't be answered: the next test).
    matches.answer(w.asker, w.match.id, True)
    matches.answer(w.helper, w.match.id, True)
    concern = concerns.report(w.asker, "match", w.match.id, "safety", WORDS, concern_link)
    assert contact_cards(w.asker, w.match) == {} and contact_cards(w.helper, w.match) == {}
    assert set(contact_cards(w.coord, w.match)) == {"need", "offer"}  # coordinators still see who to call
    assert "The match is paused" in _emails("concern_reported")[0].body_text
    m = db.session.get(Match, w.match.id)
    assert m.status == "accepted" and contact_cards(w.helper, m) == {}
    assert followup.send_reminders(link) == 0  # due (tomorrow), but paused
    assert followup.send_followups(link, str, now=m.scheduled_at + timedelta(hours=3)) == 0
    assert _emails("match_reminder") == []
    concern_actions.resolve(w.coord2, concern.id, "Spoke with both; a misunderstanding.")
    assert contact_cards(w.helper, m) and contact_cards(w.asker, m)
    assert followup.send_reminders(link) == 1
    assert sorted(e.to_addr for e in _emails("match_reminder")) == ["hana@example.org", "riley@example.org"]


def _card_text(match, whose):
    """What would tell the reader how to reach the other person, and where exactly the help is."""
    card = card_for(match, whose)
    return [card.reach, exact_place(match.need, with_zip=False)]


def test_a_paused_match_cannot_be_confirmed_so_no_contact_card_is_emailed(w):
    matches.answer(w.asker, w.match.id, True)
    concerns.report(w.asker, "match", w.match.id, "safety", WORDS, concern_link)
    db.session.query(OutboxEmail).delete()
    db.session.commit()
    for person, accept in ((w.helper, True), (w.helper, False), (w.asker, False)):
        with pytest.raises(Conflict, match="paused"):
            matches.answer(person, w.match.id, accept, link_for=link)
    m = db.session.get(Match, w.match.id)
    assert (m.status, m.need_answer, m.offer_answer) == ("approved", "accepted", None)
    assert _emails() == []  # no match_confirmed (nor anything else) to either side


def test_a_paused_confirmed_match_cannot_be_closed_until_a_coordinator_acts(w):
    matches.answer(w.asker, w.match.id, True)
    matches.answer(w.helper, w.match.id, True)
    concern = concerns.report(w.helper, "match", w.match.id, "safety", WORDS, concern_link)
    for person in (w.asker, w.helper, w.coord2):
        with pytest.raises(Conflict, match="paused"):
            followup.record_outcome(person, w.match.id, False)
    m = db.session.get(Match, w.match.id)
    assert m.status == "accepted" and db.session.get(Post, w.offer.id).units_committed == 1
    concern_actions.lift_hold(w.coord, concern.id)
    assert followup.record_outcome(w.asker, w.match.id, True).status == "completed"


def test_an_email_about_a_paused_match_carries_no_contact_card_nor_place(w):
    from app.services.match_notices import notify_both

    secrets = _card_text(w.match, "offer") + _card_text(w.match, "need")
    concerns.report(w.asker, "match", w.match.id, "safety", WORDS, concern_link)
    db.session.query(OutboxEmail).delete()
    for template in ("match_approved", "match_confirmed", "match_reminder"):
        notify_both(w.match, template, "Subject", link_for=link)
    db.session.commit()
    mails = _emails()
    assert len(mails) == 6
    for mail in mails:
        text = mail.body_text + mail.body_html
        assert not [s for s in secrets if s and s in text], (mail.kind, text)
        assert "How to reach" not in text and "Where:" not in text


def test_a_paused_match_of_a_need_that_repeats_gets_no_reminder_for_its_dates(make_user, make_post):
    from app.services import occurrences
    from tests.services.test_repeating_needs import active, dates_of, driver, next_monday, ride_to_work

    coord, asker, dana = make_user("coordinator"), make_user("resident"), make_user(name="Dana Driver")
    driver(make_post, dana, range(5))
    need = ride_to_work(make_post, asker, next_monday())
    [m] = active(need)
    matches.approve(coord, m.id, link)
    matches.answer(asker, m.id, True)
    matches.answer(dana, m.id, True)
    concern = concerns.report(dana, "match", m.id, "safety", WORDS, concern_link)
    at = dates_of(need)[0].starts_at - timedelta(hours=30)
    assert occurrences.send_reminders(link, now=at) == 0
    concern_actions.resolve(coord, concern.id, "All clear")
    assert occurrences.send_reminders(link, now=at) == 1


def test_lifting_the_hold_resumes_the_match_while_the_report_stays_open(w):
    concern = concerns.report(w.helper, "match", w.match.id, "safety", WORDS, concern_link)
    second = concerns.report(w.asker, "match", w.match.id, "safety", "Me too", concern_link)
    concern_actions.resolve(w.coord, second.id, "Answered")
    assert contact_cards(w.asker, w.match) == {}  # the first report still holds it
    concern_actions.lift_hold(w.coord, concern.id)
    assert contact_cards(w.asker, w.match) != {}
    assert db.session.get(Concern, concern.id).status == "open"
    with pytest.raises(Conflict):
        concern_actions.lift_hold(w.coord, concern.id)  # nothing held any more


def test_a_safety_report_on_a_proposal_holds_nothing(w, make_user, make_post):
    other = make_user(name="Ivy Helper")
    make_post(other, kind="offer", title="Food runs", category="food")
    need = make_post(w.asker, title="Groceries", category="food", destination_kind=None)
    proposal = db.session.scalar(select(Match).where(Match.need_id == need.id))
    concern = concerns.report(w.asker, "match", proposal.id, "safety", WORDS, concern_link)
    assert db.session.get(Concern, concern.id).holding is False
    assert _audit("concern_hold") == []


# A safety report on a post hides it -----------------------------------------------------------

def test_a_safety_report_hides_a_post_from_browse_search_and_digests_until_a_coordinator_acts(app, w, make_user, make_post):
    app.config.update(DIGEST_HOUR=0)
    reader = make_user(name="Dana Digest", email="dana@example.org")
    make_post(reader, kind="offer", title="Rides around Hudson")
    digests.subscription_for(reader).frequency = "daily"
    db.session.commit()
    assert w.need.id in _visible_ids() and w.need.id in _visible_ids("dialysis")
    concern = concerns.report(w.member, "post", w.need.id, "safety", WORDS, concern_link)
    assert w.need.id not in _visible_ids() and w.need.id not in _visible_ids("dialysis")
    digests.send_digests()
    assert "dialysis" not in " ".join(m.body_text for m in _emails() if m.to_addr == "dana@example.org")
    concern_actions.resolve(w.coord, concern.id, "Checked the post; nothing wrong with it.")
    assert w.need.id in _visible_ids() and w.need.id in _visible_ids("dialysis")


def test_a_hidden_group_offer_leaves_the_groups_list(w, make_user, make_post):
    from app.services import groups_browse

    host = make_user(name="Hal Host")
    session = _session(make_post, host)
    listed = lambda: [i.session.id for i in groups_browse.upcoming(groups_browse.GroupFilters()).items]  # noqa: E731
    assert listed() == [session.id]
    concern = concerns.report(w.member, "post", session.offer_id, "safety", WORDS, concern_link)
    assert listed() == []
    concern_actions.lift_hold(w.coord, concern.id)
    assert listed() == [session.id]


def test_withdrawing_a_reported_post_closes_it_and_resolves_the_report(w):
    concern = concerns.report(w.member, "post", w.offer.id, "safety", WORDS, concern_link)
    concern_actions.take_action(w.coord, concern.id, "Removed: not what it says.")
    db.session.expire_all()
    assert db.session.get(Post, w.offer.id).status == "withdrawn"
    assert db.session.get(Match, w.match.id).status == "cancelled"
    c = db.session.get(Concern, concern.id)
    assert (c.status, c.action, c.holding, c.resolved_by_id) == ("resolved", "withdraw_post", False, w.coord.id)
    with pytest.raises(Conflict):
        concern_actions.resolve(w.coord2, concern.id, "Again")


def test_cancelling_a_reported_match_tells_both_without_a_reason(w):
    concern = concerns.report(w.helper, "match", w.match.id, "safety", WORDS, concern_link)
    concern_actions.take_action(w.coord, concern.id, "Cancelled after a phone call.")
    db.session.expire_all()
    m = db.session.get(Match, w.match.id)
    assert m.status == "cancelled" and db.session.get(Post, w.offer.id).units_committed == 0
    mails = _emails("concern_match_cancelled")
    assert sorted(e.to_addr for e in mails) == ["hana@example.org", "riley@example.org"]
    for mail in mails:
        text = mail.subject + mail.body_text + mail.body_html
        assert mail.subject == "A match was cancelled"
        assert "shouted" not in text and "phone call" not in text and "safety" not in text.lower()


def test_cancelling_a_reported_session_emails_those_in_it(w, make_user, make_post):
    from app.services import groups_join

    host = make_user(name="Hal Host")
    session = _session(make_post, host)
    groups_join.join_session(w.member, session.id, link_for=session_link)
    concern = concerns.report(w.member, "session", session.id, "inappropriate", WORDS, concern_link)
    concern_actions.take_action(w.coord, concern.id, "Cancelled; talking to the host.", session_link)
    db.session.expire_all()
    assert db.session.get(GroupSession, session.id).status == "cancelled"
    assert [e.to_addr for e in _emails("group_session_cancelled")] == ["mo@example.org"]
    assert concern_actions.available_action(concerns.subject_of(db.session.get(Concern, concern.id))) is None


def test_a_resolution_needs_a_note(w):
    concern = concerns.report(w.member, "post", w.offer.id, "other", WORDS, concern_link)
    for note in ("", "  ", "n" * 2001):
        with pytest.raises(FieldError) as info:
            concern_actions.resolve(w.coord, concern.id, note)
        assert info.value.field == "note" and reads_as_a_sentence(info.value.message)
        with pytest.raises(FieldError):
            concern_actions.take_action(w.coord, concern.id, note)
    assert db.session.get(Concern, concern.id).status == "open"
    with pytest.raises(NotAllowed):
        concern_actions.resolve(w.member, concern.id, "I fixed it")


# The audit log and who learns what ------------------------------------------------------------

def test_every_step_is_in_the_audit_log_without_the_words(w):
    concern = concerns.report(w.member, "post", w.need.id, "safety", WORDS, concern_link)
    concerns.read_concern(w.coord, concern.id)
    concern_actions.lift_hold(w.coord, concern.id)
    concern_actions.resolve(w.coord, concern.id, "Talked to the poster")
    other = concerns.report(w.asker, "match", w.match.id, "no_show", "Nobody came", concern_link)
    concern_actions.take_action(w.coord2, other.id, "Cancelled")
    steps = [(e.actor_id, e.action, e.subject_type, e.subject_id) for e in _audit() if e.action.startswith("concern")]
    assert steps == [
        (None, "concern_report", "concern", concern.id), (None, "concern_hold", "post", w.need.id),
        (w.coord.id, "concern_view", "concern", concern.id), (w.coord.id, "concern_lift", "post", w.need.id),
        (w.coord.id, "concern_resolve", "concern", concern.id),
        (None, "concern_report", "concern", other.id), (w.coord2.id, "concern_action", "concern", other.id)]
    assert _audit("concern_report")[0].details == {"on": "post", "subject": w.need.id, "category": "safety"}
    assert _audit("concern_action")[0].details["taken"] == "cancel_match"
    for entry in _audit():
        assert "shouted" not in str(entry.details) and "Talked" not in str(entry.details)


def test_the_people_a_report_is_about_never_see_it(w):
    concern = concerns.report(w.asker, "match", w.match.id, "safety", WORDS, concern_link)
    for who in (w.asker, w.helper, w.member):
        with pytest.raises(NotAllowed):
            concerns.read_concern(who, concern.id)
        with pytest.raises(NotAllowed):
            concerns.open_queue(who)
    assert {e.to_addr for e in _emails()} == {"casey@example.org", "drew@example.org", "ada@example.org"}


# What a hidden post keeps from matching --------------------------------------------------------

def _offer_ids(need_id):
    db.session.expire_all()
    return {m.offer_id for m in db.session.scalars(select(Match).where(
        Match.need_id == need_id, Match.status.in_(("proposed", "approved", "accepted"))))}


def test_a_hidden_offer_gets_no_engine_proposals_and_is_not_offered_for_a_manual_match(w, make_user, make_post):
    from app.services import match_queue, proposals

    ivy = make_user(name="Ivy Helper", email="ivy@example.org")
    offer = make_post(ivy, kind="offer", title="Rides on weekdays", quantity=3)
    concern = concerns.report(w.member, "post", offer.id, "safety", WORDS, concern_link)
    nora = make_user(name="Nora Needs", email="nora@example.org")
    need = make_post(nora, title="Ride to the pharmacy")
    assert _offer_ids(need.id) == set()  # the only offer with room is hidden
    proposals.run_all()
    assert _offer_ids(need.id) == set()
    assert offer.id not in {o.id for o, _, _ in match_queue.search_offers(need, "")}
    assert offer.id not in {o.id for o, _, _ in match_queue.search_offers(need, "weekdays")}
    concern_actions.lift_hold(w.coord, concern.id)
    assert proposals.propose_after_save(need.id) and _offer_ids(need.id) == {offer.id}
    assert offer.id in {o.id for o, _, _ in match_queue.search_offers(need, "")}


def test_a_hidden_need_gets_no_engine_proposals(w, make_user, make_post):
    from app.services import proposals

    ivy = make_user(name="Ivy Helper", email="ivy@example.org")
    nora = make_user(name="Nora Needs", email="nora@example.org")
    need = make_post(nora, title="Ride to the pharmacy")
    concerns.report(w.member, "post", need.id, "safety", WORDS, concern_link)
    offer = make_post(ivy, kind="offer", title="Rides on weekdays", quantity=3)
    assert _offer_ids(need.id) == set()  # the new offer was not proposed for the hidden need
    assert proposals.propose_after_save(need.id) and _offer_ids(need.id) == set()
    proposals.run_all()
    assert _offer_ids(need.id) == set()
    assert not db.session.scalars(select(Match).where(Match.offer_id == offer.id)).all()


def test_a_hidden_driver_gets_no_proposals_for_a_need_that_repeats(w, make_user, make_post):
    from app.services import proposals
    from tests.services.test_repeating_needs import active, driver, next_monday, ride_to_work

    dana = make_user(name="Dana Driver", email="dana@example.org")
    offer = driver(make_post, dana, range(5))
    concern = concerns.report(w.member, "post", offer.id, "safety", WORDS, concern_link)
    need = ride_to_work(make_post, make_user("resident", name="Rae Resident"), next_monday())
    assert active(need) == []
    concern_actions.lift_hold(w.coord, concern.id)
    assert proposals.propose_after_save(need.id)
    assert [m.offer_id for m in active(need)] == [offer.id]


def test_a_proposal_whose_post_is_hidden_cannot_be_approved_swapped_to_or_matched_by_hand(w, make_user, make_post):
    ivy = make_user(name="Ivy Helper", email="ivy@example.org")
    jo = make_user(name="Jo Helper", email="jo@example.org")
    offers = {make_post(ivy, kind="offer", title="Rides on weekdays").id, make_post(jo, kind="offer", title="Rides").id}
    nora = make_user(name="Nora Needs", email="nora@example.org")
    need = make_post(nora, title="Ride to the pharmacy")
    proposal = db.session.scalar(select(Match).where(Match.need_id == need.id, Match.status == "proposed"))
    (other,) = offers - {proposal.offer_id}
    db.session.query(OutboxEmail).delete()
    db.session.commit()
    held = concerns.report(w.member, "post", other, "safety", WORDS, concern_link)
    with pytest.raises(Conflict, match="safety report"):
        matches.swap(w.coord, proposal.id, other)
    with pytest.raises(Conflict, match="safety report"):
        matches.manual_match(w.coord, need.id, other, 1, link)
    concerns.report(w.member, "post", need.id, "safety", WORDS, concern_link)
    with pytest.raises(Conflict, match="safety report"):
        matches.approve(w.coord, proposal.id, link)
    db.session.expire_all()
    assert db.session.get(Match, proposal.id).status == "proposed"
    assert _offer_ids(need.id) == {proposal.offer_id}
    assert _emails("match_approved") == []  # nobody's contact card went out
    concern_actions.lift_hold(w.coord, held.id)
    with pytest.raises(Conflict, match="safety report"):
        matches.swap(w.coord, proposal.id, other)  # the need is still hidden


def test_i_can_help_with_a_hidden_offer_is_refused_like_an_offer_that_cannot_help(w, make_user, make_post):
    ivy = make_user(name="Ivy Helper", email="ivy@example.org")
    offer = make_post(ivy, kind="offer", title="Food runs", category="food")
    concerns.report(w.member, "post", offer.id, "safety", WORDS, concern_link)
    need = make_post(w.asker, title="Groceries", category="food", destination_kind=None)
    with pytest.raises(FieldError) as err:
        matches.volunteer(ivy, need.id, offer.id, "Happy to")
    assert err.value.field == "offer_id"
    assert err.value.message == "Your offer doesn't reach this request: check its distance and its weekly times."
    assert _offer_ids(need.id) == set()


# A hidden group offer --------------------------------------------------------------------------

def test_a_hidden_group_offer_can_not_be_joined_and_sends_no_reminders(w, make_user, make_post):
    from app.services import groups_join, groups_reminders

    host = make_user(name="Hal Host")
    session = _session(make_post, host)
    groups_join.join_session(w.helper, session.id, link_for=session_link)
    concern = concerns.report(w.member, "post", session.offer_id, "safety", WORDS, concern_link)
    for join, subject in ((groups_join.join_session, session.id), (groups_join.join_series, session.series_id)):
        with pytest.raises(NotAllowed) as err:
            join(w.asker, subject, link_for=session_link)
        assert err.value.message == "This offer was withdrawn."
    db.session.query(OutboxEmail).delete()
    db.session.commit()
    at = session.starts_at - timedelta(hours=12)
    assert groups_reminders.send_reminders(session_link, now=at) == {"reminded": 0, "hosts_reminded": 0}
    assert _emails() == []
    concern_actions.lift_hold(w.coord, concern.id)
    assert groups_join.join_session(w.asker, session.id, link_for=session_link).status == "joined"
    assert groups_reminders.send_reminders(session_link, now=at)["reminded"] == 2
