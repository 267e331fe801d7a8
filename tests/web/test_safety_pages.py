"""Vetting, rules, blocks and bars through the browser's eyes: who reaches which page, what the
coordinator reads, what the two people see and do not see, and that a helper left out by a rule
gets the very reply any helper gets."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.i18n import day
from app.models import AuditEntry, Bar, Block, Match, OutboxEmail, VettingCheck
from app.services import bars, help_rules, matches, vetting
from app.timeutil import local_today
from tests.conftest import csrf_token


def link(match):
    return f"http://localhost/matches/{match.id}"


def logout(client):
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})


@pytest.fixture
def town(make_user):
    return dict(coord=make_user("coordinator", name="Casey Coordinator", email="casey@example.org"),
                resident=make_user("resident", name="Riley Resident", email="riley@example.org"),
                member=make_user(name="Mona Member", email="mona@example.org"),
                helper=make_user(name="Hal Helper", email="hal@example.org"))


def _normal(html: str) -> str:
    """A page with what differs between two equal posts taken out: their ids and the CSRF tokens."""
    html = re.sub(r'name="([a-z]+-)?csrf_token"( type="hidden")? value="[^"]+"', 'name="csrf_token" value="X"', html)
    html = re.sub(r"(/[a-z_]+)/\d+", r"\1/N", html)
    return re.sub(r'(offer_id|post_id|id)="?\d+"?', r"\1=N", html)


# Access -----------------------------------------------------------------------------------------

def test_members_cannot_reach_the_vetting_rules_or_bar_pages(client, town, login_as):
    helper = town["helper"]
    login_as(town["member"])
    for url in (f"/coordinate/members/{helper.id}/safety", "/coordinate/rules", "/coordinate/checks/expiring",
                "/coordinate/bars"):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/")
    for url, data in ((f"/coordinate/members/{helper.id}/checks", {"kind": "licence"}),
                      (f"/coordinate/members/{helper.id}/checks/remove", {"kind": "licence"}),
                      (f"/coordinate/members/{helper.id}/bars", {"reason": "x", "resident_id": "0"}),
                      ("/coordinate/rules", {"rule": "rides:everyone:licence"})):
        assert client.post(url, data=dict(data, csrf_token=token)).status_code == 403, url
    assert db.session.scalars(select(VettingCheck)).all() == [] and db.session.scalars(select(Bar)).all() == []
    assert help_rules.current() == set()


def test_a_member_cannot_block_through_what_they_cannot_see_or_undo_anothers_block(client, town, make_post, login_as):
    offer = make_post(town["helper"], kind="offer", title="Rides around town")
    need = make_post(town["member"], title="Ride to the clinic")
    match = db.session.scalar(select(Match).where(Match.need_id == need.id))
    closed = make_post(town["helper"], kind="offer", title="Old rides")
    from app.services.posts import withdraw_post

    withdraw_post(town["helper"], closed)
    login_as(town["resident"])
    token = csrf_token(client, "/")
    assert client.post(f"/matches/{match.id}/block", data={"csrf_token": token}).status_code == 404  # not theirs
    assert client.post(f"/posts/{closed.id}/block", data={"csrf_token": token}).status_code == 404
    assert client.post("/posts/999999/block", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/posts/{offer.id}/block").status_code == 400  # no CSRF token: nothing happens
    assert db.session.scalars(select(Block)).all() == []
    logout(client)
    login_as(town["member"])
    assert client.post(f"/matches/{match.id}/block", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    block = db.session.scalar(select(Block))
    logout(client)
    login_as(town["resident"])
    assert client.post(f"/account/blocks/{block.id}/undo", data={"csrf_token": csrf_token(client, "/")}).status_code == 404
    assert db.session.get(Block, block.id) is not None


# Vetting pages ------------------------------------------------------------------------------------

def test_a_coordinator_adds_renews_and_removes_a_check_on_the_members_page(client, town, login_as):
    helper = town["helper"]
    login_as(town["coord"])
    members = client.get("/coordinate/members?q=Hal").get_data(as_text=True)
    assert f"/coordinate/members/{helper.id}/safety" in members
    page_url = f"/coordinate/members/{helper.id}/safety"
    today = local_today()
    token = csrf_token(client, page_url)
    saved = client.post(f"/coordinate/members/{helper.id}/checks", data={
        "csrf_token": token, "kind": "licence", "checked_on": today.isoformat(),
        "expires_on": (today + timedelta(days=365)).isoformat()})
    assert saved.status_code == 302
    page = client.get(page_url).get_data(as_text=True)
    assert "Driver&#39;s license seen" in page and "Casey Coordinator" in page
    assert day(today + timedelta(days=365)) in page
    client.post(f"/coordinate/members/{helper.id}/checks", data={
        "csrf_token": token, "kind": "licence", "checked_on": today.isoformat(),
        "expires_on": (today + timedelta(days=20)).isoformat()})
    assert db.session.scalar(select(VettingCheck.expires_on)) == today + timedelta(days=20)
    expiring = client.get("/coordinate/checks/expiring").get_data(as_text=True)
    assert "Hal Helper" in expiring and day(today + timedelta(days=20)) in expiring
    removed = client.post(f"/coordinate/members/{helper.id}/checks/remove", data={"csrf_token": token, "kind": "licence"})
    assert removed.status_code == 302 and db.session.scalars(select(VettingCheck)).all() == []
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("vetting_%"))
                                                    .order_by(AuditEntry.id))]
    assert actions == ["vetting_add", "vetting_renew", "vetting_remove"]


def test_a_check_without_its_expiry_gets_a_message_beside_the_field_and_keeps_what_was_typed(client, town, login_as):
    helper = town["helper"]
    login_as(town["coord"])
    url = f"/coordinate/members/{helper.id}/checks"
    typed = (local_today() - timedelta(days=1)).isoformat()
    response = client.post(url, data={"csrf_token": csrf_token(client, f"/coordinate/members/{helper.id}/safety"),
                                      "kind": "insurance", "checked_on": typed, "expires_on": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="expires_on-err"' in html and "Enter the date this check expires." in html
    assert f'value="{typed}"' in html
    bad = client.post(url, data={"csrf_token": csrf_token(client, f"/coordinate/members/{helper.id}/safety"),
                                 "kind": "insurance", "checked_on": "2024-02-30", "expires_on": "9999-12-31"})
    assert bad.status_code == 422
    assert db.session.scalars(select(VettingCheck)).all() == []


def test_rules_are_set_on_their_page_and_a_made_up_one_is_refused(client, town, login_as):
    login_as(town["coord"])
    token = csrf_token(client, "/coordinate/rules")
    assert client.post("/coordinate/rules", data={"csrf_token": token, "rule": ["rides:residents:licence",
                                                                                "rides:residents:insurance"]}).status_code == 302
    assert help_rules.current() == {"rides:residents:licence", "rides:residents:insurance"}
    page = client.get("/coordinate/rules").get_data(as_text=True)
    assert page.count(" checked>") == 2
    bad = client.post("/coordinate/rules", data={"csrf_token": token, "rule": ["rides:residents:licence", "money:x:y"]})
    assert bad.status_code == 422 and "Choose among the checks listed." in bad.get_data(as_text=True)
    assert help_rules.current() == {"rides:residents:licence", "rides:residents:insurance"}


# What coordinators read, what helpers hear ---------------------------------------------------------

def test_the_queue_and_the_manual_match_say_why_a_driver_is_left_out_and_approval_refuses(client, town, make_post,
                                                                                          login_as):
    coord, helper, resident = town["coord"], town["helper"], town["resident"]
    help_rules.set_rules(coord, {"rides:residents:licence"})
    expired_on = local_today() - timedelta(days=5)
    db.session.add(VettingCheck(user_id=helper.id, kind="licence", checked_on=expired_on - timedelta(days=300),
                                checked_by_id=coord.id, expires_on=expired_on))
    db.session.commit()
    offer = make_post(helper, kind="offer", title="Rides around town")
    need = make_post(resident, title="Ride to the clinic")
    proposal = matches.volunteer(helper, need.id, offer.id, "Happy to drive")
    reason = f"License check expired {day(expired_on, '%b %-d')}"
    login_as(coord)
    queue = client.get("/coordinate/queue").get_data(as_text=True)
    assert f"Left out: {reason}" in queue
    assert f"/coordinate/matches/{proposal.id}/approve" not in queue  # no Approve button for it
    token = csrf_token(client, "/coordinate/queue")
    refused = client.post(f"/coordinate/matches/{proposal.id}/approve", data={"csrf_token": token})
    assert refused.status_code == 409 and reason in refused.get_data(as_text=True)
    by_hand = client.get(f"/coordinate/needs/{need.id}/match").get_data(as_text=True)
    assert f"Left out: {reason}" in by_hand
    posted = client.post(f"/coordinate/needs/{need.id}/match", data={"csrf_token": token, "offer_id": str(offer.id)})
    assert posted.status_code == 422 and reason in posted.get_data(as_text=True)
    assert db.session.get(Match, proposal.id).status == "proposed"
    assert not db.session.scalars(select(Match).where(Match.status == "approved")).all()
    assert db.session.query(OutboxEmail).count() == 0


def test_a_helper_left_out_by_a_rule_gets_the_same_reply_whether_the_asker_is_a_resident_or_not(
        client, town, make_post, login_as):
    coord, helper = town["coord"], town["helper"]
    help_rules.set_rules(coord, {"rides:residents:licence", "rides:residents:background"})
    bars.add_bar(coord, helper, None, "Kept from residents")
    resident_need = make_post(town["resident"], title="Ride to the clinic", details="Tuesday morning")
    member_need = make_post(town["member"], title="Ride to the clinic", details="Tuesday morning")
    offer = make_post(helper, kind="offer", title="Rides around town", quantity=2)
    db.session.execute(Match.__table__.delete())  # the offer meets both requests only through "I can help"
    db.session.commit()
    login_as(helper)
    replies = []
    for need in (resident_need, member_need):
        before = client.get(f"/posts/{need.id}")
        response = client.post(f"/posts/{need.id}/help", data={
            "csrf_token": csrf_token(client, f"/posts/{need.id}"), "offer_id": str(offer.id), "note": "I can drive"})
        after = client.get(response.headers["Location"])
        replies.append((before.status_code, _normal(before.get_data(as_text=True)), response.status_code,
                        re.sub(r"/posts/\d+", "/posts/N", response.headers["Location"]), after.status_code,
                        _normal(after.get_data(as_text=True))))
    assert replies[0] == replies[1]
    assert "A coordinator will look at your offer" in replies[0][5]
    for word in ("resident", "Resident", "licence", "barred", "Left out", "Checked by"):
        assert word not in replies[0][5], word
    assert db.session.query(OutboxEmail).count() == 0


def test_checked_by_the_residence_shows_to_the_resident_only(client, town, make_post, login_as, make_user):
    coord, helper, resident = town["coord"], town["helper"], town["resident"]
    help_rules.set_rules(coord, {"rides:residents:licence", "rides:everyone:insurance"})
    today = local_today()
    for kind in ("licence", "insurance"):
        vetting.save_check(coord, helper, kind, today, today + timedelta(days=300))
    make_post(helper, kind="offer", title="Rides around town", quantity=2)
    resident_match = db.session.scalar(select(Match).where(
        Match.need_id == make_post(resident, title="Ride to the clinic").id))
    member_match = db.session.scalar(select(Match).where(
        Match.need_id == make_post(town["member"], title="Ride to the store").id))
    for m in (resident_match, member_match):
        matches.approve(coord, m.id, link)
    seen = {}
    for who, match in (("resident", resident_match), ("member", member_match), ("helper", resident_match),
                       ("coord", resident_match)):
        login_as(town[who])
        seen[who] = client.get(f"/matches/{match.id}").get_data(as_text=True)
        logout(client)
    assert "Checked by the residence" in seen["resident"] and "Hal" in seen["resident"]
    for who in ("member", "helper", "coord"):
        assert "Checked by the residence" not in seen[who], who
    for who in ("resident", "member", "helper"):  # nobody but coordinators sees any check itself
        for word in ("licence", "Insurance", "insurance", "expires"):
            assert word not in seen[who], (who, word)


# Blocks through the pages --------------------------------------------------------------------------

def test_blocking_from_a_post_page_withdraws_the_proposal_and_the_blocked_person_sees_no_change(
        client, town, make_post, login_as):
    member, helper = town["member"], town["helper"]
    offer = make_post(helper, kind="offer", title="Rides around town")
    need = make_post(member, title="Ride to the clinic")
    proposal = db.session.scalar(select(Match).where(Match.need_id == need.id))
    helper_pages = ("/", "/posts/mine", f"/posts/{need.id}", f"/posts/{offer.id}", "/account/", "/account/blocks",
                    "/calendar", "/groups")
    login_as(helper)
    before = {url: _normal(client.get(url).get_data(as_text=True)) for url in helper_pages}
    logout(client)
    login_as(member)
    page = client.get(f"/posts/{offer.id}").get_data(as_text=True)
    assert "Block this person" in page
    response = client.post(f"/posts/{offer.id}/block", data={"csrf_token": csrf_token(client, f"/posts/{offer.id}")})
    assert response.status_code == 302
    mine = client.get("/account/blocks").get_data(as_text=True)
    assert "Rides around town" in mine and "Hal" not in mine
    logout(client)
    db.session.expire_all()
    assert db.session.get(Match, proposal.id).status == "cancelled"
    login_as(helper)
    after = {url: _normal(client.get(url).get_data(as_text=True)) for url in helper_pages}
    # The one change on the helper's pages: their offer's proposal reads "Cancelled", exactly as
    # every waiting proposal does after the nightly re-run withdraws it (no reason, nobody named).
    offer_url = f"/posts/{offer.id}"
    assert {url: page for url, page in after.items() if url != offer_url} == \
        {url: page for url, page in before.items() if url != offer_url}
    assert after[offer_url] == before[offer_url].replace("Waiting for a coordinator", "Cancelled")
    withdrawn = db.session.get(Match, proposal.id)
    assert (withdrawn.reject_reason, withdrawn.decided_by_id) == (None, None)
    assert db.session.query(OutboxEmail).filter(OutboxEmail.to_addr == helper.email).count() == 0
    # Undone from the blocker's page: the two may be matched again.
    logout(client)
    login_as(member)
    block = db.session.scalar(select(Block))
    undone = client.post(f"/account/blocks/{block.id}/undo", data={"csrf_token": csrf_token(client, "/account/blocks")})
    assert undone.status_code == 302 and db.session.scalars(select(Block)).all() == []


def test_blocking_from_the_match_page_and_joining_the_blocked_hosts_group_is_refused(client, town, make_post,
                                                                                    login_as):
    from tests.services.groups_helpers import group_offer, schedule, sessions_of

    member, host = town["member"], town["helper"]
    make_post(host, kind="offer", title="Rides around town")
    match = db.session.scalar(select(Match).where(Match.need_id == make_post(member, title="Ride to the clinic").id))
    session = sessions_of(schedule(host, group_offer(make_post, host)))[0]
    login_as(member)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "Block this person" in page
    assert client.post(f"/matches/{match.id}/block",
                       data={"csrf_token": csrf_token(client, f"/matches/{match.id}")}).status_code == 302
    joined = client.post(f"/groups/sessions/{session.id}/join", data={"csrf_token": csrf_token(client, "/groups")})
    assert joined.status_code == 403
    assert "isn&#39;t open to you" in client.get(f"/groups/sessions/{session.id}").get_data(as_text=True)
    from app.models import SessionSeat

    assert db.session.scalars(select(SessionSeat)).all() == []


# Bars through the pages -----------------------------------------------------------------------------

def test_a_coordinator_bars_a_person_from_one_resident_and_only_coordinators_read_the_reason(client, town, make_post,
                                                                                           login_as):
    coord, helper, resident = town["coord"], town["helper"], town["resident"]
    login_as(coord)
    page_url = f"/coordinate/members/{helper.id}/safety"
    page = client.get(page_url).get_data(as_text=True)
    assert "Riley Resident" in page  # a resident a no-contact order can name
    empty = client.post(f"/coordinate/members/{helper.id}/bars", data={
        "csrf_token": csrf_token(client, page_url), "resident_id": str(resident.id), "reason": ""})
    assert empty.status_code == 422 and 'id="reason-err"' in empty.get_data(as_text=True)
    added = client.post(f"/coordinate/members/{helper.id}/bars", data={
        "csrf_token": csrf_token(client, page_url), "resident_id": str(resident.id), "reason": "Court order 22-114"})
    assert added.status_code == 302
    assert "Court order 22-114" in client.get(page_url).get_data(as_text=True)
    assert "Court order 22-114" in client.get("/coordinate/bars").get_data(as_text=True)
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "bar_add"))
    assert "Court order" not in str(entry.details)
    logout(client)
    offer = make_post(helper, kind="offer", title="Rides around town")
    need = make_post(resident, title="Ride to the clinic")
    assert db.session.scalars(select(Match)).all() == []
    for who in ("helper", "resident"):
        login_as(town[who])
        for url in ("/", "/posts/mine", f"/posts/{offer.id}", f"/posts/{need.id}", "/account/"):
            html = client.get(url).get_data(as_text=True)
            assert "Court order" not in html and "No contact" not in html and "barred" not in html.lower(), (who, url)
        logout(client)
    bar = db.session.scalar(select(Bar))
    login_as(coord)
    lifted = client.post(f"/coordinate/bars/{bar.id}/lift", data={"csrf_token": csrf_token(client, "/coordinate/bars"),
                                                                "back_to": str(helper.id)})
    db.session.expire_all()
    assert lifted.status_code == 302 and db.session.get(Bar, bar.id).lifted_at is not None
    again = client.post(f"/coordinate/bars/{bar.id}/lift", data={"csrf_token": csrf_token(client, "/coordinate/bars")})
    assert again.status_code == 409


def test_a_coordinator_never_reads_or_lifts_the_bars_and_checks_on_themselves(client, town, make_user, login_as):
    casey, resident = town["coord"], town["resident"]
    drew = make_user("coordinator", name="Drew Coordinator", email="drew@example.org")
    bars.add_bar(drew, casey, resident.id, "Court order 22-114")
    bars.add_bar(drew, town["helper"], None, "Asked to stay away")
    vetting.save_check(drew, casey, "background", local_today() - timedelta(days=300), local_today() + timedelta(days=5))
    login_as(casey)
    assert client.get(f"/coordinate/members/{casey.id}/safety").status_code == 404
    token = csrf_token(client, "/coordinate/bars")
    for url, data in ((f"/coordinate/members/{casey.id}/checks", {"kind": "background"}),
                      (f"/coordinate/members/{casey.id}/checks/remove", {"kind": "background"}),
                      (f"/coordinate/members/{casey.id}/bars", {"reason": "x", "resident_id": "0"})):
        assert client.post(url, data=dict(data, csrf_token=token)).status_code == 404, url
    listed = client.get("/coordinate/bars").get_data(as_text=True)
    assert "Asked to stay away" in listed  # another person's bar
    assert "Court order" not in listed
    expiring = client.get("/coordinate/checks/expiring").get_data(as_text=True)
    assert "Casey Coordinator" not in expiring
    own = db.session.scalar(select(Bar).where(Bar.person_id == casey.id))
    assert client.post(f"/coordinate/bars/{own.id}/lift", data={"csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Bar, own.id).lifted_at is None
    assert len(vetting.checks_of(drew, casey)) == 1
    assert "Court order 22-114" in [b.reason for b in bars.bars_of(drew, casey)]  # another coordinator reads it
    # The expiry email goes to the other coordinators, not to the one whose check it is.
    db.session.query(OutboxEmail).delete()
    db.session.commit()
    vetting.send_expiry_reminders()
    assert [m.to_addr for m in db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "vetting_expiring"))] \
        == ["drew@example.org"]


def test_someone_a_host_blocked_sees_no_sign_of_it_on_the_groups_pages(client, town, make_post, login_as):
    from tests.services.groups_helpers import group_offer, schedule, sessions_of

    host, blocked = town["helper"], town["member"]
    session = sessions_of(schedule(host, group_offer(make_post, host)))[0]
    login_as(host)
    post = make_post(blocked, title="Ride to the clinic")
    done = client.post(f"/posts/{post.id}/block", data={"csrf_token": csrf_token(client, f"/posts/{post.id}")},
                       follow_redirects=True).get_data(as_text=True)
    # The promise is what is true: no matching, no joining the other's groups (not "never meet in a group").
    assert "neither of you can join a group the other hosts" in done and "meet them in a group" not in done
    logout(client)
    login_as(blocked)
    assert f"/groups/sessions/{session.id}" not in client.get("/groups").get_data(as_text=True)
    page = client.get(f"/groups/sessions/{session.id}").get_data(as_text=True)
    assert "The host did not accept you for this session." in page  # what anyone the host turned down reads
    assert "isn&#39;t open to you" not in page
    joined = client.post(f"/groups/sessions/{session.id}/join", data={"csrf_token": csrf_token(client, "/groups")})
    assert joined.status_code == 403
    logout(client)
    login_as(town["resident"])
    assert f"/groups/sessions/{session.id}" in client.get("/groups").get_data(as_text=True)
