"""Pieces of browse pages rendered once per process (app/fragments.py): what a reader gets is
always what a fresh render would give, whoever asked first and whatever changed since."""
import re
from datetime import timedelta

import pytest

from app import fragments, timeutil
from app.extensions import db
from app.fragments import Fragments
from app.models import User
from app.services.posts import PostInput, update_post
from tests.conftest import CSRF_RE, login


def _card_of(html: str, title: str) -> str:
    start = html.rindex('<li class="card">', 0, html.index(title))
    return html[start:html.index("</li>", start)]


def test_an_edited_post_shows_its_new_title_and_category_on_the_next_page(client, make_user, make_post):
    owner = make_user()
    post = make_post(owner, title="Ride to the clinic on Tuesday")
    assert "Ride to the clinic on Tuesday" in client.get("/browse").get_data(as_text=True)
    update_post(owner, db.session.get(type(post), post.id),
                PostInput(kind="need", category="food", title="Groceries for the week", zip_code="54016", flexible=True))
    html = client.get("/browse").get_data(as_text=True)
    assert "Ride to the clinic on Tuesday" not in html
    assert ">Food<" in _card_of(html, "Groceries for the week")


def test_the_cards_and_filters_follow_the_readers_language(client, make_user, make_post):
    make_post(make_user(), title="Ride to the clinic")
    english = client.get("/browse", headers={"Accept-Language": "en"}).get_data(as_text=True)
    spanish = client.get("/browse", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert ">Rides<" in _card_of(english, "Ride to the clinic")
    assert ">Transporte<" in _card_of(spanish, "Ride to the clinic")
    assert "Todas las categorías" in spanish and "Todas las categorías" not in english
    assert "All categories" in client.get("/browse", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_a_card_says_today_once_the_day_it_was_needed_by_comes(client, make_user, make_post, monkeypatch):
    post = make_post(make_user(), category="food", title="Groceries for the week", urgency=2)
    first = _card_of(client.get("/browse").get_data(as_text=True), "Groceries for the week")
    assert "Needed today" not in first
    real = timeutil.utcnow
    days = (post.needed_by - timeutil.local_today()).days
    monkeypatch.setattr(timeutil, "utcnow", lambda: real() + timedelta(days=days))
    assert "Needed today" in _card_of(client.get("/browse").get_data(as_text=True), "Groceries for the week")


def test_each_viewer_place_gets_its_own_distance(client, make_user, make_post):
    make_post(make_user(zip_code="54016"), title="Ride to the clinic")
    near = _card_of(client.get("/browse?near=54016").get_data(as_text=True), "Ride to the clinic")
    far = _card_of(client.get("/browse?near=55101").get_data(as_text=True), "Ride to the clinic")
    assert near != far and "<span>· " in near and "<span>· " in far
    assert "<span>· " not in _card_of(client.get("/browse").get_data(as_text=True), "Ride to the clinic")


def test_the_filters_show_what_each_query_typed_and_an_error_every_time(client):
    assert 'value="resume"' in client.get("/browse?q=resume").get_data(as_text=True)
    html = client.get("/browse?q=bike").get_data(as_text=True)
    assert 'value="bike"' in html and 'value="resume"' not in html
    for _ in range(2):  # a form with an error is never kept, nor served from what was kept
        response = client.get("/browse?near=00000")
        assert response.status_code == 200
        assert 'id="near-err"' in response.get_data(as_text=True)
    assert 'id="near-err"' not in client.get("/browse?near=54016").get_data(as_text=True)


def test_the_filter_count_and_the_urgency_filter_follow_the_query(client):
    assert "Filters (2 active)" in client.get("/browse?q=bike&category=food").get_data(as_text=True)
    offers = client.get("/browse?kind=offer").get_data(as_text=True)
    assert 'name="urgency"' not in offers
    assert 'name="urgency"' in client.get("/browse?kind=need").get_data(as_text=True)


def test_the_cache_keeps_at_most_its_size_and_drops_the_least_recently_used():
    cache = Fragments(size=2)
    renders = []

    def render(text):
        return lambda: renders.append(text) or text

    assert cache.get("a", render("A")) == "A"
    cache.get("b", render("B"))
    cache.get("a", render("A again"))  # a hit: "a" becomes the most recent
    cache.get("c", render("C"))  # "b" goes
    assert cache.get("a", render("A third")) == "A"
    assert cache.get("b", render("B again")) == "B again"
    assert renders == ["A", "B", "C", "B again"]


@pytest.mark.parametrize("title", ["<script>alert(1)</script>", "Tom & Jerry's \"ride\""])
def test_a_kept_card_stays_escaped(client, make_user, make_post, title):
    make_post(make_user(), title=title)
    for _ in range(2):
        html = client.get("/browse").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
        assert "Tom &amp; Jerry" in html or "&lt;script&gt;" in html


# The empty new-post form ---------------------------------------------------------------------

def _post_form_of(html: str) -> str:
    """The page's <form data-post-form> with its CSRF token taken out (a fresh one per render)."""
    form = html[html.index("<form method=\"post\" novalidate data-post-form"):]
    form = form[:form.index("</form>") + len("</form>")]
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', 'name="csrf_token" value=TOKEN', form)


def _member_client(app, make_user, zip_code, language="en"):
    c = app.test_client()
    user = make_user(zip_code=zip_code)
    user.language = language
    db.session.commit()
    assert login(c, user.email).status_code == 302
    return c


def _form_token(html: str) -> str:
    """The CSRF token inside the post form itself (the page's other forms carry one too)."""
    form = html[html.index("<form method=\"post\" novalidate data-post-form"):]
    match = CSRF_RE.search(form[:form.index("</form>")])
    return match.group(1) or match.group(2)


def test_each_member_gets_the_new_post_form_with_their_own_zip_and_token(app, make_user):
    hudson, stillwater = _member_client(app, make_user, "54016"), _member_client(app, make_user, "55082")
    first = hudson.get("/posts/new?kind=need").get_data(as_text=True)
    second = stillwater.get("/posts/new?kind=need").get_data(as_text=True)
    assert 'value="54016"' in first and 'value="55082"' not in first
    assert 'value="55082"' in second and 'value="54016"' not in second
    assert _form_token(first) != _form_token(second)
    for page in (first, second):
        assert fragments.ZIP_SLOT not in page and fragments.CSRF_SLOT not in page
    # Neither the ZIP nor a token is kept: only the stand-ins are.
    kept = " ".join(str(html) for html in app.extensions["fragments"]._items.values())
    assert fragments.ZIP_SLOT in kept and fragments.CSRF_SLOT in kept
    assert "54016" not in kept and "55082" not in kept
    assert _form_token(first) not in kept and _form_token(second) not in kept
    # The token in the form is the session's own: the form posts, and with the other member's it does not.
    day = (timeutil.local_today() + timedelta(days=3)).isoformat()
    fields = {"category": "food", "title": "Groceries for the week", "details": "", "zip_code": "55082",
              "quantity": "1", "urgency": "1", "duration_min": "60", "windows-0-day": day,
              "windows-0-start": "10:00", "windows-0-end": "12:00"}
    refused = stillwater.post("/posts/new?kind=need", data=dict(fields, csrf_token=_form_token(first)))
    assert refused.status_code == 400
    response = stillwater.post("/posts/new?kind=need", data=dict(fields, csrf_token=_form_token(second)))
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_member_without_a_zip_gets_an_empty_zip_field(app, make_user):
    member = _member_client(app, make_user, None)
    for _ in range(2):
        html = member.get("/posts/new?kind=offer").get_data(as_text=True)
        assert re.search(r'<input[^>]*id="zip_code"[^>]*value=""', html) and fragments.ZIP_SLOT not in html


def test_a_coordinator_posting_for_a_resident_gets_the_residents_zip_and_nothing_is_kept(app, make_user):
    resident = make_user(role="resident", zip_code="55082", name="Robin Resident")
    coordinator = app.test_client()
    assert login(coordinator, make_user(role="coordinator", zip_code="54016").email).status_code == 302
    html = coordinator.get(f"/coordinate/residents/{resident.id}/posts/new?kind=need").get_data(as_text=True)
    assert 'value="55082"' in html and "Robin Resident" in html
    assert not app.extensions["fragments"]._items


@pytest.mark.parametrize("query", ["kind=need", "kind=offer", "kind=need&category=food", "kind=offer&category=skills"])
def test_the_kept_new_post_form_is_what_a_fresh_render_gives(app, make_user, monkeypatch, query):
    for language in ("en", "es"):
        member = _member_client(app, make_user, "54016", language)
        cached = [member.get(f"/posts/new?{query}").get_data(as_text=True) for _ in range(2)]  # first, then kept
        with monkeypatch.context() as m:
            m.setattr(fragments, "new_post_form", lambda *args: None)  # the view renders it itself
            fresh = member.get(f"/posts/new?{query}").get_data(as_text=True)
        assert _post_form_of(cached[0]) == _post_form_of(cached[1]) == _post_form_of(fresh)
        assert ("Publicar mi solicitud" in fresh or "Publicar mi oferta" in fresh) == (language == "es")
    if "category=food" in query:
        assert '<option selected value="food">' in _post_form_of(fresh)


@pytest.mark.parametrize("query", ["kind=need&category=made-up", "kind=need&utm=1", "kind=need&kind=need",
                                   "category=food&kind=need", "kind=need&category=food&category=skills",
                                   "kind=need&category=csrf-slot-5f0c2e", "kind=ne%65d"])
def test_a_new_post_form_under_any_other_query_string_is_served_but_not_kept(app, make_user, query):
    member = _member_client(app, make_user, "54016")
    html = member.get(f"/posts/new?{query}").get_data(as_text=True)
    assert 'value="54016"' in html and _form_token(html)
    assert not app.extensions["fragments"]._items


def test_what_a_search_typed_is_escaped_in_the_kept_filter_form_too(client):
    typed = '"><script>alert(1)</script>'
    for _ in range(2):  # the first render, then the kept one
        html = client.get("/browse", query_string={"q": typed}).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
        assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert 'value="&#34;&gt;' not in client.get("/browse?q=bike").get_data(as_text=True)


def test_with_csrf_turned_off_the_new_post_form_is_rendered_each_time_and_posts(app, make_user):
    """A deployment or test that turns CSRF off gets forms without a token field: nothing to stand in for."""
    member = _member_client(app, make_user, "54016")
    app.config["WTF_CSRF_ENABLED"] = False
    response = member.get("/posts/new?kind=need")
    assert response.status_code == 200 and 'value="54016"' in response.get_data(as_text=True)
    assert fragments.CSRF_SLOT not in response.get_data(as_text=True)
    assert not app.extensions["fragments"]._items
    day = (timeutil.local_today() + timedelta(days=3)).isoformat()
    posted = member.post("/posts/new?kind=need", data={
        "category": "food", "title": "Groceries for the week", "details": "", "zip_code": "54016", "quantity": "1",
        "urgency": "1", "duration_min": "60", "windows-0-day": day, "windows-0-start": "10:00", "windows-0-end": "12:00"})
    assert posted.status_code == 302, posted.get_data(as_text=True)
