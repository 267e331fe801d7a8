"""Fixtures for the API tests: tokens, and a client that sends one."""
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.models import Match, Post
from app.services import api_tokens
from sqlalchemy import select


@pytest.fixture
def make_token(app):
    def factory(user, scope="write", name="test app") -> str:
        _row, raw = api_tokens.create(user, name, scope)
        return raw

    return factory


@pytest.fixture
def api(client):
    """api(token).get(url) / .post(url, json=...) / .patch(url, json=...): the test client with `Authorization: Bearer <token>`."""

    class Caller:
        def __init__(self, token):
            self.headers = {"Authorization": f"Bearer {token}"} if token else {}

        def get(self, url, **kw):
            return client.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

        def post(self, url, **kw):
            return client.post(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

        def patch(self, url, **kw):
            return client.patch(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    return Caller


ADDRESS = "742 Evergreen Terrace"
PICKUP = "Side door by the lilacs"


@pytest.fixture
def world(make_user, make_post):
    """A resident's ride with a street address and a helper's offer the engine proposed for it;
    a coordinator; an outsider member."""
    w = SimpleNamespace()
    w.coord = make_user("coordinator", name="Casey Coordinator", email="casey@example.org")
    w.resident = make_user("resident", name="Riley Quenby", email="riley.quenby@example.org")
    w.resident.phone = "651-555-0199"
    w.helper = make_user(name="Hana Holloway", email="hana.holloway@example.org")
    w.outsider = make_user(name="Otto Outsider", email="otto@example.org")
    db.session.commit()
    w.offer = make_post(w.helper, kind="offer", title="Rides around town", quantity=2)
    w.need = make_post(w.resident, title="Ride to the clinic on Friday", street_address=ADDRESS, pickup_area=PICKUP)
    w.match = db.session.scalar(select(Match).where(Match.need_id == w.need.id))
    assert w.match is not None and w.match.status == "proposed"
    return w


def post_of(post_id: int) -> Post:
    db.session.expire_all()
    return db.session.get(Post, post_id)
