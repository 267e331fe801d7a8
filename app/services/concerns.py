"""Reports of concern: anyone who can see a post, a match they are in or a group session can say
something is wrong with it; coordinators read it and act (app/services/concern_actions.py).

Who reported is known to coordinators only: the email to coordinators names the category and
links to the concern, never the words or the reporter, and the people the report is about (a
post's owner, a match's two people, a session's host) are never emailed, never shown the report
and, if they are coordinators themselves, never see it in the queue. A **safety** report holds
its subject at once (app/services/holds.py): the post is hidden from everyone but its owner and
coordinators, an approved, confirmed or done match is paused (no contact cards, messages or
reminders). Every step goes to the audit log, without the words (and the report itself, and the
hold it puts on, without the reporter: the audit log names no one who reported).
"""
import logging
from dataclasses import dataclass

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import case, exists, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.ids import get_by_id
from app.models import Concern, GroupSession, Match, Post, User
from app.models.concerns import CONCERN_CATEGORIES
from app.models.matches import HOLDING
from app.services import FieldError, NotAllowed, audit, holds
from app.services.accounts import require_confirmed
from app.services.disclosure import can_view
from app.services.mail import queue_email

log = logging.getLogger(__name__)
MAX_WORDS = 2000
SUBJECT_COLUMNS = {"post": Concern.post_id, "match": Concern.match_id, "session": Concern.session_id}


@dataclass
class Subject:
    """What a report is about: its kind, its row, and who it is about (never told, never shown)."""

    kind: str  # "post", "match" or "session"
    row: Post | Match | GroupSession
    parties: frozenset[int]

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def title(self) -> str:
        """The post's title, the match's request, the session's offer (for coordinators' pages)."""
        if self.kind == "post":
            return self.row.title
        return self.row.need.title if self.kind == "match" else self.row.offer.title


def _parties(kind: str, row) -> frozenset[int]:
    if kind == "post":
        return frozenset({row.owner_id})
    if kind == "match":
        return frozenset({row.need.owner_id, row.offer.owner_id})
    return frozenset({row.series.host_id})


def _load(kind: str, subject_id) -> Subject:
    model = {"post": Post, "match": Match, "session": GroupSession}.get(kind)
    row = get_by_id(model, subject_id) if model is not None else None
    if row is None:
        raise NotAllowed(_("There is nothing here to report."))
    return Subject(kind, row, _parties(kind, row))


def subject_of(concern: Concern) -> Subject:
    """The post, match or session a concern is about."""
    row = {"post": concern.post, "match": concern.match, "session": concern.session}[concern.subject_type]
    return Subject(concern.subject_type, row, _parties(concern.subject_type, row))


def reportable(actor: User, kind: str, subject_id) -> Subject:
    """The subject this person may report, or NotAllowed (the pages answer 404): a post they can see
    and do not own, a match they can see, any group session."""
    subject = _load(kind, subject_id)
    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed(_("Log in to report a concern."))
    if kind == "post":
        post = subject.row
        if post.owner_id == actor.id:
            raise NotAllowed(_("This is your own post."))
        if not actor.is_coordinator and (not post.is_open or holds.post_hidden(post.id)):
            raise NotAllowed(_("There is nothing here to report."))
    elif kind == "match" and not can_view(actor, subject.row):
        raise NotAllowed(_("There is nothing here to report."))
    return subject


def _holds(subject: Subject, category: str) -> bool:
    """A safety report hides a post, and pauses a match whose contact details are showing."""
    if category != "safety":
        return False
    return subject.kind == "post" or (subject.kind == "match" and subject.row.status in HOLDING)


def coordinators_to_tell(subject: Subject, reporter: User) -> list[User]:
    """Every coordinator who can log in, except the reporter and the people the report is about."""
    people = db.session.scalars(select(User).where(User.role.in_(("coordinator", "admin")), User.email.is_not(None),
                                                   User.password_hash.is_not(None)).order_by(User.id)).all()
    return [c for c in people if c.id != reporter.id and c.id not in subject.parties]


