"""Managing my posts over the API: edit (PATCH, the edit form's checks), mark fulfilled, renew;
each through app/services/posts.py, as the site's buttons do."""
from datetime import datetime, time, timedelta

from sqlalchemy import update

from app.extensions import db
from app.models import Post
from app.services.repeat import RepeatInput
from app.timeutil import local_today, utcnow
from tests.api.conftest import ADDRESS, PICKUP, post_of
from tests.conftest import local_dt


def url(post, action=""):
    return f"/api/v1/me/posts/{post.id}" + (f"/{action}" if action else "")


def test_the_owner_edits_only_the_fields_sent_and_the_rest_is_kept(api, world, make_token):
    owner = api(make_token(world.resident))
    response = owner.patch(url(world.need), json={"title": "Ride to the dentist", "details": "Wheelchair, folding",
                                                  "urgency": 2})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["title"], body["details"], body["urgency"], body["status"]) == (
        "Ride to the dentist", "Wheelchair, folding", 2, "open")
    assert body["match_ids"] == [world.match.id] and "street_address" not in body
    saved = post_of(world.need.id)
    assert (saved.title, saved.category, saved.destination_kind) == ("Ride to the dentist", "rides", "medical")
    assert (saved.street_address, saved.pickup_area, saved.flexible) == (ADDRESS, PICKUP, True)  # not sent: kept
    assert saved.needed_by == local_today() + timedelta(days=2)  # "within 2 days", said today
    assert "dentist" in owner.get("/api/v1/me/posts").get_json()[0]["title"]
    cleared = owner.patch(url(world.need), json={"street_address": None, "flexible": False,
                                                 "appointment_at": local_dt(days=4, hour=9).isoformat()})
    assert cleared.status_code == 200 and cleared.get_json()["appointment_at"], cleared.get_json()
    assert post_of(world.need.id).street_address is None and len(post_of(world.need.id).windows) == 1


def test_an_edit_with_bad_input_is_a_422_naming_the_field_and_changes_nothing(api, world, make_token):
    owner, helper = api(make_token(world.resident)), api(make_token(world.helper))
    past = {"start": "2020-01-01T10:00", "end": "2020-01-01T12:00"}
    for caller, post, data, field in (
            (owner, world.need, {"title": "  "}, "title"), (owner, world.need, {"zip_code": "00000"}, "zip_code"),
            (owner, world.need, {"quantity": 0}, "quantity"), (owner, world.need, {"details": "a\x00b"}, "details"),
            (owner, world.need, {"category": "emergency_funds"}, "category"),
            (owner, world.need, {"destination_kind": None}, "destination_kind"),
            (owner, world.need, {"flexible": False}, "appointment_at"),
            (owner, world.need, {"appointment_at": "2020-01-01T10:00", "flexible": False}, "appointment_at"),
            (owner, world.need, {"category": "food", "flexible": False, "windows": [past]}, "windows.0"),
            (owner, world.need, {"kind": "offer"}, "kind"),  # a need stays a need
            (helper, world.offer, {"radius_miles": 500}, "radius_miles"),
            (helper, world.offer, {"radius_miles": None}, "radius_miles")):
        response = caller.patch(url(post), json=data)
        assert response.status_code == 422, (data, response.get_json())
        assert field in response.get_json()["errors"]["json"], (data, response.get_json())
    need, offer = post_of(world.need.id), post_of(world.offer.id)
    assert (need.title, need.zip_code, need.quantity, need.category, need.flexible) == (
        "Ride to the clinic on Friday", world.need.zip_code, 1, "rides", True)
    assert offer.radius_miles == 10.0


def test_another_members_post_is_404_and_a_read_token_is_403(api, world, make_token):
    outsider, reader = api(make_token(world.outsider)), api(make_token(world.resident, "read"))
    for action in ("", "fulfilled", "renew"):
        send = (lambda c, u: c.patch(u, json={"title": "Mine now"})) if not action else (lambda c, u: c.post(u))
        response = send(outsider, url(world.need, action))
        assert response.status_code == 404 and response.get_json()["code"] == 404, action
        assert send(outsider, f"/api/v1/me/posts/999999{'/' + action if action else ''}").status_code == 404
        refused = send(reader, url(world.need, action))  # the owner's own post, with a read token
        assert refused.status_code == 403 and "read only" in refused.get_json()["message"], action
    saved = post_of(world.need.id)
    assert (saved.title, saved.status) == ("Ride to the clinic on Friday", "open")


def test_marking_fulfilled_closes_the_post_and_then_edit_renew_and_fulfilled_are_409(api, world, make_token):
    owner = api(make_token(world.resident))
    done = owner.post(url(world.need, "fulfilled"))
    assert done.status_code == 200 and done.get_json()["status"] == "fulfilled", done.get_json()
    saved = post_of(world.need.id)
    assert saved.status == "fulfilled" and saved.closed_at is not None
    for response in (owner.post(url(world.need, "fulfilled")), owner.post(url(world.need, "renew")),
                     owner.patch(url(world.need), json={"title": "Again"})):
        assert response.status_code == 409 and response.get_json()["message"], response.get_json()
    assert post_of(world.need.id).title == "Ride to the clinic on Friday"


def test_renewing_gives_a_fresh_lifetime_and_clears_the_expiry_warning(app, api, world, make_token):
    soon = utcnow() + timedelta(days=1)
    db.session.execute(update(Post).where(Post.id == world.offer.id).values(expires_at=soon, expiry_warned_at=utcnow()))
    db.session.commit()
    renewed = api(make_token(world.helper)).post(url(world.offer, "renew"))
    assert renewed.status_code == 200 and renewed.get_json()["status"] == "open", renewed.get_json()
    saved = post_of(world.offer.id)
    lifetime = timedelta(days=app.config["POST_LIFETIME_DAYS"])
    assert saved.expiry_warned_at is None and saved.expires_at > utcnow() + lifetime - timedelta(minutes=5)


def test_a_repeating_request_keeps_its_rule_and_a_change_its_rule_refuses_is_409(api, world, make_post, make_token):
    today = local_today()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    need = make_post(world.resident, title="Ride to work", flexible=False, duration_min=30, destination_kind="work",
                     appointment_at=datetime.combine(monday, time(7, 30)),
                     repeat=RepeatInput(days=[0, 1, 2, 3, 4], count=5))
    rule = post_of(need.id).repeat_rule
    owner = api(make_token(world.resident))
    kept = owner.patch(url(need), json={"title": "Ride to the warehouse"})
    assert kept.status_code == 200 and kept.get_json()["repeats"], kept.get_json()
    assert post_of(need.id).repeat_rule == rule and len(post_of(need.id).occurrences) == 5
    refused = owner.patch(url(need), json={"flexible": True})  # the saved repeat needs a date: not a field here
    assert refused.status_code == 409 and "repeats" in refused.get_json()["message"], refused.get_json()
    assert post_of(need.id).flexible is False and post_of(need.id).repeat_rule == rule
