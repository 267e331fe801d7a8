"""Messages between the two people of a match, inside the site.

A match that is approved, confirmed or done has one thread. The two people write in it (or the
coordinator answering for one who cannot log in: `disclosure.side_of`), and it closes
`MESSAGE_THREAD_DAYS` after the match is done. Each new message emails the other side a notice
without its words. Coordinators read a thread only once someone has reported a concern on the
match (each reading is in the audit log); a match a safety report pauses shows its thread to
nobody but coordinators until one of them acts.

Two rules against being pulled off the site: each person sends at most `MESSAGES_PER_HOUR`
(counted here, so every way in obeys it), and the first message of a thread may not carry a link
or a phone number. That message is not kept: it goes back to its sender with the reason.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import exists, func, select

from app.extensions import db
from app.models import Match, Message, User
from app.services import Conflict, FieldError, NotAllowed, audit, holds
from app.services.concerns import match_reported
from app.services.disclosure import notice_recipient, side_of
from app.services.mail import queue_email
from app.services.matches import get_match
from app.timeutil import utcnow

MAX_BODY = 2000
THREAD_STATES = ("approved", "accepted", "completed")
FIRST_MESSAGE_RULE = _l("For everyone's safety, the first message can't carry a link or a phone number: people are "
                        "often pulled off the site this way. Write without it; you can share contact details once you "
                        "have talked here.")

# Top-level domains people type in a message: a word followed by one of these is a link.
# Very short ones that end ordinary words ("at", "be", "it", "no", "to") are left out.
_TLDS = ("com|net|org|edu|gov|mil|info|biz|io|co|me|us|uk|ca|de|fr|es|mx|nl|eu|au|in|ru|cn|br|jp|pl|ch|se|dk|nz|ie|"
         "app|dev|ai|ly|gl|tv|cc|ws|xyz|site|online|link|club|shop|store|live|page|top|world|life|news|blog|email|"
         "tech|space|website|fun|icu|vip|pro|mobi|tk|ml|gg|chat|social")
_LINK = re.compile(r"(?:https?://|www\.)\S|\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + _TLDS + r")\b",
                   re.IGNORECASE)
# US numbers with or without separators: 715-555-0101, (715) 555 0101, 715.555.0101, +1 715 555 0101,
# 7155550101; and a local 555-0101. ASCII digits only (\d also matches other scripts).
_PHONE = re.compile(r"(?<![0-9])(?:\+?1[\s.\-]*)?(?:\([\s]*[0-9]{3}[\s]*\)|[0-9]{3})[\s.\-]*[0-9]{3}[\s.\-]*[0-9]{4}(?![0-9])"
                    r"|(?<![0-9])[0-9]{3}[.\-][0-9]{4}(?![0-9])")


def carries_contact(text: str) -> bool:
    """Whether a text holds a link (http, www., a domain) or a phone number."""
    return bool(_LINK.search(text or "") or _PHONE.search(text or ""))


def closes_at(match: Match) -> datetime | None:
    """When a done match's thread closes (None while the match is under way, or if it never opened)."""
    if match.status == "completed" and match.closed_at is not None:
        return match.closed_at + timedelta(days=current_app.config["MESSAGE_THREAD_DAYS"])
    return None


def is_open(match: Match, now: datetime | None = None) -> bool:
    """Whether the two people can still write: while approved or confirmed, and for some days after it is done."""
    if match.status in ("approved", "accepted"):
        return True
    end = closes_at(match)
    return end is not None and (now or utcnow()) < end


@dataclass
class MessageRow:
    side: str  # "need" or "offer"
    name: str  # the side's first name, whoever typed it
    mine: bool
    body: str
    at: datetime


@dataclass
class Thread:
    match: Match
    side: str | None  # the reader's side; None for a coordinator reading because of a report
    messages: list[MessageRow]
    paused: bool
    can_write: bool
    closes_at: datetime | None

    @property
    def through_report(self) -> bool:
        return self.side is None


def _rows(match: Match, reader_side: str | None) -> list[MessageRow]:
    names = {side: db.session.get(User, post.owner_id).first_name
             for side, post in (("need", match.need), ("offer", match.offer))}
    messages = db.session.scalars(select(Message).where(Message.match_id == match.id)
                                  .order_by(Message.created_at, Message.id)).all()
    return [MessageRow(m.side, names[m.side], m.side == reader_side, m.body, m.created_at) for m in messages]


