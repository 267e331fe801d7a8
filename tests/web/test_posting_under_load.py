"""A post is never lost: it commits before the engine runs, the engine runs after the response,
and concurrent posters wait for SQLite's write lock instead of failing."""
import threading
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Match, Post
from app.services import matches
from app.services import proposals
from tests.conftest import csrf_token, login


def _need(client, title):
    day = (date.today() + timedelta(days=3)).isoformat()
    token = csrf_token(client, "/posts/new?kind=need")
    return client.post("/posts/new?kind=need", data={
        "csrf_token": token, "category": "food", "title": title, "zip_code": "54016", "quantity": "1",
        "urgency": "1", "duration_min": "60", "windows-0-day": day, "windows-0-start": "10:00",
        "windows-0-end": "12:00"})


def test_a_post_survives_the_engine_failing_and_the_next_tick_proposes_it(app, client, make_user, make_post,
                                                                          monkeypatch):
    make_post(make_user(), kind="offer", category="food", title="Soup")
    login(client, make_user(email="asker@example.org").email)

    def broken(*args, **kwargs):
        raise RuntimeError("engine down")

    monkeypatch.setattr(matches.engine, "candidates_for_need", broken)
    response = _need(client, "Groceries this week")
    assert response.status_code == 302  # the person's post is saved and they are told so
    need = db.session.scalar(select(Post).where(Post.kind == "need"))
    assert need is not None and need.proposed_at is None
    assert db.session.scalar(select(func.count()).select_from(Match)) == 0
    monkeypatch.undo()
    assert proposals.propose_missing() == 1  # what `flask match tick` runs
    db.session.expire_all()
    assert db.session.scalar(select(Match).where(Match.need_id == need.id)) is not None
    assert db.session.get(Post, need.id).proposed_at is not None


def test_posts_from_many_people_at_once_are_all_saved(app, make_user, make_post):
    make_post(make_user(), kind="offer", category="food", title="Soup", quantity=50)
    people = [make_user(email=f"p{i}@example.org").email for i in range(8)]
    barrier = threading.Barrier(len(people))
    statuses = []
    lock = threading.Lock()

    def poster(email):
        client = app.test_client()
        login(client, email)
        barrier.wait(timeout=60)
        for n in range(4):
            code = _need(client, f"Groceries {email} {n}").status_code
            with lock:
                statuses.append(code)

    threads = [threading.Thread(target=poster, args=(e,)) for e in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert statuses.count(302) == 32, statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Post).where(Post.kind == "need")) == 32
