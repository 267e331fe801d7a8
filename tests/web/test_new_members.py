"""A members-only board: new accounts wait for a coordinator, or come by invitation (issue #14, item 11)."""
import re
from datetime import timedelta

from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEmail, Post, User
from app.services import digests, settings
from app.timeutil import utcnow
from tests.conftest import csrf_token, login

PASSWORD = "a long enough pw"


def client_for(app, user, password="correct horse battery"):
    client = app.test_client()
    assert login(client, user.email, password).status_code == 302
    return client


def members_only(make_user):
    admin = make_user("admin")
    settings.update(admin, {"board_visibility": "members"})
    return admin


def sign_up(app, email="rae@example.org", name="Rae Olson"):
    client = app.test_client()
    response = client.post("/auth/signup", data={"csrf_token": csrf_token(client, "/auth/signup"), "name": name,
                                                 "email": email, "zip_code": "55082", "password": PASSWORD,
                                                 "confirm": PASSWORD})
    assert response.status_code == 200
    user = db.session.scalar(select(User).where(User.email == email))
    return client, user, response.get_data(as_text=True)


def confirmed(client, user):
    """Follow the confirmation link from the sign-up email, as the member would."""
    body = db.session.scalar(select(OutboxEmail.body_text).where(OutboxEmail.to_addr == user.email,
                                                                 OutboxEmail.kind == "confirm_email"))
    link = re.search(r"http://localhost(/auth/confirm/\S+)", body).group(1)
    assert client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code == 302


def emails_to(address):
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_addr == address).order_by(OutboxEmail.id)))


def need_form(client):
    return {"csrf_token": csrf_token(client, "/account/"), "title": "Groceries on Friday", "category": "food",
            "zip_code": "54016", "quantity": "1", "flexible": "y"}


def test_a_new_account_waits_and_cannot_read_or_post_until_approved(app, make_user, make_post):
    make_post(make_user(), title="Ride to the clinic")
    members_only(make_user)
    client, user, page = sign_up(app)
    assert "a coordinator looks at each new account" in page
    assert login(client, user.email, PASSWORD).status_code == 302
    confirmed(client, user)  # a confirmed address is not enough
    for url in ("/browse", "/groups", "/posts/new?kind=need", "/posts/mine", "/fund/", "/calendar"):
        response = client.get(url)
        assert response.status_code == 403, url
        html = response.get_data(as_text=True)
        assert "Waiting for approval" in html and "Ride to the clinic" not in html, url
    response = client.post("/posts/new?kind=need", data=need_form(client))
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Post).where(Post.owner_id == user.id)) == 0
    # Their own account, the home page and logging out stay open.
    assert client.get("/account/").status_code == 200
    assert "Ride to the clinic" not in client.get("/").get_data(as_text=True)
    assert client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account/")}).status_code == 302


def test_in_public_mode_a_new_account_needs_no_approval(app, make_user, make_post):
    post = make_post(make_user())
    client, user, page = sign_up(app)
    assert "a coordinator looks at each new account" not in page
    assert login(client, user.email, PASSWORD).status_code == 302
    assert client.get(f"/posts/{post.id}").status_code == 200
    members_only(make_user)  # and switching the mode on later keeps them approved
    assert client.get(f"/posts/{post.id}").status_code == 200


def test_a_coordinator_approves_the_member_is_emailed_and_can_browse(app, make_user, make_post):
    make_post(make_user(), title="Ride to the clinic")
    members_only(make_user)
    member_client, user, _page = sign_up(app)
    assert login(member_client, user.email, PASSWORD).status_code == 302
    coordinator = client_for(app, make_user("coordinator"))
    listing = coordinator.get("/coordinate/new-members").get_data(as_text=True)
    assert "Rae Olson" in listing and "rae@example.org" in listing and "not confirmed yet" in listing
    token = csrf_token(coordinator, "/coordinate/new-members")
    response = coordinator.post(f"/coordinate/new-members/{user.id}/approve", data={"csrf_token": token})
    assert response.status_code == 302
    mail = emails_to("rae@example.org")[-1]
    assert mail.subject == "Your account is approved"
    assert "Hello Rae" in mail.body_text and "http://localhost/browse" in mail.body_text
    assert "Ride to the clinic" in member_client.get("/browse").get_data(as_text=True)
    assert f"/coordinate/new-members/{user.id}/approve" not in coordinator.get("/coordinate/new-members").get_data(as_text=True)
    # A second approval (another coordinator a moment later) is a 409 and emails nobody again.
    again = coordinator.post(f"/coordinate/new-members/{user.id}/approve", data={"csrf_token": token})
    assert again.status_code == 409 and "already approved" in again.get_data(as_text=True)
    assert len([m for m in emails_to("rae@example.org") if m.kind == "membership_approved"]) == 1


