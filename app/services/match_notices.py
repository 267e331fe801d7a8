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
    """Email both sides (or the coordinator acting for someone who cannot log in). Emails that
    introduce the two carry the other's contact card, worded the same for everyone. The subject is
    a lazy string (`_l`): each email is written in its reader's language. While a safety report
    pauses the match, no email carries a contact card or the exact place."""
    paused = holds.match_paused(match.id)
    for side, post, other in (("need", match.need, match.offer), ("offer", match.offer, match.need)):
        if side == skip_side:
            continue
        person, reader = notice_recipient(post)
        if reader is None:
            continue
        context = dict(match=match, side=side, person=person, other_first_name=db.session.get(User, other.owner_id).first_name,
                       on_behalf=reader.id != person.id, url=link_for(match) if link_for else None,
                       reason_text=reason_label(match.reject_reason), **(extra or {}))
        if template in ("match_approved", "match_confirmed", "match_reminder") and not paused:
            context.update(card=card_for(match, "offer" if side == "need" else "need"),
                           place=exact_place(match.need, with_zip=False))
        if outcome_link_for:
            context["outcome_url"] = outcome_link_for(outcome_token(match, reader.id))
        queue_email(reader.email, subject, template, kind=template, locale=reader.language, **context)
