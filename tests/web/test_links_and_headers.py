"""What leaves the site on the wire: redirects after forms, reset links, security and cache headers."""
import re

import pytest

from app.extensions import db
from app.services.mail import send_pending
from tests.conftest import csrf_token, login, make_app


@pytest.mark.parametrize("target", [
    "/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "//evil.example", "/\\evil.example",
    "%5C%5Cevil.example", "https://evil.example/", "http:evil.example", "///evil.example", "/%20/evil.example",
    "javascript:alert(1)", "evil.example", "/%7f/evil.example",
])
def test_login_never_redirects_off_site(client, make_user, target):
    user = make_user()
    token = csrf_token(client, "/auth/login")
    response = client.post(f"/auth/login?next={target}",
                           data={"csrf_token": token, "email": user.email, "password": "correct horse battery"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_follows_a_same_site_path_with_its_query(client, make_user):
    user = make_user()
    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login?next=/posts/mine%3Fx%3D1",
                           data={"csrf_token": token, "email": user.email, "password": "correct horse battery"})
    assert response.headers["Location"] == "/posts/mine?x=1"


def test_closing_a_post_never_redirects_off_site(client, make_user, make_post, login_as):
    user = make_user()
    post = make_post(user)
    login_as(user)
    token = csrf_token(client, f"/posts/{post.id}")
    response = client.post(f"/posts/{post.id}/withdraw", data={"csrf_token": token, "next": "/\t/evil.example"})
    assert response.status_code == 302 and response.headers["Location"] == "/posts/mine"


def _reset_link(smtp) -> str:
    send_pending()
    return re.search(r"http://localhost(/auth/reset/\S+)", smtp.text()).group(1)


def test_changing_the_password_ends_every_outstanding_reset_link(client, make_user, smtp, login_as):
    user = make_user(email="rita@example.org")
    client.post("/auth/reset", data={"csrf_token": csrf_token(client), "email": "rita@example.org"})
    link = _reset_link(smtp)
    assert client.get(link).status_code == 200  # the link works...
    login_as(user)
    token = csrf_token(client, "/account/")
    changed = client.post("/account/password", data={"csrf_token": token, "pw-current_password": "correct horse battery",
                                                      "pw-new_password": "a new long password",
                                                      "pw-confirm": "a new long password"})
    assert changed.status_code == 302, changed.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account/")})
    # ...until the password changes: then it is dead, and the new password is the one that works.
    response = client.get(link)
    assert response.status_code == 400 and "already been used" in response.get_data(as_text=True)
    assert login(client, "rita@example.org", "a new long password").status_code == 302


def test_production_sends_strict_transport_security_and_development_does_not(app, client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    prod = make_app(APP_ENV="production", SESSION_COOKIE_SECURE=True)
    with prod.app_context():
        response = prod.test_client().get("/")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_personal_pages_are_never_cached_and_static_files_are(app, client, make_user, make_post, login_as):
    coordinator = make_user(role="coordinator")
    admin = make_user(role="admin")
    resident = make_user(role="resident")
    helper = make_user()
    need = make_post(resident)
    offer = make_post(helper, kind="offer")
    from app.models import Match
    match = db.session.query(Match).filter_by(need_id=need.id, offer_id=offer.id).one()
    login_as(coordinator)
    pages = ["/", "/posts/mine", f"/matches/{match.id}", f"/coordinate/residents/{resident.id}", "/coordinate/queue",
             "/coordinate/members", "/fund/", "/fund/manage", f"/posts/{need.id}", f"/posts/{offer.id}/edit", "/account/"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response.headers.get("Cache-Control") == "no-store", page
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account/")})
    login_as(admin)
    for page in ("/admin/users", "/admin/audit"):
        response = client.get(page)
        assert response.status_code == 200 and response.headers.get("Cache-Control") == "no-store", page
    assert "no-store" not in (client.get("/static/site.css").headers.get("Cache-Control") or "")


def test_list_unsubscribe_arrives_on_the_wire_as_rfc8058_wants(app, make_user, make_post, smtp):
    """The bytes the SMTP server receives: one unencoded header line with the URL in angle brackets."""
    from app.services import digests

    app.config["BASE_URL"] = "https://mutual-aid.st-croix-valley.example.org/a/rather/long/prefix"
    helper = make_user(email="helen@example.org")
    make_post(helper, kind="offer", title="Rides to the clinic")
    asker = make_user()
    make_post(asker, title="Ride to dialysis")
    assert digests.send_digests().sent == 1
    send_pending()
    raw = next(m["raw"] for m in smtp.messages if m["rcpt"] == ["helen@example.org"])
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    lines = head.split("\r\n")
    unsub = [line for line in lines if line.lower().startswith("list-unsubscribe:")]
    assert len(unsub) == 1, head
    match = re.fullmatch(r"List-Unsubscribe: <(https://[^\s<>]+)>", unsub[0])
    assert match, unsub[0]
    assert len(match.group(1)) > 78  # long enough that the old folding turned it into =?utf-8?q?...
    assert "=?" not in head.split("List-Unsubscribe", 1)[1].split("\r\n", 1)[0]
    # The header is not continued on a folded line, and the one-click companion is exact.
    following = lines[lines.index(unsub[0]) + 1]
    assert not following[:1].isspace()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    assert all(len(line) <= 998 for line in lines)
