"""Pieces of browse pages rendered once per process (app/fragments.py): what a reader gets is
always what a fresh render would give, whoever asked first and whatever changed since."""
from datetime import timedelta

import pytest

from app import timeutil
from app.extensions import db
from app.fragments import Fragments
from app.services.posts import PostInput, update_post


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
