import re

import pytest
from itsdangerous import TimestampSigner
from werkzeug.security import check_password_hash

from app.config import Config
from app.extensions import db
from app.models import User
from app.services import accounts
from app.services.mail import send_pending
from tests.conftest import csrf_token, login


def signup(client, **fields):
    data = {"name": "Rae Olson", "email": "rae@example.org", "zip_code": "55082",
            "password": "a long enough pw", "confirm": "a long enough pw"}
    data.update(fields)
    data["csrf_token"] = csrf_token(client, "/auth/signup")
    return client.post("/auth/signup", data=data)


def _link(smtp, path):
    send_pending()
    return re.search(rf"http://localhost({path}\S+)", smtp.text()).group(1)


def test_signup_sends_a_confirmation_link_and_posting_waits_for_it(client, smtp):
    response = signup(client)
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    user = db.session.scalar(db.select(User).where(User.email == "rae@example.org"))
    assert user.role == "member" and user.town == "Stillwater" and not user.is_confirmed
    assert user.password_hash != "a long enough pw" and check_password_hash(user.password_hash, "a long enough pw")
    link = _link(smtp, "/auth/confirm/")
    assert smtp.messages[-1]["msg"]["Subject"] == "Confirm your email address"
    # Unconfirmed: can log in and look around, but not post.
    assert login(client, "rae@example.org", "a long enough pw").status_code == 302
    page = client.get("/posts/new?kind=need")
    assert page.status_code == 403 and "confirm your email" in page.get_data(as_text=True).lower()
    # A GET of the link (a mail scanner) changes nothing; the button's POST confirms.
    assert client.get(link).status_code == 200
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_confirmed
    confirmed = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).is_confirmed
    assert client.get("/posts/new?kind=need").status_code == 200


def test_signup_answers_the_same_for_a_known_address_and_emails_its_owner(app, client, make_user, smtp):
    """Whether an address has an account is itself private: the page, status and headers agree."""
    make_user(email="taken@example.org", name="Tess Known")
    fresh = signup(app.test_client(), email="new@example.org")
    known = signup(app.test_client(), email="taken@example.org", password="another long pw", confirm="another long pw")
    strip = lambda r: re.sub(r"(new|taken)@example\.org|value=\"[^\"]+\"", "", r.get_data(as_text=True))  # noqa: E731
    assert (fresh.status_code, known.status_code) == (200, 200)
    assert strip(fresh) == strip(known)
    assert sorted(k for k in fresh.headers.keys() if k != "Content-Length") == \
        sorted(k for k in known.headers.keys() if k != "Content-Length")
    send_pending()
    by_rcpt = {m["rcpt"][0]: m["msg"] for m in smtp.messages}
    assert by_rcpt["new@example.org"]["Subject"] == "Confirm your email address"
    assert by_rcpt["taken@example.org"]["Subject"] == "Someone tried to sign up with your email"
    body = by_rcpt["taken@example.org"].get_body(("plain",)).get_content()
    assert "Tess" in body and "/auth/reset" in body and "/auth/confirm/" not in body
    # The known account is untouched: its old password still works, the new one does not.
    assert login(client, "taken@example.org", "another long pw").status_code == 200
    assert login(client, "taken@example.org", "correct horse battery").status_code == 302


def test_signup_for_a_known_but_unconfirmed_address_sends_a_fresh_confirmation(client, make_user, smtp):
    make_user(email="pending@example.org", confirmed=False)
    assert signup(client, email="pending@example.org").status_code == 200
    send_pending()
    assert "/auth/confirm/" in smtp.text()


def test_tampered_or_foreign_confirmation_links_are_refused(client, make_user, smtp):
    signup(client)
    link = _link(smtp, "/auth/confirm/")
    assert client.get(link[:-3] + "abc").status_code == 400
    assert client.get("/auth/confirm/not-a-token").status_code == 400


def test_members_a_coordinator_registers_and_admins_need_no_confirmation(app, make_user, runner, monkeypatch):
    from app.services import accounts

    coordinator = make_user("coordinator")
    resident = accounts.create_resident(coordinator, "Jo Resident", "55082")
    assert resident.is_confirmed
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a long admin password")
    result = runner.invoke(args=["user", "create-admin", "--name", "Ad Min", "--email", "boss@example.org"])
    assert result.exit_code == 0, result.output
    admin = accounts.find_by_email("boss@example.org")
    assert admin is not None and admin.is_confirmed


def test_signup_errors_are_shown_beside_fields_and_typed_values_kept(client, make_user):
    response = signup(client, name="Kept Name", zip_code="00000")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "We don&#39;t know ZIP 00000" in html
    assert 'value="Kept Name"' in html


def test_signup_unknown_zip_message(client):
    html = signup(client, zip_code="00000").get_data(as_text=True)
    assert "We don&#39;t know ZIP 00000." in html
    assert 'value="00000"' in html


