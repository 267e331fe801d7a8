"""Shared by the safety tests: a small town with coordinators, residents, members and a helper."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Match
from app.services import vetting
from app.timeutil import local_today


def link_for(match):
    return f"http://localhost/matches/{match.id}"


@pytest.fixture
def people(make_user):
    return dict(coord=make_user("coordinator", name="Casey Coordinator", email="casey@example.org"),
                coord2=make_user("coordinator", name="Cleo Coordinator", email="cleo@example.org"),
                admin=make_user("admin", name="Ada Admin", email="ada@example.org"),
                resident=make_user("resident", name="Riley Resident", email="riley@example.org"),
                resident2=make_user("resident", name="Rae Resident", email="rae@example.org"),
                member=make_user(name="Mona Member", email="mona@example.org"),
                helper=make_user(name="Hal Helper", email="hal@example.org"))


def proposed_pairs() -> set[tuple[int, int]]:
    """(need owner, offer owner) of every match waiting or approved."""
    db.session.expire_all()
    return {(m.need.owner_id, m.offer.owner_id) for m in db.session.scalars(
        select(Match).where(Match.status.in_(("proposed", "approved", "accepted"))))}


def licence(coord, person, days=200):
    return vetting.save_check(coord, person, "licence", local_today() - timedelta(days=10),
                              local_today() + timedelta(days=days))
