"""Help that repeats, the hard cases: editing a need under way, the engine's proposals after an
edit, swaps, hand-made matches and "I can help" on some of the dates, a need already met, a first
date the rule would skip, a way back before the appointment, and the hour clocks skip in spring."""
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Match, NeedOccurrence, OutboxEmail, Post
from app.services import Conflict, FieldError
from app.services import matches, occurrences
from app.services.posts import PostInput, update_post
from app.services.repeat import RepeatInput
from app.timeutil import local_today
from tests.services.test_repeating_needs import (_into_the_past, _standing, active, dates_of, driver, link,  # noqa: F401
                                                 next_monday, people, ride_to_work)


def edit(person, need, **fields):
    values = dict(kind="need", category="rides", title="Ride to work", zip_code="54016", flexible=False,
                  appointment_at=datetime.combine(next_monday(), time(7, 30)), duration_min=30,
                  destination_kind="work", repeat=RepeatInput(days=[0, 1, 2, 3, 4], count=20))
    values.update(fields)
    return update_post(person, db.session.get(Post, need.id), PostInput(**values))


def test_a_one_off_ride_under_way_cannot_become_a_series_and_nothing_changes(people, make_post):
    driver(make_post, people.dana, range(5))
    need = make_post(people.asker, title="Ride to work", flexible=False, duration_min=30, destination_kind="work",
                     appointment_at=datetime.combine(next_monday(), time(7, 30)))
    [m] = active(need)
    matches.approve(people.coord, m.id, link)
    with pytest.raises(FieldError) as err:
        edit(people.asker, need, return_trip=True, repeat=None)
    assert err.value.field == "return_trip"
    db.session.expire_all()
    need = db.session.get(Post, need.id)
    assert not need.repeats and not need.return_trip and need.units_committed == 1 and dates_of(need) == []


def test_the_time_of_dates_a_helper_agreed_to_cannot_change_but_fewer_dates_can(people, make_post):
    need, m = _standing(people, make_post)
    with pytest.raises(FieldError) as err:
        edit(people.asker, need, appointment_at=datetime.combine(next_monday(), time(8, 0)))
    assert err.value.field == "repeat_days"
    db.session.expire_all()
    assert {(r.status, r.match_id) for r in dates_of(need)} == {("matched", m.id)}
    edit(people.asker, need, repeat=RepeatInput(days=[0, 1, 2, 3, 4], count=10))
    assert [r.match_id for r in dates_of(need)] == [m.id] * 10
    assert db.session.get(Match, m.id).status == "accepted"


def test_after_an_edit_the_engine_plans_every_open_date_again_not_only_the_new_ones(people, make_post):
    driver(make_post, people.dana, range(5))
    need = ride_to_work(make_post, people.asker, next_monday(), repeat=RepeatInput(days=[0, 1, 2, 3, 4], count=5))
    [first] = active(need)
    edit(people.asker, need, repeat=RepeatInput(days=[0, 1, 2, 3, 4], count=6))
    [again] = active(need)
    assert again.id != first.id and again.standing
    assert [r.match_id for r in dates_of(need)] == [again.id] * 6


def test_a_need_no_longer_repeating_after_a_skip_is_matched_as_one_off_help(people, make_post):
    offer = driver(make_post, people.dana, range(5))
    need = ride_to_work(make_post, people.asker, next_monday(), repeat=RepeatInput(days=[0, 1], count=2))
    occurrences.skip(people.asker, dates_of(need)[1].id)
    edit(people.asker, need, repeat=None)
    need = db.session.get(Post, need.id)
    assert not need.repeats
    [m] = active(need)
    assert m.offer_id == offer.id and not m.standing


def test_a_swap_covers_the_dates_the_new_offer_serves_and_refuses_one_that_serves_none(people, make_post, make_user):
    driver(make_post, people.dana, range(5))
    weekend = driver(make_post, make_user(), [5, 6])
    tuesday = driver(make_post, people.sam, [1])
    need = ride_to_work(make_post, people.asker, next_monday())
    [m] = active(need)
    from app.models import Suggestion

    db.session.add(Suggestion(need_id=need.id, offer_id=weekend.id, rank=9, score=0.1, distance_km=1, overlap_min=1))
    db.session.commit()
    with pytest.raises(FieldError):
        matches.swap(people.coord, m.id, weekend.id)
    assert db.session.get(Match, m.id).status == "proposed"  # nothing changed
    new = matches.swap(people.coord, m.id, tuesday.id)
    covered = [r for r in dates_of(need) if r.match_id == new.id]
    assert len(covered) == 4 and not new.standing  # the four Tuesdays


