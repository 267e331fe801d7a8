"""My data through the pages: the page, the file and its headers; deleting an account (oneself with
the password, a coordinator for a resident), what a wrong password or someone else's account gets."""
import json

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, User
from tests.conftest import csrf_token, login


def _resident_who_logs_in(make_user, make_post):
    person = make_user("resident", name="Zora Quill", email="zora@example.org")
    person.phone = "651-555-0199"
    db.session.commit()
    make_post(person, title="Ride to the clinic", street_address="7 Elm Street")
    return person


def test_the_data_page_and_the_file_carry_everything_and_are_never_cached(app, client, make_user, make_post):
    person = _resident_who_logs_in(make_user, make_post)
    login(client, person.email)
    page = client.get("/account/data")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Zora Quill" in html and "651-555-0199" in html and "7 Elm Street" in html and "Ride to the clinic" in html
    assert 'href="/account/data.json"' in html
    response = client.get("/account/data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert response.headers["Cache-Control"] == "no-store"
    doc = json.loads(response.get_data(as_text=True))
    assert doc["profile"]["email"] == "zora@example.org" and doc["posts"][0]["street_address"] == "7 Elm Street"
    assert "/account/data" in client.get("/account/").get_data(as_text=True)  # linked from the account page


def test_deleting_ones_account_needs_the_password_beside_the_field(app, client, make_user, make_post):
    person = _resident_who_logs_in(make_user, make_post)
    login(client, person.email)
    assert client.get("/account/delete").status_code == 200
    token = csrf_token(client, "/account/delete")
    for typed, message in (("", "Type your password to confirm."), ("not my password", "That is not your password.")):
        response = client.post("/account/delete", data={"csrf_token": token, "password": typed})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and 'id="password-err"' in html and message in html
    db.session.expire_all()
    assert db.session.get(User, person.id).email == "zora@example.org"  # nothing happened


def test_a_deleted_member_is_logged_out_everywhere_and_cannot_log_in(app, make_user, make_post):
    person = _resident_who_logs_in(make_user, make_post)
    browser, other_device = app.test_client(), app.test_client()
    login(browser, person.email)
    login(other_device, person.email)
    assert other_device.get("/posts/mine").status_code == 200
    response = browser.post("/account/delete", data={"csrf_token": csrf_token(browser, "/account/delete"),
                                                     "password": "correct horse battery"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert browser.get("/posts/mine").status_code == 302
    assert other_device.get("/posts/mine").status_code == 302  # the session token was rotated
    assert login(app.test_client(), "zora@example.org").status_code != 302
    db.session.expire_all()
    gone = db.session.get(User, person.id)
    assert gone.name.startswith("Former member ") and gone.email is None


def test_a_coordinator_deletes_a_resident_who_leaves_from_the_resident_page(app, client, make_user, make_post):
    person = _resident_who_logs_in(make_user, make_post)
    coordinator = make_user("coordinator", name="Cora Coord")
    login(client, coordinator.email)
    case = client.get(f"/coordinate/residents/{person.id}").get_data(as_text=True)
    assert f"/account/residents/{person.id}/delete" in case and f"/account/residents/{person.id}/data.json" in case
    download = client.get(f"/account/residents/{person.id}/data.json")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    page = client.get(f"/account/residents/{person.id}/delete")
    assert page.status_code == 200 and "Zora Quill" in page.get_data(as_text=True)
    token = csrf_token(client, f"/account/residents/{person.id}/delete")
    wrong = client.post(f"/account/residents/{person.id}/erase", data={"csrf_token": token, "password": "nope"})
    assert wrong.status_code == 422 and "That is not your password." in wrong.get_data(as_text=True)
    done = client.post(f"/account/residents/{person.id}/erase", data={"csrf_token": token,
                                                                        "password": "correct horse battery"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/coordinate/residents")
    db.session.expire_all()
    assert db.session.get(User, person.id).deleted_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account_delete"))
    assert (entry.actor_id, entry.subject_id, entry.details["by"]) == (coordinator.id, person.id, "coordinator")
    assert client.get(f"/coordinate/residents/{person.id}").status_code == 404  # no longer a resident anywhere
    assert client.get(f"/account/residents/{person.id}/delete").status_code == 404


def test_a_member_cannot_delete_or_download_another(app, client, make_user, make_post):
    person = _resident_who_logs_in(make_user, make_post)
    member = make_user(name="Mo Member")
    login(client, member.email)
    token = csrf_token(client, "/account/delete")
    assert client.post(f"/account/residents/{person.id}/erase",
                       data={"csrf_token": token, "password": "correct horse battery"}).status_code == 403
    assert client.get(f"/account/residents/{person.id}/delete").status_code == 403
    assert client.get(f"/account/residents/{person.id}/data.json").status_code == 403
    db.session.expire_all()
    assert db.session.get(User, person.id).deleted_at is None


def test_a_coordinator_cannot_delete_a_member_who_is_not_a_resident(app, client, make_user):
    member = make_user(name="Mo Member")
    coordinator = make_user("coordinator")
    login(client, coordinator.email)
    token = csrf_token(client, "/account/delete")
    assert client.post(f"/account/residents/{member.id}/erase",
                       data={"csrf_token": token, "password": "correct horse battery"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, member.id).deleted_at is None


def test_the_page_of_someone_who_did_everything_shows_each_part_and_none_of_the_excluded(app, client, make_user,
                                                                                          make_post):
    from tests.services.data_rights_helpers import NAME, PASSWORD, everything

    world = everything(make_user, make_post)
    login(client, world.z.email, PASSWORD)
    html = client.get("/account/data").get_data(as_text=True)
    for part in ("Ride to the clinic", "12 Birch Lane", "with Hal", "Pledge: $25.00", "Request: $100.00",
                 "Thursday circle", f"{NAME} enjoyed it", "a coordinator", "Hana"):
        assert part in html, part
    for excluded in ("moved in", "wrong address", "shouted", "helped last month", "Hal Helper", "hal@example.org"):
        assert excluded not in html, excluded
