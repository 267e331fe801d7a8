"""Scheduling group sessions: rules over local wall-clock times (across DST), the horizon the hourly
job extends, one session changed or cancelled without touching the others, and bad input."""
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import GroupSession, SessionSeat
from app.services import FieldError, NotAllowed, groups_join, groups_schedule
from app.services.groups_schedule import SeriesInput, SessionChange, occurrences
from app.timeutil import utc_to_local, utcnow
from tests.services.groups_helpers import PLACE, emails, group_offer, link, schedule, sessions_of, whole


def test_a_weekly_group_at_seven_stays_at_seven_local_across_the_november_change(app, make_user, make_post):
    host = make_user()
    offer = group_offer(make_post, host)
    # Thursdays 19:00 in Chicago from Oct 22, 2026; clocks go back on Sunday, Nov 1.
    series = schedule(host, offer, first_day=date(2026, 10, 22), repeat="weekly", days=[3], ends="count", count=3,
                      now=datetime(2026, 10, 1))
    starts = [s.starts_at for s in sessions_of(series)]
    assert starts == [datetime(2026, 10, 23, 0, 0), datetime(2026, 10, 30, 0, 0), datetime(2026, 11, 6, 1, 0)]
    assert {utc_to_local(s).strftime("%a %H:%M") for s in starts} == {"Thu 19:00"}
    assert all(s.ends_at - s.starts_at == timedelta(minutes=90) for s in sessions_of(series))


def test_and_across_the_march_change(app, make_user, make_post):
    host = make_user()
    offer = group_offer(make_post, host)
    # Tuesdays 19:00 from Mar 9, 2027; clocks go forward on Sunday, Mar 14.
    series = schedule(host, offer, first_day=date(2027, 3, 9), repeat="weekly", days=[1], ends="count", count=2,
                      now=datetime(2027, 2, 20))
    assert [s.starts_at for s in sessions_of(series)] == [datetime(2027, 3, 10, 1, 0), datetime(2027, 3, 17, 0, 0)]


def test_rules_offered_in_the_form():
    first = datetime(2026, 12, 1, 18, 30)  # a Tuesday

    def rule(**fields):
        data = SeriesInput(first_day=first.date(), start=first.time(), end=time(20), **fields)
        return occurrences(groups_schedule.build_rule(data, first), first)

    assert rule(repeat="once") == [first]
    assert [d.day for d in rule(repeat="weekly", days=[1, 3], ends="count", count=4)] == [1, 3, 8, 10]
    assert [d.day for d in rule(repeat="biweekly", days=[1], ends="until", until=date(2026, 12, 31))] == [1, 15, 29]
    # The 2nd Tuesday, and the last Thursday, of each month.
    assert [d.date() for d in rule(repeat="monthly", nth=2, weekday=1, ends="count", count=3)] == [
        date(2026, 12, 8), date(2027, 1, 12), date(2027, 2, 9)]
    assert [d.date() for d in rule(repeat="monthly", nth=-1, weekday=3, ends="count", count=2)] == [
        date(2026, 12, 31), date(2027, 1, 28)]
    # No day ticked: the weekday of the first date.
    assert [d.weekday() for d in rule(repeat="weekly", ends="count", count=3)] == [1, 1, 1]


def test_sessions_exist_twelve_weeks_ahead_and_the_job_adds_more_with_seats_for_series_members(app, make_user, make_post):
    host, member = make_user(), make_user(name="Mara Member")
    offer = group_offer(make_post, host)
    now = utcnow()
    series = schedule(host, offer, repeat="weekly", ends="count", count=20, now=now)
    first = sessions_of(series)
    assert 11 <= len(first) <= 13
    assert all(s.starts_at <= now + timedelta(days=groups_schedule.HORIZON_DAYS) for s in first)
    groups_join.join_series(member, series.id, link_for=link, now=now)
    assert groups_schedule.extend_all(now=now) == 0  # nothing new within the same horizon
    later = now + timedelta(weeks=4)
    added = groups_schedule.extend_all(now=later)
    sessions = sessions_of(series)
    horizon = timedelta(days=groups_schedule.HORIZON_DAYS)
    # Four weeks more of horizon: four sessions, or five when a change of clocks (March) moves the
    # sessions' UTC time across the horizon's own time of day.
    assert added == len([s for s in sessions if now + horizon < s.starts_at <= later + horizon]) in (4, 5)
    assert len(sessions) == len(first) + added
    assert all(s.starts_at <= later + horizon for s in sessions)
    newest = sessions[-1]
    seat = db.session.scalar(select(SessionSeat).where(SessionSeat.session_id == newest.id,
                                                       SessionSeat.user_id == member.id))
    assert seat.status == "joined" and seat.from_series and newest.taken == 1
    # The rule ends after 20 sessions: once they all exist, nothing more comes.
    assert groups_schedule.extend_all(now=now + timedelta(weeks=10)) == 20 - len(sessions)
    assert len(sessions_of(series)) == 20
    assert groups_schedule.extend_all(now=now + timedelta(weeks=30)) == 0


