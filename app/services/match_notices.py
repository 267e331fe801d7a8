"""Emails about a match to both sides (or the coordinator acting for someone who cannot log in),
and the signed "did it happen?" token their follow-up links carry."""
import logging

from flask import current_app
from itsdangerous import URLSafeTimedSerializer

from app.extensions import db
from app.models import Match, User
from app.services import holds
from app.services.disclosure import card_for, exact_place, notice_recipient
from app.services.mail import queue_email
from app.services.match_queue import reason_label

log = logging.getLogger(__name__)


def outcome_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="match-outcome")


def outcome_token(match: Match, user_id: int) -> str:
    return outcome_serializer().dumps({"m": match.id, "u": user_id})


def notify_both(match: Match, template: str, subject, link_for=None, outcome_link_for=None,
                 skip_side: str | None = None, extra: dict | None = None) -> None:
    """Tell both sides, each on the channels they chose for this kind of notice (app/services/
    notify.py); someone no channel reaches who cannot log in is told through the coordinator acting
    for them, by email. Emails that introduce the two carry the other's contact card, worded the
    same for everyone; a text never does (its link leads to it). The subject is a lazy string
    (`_l`): each notice is written in its reader's language. While a safety report pauses the
    match, no email carries a contact card or the exact place."""
    from app.services import notify
    from app.services.text_links import match_link

    paused = holds.match_paused(match.id)
    for side, post, other in (("need", match.need, match.offer), ("offer", match.offer, match.need)):
        if side == skip_side:
            continue
        person, reader = notice_recipient(post)
        page = link_for(match) if link_for else None
        context = dict(match=match, person=person, other_first_name=db.session.get(User, other.owner_id).first_name,
                       url=page, reason_text=reason_label(match.reject_reason), **(extra or {}))
        if template in ("match_approved", "match_confirmed", "match_reminder") and not paused:
            context.update(card=card_for(match, "offer" if side == "need" else "need"),
                           place=exact_place(match.need, with_zip=False))
        outcome = outcome_link_for(outcome_token(match, person.id)) if outcome_link_for else None
        used = notify.send(person, template, subject, side=side, link=match_link(person, match, page), happens_at=match.scheduled_at,
                           on_behalf=False, outcome_url=outcome, **context)
        if not used and reader is not None and reader.id != person.id and not notify.reachable(person):
            if outcome_link_for:
                outcome = outcome_link_for(outcome_token(match, reader.id))
            queue_email(reader.email, subject, template, kind=template, locale=reader.language, on_behalf=True,
                        outcome_url=outcome, side=side, **context)
