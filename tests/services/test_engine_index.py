"""The engine's index of open posts (app/services/engine_index.py): after any change a post can go
through, what the engine is given equals a fresh conversion of the rows, and only what changed is
converted again; proposals after a post go to the worker's queue when there is one."""
import random
from datetime import timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Match, Post
from app.services import match_engine, matches, posts
from app.services.engine_index import index
from app.services.posts import PostInput
from app.timeutil import local_today, utcnow


def fresh(kind, category=None, near=None):
    """What the engine would get with nothing kept: the index emptied first."""
    index(kind).clear()
    return match_engine.open_for_engine(kind, category, near=near)


def _offer_input(post: Post, **changes) -> PostInput:
    fields = dict(kind="offer", category=post.category, title=post.title, details=post.details, zip_code=post.zip_code,
                  quantity=post.quantity, radius_miles=post.radius_miles,
                  weekly=[(s.day, s.start_min, s.end_min) for s in post.weekly_slots])
    fields.update(changes)
    return PostInput(**fields)


def test_every_kind_of_change_reaches_the_engine_and_only_changes_are_converted(app, make_user, make_post):
    rng = random.Random(3)
    helpers = [make_user() for _ in range(4)]
    asker = make_user("resident")
    coord = make_user("coordinator")
    offers = [make_post(rng.choice(helpers), kind="offer", category="food", title=f"Meals {i}", quantity=3,
                      weekly=[(i % 7, 600, 720)]) for i in range(12)]
    needs = [make_post(asker, category="food", title=f"Groceries {i}") for i in range(6)]
    db.session.commit()
    first = match_engine.open_for_engine("offer", "food")
    assert first == fresh("offer", "food") and len(first) == 12
    idx = index("offer")
    before = idx.converted
    assert match_engine.open_for_engine("offer", "food") == first
    assert idx.converted == before  # nothing changed, nothing converted
    stamps = dict(db.session.execute(select(Post.id, Post.updated_at).where(Post.kind == "offer")).all())

    # Edited through the form: only its weekly times change.
    edited = offers[0]
    posts.update_post(edited.owner, edited, _offer_input(edited, weekly=[(2, 900, 1020)]))
    # A match approved: units committed move on the offer.
    proposal = db.session.scalar(select(Match).where(Match.status == "proposed").order_by(Match.id))
    matches.approve(coord, proposal.id, lambda m: "http://x/")
    # Withdrawn, expired behind the ORM's back, and a new offer.
    posts.withdraw_post(offers[1].owner, offers[1])
    db.session.execute(update(Post).where(Post.id == offers[2].id).values(expires_at=utcnow() - timedelta(minutes=1)))
    make_post(helpers[0], kind="offer", category="food", title="Soup on Sundays", weekly=[(6, 660, 780)])
    db.session.commit()

    before = idx.converted
    cached = match_engine.open_for_engine("offer", "food")
    converted = idx.converted - before
    assert cached == fresh("offer", "food")
    by_id = {int(o.id): o for o in cached}
    assert [(s.day, s.start_min, s.end_min) for s in by_id[edited.id].weekly] == [(2, 900, 1020)]
    assert offers[1].id not in by_id and offers[2].id not in by_id and len(cached) == 11
    # Converted again: the open offers whose row changed (the edited one, the one whose units the
    # approval took, the new one), and no other.
    changed = {post_id for post_id, stamp in db.session.execute(select(Post.id, Post.updated_at).where(
        Post.kind == "offer", Post.status == "open", Post.id != offers[2].id)) if stamps.get(post_id) != stamp}
    assert {edited.id, proposal.offer_id} <= changed and converted == len(changed) < len(cached)
    near = (offers[3].lat, offers[3].lon, 5.0)
    assert match_engine.open_for_engine("offer", "food", near=near) == fresh("offer", "food", near=near)


def test_needs_are_converted_again_when_the_date_changes(app, make_user, make_post, monkeypatch):
    asker = make_user("resident")
    for i in range(4):
        make_post(asker, category="food", title=f"Groceries {i}", urgency=3)
    db.session.commit()
    today = match_engine.open_for_engine("need", "food")
    idx = index("need")
    before = idx.converted
    match_engine.open_for_engine("need", "food")
    assert idx.converted == before
    monkeypatch.setattr("app.services.engine_index.local_today", lambda: local_today() + timedelta(days=1))
    monkeypatch.setattr("app.services.match_engine.local_today", lambda: local_today() + timedelta(days=1))
    tomorrow = match_engine.open_for_engine("need", "food")
    assert idx.converted - before == 4
    assert [n.urgency for n in tomorrow] != [n.urgency for n in today]


def test_with_a_worker_the_proposals_are_queued_after_the_commit_and_made_there(app, make_user, make_post, tmp_path):
    from app.jobs.queue import queue

    app.config.update(MAIL_DELIVERY="worker", QUEUE_URL=f"sqlite:///{tmp_path}/queue.sqlite")
    app.extensions["job_queue"] = None
    try:
        helper, asker = make_user(), make_user("resident")
        offer = make_post(helper, kind="offer", category="food", title="Meals")
        huey = queue(app)
        assert huey.dequeue().args == (offer.id,)
        need = make_post(asker, category="food", title="Groceries")
        assert db.session.scalar(select(func.count()).select_from(Match)) == 0  # nothing proposed in the request
        task = huey.dequeue()
        assert task.name == "propose" and task.args == (need.id,)
        huey.execute(task)
        db.session.expire_all()
        made = db.session.scalars(select(Match).where(Match.need_id == need.id)).all()
        assert [(m.offer_id, m.status) for m in made] == [(offer.id, "proposed")]
        assert db.session.get(Post, need.id).proposed_at is not None
        assert huey.dequeue() is None
    finally:
        app.extensions["job_queue"] = None