def report(actor: User, kind: str, subject_id, category: str, words: str, link_for) -> Concern:
    """File a report of concern. It is at the top of the coordinators' queue at once, every
    coordinator is emailed (the category and a link: never the words or who reported), and a
    safety report hides the post or pauses the match until a coordinator acts."""
    require_confirmed(actor)
    subject = reportable(actor, kind, subject_id)
    if category not in CONCERN_CATEGORIES:
        raise FieldError("category", _("Choose what kind of concern this is."))
    words = (words or "").strip()
    if not words:
        raise FieldError("body", _("Say what happened, so a coordinator can act on it."))
    if len(words) > MAX_WORDS:
        raise FieldError("body", _("Keep it under %(limit)s characters.", limit=MAX_WORDS))
    held = _holds(subject, category)
    concern = Concern(subject_type=kind, category=category, body=words, reporter_id=actor.id, status="open",
                      holding=held, **{f"{kind}_id": subject.id})
    db.session.add(concern)
    db.session.flush()
    # No actor on these two entries: the audit log is read by every admin, and an admin a report is
    # about must not learn who reported them. Who reported stays on the concern row only, which the
    # people it is about can never open.
    audit.record(None, "concern_report", "concern", concern.id, on=kind, subject=subject.id, category=category)
    if held:
        audit.record(None, "concern_hold", kind, subject.id, concern=concern.id)
    subject_line = _l("A safety concern was reported") if category == "safety" else _l("A concern was reported")
    for coordinator in coordinators_to_tell(subject, actor):
        queue_email(coordinator.email, subject_line, "concern_reported", kind="concern_reported",
                    locale=coordinator.language, person=coordinator, concern=concern, held=held, url=link_for(concern))
    db.session.commit()
    log.info("concern %s filed on a %s (held: %s)", concern.id, kind, held)
    return concern


# Reading (coordinators) -----------------------------------------------------------------------

def _require_reader(actor: User, concern: Concern) -> Subject:
    """Today's coordinators read concerns, except those about themselves (404 for everyone else)."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can read reports of concern."))
    subject = subject_of(concern)
    if actor.id in subject.parties:
        raise NotAllowed(_("This report is about you; another coordinator handles it."))
    return subject


def get_concern(actor: User, concern_id) -> tuple[Concern, Subject]:
    """A concern and its subject, for a coordinator who may read it; NotAllowed otherwise."""
    concern = get_by_id(Concern, concern_id)
    if concern is None:
        raise NotAllowed(_("No such report."))
    return concern, _require_reader(actor, concern)


def is_held(subject: Subject) -> bool:
    """Whether a safety report holds this subject now (a hidden post, a paused match)."""
    if subject.kind == "post":
        return holds.post_hidden(subject.id)
    return subject.kind == "match" and holds.match_paused(subject.id)


@dataclass
class ConcernPage:
    concern: Concern
    subject: Subject
    held: bool
    reporter_name: str


def read_concern(actor: User, concern_id) -> ConcernPage:
    """A coordinator opens a concern: its words, who reported it, its subject. Each reading is in the
    audit log, as contact views are."""
    concern, subject = get_concern(actor, concern_id)
    audit.record(actor, "concern_view", "concern", concern.id)
    page = ConcernPage(concern, subject, is_held(subject), concern.reporter.name)
    db.session.commit()
    return page


@dataclass
class QueueItem:
    concern: Concern
    subject: Subject
    held: bool


def open_queue(actor: User) -> list[QueueItem]:
    """Open concerns for the top of the coordinators' queue: safety first, newest first within each
    category group; none about the coordinator reading."""
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can read reports of concern."))
    rows = db.session.scalars(
        select(Concern).where(Concern.status == "open")
        .options(selectinload(Concern.post), selectinload(Concern.match), selectinload(Concern.session))
        .order_by(case((Concern.category == "safety", 0), else_=1), Concern.created_at.desc(), Concern.id.desc())
    ).all()
    held_posts = set(db.session.scalars(select(Concern.post_id).where(Concern.holding.is_(True), Concern.post_id.is_not(None))))
    held_matches = set(db.session.scalars(select(Concern.match_id).where(Concern.holding.is_(True),
                                                                         Concern.match_id.is_not(None))))
    items = []
    for concern in rows:
        subject = subject_of(concern)
        if actor.id in subject.parties:
            continue
        held = subject.id in (held_posts if subject.kind == "post" else held_matches if subject.kind == "match" else ())
        items.append(QueueItem(concern, subject, held))
    return items


def match_reported(match_id: int) -> bool:
    """Whether anyone has reported a concern on this match (then coordinators may read its messages)."""
    return db.session.scalar(select(exists().where(Concern.match_id == match_id)))

