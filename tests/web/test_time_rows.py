"""'Add another time' on the post form works without JavaScript: a named submit button the view
recognises, which sends the form back with everything typed kept and one more empty row."""
import re

from app.extensions import db
from app.models import Post
from tests.conftest import csrf_token
from tests.web.test_posts import need_form, offer_form


def _rows(html: str, name: str) -> int:
    return len(set(re.findall(rf'name="{name}-(\d+)-day"', html)))


def test_add_another_weekly_time_keeps_what_was_typed(client, make_user, login_as):
    login_as(make_user())
    url = "/posts/new?kind=offer"
    assert _rows(client.get(url).get_data(as_text=True), "weekly") == 3
    response = client.post(url, data=offer_form(csrf_token=csrf_token(client, url), add_slot="1", zip_code="00000"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _rows(html, "weekly") == 4
    assert 'value="Resume writing and interview practice"' in html and 'value="00000"' in html
    assert re.search(r'name="weekly-1-start"[^>]*value="09:00"', html) or re.search(r'value="09:00"[^>]*name="weekly-1-start"', html)
    assert '<option selected value="3">' in html  # the second row's Thursday is kept
    # nothing is checked (the unknown ZIP would be) and nothing is saved
    assert "has-error" not in html and "error-box" not in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Post)) == 0
    # the new row is empty, and "Post my offer" still posts it all
    data = offer_form(csrf_token=csrf_token(client, url), **{"weekly-3-day": "5", "weekly-3-start": "18:00", "weekly-3-end": "20:00"})
    assert client.post(url, data=data).status_code == 302
    post = db.session.scalar(db.select(Post))
    assert [(s.day, s.start_min) for s in post.weekly_slots] == [(1, 540), (3, 540), (5, 1080)]


def test_no_more_rows_than_allowed(client, make_user, login_as):
    login_as(make_user())
    url = "/posts/new?kind=offer"
    rows = {f"weekly-{i}-day": "" for i in range(9)}
    html = client.post(url, data=offer_form(csrf_token=csrf_token(client, url), add_slot="1", **rows)).get_data(as_text=True)
    assert _rows(html, "weekly") == 10 and 'name="add_slot"' not in html  # ten is the most: no button
    rows["weekly-9-day"] = ""
    html = client.post(url, data=offer_form(csrf_token=csrf_token(client, url), add_slot="1", **rows)).get_data(as_text=True)
    assert _rows(html, "weekly") == 10 and "has-error" not in html


def test_enter_in_a_field_posts_rather_than_adding_a_row(client, make_user, login_as):
    """The browser's default button (pressed by Enter) is the form's first submit button."""
    login_as(make_user())
    html = client.get("/posts/new?kind=offer").get_data(as_text=True)
    form = html[html.index("data-post-form"):]
    form = form[:form.index("</form>")]  # this form only, not the language switcher in the footer
    buttons = re.findall(r'<button type="submit"([^>]*)>([^<]*)</button>', form)
    assert [text for _, text in buttons] == ["Post my offer", "Add another time", "Post my offer"]
    assert 'name="add_slot"' in buttons[1][0] and "name=" not in buttons[0][0]


def test_add_another_dated_time_on_a_need(client, make_user, login_as):
    login_as(make_user())
    url = "/posts/new?kind=need"
    response = client.post(url, data=need_form(csrf_token=csrf_token(client, url), add_window="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and _rows(html, "windows") == 4
    assert 'value="Ride to my clinic visit"' in html and "has-error" not in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Post)) == 0


def test_edit_form_adds_a_row_and_still_saves(client, make_user, make_post, login_as):
    user = make_user()
    post = make_post(user, kind="offer", category="food", title="Soup", weekly=[(1, 540, 720)])
    login_as(user)
    url = f"/posts/{post.id}/edit"
    html = client.post(url, data=offer_form(category="food", title="Soup and bread", add_slot="1",
                                            csrf_token=csrf_token(client, url))).get_data(as_text=True)
    assert _rows(html, "weekly") == 4 and 'value="Soup and bread"' in html
    db.session.expire_all()
    assert db.session.get(Post, post.id).title == "Soup"  # not saved yet
    response = client.post(url, data=offer_form(category="food", title="Soup and bread", csrf_token=csrf_token(client, url),
                                                **{"weekly-3-day": "6", "weekly-3-start": "11:00", "weekly-3-end": "13:00"}))
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Post, post.id)
    assert saved.title == "Soup and bread" and [s.day for s in saved.weekly_slots] == [1, 3, 6]