def test_a_second_run_for_the_same_post_replaces_its_proposals_instead_of_adding(app, make_user, make_post):
    from app.services.proposals import propose_after_save

    helper, asker = make_user(), make_user("resident")
    make_post(helper, kind="offer", category="food", title="Meals")
    need = make_post(asker, category="food", title="Groceries")
    assert propose_after_save(need.id) and propose_after_save(need.id)
    waiting = db.session.scalar(select(func.count()).where(Match.need_id == need.id, Match.status == "proposed"))
    assert waiting == 1


def _two_runs_at_once(app, need_id, monkeypatch):
    """Two propose_after_save runs for one need in two threads: both compute (the engine only
    reads), meet at a barrier, then write."""
    import threading

    from app.services import proposals

    barrier = threading.Barrier(2)
    compute = proposals._candidates

    def computed_then_wait(post):
        found = compute(post)
        barrier.wait(timeout=60)
        return found

    monkeypatch.setattr(proposals, "_candidates", computed_then_wait)
    results = [None, None]

    def run(i):
        with app.app_context():
            try:
                results[i] = proposals.propose_after_save(need_id)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_runs_for_one_need_at_once_leave_one_set_of_proposals(app, make_user, make_post, monkeypatch):
    helper, asker = make_user(), make_user("resident")
    make_post(helper, kind="offer", category="food", title="Meals", quantity=3)
    need = make_post(asker, category="food", title="Groceries", quantity=2)
    need_id = need.id
    db.session.remove()
    assert _two_runs_at_once(app, need_id, monkeypatch) == [True, True]
    waiting = db.session.scalars(select(Match).where(Match.need_id == need_id, Match.status == "proposed")).all()
    assert len(waiting) == 1 and waiting[0].units == 2  # the second run replaced the first's, not added to it


def test_a_need_withdrawn_while_the_engine_ran_gets_no_proposals(app, make_user, make_post, monkeypatch):
    from app.services import proposals

    helper, asker = make_user(), make_user("resident")
    make_post(helper, kind="offer", category="food", title="Meals")
    need = make_post(asker, category="food", title="Groceries")
    need_id = need.id
    db.session.execute(update(Match).where(Match.need_id == need_id).values(status="cancelled"))
    db.session.commit()
    db.session.remove()
    compute = proposals._candidates

    def withdrawn_meanwhile(post):
        found = compute(post)
        with db.engine.begin() as conn:  # the owner, in another connection
            conn.execute(update(Post).where(Post.id == need_id).values(status="withdrawn"))
        return found

    monkeypatch.setattr(proposals, "_candidates", withdrawn_meanwhile)
    assert proposals.propose_after_save(need_id) is False
    assert db.session.scalar(select(func.count()).where(Match.need_id == need_id, Match.status == "proposed")) == 0


def test_the_task_is_queued_only_once_the_post_is_committed(app, make_user, monkeypatch, tmp_path):
    """The worker reads the post from another connection: it must already be there."""
    from sqlalchemy import text

    from app.jobs import queue as jobs_queue

    app.config.update(MAIL_DELIVERY="worker", QUEUE_URL=f"sqlite:///{tmp_path}/queue.sqlite")
    app.extensions["job_queue"] = None
    seen = []

    class Tasks(dict):
        def __getitem__(self, name):
            def task(post_id):
                with db.engine.connect() as other:
                    seen.append((name, other.execute(text("SELECT status FROM posts WHERE id = :id"),
                                                     {"id": post_id}).scalar()))
            return task

    class FakeQueue:
        tasks_by_name = Tasks()

    monkeypatch.setattr(jobs_queue, "queue", lambda app=None: FakeQueue())
    try:
        asker = make_user("resident")
        posts.create_post(asker, PostInput(kind="need", category="food", title="Groceries", zip_code="54016",
                                           quantity=1, flexible=True))
        assert seen == [("propose", "open")]
    finally:
        app.extensions["job_queue"] = None


def test_the_offers_within_reach_of_a_need_are_read_from_an_index_alone(app, make_user, make_post):
    """The engine's read for a new need (ids and change stamps of every offer within reach)
    comes from ix_posts_category_place without the table (at 100,000 posts: 9 ms instead of 23)."""
    from sqlalchemy import event

    for i in range(6):
        make_post(make_user(), kind="offer", category="food", title=f"Meals {i}")
    need = make_post(make_user(), category="food", title="Groceries")
    seen = []

    def hook(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT posts.id, posts.updated_at") and not seen:
            seen.append((statement, parameters))

    index("offer").clear()
    event.listen(db.engine, "before_cursor_execute", hook)
    try:
        match_engine.candidates_for_need(need)
    finally:
        event.remove(db.engine, "before_cursor_execute", hook)
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + seen[0][0], seen[0][1]))
            assert "Index Only Scan using ix_posts_category_place" in plan, plan
        else:
            plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + seen[0][0], seen[0][1]))
            assert "COVERING INDEX ix_posts_category_place" in plan, plan
