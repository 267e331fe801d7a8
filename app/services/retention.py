"""Retention: personal details that have served their purpose are removed after a set time, and
counts stay behind for the reports. The worker runs `run` daily (the "retention" job), and so does
`flask retention run`.

- A closed post's exact place (street address, pickup area, exact point: the public ~1 km cell
  stays) after RETAIN_ADDRESS_DAYS; open posts keep theirs, matching needs it. So do the exact
  places of group sessions long past and of series that ended. Contact cards of a match closed that
  long ago are no longer shown (app/services/disclosure.py `contact_expired`).
- Sent and failed emails (they carry names, contact cards and places) after RETAIN_EMAIL_DAYS.
- Messages between matched people RETAIN_MESSAGES_DAYS after their thread closed (the match ended,
  plus MESSAGE_THREAD_DAYS while the thread stays open), unless a report about the match is open.
- Coordinators' case notes RETAIN_CASE_NOTES_DAYS after they were written.
- Sent, failed and cancelled texts after RETAIN_TEXT_DAYS; texts people sent us keep their time,
  command and outcome that long and then lose their words. Phone codes used or expired a day ago.

Removed rows are counted in `purged_counts` by kind and the month they were written.
"""
import logging
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from app.extensions import db
from app.models import (CaseNote, Concern, GroupSession, InboundText, Match, Message, OutboxEmail, OutboxText, PhoneCode,
                        Post, PurgedCount, SessionSeries)
from app.timeutil import utcnow

log = logging.getLogger(__name__)
CHUNK = 500


def _days(key: str, default: int) -> timedelta:
    return timedelta(days=int(current_app.config.get(key, default)))


def address_cutoff(now: datetime | None = None) -> datetime:
    """Posts and matches closed before this moment keep no exact place and show no contact card."""
    return (now or utcnow()) - _days("RETAIN_ADDRESS_DAYS", 90)


def _tally(kinds_and_times) -> None:
    """Add removed rows to purged_counts: (kind, when written) pairs."""
    counts = Counter((kind, when.strftime("%Y-%m")) for kind, when in kinds_and_times)
    for (kind, month), n in sorted(counts.items()):
        row = db.session.scalar(select(PurgedCount).where(PurgedCount.kind == kind, PurgedCount.month == month))
        if row is None:
            db.session.add(PurgedCount(kind=kind, month=month, count=n))
        else:
            row.count += n
    db.session.flush()


def _remove(model, rows: list, kind_of) -> int:
    """Delete these rows (id, created_at, ...) of `model`, counting each under kind_of(row)."""
    _tally((kind_of(r), r.created_at) for r in rows)
    ids = [r.id for r in rows]
    for i in range(0, len(ids), CHUNK):
        db.session.execute(delete(model).where(model.id.in_(ids[i:i + CHUNK])).execution_options(synchronize_session=False))
    return len(ids)


def purge_places(now: datetime) -> int:
    """Exact places of posts closed before the cutoff, and of group sessions and series long over."""
    cutoff = address_cutoff(now)
    exact = or_(Post.street_address.is_not(None), Post.pickup_area.is_not(None),
                Post.lat != Post.cell_lat, Post.lon != Post.cell_lon)
    posts = db.session.execute(update(Post).where(Post.status != "open", Post.closed_at < cutoff, exact)
                               .values(street_address=None, pickup_area=None, lat=Post.cell_lat, lon=Post.cell_lon)
                               .execution_options(synchronize_session=False)).rowcount or 0
    closed_offers = select(Post.id).where(Post.status != "open", Post.closed_at < cutoff)
    series = db.session.execute(update(SessionSeries).where(
        or_(SessionSeries.ended_at < cutoff, SessionSeries.offer_id.in_(closed_offers)), SessionSeries.place_details != "")
        .values(place_details="").execution_options(synchronize_session=False)).rowcount or 0
    sessions = db.session.execute(update(GroupSession).where(GroupSession.ends_at < cutoff,
                                                             GroupSession.place_details.is_not(None))
                                  .values(place_details=None).execution_options(synchronize_session=False)).rowcount or 0
    return posts + series + sessions


