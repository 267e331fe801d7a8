from datetime import date, timedelta

from app.extensions import db
from app.models import Post
from tests.conftest import csrf_token


def need_form(**fields):
    day = (date.today() + timedelta(days=3)).isoformat()
    data = {"category": "rides", "title": "Ride to my clinic visit", "details": "Wheelchair friendly car please",
            "zip_code": "54016", "street_address": "123 Private Lane", "quantity": "1", "urgency": "2",
            "duration_min": "60", "windows-0-day": day, "windows-0-start": "09:00", "windows-0-end": "11:00",
            "destination_kind": "medical", "pickup_area": "North Hudson", "appointment_day": day,
            "appointment_time": "09:30", "return_trip": "y"}
    data.update(fields)
    return data


def offer_form(**fields):
    data = {"category": "skills", "title": "Resume writing and interview practice", "details": "",
            "zip_code": "55082", "quantity": "3", "radius_miles": "15", "offer_format": "individual",
            "weekly-0-day": "1", "weekly-0-start": "09:00", "weekly-0-end": "12:00",
            "weekly-1-day": "3", "weekly-1-start": "09:00", "weekly-1-end": "12:00"}
    data.update(fields)
    return data


def post_new(client, kind, data):
    data = dict(data, csrf_token=csrf_token(client, f"/posts/new?kind={kind}"))
    return client.post(f"/posts/new?kind={kind}", data=data)


def test_member_posts_a_ride_need_with_window(client, make_user, login_as):
    user = make_user()
    login_as(user)
    response = post_new(client, "need", need_form())
    assert response.status_code == 302
    post = db.session.scalar(db.select(Post))
    assert (post.kind, post.category, post.owner_id, post.urgency, post.town) == ("need", "rides", user.id, 2, "Hudson")
    assert post.destination_kind == "medical" and post.return_trip and len(post.windows) == 1
    # 09:00 in Chicago (CST, UTC-6) is 15:00 UTC
    assert post.windows[0].start_at.hour in (14, 15) and post.windows[0].end_at > post.windows[0].start_at
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ride to my clinic visit" in html and "Medical appointment" in html and "and back" in html


def test_offer_with_weekly_slots_shows_wall_clock_times(client, make_user, login_as):
    login_as(make_user())
    response = post_new(client, "offer", offer_form())
    assert response.status_code == 302
    post = db.session.scalar(db.select(Post))
    assert [(s.day, s.start_min, s.end_min) for s in post.weekly_slots] == [(1, 540, 720), (3, 540, 720)]
    assert post.radius_miles == 15 and post.quantity == 3
    html = client.get(f"/posts/{post.id}").get_data(as_text=True)
    assert "Every Tue 09:00–12:00" in html and "Every Thu 09:00–12:00" in html


def test_overnight_weekly_slot_is_allowed(client, make_user, login_as):
    login_as(make_user())
    response = post_new(client, "offer", offer_form(**{"weekly-0-start": "22:00", "weekly-0-end": "02:00"}))
    assert response.status_code == 302


def _assert_error(response, message, kept):
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:500]
    assert message in html
    for value in kept:
        assert value in html, value
    assert db.session.scalar(db.select(db.func.count()).select_from(Post)) == 0


def test_unknown_zip_is_explained_beside_the_field_and_input_kept(client, make_user, login_as):
    login_as(make_user())
    _assert_error(post_new(client, "need", need_form(zip_code="00000")), "We don&#39;t know ZIP 00000.",
                  ['value="00000"', 'value="Ride to my clinic visit"'])


def test_window_end_before_start(client, make_user, login_as):
    login_as(make_user())
    _assert_error(post_new(client, "need", need_form(**{"windows-0-start": "11:00", "windows-0-end": "09:00"})),
                  "The end must be after the start.", ['value="Ride to my clinic visit"'])


def test_negative_radius(client, make_user, login_as):
    login_as(make_user())
    _assert_error(post_new(client, "offer", offer_form(radius_miles="-5")),
                  "Enter a distance between 0.5 and 100 miles.", ['value="-5"'])


def test_ten_thousand_characters_of_details(client, make_user, login_as):
    login_as(make_user())
    _assert_error(post_new(client, "need", need_form(details="x" * 10000)),
                  "Details can be at most 2,000 characters.", ['value="Ride to my clinic visit"'])


def test_need_without_time_or_flexible_is_refused(client, make_user, login_as):
    login_as(make_user())
    # (A ride takes its time from the appointment: see test_a_ride_need_asks_its_date_once.)
    data = need_form(category="food", **{"windows-0-day": "", "windows-0-start": "", "windows-0-end": ""})
    _assert_error(post_new(client, "need", data), "I&#39;m flexible", [])


