"""The API does what the site's pages do, through the same services and with the same checks."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Match
from tests.api.conftest import post_of
from tests.conftest import local_dt
from tests.services.groups_helpers import PLACE, group_offer, schedule, sessions_of

NEED = {"kind": "need", "category": "food", "title": "Groceries for the week", "zip_code": "54016", "flexible": True}
SUMMARY_FIELDS = {"id", "kind", "category", "category_label", "title", "town", "state", "distance", "urgency",
                  "urgency_label", "needed_by", "quantity", "quantity_label", "posted_on"}


def test_browse_gives_the_browse_pages_fields_and_search_and_filters_work(api, world, make_token, make_post):
    make_post(world.helper, category="food", title="Fresh vegetables for a family")
    caller = api(make_token(world.outsider, "read"))
    page = caller.get("/api/v1/posts").get_json()
    assert page["total"] == 2 and {tuple(sorted(i)) for i in page["items"]} == {tuple(sorted(SUMMARY_FIELDS))}
    ride = next(i for i in page["items"] if i["id"] == world.need.id)
    assert (ride["town"], ride["category"], ride["distance"]) == (world.need.town, "rides", "Under 2 mi")
    found = caller.get("/api/v1/posts?q=vegtables").get_json()  # a typo, as on the site
    assert [i["title"] for i in found["items"]] == ["Fresh vegetables for a family"]
    assert caller.get("/api/v1/posts?category=food").get_json()["total"] == 1
    offers = caller.get("/api/v1/posts?kind=offer").get_json()
    assert [i["id"] for i in offers["items"]] == [world.offer.id] and offers["items"][0]["urgency"] is None


def test_bad_query_arguments_are_a_422_naming_the_argument(api, world, make_token):
    caller = api(make_token(world.outsider, "read"))
    for query, name in (("within=3", "within"), ("near=99999", "near"), ("sort=best", "sort"), ("page=0", "page"),
                        ("q=a%00b", "q"), ("kind=both", "kind")):
        response = caller.get(f"/api/v1/posts?{query}")
        assert response.status_code == 422, query
        assert name in response.get_json()["errors"]["query"], (query, response.get_json())


def test_one_post_is_404_when_closed_or_missing_except_to_whoever_manages_it(api, world, make_token, make_post):
    outsider, owner = api(make_token(world.outsider, "read")), api(make_token(world.resident, "write"))
    detail = outsider.get(f"/api/v1/posts/{world.need.id}")
    assert detail.status_code == 200 and detail.get_json()["title"] == world.need.title
    assert owner.post(f"/api/v1/me/posts/{world.need.id}/withdraw").status_code == 200
    assert outsider.get(f"/api/v1/posts/{world.need.id}").status_code == 404
    assert owner.get(f"/api/v1/posts/{world.need.id}").status_code == 200
    for url in ("/api/v1/posts/999999", "/api/v1/posts/0", "/api/v1/posts/99999999999", "/api/v1/posts/x"):
        response = outsider.get(url)
        assert response.status_code == 404 and response.is_json, url


def test_posting_a_need_validates_like_the_form(api, make_user, make_token):
    caller = api(make_token(make_user(), "write"))
    created = caller.post("/api/v1/me/posts", json=NEED)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "open" and body["title"] == NEED["title"] and body["looking_for"]
    assert [p["id"] for p in caller.get("/api/v1/me/posts").get_json()] == [body["id"]]
    cases = [({**NEED, "title": "  "}, "title"), ({**NEED, "zip_code": "00000"}, "zip_code"),
             ({**NEED, "category": "emergency_funds"}, "category"), ({**NEED, "title": "x" * 121}, "title"),
             ({**NEED, "details": "a\x00b"}, "details"), ({**NEED, "quantity": 0}, "quantity"),
             ({**NEED, "flexible": False}, "windows"), ({**NEED, "category": "rides"}, "destination_kind"),
             ({**NEED, "kind": "offer"}, "radius_miles"), ({**NEED, "urgency": 9}, "urgency"),
             ({**NEED, "flexible": False, "windows": [{"start": "2020-01-01T10:00", "end": "2020-01-01T12:00"}]},
              "windows.0"),
             ({**NEED, "category": "rides", "destination_kind": "medical", "appointment_at": "9999-01-01T10:00"},
              "appointment_at"),
             ({**NEED, "owner_id": 1}, "owner_id")]
    for data, field in cases:
        response = caller.post("/api/v1/me/posts", json=data)
        assert response.status_code == 422, (field, response.get_json())
        assert field in response.get_json()["errors"]["json"], (field, response.get_json())
    money = caller.post("/api/v1/me/posts", json={**NEED, "category": "emergency_funds"}).get_json()
    assert "emergency fund" in money["errors"]["json"]["category"][0]
    assert caller.post("/api/v1/me/posts", data="not json", content_type="application/json").status_code in (400, 422)


def test_a_dated_offer_with_weekly_times_is_posted(api, make_user, make_token):
    caller = api(make_token(make_user(), "write"))
    start = local_dt(days=3, hour=9)
    offer = {"kind": "offer", "category": "rides", "title": "Weekday rides", "zip_code": "54016", "radius_miles": 12.5,
             "weekly": [{"day": 0, "start_min": 540, "end_min": 720}],
             "windows": [{"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}]}
    response = caller.post("/api/v1/me/posts", json=offer)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["radius_miles"] == 12.5 and body["weekly"][0]["label"] and len(body["windows"]) == 1
    assert body["windows"][0]["start_at"].endswith("+00:00")


def test_withdrawing_someone_elses_post_is_404_and_twice_is_409(api, world, make_token):
    assert api(make_token(world.outsider)).post(f"/api/v1/me/posts/{world.need.id}/withdraw").status_code == 404
    assert post_of(world.need.id).status == "open"
    owner = api(make_token(world.resident))
    assert owner.post(f"/api/v1/me/posts/{world.need.id}/withdraw").get_json()["status"] == "withdrawn"
    again = owner.post(f"/api/v1/me/posts/{world.need.id}/withdraw")
    assert again.status_code == 409 and again.get_json()["message"]


def test_i_can_help_proposes_my_offer_and_refuses_what_the_page_refuses(api, world, make_token, make_post):
    member = world.outsider
    mine = make_post(member, kind="offer", title="I drive on weekends")
    caller = api(make_token(member))
    response = caller.post(f"/api/v1/posts/{world.need.id}/help", json={"offer_id": mine.id, "note": "Happy to"})
    assert response.status_code == 201 and response.get_json()["status"] == "proposed"
    assert response.get_json()["contacts"] == []
    assert caller.post(f"/api/v1/posts/{world.need.id}/help", json={"offer_id": world.offer.id}).status_code == 422
    assert caller.post(f"/api/v1/posts/{world.offer.id}/help", json={"offer_id": mine.id}).status_code == 404
    assert caller.post("/api/v1/posts/999999/help", json={"offer_id": mine.id}).status_code == 404
    assert caller.post(f"/api/v1/posts/{world.need.id}/help", json={}).status_code == 422


def test_matches_approve_and_answers_follow_the_match_page(api, world, make_token):
    resident, helper = api(make_token(world.resident)), api(make_token(world.helper))
    coord, outsider = api(make_token(world.coord)), api(make_token(world.outsider))
    url = f"/api/v1/matches/{world.match.id}"
    mine = resident.get("/api/v1/me/matches").get_json()["items"]
    assert [m["id"] for m in mine] == [world.match.id] and mine[0]["side"] == "need"
    assert resident.get(url).get_json()["contacts"] == []  # before approval: nothing
    assert outsider.get(url).status_code == 404 and outsider.get("/api/v1/me/matches").get_json()["items"] == []
    assert resident.post(f"{url}/answer", json={"accept": True}).status_code == 409  # not approved yet
    assert outsider.post(f"{url}/answer", json={"accept": True}).status_code == 404
    assert helper.post(f"/api/v1/coord/matches/{world.match.id}/approve").status_code == 403
    approved = coord.post(f"/api/v1/coord/matches/{world.match.id}/approve")
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    assert coord.post(f"/api/v1/coord/matches/{world.match.id}/approve").status_code == 409
    cards = resident.get(url).get_json()["contacts"]
    assert [c["whose"] for c in cards] == ["offer"] and cards[0]["first_name"] == "Hana"
    helper_view = helper.get(url).get_json()["contacts"]
    assert helper_view[0]["whose"] == "need" and "742 Evergreen Terrace" in helper_view[0]["place"]
    assert resident.post(f"{url}/answer", json={"accept": True}).get_json()["my_answer"] == "accepted"
    assert helper.post(f"{url}/answer", json={"accept": True}).get_json()["status"] == "accepted"
    assert resident.post(f"{url}/answer", json={"accept": "maybe"}).status_code == 422


def test_the_queue_is_for_coordinators_and_reject_needs_a_reason(api, world, make_token):
    coord, member = api(make_token(world.coord)), api(make_token(world.outsider))
    assert member.get("/api/v1/coord/queue").status_code == 403
    queue = coord.get("/api/v1/coord/queue").get_json()
    assert queue["total"] == 1 and queue["items"][0]["match"]["id"] == world.match.id
    assert queue["items"][0]["own_post"] is False
    reject = f"/api/v1/coord/matches/{world.match.id}/reject"
    assert coord.post(reject, json={"reason": "  "}).status_code == 422
    assert coord.post(reject, json={}).status_code == 422
    assert coord.post("/api/v1/coord/matches/999999/reject", json={"reason": "x"}).status_code == 404
    assert coord.post(reject, json={"reason": "The clinic is too far"}).get_json()["status"] == "rejected"
    db.session.expire_all()
    assert db.session.get(Match, world.match.id).reject_reason == "The clinic is too far"
    assert coord.get("/api/v1/coord/queue").get_json()["total"] == 0


def test_group_sessions_list_join_and_leave(api, make_user, make_post, make_token):
    host, member = make_user(), make_user()
    (session,) = sessions_of(schedule(host, group_offer(make_post, host), places=1))
    caller = api(make_token(member))
    listed = caller.get("/api/v1/groups/sessions").get_json()
    assert [s["id"] for s in listed["items"]] == [session.id] and listed["items"][0]["my_status"] is None
    assert PLACE not in str(listed)  # the exact place is for those holding a place
    joined = caller.post(f"/api/v1/groups/sessions/{session.id}/join", json={})
    assert joined.status_code == 200 and joined.get_json() == {"status": "joined", "position": None}
    assert caller.post(f"/api/v1/groups/sessions/{session.id}/join", json={}).status_code == 409
    assert caller.get("/api/v1/groups/sessions").get_json()["items"][0]["my_status"] == "joined"
    assert caller.post(f"/api/v1/groups/sessions/{session.id}/leave").status_code == 200
    assert caller.post(f"/api/v1/groups/sessions/{session.id}/leave").status_code == 409
    assert api(make_token(host)).post(f"/api/v1/groups/sessions/{session.id}/join", json={}).status_code == 403
    assert caller.post("/api/v1/groups/sessions/999999/join", json={}).status_code == 404


def test_every_api_route_answers_401_json_without_a_token(app, client):
    """The route matrix for the API: nothing under /api/v1 is reachable without a token."""
    import re

    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    assert len(rules) >= 14
    for rule in rules:
        url = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        method = next(m for m in ("GET", "POST", "PATCH") if m in rule.methods)
        response = client.open(url, method=method, json={} if method != "GET" else None)
        assert response.status_code == 401 and response.is_json, (url, response.status_code)
    for url, method, code in (("/api/v1/posts", "DELETE", 405), ("/api/v1/nothing-here", "GET", 404)):
        response = client.open(url, method=method)  # matched no route: still JSON, never the HTML page
        assert response.status_code == code and response.get_json()["code"] == code, url


def test_the_description_and_the_docs_page_are_served_by_the_site_itself(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["openapi"].startswith("3.")
    assert spec.get_json()["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    page = client.get("/api/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]
    import re

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)  # no inline script
    assets = re.findall(r'<(?:script|link rel="stylesheet")[^>]* (?:src|href)="([^"]+)"', html)
    assert len(assets) == 3
    for src in assets:
        assert src.startswith("/"), src  # the site's own, no CDN
        assert client.get(src).status_code == 200, src
    assert client.get("/api/docs/assets/index.html").status_code == 404
