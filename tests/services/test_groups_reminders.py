"""Reminders: attendees once the day before, the host once from 18:00 local the evening before and
only when places are left; the hourly "sessions" job runs both and schedules ahead."""
from datetime import datetime, time, timedelta

from app.extensions import db
from app.jobs import registry
from app.models import GroupSession
from app.services import groups_join, groups_reminders, groups_schedule
from app.services.groups_schedule import SessionChange
from app.timeutil import local_to_utc, utc_to_local, utcnow
from tests.services.groups_helpers import PLACE, emails, group_offer, link, schedule, sessions_of, whole


def _group(make_user, make_post, places=2):
    host = make_user(name="Hana Host")
    offer = group_offer(make_post, host)
    (session,) = sessions_of(schedule(host, offer, places=places, days_ahead=5))
    return host, session


def test_attendees_holding_a_place_are_reminded_once_within_a_day(app, make_user, make_post):
    host, session = _group(make_user, make_post, places=1)
    ann, wes = make_user(name="Ann Attendee"), make_user(name="Wes Waiting")
    groups_join.join_session(ann, session.id, link_for=link)
    groups_join.join_session(wes, session.id, link_for=link)
    starts = session.starts_at
    assert groups_reminders.send_reminders(link, now=starts - timedelta(hours=25))["reminded"] == 0
    assert groups_reminders.send_reminders(link, now=starts - timedelta(hours=23))["reminded"] == 1
    assert groups_reminders.send_reminders(link, now=starts - timedelta(hours=22))["reminded"] == 0
    (mail,) = emails(kind="group_reminder")
    assert mail.to_addr == ann.email and PLACE in mail.body_text and "Wes" not in whole(mail)
    assert mail.subject == "Reminder: your session is coming up"


def test_the_host_hears_from_six_the_evening_before_only_if_places_are_left(app, make_user, make_post):
    host, session = _group(make_user, make_post, places=2)
    ann = make_user(name="Ann Attendee")
    groups_join.join_session(ann, session.id, link_for=link)
    evening = local_to_utc(utc_to_local(session.starts_at).date() - timedelta(days=1), time(18, 0))
    assert groups_reminders.send_reminders(link, now=evening - timedelta(minutes=1))["hosts_reminded"] == 0
    assert groups_reminders.send_reminders(link, now=evening)["hosts_reminded"] == 1
    assert groups_reminders.send_reminders(link, now=evening + timedelta(hours=1))["hosts_reminded"] == 0
    (mail,) = emails(kind="group_host_reminder")
    assert mail.to_addr == host.email and "1 free place" in mail.body_text and "1 person has a place" in mail.body_text
    assert "Ann" not in whole(mail)


def test_a_full_session_sends_the_host_nothing_until_a_place_frees_up(app, make_user, make_post):
    host, session = _group(make_user, make_post, places=1)
    ann = make_user()
    groups_join.join_session(ann, session.id, link_for=link)
    evening = local_to_utc(utc_to_local(session.starts_at).date() - timedelta(days=1), time(18, 0))
    assert groups_reminders.send_reminders(link, now=evening)["hosts_reminded"] == 0
    groups_join.leave_session(ann, session.id, link_for=link, now=evening + timedelta(minutes=30))
    assert groups_reminders.send_reminders(link, now=evening + timedelta(hours=1))["hosts_reminded"] == 1
    assert len(emails(to=host.email, kind="group_host_reminder")) == 1


def test_a_moved_session_is_reminded_again_for_its_new_time(app, make_user, make_post):
    host, session = _group(make_user, make_post)
    ann = make_user()
    groups_join.join_session(ann, session.id, link_for=link)
    groups_reminders.send_reminders(link, now=session.starts_at - timedelta(hours=2))
    local = utc_to_local(session.starts_at)
    groups_schedule.change_session(host, session.id, SessionChange(local.date() + timedelta(days=2), time(19), time(20), 2,
                                                                  PLACE), link)
    moved = db.session.get(GroupSession, session.id)
    assert moved.reminded_at is None
    assert groups_reminders.send_reminders(link, now=moved.starts_at - timedelta(hours=3))["reminded"] == 1
    assert len(emails(to=ann.email, kind="group_reminder")) == 2


def test_cancelled_sessions_get_no_reminders(app, make_user, make_post):
    host, session = _group(make_user, make_post)
    groups_join.join_session(make_user(), session.id, link_for=link)
    groups_schedule.cancel_session(host, session.id, link)
    sent = groups_reminders.send_reminders(link, now=session.starts_at - timedelta(hours=2))
    assert sent == {"reminded": 0, "hosts_reminded": 0}


def test_the_sessions_job_is_registered_once_and_runs_reminders_and_scheduling(app, make_user, make_post):
    job = registry.BY_NAME["sessions"]
    assert [j.name for j in registry.JOBS].count("sessions") == 1 and job.every == "hour"
    assert job.period_key(datetime(2026, 12, 1, 15, 9)) is None
    assert job.period_key(datetime(2026, 12, 1, 15, 10)) == "2026-12-01T15"
    host = make_user()
    offer = group_offer(make_post, host)
    # Two to three hours from now: within the day.
    soon = utc_to_local(utcnow() + timedelta(hours=3))
    series = schedule(host, offer, first_day=soon.date(), start=time(soon.hour, 0), end=time(soon.hour, 45), places=3)
    groups_join.join_session(make_user(name="Ann Attendee"), sessions_of(series)[0].id, link_for=link)
    summary = job.run()
    assert summary["reminded"] == 1 and summary["sessions_added"] == 0
    (mail,) = emails(kind="group_reminder")
    assert f"http://localhost/groups/sessions/{sessions_of(series)[0].id}" in mail.body_text
    assert mail.status == "sent"  # the job sends what it queued