def test_cancelling_one_session_leaves_the_others_and_it_is_never_scheduled_again(app, make_user, make_post):
    host, ann, bo = make_user(), make_user(name="Ann Attendee"), make_user(name="Bo Other")
    offer = group_offer(make_post, host, title="Resume workshop", category="skills")
    series = schedule(host, offer, repeat="weekly", ends="count", count=4)
    one, two = sessions_of(series)[:2]
    groups_join.join_session(ann, one.id, link_for=link)
    groups_join.join_session(bo, two.id, link_for=link)
    groups_schedule.cancel_session(host, one.id, link)
    db.session.expire_all()
    statuses = [s.status for s in sessions_of(series)]
    assert statuses == ["cancelled", "scheduled", "scheduled", "scheduled"]
    assert groups_schedule.extend_all() == 0 and len(sessions_of(series)) == 4
    (mail,) = emails(kind="group_session_cancelled")
    assert mail.to_addr == ann.email and "Ann" in mail.body_text and "Resume workshop" in mail.body_text
    assert "Bo" not in whole(mail) and "The other sessions stay as they are" in mail.body_text
    with pytest.raises(NotAllowed):
        groups_join.join_session(bo, one.id, link_for=link)


def test_changing_one_session_moves_it_and_emails_everyone_in_it(app, make_user, make_post):
    host, ann, wes = make_user(name="Hana Host"), make_user(name="Ann Attendee"), make_user(name="Wes Waiting")
    offer = group_offer(make_post, host)
    series = schedule(host, offer, repeat="weekly", ends="count", count=3, places=1)
    one, two, _three = sessions_of(series)
    groups_join.join_session(ann, one.id, link_for=link)
    groups_join.join_session(wes, one.id, link_for=link)
    original = one.original_start
    new_day = utc_to_local(one.starts_at).date() + timedelta(days=1)
    groups_schedule.change_session(host, one.id, SessionChange(new_day, time(18, 0), time(19, 0), 1, "Library, room B"),
                                   link)
    db.session.expire_all()
    moved = db.session.get(GroupSession, one.id)
    assert utc_to_local(moved.starts_at).strftime("%H:%M") == "18:00" and moved.original_start == original
    assert moved.moved_at is not None and db.session.get(GroupSession, two.id).starts_at == two.starts_at
    assert groups_schedule.extend_all() == 0  # the moved occurrence is not scheduled again
    by_to = {m.to_addr: m for m in emails(kind="group_session_moved")}
    assert set(by_to) == {ann.email, wes.email}
    assert "Library, room B" in by_to[ann.email].body_text  # she holds a place: the exact place
    assert "Library, room B" not in whole(by_to[wes.email])  # he is waiting: the town only
    assert "Ann" not in whole(by_to[wes.email]) and "Wes" not in whole(by_to[ann.email])


def test_more_places_go_to_the_people_waiting_and_fewer_than_taken_is_refused(app, make_user, make_post):
    host = make_user()
    people = [make_user(name=f"Pat{i} P") for i in range(3)]
    offer = group_offer(make_post, host)
    (session,) = sessions_of(schedule(host, offer, places=1))
    for p in people:
        groups_join.join_session(p, session.id, link_for=link)
    local = utc_to_local(session.starts_at)
    with pytest.raises(FieldError) as err:
        groups_schedule.change_session(host, session.id, SessionChange(local.date(), local.time(), time(21), 0, PLACE), link)
    assert err.value.field == "places"
    groups_schedule.change_session(host, session.id, SessionChange(local.date(), local.time(), time(20, 30), 2, PLACE), link)
    db.session.expire_all()
    assert db.session.get(GroupSession, session.id).taken == 2
    assert [m.to_addr for m in emails(kind="group_place_opened")] == [people[1].email]
    assert emails(kind="group_session_moved") == []  # same time, same place: nothing to tell
    with pytest.raises(FieldError) as err:
        groups_schedule.change_session(host, session.id, SessionChange(local.date(), local.time(), time(20, 30), 1, PLACE), link)
    assert err.value.field == "places" and "2 people" in err.value.message


