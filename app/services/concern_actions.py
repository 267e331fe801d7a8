"""What a coordinator does with a report of concern (app/services/concerns.py): lift the hold
(show the post again, resume the match) while still looking, resolve it with a note, or act on
its subject (withdraw the post, cancel the match, cancel the session) and resolve it.

Each is one transaction with its audit entry. Resolving is a conditional UPDATE
(`... WHERE status = 'open'`): of two coordinators resolving at once, one wins and the other is
told. A resolved report holds nothing; another open safety report on the same subject still does.
"""
from typing import Callable

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import update

from app.extensions import db
from app.models import Concern, Match, User
from app.models.matches import can_move
from app.services import Conflict, FieldError, NotAllowed, ServiceError, audit
from app.services.concerns import SUBJECT_COLUMNS, Subject, get_concern
from app.timeutil import utcnow

MAX_NOTE = 2000
ACTION_FOR = {"post": "withdraw_post", "match": "cancel_match", "session": "cancel_session"}


def available_action(subject: Subject) -> str | None:
    """The action a coordinator can still take on this subject (None when it is closed already)."""
    row = subject.row
    if subject.kind == "post":
        return "withdraw_post" if row.is_open else None
    if subject.kind == "match":
        return "cancel_match" if can_move(row.status, "cancelled") else None
    return "cancel_session" if row.status == "scheduled" and row.starts_at > utcnow() else None


def _open_concern(actor: User, concern_id) -> tuple[Concern, Subject]:
    concern, subject = get_concern(actor, concern_id)
    if not concern.is_open:
        raise Conflict(_("This report is already resolved."))
    return concern, subject


def _note(note: str | None) -> str:
    note = (note or "").strip()
    if not note:
        raise FieldError("note", _("Write what was done, for the other coordinators."))
    if len(note) > MAX_NOTE:
        raise FieldError("note", _("Keep the note under %(limit)s characters.", limit=MAX_NOTE))
    return note


def _close(actor: User, concern: Concern, note: str, action: str | None = None) -> None:
    done = db.session.execute(
        update(Concern).where(Concern.id == concern.id, Concern.status == "open")
        .values(status="resolved", holding=False, resolved_at=utcnow(), resolved_by_id=actor.id,
                resolution_note=note, action=action).execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict(_("Another coordinator resolved this report a moment ago. Reload to see what they did."))


def lift_hold(actor: User, concern_id) -> Concern:
    """Show the post again or resume the match (contact cards, messages, reminders) while the
    report stays open. Lifts every safety report's hold on that subject."""
    concern, subject = _open_concern(actor, concern_id)
    column = SUBJECT_COLUMNS[subject.kind]
    lifted = db.session.execute(update(Concern).where(column == subject.id, Concern.holding.is_(True))
                                .values(holding=False).execution_options(synchronize_session=False)).rowcount
    if not lifted:
        raise Conflict(_("Nothing is held because of this report now."))
    audit.record(actor, "concern_lift", subject.kind, subject.id, concern=concern.id)
    db.session.commit()
    return concern


def resolve(actor: User, concern_id, note: str) -> Concern:
    """Close a report with a note on what was done; what this report held is shown again (unless
    another open safety report holds it too)."""
    concern, subject = _open_concern(actor, concern_id)
    note = _note(note)
    was_holding = concern.holding
    _close(actor, concern, note)
    audit.record(actor, "concern_resolve", "concern", concern.id, on=subject.kind, subject=subject.id,
                 released=was_holding)
    db.session.commit()
    return concern


def take_action(actor: User, concern_id, note: str, session_link: Callable | None = None) -> Concern:
    """Withdraw the reported post, cancel the reported match (both people are told, without a
    reason) or cancel the reported session (everyone in it is emailed), and resolve the report."""
    concern, subject = _open_concern(actor, concern_id)
    note = _note(note)
    action = ACTION_FOR[subject.kind]
    if available_action(subject) != action:
        raise Conflict(_("That can't be done any more: it is closed already. Resolve the report with a note."))
    try:
        _close(actor, concern, note, action)
        audit.record(actor, "concern_action", "concern", concern.id, on=subject.kind, subject=subject.id, taken=action)
        if subject.kind == "post":
            from app.services.posts import withdraw_post

            withdraw_post(actor, subject.row)  # commits, this report's change with it
        elif subject.kind == "match":
            _cancel_match(subject.row)
            db.session.commit()
        else:
            from app.services.groups_schedule import cancel_session

            cancel_session(actor, subject.id, session_link)  # commits
    except (Conflict, NotAllowed):
        db.session.rollback()
        raise
    except ServiceError as err:
        db.session.rollback()
        raise Conflict(err.message) from None
    return concern


def _cancel_match(match: Match) -> None:
    """Cancel a match a report is about: its units go back; once approved, both people are told."""
    from app.services.match_notices import notify_both
    from app.services.matches import _move, _release

    was = match.status
    _move(match, "cancelled", closed_at=utcnow())
    if was in ("approved", "accepted"):
        _release(match)
    if was != "proposed":
        notify_both(match, "concern_match_cancelled", _l("A match was cancelled"))
