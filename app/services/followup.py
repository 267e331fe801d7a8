"""After the help: reminders the day before, "did it happen?" with a signed link, and the answer
(yes completes the match, no-show reopens the need for the next candidate)."""
import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import func, select

from app.extensions import db
from app.models import Match, Post, User
from app.models.matches import ACTIVE
from app.services import Conflict, FieldError, NotAllowed, ServiceError, audit, holds
from app.services.disclosure import involved, side_of
from app.timeutil import utcnow

log = logging.getLogger(__name__)
# Matches of a need that repeats are followed up occurrence by occurrence (app/services/occurrences.py).
def _one_off():
    return Match.need.has(Post.repeats.is_(False))

from app.services.match_notices import notify_both, outcome_serializer
from app.services.matches import MAX_NOTE, _move, _release, get_match
from app.services.proposals import propose_for_need

# After the help ---------------------------------------------------------------------------

def match_for_outcome_token(token: str) -> tuple[Match, User]:
    try:
        data = outcome_serializer().loads(token, max_age=current_app.config["OUTCOME_LINK_DAYS"] * 86400)
    except SignatureExpired:
        raise ServiceError(_("This link has expired. Log in and answer on the match page.")) from None
    except BadSignature:
        raise ServiceError(_("This link is not valid.")) from None
    match = db.session.get(Match, data.get("m")) if isinstance(data, dict) else None
    user = db.session.get(User, data.get("u")) if match else None
    if match is None or user is None or not involved(user, match) and not user.is_coordinator:
        raise ServiceError(_("This link is not valid."))
    return match, user


def record_outcome(actor: User, match_id: int, happened: bool, feedback: str = "") -> Match:
    """'Did it happen?': yes from either side completes it; no-show reopens the need."""
    match = get_match(match_id)
    side = side_of(actor, match)
    if side is None and not actor.is_coordinator:
        raise NotAllowed(_("Only the two matched people and coordinators can say how it went."))
    feedback = (feedback or "").strip()
    if len(feedback) > MAX_NOTE:
        raise FieldError("feedback", _("Keep it under %(limit)s characters.", limit=MAX_NOTE))
    if match.status in ("completed", "no_show"):
        if feedback and side:
            setattr(match, f"{side}_feedback", feedback)
            db.session.commit()
            return match
        raise Conflict(_("Thanks, this was already answered."))
    if match.status != "accepted":
        raise Conflict(_("This match is %(state)s; it can't be closed now.", state=str(match.state_label).lower()))
    if holds.match_paused(match.id):
        raise Conflict(_("This match is paused while a coordinator looks at it; it can be closed once they are done."))
    if match.need.repeats:
        raise Conflict(_("This help has several dates: say how each one went in the list of dates."))
    values = {f"{side}_feedback": feedback or None} if side else {}
    if happened:
        _move(match, "completed", outcome_by_id=actor.id, closed_at=utcnow(), **values)
        need = match.need
        db.session.flush()
        db.session.refresh(need)
        others = db.session.scalar(select(func.count()).where(Match.need_id == need.id, Match.status.in_(ACTIVE)))
        if need.units_left <= 0 and not others and need.status == "open":
            need.status, need.closed_at = "fulfilled", utcnow()
    else:
        _move(match, "no_show", outcome_by_id=actor.id, closed_at=utcnow(), **values)
        _release(match)
        db.session.flush()
        db.session.expire(match.need)
        if match.need.status == "open":
            propose_for_need(match.need)
    if actor.is_coordinator:
        audit.record(actor, "outcome", "match", match.id, happened=happened)
    db.session.commit()
    return match


def send_reminders(link_for, now: datetime | None = None) -> int:
    """The day before a confirmed ride or workshop, remind both people (once)."""
    now = now or utcnow()
    due = db.session.scalars(select(Match).where(Match.status == "accepted", Match.reminded_at.is_(None), _one_off(),
                                                 Match.scheduled_at > now, Match.scheduled_at <= now + timedelta(hours=36),
                                                 holds.match_not_paused())).all()
    for match in due:
        match.reminded_at = now
        notify_both(match, "match_reminder", _l("Reminder: your match is coming up"), link_for=link_for)
    db.session.commit()
    return len(due)


def send_followups(link_for, outcome_link_for, now: datetime | None = None) -> int:
    """After the scheduled time (or some days after confirming, for help with no set time), ask both
    people whether it happened, with a signed link."""
    now = now or utcnow()
    wait = timedelta(days=current_app.config["MATCH_FOLLOWUP_DAYS"])
    candidates = db.session.scalars(select(Match).where(Match.status == "accepted", Match.followup_sent_at.is_(None),
                                                        _one_off(), holds.match_not_paused())).all()
    sent = 0
    for match in candidates:
        when = match.scheduled_at + timedelta(hours=2) if match.scheduled_at else (match.decided_at or match.created_at) + wait
        if when > now:
            continue
        match.followup_sent_at = now
        notify_both(match, "match_followup", _l("Did it happen?"), link_for=link_for, outcome_link_for=outcome_link_for)
        sent += 1
    db.session.commit()
    return sent
