"""A group's sessions end with its offer: withdrawing (or expiry) cancels every session still to
come, and each person holding a place hears once."""
from app.extensions import db
from app.models import GroupSession
from app.services import groups_join
from app.services.posts import withdraw_post
from tests.services.groups_helpers import emails, group_offer, schedule, sessions_of


def test_withdrawing_a_group_offer_cancels_its_sessions_and_tells_each_attendee_once(make_user, make_post):
    host, member = make_user(name="Hosting Hal"), make_user(name="Mia Member")
    offer = group_offer(make_post, host)
    series = schedule(host, offer, repeat="weekly", days=[3], count=4)
    sessions = sessions_of(series)
    groups_join.join_series(member, series.id)
    withdraw_post(host, db.session.get(type(offer), offer.id))
    db.session.expire_all()
    assert {db.session.get(GroupSession, s.id).status for s in sessions} == {"cancelled"}
    assert len(emails(to=member.email, kind="group_series_cancelled")) == 1
