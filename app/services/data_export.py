"""Download my data: everything the site holds about a member, as one document (JSON, and a page).

What it holds: the profile, posts (with their windows, weekly slots and dates), matches from their
side that reached them (approved at some point, or their own "I can help" still waiting; the other
person by first name only, and only once a coordinator approved the match), their
digest settings, pledges, receipts and fund requests about them, group sessions they joined, hosted
and wrote about, messages in their match threads, the emails the site wrote to them, who saw
their contact details (the other person's first name, or "coordinator"), and texts: their mobile
number, their channels per kind of notice, the texts we sent them and they sent us, what they
asked for by text, and the numbers codes were texted to for them.

What it leaves out, because it would endanger others or is not theirs to take: reports of concern
about them, blocks and bars against them (and the reasons of bars), vetting records, coordinators'
case notes, the reasons coordinators gave for decisions, anyone else's contact details, and payees.
"""
import json
import re
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (AuditEntry, CalendarFeed, DigestSubscription, FundRequest, GroupSession, InboundText,
                        LedgerTransaction, Match, Message, NoticeChoice, OutboxEmail, OutboxText, PhoneCode, Pledge, Post,
                        SeriesMember, SessionFeedback, SessionSeat, SessionSeries, TextRequest, User)
from app.models.matches import HOLDING
from app.services import NotAllowed, audit, holds
from app.timeutil import utcnow

FORMAT = "mutual-aid-exchange/my-data/1"
# A match the other person was introduced in: approved, then confirmed, done, declined or no-show.
INTRODUCED = (*HOLDING, "declined", "no_show")
_LINK = re.compile(r"https?://\S+")


def may_export(actor: User, person: User) -> None:
    """A member downloads their own data; a coordinator, a resident's (who may have no login)."""
    if person.deleted_at is not None:
        raise NotAllowed(_("No such account."))
    if actor.id != person.id and not (actor.is_coordinator and person.role == "resident"):
        raise NotAllowed(_("You can only download your own data."))


def _profile(p: User) -> dict:
    return {"name": p.name, "email": p.email, "phone": p.phone, "zip_code": p.zip_code, "town": p.town, "state": p.state,
            "lat": p.lat, "lon": p.lon, "contact_method": p.contact_method, "contact_name": p.contact_name,
            "contact_detail": p.contact_detail, "language": p.language, "created_at": p.created_at,
            "email_confirmed_at": p.email_confirmed_at}


def _post(p: Post) -> dict:
    return {"id": p.id, "kind": p.kind, "category": p.category, "title": p.title, "details": p.details, "status": p.status,
            "zip_code": p.zip_code, "town": p.town, "state": p.state, "street_address": p.street_address,
            "pickup_area": p.pickup_area, "lat": p.lat, "lon": p.lon, "quantity": p.quantity, "urgency": p.urgency,
            "needed_by": p.needed_by, "duration_min": p.duration_min, "flexible": p.flexible,
            "radius_miles": p.radius_miles, "offer_format": p.offer_format, "destination_kind": p.destination_kind,
            "appointment_at": p.appointment_at, "return_trip": p.return_trip, "repeat_rule": p.repeat_rule,
            "created_at": p.created_at, "expires_at": p.expires_at, "closed_at": p.closed_at,
            "windows": [{"start_at": w.start_at, "end_at": w.end_at} for w in p.windows],
            "weekly_slots": [{"day": s.day, "start_min": s.start_min, "end_min": s.end_min} for s in p.weekly_slots],
            "occurrences": [{"key": o.key, "leg": o.leg, "starts_at": o.starts_at, "ends_at": o.ends_at, "status": o.status}
                            for o in p.occurrences]}


def _their_pending_offer_of_help(m: Match, side: str) -> bool:
    """Their own "I can help", still waiting for a coordinator: they made it, the page shows it."""
    return m.status == "proposed" and m.source == "volunteer" and side == "offer"


