"""Personal access tokens: made on /account/tokens (named, read or write, shown once, stored
hashed, revoked), sent as a bearer token; cookies never authenticate the API; CSRF does not apply;
a read token cannot write; the account acts with the role it has now; rate-limited per token."""
import hashlib
import re

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, AuditEntry
from app.services import erasure
from tests.conftest import csrf_token, login

TOKEN_RE = re.compile(r'id="new-token" class="token" value="([^"]+)"')


def _create(client, name="my phone app", scope="read"):
    return client.post("/account/tokens", data={"csrf_token": csrf_token(client, "/account/tokens"), "name": name,
                                                "scope": scope})


def test_a_member_creates_a_token_sees_it_once_and_only_its_hash_is_stored(client, make_user, login_as):
    login_as(make_user())
    response = _create(client, scope="write")
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    raw = TOKEN_RE.search(html).group(1)
    assert raw.startswith("mae_") and len(raw) >= 40
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest() and row.scope == "write"
    assert raw not in {row.name, row.prefix, row.token_hash} and raw.startswith(row.prefix)
    again = client.get("/account/tokens").get_data(as_text=True)
    assert raw not in again and row.prefix in again and "my phone app" in again
    assert response.headers["Cache-Control"] == "no-store"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token_create"))
    assert entry.subject_id == row.id and entry.details == {"scope": "write"}  # never the name or the token


def test_a_bad_name_is_a_422_beside_the_field_with_what_was_typed_kept(client, make_user, login_as):
    login_as(make_user())
    response = _create(client, name="x" * 61)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="name-err"' in html and 'value="' + "x" * 61 + '"' in html
    assert _create(client, name="ok", scope="admin").status_code == 422
    assert db.session.scalar(select(ApiToken)) is None


def test_the_token_page_needs_a_login(client):
    response = client.get("/account/tokens")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_revoking_stops_the_token_and_is_audited_and_no_one_else_can_revoke_it(app, client, api, make_user, login_as,
                                                                              make_token):
    owner, other = make_user(), make_user()
    raw = make_token(owner, "read")
    assert api(raw).get("/api/v1/posts").status_code == 200
    token = db.session.scalar(select(ApiToken))
    url = f"/account/tokens/{token.id}/revoke"
    stranger = app.test_client()
    login(stranger, other.email)
    assert stranger.post(url, data={"csrf_token": csrf_token(stranger, "/account/tokens")}).status_code == 404
    assert api(raw).get("/api/v1/posts").status_code == 200
    login_as(owner)
    assert client.post(url, data={"csrf_token": csrf_token(client, "/account/tokens")}).status_code == 302
    assert api(raw).get("/api/v1/posts").status_code == 401
    assert db.session.scalar(select(AuditEntry.actor_id).where(AuditEntry.action == "api_token_revoke")) == owner.id


def test_without_a_valid_token_the_api_answers_401_json_even_to_a_logged_in_browser(client, api, make_user, login_as):
    login_as(make_user())  # the session cookie goes along with every request below
    for caller in (api(None), api("mae_not-a-real-token"), api("Basic abc")):
        response = caller.get("/api/v1/me/posts")
        assert response.status_code == 401 and response.is_json
        assert response.get_json()["code"] == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    cookie_only = client.post("/api/v1/me/posts", json={"kind": "need"})
    assert cookie_only.status_code == 401


def test_a_read_token_cannot_write_and_a_write_token_needs_no_csrf(api, make_user, make_token):
    member = make_user()
    need = {"kind": "need", "category": "food", "title": "Groceries", "zip_code": "54016", "flexible": True}
    read = api(make_token(member, "read")).post("/api/v1/me/posts", json=need)
    assert read.status_code == 403 and "read only" in read.get_json()["message"]
    write = api(make_token(member, "write")).post("/api/v1/me/posts", json=need)  # no CSRF token at all
    assert write.status_code == 201, write.get_json()


def test_a_token_acts_with_the_role_the_account_has_now(api, make_user, make_token):
    coord = make_user("coordinator")
    caller = api(make_token(coord, "write"))
    assert caller.get("/api/v1/coord/queue").status_code == 200
    coord.role = "member"
    db.session.commit()
    response = caller.get("/api/v1/coord/queue")
    assert response.status_code == 403 and response.is_json
    assert caller.get("/api/v1/posts").status_code == 200


def test_a_deleted_accounts_token_stops_working(api, make_user, make_token):
    member = make_user()
    caller = api(make_token(member, "read"))
    assert caller.get("/api/v1/posts").status_code == 200
    erasure.delete_account(member, member, "correct horse battery")
    assert caller.get("/api/v1/posts").status_code == 401
    assert db.session.scalar(select(ApiToken)) is None  # deleted with the account (personal_data.RULES)


def test_last_used_is_recorded(api, make_user, make_token):
    member = make_user()
    raw = make_token(member, "read")
    assert db.session.scalar(select(ApiToken.last_used_at)) is None
    api(raw).get("/api/v1/posts")
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None


def test_each_token_has_its_own_rate_limit(app, api, make_user, make_token):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    member = make_user()
    first, second = api(make_token(member, "read", "one")), api(make_token(member, "read", "two"))
    assert [first.get("/api/v1/posts").status_code for _ in range(3)] == [200, 200, 200]
    limited = first.get("/api/v1/posts")
    assert limited.status_code == 429 and limited.is_json and limited.get_json()["code"] == 429
    assert second.get("/api/v1/posts").status_code == 200


def test_only_accounts_that_can_log_in_have_tokens(app, make_user):
    import pytest

    from app.services import NotAllowed, api_tokens

    resident = make_user("resident", email="")
    resident.email = None
    db.session.commit()
    with pytest.raises(NotAllowed):
        api_tokens.create(resident, "x", "read")


def test_on_a_members_only_board_a_waiting_accounts_token_reads_nothing(app, api, make_user, make_token):
    from app.models import MemberApproval
    from tests.web.test_board_visibility import set_mode

    waiting, member = make_user(), make_user()
    set_mode(app, make_user("admin"), "members")
    db.session.add(MemberApproval(user_id=waiting.id, status="waiting"))
    db.session.commit()
    refused = api(make_token(waiting, "read")).get("/api/v1/posts")
    assert refused.status_code == 403 and refused.is_json
    assert api(make_token(member, "read")).get("/api/v1/posts").status_code == 200