def test_a_coordinator_declines_the_member_is_emailed_and_stays_out(app, make_user):
    members_only(make_user)
    member_client, user, _page = sign_up(app)
    coordinator = client_for(app, make_user("coordinator"))
    token = csrf_token(coordinator, "/coordinate/new-members")
    assert coordinator.post(f"/coordinate/new-members/{user.id}/decline", data={"csrf_token": token}).status_code == 302
    mail = emails_to("rae@example.org")[-1]
    assert mail.subject == "About your account" and "did not approve it" in mail.body_text
    assert login(member_client, user.email, PASSWORD).status_code == 302
    page = member_client.get("/browse")
    assert page.status_code == 403 and "Account not approved" in page.get_data(as_text=True)
    # A decline cannot be declined twice; a coordinator may still approve later.
    assert coordinator.post(f"/coordinate/new-members/{user.id}/decline", data={"csrf_token": token}).status_code == 409
    assert coordinator.post(f"/coordinate/new-members/{user.id}/approve", data={"csrf_token": token}).status_code == 302
    assert member_client.get("/browse").status_code == 200


def test_only_coordinators_decide_and_only_about_waiting_accounts(app, make_user):
    members_only(make_user)
    _client, user, _page = sign_up(app)
    for role in ("member", "resident"):
        other = client_for(app, make_user(role))
        assert other.get("/coordinate/new-members").status_code == 403
        token = csrf_token(other, "/account/")
        assert other.post(f"/coordinate/new-members/{user.id}/approve", data={"csrf_token": token}).status_code == 403
        assert other.post("/coordinate/invitations", data={"csrf_token": token, "email": "x@example.org"}).status_code == 403
    coordinator = client_for(app, make_user("coordinator"))
    token = csrf_token(coordinator, "/coordinate/new-members")
    old_member = make_user()  # an account that never waited has no decision to take
    for target in (old_member.id, 999_999):
        assert coordinator.post(f"/coordinate/new-members/{target}/decline", data={"csrf_token": token}).status_code == 404
    assert coordinator.post(f"/coordinate/new-members/{user.id}/approve", data={}).status_code == 400
    assert emails_to("rae@example.org")[-1].kind == "confirm_email"  # nobody was emailed a decision


def test_a_waiting_member_made_coordinator_sees_the_board_at_once(app, make_user):
    admin = members_only(make_user)
    member_client, user, _page = sign_up(app)
    assert login(member_client, user.email, PASSWORD).status_code == 302
    assert member_client.get("/browse").status_code == 403
    from app.services import accounts

    accounts.set_role(admin, db.session.get(User, user.id), "coordinator")
    assert member_client.get("/browse").status_code == 200


def _invite(app, make_user, email="sam@example.org"):
    coordinator = client_for(app, make_user("coordinator", name="Cora Lind"))
    response = coordinator.post("/coordinate/invitations",
                                data={"csrf_token": csrf_token(coordinator, "/coordinate/new-members"), "email": email})
    return coordinator, response


def _invitation_link(email="sam@example.org"):
    mail = [m for m in emails_to(email) if m.kind == "invitation"][-1]
    return re.search(r"http://localhost(/auth/invitation/\S+)", mail.body_text).group(1)


