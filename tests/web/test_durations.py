"""Durations are worded one way everywhere: '2 hours', not '120 minutes' or '2 h'."""
import pytest

from app.durations import CLOCK_DAY, duration_words
from app.posts.forms import DURATIONS


@pytest.mark.parametrize("minutes, words", [
    (30, "30 minutes"), (1, "1 minute"), (60, "1 hour"), (90, "1½ hours"), (120, "2 hours"), (150, "2½ hours"),
    (75, "1 hour 15 minutes"), (480, "a day"), (0, "0 minutes"), (None, "0 minutes"), (960, "2 days"),
])
def test_duration_words(minutes, words):
    assert duration_words(minutes) == words


def test_free_time_counts_whole_days():
    assert duration_words(480, CLOCK_DAY) == "8 hours"
    assert duration_words(CLOCK_DAY, CLOCK_DAY) == "a day"
    assert duration_words(14 * CLOCK_DAY, CLOCK_DAY) == "14 days"
    assert duration_words(CLOCK_DAY + 90, CLOCK_DAY) == "1 day 1½ hours"


def test_the_post_form_offers_the_same_words():
    assert [(m, duration_words(m)) for m, _ in DURATIONS] == [(m, label.lower()) for m, label in DURATIONS]


@pytest.mark.parametrize("minutes, words", [(120, "2 hours"), (90, "1½ hours"), (30, "30 minutes"), (480, "a day")])
def test_post_page_words_how_long_it_takes(client, make_user, make_post, minutes, words):
    post = make_post(make_user(), title="Help moving a couch", category="household_items", duration_min=minutes)
    html = client.get(f"/posts/{post.id}").get_data(as_text=True)
    assert f"(takes about {words})" in html


def test_queue_words_the_free_time(client, make_user, make_post, login_as):
    login_as(make_user("coordinator"))
    make_post(make_user(), kind="offer", title="Rides to appointments")
    make_post(make_user(), title="Ride to the clinic")
    html = client.get("/coordinate/queue").get_data(as_text=True)
    assert "14 days free in the asked time" in html  # a flexible need: the next two weeks
    assert " h free" not in html and " min free" not in html
