"""The schedule and change forms: bad input is a 422 with a sentence beside the field and everything
typed kept (never a 500); good input schedules and moves sessions."""
import html as html_lib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import GroupSession, OutboxEmail
from app.services import groups_join
from app.timeutil import local_today, utc_to_local
from tests.conftest import csrf_token, login
from tests.services.groups_helpers import group_offer, link, schedule, sessions_of

def good(**fields):
    data = {"first_day": (local_today() + timedelta(days=7)).isoformat(), "start": "18:30", "end": "20:00", "repeat": "weekly", "days": ["1", "3"],
            "nth": "2", "weekday": "1", "ends": "count", "count": "6", "until": "", "places": "8",
            "place_details": "Valley Library, meeting room B", "ask_first": ""}
    data.update(fields)
    return data


@pytest.fixture
def host_client(app, make_user, make_post):
    host = make_user(name="Hana Host")
    offer = group_offer(make_post, host, title="Budgeting workshop", category="skills")
    client = app.test_client()
    login(client, host.email)
    return client, host, offer


def _error_beside(page: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-err">(.*?)</p>', page, re.S)
    assert match, f"no error beside {field}"
    return html_lib.unescape(match.group(1))


@pytest.mark.parametrize("fields, field, words", [
    (dict(start="19:00", end="18:00"), "end", "The end must be after the start."),
    (dict(places="0"), "places", "Enter a number of places from 1 to 500."),
    (dict(places="lots"), "places", "Enter a whole number, like 3."),
    (dict(first_day="2020-03-03"), "first_day", "Choose a date and time still to come."),
    (dict(count="abc"), "count", "Enter a whole number, like 3."),
    (dict(count="0"), "count", "Enter a number of sessions from 1 to 104."),
    (dict(count="500"), "count", "Enter a number of sessions from 1 to 104."),
    (dict(ends="until", until=""), "until", "Choose the date of the last session."),
    (dict(ends="until", until="2020-01-01"), "until", "The last date must be on or after the first."),
    (dict(start="", end=""), "start", "Enter the start time."),
    (dict(first_day="99999-01-01"), "first_day", None),
])
def test_bad_input_shows_beside_its_field_and_keeps_what_was_typed(host_client, fields, field, words):
    client, _host, offer = host_client
    url = f"/groups/offers/{offer.id}/schedule"
    data = good(**fields)
    response = client.post(url, data=dict(data, csrf_token=csrf_token(client, url)))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = _error_beside(page, field)
    assert words is None or words in message
    assert "Valley Library, meeting room B" in page  # what was typed stays
    if field != "places":
        assert 'value="8"' in page
    assert db.session.scalar(select(func.count()).select_from(GroupSession)) == 0


def test_a_good_form_schedules_the_sessions_and_opens_the_first(host_client):
    client, _host, offer = host_client
    url = f"/groups/offers/{offer.id}/schedule"
    page = client.get(url).get_data(as_text=True)
    assert 'value="8"' in page  # the offer's places, to start from
    response = client.post(url, data=dict(good(), csrf_token=csrf_token(client, url)))
    assert response.status_code == 302
    first = db.session.scalar(select(GroupSession).order_by(GroupSession.starts_at))
    assert response.headers["Location"].endswith(f"/groups/sessions/{first.id}")
    assert db.session.scalar(select(func.count()).select_from(GroupSession)) == 6
    assert {utc_to_local(s.starts_at).strftime("%a %H:%M") for s in db.session.scalars(select(GroupSession))} == {
        "Tue 18:30", "Thu 18:30"}


def test_scheduling_someone_elses_offer_is_refused(app, make_user, make_post, host_client):
    _client, _host, offer = host_client
    other = app.test_client()
    login(other, make_user().email)
    assert other.get(f"/groups/offers/{offer.id}/schedule").status_code == 403
    assert other.get("/groups/offers/999999/schedule").status_code == 404


def test_changing_one_session_by_form(host_client, make_user):
    client, host, offer = host_client
    session = sessions_of(schedule(host, offer, repeat="weekly", ends="count", count=2, places=2))[0]
    attendee = make_user(name="Ann Attendee")
    groups_join.join_session(attendee, session.id, link_for=link)
    url = f"/groups/sessions/{session.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="19:00"' in page and "Room 2, 415 Main St" in page
    day = utc_to_local(session.starts_at).date().isoformat()
    bad = client.post(url, data={"csrf_token": csrf_token(client, url), "day": day, "start": "19:00", "end": "18:00",
                                 "places": "2", "place_details": "Room 3"})
    assert bad.status_code == 422 and "The end must be after the start." in _error_beside(bad.get_data(as_text=True), "end")
    assert "Room 3" in bad.get_data(as_text=True)
    ok = client.post(url, data={"csrf_token": csrf_token(client, url), "day": day, "start": "19:30", "end": "21:00",
                                "places": "2", "place_details": "Room 3"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert utc_to_local(db.session.get(GroupSession, session.id).starts_at).strftime("%H:%M") == "19:30"
    (mail,) = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "group_session_moved")).all()
    assert mail.to_addr == attendee.email and "Room 3" in mail.body_text
    fewer = client.post(url, data={"csrf_token": csrf_token(client, url), "day": day, "start": "19:30", "end": "21:00",
                                   "places": "0", "place_details": "Room 3"})
    assert fewer.status_code == 422 and "places" in _error_beside(fewer.get_data(as_text=True), "places")


def test_feedback_by_form_after_the_session(app, make_user, make_post):
    host = make_user()
    offer = group_offer(make_post, host)
    (session,) = sessions_of(schedule(host, offer))
    member = make_user()
    groups_join.join_session(member, session.id, link_for=link)
    client = app.test_client()
    login(client, member.email)
    url = f"/groups/sessions/{session.id}"
    assert "How did it go?" not in client.get(url).get_data(as_text=True)  # not before it starts
    # Before the session, a feedback POST is refused.
    assert client.post(f"{url}/feedback", data={"csrf_token": csrf_token(client, url), "body": "Good"}).status_code == 403