def test_a_hand_made_match_must_cover_a_date_and_i_can_help_counts_every_date(people, make_post, make_user):
    weekend = driver(make_post, make_user(), [5, 6])
    need = ride_to_work(make_post, people.asker, next_monday())
    with pytest.raises(FieldError):
        matches.manual_match(people.coord, need.id, weekend.id, None, link)
    assert db.session.scalars(select(Match)).all() == []
    tue_thu = driver(make_post, people.sam, [1, 3])
    db.session.execute(Match.__table__.update().values(status="cancelled"))  # the engine's proposal, out of the way
    db.session.execute(NeedOccurrence.__table__.update().values(status="open", match_id=None))
    db.session.commit()
    m = matches.volunteer(people.sam, need.id, tue_thu.id, "I drive that way Tuesdays and Thursdays")
    assert len([r for r in dates_of(need) if r.match_id == m.id]) == 8


def test_a_proposal_left_on_a_need_already_met_cannot_be_approved(people, make_post, make_user):
    need, m = _standing(people, make_post, repeat=RepeatInput(days=[0, 1], count=2))
    rows = dates_of(need)
    _into_the_past(rows)
    occurrences.record(people.dana, rows[0].id, True)
    late = Match(need_id=need.id, offer_id=driver(make_post, make_user(), range(5)).id, units=1, status="proposed")
    db.session.add(late)
    db.session.commit()
    occurrences.record(people.dana, rows[1].id, True)
    assert db.session.get(Post, need.id).status == "fulfilled"
    assert db.session.get(Match, late.id).status == "cancelled"  # the need is met: proposals end
    with pytest.raises(Conflict):
        matches.approve(people.coord, late.id, link)


def test_the_first_date_must_be_one_of_the_days_and_the_way_back_after_the_appointment(people, make_post):
    with pytest.raises(FieldError) as err:
        ride_to_work(make_post, people.asker, next_monday(), repeat=RepeatInput(days=[2, 4], count=4))
    assert err.value.field == "repeat_days" and "Mon" in err.value.message
    with pytest.raises(FieldError) as err:
        ride_to_work(make_post, people.asker, next_monday(), return_trip=True, return_time=time(7, 0))
    assert err.value.field == "return_time"


def _next_spring_forward() -> date:
    """The second Sunday of March still to come (US daylight saving starts at 02:00)."""
    year = local_today().year + (local_today() >= date(local_today().year, 3, 1))
    march = date(year, 3, 1)
    return march + timedelta(days=(6 - march.weekday()) % 7 + 7)


def test_a_window_in_the_hour_clocks_skip_keeps_its_length(people, make_post):
    sunday = _next_spring_forward()
    if sunday > local_today() + timedelta(days=700):
        pytest.skip("beyond the two years a post may look ahead")
    need = make_post(people.asker, title="Sunday ride", flexible=False, duration_min=30, destination_kind="work",
                     appointment_at=datetime.combine(sunday - timedelta(days=7), time(3, 0)),
                     repeat=RepeatInput(days=[6], count=2))
    gap = dates_of(need)[1]  # 02:00 local on the change day does not exist
    assert gap.ends_at - gap.starts_at == timedelta(hours=1)


def test_a_repeating_need_stays_open_until_its_last_date(people, make_post):
    need = ride_to_work(make_post, people.asker, next_monday(), repeat=RepeatInput(days=[0], count=12))
    assert need.expires_at > dates_of(need)[-1].ends_at


def test_skipping_a_date_of_a_proposal_nobody_approved_tells_the_helper_nothing(people, make_post):
    driver(make_post, people.dana, range(5))
    need = ride_to_work(make_post, people.asker, next_monday())
    before = db.session.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id.desc())) or 0
    occurrences.skip(people.asker, dates_of(need)[0].id)
    assert db.session.scalars(select(OutboxEmail).where(OutboxEmail.id > before)).all() == []
