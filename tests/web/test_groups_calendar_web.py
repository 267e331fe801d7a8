"""My calendar page, a session's .ics (login required), and the private feed: public behind its
secret token, replaced by the reset button (the old address is then a 404)."""
import re

import icalendar

from app.services import groups_join
from tests.conftest import csrf_token, login
from tests.services.groups_helpers import PLACE, group_offer, link, schedule, sessions_of

SECRETS = ("Recovery circle", "recovery", PLACE, "Room 2", "Hana", "Mo Member")


def _setup(app, make_user, make_post):
    host = make_user(name="Hana Host")
    me = make_user(name="Mo Member")
    offer = group_offer(make_post, host, title="Recovery circle for families")
    sessions = sessions_of(schedule(host, offer, repeat="weekly", ends="count", count=2, places=1))
    groups_join.join_session(me, sessions[0].id, link_for=link)
    groups_join.join_session(make_user(), sessions[1].id, link_for=link)
    groups_join.join_session(me, sessions[1].id, link_for=link)  # waiting
    client = app.test_client()
    login(client, me.email)
    return client, me, sessions


def _events(body: bytes):
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def test_my_calendar_lists_my_sessions_by_date(app, make_user, make_post):
    client, _me, sessions = _setup(app, make_user, make_post)
    page = client.get("/calendar").get_data(as_text=True)
    assert page.count("Recovery circle for families") == 2  # my own page may say what it is
    assert "On the waiting list" in page
    assert f"/groups/sessions/{sessions[0].id}" in page
    assert "/calendar/feed/" not in page  # no private address until one is asked for


def test_a_sessions_ics_needs_login_and_is_neutral(app, client, make_user, make_post):
    mine, _me, sessions = _setup(app, make_user, make_post)
    url = f"/groups/sessions/{sessions[0].id}.ics"
    assert "/auth/login" in client.get(url).headers["Location"]
    response = mine.get(url)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    (event,) = _events(response.data)
    assert str(event["SUMMARY"]) == "Group session" and str(event["LOCATION"]) == "Hudson, WI"
    assert str(event["URL"]) == f"http://localhost/groups/sessions/{sessions[0].id}"
    assert event.decoded("DTSTART").replace(tzinfo=None) == sessions[0].starts_at
    for secret in SECRETS:
        assert secret.encode() not in response.data, secret


def test_the_private_feed_works_by_token_and_a_reset_kills_the_old_address(app, client, make_user, make_post):
    mine, me, sessions = _setup(app, make_user, make_post)
    assert mine.get("/calendar/feed").status_code == 405  # making one is a POST
    made = mine.post("/calendar/feed", data={"csrf_token": csrf_token(mine, "/calendar")})
    assert made.status_code == 302
    page = mine.get("/calendar").get_data(as_text=True)
    old = re.search(r"http://localhost(/calendar/feed/[\w-]+\.ics)", page).group(1)
    feed = client.get(old)  # a calendar server: no login, no cookie
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = _events(feed.data)
    assert sorted(str(e["STATUS"]) for e in events) == ["CONFIRMED", "TENTATIVE"]
    assert {str(e["SUMMARY"]) for e in events} == {"Group session"}
    for secret in SECRETS + (me.email,):
        assert secret.encode() not in feed.data, secret
    assert mine.post("/calendar/feed", data={}).status_code == 400  # CSRF
    mine.post("/calendar/feed", data={"csrf_token": csrf_token(mine, "/calendar")})
    new = re.search(r"http://localhost(/calendar/feed/[\w-]+\.ics)", mine.get("/calendar").get_data(as_text=True)).group(1)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404


