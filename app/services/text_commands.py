"""Texts people send us (the provider's inbound webhook, app/texts/webhooks.py): read the command,
act on it, answer by text through the outbox.

The sender is found only by a verified mobile number; an unknown number gets one generic answer
and leaves no number and no text behind. Each provider message id acts once (Twilio posts again
when it did not hear back): the row is written first, and a second insert of the same id fails.

YES / NO answer a match waiting on this person's confirmation; DONE / NOSHOW the "did it happen?"
question (a one-off match that was asked, or a past date of help that repeats). A bare answer acts
only when exactly one thing waits for that kind of answer; with several, the reply lists them with
a short code each ("YES 2"), kept in TextChoice. STOP ends every text at once (carrier rules),
START resumes, HELP answers with the community's contact. NEED starts a request for help
(app/services/text_requests.py). Anything else is kept for coordinators as an unmatched reply.
"""
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.extensions import db
from app.i18n import in_language, local_time
from app.models import InboundText, Match, Post, TextChoice, TextRequest, User
from app.models.repeat import NeedOccurrence
from app.services import NotAllowed, ServiceError, followup, holds, occurrences, text_requests, texts
from app.services import matches as match_service
from app.timeutil import utcnow

log = logging.getLogger(__name__)

# Every word a command may be sent as -> the command. Compared in capitals, accents off.
WORDS = {
    "YES": "YES", "SI": "YES",
    "NO": "NO",
    "DONE": "DONE", "LISTO": "DONE", "HECHO": "DONE",
    "NOSHOW": "NOSHOW",
    # The opt-out words carriers and Twilio honour; each ends every text.
    "STOP": "STOP", "STOPALL": "STOP", "UNSUBSCRIBE": "STOP", "CANCEL": "STOP", "END": "STOP", "QUIT": "STOP",
    "OPTOUT": "STOP", "REVOKE": "STOP",
    "START": "START", "UNSTOP": "START",
    "HELP": "HELP", "INFO": "HELP", "AYUDA": "HELP",
    "NEED": "NEED", "NECESITO": "NEED",
}
# The answers: which question each answers, and how.
ANSWERS = {"YES": ("confirm", True), "NO": ("confirm", False), "DONE": ("outcome", True), "NOSHOW": ("outcome", False)}
MAX_LISTED = 5  # a list longer than this in a text would not fit; the rest are behind the link
_CODE = re.compile(r"^#?(\d{1,2})$")
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


@dataclass(frozen=True)
class Command:
    name: str | None  # one of WORDS' values, or None: not a command
    code: int | None = None  # "YES 2"
    rest: str = ""  # what follows NEED


def _caps(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.upper())
    return "".join(c for c in text if not unicodedata.combining(c))


def parse_command(body: str) -> Command:
    """The command a text is. Case, accents and surrounding punctuation do not matter ("Sí!",
    " stop. "); a command is the whole text ("YES please" is not one), but for a short code after an
    answer ("YES 2", "yes #2", "YES2") and the words after NEED."""
    words = (body or "").split()
    if not words:
        return Command(None)
    first = _EDGES.sub("", _caps(words[0]))
    if WORDS.get(first) == "NEED":
        return Command("NEED", rest=" ".join(words[1:]))
    tokens = [t for t in (_EDGES.sub("", _caps(w)) for w in words) if t]
    if len(tokens) >= 2 and tokens[0] == "NO" and tokens[1] == "SHOW":
        tokens = ["NOSHOW", *tokens[2:]]
    if not tokens:
        return Command(None)
    head = tokens[0].replace("-", "")
    glued = re.match(r"^([A-Z]+)(\d{1,2})$", head)
    if glued and WORDS.get(glued.group(1)) in ANSWERS and len(tokens) == 1:
        return Command(WORDS[glued.group(1)], int(glued.group(2)))
    name = WORDS.get(head)
    if name is None:
        return Command(None)
    if len(tokens) == 1:
        return Command(name)
    if name in ANSWERS and len(tokens) == 2 and (code := _CODE.match(tokens[1])):
        return Command(name, int(code.group(1)))
    return Command(None)


def member_by_number(number: str) -> User | None:
    """The member whose verified mobile this is: the only way a text is tied to a person."""
    number = (number or "").strip()
    if not number:
        return None
    return db.session.scalar(select(User).where(User.mobile == number, User.mobile_verified_at.is_not(None),
                                                User.deleted_at.is_(None)))


