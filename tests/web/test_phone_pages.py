"""The mobile-number pages: a member adds and confirms their own number, a coordinator a resident's
with the resident's consent; what was typed stays after an error (422, the message beside the
field); the code goes through the real Twilio library to the local provider server; CSRF on every
POST, nothing changes on GET, 403 and 404 for what one may not touch."""
import html
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, PhoneCode, User
from app.services import accounts
from tests.conftest import csrf_token, login

MOBILE = "+16515550142"
CODE_TEXT = re.compile(r"^Mutual Aid Exchange code: (\d{6})\. It expires in 10 minutes\.$")


def _fresh(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _code(server, number: str = MOBILE) -> str:
    """The code in the last text the provider server received for `number` (sent after the response)."""
    got = server.to(number)
    assert got, f"no text reached {number}"
    match = CODE_TEXT.match(got[-1]["body"])
    assert match, got[-1]["body"]
    return match.group(1)


def _field_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page)
    return html.unescape(match.group(1)) if match else None


# A member's own number ---------------------------------------------------------------------------

def test_a_member_adds_and_confirms_their_number(app, client, make_user, texts):
    member = make_user(name="Mia Member")
    login(client, member.email)
    account = client.get("/account/").get_data(as_text=True)
    assert 'href="/account/phone"' in account and 'id="mobile"' in account and account.count('id="phone"') == 1
    page = client.get("/account/phone")
    assert page.status_code == 200 and 'name="number"' in page.get_data(as_text=True)
    token = csrf_token(client, "/account/phone")

    response = client.post("/account/phone", data={"csrf_token": token, "number": "651 555 0142"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/phone#enter-code")
    code = _code(texts)  # delivered after the response, through twilio to the local server
    assert texts.messages[-1]["body"] == f"Mutual Aid Exchange code: {code}. It expires in 10 minutes."
    page = client.get("/account/phone").get_data(as_text=True)
    assert "We texted a six-digit code to (651) 555-0142" in page and 'name="code"' in page
    # Each label's field is the only element with its id (a heading named "code" would take the label).
    assert page.count('id="code"') == 1 and page.count('id="number"') == 1
    assert _fresh(member.id).mobile is None

    response = client.post("/account/phone/verify", data={"csrf_token": token, "code": code})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/notices")
    assert _fresh(member.id).mobile == MOBILE
    assert "Texts go to (651) 555-0142." in client.get("/account/").get_data(as_text=True)
    assert "(651) 555-0142" in client.get("/account/phone").get_data(as_text=True)


def test_a_bad_number_is_refused_beside_the_field_with_what_was_typed_kept(app, client, make_user, texts):
    member = make_user()
    login(client, member.email)
    token = csrf_token(client, "/account/phone")
    for typed, words in (("651-555-CALL", "Use digits, spaces and + ( ) - only."), ("12345", "not a phone number we can read"),
                         ("+44 20 7946 0958", "cannot get texts"), ("", "Enter a mobile number.")):
        response = client.post("/account/phone", data={"csrf_token": token, "number": typed})
        page = response.get_data(as_text=True)
        assert response.status_code == 422, typed
        assert 'id="number-err"' in page and words in html.unescape(page), typed
        assert 'aria-invalid="true"' in page
        assert (_field_value(page, "number") or "") == typed
    assert texts.messages == [] and db.session.query(PhoneCode).count() == 0


def test_a_wrong_code_says_how_many_tries_are_left(app, client, make_user, texts):
    member = make_user()
    login(client, member.email)
    token = csrf_token(client, "/account/phone")
    client.post("/account/phone", data={"csrf_token": token, "number": MOBILE})
    wrong = f"{(int(_code(texts)) + 1) % 10 ** 6:06d}"
    response = client.post("/account/phone/verify", data={"csrf_token": token, "code": wrong})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="code-err"' in page
    assert "That code is not right. You can try 4 more times." in html.unescape(page)
    assert _field_value(page, "code") == wrong
    assert _fresh(member.id).mobile is None


def test_a_fourth_code_in_an_hour_is_refused_with_a_message(app, client, make_user, texts):
    member = make_user()
    login(client, member.email)
    token = csrf_token(client, "/account/phone")
    codes = [client.post("/account/phone", data={"csrf_token": token, "number": MOBILE}).status_code for _ in range(3)]
    assert codes == [302, 302, 302]
    response = client.post("/account/phone", data={"csrf_token": token, "number": MOBILE})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "We can text only 3 codes an hour." in page
    assert _field_value(page, "number") == MOBILE
    assert len(texts.to(MOBILE)) == 3


def test_the_route_has_its_own_rate_limit(app, client, make_user):
    app.config["PHONE_RATE_LIMIT"] = "2 per minute"
    member = make_user()
    login(client, member.email)
    token = csrf_token(client, "/account/phone")
    codes = [client.post("/account/phone", data={"csrf_token": token, "number": "12"}).status_code for _ in range(3)]
    assert codes == [422, 422, 429]


def test_removing_the_number(app, client, make_user, texts):
    member = make_user()
    login(client, member.email)
    token = csrf_token(client, "/account/phone")
    client.post("/account/phone", data={"csrf_token": token, "number": MOBILE})
    client.post("/account/phone/verify", data={"csrf_token": token, "code": _code(texts)})
    assert _fresh(member.id).mobile == MOBILE
    assert client.post("/account/phone/remove", data={}).status_code == 400  # no CSRF token: nothing happens
    assert _fresh(member.id).mobile == MOBILE
    response = client.post("/account/phone/remove", data={"csrf_token": token})
    assert response.status_code == 302 and _fresh(member.id).mobile is None


def test_no_state_changes_without_csrf_or_on_get(app, client, make_user, texts):
    member = make_user()
    login(client, member.email)
    assert client.post("/account/phone", data={"number": MOBILE}).status_code in (400, 422)
    assert client.get("/account/phone?number=%2B16515550142").status_code == 200
    assert client.get("/account/phone/verify").status_code == 405
    assert client.get("/account/phone/remove").status_code == 405
    assert db.session.query(PhoneCode).count() == 0 and texts.messages == []


def test_the_pages_need_a_login(app, client):
    response = client.get("/account/phone")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.post("/account/phone", data={"number": MOBILE}).status_code in (302, 400)
    assert db.session.query(PhoneCode).count() == 0


def _confirm(app, person, server) -> str:
    """`person` adds and confirms MOBILE in their own browser; the page they land on."""
    browser = app.test_client()
    login(browser, person.email)
    token = csrf_token(browser, "/account/phone")
    browser.post("/account/phone", data={"csrf_token": token, "number": MOBILE})
    response = browser.post("/account/phone/verify", data={"csrf_token": token, "code": _code(server)},
                            follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True) + browser.get("/account/phone").get_data(as_text=True)


def test_the_new_owner_of_a_moved_number_learns_nothing_of_the_other_account(app, make_user, texts):
    old = make_user(name="Olga Oldowner", email="olga@example.org")
    new = make_user(name="Nell Newowner", email="nell@example.org")
    _confirm(app, old, texts)
    pages = _confirm(app, new, texts)
    assert "(651) 555-0142 is confirmed" in html.unescape(pages)
    assert not any(word in pages for word in ("Olga", "Oldowner", "olga@", "another account", "other account"))
    assert _fresh(old.id).mobile is None and _fresh(new.id).mobile == MOBILE
    first, second = (m["body"] for m in texts.to(MOBILE))
    assert CODE_TEXT.match(first) and CODE_TEXT.match(second)  # the same text as anyone's, no more


# A coordinator, for a resident ----------------------------------------------------------------

@pytest.fixture
def people(make_user):
    class People:
        coord = make_user("coordinator", name="Cora Coord")
        member = make_user(name="Max Member")
        resident_with_login = make_user("resident", name="Rita Login")
    People.resident = accounts.create_resident(People.coord, "Rae Resident", "54016")
    return People


def test_a_coordinator_adds_a_residents_number_with_consent(app, client, people, texts):
    login(client, people.coord.email)
    case = client.get(f"/coordinate/residents/{people.resident.id}").get_data(as_text=True)
    assert f'href="/coordinate/residents/{people.resident.id}/phone"' in case
    url = f"/coordinate/residents/{people.resident.id}/phone"
    page = client.get(url).get_data(as_text=True)
    assert "The resident agreed to get texts from us at this number" in html.unescape(page)
    token = csrf_token(client, url)

    response = client.post(url, data={"csrf_token": token, "number": "651-555-0142"})  # no consent ticked
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and 'id="consent-err"' in page and "Ask the resident first" in page
    assert _field_value(page, "number") == "651-555-0142"
    assert texts.messages == [] and db.session.query(PhoneCode).count() == 0

    response = client.post(url, data={"csrf_token": token, "number": "651-555-0142", "consent": "y"})
    assert response.status_code == 302
    code = _code(texts)
    response = client.post(f"{url}/verify", data={"csrf_token": token, "code": code})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/coordinate/residents/{people.resident.id}#reach")
    person = _fresh(people.resident.id)
    assert person.mobile == MOBILE and person.mobile_consent_by_id == people.coord.id and person.mobile_consent_at
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "phone_added_for_member"))
    assert entry.actor_id == people.coord.id and entry.subject_id == person.id and "555" not in str(entry.details)
    assert "(651) 555-0142" in client.get(f"/coordinate/residents/{person.id}").get_data(as_text=True)


