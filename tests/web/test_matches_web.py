"""Coordination through the browser's eyes: privacy before approval, 409s, "I can help", links."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Match, OutboxEmail
from app.services import matches
from app.services import match_notices
from app.services.mail import send_pending
from tests.conftest import csrf_token, login

SECRETS = ("riley@example.org", "715-555-0101", "12 Hidden Lane", "hana@example.org", "715-555-0202")


def link(match):
    return f"http://localhost/matches/{match.id}"


@pytest.fixture
def pair(make_user, make_post):
    coord = make_user("coordinator", name="Casey Coordinator", email="casey@example.org")
    asker = make_user("resident", name="Riley Resident", email="riley@example.org")
    helper = make_user(name="Hana Helper", email="hana@example.org")
    stranger = make_user(name="Sam Stranger", email="sam@example.org")
    asker.phone, helper.phone = "715-555-0101", "715-555-0202"
    db.session.commit()
    offer = make_post(helper, kind="offer", title="Rides to appointments")
    need = make_post(asker, title="Ride to the clinic", street_address="12 Hidden Lane")
    match = db.session.scalar(select(Match).where(Match.need_id == need.id))
    return dict(coord=coord, asker=asker, helper=helper, stranger=stranger, offer=offer, need=need, match=match)


def _pages(client, p):
    urls = ["/", f"/posts/{p['need'].id}", f"/posts/{p['offer'].id}", "/browse?kind=need", "/browse?kind=offer",
            "/posts/mine", f"/matches/{p['match'].id}"]
    return {url: client.get(url) for url in urls}


def _leaks(text, own=()):
    return [s for s in SECRETS if s in text and s not in own]


def test_before_approval_nobody_sees_the_other_partys_details_anywhere(client, pair, smtp):
    for who, own in (("asker", ("riley@example.org", "715-555-0101", "12 Hidden Lane")),
                     ("helper", ("hana@example.org", "715-555-0202")), ("stranger", ())):
        login(client, pair[who].email)
        for url, response in _pages(client, pair).items():
            assert _leaks(response.get_data(as_text=True), own) == [], (who, url)
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    send_pending()
    for message in smtp.messages:
        assert _leaks(message["msg"].as_string()) == []
    for row in db.session.scalars(select(OutboxEmail)):
        assert _leaks(row.body_text + (row.body_html or "")) == []


def test_after_approval_only_the_two_people_and_coordinators_see_contact_and_each_view_is_logged(client, pair, smtp):
    matches.approve(pair["coord"], pair["match"].id, link)
    url = f"/matches/{pair['match'].id}"
    login(client, pair["helper"].email)
    page = client.get(url).get_data(as_text=True)
    # Riley is reached the way she chose (her email, the default); her phone stays hers.
    assert "riley@example.org" in page and "12 Hidden Lane" in page and "715-555-0101" not in page
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, pair["stranger"].email)
    assert client.get(url).status_code == 404
    for other in ("/", f"/posts/{pair['need'].id}", "/browse?kind=need"):
        assert _leaks(client.get(other).get_data(as_text=True)) == []
    views = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contact_view")).all()
    assert [(v.actor_id, v.subject_id) for v in views] == [(pair["helper"].id, pair["match"].id)]
    send_pending()
    stranger_mail = [m for m in smtp.messages if m["rcpt"] == ["sam@example.org"]]
    assert stranger_mail == []


def test_answering_a_match_that_is_not_approved_is_a_409(client, pair):
    login(client, pair["asker"].email)
    response = client.post(f"/matches/{pair['match'].id}/answer",
                           data={"csrf_token": csrf_token(client, "/"), "answer": "accept"})
    assert response.status_code == 409 and "nothing to answer" in response.get_data(as_text=True)


def test_approving_twice_is_a_409_with_a_clear_message(client, pair):
    login(client, pair["coord"].email)
    token = csrf_token(client, "/coordinate/queue")
    assert client.post(f"/coordinate/matches/{pair['match'].id}/approve", data={"csrf_token": token}).status_code == 302
    again = client.post(f"/coordinate/matches/{pair['match'].id}/approve", data={"csrf_token": token})
    assert again.status_code == 409 and "already approved" in again.get_data(as_text=True).lower()


def test_queue_shows_reasons_and_distance_bucket_and_members_cannot_see_it(client, pair):
    login(client, pair["coord"].email)
    page = client.get("/coordinate/queue").get_data(as_text=True)
    assert "Ride to the clinic" in page and "Under 2 mi" in page
    from markupsafe import escape

    from app.services.reasons import reason_text

    reasons = [reason_text(r) for r in pair["match"].reasons]
    assert reasons and all(isinstance(r, list) for r in pair["match"].reasons)  # stored as codes
    assert any("mile" in r for r in reasons)  # worded in miles, like the rest of the site
    for reason in reasons:
        assert str(escape(reason)) in page
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, pair["helper"].email)
    assert client.get("/coordinate/queue").status_code == 403


def test_reject_without_reason_keeps_the_match_and_says_why(client, pair):
    login(client, pair["coord"].email)
    response = client.post(f"/coordinate/matches/{pair['match'].id}/reject",
                           data={"csrf_token": csrf_token(client, "/coordinate/queue"), "reason": ""}, follow_redirects=True)
    assert "Say why" in response.get_data(as_text=True)
    assert db.session.get(Match, pair["match"].id).status == "proposed"


def test_i_can_help_lands_in_the_queue_with_the_note(client, pair, make_user, make_post):
    volunteer = make_user(name="Val Volunteer", email="val@example.org")
    mine = make_post(volunteer, kind="offer", title="Evening rides")
    login(client, "val@example.org")
    page = client.get(f"/posts/{pair['need'].id}").get_data(as_text=True)
    assert 'id="help"' in page and "Evening rides" in page
    response = client.post(f"/posts/{pair['need'].id}/help", data={
        "csrf_token": csrf_token(client, f"/posts/{pair['need'].id}"), "offer_id": str(mine.id), "note": "I drive that way daily"})
    assert response.status_code == 302
    m = db.session.scalar(select(Match).where(Match.source == "volunteer"))
    assert (m.offer_id, m.note, m.status) == (mine.id, "I drive that way daily", "proposed")


def test_i_can_help_with_an_offer_that_does_not_reach_gets_a_field_message(client, pair, make_user, make_post):
    volunteer = make_user(name="Far Away", email="far@example.org", zip_code="55401")
    far = make_post(volunteer, kind="offer", title="Rides in the city", radius_miles=3.0)
    login(client, "far@example.org")
    response = client.post(f"/posts/{pair['need'].id}/help", data={
        "csrf_token": csrf_token(client, f"/posts/{pair['need'].id}"), "offer_id": str(far.id), "note": "typed note"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "doesn&#39;t reach this request" in html and "typed note" in html
    assert db.session.scalar(select(Match).where(Match.source == "volunteer")) is None


def test_without_an_offer_the_help_box_links_to_posting_one(client, pair, make_user):
    make_user(email="new@example.org")
    login(client, "new@example.org")
    page = client.get(f"/posts/{pair['need'].id}").get_data(as_text=True)
    assert "Post an offer" in page and "category=rides" in page


def test_follow_up_link_works_without_login_and_rejects_forgeries(client, pair):
    m = pair["match"]
    matches.approve(pair["coord"], m.id, link)
    matches.answer(pair["asker"], m.id, True)
    matches.answer(pair["helper"], m.id, True)
    token = match_notices.outcome_token(m, pair["helper"].id)
    assert client.get(f"/matches/outcome/{token}x").status_code == 404
    page = client.get(f"/matches/outcome/{token}")
    assert page.status_code == 200 and db.session.get(Match, m.id).status == "accepted"  # GET changes nothing
    bad = client.post(f"/matches/outcome/{token}", data={"csrf_token": csrf_token(client, f"/matches/outcome/{token}")})
    assert bad.status_code == 422 and "Choose yes or no" in bad.get_data(as_text=True)
    done = client.post(f"/matches/outcome/{token}", data={"csrf_token": csrf_token(client, f"/matches/outcome/{token}"),
                                                          "happened": "yes", "feedback": "All good"})
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Match, m.id).status == "completed" and db.session.get(Match, m.id).offer_feedback == "All good"
    login(client, pair["coord"].email)
    assert "All good" in client.get(f"/matches/{m.id}").get_data(as_text=True)  # kept for coordinators
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, pair["asker"].email)
    assert "All good" not in client.get(f"/matches/{m.id}").get_data(as_text=True)


def test_case_view_shows_matches_and_private_notes_to_coordinators_only(client, pair):
    login(client, pair["coord"].email)
    url = f"/coordinate/residents/{pair['asker'].id}"
    response = client.post(url + "/notes", data={"csrf_token": csrf_token(client, url), "body": "Prefers morning calls"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Prefers morning calls" in page and "Ride to the clinic" in page and "Waiting for a coordinator" in page
    empty = client.post(url + "/notes", data={"csrf_token": csrf_token(client, url), "body": ""})
    assert empty.status_code == 422 and "Write the note first" in empty.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, pair["asker"].email)
    assert client.get(url).status_code == 403
    for page_url in ("/posts/mine", f"/posts/{pair['need'].id}", f"/matches/{pair['match'].id}"):
        assert "Prefers morning calls" not in client.get(page_url).get_data(as_text=True)


def test_audit_log_page_is_for_admins_only(client, pair, make_user):
    make_user("admin", email="admin@example.org")
    matches.approve(pair["coord"], pair["match"].id, link)
    login(client, pair["coord"].email)
    assert client.get("/admin/audit").status_code == 403
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "admin@example.org")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Casey Coordinator" in page and "approve" in page


def test_manual_match_page_searches_offers_and_matches(client, pair, make_user, make_post):
    other = make_post(make_user(email="o@example.org"), kind="offer", title="Clinic shuttle")
    login(client, pair["coord"].email)
    url = f"/coordinate/needs/{pair['need'].id}/match"
    page = client.get(url + "?q=shuttle").get_data(as_text=True)
    assert "Clinic shuttle" in page and "Rides to appointments" not in page
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "offer_id": str(other.id), "units": "1"})
    assert response.status_code == 302
    m = db.session.scalar(select(Match).where(Match.source == "manual"))
    assert m.status == "approved" and m.offer_id == other.id
    assert re.search(r"/matches/\d+", response.headers["Location"])


def test_approval_emails_leave_right_after_the_request_without_a_cron(client, pair, smtp):
    login(client, pair["coord"].email)
    response = client.post(f"/coordinate/matches/{pair['match'].id}/approve",
                           data={"csrf_token": csrf_token(client, "/coordinate/queue")})
    assert response.status_code == 302
    assert sorted(m["rcpt"][0] for m in smtp.messages) == ["hana@example.org", "riley@example.org"]
    assert db.session.scalar(select(OutboxEmail.status).distinct()) == "sent"


def test_my_posts_links_an_approved_match_but_not_a_proposal(client, pair):
    login(client, pair["asker"].email)
    page = client.get("/posts/mine").get_data(as_text=True)
    assert "We're looking for a match." in page and f"/matches/{pair['match'].id}" not in page
    matches.approve(pair["coord"], pair["match"].id, link)
    page = client.get("/posts/mine").get_data(as_text=True)
    assert f"/matches/{pair['match'].id}" in page and "Approved: waiting for both to confirm" in page
