"""The groups pages: finding sessions (public: town and distance bucket only), the session page
(exact place only to those holding a place), joining by POST with CSRF, and who reaches the roster."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import SessionSeat
from app.services import groups_join
from tests.conftest import csrf_token, login
from tests.services.groups_helpers import PLACE, group_offer, link, schedule, sessions_of


@pytest.fixture
def host(make_user):
    return make_user(name="Hana Hostname", zip_code="54016")


@pytest.fixture
def group(host, make_post):
    offer = group_offer(make_post, host, title="Hudson peer circle", zip_code="54016")
    return sessions_of(schedule(host, offer, repeat="weekly", ends="count", count=2, places=3))


def _client_for(app, user):
    client = app.test_client()
    assert login(client, user.email).status_code == 302
    return client


def test_groups_lists_upcoming_sessions_with_places_and_never_an_address_or_a_name(client, make_user, make_post,
                                                                                   host, group):
    full_host = make_user(name="Fran Farhost", zip_code="54801")
    far = group_offer(make_post, full_host, category="skills", title="Spooner resume workshop", zip_code="54801")
    (full,) = sessions_of(schedule(full_host, far, places=1))
    groups_join.join_session(make_user(), full.id, link_for=link)
    html = client.get("/groups").get_data(as_text=True)
    assert "Hudson peer circle" in html and "Spooner resume workshop" in html
    assert "3 places left" in html and "Full: waiting list" in html
    assert "Hudson, WI" in html and "Spooner, WI" in html
    for secret in (PLACE, "Room 2", "Hana", "Hostname", "Fran"):
        assert secret not in html, secret
    skills = client.get("/groups?category=skills").get_data(as_text=True)
    assert "Spooner resume workshop" in skills and "Hudson peer circle" not in skills
    near = client.get("/groups?near=54016&within=10").get_data(as_text=True)
    assert "Hudson peer circle" in near and "Spooner resume workshop" not in near and "Under 2 mi" in near
    assert client.get("/groups?near=abc&within=zz&page=-3&category=nope").status_code == 200


def test_groups_pages_and_its_query_count_does_not_grow_with_the_page(app, client, make_user, make_post, host,
                                                                      count_queries):
    offer = group_offer(make_post, host, title="Weekly circle")
    schedule(host, offer, repeat="weekly", ends="count", count=10, places=4)
    app.config["POSTS_PER_PAGE"] = 4
    with count_queries() as small:
        first = client.get("/groups").get_data(as_text=True)
    assert "Page 1 of 3" in first and first.count("Weekly circle") == 4
    assert client.get("/groups?page=3").get_data(as_text=True).count("Weekly circle") == 2
    app.config["POSTS_PER_PAGE"] = 10
    with count_queries() as large:
        client.get("/groups")
    assert large.count == small.count


def test_the_session_page_shows_the_exact_place_only_to_those_holding_a_place(app, client, make_user, group):
    session = group[0]
    holder, waiting_one, waiting_two, other = make_user(), make_user(), make_user(), make_user()
    for person in (holder, make_user(), make_user(), waiting_one, waiting_two):
        groups_join.join_session(person, session.id, link_for=link)
    url = f"/groups/sessions/{session.id}"
    anonymous = client.get(url).get_data(as_text=True)
    assert "Hudson, WI" in anonymous and PLACE not in anonymous and "Log in" in anonymous
    assert "Full: waiting list" in anonymous
    assert PLACE in _client_for(app, holder).get(url).get_data(as_text=True)
    page = _client_for(app, waiting_two).get(url).get_data(as_text=True)
    assert PLACE not in page and "you are number 2 on the waiting list" in page
    assert PLACE not in _client_for(app, other).get(url).get_data(as_text=True)
    assert client.get("/groups/sessions/999999").status_code == 404


def test_joining_is_a_post_with_csrf_and_the_page_says_where_one_stands(app, make_user, group):
    session = group[0]
    member = make_user()
    client = _client_for(app, member)
    url = f"/groups/sessions/{session.id}"
    assert client.post(f"{url}/join", data={}).status_code == 400  # no CSRF token: nothing happens
    assert db.session.scalar(select(func.count()).select_from(SessionSeat)) == 0
    response = client.post(f"{url}/join", data={"csrf_token": csrf_token(client, url), "share_contact": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "You have a place. See you there!" in page and PLACE in page
    again = client.post(f"{url}/join", data={"csrf_token": csrf_token(client, url)})
    assert again.status_code == 409 and "already in this session" in again.get_data(as_text=True)
    left = client.post(f"{url}/leave", data={"csrf_token": csrf_token(client, url)})
    assert left.status_code == 302 and "You left this session." in client.get(url).get_data(as_text=True)
    series_id = session.series_id
    joined = client.post(f"/groups/series/{series_id}/join", data={"csrf_token": csrf_token(client, url),
                                                                   "session_id": str(session.id)})
    assert joined.status_code == 302 and joined.headers["Location"].endswith(url)
    assert "You have a place in 2 sessions." in client.get(url).get_data(as_text=True)


def test_a_full_session_says_so_with_the_position(app, make_user, group):
    session = group[0]
    for _ in range(3):
        groups_join.join_session(make_user(), session.id, link_for=link)
    client = _client_for(app, make_user())
    url = f"/groups/sessions/{session.id}"
    client.post(f"{url}/join", data={"csrf_token": csrf_token(client, url)})
    assert "you are number 1 on the waiting list" in client.get(url).get_data(as_text=True)


def test_roster_attendance_and_messages_are_for_the_host_and_coordinators_only(app, client, make_user, host, group):
    session = group[0]
    member = make_user("resident", name="Mel Member")  # a resident: the roster must not say so
    groups_join.join_session(member, session.id, share_contact=True, link_for=link)
    base = f"/groups/sessions/{session.id}"
    assert "/auth/login" in client.get(f"{base}/roster").headers["Location"]
    other = _client_for(app, member)
    token = csrf_token(other, base)
    assert other.get(f"{base}/roster").status_code == 403
    assert other.get(f"{base}/edit").status_code == 403
    for action in ("attendance", "message", "cancel"):
        assert other.post(f"{base}/{action}", data={"csrf_token": token, "body": "hi"}).status_code == 403, action
    assert other.post(f"/groups/series/{session.series_id}/cancel", data={"csrf_token": token}).status_code == 403
    assert other.get("/groups/sessions/999999/roster").status_code == 404
    mine = _client_for(app, host)
    roster = mine.get(f"{base}/roster").get_data(as_text=True)
    assert "Mel" in roster and member.email in roster and "Member" not in roster.replace("Mel Member", "")
    assert "resident" not in roster.lower()
    assert _client_for(app, make_user("coordinator")).get(f"{base}/roster").status_code == 200
    sent = mine.post(f"{base}/message", data={"csrf_token": csrf_token(mine, f"{base}/roster"), "body": "See you!"})
    assert sent.status_code == 302
    empty = mine.post(f"{base}/message", data={"csrf_token": csrf_token(mine, f"{base}/roster"), "body": "  "})
    assert empty.status_code == 422 and "Write the message first." in empty.get_data(as_text=True)


def test_a_request_of_someone_elses_group_is_not_found(app, make_user, make_post, group):
    other_host = make_user()
    offer = group_offer(make_post, other_host, title="Other circle")
    (theirs,) = sessions_of(schedule(other_host, offer, ask_first=True))
    asker = make_user()
    groups_join.join_session(asker, theirs.id, link_for=link)
    seat_id = db.session.scalar(select(SessionSeat.id).where(SessionSeat.user_id == asker.id))
    stranger = _client_for(app, make_user())
    token = csrf_token(stranger, "/groups")
    assert stranger.post(f"/groups/requests/{seat_id}/accept", data={"csrf_token": token}).status_code == 404
    owner = _client_for(app, other_host)
    done = owner.post(f"/groups/requests/{seat_id}/accept",
                      data={"csrf_token": csrf_token(owner, "/groups"), "next": f"/groups/sessions/{theirs.id}/roster"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/groups/sessions/{theirs.id}/roster")
    assert db.session.scalar(select(SessionSeat.status).where(SessionSeat.id == seat_id)) == "joined"


def test_the_hosting_page_links_each_group_offer_to_scheduling(app, make_user, make_post, host, group):
    make_post(host, kind="offer", category="rides", title="Rides to town")
    page = _client_for(app, host).get("/groups/hosting").get_data(as_text=True)
    offer_id = group[0].offer_id
    assert f"/groups/offers/{offer_id}/schedule" in page and "Schedule sessions" in page
    assert "Rides to town" not in page and "Every week" in page
    assert re.search(rf"/groups/sessions/{group[0].id}/roster", page)