def test_a_coordinators_wrong_code_keeps_the_number_off_the_resident(app, client, people, texts):
    login(client, people.coord.email)
    url = f"/coordinate/residents/{people.resident.id}/phone"
    token = csrf_token(client, url)
    client.post(url, data={"csrf_token": token, "number": "651-555-0124", "consent": "y"})
    wrong = f"{(int(_code(texts, '+16515550124')) + 1) % 10 ** 6:06d}"
    response = client.post(f"{url}/verify", data={"csrf_token": token, "code": wrong})
    assert response.status_code == 422 and 'id="code-err"' in response.get_data(as_text=True)
    assert _fresh(people.resident.id).mobile is None


def test_only_coordinators_and_only_for_someone_who_cannot_log_in(app, client, people):
    login(client, people.member.email)
    url = f"/coordinate/residents/{people.resident.id}/phone"
    assert client.get(url).status_code == 403
    token = csrf_token(client, "/account/phone")
    assert client.post(url, data={"csrf_token": token, "number": MOBILE, "consent": "y"}).status_code == 403
    client.post("/auth/logout", data={"csrf_token": token})

    coordinator = app.test_client()
    login(coordinator, people.coord.email)
    token = csrf_token(coordinator, "/account/phone")
    for target in (people.member.id, people.resident_with_login.id, people.coord.id, 999999):
        for path, data in (("", None), ("", {"number": MOBILE, "consent": "y"}), ("/verify", {"code": "123456"}),
                           ("/remove", {})):
            target_url = f"/coordinate/residents/{target}/phone{path}"
            response = coordinator.get(target_url) if data is None else \
                coordinator.post(target_url, data={"csrf_token": token, **data})
            assert response.status_code == 404, (target, path)
    assert coordinator.get("/coordinate/residents/0/phone").status_code == 404
    assert db.session.query(PhoneCode).count() == 0