def purge_emails(now: datetime) -> int:
    cutoff = now - _days("RETAIN_EMAIL_DAYS", 90)
    rows = db.session.execute(select(OutboxEmail.id, OutboxEmail.created_at, OutboxEmail.kind).where(
        OutboxEmail.status.in_(("sent", "failed")), OutboxEmail.created_at < cutoff)).all()
    return _remove(OutboxEmail, rows, lambda r: f"email:{r.kind}"[:40])


def purge_messages(now: datetime) -> int:
    """Messages of threads closed long enough ago; never those of a match with an open report of
    concern (a coordinator may still need to read them)."""
    closed_before = now - _days("RETAIN_MESSAGES_DAYS", 180) - _days("MESSAGE_THREAD_DAYS", 14)
    reported = select(Concern.match_id).where(Concern.status == "open", Concern.match_id.is_not(None))
    rows = db.session.execute(select(Message.id, Message.created_at).join(Match, Match.id == Message.match_id)
                              .where(Match.closed_at < closed_before, Match.id.not_in(reported))).all()
    return _remove(Message, rows, lambda r: "messages")


def purge_case_notes(now: datetime) -> int:
    cutoff = now - _days("RETAIN_CASE_NOTES_DAYS", 730)
    rows = db.session.execute(select(CaseNote.id, CaseNote.created_at).where(CaseNote.created_at < cutoff)).all()
    return _remove(CaseNote, rows, lambda r: "case_notes")


def purge_texts(now: datetime) -> int:
    """Texts that went (or never will) after RETAIN_TEXT_DAYS; pending ones wait for the sender."""
    cutoff = now - _days("RETAIN_TEXT_DAYS", 90)
    rows = db.session.execute(select(OutboxText.id, OutboxText.created_at, OutboxText.kind).where(
        OutboxText.status.in_(("sent", "failed", "cancelled")), OutboxText.created_at < cutoff)).all()
    return _remove(OutboxText, rows, lambda r: f"text:{r.kind}"[:40])


def purge_inbound_texts(now: datetime) -> int:
    """The words of texts sent to us after RETAIN_TEXT_DAYS (the row stays: when, which command, what came of it)."""
    cutoff = now - _days("RETAIN_TEXT_DAYS", 90)
    return db.session.execute(update(InboundText).where(InboundText.created_at < cutoff, InboundText.body.is_not(None))
                              .values(body=None).execution_options(synchronize_session=False)).rowcount or 0


def purge_phone_codes(now: datetime) -> int:
    """Codes used or expired more than a day ago (a day: a member who asks again still counts as asking)."""
    cutoff = now - timedelta(days=1)
    rows = db.session.execute(select(PhoneCode.id, PhoneCode.created_at).where(
        or_(PhoneCode.used_at < cutoff, PhoneCode.expires_at < cutoff))).all()
    return _remove(PhoneCode, rows, lambda r: "phone_codes")


def run(now: datetime | None = None) -> dict:
    """One pass of every retention rule, committed once. Returns counts only."""
    now = now or utcnow()
    counts = {"places": purge_places(now), "emails": purge_emails(now), "messages": purge_messages(now),
              "case_notes": purge_case_notes(now), "texts": purge_texts(now), "inbound_texts": purge_inbound_texts(now),
              "phone_codes": purge_phone_codes(now)}
    db.session.commit()
    log.info("retention: %s", counts)
    return counts


def purged_counts() -> dict[str, int]:
    """Everything retention has removed so far, by kind (for reports)."""
    totals: Counter = Counter()
    for row in db.session.scalars(select(PurgedCount)):
        totals[row.kind] += row.count
    return dict(totals)