def test_rides_need_requires_destination_kind(client, make_user, login_as):
    login_as(make_user())
    _assert_error(post_new(client, "need", need_form(destination_kind="")), "Choose what kind of place the ride is to.", [])


def test_garbage_numbers_never_500(client, make_user, login_as):
    login_as(make_user())
    for field, value in (("quantity", "abc"), ("quantity", "-3"), ("urgency", "9"), ("duration_min", "x"),
                         ("windows-0-day", "2026-13-45"), ("category", "weapons")):
        response = post_new(client, "need", need_form(**{field: value}))
        assert response.status_code == 422, (field, value, response.status_code)


def test_money_is_never_a_post_the_form_leads_to_the_fund(client, make_user, login_as):
    """Money moves only through the fund (two approvals, limits, the ledger), never person to person."""
    login_as(make_user())
    data = need_form(category="emergency_funds", title="Short on rent", quantity="350", fund_purpose="rent",
                     destination_kind="")
    response = post_new(client, "need", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "through the emergency fund" in html and 'value="Short on rent"' in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Post)) == 0
    form = client.get("/posts/new?kind=need").get_data(as_text=True)
    assert 'value="emergency_funds"' not in form and "/fund/" in form
    # Following an old link to a money post form lands on the fund, asking or pledging.
    assert client.get("/posts/new?kind=offer&category=emergency_funds").headers["Location"] == "/fund/#pledge"
    assert client.get("/posts/new?kind=need&category=emergency_funds").headers["Location"] == "/fund/"


def test_a_resident_asking_for_money_is_led_to_the_fund_request(client, make_user, login_as):
    login_as(make_user("resident"))
    assert client.get("/posts/new?kind=need&category=emergency_funds").headers["Location"] == "/fund/requests/new"


def test_workshop_offer_has_places(client, make_user, login_as):
    login_as(make_user())
    assert post_new(client, "offer", offer_form(offer_format="group", quantity="12")).status_code == 302
    post = db.session.scalar(db.select(Post))
    assert post.offer_format == "group" and post.quantity == 12
    assert "12 places" in client.get(f"/posts/{post.id}").get_data(as_text=True)


def test_edit_keeps_values_and_saves(client, make_user, make_post, login_as):
    user = make_user()
    post = make_post(user, kind="offer", category="food", title="Soup")
    login_as(user)
    form_html = client.get(f"/posts/{post.id}/edit").get_data(as_text=True)
    assert 'value="Soup"' in form_html
    response = client.post(f"/posts/{post.id}/edit", data=offer_form(category="food", title="Soup and bread",
                                                                       csrf_token=csrf_token(client, f"/posts/{post.id}/edit")))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, post.id).title == "Soup and bread"


def test_failed_edit_loses_nothing_already_saved(client, make_user, make_post, login_as):
    user = make_user()
    post = make_post(user, kind="offer", category="food", title="Soup")
    login_as(user)
    response = client.post(f"/posts/{post.id}/edit", data=offer_form(category="food", title="Changed", zip_code="00000",
                                                                       csrf_token=csrf_token(client, f"/posts/{post.id}/edit")))
    assert response.status_code == 200 and "We don&#39;t know ZIP 00000." in response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Post, post.id)
    assert saved.title == "Soup" and saved.zip_code == "54016"


def test_withdraw_and_fulfil_are_post_only_and_owner_only(client, make_user, make_post, login_as):
    owner, other = make_user(), make_user()
    post = make_post(owner)
    login_as(other)
    token = csrf_token(client, "/account/")
    assert client.get(f"/posts/{post.id}/withdraw").status_code == 405
    assert client.post(f"/posts/{post.id}/withdraw", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/posts/{post.id}/fulfilled", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/posts/{post.id}/edit").status_code == 403
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == "open"


def test_owner_marks_fulfilled_then_it_is_hidden_from_others(app, make_user, make_post, login_as, client):
    owner = make_user()
    post = make_post(owner)
    login_as(owner)
    response = client.post(f"/posts/{post.id}/fulfilled", data={"csrf_token": csrf_token(client, "/account/")})
    assert response.status_code == 302
    again = client.post(f"/posts/{post.id}/withdraw", data={"csrf_token": csrf_token(client, "/account/")})
    assert again.status_code == 409 and "already closed" in again.get_data(as_text=True)
    assert client.get(f"/posts/{post.id}").status_code == 200  # the owner still sees it
    assert app.test_client().get(f"/posts/{post.id}").status_code == 404
    assert "Fulfilled" in client.get("/posts/mine").get_data(as_text=True)


def test_posting_requires_login(client):
    response = client.get("/posts/new?kind=need")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_all_field_errors_show_at_once(client, make_user, login_as):
    login_as(make_user())
    html = post_new(client, "need", need_form(title="", zip_code="00000")).get_data(as_text=True)
    assert "Give your post a short title." in html and "We don&#39;t know ZIP 00000." in html
