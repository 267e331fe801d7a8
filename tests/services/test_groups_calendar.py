"""My calendar: items from every provider, and the bytes of the .ics: neutral titles, UTC times, the
town and a link; never a title, an address or a name."""
from datetime import timedelta

import icalendar
import pytest

from app.extensions import db
from app.models import Match
from app.services import calendar, groups_join, groups_schedule
from app.timeutil import utcnow
from tests.services.groups_helpers import PLACE, group_offer, link, schedule, sessions_of


def path_for(endpoint, **values):
    return f"/{endpoint}/" + "/".join(str(v) for v in values.values())


@pytest.fixture
def world(app, make_user, make_post):
    host = make_user(name="Hana Host")
    me = make_user(name="Mo Member", zip_code="55082")
    offer = group_offer(make_post, host, title="Recovery circle for families", zip_code="55082")
    series = schedule(host, offer, repeat="weekly", ends="count", count=3, places=1)
    first, second, third = sessions_of(series)
    groups_join.join_session(me, first.id, link_for=link)
    groups_join.join_session(make_user(), second.id, link_for=link)
    groups_join.join_session(me, second.id, link_for=link)  # full: waiting
    groups_join.join_session(me, third.id, link_for=link)
    groups_schedule.cancel_session(host, third.id, link)
    driver = make_user(name="Dee Driver")
    need = make_post(me, title="Ride to my counselor on Elm Street", street_address="12 Elm Street")
    ride = make_post(driver, kind="offer", title="Rides from Hudson")
    when = utcnow() + timedelta(days=2)
    db.session.add_all([
        Match(need_id=need.id, offer_id=ride.id, units=1, status="accepted", scheduled_at=when),
        Match(need_id=need.id, offer_id=ride.id, units=1, status="proposed", scheduled_at=when),
    ])
    db.session.commit()
    return dict(me=me, driver=driver, host=host, first=first, second=second, third=third, when=when)


def test_my_calendar_has_my_sessions_and_my_matched_help_in_time_order(app, world):
    items = calendar.items_for(world["me"], path_for)
    kinds = [(i.kind, i.start, i.tentative) for i in items]
    assert kinds == sorted(kinds, key=lambda k: k[1])
    assert ("group_session", world["first"].starts_at, False) in kinds
    assert ("group_session", world["second"].starts_at, True) in kinds  # on the waiting list
    assert all(i.start != world["third"].starts_at for i in items)  # cancelled
    rides = [i for i in items if i.kind == "ride"]
    assert len(rides) == 1 and rides[0].start == world["when"]  # the proposal is not on it yet
    # The other side of the match has it too.
    assert [i.kind for i in calendar.items_for(world["driver"], path_for)] == ["ride"]


def test_the_ics_carries_neutral_titles_the_time_the_town_and_a_link_only(app, world):
    me = world["me"]
    body = calendar.to_ics(calendar.items_for(me, path_for), "https://aid.example.org")
    parsed = icalendar.Calendar.from_ical(body)
    events = list(parsed.walk("VEVENT"))
    assert len(events) == 3
    for event in events:
        assert str(event["SUMMARY"]) in {"Group session", "Workshop", "Ride", "Help"}
        assert str(event["LOCATION"]) in {"Stillwater, MN", "Hudson, WI"}
        assert str(event["URL"]).startswith("https://aid.example.org/")
        assert event.decoded("DTSTART").utcoffset() == timedelta(0)
        assert event.get("DTSTAMP") is not None and str(event["UID"]).endswith("@aid.example.org")
    text = body.decode()
    for secret in ("Recovery", "recovery", "circle", "counselor", "Elm", PLACE, "Room 2", "Hana", "Mo", "Dee",
                   me.email, world["driver"].email):
        assert secret not in text, secret
    # The same item keeps its UID from one download to the next.
    again = icalendar.Calendar.from_ical(calendar.to_ics(calendar.items_for(me, path_for), "https://aid.example.org"))
    assert sorted(str(e["UID"]) for e in again.walk("VEVENT")) == sorted(str(e["UID"]) for e in events)


def test_another_kind_of_item_is_one_provider_function(app, world, monkeypatch):
    extra = calendar.CalendarItem(utcnow() + timedelta(hours=5), None, "help", "Occurrence", "Hudson, WI",
                                  "/needs/1", "occurrence-1")
    monkeypatch.setattr(calendar, "PROVIDERS", [*calendar.PROVIDERS, lambda user, link_for, start, end: [extra]])
    assert extra in calendar.items_for(world["me"], path_for)


def test_the_private_feed_address_is_replaced_when_reset(app, make_user):
    me = make_user()
    assert calendar.feed_of(me) is None
    old = calendar.reset_feed(me).token
    assert calendar.user_for_feed(old).id == me.id
    new = calendar.reset_feed(me).token
    assert new != old and len(new) >= 40
    assert calendar.user_for_feed(old) is None and calendar.user_for_feed(new).id == me.id
    assert calendar.user_for_feed("") is None and calendar.user_for_feed("x" * 500) is None
