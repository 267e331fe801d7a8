"""Races between real threads for places in a group session, on SQLite and (with TEST_DATABASE_URL,
as in CI's second run) on PostgreSQL: never more people holding a place than there are places,
and a place that frees up while others join always goes to someone waiting."""
import threading

from sqlalchemy import func, select

from app.extensions import db
from app.models import GroupSession, SessionSeat, User
from app.services import groups_join
from tests.services.groups_helpers import group_offer, link, schedule, sessions_of


def _race(app, jobs):
    """Run each (function, args) in its own thread with its own app context, all released at once."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(i):
        func, args = jobs[i]
        with app.app_context():
            actor = db.session.get(User, args[0])
            barrier.wait(timeout=60)
            try:
                results[i] = func(actor, *args[1:])
            except Exception as err:  # noqa: BLE001 - reported in the assertion below
                results[i] = err
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return results


def _counts(session_id):
    db.session.expire_all()
    rows = dict(db.session.execute(select(SessionSeat.status, func.count()).where(SessionSeat.session_id == session_id)
                                   .group_by(SessionSeat.status)).all())
    return rows, db.session.get(GroupSession, session_id).taken


def test_twenty_people_joining_the_last_place_at_once_one_gets_it_and_nineteen_wait(app, make_user, make_post):
    host = make_user()
    offer = group_offer(make_post, host)
    (session,) = sessions_of(schedule(host, offer, places=3))
    for early in (make_user(), make_user()):
        groups_join.join_session(early, session.id, link_for=link)
    people = [make_user().id for _ in range(20)]
    session_id = session.id
    db.session.remove()

    join = lambda actor, sid: groups_join.join_session(actor, sid, link_for=link).status  # noqa: E731
    results = _race(app, [(join, (pid, session_id)) for pid in people])
    assert sorted(map(str, results)) == ["joined"] + ["waiting"] * 19, results
    statuses, taken = _counts(session_id)
    assert statuses == {"joined": 3, "waiting": 19} and taken == 3
    # The waiting list has 19 distinct places in line.
    line = groups_join.waiting_line(session_id)
    assert [groups_join.waiting_position(s) for s in line] == list(range(1, 20))


def test_places_freed_while_others_join_go_to_people_waiting_never_beyond_the_places(app, make_user, make_post):
    host = make_user()
    offer = group_offer(make_post, host)
    (session,) = sessions_of(schedule(host, offer, places=5))
    holders = [make_user() for _ in range(5)]
    for person in holders:
        groups_join.join_session(person, session.id, link_for=link)
    waiting = [make_user() for _ in range(3)]
    for person in waiting:
        groups_join.join_session(person, session.id, link_for=link)
    waiting = [p.id for p in waiting]
    joiners = [make_user().id for _ in range(10)]
    session_id = session.id
    leavers = [p.id for p in holders[:4]]
    db.session.remove()

    leave = lambda actor, sid: groups_join.leave_session(actor, sid, link_for=link)  # noqa: E731
    join = lambda actor, sid: groups_join.join_session(actor, sid, link_for=link).status  # noqa: E731
    jobs = [(leave, (pid, session_id)) for pid in leavers] + [(join, (pid, session_id)) for pid in joiners]
    results = _race(app, jobs)
    assert not [r for r in results if isinstance(r, Exception)], results
    statuses, taken = _counts(session_id)
    assert statuses == {"joined": 5, "left": 4, "waiting": 9} and taken == 5
    # The three who were waiting before got three of the four places; nobody still waits while a place is free.
    db.session.expire_all()
    assert {db.session.scalar(select(SessionSeat.status).where(SessionSeat.session_id == session_id,
                                                               SessionSeat.user_id == p)) for p in waiting} == {"joined"}


def test_one_person_clicking_join_five_times_at_once_holds_one_place(app, make_user, make_post):
    host = make_user()
    offer = group_offer(make_post, host)
    (session,) = sessions_of(schedule(host, offer, places=5))
    person = make_user()
    groups_join.join_session(person, session.id, link_for=link)
    groups_join.leave_session(person, session.id, link_for=link)  # a seat that was left: taken up again below
    person_id, session_id = person.id, session.id
    db.session.remove()

    join = lambda actor, sid: groups_join.join_session(actor, sid, link_for=link).status  # noqa: E731
    results = _race(app, [(join, (person_id, session_id))] * 5)
    assert results.count("joined") == 1, results
    assert all("already in this session" in str(r) for r in results if r != "joined"), results
    statuses, taken = _counts(session_id)
    assert statuses == {"joined": 1} and taken == 1
