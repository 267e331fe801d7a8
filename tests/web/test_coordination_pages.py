from app.extensions import db
from app.models import Post, User
from tests.conftest import csrf_token
from tests.web.test_posts import need_form


def test_coordinator_registers_resident_without_email_and_posts_for_them(client, make_user, login_as):
    coordinator = make_user(role="coordinator")
    login_as(coordinator)
    response = client.post("/coordinate/residents/new", data={
        "csrf_token": csrf_token(client, "/coordinate/residents/new"), "name": "Jordan Reyes", "zip_code": "55082"})
    assert response.status_code == 302
    resident = db.session.scalar(db.select(User).where(User.name == "Jordan Reyes"))
    assert resident.role == "resident" and resident.email is None and resident.created_by_id == coordinator.id
    url = f"/coordinate/residents/{resident.id}/posts/new?kind=need"
    assert "Posting on behalf of" in client.get(url).get_data(as_text=True)
    response = client.post(url, data=need_form(csrf_token=csrf_token(client, url), title="Ride to an interview", zip_code="55082"))
    assert response.status_code == 302
    post = db.session.scalar(db.select(Post))
    assert post.owner_id == resident.id and post.created_by_id == coordinator.id
    page = client.get(f"/coordinate/residents/{resident.id}").get_data(as_text=True)
    assert "Ride to an interview" in page
    # the coordinator can manage the post they made for the resident
    assert client.get(f"/posts/{post.id}/edit").status_code == 200


def test_coordinators_post_on_behalf_of_residents_only(client, make_user, login_as):
    login_as(make_user(role="coordinator"))
    member = make_user()
    assert client.get(f"/coordinate/residents/{member.id}/posts/new").status_code == 404


def test_coordinator_marks_member_as_resident_but_cannot_make_admins(client, make_user, login_as):
    login_as(make_user(role="coordinator"))
    member = make_user()
    token = csrf_token(client, "/coordinate/members")
    assert client.post(f"/coordinate/members/{member.id}/resident", data={"csrf_token": token, "resident": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, member.id).role == "resident"
    assert client.post(f"/admin/users/{member.id}/role", data={"csrf_token": token, "role": "admin"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, member.id).role == "resident"


def test_resident_role_is_not_shown_to_other_members(app, make_user, make_post, login_as, client):
    resident = make_user(role="resident", name="Riley Quiet")
    post = make_post(resident, title="Bed frame please", category="household_items")
    login_as(make_user())
    for url in ("/browse?category=household_items", f"/posts/{post.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "Bed frame please" in html and "esident" not in html and "Riley" not in html


def test_admin_changes_roles(client, make_user, login_as):
    login_as(make_user(role="admin"))
    member = make_user()
    token = csrf_token(client, "/admin/users")
    assert client.post(f"/admin/users/{member.id}/role", data={"csrf_token": token, "role": "coordinator"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, member.id).role == "coordinator"
    response = client.post(f"/admin/users/{member.id}/role", data={"csrf_token": token, "role": "overlord"}, follow_redirects=True)
    assert "Choose one of the listed roles." in response.get_data(as_text=True)
    assert client.post("/admin/users/999999/role", data={"csrf_token": token, "role": "member"}).status_code == 404


def test_resident_without_email_cannot_log_in(client, make_user):
    from app.services import accounts

    coordinator = make_user(role="coordinator")
    accounts.create_resident(coordinator, "No Email", "55082")
    assert accounts.authenticate("", "anything at all") is None
