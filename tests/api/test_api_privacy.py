"""No role, address, coordinates, name or contact leaves the API before a coordinator approves a
match; a member's token cannot read another member's posts or matches (404)."""
from app.extensions import db
from app.models import User
from app.services import matches
from tests.api.conftest import ADDRESS, PICKUP, post_of

GETS = ("/api/v1/posts", "/api/v1/posts?kind=offer", "/api/v1/posts?q=clinic", "/api/v1/posts?sort=closest",
        "/api/v1/posts/{need}", "/api/v1/posts/{offer}", "/api/v1/me/posts", "/api/v1/me/matches",
        "/api/v1/matches/{match}", "/api/v1/groups/sessions")


def _secrets(world) -> list[str]:
    resident = db.session.get(User, world.resident.id)
    need = post_of(world.need.id)
    return [ADDRESS, PICKUP, resident.name, "Quenby", resident.email, resident.phone, "5550199", "resident",
            f"{need.lat:.4f}", f"{need.lon:.4f}", f"{need.cell_lat:.4f}", "owner", "street_address", "lat\"", "lon\""]


def _bodies(api, token, world) -> dict[str, str]:
    caller = api(token)
    out = {}
    for url in GETS:
        url = url.format(need=world.need.id, offer=world.offer.id, match=world.match.id)
        response = caller.get(url)
        out[url] = response.get_data(as_text=True).lower()
    return out


def test_nothing_personal_of_a_resident_leaves_the_api_before_approval(api, world, make_token, make_post):
    helper_token = make_token(world.helper)
    outsider_token = make_token(world.outsider)
    mine = make_post(world.outsider, kind="offer", title="Weekend drives")
    helped = api(outsider_token).post(f"/api/v1/posts/{world.need.id}/help", json={"offer_id": mine.id})
    assert helped.status_code == 201
    bodies = {}
    for who, token in (("helper", helper_token), ("outsider", outsider_token)):
        for url, body in _bodies(api, token, world).items():
            bodies[f"{who} {url}"] = body
    bodies["outsider help"] = helped.get_data(as_text=True).lower()
    assert any(world.need.title.lower() in b for b in bodies.values())  # the scan reads real answers
    leaks = [(where, secret) for where, body in bodies.items() for secret in _secrets(world) if secret.lower() in body]
    assert leaks == []


def test_after_approval_the_helper_sees_the_place_and_the_scan_would_have_found_it(api, world, make_token):
    matches.approve(world.coord, world.match.id, lambda m: f"http://localhost/matches/{m.id}")
    body = api(make_token(world.helper)).get(f"/api/v1/matches/{world.match.id}").get_data(as_text=True)
    assert ADDRESS in body and PICKUP in body and "Riley" in body
    assert "Quenby" not in body and "resident" not in body.lower()  # a first name, never the role
    outsider = api(make_token(world.outsider)).get(f"/api/v1/matches/{world.match.id}")
    assert outsider.status_code == 404 and ADDRESS not in outsider.get_data(as_text=True)


def test_a_members_token_cannot_read_another_members_posts_or_matches(api, world, make_token):
    outsider = api(make_token(world.outsider))
    owner = api(make_token(world.resident))
    assert owner.post(f"/api/v1/me/posts/{world.need.id}/withdraw").status_code == 200  # closed: no longer public
    assert outsider.get(f"/api/v1/posts/{world.need.id}").status_code == 404
    assert outsider.post(f"/api/v1/me/posts/{world.offer.id}/withdraw").status_code == 404
    assert outsider.get(f"/api/v1/matches/{world.match.id}").status_code == 404
    assert outsider.post(f"/api/v1/matches/{world.match.id}/answer", json={"accept": False}).status_code == 404
    assert outsider.get("/api/v1/me/posts").get_json() == []
    assert outsider.get("/api/v1/me/matches").get_json() == {"items": []}


def test_the_description_has_no_private_field_in_any_answer(client):
    spec = client.get("/api/openapi.json").get_json()
    for name, schema in spec["components"]["schemas"].items():
        if name.endswith("In") or name.endswith("Args"):
            continue  # what is sent in (a need's own street address is typed there)
        props = set(schema.get("properties", {}))
        assert not props & {"owner_id", "owner", "role", "street_address", "pickup_area", "lat", "lon", "cell_lat",
                            "cell_lon", "email", "phone", "name"}, name
