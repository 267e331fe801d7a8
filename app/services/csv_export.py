"""CSV exports: posts and matches of a date range for coordinators, every member for admins.

Each export checks who asks and writes an audit entry (one commit) before the first line, then
yields the file line by line, reading the rows in keyset pages, so a long range never sits in
memory. Every text cell goes through the fund ledger's `_csv_safe`: a cell that starts with
= + - @, a tab or a carriage return gets a leading quote, so a spreadsheet shows it instead of
running it as a formula.

The posts and matches exports hold what the coordinators' pages show them, no more: titles,
details, towns, categories, quantities, times and states; never an owner, an exact place, a ZIP,
a pickup area, a note or feedback. Who is who is for the admins' members export only.
"""
import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Iterator

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from app.extensions import db
from app.models import Match, Post, User
from app.models.membership import MemberApproval
from app.services import FieldError, NotAllowed, audit
from app.services.fund_reports import _csv_safe
from app.timeutil import community_zone, local_to_utc, utc_to_local

PAGE = 1000
MAX_DAYS = 3 * 366


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return utc_to_local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _csv_safe(value)
    return str(value)


def _lines(header: list[str], rows: Iterator[list]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    yield out.getvalue()
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow([_cell(v) for v in row])
        yield out.getvalue()


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The naive-UTC instants from the start of `start` to the end of `end`, local days."""
    if end < start:
        raise FieldError("end", _("The end date is before the start date."))
    if (end - start).days > MAX_DAYS:
        raise FieldError("end", _("Choose at most three years at a time."))
    zone = community_zone()
    return local_to_utc(start, time(0), zone), local_to_utc(end + timedelta(days=1), time(0), zone)


def _coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can export posts and matches."))


def _pages(stmt, id_column):
    """The rows of `stmt`, PAGE at a time by id (the statement's first entity)."""
    last = 0
    while True:
        chunk = db.session.execute(stmt.where(id_column > last).order_by(id_column).limit(PAGE)).unique().all()
        if not chunk:
            return
        yield from chunk
        last = chunk[-1][0].id


POST_HEADER = ["post", "kind", "category", "title", "details", "status", "town", "state", "quantity", "units_matched",
               "needed_by", "flexible", "times", "duration_minutes", "ride_to", "appointment", "travels_miles",
               "format", "posted", "closed", "expires"]


def posts_csv(actor: User, start: date, end: date) -> Iterator[str]:
    """Posts created in the range (local days), oldest first."""
    _coordinator(actor)
    since, until = bounds(start, end)
    audit.record(actor, "csv_export", "posts", None, start=start.isoformat(), end=end.isoformat())
    db.session.commit()
    stmt = (select(Post).options(selectinload(Post.windows))
            .where(Post.created_at >= since, Post.created_at < until))

    def rows():
        for (p,) in _pages(stmt, Post.id):
            times = "; ".join(f"{_cell(w.start_at)} - {_cell(w.end_at)}" for w in p.windows)
            yield [p.id, p.kind, p.category, p.title, p.details, p.status, p.town, p.state, p.quantity,
                   p.units_committed, p.needed_by, p.flexible, times, p.duration_min if p.kind == "need" else None,
                   p.destination_kind, p.appointment_at, p.radius_miles, p.offer_format, p.created_at, p.closed_at,
                   p.expires_at]

    return _lines(POST_HEADER, rows())


MATCH_HEADER = ["match", "created", "status", "source", "category", "units", "need", "need_title", "need_town",
                "offer", "offer_title", "offer_town", "scheduled", "decided", "closed", "need_answer", "offer_answer"]


def matches_csv(actor: User, start: date, end: date) -> Iterator[str]:
    """Matches made in the range (local days), oldest first."""
    _coordinator(actor)
    since, until = bounds(start, end)
    audit.record(actor, "csv_export", "matches", None, start=start.isoformat(), end=end.isoformat())
    db.session.commit()
    need, offer = aliased(Post), aliased(Post)
    stmt = (select(Match, need.category, need.title, need.town, offer.title, offer.town)
            .join(need, need.id == Match.need_id).join(offer, offer.id == Match.offer_id)
            .where(Match.created_at >= since, Match.created_at < until))

    def rows():
        for m, category, need_title, need_town, offer_title, offer_town in _pages(stmt, Match.id):
            yield [m.id, m.created_at, m.status, m.source, category, m.units, m.need_id, need_title, need_town,
                   m.offer_id, offer_title, offer_town, m.scheduled_at, m.decided_at, m.closed_at, m.need_answer,
                   m.offer_answer]

    return _lines(MATCH_HEADER, rows())


MEMBER_HEADER = ["member", "name", "email", "role", "phone", "zip", "town", "state", "language", "joined",
                 "email_confirmed", "has_password", "approval"]


def members_csv(actor: User) -> Iterator[str]:
    """Every account that was not deleted, for admins only."""
    if not actor.is_admin:
        raise NotAllowed(_("Only admins can export the members."))
    audit.record(actor, "csv_export", "members", None)
    db.session.commit()
    stmt = (select(User, MemberApproval.status).outerjoin(MemberApproval, MemberApproval.user_id == User.id)
            .where(User.deleted_at.is_(None)))

    def rows():
        for u, approval in _pages(stmt, User.id):
            yield [u.id, u.name, u.email, u.role, u.phone, u.zip_code, u.town, u.state, u.language, u.created_at,
                   u.email_confirmed_at is not None, bool(u.password_hash), approval or "approved"]

    return _lines(MEMBER_HEADER, rows())
