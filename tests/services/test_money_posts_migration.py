"""The field-test migration on a database as it was before it: money posts move into the fund,
members keep their access, residents are reached like anyone else, urgencies become dates."""
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.models import Match, OutboxEmail, Pledge, Post, User
from app.services.mail import send_pending
from app.timeutil import utcnow

BEFORE = "b99459e6a0c4"


def _user(conn, name, email, role="member", created_by=None, password="x"):
    return conn.execute(sa.text(
        "INSERT INTO users (name, email, role, session_token, reset_nonce, created_at, created_by_id, password_hash) "
        "VALUES (:n, :e, :r, 'tok', 'non', :c, :by, :pw) RETURNING id"),
        dict(n=name, e=email, r=role, c=utcnow() - timedelta(days=40), by=created_by,
             pw=password if email else None)).scalar()


def _post(conn, owner, kind, category, title, quantity=1, created_by=None, urgency=0, units=0, age_days=1):
    now = utcnow()
    return conn.execute(sa.text(
        "INSERT INTO posts (kind, owner_id, created_by_id, category, title, details, status, zip_code, town, state,"
        " lat, lon, cell_lat, cell_lon, quantity, units_committed, urgency, duration_min, flexible, return_trip,"
        " created_at, updated_at, expires_at, fund_purpose, radius_miles) VALUES (:k, :o, :by, :cat, :t, '', 'open',"
        " '54016', 'Hudson', 'WI', 44.97, -92.75, 44.97, -92.75, :q, :u, :urg, 60, :flex, :rt, :c, :c, :exp, :fp, :rad)"
        " RETURNING id"),
        dict(k=kind, o=owner, by=created_by or owner, cat=category, t=title, q=quantity, u=units, urg=urgency,
             flex=True, rt=False, c=now - timedelta(days=age_days), exp=now + timedelta(days=20),
             fp="rent" if kind == "need" and category == "emergency_funds" else None,
             rad=None if kind == "need" else 10.0)).scalar()


def test_the_migration_moves_money_into_the_fund_and_keeps_everyone_reachable(app, smtp):
    downgrade(revision=BEFORE)
    try:
        with db.engine.begin() as conn:
            coord = _user(conn, "Casey Lindgren", "casey@example.org", "coordinator")
            resident = _user(conn, "Jordan Reyes", None, "resident", created_by=coord)
            giver = _user(conn, "Gail Giver", "gail@example.org")
            lender = _user(conn, "Lee Lender", "lee@example.org")
            member = _user(conn, "Mo Member", "mo@example.org")
            asked = _post(conn, resident, "need", "emergency_funds", "Short on rent", 150, created_by=coord)
            pledge_me = _post(conn, giver, "offer", "emergency_funds", "Money for rent emergencies", 200)
            promised = _post(conn, lender, "offer", "emergency_funds", "Utility money", 100, units=100)
            conn.execute(sa.text("UPDATE posts SET units_committed = 100 WHERE id = :i"), {"i": asked})
            conn.execute(sa.text(
                "INSERT INTO matches (need_id, offer_id, units, status, source, score, reasons, created_at)"
                " VALUES (:n, :o, 100, 'approved', 'engine', 0.5, '[]', :c)"), dict(n=asked, o=promised, c=utcnow()))
            urgent = _post(conn, member, "need", "rides", "Ride today", urgency=3, age_days=15)
        upgrade()
    finally:
        upgrade()  # the rest of the suite runs at head whatever happened
    db.session.expire_all()
    for post_id in (asked, pledge_me, promised):
        post = db.session.get(Post, post_id)
        assert post.status == "withdrawn" and post.closed_at is not None, post_id
    assert db.session.get(Post, promised).units_committed == 0 and db.session.get(Post, asked).units_committed == 0
    assert {m.status for m in db.session.scalars(sa.select(Match))} == {"cancelled"}
    [pledge] = db.session.scalars(sa.select(Pledge)).all()
    assert (pledge.member_id, pledge.amount_cents, pledge.frequency) == (giver, 20000, "one_off")
    # Residents registered without email are reached through a contact person, like any member may
    # be: the coordinator acting for them when the card is shown.
    jordan = db.session.get(User, resident)
    assert jordan.contact_method == "person"
    from app.services.disclosure import reach_of
    assert reach_of(jordan) == ("Contact person", "Casey, casey@example.org")
    assert all(u.is_confirmed for u in db.session.scalars(sa.select(User)))
    # "Today", said 15 days ago, is the date it was said.
    ride = db.session.get(Post, urgent)
    zone = ZoneInfo(app.config["COMMUNITY_TZ"])
    assert ride.needed_by == ride.created_at.replace(tzinfo=timezone.utc).astimezone(zone).date()
    assert ride.is_stale and ride.urgency_now == 0
    # Each owner hears why, with the way to the fund; the resident's goes to the coordinator who posted it.
    assert {r.to_addr for r in db.session.scalars(sa.select(OutboxEmail))} == \
        {"casey@example.org", "gail@example.org", "lee@example.org"}
    send_pending()
    by = {m["rcpt"][0]: m["msg"].get_body(("plain",)).get_content() for m in smtp.messages}
    assert "/fund/requests/new" in by["casey@example.org"] and "posted for someone" in by["casey@example.org"]
    assert "one-off pledge of $200" in by["gail@example.org"]
    assert "not turned into a pledge" in by["lee@example.org"]
