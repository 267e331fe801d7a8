"""Asking for help by text (app/services/text_requests.py): what is read from real-looking texts,
that reading never fails whatever arrives, and where a request goes (a member's draft, or the
coordinators' list for a resident)."""
from datetime import date, time

import pytest
from hypothesis import given, settings, strategies as st

from app.extensions import db
from app.models import TextRequest
from app.services import Conflict, NotAllowed, text_requests
from app.services.text_requests import parse

TUESDAY = date(2025, 12, 2)  # a Tuesday; "now" is 8:00 in the morning, community time
EIGHT = time(8, 0)


@pytest.mark.parametrize("text, language, category, day, at, title", [
    ("ride Tuesday 9am clinic", "en", "rides", date(2025, 12, 2), time(9, 0), "Ride clinic"),
    ("a ride to the clinic on Tuesday at 9:30 pm", "en", "rides", date(2025, 12, 2), time(21, 30), "A ride to the clinic"),
    ("Ride to work tuesday 7am", "en", "rides", date(2025, 12, 9), time(7, 0), "Ride to work"),  # 7am has passed
    ("ride to my appointment next Thursday at 2:15pm", "en", "rides", date(2025, 12, 4), time(14, 15),
     "Ride to my appointment"),
    ("lift to the pharmacy tomorrow noon", "en", "rides", date(2025, 12, 3), time(12, 0), "Lift to the pharmacy"),
    ("pickup from hospital 12/5 3 PM", "en", "rides", date(2025, 12, 5), time(15, 0), "Pickup from hospital"),
    ("groceries tomorrow", "en", "food", date(2025, 12, 3), None, "Groceries"),
    ("Dinner for 3 kids Friday 6:00pm", "en", "food", date(2025, 12, 5), time(18, 0), "Dinner for 3 kids"),
    ("a bed and some clothes Dec 5th", "en", "household_items", date(2025, 12, 5), None, "A bed and some clothes"),
    ("furniture for new apartment Jan 3", "en", "household_items", date(2026, 1, 3), None, "Furniture for new apartment"),
    ("help with my resume sat 10 a.m.", "en", "skills", date(2025, 12, 6), time(10, 0), "Help with my resume"),
    ("someone to fix my car", "en", "skills", None, None, "Someone to fix my car"),  # fix, not car
    ("someone to talk to tonight 8pm", "en", "peer_support", date(2025, 12, 2), time(20, 0), "Someone to talk to"),
    ("support group 14:00 wed", "en", "peer_support", date(2025, 12, 3), time(14, 0), "Support group"),
    ("help please", "en", None, None, None, "Help please"),
    ("raite al doctor el martes a las 9 de la mañana", "es", "rides", date(2025, 12, 2), time(9, 0), "Raite al doctor"),
    ("comida para mi familia mañana", "es", "food", date(2025, 12, 3), None, "Comida para mi familia"),
    ("una cama 5/12", "es", "household_items", date(2025, 12, 5), None, "Una cama"),  # 5 December in Spanish
    ("taller de currículum 5 de diciembre 3 pm", "es", "skills", date(2025, 12, 5), time(15, 0), "Taller de currículum"),
    ("alguien con quien hablar el viernes", "es", "peer_support", date(2025, 12, 5), None, "Alguien con quien hablar"),
    ("despensa pasado mañana mediodía", "es", "food", date(2025, 12, 4), time(12, 0), "Despensa"),
    ("ride 9-11am fri", "en", "rides", date(2025, 12, 5), time(9, 0), "Ride"),
    ("2 beds", "en", "household_items", None, None, "2 beds"),  # a bare number is no time
    ("ride 13/13 25:00", "en", "rides", None, None, "Ride 13/13 25:00"),  # no such date or time
])
def test_what_is_read_from_a_real_looking_text(text, language, category, day, at, title):
    parsed = parse(text, TUESDAY, EIGHT, language)
    assert (parsed.category, parsed.day, parsed.at, parsed.title) == (category, day, at, title)


def test_it_records_which_words_gave_what():
    parsed = parse("ride Tuesday 9am clinic", TUESDAY, EIGHT)
    assert parsed.as_dict() == {
        "title": "Ride clinic", "category": {"value": "rides", "words": "ride"},
        "date": {"value": "2025-12-02", "words": "Tuesday"}, "time": {"value": "09:00", "words": "9am"},
        "destination": "medical"}
    assert parsed.starts_at.isoformat() == "2025-12-02T09:00:00"
    assert parse("groceries tomorrow", TUESDAY, EIGHT).starts_at is None  # no time: no start


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["en", "es"]), st.dates(), st.times())
def test_reading_never_fails_and_keeps_the_title_short(text, language, today, now):
    parsed = parse(text, today, now, language)
    assert len(parsed.title) <= text_requests.MAX_TITLE
    assert parsed.category in (None, "rides", "food", "skills", "peer_support", "household_items")
    assert parsed.day is None or parsed.day >= today or any(c.isdigit() for c in text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["ride", "NEED", "tuesday", "9am", "12/5", "dec", "5", "de", "diciembre", "a",
                                 "las", "9", "pm", "mañana", "noon", "de", "la", "on", "at", "13/40", "31", "feb",
                                 "30", "9:75", "0am", "-", "12pm-", "…", "ÉL", "ı"]), max_size=12))
def test_reading_word_salad_of_dates_and_times_never_fails(words):
    parsed = parse(" ".join(words), TUESDAY, EIGHT, "en")
    assert isinstance(parsed.as_dict(), dict)


def test_a_members_request_is_a_draft_and_a_residents_is_queued(make_user):
    member = make_user(name="Mo Member")
    resident = make_user("resident", name="Riley Resident")
    no_login = make_user("member", name="Nia Nologin", email="")
    no_login.password_hash = None
    db.session.commit()
    drafts = [text_requests.create(u, "ride Tuesday 9am clinic") for u in (member, resident, no_login)]
    db.session.commit()
    assert [r.status for r in drafts] == ["draft", "queued", "queued"]
    assert drafts[0].category == "rides" and drafts[0].parsed["title"] == "Ride clinic"
    assert [r.id for r, _u in text_requests.queued()] == [drafts[1].id, drafts[2].id]


def test_control_characters_are_not_kept(make_user):
    member = make_user(name="Mo Member")
    row = text_requests.create(member, "ride\x00 tomorrow\x07")
    db.session.commit()
    assert db.session.get(TextRequest, row.id).body == "ride  tomorrow"


def test_only_the_requester_posts_a_draft_and_a_posted_one_says_so(make_user):
    member, other = make_user(name="Mo Member"), make_user(name="Oz Other")
    coord = make_user("coordinator", name="Casey Coordinator")
    row = text_requests.create(member, "groceries tomorrow")
    db.session.commit()
    assert text_requests.get_for_posting(member, row.id, None).id == row.id
    for actor, owner in ((other, None), (coord, None), (coord, other)):
        with pytest.raises(NotAllowed):
            text_requests.get_for_posting(actor, row.id, owner)
    with pytest.raises(NotAllowed):
        text_requests.get_for_posting(member, row.id + 1000, None)
    with pytest.raises(NotAllowed):
        text_requests.dismiss(other, row.id)
    text_requests.dismiss(coord, row.id)
    with pytest.raises(Conflict, match="closed"):
        text_requests.get_for_posting(member, row.id, None)