def test_an_invitation_link_signs_up_an_approved_member_once(app, make_user, make_post):
    make_post(make_user(), title="Ride to the clinic")
    members_only(make_user)
    coordinator, response = _invite(app, make_user, "Sam@Example.org ")
    assert response.status_code == 302
    mail = emails_to("sam@example.org")[-1]
    assert mail.subject == "You are invited to join Mutual Aid Exchange"
    assert "Cora" in mail.body_text and "14 days" in mail.body_text
    assert "sam@example.org" in coordinator.get("/coordinate/new-members").get_data(as_text=True)
    link = _invitation_link()
    visitor = app.test_client()
    form = visitor.get(link)
    assert form.status_code == 200 and "sam@example.org" in form.get_data(as_text=True)
    joined = visitor.post(link, data={"csrf_token": csrf_token(visitor, link), "name": "Sam Reyes", "zip_code": "54016",
                                      "password": PASSWORD, "confirm": PASSWORD})
    assert joined.status_code == 302
    # Logged in, approved and confirmed: reads the board and may post at once.
    assert "Ride to the clinic" in visitor.get("/browse").get_data(as_text=True)
    assert visitor.get("/posts/new?kind=need").status_code == 200
    assert "Sam Reyes" not in coordinator.get("/coordinate/new-members").get_data(as_text=True)
    # The link worked once.
    again = app.test_client().get(link)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    second = app.test_client()
    used = second.post(link, data={"csrf_token": csrf_token(second, "/auth/signup"), "name": "Someone Else",
                                   "password": PASSWORD, "confirm": PASSWORD})
    assert used.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "sam@example.org")) == 1


def test_an_invitation_expires_after_14_days(app, make_user, monkeypatch):
    members_only(make_user)
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 14 * 86400 - 60)
    _invite(app, make_user, "old@example.org")
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 13 * 86400)
    _invite(app, make_user, "fresh@example.org")
    monkeypatch.undo()
    old = app.test_client().get(_invitation_link("old@example.org"))
    assert old.status_code == 400 and "expired" in old.get_data(as_text=True)
    assert app.test_client().get(_invitation_link("fresh@example.org")).status_code == 200
    tampered = _invitation_link("fresh@example.org")[:-3] + "xyz"
    assert app.test_client().get(tampered).status_code == 400


def test_an_invitation_for_an_existing_account_or_a_bad_address_gets_a_message_beside_the_field(app, make_user):
    make_user(email="taken@example.org")
    for bad, message in (("taken@example.org", "There is already an account with this address"),
                         ("not-an-address", "Enter a valid email address."), ("", "Enter the email address to invite.")):
        _coordinator, response = _invite(app, make_user, bad)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, bad
        assert re.search(r'<p class="error" id="email-err">[^<]*' + re.escape(message), html), bad
        assert f'value="{bad}"' in html or not bad
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "invitation")) == 0


def test_the_invited_sign_up_form_keeps_what_was_typed_and_says_what_is_wrong(app, make_user):
    _invite(app, make_user)
    link = _invitation_link()
    visitor = app.test_client()
    response = visitor.post(link, data={"csrf_token": csrf_token(visitor, link), "name": "Sam Reyes", "zip_code": "54016",
                                        "password": "short", "confirm": "short"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="Sam Reyes"' in html and "Use at least 10 characters." in html
    assert app.test_client().get(link).status_code == 200  # the link still works


def test_someone_who_signed_up_meanwhile_is_approved_by_the_invitation(app, make_user):
    members_only(make_user)
    _invite(app, make_user, "rae@example.org")
    member_client, user, _page = sign_up(app)  # the ordinary way, after the invitation was sent
    link = _invitation_link("rae@example.org")
    visitor = app.test_client()
    response = visitor.post(link, data={"csrf_token": csrf_token(visitor, link), "name": "Rae", "password": "another long pw",
                                        "confirm": "another long pw"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert login(app.test_client(), user.email, "another long pw").status_code == 200  # the password is not changed
    assert login(member_client, user.email, PASSWORD).status_code == 302
    assert member_client.get("/browse").status_code == 200


def test_digests_go_only_to_approved_members_on_a_members_only_board(app, make_user, make_post):
    app.config.update(DIGEST_HOUR=0)  # due whenever the test runs
    admin = members_only(make_user)
    _client, waiting_user, _page = sign_up(app, email="wait@example.org", name="Wren Waiting")
    make_user(email="early@example.org", zip_code="54016")
    for user in db.session.scalars(select(User)):
        sub = digests.subscription_for(user)
        sub.frequency, sub.radius_miles, sub.since = "daily", 100.0, utcnow() - timedelta(days=2)
    db.session.commit()
    make_post(make_user(zip_code="54016"), title="Ride to the clinic")

    def recipients():
        return set(db.session.scalars(select(OutboxEmail.to_addr).where(OutboxEmail.kind == "digest")))

    digests.send_digests()
    assert "early@example.org" in recipients() and "wait@example.org" not in recipients()
    # The waiting account is left out only because of the mode: in public mode it gets its digest.
    settings.update(admin, {"board_visibility": "public"})
    digests.send_digests()
    assert "wait@example.org" in recipients()
