"""Bars, set by coordinators: a person is never matched with residents, or with one resident (a
no-contact order). The reason is private to coordinators; the barred person is not told.

A bar applies wherever people meet, like a block (app/services/exclusions.py): the engine's
proposals, "I can help" (taken, never approved), approvals and matches by hand, group sessions
(app/services/group_access.py). Adding one withdraws the proposals still waiting between them.
Lifting keeps the row, with who lifted it and when. Both are in the audit log (without the reason).

Like a report of concern, a bar is never shown to the coordinator it is about: another coordinator
reads, adds and lifts the bars on them, and the list of bars in force leaves out every bar naming the
reader (as the barred person or as the resident a no-contact order protects).
"""
from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.extensions import db
from app.ids import get_by_id, parse_id
from app.models import Bar, User
from app.services import Conflict, FieldError, NotAllowed, audit
from app.services.blocks import withdraw_pending
from app.timeutil import utcnow

MAX_REASON = 1000


def _require_coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can do that."))


def _require_not_about(actor: User, person: User) -> None:
    if person.id == actor.id:
        raise NotAllowed(_("Another coordinator handles the bars on you."))


def bars_of(actor: User, person: User) -> list[Bar]:
    """Every bar on this person, active first, newest first (coordinators only, never their own)."""
    _require_coordinator(actor)
    _require_not_about(actor, person)
    return list(db.session.scalars(select(Bar).where(Bar.person_id == person.id)
                                   .order_by(Bar.lifted_at.is_not(None), Bar.created_at.desc(), Bar.id.desc())))


def active_bars(actor: User) -> list[Bar]:
    """Every bar in force, newest first (coordinators only), except the bars naming the reader."""
    _require_coordinator(actor)
    return list(db.session.scalars(
        select(Bar).where(Bar.lifted_at.is_(None), Bar.person_id != actor.id,
                          or_(Bar.resident_id.is_(None), Bar.resident_id != actor.id))
        .order_by(Bar.created_at.desc(), Bar.id.desc())))


def residents_to_choose(person: User) -> list[User]:
    """The residents a no-contact order for this person can name (everyone who is one now but them)."""
    return list(db.session.scalars(select(User).where(User.role == "resident", User.id != person.id).order_by(User.name)))


def add_bar(actor: User, person: User, resident_id, reason: str) -> Bar:
    """Bar `person` from every resident (`resident_id` empty) or from one (a no-contact order)."""
    _require_coordinator(actor)
    reason = (reason or "").strip()
    resident = None
    if resident_id not in (None, "", 0, "0"):
        resident = get_by_id(User, parse_id(resident_id))
        if resident is None or resident.role != "resident" or resident.id == person.id:
            raise FieldError("resident_id", _("Choose one of the residents listed."))
    if not reason:
        raise FieldError("reason", _("Say why, for the other coordinators (only coordinators see it)."))
    if len(reason) > MAX_REASON:
        raise FieldError("reason", _("Keep the reason under %(limit)s characters.", limit=MAX_REASON))
    if person.id == actor.id:
        raise NotAllowed(_("Another coordinator has to decide a bar on you."))
    same = db.session.scalar(select(Bar.id).where(Bar.person_id == person.id, Bar.lifted_at.is_(None),
                                                  Bar.resident_id.is_(None) if resident is None
                                                  else Bar.resident_id == resident.id))
    if same is not None:
        raise Conflict(_("This bar is already in place."))
    bar = Bar(person_id=person.id, resident_id=resident.id if resident else None, reason=reason, created_by_id=actor.id)
    db.session.add(bar)
    db.session.flush()
    others = [resident.id] if resident else select(User.id).where(User.role == "resident")
    withdrawn = withdraw_pending(person.id, others)
    audit.record(actor, "bar_add", "user", person.id, bar=bar.id, resident=bar.resident_id, withdrawn=withdrawn)
    db.session.commit()
    return bar


def lift_bar(actor: User, bar_id: int) -> Bar:
    """End a bar (the row stays, with who lifted it)."""
    _require_coordinator(actor)
    bar = get_by_id(Bar, bar_id)
    if bar is None or actor.id in (bar.person_id, bar.resident_id):
        raise NotAllowed(_("No such bar."))
    if bar.lifted_at is not None:
        raise Conflict(_("This bar was already lifted."))
    bar.lifted_at, bar.lifted_by_id = utcnow(), actor.id
    audit.record(actor, "bar_lift", "user", bar.person_id, bar=bar.id, resident=bar.resident_id)
    db.session.commit()
    return bar