def test_production_password_hash_is_scrypt_at_owasp_strength(app):
    app.config["PASSWORD_HASH_METHOD"] = Config.PASSWORD_HASH_METHOD
    hashed = accounts.hash_password("a long enough pw")
    assert hashed.startswith("scrypt:32768:8:3$")
    assert check_password_hash(hashed, "a long enough pw")


def test_login_rejects_wrong_password_without_saying_which_part(client, make_user):
    user = make_user()
    html = login(client, user.email, "wrong password!").get_data(as_text=True)
    assert "don&#39;t match an account" in html
    html_unknown = login(client, "nobody@example.org", "wrong password!").get_data(as_text=True)
    assert "don&#39;t match an account" in html_unknown


def test_session_cookie_flags(client, make_user):
    user = make_user()
    response = login(client, user.email)
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_copied_session_cookie_stops_working_after_logout(app, make_user):
    user = make_user()
    browser = app.test_client()
    login(browser, user.email)
    stolen = browser.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/posts/mine").status_code == 200
    browser.post("/auth/logout", data={"csrf_token": csrf_token(browser, "/account/")})
    assert thief.get("/posts/mine").status_code == 302


def test_copied_session_cookie_stops_working_after_password_change(app, make_user):
    user = make_user()
    browser = app.test_client()
    login(browser, user.email)
    thief = app.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    response = browser.post("/account/password", data={
        "csrf_token": csrf_token(browser, "/account/"), "pw-current_password": "correct horse battery",
        "pw-new_password": "another long pw", "pw-confirm": "another long pw"})
    assert response.status_code == 302
    assert browser.get("/posts/mine").status_code == 200  # the changer stays logged in
    assert thief.get("/posts/mine").status_code == 302


def test_logout_is_post_only(client, make_user):
    login(client, make_user().email)
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/posts/mine").status_code == 200


def test_forms_require_csrf_token(client, make_user):
    user = make_user()
    response = client.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 400
    assert client.get("/posts/mine").status_code == 302


def test_login_is_rate_limited(client, make_user):
    user = make_user()
    codes = [login(client, user.email, "wrong password!").status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def _reset_link(smtp):
    body = smtp.text()
    return re.search(r"http://localhost(/auth/reset/\S+)", body).group(1)


def test_password_reset_by_email_link_works_once(client, make_user, smtp):
    user = make_user(email="forgot@example.org")
    client.post("/auth/reset", data={"csrf_token": csrf_token(client), "email": "forgot@example.org"})
    assert len(smtp.messages) == 1 and smtp.messages[0]["rcpt"] == ["forgot@example.org"]
    link = _reset_link(smtp)
    token = csrf_token(client, link)
    response = client.post(link, data={"csrf_token": token, "password": "brand new password", "confirm": "brand new password"})
    assert response.status_code == 302
    assert login(client, "forgot@example.org", "brand new password").status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account/")})
    again = client.get(link)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    db.session.refresh(user)


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(client, smtp):
    html = client.post("/auth/reset", data={"csrf_token": csrf_token(client), "email": "ghost@example.org"}).get_data(as_text=True)
    assert "If an account uses that address" in html
    assert smtp.messages == []


def test_password_reset_link_expires_after_30_minutes(client, make_user, monkeypatch):
    user = make_user()
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 31 * 60)
    old_token = accounts.make_reset_token(user)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 29 * 60)
    fresh_token = accounts.make_reset_token(user)
    monkeypatch.undo()
    response = client.get(f"/auth/reset/{old_token}")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert client.get(f"/auth/reset/{fresh_token}").status_code == 200
    assert client.get(f"/auth/reset/{fresh_token[:-3]}xyz").status_code == 400


def test_header_injection_in_a_name_cannot_add_a_header(client, make_user, smtp):
    make_user(email="victim@example.org", name="Eve\r\nBcc: attacker@example.org")
    client.post("/auth/reset", data={"csrf_token": csrf_token(client), "email": "victim@example.org"})
    message = smtp.messages[0]
    assert message["rcpt"] == ["victim@example.org"]
    assert message["msg"]["Bcc"] is None


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    from app import create_app

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_create_admin_command_asks_for_password_and_has_no_default(runner, monkeypatch):
    answers = iter(["a strong admin pw", "a strong admin pw"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = runner.invoke(args=["user", "create-admin", "--email", "boss@example.org", "--name", "Boss"])
    assert result.exit_code == 0, result.output
    admin = accounts.find_by_email("boss@example.org")
    assert admin.role == "admin" and accounts.authenticate("boss@example.org", "a strong admin pw") is not None


def test_create_admin_refuses_a_short_password(runner, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "short")
    result = runner.invoke(args=["user", "create-admin", "--email", "boss@example.org", "--name", "Boss"])
    assert result.exit_code != 0 and "at least 10" in result.output
    assert accounts.find_by_email("boss@example.org") is None