def _matches(person: User, posts: dict[int, Post]) -> tuple[list[dict], dict[int, tuple[str, str | None]]]:
    """Their side of each match, and for each match (their side, the other's first name if introduced)."""
    ids = list(posts)
    rows = db.session.scalars(select(Match).where(Match.need_id.in_(ids) | Match.offer_id.in_(ids))
                              .order_by(Match.created_at, Match.id)).all() if ids else []
    owners = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(
        {m.need.owner_id for m in rows} | {m.offer.owner_id for m in rows})))}
    out, sides = [], {}
    for m in rows:
        side = "need" if m.need_id in posts else "offer"
        other = m.offer if side == "need" else m.need
        introduced = m.status in INTRODUCED or m.respond_by is not None
        if not (introduced or _their_pending_offer_of_help(m, side)):
            # Never reached them: a proposal a coordinator has not approved, rejected or withdrawn
            # (as a block or a bar withdraws them, unseen), or cancelled before approval.
            continue
        first = owners[other.owner_id].first_name if introduced and other.owner_id != person.id else None
        sides[m.id] = (side, first)
        out.append({"id": m.id, "my_side": side, "my_post_id": m.need_id if side == "need" else m.offer_id,
                    "my_post_title": (m.need if side == "need" else m.offer).title,
                    "other_first_name": first, "status": m.status, "units": m.units, "source": m.source,
                    "scheduled_at": m.scheduled_at, "created_at": m.created_at, "decided_at": m.decided_at,
                    "closed_at": m.closed_at, "my_answer": getattr(m, f"{side}_answer"),
                    "my_feedback": getattr(m, f"{side}_feedback"), "my_note": m.note if side == "offer" else None})
    return out, sides


def _messages(sides: dict[int, tuple[str, str | None]]) -> list[dict]:
    """The messages of their threads. While a report pauses a match the thread shows them only their
    own (app/services/messages.py), and so does this."""
    if not sides:
        return []
    rows = db.session.scalars(select(Message).where(Message.match_id.in_(list(sides)))
                              .order_by(Message.match_id, Message.created_at, Message.id))
    paused: dict[int, bool] = {}
    out = []
    for r in rows:
        mine = r.side == sides[r.match_id][0]
        if not mine:
            if r.match_id not in paused:
                paused[r.match_id] = holds.match_paused(r.match_id)
            if paused[r.match_id]:
                continue
        out.append({"match_id": r.match_id, "from": "me" if mine else (sides[r.match_id][1] or ""),
                    "body": r.body, "created_at": r.created_at})
    return out


def _fund(person: User) -> dict:
    pledges = db.session.scalars(select(Pledge).where(Pledge.member_id == person.id).order_by(Pledge.created_at)).all()
    receipts = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.donor_id == person.id)
                                  .order_by(LedgerTransaction.occurred_on, LedgerTransaction.id)).all()
    requests = db.session.scalars(select(FundRequest).where(FundRequest.requester_id == person.id)
                                  .order_by(FundRequest.created_at)).all()
    return {
        "pledges": [{"id": p.id, "amount_cents": p.amount_cents, "frequency": p.frequency, "note": p.note,
                     "active": p.active, "created_at": p.created_at} for p in pledges],
        "receipts": [{"kind": t.kind, "occurred_on": t.occurred_on, "pledge_id": t.pledge_id, "method": t.method,
                      "reference": t.reference,
                      "amount_cents": sum(e.amount_cents for e in t.entries if e.account == "cash")} for t in receipts],
        # Their own words only: a note a coordinator wrote for them is the coordinator's, like a case note.
        "requests": [{"id": r.id, "amount_cents": r.amount_cents, "purpose": r.purpose, "status": r.status,
                      "created_at": r.created_at, "decided_at": r.decided_at, "paid_on": r.paid_on,
                      "note": r.note if r.created_by_id == person.id else None} for r in requests],
    }