def test_cancelling_the_rest_of_a_series_emails_each_person_once_and_schedules_no_more(app, make_user, make_post):
    host, ann = make_user(), make_user(name="Ann Attendee")
    offer = group_offer(make_post, host)
    series = schedule(host, offer, repeat="weekly", ends="count", count=30)
    groups_join.join_series(ann, series.id, link_for=link)
    assert groups_schedule.cancel_series(host, series.id, link) == len(sessions_of(series))
    db.session.expire_all()
    assert {s.status for s in sessions_of(series)} == {"cancelled"}
    assert [m.to_addr for m in emails(kind="group_series_cancelled")] == [ann.email]
    assert groups_schedule.extend_all(now=utcnow() + timedelta(weeks=8)) == 0


def test_only_the_offer_owner_or_a_coordinator_schedules_and_the_host_is_the_owner(app, make_user, make_post):
    owner, other, coordinator = make_user(), make_user(), make_user("coordinator")
    offer = group_offer(make_post, owner)
    with pytest.raises(NotAllowed):
        schedule(other, offer)
    series = schedule(coordinator, offer)
    assert series.host_id == owner.id and series.created_by_id == coordinator.id
    ride = make_post(owner, kind="offer", category="rides", title="Rides")
    with pytest.raises(NotAllowed):
        schedule(owner, ride)


@pytest.mark.parametrize("fields, field", [
    (dict(start=time(19), end=time(18)), "end"),
    (dict(start=time(19), end=time(19)), "end"),
    (dict(places=0), "places"),
    (dict(places=None), "places"),
    (dict(first_day=date(2020, 1, 7)), "first_day"),
    (dict(repeat="weekly", ends="count", count=0), "count"),
    (dict(repeat="weekly", ends="count", count=105), "count"),
    (dict(repeat="weekly", ends="count", count=None), "count"),
    (dict(repeat="weekly", ends="until", until=None), "until"),
    (dict(repeat="weekly", ends="until", until=date(2020, 1, 1)), "until"),
    (dict(repeat="weekly", days=[0, 1, 2, 3, 4, 5, 6], ends="until", until=date(2028, 1, 1)), "until"),
    (dict(repeat="monthly", nth=5, weekday=1, ends="count", count=3), "nth"),
    (dict(repeat="fortnightly"), "repeat"),
])
def test_bad_input_is_a_sentence_beside_its_field(app, make_user, make_post, fields, field):
    host = make_user()
    offer = group_offer(make_post, host)
    with pytest.raises(FieldError) as err:
        schedule(host, offer, **fields)
    assert err.value.field == field and err.value.message.endswith(".")
    assert db.session.scalar(select(db.func.count()).select_from(GroupSession)) == 0


def test_the_migration_creates_exactly_the_group_tables_of_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    ours = {"session_series", "group_sessions", "session_seats", "series_members", "session_feedback", "calendar_feeds"}

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert [d for d in diff if any(name in repr(d) for name in ours)] == []


def test_the_demo_has_a_weekly_peer_group_and_a_monthly_workshop_with_members(runner, app):
    from app.models import SeriesMember, SessionSeries
    from app.services import accounts

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    series = {s.offer.category: s for s in db.session.scalars(select(SessionSeries))}
    assert set(series) == {"peer_support", "skills"} and series["peer_support"].places == 8
    assert "FREQ=WEEKLY" in series["peer_support"].rrule and "FREQ=MONTHLY" in series["skills"].rrule
    for one in series.values():
        members = db.session.scalars(select(SeriesMember).where(SeriesMember.series_id == one.id)).all()
        assert len(members) >= 3 and {m.status for m in members} == {"member"}
        assert all(s.taken >= 3 for s in sessions_of(one))
    neighbor = accounts.find_by_email("neighbor@demo.mutualaid.example")
    assert db.session.scalar(select(SeriesMember).where(SeriesMember.user_id == neighbor.id)) is not None