def handle(provider_id: str, from_number: str, body: str) -> InboundText | None:
    """One text from the provider. Returns its row, or None when this message id was handled
    already. The row is committed first (so the same id acts once); then the command acts (the
    services it calls commit their own change), and the reply is queued and the row's outcome
    written in one last commit."""
    user = member_by_number(from_number)
    body = text_requests.clean(body)
    command = parse_command(body)
    row = InboundText(provider_id=(provider_id or "")[:64], user_id=user.id if user else None,
                      body=body if user else None, command=command.name if user else None, outcome="received")
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    row_id = row.id
    try:
        if user is None:
            outcome = _unknown_number(from_number, command)
        else:
            with in_language(user.language):
                outcome = _dispatch(user, command, body)
    except Exception:
        # Kept as "error" (the provider's retry of this id acts no more); the log names the row.
        db.session.rollback()
        log.exception("text %s in: failed", row_id)
        outcome = "error"
    row = db.session.get(InboundText, row_id)
    row.outcome = outcome
    db.session.commit()
    log.info("text %s in: %s", row_id, outcome)
    return row


def _unknown_number(number: str, command: Command) -> str:
    """The same answer whatever was sent, in the site's default language: it says nothing about
    who has an account. Nothing at all after a STOP (the carrier's rule: no text after it)."""
    if command.name != "STOP":
        with in_language(None):
            body = texts.render_text("reply_unknown", url=current_app.config["BASE_URL"])
        texts.queue_text(None, body, kind="unknown_number", to_number=(number or "").strip()[:16], quiet=False)
    return "unknown_number"


def _url(endpoint: str, **values) -> str:
    """A link in a reply: on BASE_URL, the public address, whatever host the provider's request
    reached us under behind a proxy (the same address its signature is checked against)."""
    from app.jobs.registry import external

    return external(endpoint, **values)


def _reply(user: User, template: str, kind: str = "reply", **context) -> None:
    texts.queue_text(user, texts.render_text(template, **_reach(user), **context), kind=kind, quiet=False)


def _reach(user: User) -> dict:
    """How the reply points onward: the member's matches page, or for someone who cannot log in,
    the coordinators' contact."""
    if user.can_log_in:
        return {"link": _url("posts.mine"), "contact": None}
    return {"link": None, "contact": _contact()}


def _contact() -> str:
    return current_app.config["COMMUNITY_CONTACT"] or current_app.config["BASE_URL"]


def _dispatch(user: User, command: Command, body: str) -> str:
    name = command.name
    if user.texts_stopped_at is not None and name not in ("START", "HELP"):
        return "ignored"  # recorded; no text goes to someone who sent STOP until START
    if name == "STOP":
        user.texts_stopped_at = utcnow()
        texts.cancel_waiting(user.id)
        _reply(user, "reply_stop", kind="stop_confirmed")
        return "stopped"
    if name == "START":
        user.texts_stopped_at = None
        _reply(user, "reply_start")
        return "started"
    if name == "HELP":
        texts.queue_text(user, texts.render_text("reply_help", contact=_contact()), kind="help", quiet=False)
        return "help"
    if name in ANSWERS:
        return _answer(user, command)
    if name == "NEED":
        return _need(user, command.rest)
    _reply(user, "reply_unmatched")
    return "unmatched"


# Answers ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Waiting:
    """One thing waiting for this person's answer."""

    question: str  # "confirm" or "outcome"
    match: Match
    occurrence: NeedOccurrence | None
    other_first_name: str
    when: datetime | None  # naive UTC

    @property
    def key(self) -> tuple[int, int | None]:
        return self.match.id, self.occurrence.id if self.occurrence else None


def waiting(user: User, question: str) -> list[Waiting]:
    """What waits for this person's YES/NO ("confirm") or DONE/NOSHOW ("outcome"), soonest first."""
    need, offer = aliased(Post), aliased(Post)
    base = (select(Match, need.owner_id, offer.owner_id).join(need, need.id == Match.need_id)
            .join(offer, offer.id == Match.offer_id).where(holds.match_not_paused()))
    items: list[Waiting] = []
    if question == "confirm":
        rows = db.session.execute(base.where(Match.status == "approved", or_(
            and_(need.owner_id == user.id, Match.need_answer.is_(None)),
            and_(offer.owner_id == user.id, Match.offer_answer.is_(None))))).all()
        items = [Waiting("confirm", m, None, _other(user, a, b), m.scheduled_at) for m, a, b in rows]
    else:
        mine = or_(need.owner_id == user.id, offer.owner_id == user.id)
        rows = db.session.execute(base.where(Match.status == "accepted", Match.followup_sent_at.is_not(None),
                                             need.repeats.is_(False), mine)).all()
        items = [Waiting("outcome", m, None, _other(user, a, b), m.scheduled_at) for m, a, b in rows]
        dated = db.session.execute(
            select(NeedOccurrence, Match, need.owner_id, offer.owner_id)
            .join(Match, Match.id == NeedOccurrence.match_id).join(need, need.id == Match.need_id)
            .join(offer, offer.id == Match.offer_id)
            .where(Match.status == "accepted", NeedOccurrence.status.in_(("matched", "confirmed")),
                   NeedOccurrence.starts_at <= utcnow(), mine, holds.match_not_paused())).all()
        items += [Waiting("outcome", m, o, _other(user, a, b), o.starts_at) for o, m, a, b in dated]
    return sorted(items, key=lambda w: (w.when or datetime.max, w.match.id, w.occurrence.id if w.occurrence else 0))