def _has_messages(match_id: int) -> bool:
    return db.session.scalar(select(exists().where(Message.match_id == match_id)))


def read_thread(viewer: User, match: Match, now: datetime | None = None) -> Thread:
    """The thread as this viewer may see it; NotAllowed for anyone else. The two people read it
    (nothing while a safety report pauses the match); coordinators only once the match has been
    reported, and each such reading is in the audit log."""
    if not getattr(viewer, "is_authenticated", False):
        raise NotAllowed(_("Only the two matched people can read their messages."))
    side = side_of(viewer, match)
    if side is not None:
        if match.status not in THREAD_STATES and not _has_messages(match.id):
            raise NotAllowed(_("Messages open once a coordinator approves the match."))
        paused = holds.match_paused(match.id)
        return Thread(match, side, [] if paused else _rows(match, side), paused,
                      not paused and is_open(match, now), closes_at(match))
    if viewer.is_coordinator and match_reported(match.id):
        audit.record(viewer, "message_thread_read", "match", match.id)
        thread = Thread(match, None, _rows(match, None), holds.match_paused(match.id), False, closes_at(match))
        db.session.commit()
        return thread
    raise NotAllowed(_("Only the two matched people can read their messages."))


def thread_for(viewer: User, match: Match) -> Thread | None:
    """`read_thread`, or None when this viewer may not read it (the page then shows no thread)."""
    try:
        return read_thread(viewer, match)
    except NotAllowed:
        return None


def sent_last_hour(user_id: int, now: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(Message)
                             .where(Message.author_id == user_id, Message.created_at > now - timedelta(hours=1)))


def _tell_reader(actor: User, person: User, reader: User | None, match: Match, url: str) -> None:
    """The other side hears of it on the channels they chose; someone no channel reaches, through
    the coordinator acting for them (unless that coordinator wrote it)."""
    from app.services import notify
    from app.services.text_links import match_link

    subject = _l("You have a new message about your match")
    if person.id != actor.id:
        if notify.send(person, "message_notice", subject, link=match_link(person, match, url), person=person,
                       match=match, on_behalf=False, url=url) or notify.reachable(person):
            return
    if reader is not None and reader.id not in (actor.id, person.id):
        queue_email(reader.email, subject, "message_notice", kind="message_notice", locale=reader.language,
                    person=person, match=match, on_behalf=True, url=url)


def send(actor: User, match_id, body: str, link_for, now: datetime | None = None) -> Message:
    """Write in a match's thread, for one's own side (or for someone who cannot log in). The other
    side is emailed a notice without the words."""
    now = now or utcnow()
    match = get_match(match_id)
    side = side_of(actor, match) if getattr(actor, "is_authenticated", False) else None
    if side is None:
        raise NotAllowed(_("Only the two matched people can write here."))
    if holds.match_paused(match.id):
        raise Conflict(_("This match is paused while a coordinator looks at it; messages wait until they are done."))
    if not is_open(match, now):
        raise Conflict(_("This conversation is closed."))
    body = (body or "").strip()
    if not body:
        raise FieldError("body", _("Write a message first."))
    if len(body) > MAX_BODY:
        raise FieldError("body", _("Keep it under %(limit)s characters.", limit=MAX_BODY))
    limit = current_app.config["MESSAGES_PER_HOUR"]
    if sent_last_hour(actor.id, now) >= limit:
        raise FieldError("body", ngettext("You have sent %(num)s message in the last hour. Please wait a while before "
                                          "sending more.", "You have sent %(num)s messages in the last hour. Please "
                                          "wait a while before sending more.", limit))
    if not _has_messages(match.id) and carries_contact(body):
        raise FieldError("body", str(FIRST_MESSAGE_RULE))  # not kept: nobody else ever reads it
    message = Message(match_id=match.id, side=side, author_id=actor.id, body=body, created_at=now)
    db.session.add(message)
    if actor.id not in (match.need.owner_id, match.offer.owner_id):
        audit.record(actor, "message_for_resident", "match", match.id, side=side)
    person, reader = notice_recipient(match.offer if side == "need" else match.need)
    _tell_reader(actor, person, reader, match, link_for(match))
    db.session.commit()
    return message
