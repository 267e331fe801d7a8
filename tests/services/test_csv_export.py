"""CSV exports: formula-safe cells, the date range, nothing the coordinators' pages don't show,
members for admins only."""
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Post, User
from app.services import FieldError, NotAllowed, csv_export, matches
from app.timeutil import local_today, utcnow

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _read(lines) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines), newline="")))


def _today_range():
    today = local_today()
    return today - timedelta(days=1), today


@pytest.fixture
def coord(make_user):
    return make_user("coordinator", name="Cora Coord", email="cora@example.org")


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_disarmed(coord, make_user, make_post):
    owner = make_user(name="Olive Owner")
    for title in ("=HYPERLINK(\"http://evil.example\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"):
        make_post(owner, kind="offer", category="food", title=title, details=f"{title} again")
    admin = make_user("admin")
    for i, name in enumerate(("\t=1+1", "\r=2+2", "=cmd Person")):
        db.session.add(User(name=name, email=f"formula{i}@example.org", role="member"))
    db.session.commit()
    posts = _read(csv_export.posts_csv(coord, *_today_range()))
    members = _read(csv_export.members_csv(admin))
    cells = [c for row in posts[1:] + members[1:] for c in row]
    assert {row[3] for row in posts[1:]} == {"'=HYPERLINK(\"http://evil.example\")", "'+1+cmd|' /C calc'!A0", "'-2+3",
                                            "'@SUM(A1:A9)"}
    assert {"'\t=1+1", "'\r=2+2", "'=cmd Person"} <= {row[1] for row in members[1:]}
    assert not [c for c in cells if c[:1] in DANGEROUS]


def test_posts_of_the_range_only_with_nothing_that_names_or_places_the_owner(coord, make_user, make_post):
    owner = make_user("resident", name="Rosa Resident", email="rosa@example.org")
    inside = make_post(owner, title="Ride to the clinic", street_address="12 Birch Lane", pickup_area="Back door",
                       actor=coord)
    old = make_post(owner, title="Old ride")
    db.session.execute(Post.__table__.update().where(Post.id == old.id).values(created_at=utcnow() - timedelta(days=40)))
    db.session.commit()
    rows = _read(csv_export.posts_csv(coord, *_today_range()))
    assert rows[0] == csv_export.POST_HEADER
    assert [r[0] for r in rows[1:]] == [str(inside.id)]
    record = dict(zip(rows[0], rows[1]))
    assert (record["kind"], record["category"], record["title"], record["town"], record["status"]) == (
        "need", "rides", "Ride to the clinic", inside.town, "open")
    text = "".join(csv_export.posts_csv(coord, *_today_range()))
    for secret in ("Rosa", "rosa@example.org", "12 Birch Lane", "Back door", "54016", "resident"):
        assert secret not in text, secret
    assert not [h for h in rows[0] if "owner" in h or "user" in h or "email" in h]  # no column names or points at the owner
    assert db.session.scalar(select(AuditEntry.subject_type).where(AuditEntry.action == "csv_export")) == "posts"


def test_matches_of_the_range(coord, make_user, make_post):
    need = make_post(make_user(), title="Ride to work")
    offer = make_post(make_user(), kind="offer", title="Rides on weekdays")
    match = matches.manual_match(coord, need.id, offer.id, None, lambda m: "http://localhost/x")
    rows = _read(csv_export.matches_csv(coord, *_today_range()))
    by_id = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    record = by_id[str(match.id)]  # (the engine proposed the pair too, once both were posted)
    assert (record["need_title"], record["offer_title"], record["category"], record["status"]) == (
        "Ride to work", "Rides on weekdays", "rides", match.status)
    later = local_today() + timedelta(days=5)
    assert len(_read(csv_export.matches_csv(coord, later, later))) == 1  # the header alone


def test_a_range_that_ends_before_it_starts_is_refused(coord):
    today = local_today()
    with pytest.raises(FieldError) as err:
        csv_export.posts_csv(coord, today, today - timedelta(days=1))
    assert err.value.field == "end"


def test_who_may_export_what(coord, make_user):
    member = make_user()
    for export in (csv_export.posts_csv, csv_export.matches_csv):
        with pytest.raises(NotAllowed):
            export(member, *_today_range())
    with pytest.raises(NotAllowed):
        csv_export.members_csv(coord)
    rows = _read(csv_export.members_csv(make_user("admin")))
    assert rows[0] == csv_export.MEMBER_HEADER and "cora@example.org" in {r[2] for r in rows[1:]}