def _other(user: User, need_owner: int, offer_owner: int) -> str:
    other = db.session.get(User, offer_owner if need_owner == user.id else need_owner)
    return other.first_name if other is not None and not other.deleted_at else ""


def _answer(user: User, command: Command) -> str:
    question, yes = ANSWERS[command.name]
    items = waiting(user, question)
    if command.code is not None:
        choice = db.session.scalar(select(TextChoice).where(TextChoice.user_id == user.id,
                                                            TextChoice.code == command.code))
        target = None
        if choice is not None and choice.question == question:
            target = next((w for w in items if w.key == (choice.match_id, choice.occurrence_id)), None)
        if target is None:
            _reply(user, "reply_gone", code=command.code)
            return "gone"
    elif not items:
        _reply(user, "reply_nothing", question=question)
        return "nothing"
    elif len(items) > 1:
        _list(user, question, items)
        return "listed"
    else:
        target = items[0]
    try:
        _act(user, target, yes)
    except ServiceError:
        db.session.rollback()  # it changed since it was read: it no longer waits
        _reply(user, "reply_gone", code=command.code)
        return "gone"
    _reply(user, "reply_done", action=command.name, name=target.other_first_name,
           repeats=target.occurrence is not None)
    return "done"


def _act(user: User, item: Waiting, yes: bool) -> None:
    if item.question == "confirm":
        match_service.answer(user, item.match.id, yes,
                             link_for=lambda m: _url("matches.detail", match_id=m.id))
    elif item.occurrence is not None:
        occurrences.record(user, item.occurrence.id, yes)
    else:
        followup.record_outcome(user, item.match.id, yes)


def _list(user: User, question: str, items: list[Waiting]) -> None:
    """Text the list with a code each, replacing the member's previous list."""
    db.session.execute(delete(TextChoice).where(TextChoice.user_id == user.id))
    shown = items[:MAX_LISTED]
    lines = []
    for code, item in enumerate(shown, start=1):
        db.session.add(TextChoice(user_id=user.id, code=code, question=question, match_id=item.match.id,
                                  occurrence_id=item.occurrence.id if item.occurrence else None))
        words = ", ".join(w for w in (item.other_first_name, local_time(item.when) if item.when else "") if w)
        lines.append(f"{code}) {words}")
    _reply(user, "reply_list", question=question, count=len(items), items=" ".join(lines),
           more=len(items) - len(shown))


# NEED ------------------------------------------------------------------------------------------

def _need(user: User, words: str) -> str:
    if not text_requests.clean(words):
        _reply(user, "reply_need_empty")
        return "need_empty"
    row = text_requests.create(user, words)
    if row.status == "queued":
        _reply(user, "reply_need", queued=True, draft_link=None)
    else:
        _reply(user, "reply_need", queued=False,
               draft_link=_url("posts.new", kind="need", from_text=row.id))
    return "need"


# For coordinators ------------------------------------------------------------------------------

def unmatched(limit: int = 200) -> list[tuple[InboundText, User]]:
    """Replies nobody could read and no coordinator has dealt with yet, newest first."""
    return list(db.session.execute(
        select(InboundText, User).join(User, User.id == InboundText.user_id)
        .where(InboundText.outcome == "unmatched", InboundText.seen_by_id.is_(None))
        .order_by(InboundText.created_at.desc(), InboundText.id.desc()).limit(limit)).tuples())


def waiting_count() -> int:
    """Unmatched replies and queued text requests: what the coordinators' texts page has waiting."""
    replies = db.session.scalar(select(func.count()).select_from(InboundText).where(
        InboundText.outcome == "unmatched", InboundText.seen_by_id.is_(None), InboundText.user_id.is_not(None))) or 0
    requests = db.session.scalar(select(func.count()).select_from(TextRequest)
                                 .where(TextRequest.status == "queued")) or 0
    return replies + requests


def mark_handled(actor: User, inbound_id: int) -> bool:
    """A coordinator dealt with an unmatched reply. False when someone already had."""
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can do that."))
    row = db.session.get(InboundText, inbound_id)
    if row is None or row.outcome != "unmatched" or row.user_id is None:
        raise NotAllowed(_("No such text."))
    done = db.session.execute(update(InboundText).where(InboundText.id == row.id, InboundText.seen_by_id.is_(None))
                              .values(seen_by_id=actor.id).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return done == 1
