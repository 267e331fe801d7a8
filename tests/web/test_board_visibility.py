"""Who can read the board: public by default; an admin can make it members-only (issue #14, item 11)."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from app.services import FieldError, NotAllowed, settings
from tests.conftest import csrf_token, login

BOARD = {"posts.browse", "posts.detail", "groups.index", "groups.session", "reports.impact"}


def client_for(app, user):
    client = app.test_client()
    assert login(client, user.email).status_code == 302
    return client


def set_mode(app, admin, mode):
    client = client_for(app, admin)
    response = client.post("/admin/settings", data={"csrf_token": csrf_token(client, "/admin/settings"),
                                                    "board_visibility": mode})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def board_urls(post):
    return ["/browse", "/browse?kind=offer", "/browse?q=clinic", f"/posts/{post.id}", "/groups", "/groups/sessions/1"]


def test_the_board_pages_are_exactly_the_public_pages_that_show_posts_or_sessions(app):
    marked = {rule.endpoint for rule in app.url_map.iter_rules()
              if getattr(app.view_functions[rule.endpoint], "shows_board", False)}
    assert marked == BOARD
    assert all(getattr(app.view_functions[e], "is_public", False) for e in marked)


def test_by_default_anyone_reads_the_board_and_the_privacy_page_says_so(client, make_user, make_post):
    post = make_post(make_user())
    assert client.get("/browse").status_code == 200
    assert "Ride to the clinic" in client.get(f"/posts/{post.id}").get_data(as_text=True)
    assert "Ride to the clinic" in client.get("/").get_data(as_text=True)
    assert client.get("/groups").status_code == 200
    privacy = client.get("/privacy").get_data(as_text=True)
    assert "Anyone can read the requests and offers (town and distance only)." in privacy
    assert "Only approved members" not in privacy


def test_only_admins_open_or_change_the_settings(app, client, make_user, make_post):
    post = make_post(make_user())
    for role in ("member", "resident", "coordinator"):
        other = client_for(app, make_user(role))
        assert other.get("/admin/settings").status_code == 403, role
        token = csrf_token(other, "/browse")
        assert other.post("/admin/settings", data={"csrf_token": token, "board_visibility": "members"}).status_code == 403
    response = client.post("/admin/settings", data={"csrf_token": csrf_token(client), "board_visibility": "members"})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # Nothing changed: visitors still read the board.
    assert client.get(f"/posts/{post.id}").status_code == 200


def test_members_only_sends_visitors_to_log_in_on_every_board_page(app, client, make_user, make_post):
    member = make_user(name="Early Member")
    post = make_post(member, title="Ride to the clinic")
    admin_client = set_mode(app, make_user("admin"), "members")
    page = admin_client.get("/admin/settings").get_data(as_text=True)
    assert re.search(r'value="members"[^>]*checked|checked[^>]*value="members"', page)
    for url in board_urls(post):
        response = client.get(url)
        assert response.status_code == 302, url
        location = urlsplit(response.headers["Location"])
        assert location.path == "/auth/login" and parse_qs(location.query)["next"][0].rstrip("?") == url, url
    home = client.get("/").get_data(as_text=True)  # the home page stays open, without the requests
    assert "Ride to the clinic" not in home and "for approved members" in home
    assert "Only approved members can read the requests and offers" in client.get("/privacy").get_data(as_text=True)
    # Everyone who was here before the switch is approved: the early member reads and posts.
    early = client_for(app, member)
    assert "Ride to the clinic" in early.get("/browse").get_data(as_text=True)
    assert early.get(f"/posts/{post.id}").status_code == 200
    assert early.get("/posts/new?kind=need").status_code == 200
    # The change is in the audit log.
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "setting_change"))
    assert entry.details == {"key": "board_visibility", "old": "public", "new": "members"}


def test_a_login_from_the_redirect_lands_on_the_page_asked_for(app, client, make_user, make_post):
    member = make_user()
    post = make_post(member)
    set_mode(app, make_user("admin"), "members")
    location = client.get(f"/posts/{post.id}").headers["Location"]
    token = csrf_token(client, "/auth/login")
    response = client.post(location, data={"csrf_token": token, "email": member.email, "password": "correct horse battery"})
    assert response.status_code == 302 and response.headers["Location"] == f"/posts/{post.id}"


def test_switching_back_to_public_opens_the_board_again(app, client, make_user, make_post):
    post = make_post(make_user())
    admin = make_user("admin")
    set_mode(app, admin, "members")
    assert client.get(f"/posts/{post.id}").status_code == 302
    set_mode(app, admin, "public")
    assert client.get(f"/posts/{post.id}").status_code == 200
    assert "Anyone can read" in client.get("/privacy").get_data(as_text=True)


def test_a_bad_setting_gets_a_message_beside_the_field_and_changes_nothing(app, client, make_user, make_post):
    post = make_post(make_user())
    admin_client = client_for(app, make_user("admin"))
    for bad in ("everyone", "", "members\x00", "x" * 5000):
        response = admin_client.post("/admin/settings", data={"csrf_token": csrf_token(admin_client, "/admin/settings"),
                                                              "board_visibility": bad})
        html = response.get_data(as_text=True)
        assert response.status_code == 422, bad
        assert re.search(r'<p class="error" id="board_visibility-err">Choose public or members only\.</p>', html), bad
    assert client.get(f"/posts/{post.id}").status_code == 200
    assert settings.values() == {"board_visibility": "public"}


def test_saving_the_same_mode_says_nothing_changed_and_writes_no_audit_entry(app, make_user):
    admin_client = set_mode(app, make_user("admin"), "public")
    assert "Nothing changed." in admin_client.get("/admin/settings").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "setting_change")) is None


def test_the_settings_service_refuses_non_admins_and_unknown_keys(app, make_user):
    with pytest.raises(NotAllowed):
        settings.update(make_user("coordinator"), {"board_visibility": "members"})
    with pytest.raises(FieldError) as err:
        settings.update(make_user("admin"), {"colour": "red"})
    assert err.value.field == "colour"
    assert not settings.board_members_only()


def test_members_only_board_reads_its_setting_on_every_request_without_growing_queries(app, make_user, make_post,
                                                                                       count_queries):
    member = make_user()
    make_post(member)
    admin = make_user("admin")
    set_mode(app, admin, "members")
    reader = client_for(app, member)
    with count_queries() as few:
        assert reader.get("/browse").status_code == 200
    for i in range(8):
        make_post(member, title=f"Ride {i}")
    with count_queries() as many:
        assert reader.get("/browse").status_code == 200
    assert many.count == few.count
