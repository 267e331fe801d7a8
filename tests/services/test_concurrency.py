"""Races between real threads. On PostgreSQL (CI's second run) they test the conditional updates
under row locks, the production case; on SQLite the same code runs with the database's single
write lock, so the zero-setup default keeps the guarantees too."""
import threading

from sqlalchemy import select

from app.extensions import db
from app.models import Match, Post, User
from app.services import Conflict
from app.services import matches
from app.services import proposals


def _race(app, user_ids, match_ids):
    """Each thread approves one match as one coordinator, all released at the same instant."""
    barrier = threading.Barrier(len(user_ids))
    results = [None] * len(user_ids)

    def worker(i):
        with app.app_context():
            actor = db.session.get(User, user_ids[i])
            barrier.wait(timeout=60)
            try:
                matches.approve(actor, match_ids[i], lambda m: f"http://localhost/matches/{m.id}")
                results[i] = "ok"
            except Conflict as err:
                results[i] = err.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(user_ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_twenty_coordinators_approving_the_last_seat_at_once_exactly_one_wins(app, make_user, make_post):
    helper = make_user(name="Hana Helper")
    offer = make_post(helper, kind="offer", title="One seat to the clinic", quantity=1)
    needs = [make_post(make_user("resident"), title=f"Ride {i}") for i in range(20)]
    ids = []
    for need in needs:
        m = db.session.scalar(select(Match).where(Match.need_id == need.id))
        if m is None:
            m = proposals._proposal(need, offer, 1, None)
            db.session.commit()
        ids.append(m.id)
    coordinators = [make_user("coordinator").id for _ in range(20)]
    offer_id = offer.id
    db.session.remove()

    results = _race(app, coordinators, ids)
    assert results.count("ok") == 1, results
    assert all(r.startswith("No longer available") for r in results if r != "ok"), results
    db.session.expire_all()
    assert db.session.get(Post, offer_id).units_committed == 1
    assert db.session.scalar(select(db.func.count()).where(Match.status == "approved")) == 1


def test_ten_coordinators_approving_the_same_proposal_approve_it_once(app, make_user, make_post):
    offer = make_post(make_user(), kind="offer", title="Rides", quantity=5)
    need = make_post(make_user("resident"), title="Ride")
    match_id = db.session.scalar(select(Match.id).where(Match.need_id == need.id))
    coordinators = [make_user("coordinator").id for _ in range(10)]
    offer_id = offer.id
    db.session.remove()

    results = _race(app, coordinators, [match_id] * 10)
    assert results.count("ok") == 1, results
    assert all("already approved" in r or "changed this match" in r for r in results if r != "ok"), results
    db.session.expire_all()
    assert db.session.get(Post, offer_id).units_committed == 1