def _groups(person: User) -> dict:
    seats = db.session.execute(select(SessionSeat, GroupSession).join(GroupSession, GroupSession.id == SessionSeat.session_id)
                               .where(SessionSeat.user_id == person.id).order_by(GroupSession.starts_at)).all()
    members = db.session.scalars(select(SeriesMember).where(SeriesMember.user_id == person.id)
                                 .order_by(SeriesMember.created_at)).all()
    hosted = db.session.scalars(select(SessionSeries).where(SessionSeries.host_id == person.id)
                                .order_by(SessionSeries.created_at)).all()
    feedback = db.session.scalars(select(SessionFeedback).where(SessionFeedback.user_id == person.id)
                                  .order_by(SessionFeedback.created_at)).all()
    return {
        "seats": [{"session_id": s.id, "title": s.offer.title, "starts_at": s.starts_at, "ends_at": s.ends_at,
                   "session_status": s.status, "my_status": seat.status, "from_series": seat.from_series,
                   "share_contact": seat.share_contact, "attended": seat.attended} for seat, s in seats],
        "series": [{"series_id": m.series_id, "title": m.series.offer.title, "status": m.status,
                    "share_contact": m.share_contact} for m in members],
        "hosting": [{"series_id": s.id, "offer_id": s.offer_id, "rrule": s.rrule, "first_start_local": s.first_start_local,
                     "duration_min": s.duration_min, "places": s.places, "place_details": s.place_details,
                     "ended_at": s.ended_at} for s in hosted],
        "feedback": [{"session_id": f.session_id, "body": f.body, "created_at": f.created_at} for f in feedback],
    }


def _contact_views(person: User, sides: dict[int, tuple[str, str | None]]) -> list[dict]:
    """Each showing of their contact card (app/services/disclosure.py) and of their contact on a
    group's roster (groups_roster.py): when, and who by first name or as "coordinator"."""
    views = []
    if sides:
        for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contact_view",
                                                             AuditEntry.subject_type == "match",
                                                             AuditEntry.subject_id.in_(list(sides)))
                                    .order_by(AuditEntry.at, AuditEntry.id)):
            side, other_first = sides[e.subject_id]
            if (e.details or {}).get("whose") != side:
                continue
            match = db.session.get(Match, e.subject_id)
            other_post = match.offer if side == "need" else match.need
            by_other = e.actor_id == other_post.owner_id
            views.append({"at": e.at, "where": "match", "match_id": e.subject_id,
                          "viewer": (other_first or "") if by_other else "coordinator"})
    shared = db.session.execute(select(SessionSeat.session_id, SessionSeat.created_at, SessionSeries.host_id)
                                .join(GroupSession, GroupSession.id == SessionSeat.session_id)
                                .join(SessionSeries, SessionSeries.id == GroupSession.series_id)
                                .where(SessionSeat.user_id == person.id, SessionSeat.share_contact.is_(True))).all()
    hosts = {row.session_id: row for row in shared}
    if hosts:
        names = {u.id: u.first_name for u in db.session.scalars(select(User).where(User.id.in_({r.host_id for r in shared})))}
        for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contact_view",
                                                             AuditEntry.subject_type == "group_session",
                                                             AuditEntry.subject_id.in_(list(hosts)))
                                    .order_by(AuditEntry.at, AuditEntry.id)):
            row = hosts[e.subject_id]
            if e.at >= row.created_at:
                views.append({"at": e.at, "where": "group_session", "session_id": e.subject_id,
                              "viewer": names.get(row.host_id, "") if e.actor_id == row.host_id else "coordinator"})
    return sorted(views, key=lambda v: v["at"])


