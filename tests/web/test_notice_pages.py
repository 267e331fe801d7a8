"""The pages around notices: a member's channels per kind, a coordinator's view of how a member is
reached, and the signed link a text carries to someone who cannot log in."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Match, NoticeChoice, OutboxText
from app.services import matches
from app.services.accounts import create_resident
from app.services.text_links import match_token
from app.timeutil import utcnow
from tests.conftest import csrf_token, login
from tests.services.test_match_rules import link, people, proposal  # noqa: F401


def _boxes(html: str) -> dict[str, bool]:
    return {m.group(2): bool(m.group(3)) for m in re.finditer(r'<input type="checkbox" name="(([a-z_]+-(?:email|text)))"[^>]*?( checked)?>', html)}


def test_a_member_sees_and_saves_their_channels_per_kind(client, people):
    hana = people.helper
    login(client, hana.email)
    page = client.get("/account/notices")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Texts need a confirmed mobile number." in html
    boxes = _boxes(html)
    assert boxes["reminder-email"] and boxes["digest-email"] and not boxes["digest-text"]
    token = csrf_token(client, "/account/notices")
    form = {"csrf_token": token, "reminder-email": "on", "followup-email": "on"}
    response = client.post("/account/notices", data=form)
    assert response.status_code == 302
    saved = {r.kind: (r.email, r.text) for r in db.session.scalars(select(NoticeChoice).where(NoticeChoice.user_id == hana.id))}
    assert saved["reminder"] == (True, False) and saved["message"] == (False, False) and saved["digest"] == (False, False)
    boxes = _boxes(client.get("/account/notices").get_data(as_text=True))
    assert boxes["reminder-email"] and not boxes["message-email"]


def test_texts_without_a_number_get_a_message_and_the_boxes_stay_as_ticked(client, people):
    login(client, people.helper.email)
    token = csrf_token(client, "/account/notices")
    response = client.post("/account/notices", data={"csrf_token": token, "reminder-text": "on", "message-email": "on"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Add and confirm a mobile number before choosing texts." in html
    boxes = _boxes(html)
    assert boxes["reminder-text"] and boxes["message-email"] and not boxes["reminder-email"]
    assert db.session.scalars(select(NoticeChoice)).all() == []


def test_without_the_form_token_nothing_is_saved(client, people):
    login(client, people.helper.email)
    assert client.post("/account/notices", data={"reminder-email": "on"}).status_code == 400
    assert db.session.scalars(select(NoticeChoice)).all() == []


def test_coordinators_see_how_a_member_is_reached_and_choose_only_for_someone_who_cannot_log_in(app, client, people):
    resident = create_resident(people.coord, "Jordan Reyes", "54016")
    resident.mobile, resident.mobile_verified_at = "+16515550123", utcnow()
    db.session.add(OutboxText(user_id=resident.id, to_number="+16515550123", body="x", status="failed",
                              last_error="Twilio 400 error 21614: not a mobile number"))
    db.session.commit()
    login(client, people.coord.email)
    html = client.get(f"/coordinate/residents/{resident.id}").get_data(as_text=True)
    assert "How we reach them" in html and "last text failed" in html and "21614" in html
    assert f'href="/account/for/{resident.id}/notices"' in html
    members = client.get("/coordinate/members?q=Jordan").get_data(as_text=True)
    assert "Text" in members and "last text failed" in members
    token = csrf_token(client, f"/account/for/{resident.id}/notices")
    assert client.post(f"/account/for/{resident.id}/notices", data={"csrf_token": token, "reminder-text": "on"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(NoticeChoice, (resident.id, "reminder")).text is True
    assert client.get(f"/account/for/{people.helper.id}/notices").status_code == 404  # Hana logs in herself
    other = app.test_client()
    login(other, people.member.email)
    assert other.get(f"/account/for/{resident.id}/notices").status_code == 403


def _resident_match(people, make_post):
    resident = create_resident(people.coord, "Jordan Reyes", "54016")
    resident.mobile, resident.mobile_verified_at = "+16515550123", utcnow()
    db.session.commit()
    offer = make_post(people.helper, kind="offer", title="Rides")
    need = make_post(resident, title="Ride to the pharmacy", street_address="12 Hidden Lane", actor=people.coord)
    return resident, matches.approve(people.coord, proposal(need).id, link)


def test_the_signed_link_shows_the_match_and_takes_the_answer(client, people, make_post):
    resident, m = _resident_match(people, make_post)
    [text] = db.session.scalars(select(OutboxText).where(OutboxText.user_id == resident.id)).all()
    url = re.search(r"http://localhost(/texts/m/\S+)", text.body).group(1)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Ride to the pharmacy" in html and 'value="accept"' in html
    assert "hana@example.org" in html and "Helper" not in html  # what the match page shows after approval: her card
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    done = client.post(url, data={"csrf_token": token, "action": "accept"})
    assert done.status_code == 200 and "Thank you: you confirmed." in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Match, m.id).need_answer == "accepted"
    again = client.post(url, data={"csrf_token": token, "action": "accept"})
    assert again.status_code == 409 and "You have already answered." in again.get_data(as_text=True)


def test_a_signed_link_works_only_for_its_person_and_until_their_sessions_are_reset(client, people, make_post):
    resident, m = _resident_match(people, make_post)
    assert client.get(f"/texts/m/{match_token(people.member, m)}").status_code == 404  # not one of the two
    assert client.get("/texts/m/not-a-token").status_code == 404
    tampered = match_token(resident, m)[:-2] + "xx"
    assert client.get(f"/texts/m/{tampered}").status_code == 404
    good = f"/texts/m/{match_token(resident, m)}"
    assert client.get(good).status_code == 200
    resident.session_token = "rotated" + resident.session_token
    db.session.commit()
    assert client.get(good).status_code == 404
    token = csrf_token(client, "/auth/login")
    assert client.post(good, data={"csrf_token": token, "action": "accept"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Match, m.id).need_answer is None
