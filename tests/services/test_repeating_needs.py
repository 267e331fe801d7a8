"""Help that repeats: the rule, its dates across daylight saving, standing and date-by-date matches,
skipping one date, marking dates done, a helper who stops, and a ride's way back."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Match, NeedOccurrence, OutboxEmail, Post
from app.services import Conflict, FieldError, NotAllowed
from app.services import matches, occurrences
from app.services.posts import PostInput, update_post
from app.services.repeat import RepeatInput
from app.timeutil import local_today, utcnow

CHICAGO = ZoneInfo("America/Chicago")


def link(match):
    return f"http://localhost/matches/{match.id}"


@pytest.fixture
def people(make_user):
    class People:
        coord = make_user("coordinator", name="Casey Coordinator")
        asker = make_user("resident", name="Riley Resident")
        dana = make_user(name="Dana Driver")
        sam = make_user(name="Sam Driver")
    return People


def next_monday(weeks_ahead=1) -> date:
    today = local_today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks_ahead - 1)


def ride_to_work(make_post, owner, first: date, **fields):
    """Rides to work Mon-Fri at 7:30 (20 times, four weeks), a 30-minute trip."""
    values = dict(flexible=False, appointment_at=datetime.combine(first, time(7, 30)), duration_min=30,
                  destination_kind="work", repeat=RepeatInput(days=[0, 1, 2, 3, 4], count=20))
    values.update(fields)
    return make_post(owner, title="Ride to work", **values)


def driver(make_post, owner, days, start="06:00", end="09:00", **fields):
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    weekly = [(d, h1 * 60 + m1, h2 * 60 + m2) for d in days]
    return make_post(owner, kind="offer", title="Morning rides", weekly=weekly, **fields)


def dates_of(need):
    return db.session.scalars(select(NeedOccurrence).where(NeedOccurrence.need_id == need.id)
                              .order_by(NeedOccurrence.starts_at, NeedOccurrence.leg)).all()


def active(need):
    return db.session.scalars(select(Match).where(Match.need_id == need.id, Match.status.in_(
        ("proposed", "approved", "accepted"))).order_by(Match.id)).all()


def test_a_weekday_ride_repeats_twenty_times_at_the_same_local_time(people, make_post):
    need = ride_to_work(make_post, people.asker, next_monday())
    rows = dates_of(need)
    assert len(rows) == 20 and need.repeats
    local = [r.ends_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(CHICAGO) for r in rows]
    assert {(t.hour, t.minute) for t in local} == {(7, 30)}  # the appointment, every date
    assert {t.weekday() for t in local} == {0, 1, 2, 3, 4}
    assert [r.key for r in rows[:2]] == [f"{next_monday():%Y-%m-%d}/out", f"{next_monday() + timedelta(days=1):%Y-%m-%d}/out"]


def test_across_the_change_to_daylight_saving_the_wall_clock_time_stays(people, make_post):
    # The next second Sunday of March: 7:30 CST is 13:30 UTC the week before, 7:30 CDT 12:30 UTC after.
    today = local_today()
    march = date(today.year + (today >= date(today.year, 3, 1)), 3, 1)
    change = march + timedelta(days=(6 - march.weekday()) % 7 + 7)
    first, last = change - timedelta(days=6), change + timedelta(days=5)
    need = ride_to_work(make_post, people.asker, first, repeat=RepeatInput(days=[0, 1, 2, 3, 4], until=last))
    ends = [r.ends_at for r in dates_of(need)]
    assert len(ends) == 10
    assert ends[0] == datetime.combine(first, time(13, 30)) and ends[-1] == datetime.combine(last, time(12, 30))


@pytest.mark.parametrize("repeat, field", [
    (RepeatInput(days=[0], until=None, count=None), "repeat_until"),
    (RepeatInput(days=[0], until=date(2100, 1, 1), count=5), "repeat_until"),  # both
    (RepeatInput(days=[0], until=date(2100, 1, 1)), "repeat_until"),  # more than a year ahead
    (RepeatInput(days=[], count=5), "repeat_days"),
    (RepeatInput(days=[9], count=5), "repeat_days"),
    (RepeatInput(days=[0], count=1), "repeat_count"),
    (RepeatInput(days=[0, 1, 2, 3, 4, 5, 6], count=500), "repeat_count"),
])
def test_a_bad_rule_is_refused_beside_its_field_and_nothing_is_saved(people, make_post, repeat, field):
    with pytest.raises(FieldError) as err:
        ride_to_work(make_post, people.asker, next_monday(), repeat=repeat)
    assert err.value.field == field
    assert db.session.scalar(select(Post.id)) is None


def test_a_last_date_before_the_first_and_a_flexible_need_are_refused(people, make_post):
    first = next_monday()
    with pytest.raises(FieldError) as err:
        ride_to_work(make_post, people.asker, first, repeat=RepeatInput(days=[0], until=first - timedelta(days=1)))
    assert err.value.field == "repeat_until"
    with pytest.raises(FieldError) as err:
        make_post(people.asker, title="Groceries", category="food", flexible=True, repeat=RepeatInput(days=[5], count=4))
    assert err.value.field == "repeat_days"


def test_one_driver_free_every_weekday_morning_gets_one_standing_match(people, make_post):
    offer = driver(make_post, people.dana, range(5))
    need = ride_to_work(make_post, people.asker, next_monday())
    [m] = active(need)
    assert (m.offer_id, m.standing, m.status) == (offer.id, True, "proposed")
    assert {r.match_id for r in dates_of(need)} == {m.id}
    matches.approve(people.coord, m.id, link)
    db.session.refresh(offer)
    db.session.refresh(need)
    assert offer.units_committed == 1 and need.units_committed == 0  # dates, not units, say what is covered


def test_drivers_each_free_on_some_days_share_the_dates_and_keep_their_own_days(people, make_post):
    mwf = driver(make_post, people.dana, [0, 2, 4])
    tt = driver(make_post, people.sam, [1, 3])
    need = ride_to_work(make_post, people.asker, next_monday())
    found = active(need)
    assert len(found) == 2 and not any(m.standing for m in found)
    by_offer = {m.offer_id: m for m in found}
    for row in dates_of(need):
        weekday = row.ends_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(CHICAGO).weekday()
        assert row.match_id == by_offer[mwf.id if weekday in (0, 2, 4) else tt.id].id


def _standing(people, make_post, **fields):
    driver(make_post, people.dana, range(5))
    need = ride_to_work(make_post, people.asker, next_monday(), **fields)
    [m] = active(need)
    matches.approve(people.coord, m.id, link)
    matches.answer(people.asker, m.id, True)
    matches.answer(people.dana, m.id, True)
    return need, db.session.get(Match, m.id)


def test_skipping_one_date_leaves_every_other_date_with_its_driver(people, make_post):
    need, m = _standing(people, make_post)
    rows = dates_of(need)
    before = db.session.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id.desc()))
    occurrences.skip(people.asker, rows[3].id)
    statuses = [r.status for r in dates_of(need)]
    assert statuses[3] == "skipped" and statuses.count("matched") == 19
    assert db.session.get(Match, m.id).status == "accepted"
    [mail] = db.session.scalars(select(OutboxEmail).where(OutboxEmail.id > before)).all()
    assert mail.to_addr == people.dana.email and "Riley" not in mail.body_text.split("\n", 1)[1]
    with pytest.raises(Conflict):
        occurrences.skip(people.asker, rows[3].id)  # already skipped


def test_only_the_person_asking_and_coordinators_skip_and_strangers_do_nothing(people, make_post, make_user):
    need, m = _standing(people, make_post)
    rows = dates_of(need)
    with pytest.raises(NotAllowed):
        occurrences.skip(make_user(), rows[0].id)
    with pytest.raises(NotAllowed):
        occurrences.skip(people.dana, rows[0].id)  # the driver says "stop helping" instead
    occurrences.skip(people.coord, rows[0].id)
    assert dates_of(need)[0].status == "skipped"


def _into_the_past(rows):
    for r in rows:
        db.session.execute(update(NeedOccurrence).where(NeedOccurrence.id == r.id)
                           .values(starts_at=utcnow() - timedelta(hours=2), ends_at=utcnow() - timedelta(hours=1)))
    db.session.commit()


def test_each_date_is_confirmed_and_marked_done_on_its_own_and_the_last_one_completes(people, make_post):
    need, m = _standing(people, make_post, repeat=RepeatInput(days=[0, 1], count=2))
    first, second = dates_of(need)
    occurrences.confirm(people.dana, second.id)
    with pytest.raises(Conflict):
        occurrences.record(people.dana, first.id, True)  # still to come
    _into_the_past([first])
    occurrences.record(people.dana, first.id, True)
    assert db.session.get(Match, m.id).status == "accepted"
    _into_the_past([second])
    occurrences.record(people.asker, second.id, False)
    assert [r.status for r in dates_of(need)] == ["done", "missed"]
    assert db.session.get(Match, m.id).status == "completed"
    assert db.session.get(Post, need.id).status == "fulfilled"


def test_a_driver_who_stops_frees_the_rest_which_go_to_another_driver(people, make_post):
    need, m = _standing(people, make_post)
    rows = dates_of(need)
    _into_the_past(rows[:2])
    occurrences.record(people.dana, rows[0].id, True)
    occurrences.record(people.dana, rows[1].id, True)
    sam = driver(make_post, people.sam, range(5))
    occurrences.stop_helping(people.dana, m.id)
    assert db.session.get(Match, m.id).status == "completed"
    after = dates_of(need)
    assert [r.status for r in after[:2]] == ["done", "done"] and {r.match_id for r in after[:2]} == {m.id}
    [new] = active(need)
    assert new.offer_id == sam.id and new.standing
    assert {r.match_id for r in after[2:]} == {new.id}
    offer = db.session.get(Post, m.offer_id)
    assert offer.units_committed == 0


def test_the_stopping_driver_is_not_proposed_again_for_the_same_need(people, make_post):
    need, m = _standing(people, make_post)
    occurrences.stop_helping(people.dana, m.id)
    assert db.session.get(Match, m.id).status == "cancelled"
    assert active(need) == [] and {r.status for r in dates_of(need)} == {"open"}
    with pytest.raises(NotAllowed):
        occurrences.stop_helping(people.asker, m.id)


def test_editing_the_need_keeps_answered_dates_and_drops_the_ones_no_longer_asked(people, make_post):
    need, m = _standing(people, make_post)
    rows = dates_of(need)
    occurrences.skip(people.asker, rows[0].id)
    data = PostInput(kind="need", category="rides", title="Ride to work", zip_code="54016", flexible=False,
                     appointment_at=datetime.combine(next_monday(), time(7, 30)), duration_min=30,
                     destination_kind="work", repeat=RepeatInput(days=[0, 1, 2, 3, 4], count=10))
    update_post(people.asker, db.session.get(Post, need.id), data)
    after = dates_of(need)
    assert len(after) == 10 and after[0].status == "skipped"
    assert [r.id for r in after] == [r.id for r in rows[:10]]  # the same rows, not new ones


def test_a_ride_with_its_way_back_has_two_legs_and_the_same_driver_takes_both_when_free(people, make_post):
    offer = driver(make_post, people.dana, range(5), start="06:00", end="18:00")
    need = ride_to_work(make_post, people.asker, next_monday(), repeat=None, return_trip=True, return_time=time(16, 0))
    rows = dates_of(need)
    assert [r.leg for r in rows] == ["out", "return"]
    [m] = active(need)
    assert m.offer_id == offer.id and m.standing and {r.match_id for r in rows} == {m.id}


def test_the_way_back_goes_to_another_driver_when_the_first_cannot_wait(people, make_post):
    morning = driver(make_post, people.dana, range(5), start="06:00", end="09:00")
    evening = driver(make_post, people.sam, range(5), start="15:00", end="19:00")
    need = ride_to_work(make_post, people.asker, next_monday(), repeat=None, return_trip=True, return_time=time(16, 0))
    out, back = dates_of(need)
    by_id = {m.id: m.offer_id for m in active(need)}
    assert by_id[out.match_id] == morning.id and by_id[back.match_id] == evening.id


def test_rejecting_a_proposal_sends_its_dates_back_to_looking(people, make_post):
    driver(make_post, people.dana, range(5))
    need = ride_to_work(make_post, people.asker, next_monday())
    [m] = active(need)
    matches.reject(people.coord, m.id, "Not this driver")
    assert {(r.status, r.match_id) for r in dates_of(need)} == {("open", None)}


def test_each_date_is_reminded_the_day_before_once_to_both_people(people, make_post):
    need, m = _standing(people, make_post)
    first = dates_of(need)[0]
    before = db.session.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id.desc()))
    at = first.starts_at - timedelta(hours=30)  # the Monday's ride is within 36 hours; Tuesday's is not yet
    assert occurrences.send_reminders(link, now=at) == 1
    assert occurrences.send_reminders(link, now=at) == 0
    mails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.id > before)).all()
    assert sorted(x.to_addr for x in mails) == sorted([people.asker.email, people.dana.email])
    assert all(x.subject == "Reminder: your help is coming up" and "Monday" in x.body_text for x in mails)
    occurrences.skip(people.asker, dates_of(need)[1].id)
    assert occurrences.send_reminders(link, now=at + timedelta(days=1)) == 0  # the skipped Tuesday is not reminded


def test_the_calendar_lists_each_date_to_both_people_with_a_neutral_title_and_no_name(people, make_post):
    import icalendar

    from app.services import calendar

    need, m = _standing(people, make_post, repeat=RepeatInput(days=[0, 1, 2], count=3))
    occurrences.skip(people.asker, dates_of(need)[1].id)
    path = lambda endpoint, **values: f"/matches/{values['match_id']}"  # noqa: E731
    for person in (people.asker, people.dana):
        items = [i for i in calendar.items_for(person, path) if i.uid.startswith("occurrence-")]
        assert [i.start for i in items] == [r.starts_at for r in dates_of(need) if r.status == "matched"]
    assert not [i for i in calendar.items_for(people.asker, path) if i.uid.startswith("match-")]  # listed date by date
    body = calendar.to_ics(calendar.items_for(people.asker, path), "https://aid.example.org").decode()
    events = list(icalendar.Calendar.from_ical(body).walk("VEVENT"))
    assert {str(e["summary"]) for e in events} == {"Ride"} and len(events) == 2
    assert "Riley" not in body and "Dana" not in body and "work" not in body.lower().replace("network", "")


def test_an_evening_way_back_counts_on_its_own_day_not_the_next_utc_day(people, make_post):
    # Date by date, a driver's capacity is shared by the legs of one local day (docs/matching-format.md).
    # 19:00 in Chicago is 01:00 UTC the next day: counted in UTC, Monday's way back would fall on
    # Tuesday and a one-seat driver free Monday and Tuesday would get three legs instead of two.
    offer = driver(make_post, people.dana, [0, 1], start="06:00", end="21:00")
    need = ride_to_work(make_post, people.asker, next_monday(), return_trip=True, return_time=time(19, 0),
                        repeat=RepeatInput(days=[0, 1, 2], count=3))
    assert db.session.get(Post, offer.id).quantity == 1
    rows = dates_of(need)
    assert [r.leg for r in rows] == ["out", "return"] * 3
    taken = [r for r in rows if r.match_id is not None]
    assert len(taken) == 2 and len({r.key.split("/")[0] for r in taken}) == 2  # one leg on each of her days