def _texts(person: User) -> dict:
    """Their mobile number, how each kind of notice reaches them, the texts we sent them, the texts
    they sent us, what they asked for by text, and the numbers codes were texted to for them."""
    def rows(model, *where, order=None):
        return db.session.scalars(select(model).where(*where).order_by(order if order is not None else model.id)).all()

    return {
        "mobile": person.mobile, "mobile_verified_at": person.mobile_verified_at,
        # Who recorded their consent is a coordinator's name: "coordinator", as everywhere in this document.
        "consent_recorded": None if person.mobile_consent_at is None else {"by": "coordinator", "at": person.mobile_consent_at},
        "stopped_at": person.texts_stopped_at,
        "notice_choices": [{"kind": c.kind, "email": c.email, "text": c.text, "updated_at": c.updated_at}
                           for c in rows(NoticeChoice, NoticeChoice.user_id == person.id, order=NoticeChoice.kind)],
        # Links are left out: one opens the match for whoever holds it, and this file may go elsewhere.
        "sent_to_me": [{"kind": t.kind, "to": t.to_number, "body": _LINK.sub("[link]", t.body), "status": t.status, "created_at": t.created_at,
                        "sent_at": t.sent_at, "delivery": t.delivery}
                       for t in rows(OutboxText, OutboxText.user_id == person.id)],
        "sent_by_me": [{"body": t.body, "command": t.command, "outcome": t.outcome, "created_at": t.created_at}
                       for t in rows(InboundText, InboundText.user_id == person.id)],
        "requests": [{"body": r.body, "category": r.category, "starts_at": r.starts_at, "status": r.status,
                      "post_id": r.post_id, "created_at": r.created_at}
                     for r in rows(TextRequest, TextRequest.user_id == person.id)],
        "codes": [{"number": c.number, "created_at": c.created_at, "used_at": c.used_at}
                  for c in rows(PhoneCode, PhoneCode.user_id == person.id)],
    }


def export_for(actor: User, person: User, now: datetime | None = None) -> dict:
    """Everything the site holds about `person` that is theirs to have (see the module docstring).
    Values are Python dates and times; `to_json` writes them as ISO 8601."""
    may_export(actor, person)
    posts = {p.id: p for p in db.session.scalars(
        select(Post).where(Post.owner_id == person.id).order_by(Post.created_at, Post.id)
        .options(selectinload(Post.windows), selectinload(Post.weekly_slots), selectinload(Post.occurrences)))}
    matches, sides = _matches(person, posts)
    sub = db.session.get(DigestSubscription, person.id)
    doc = {
        "format": FORMAT,
        "exported_at": now or utcnow(),
        "profile": _profile(person),
        "posts": [_post(p) for p in posts.values()],
        "matches": matches,
        "digest_settings": None if sub is None else {"frequency": sub.frequency, "categories": sub.categories,
                                                     "radius_miles": sub.radius_miles, "since": sub.since},
        "fund": _fund(person),
        "group_sessions": _groups(person),
        "contact_views": _contact_views(person, sides),
        "emails": [{"kind": e.kind, "subject": e.subject, "status": e.status, "created_at": e.created_at,
                    "sent_at": e.sent_at} for e in db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_addr == person.email).order_by(OutboxEmail.id))] if person.email else [],
        "calendar_feed": db.session.scalar(select(CalendarFeed.id).where(CalendarFeed.user_id == person.id)) is not None,
        "texts": _texts(person),
    }
    doc["messages"] = _messages(sides)
    return doc


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def to_json(doc: dict) -> str:
    """The document as the downloaded file: UTF-8 JSON, times in ISO 8601 (UTC)."""
    return json.dumps(doc, ensure_ascii=False, indent=2, default=_iso)


def download(actor: User, person: User) -> tuple[str, str]:
    """The JSON file and its name. A coordinator's download of a resident's data is audited."""
    doc = export_for(actor, person)
    if actor.id != person.id:
        audit.record(actor, "data_export", "user", person.id)
        db.session.commit()
    return to_json(doc), f"my-data-{doc['exported_at']:%Y-%m-%d}.json"
