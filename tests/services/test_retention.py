"""Retention: exact places of closed posts, old emails, messages and case notes go after their time
(configurable), open posts keep what matching needs, and counts stay for the reports."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app import models
from app.extensions import db
from app.jobs import registry
from app.models import CaseNote, GroupSession, Match, OutboxEmail, Post, PurgedCount, SessionSeries
from app.services import cases, disclosure, matches, retention
from app.services.posts import withdraw_post
from app.timeutil import utcnow
from tests.services.groups_helpers import group_offer, schedule, sessions_of


def link(m):
    return f"http://localhost/matches/{m.id}"


def _age(model, row_id: int, **columns) -> None:
    db.session.execute(update(model).where(model.id == row_id).values(**columns))
    db.session.commit()


def _post(post_id: int) -> Post:
    db.session.expire_all()
    return db.session.get(Post, post_id)


@pytest.fixture
def people(make_user):
    class People:
        coord = make_user("coordinator", name="Cora Coord")
        asker = make_user("resident", name="Rae Resident")
        helper = make_user(name="Hal Helper")
    return People


def test_a_closed_posts_exact_place_goes_after_the_set_time_and_an_open_post_keeps_it(people, make_post):
    old = withdraw_post(people.asker, make_post(people.asker, street_address="1 Oak St", pickup_area="Side gate"))
    recent = withdraw_post(people.asker, make_post(people.asker, street_address="2 Oak St"))
    open_one = make_post(people.asker, street_address="3 Oak St")
    _age(Post, old.id, closed_at=utcnow() - timedelta(days=91))
    _age(Post, recent.id, closed_at=utcnow() - timedelta(days=89))
    exact = (_post(open_one.id).lat, _post(open_one.id).lon)
    _age(Post, open_one.id, created_at=utcnow() - timedelta(days=400))
    counts = retention.run()
    assert counts["places"] == 1
    gone = _post(old.id)
    assert (gone.street_address, gone.pickup_area, gone.lat, gone.lon) == (None, None, gone.cell_lat, gone.cell_lon)
    assert (gone.title, gone.town, gone.status) == ("Ride to the clinic", "Hudson", "withdrawn")  # what reports count
    assert _post(recent.id).street_address == "2 Oak St"
    kept = _post(open_one.id)
    assert (kept.street_address, kept.lat, kept.lon) == ("3 Oak St", *exact)  # matching uses it
    assert retention.run()["places"] == 0  # nothing twice


def test_the_time_is_a_setting(app, people, make_post):
    post = withdraw_post(people.asker, make_post(people.asker, street_address="1 Oak St"))
    _age(Post, post.id, closed_at=utcnow() - timedelta(days=10))
    assert retention.run()["places"] == 0
    app.config["RETAIN_ADDRESS_DAYS"] = 7
    assert retention.run()["places"] == 1 and _post(post.id).street_address is None


def test_a_match_closed_long_ago_shows_no_contact_card(people, make_post):
    offer = make_post(people.helper, kind="offer", title="Rides")
    need = make_post(people.asker, title="Ride")
    match = matches.manual_match(people.coord, need.id, offer.id, None, link)
    matches.answer(people.asker, match.id, True)
    matches.answer(people.helper, match.id, True)
    from app.services import followup

    followup.record_outcome(people.asker, match.id, True)
    match = db.session.get(Match, match.id)
    assert disclosure.contact_cards(people.helper, match)  # done recently: still there
    _age(Match, match.id, closed_at=utcnow() - timedelta(days=91))
    match = db.session.get(Match, match.id)
    assert disclosure.contact_cards(people.helper, match) == {}
    assert disclosure.contact_cards(people.coord, match) == {}


def test_old_emails_go_and_are_counted_by_kind_and_month(app):
    now = utcnow()
    written = datetime(now.year - 1, 3, 15, 12, 0)
    for i, (status, when) in enumerate((("sent", written), ("failed", written), ("pending", written),
                                        ("sent", now - timedelta(days=10)))):
        db.session.add(OutboxEmail(to_addr=f"p{i}@example.org", subject="Hi", body_text="Hello Kim", kind="notice",
                                   status=status, created_at=when, next_attempt_at=when))
    db.session.commit()
    assert retention.run()["emails"] == 2
    assert sorted(db.session.scalars(select(OutboxEmail.status))) == ["pending", "sent"]  # a waiting one still goes out
    (row,) = db.session.scalars(select(PurgedCount)).all()
    assert (row.kind, row.month, row.count) == ("email:notice", written.strftime("%Y-%m"), 2)
    assert retention.purged_counts() == {"email:notice": 2}


def test_case_notes_go_after_two_years_and_are_counted(people):
    old = cases.add_note(people.coord, people.asker, "Moved in")
    cases.add_note(people.coord, people.asker, "Doing well")
    _age(CaseNote, old.id, created_at=utcnow() - timedelta(days=731))
    assert retention.run()["case_notes"] == 1
    assert list(db.session.scalars(select(CaseNote.body))) == ["Doing well"]
    assert retention.purged_counts() == {"case_notes": 1}
    retention.run()
    assert retention.purged_counts() == {"case_notes": 1}  # counted once


def test_messages_go_some_time_after_their_thread_closed_and_are_counted(people, make_post):
    from app.services import messages

    threads = []
    for title in ("Ride one", "Ride two"):
        offer = make_post(people.helper, kind="offer", title=title)
        need = make_post(people.asker, title=title)
        match = matches.manual_match(people.coord, need.id, offer.id, None, link)
        messages.send(people.helper, match.id, "See you at ten", link)
        messages.send(people.asker, match.id, "Thank you", link)
        threads.append(match)
    days = 180 + 14  # RETAIN_MESSAGES_DAYS after the thread closed, which is MESSAGE_THREAD_DAYS after the match
    _age(Match, threads[0].id, status="completed", closed_at=utcnow() - timedelta(days=days + 1))
    _age(Match, threads[1].id, status="completed", closed_at=utcnow() - timedelta(days=days - 1))
    assert retention.run()["messages"] == 2
    message = models.Message
    left = db.session.scalars(select(message.match_id)).all()
    assert left == [threads[1].id, threads[1].id]
    assert retention.purged_counts() == {"messages": 2}


def test_messages_of_a_match_with_an_open_report_stay_until_it_is_resolved(people, make_post):
    from app.services import messages

    offer = make_post(people.helper, kind="offer", title="Ride three")
    need = make_post(people.asker, title="Ride three")
    match = matches.manual_match(people.coord, need.id, offer.id, None, link)
    messages.send(people.helper, match.id, "See you at ten", link)
    concern = models.Concern(subject_type="match", match_id=match.id, category="other", body="He never came",
                             reporter_id=people.asker.id)
    db.session.add(concern)
    db.session.commit()
    _age(Match, match.id, status="completed", closed_at=utcnow() - timedelta(days=180 + 14 + 30))
    assert retention.run()["messages"] == 0
    assert db.session.scalars(select(models.Message.body)).all() == ["See you at ten"]
    concern.status, concern.resolved_at = "resolved", utcnow()
    db.session.commit()
    assert retention.run()["messages"] == 1
    assert db.session.scalars(select(models.Message.body)).all() == []


def test_the_exact_place_of_groups_long_over_goes(people, make_post):
    offer = group_offer(make_post, people.helper)
    series = schedule(people.helper, offer, place_details="Room 2, 415 Main St")
    (session,) = sessions_of(series)
    _age(GroupSession, session.id, place_details="Room 3 this time")
    withdraw_post(people.helper, db.session.get(Post, offer.id))
    later = utcnow() + timedelta(days=120)
    assert retention.run(now=later)["places"] >= 2
    db.session.expire_all()
    assert db.session.get(SessionSeries, series.id).place_details == ""
    assert db.session.get(GroupSession, session.id).place_details is None


def test_the_worker_runs_it_daily_and_so_does_the_command(app, runner, people, make_post):
    job = registry.BY_NAME["retention"]
    assert (job.every, job.at_hour, job.at_minute) == ("day", 4, 30)
    post = withdraw_post(people.asker, make_post(people.asker, street_address="1 Oak St"))
    _age(Post, post.id, closed_at=utcnow() - timedelta(days=100))
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "Exact places cleared 1" in result.output
    assert db.session.scalar(select(func.count()).select_from(Post).where(Post.street_address.is_not(None))) == 0
