"""Help that repeats through the pages: the post form's repeat fields (bad input explained beside
the field, what was typed kept), the dates on the request and match pages, and who gets which
button (object-level checks on every date id, no state change on GET)."""
import re
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Match, NeedOccurrence, Post
from app.services import matches
from app.services.repeat import RepeatInput
from app.timeutil import local_today
from tests.conftest import csrf_token
from tests.web.test_posts import need_form, post_new


def monday() -> date:
    today = local_today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def ride_form(**fields):
    day = monday().isoformat()
    data = need_form(**{"appointment_day": day, "appointment_time": "07:30", "windows-0-day": "", "windows-0-start": "",
                        "windows-0-end": "", "duration_min": "30", "destination_kind": "work", "return_trip": "",
                        "repeat_days": ["0", "1", "2", "3", "4"], "repeat_count": "20"})
    data.update(fields)
    return data


def test_a_member_posts_a_weekday_ride_for_four_weeks(client, make_user, login_as):
    login_as(make_user())
    response = post_new(client, "need", ride_form())
    assert response.status_code == 302
    post = db.session.scalar(select(Post))
    assert post.repeats and len(post.occurrences) == 20
    html = client.get(f"/posts/{post.id}").get_data(as_text=True)
    assert "Every Mon, Tue, Wed, Thu, Fri, 20 times" in html
    assert html.count('data-occurrence="') == 20 and html.count(">Skip this date<") == 20


def test_the_edit_form_shows_the_saved_rule(client, make_user, login_as):
    login_as(make_user())
    post_new(client, "need", ride_form(repeat_count="", repeat_until=(monday() + timedelta(days=11)).isoformat()))
    post = db.session.scalar(select(Post))
    html = client.get(f"/posts/{post.id}/edit").get_data(as_text=True)
    checked = re.findall(r'<input checked id="repeat_days-(\d)"|<input id="repeat_days-(\d)"[^>]*checked', html)
    assert sorted(a or b for a, b in checked) == ["0", "1", "2", "3", "4"]
    assert f'value="{(monday() + timedelta(days=11)).isoformat()}"' in html


def _error_beside(html: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-err">([^<]+)<', html)
    assert found, f"no message beside {field_id}"
    return found.group(1)


def test_bad_repeat_input_is_explained_beside_the_field_and_kept(client, make_user, login_as):
    login_as(make_user())
    cases = [({"repeat_count": "", "repeat_until": ""}, "repeat_until", "until when"),
             ({"repeat_count": "500"}, "repeat_count", "from 2 to 100"),
             ({"repeat_count": "many"}, "repeat_count", "whole number"),
             ({"repeat_days": ["8"]}, "repeat_days", "days of the week"),
             ({"repeat_until": "2999-01-01", "repeat_count": ""}, "repeat_until", "between 2000 and 2100"),
             ({"repeat_until": "2099-01-01", "repeat_count": ""}, "repeat_until", "a year at most")]
    for fields, field_id, words in cases:
        response = post_new(client, "need", ride_form(title="Ride to work, weekdays", **fields))
        html = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert words in _error_beside(html, field_id), (fields, _error_beside(html, field_id))
        assert 'value="Ride to work, weekdays"' in html
    assert db.session.scalar(select(Post.id)) is None


def _standing_ride(make_user, make_post):
    asker, driver, coord = make_user("resident", name="Riley Resident"), make_user(name="Dana Driver"), make_user("coordinator")
    make_post(driver, kind="offer", title="Morning rides", weekly=[(d, 360, 540) for d in range(5)])
    need = make_post(asker, title="Ride to work", flexible=False, appointment_at=datetime.combine(monday(), time(7, 30)),
                     duration_min=30, destination_kind="work", repeat=RepeatInput(days=[0, 1, 2, 3, 4], count=5))
    match = db.session.scalar(select(Match).where(Match.need_id == need.id))
    matches.approve(coord, match.id, lambda m: "x")
    matches.answer(asker, match.id, True)
    matches.answer(driver, match.id, True)
    return asker, driver, need, match


def test_the_match_page_lists_the_dates_with_each_persons_buttons(client, make_user, make_post, login_as):
    asker, driver, need, match = _standing_ride(make_user, make_post)
    login_as(driver)
    html = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "One helper for every date" in html and html.count('data-occurrence="') == 5
    assert html.count(">Confirm this date<") == 5 and "Skip this date" not in html
    assert "Stop helping with the other dates" in html


def test_skipping_through_the_page_keeps_the_rest_and_strangers_get_403(client, make_user, make_post, login_as):
    asker, driver, need, match = _standing_ride(make_user, make_post)
    rows = db.session.scalars(select(NeedOccurrence).where(NeedOccurrence.need_id == need.id)
                              .order_by(NeedOccurrence.starts_at)).all()
    login_as(make_user())
    token = csrf_token(client, "/")
    assert client.post(f"/occurrences/{rows[1].id}/skip", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/occurrences/{rows[1].id}/skip").status_code == 405  # never on GET
    assert client.post("/occurrences/999999/skip", data={"csrf_token": token}).status_code == 404
    client.post("/auth/logout", data={"csrf_token": token})
    login_as(asker)
    token = csrf_token(client, "/")
    assert client.post(f"/occurrences/{rows[1].id}/skip", data={}).status_code == 400  # no CSRF token
    response = client.post(f"/occurrences/{rows[1].id}/skip", data={"csrf_token": token, "next": f"/posts/{need.id}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/posts/{need.id}")
    db.session.expire_all()
    assert [r.status for r in db.session.scalars(select(NeedOccurrence).where(NeedOccurrence.need_id == need.id)
                                                 .order_by(NeedOccurrence.starts_at))] == \
        ["matched", "skipped", "matched", "matched", "matched"]
    again = client.post(f"/occurrences/{rows[1].id}/skip", data={"csrf_token": token})
    assert again.status_code == 409


def test_the_queue_says_standing_or_date_by_date(client, make_user, make_post, login_as):
    coord, asker = make_user("coordinator"), make_user("resident")
    make_post(make_user(), kind="offer", title="Mon Wed Fri rides", weekly=[(d, 360, 540) for d in (0, 2, 4)])
    make_post(make_user(), kind="offer", title="Tue Thu rides", weekly=[(d, 360, 540) for d in (1, 3)])
    make_post(asker, title="Ride to work", flexible=False, appointment_at=datetime.combine(monday(), time(7, 30)),
              duration_min=30, destination_kind="work", repeat=RepeatInput(days=[0, 1, 2, 3, 4], count=10))
    login_as(coord)
    html = client.get("/coordinate/queue").get_data(as_text=True)
    assert "Date by date: 6 of 10 dates" in html and "Date by date: 4 of 10 dates" in html
