"""Vetting: the checks coordinators record for each helper, and the reminders before they expire.

A check is one of a fixed list (`CHECK_KINDS`): its date, the coordinator who did it and, except
for training, its expiry date. Adding a kind the person already has renews it. Every change is in
the audit log. Only coordinators see checks; a member never sees anyone's, and a resident matched
with a helper who holds every check the rules ask for sees only "Checked by the residence" on the
helper's contact card (`checked_by_residence`). A check expiring within `EXPIRY_NOTICE_DAYS`
is on the coordinators' list and emailed to every coordinator once (`send_expiry_reminders`,
the daily `vetting` job).
"""
import logging
from datetime import date, timedelta
from typing import Callable

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import or_, select

from app.extensions import db
from app.models import Match, User, VettingCheck
from app.models.safety import CHECK_KINDS, EXPIRY_OPTIONAL
from app.services import FieldError, NotAllowed, audit
from app.services.mail import queue_email
from app.timeutil import local_today, utcnow

log = logging.getLogger(__name__)
EXPIRY_NOTICE_DAYS = 30


def _require_coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can do that."))


def _require_not_about(actor: User, person: User) -> None:
    """A coordinator neither reads nor changes their own checks: another coordinator does."""
    if person.id == actor.id:
        raise NotAllowed(_("Another coordinator records your checks."))


def checks_of(actor: User, person: User) -> list[VettingCheck]:
    """The person's checks, in the order of the list of kinds (coordinators only, never their own)."""
    _require_coordinator(actor)
    _require_not_about(actor, person)
    order = list(CHECK_KINDS)
    rows = db.session.scalars(select(VettingCheck).where(VettingCheck.user_id == person.id)).all()
    return sorted(rows, key=lambda c: order.index(c.kind) if c.kind in order else len(order))


def save_check(actor: User, person: User, kind: str, checked_on: date | None, expires_on: date | None) -> VettingCheck:
    """Record a check of `person`, or renew the one of that kind they have (coordinators only)."""
    _require_coordinator(actor)
    _require_not_about(actor, person)
    today = local_today()
    if kind not in CHECK_KINDS:
        raise FieldError("kind", _("Choose one of the checks listed."))
    if checked_on is None:
        raise FieldError("checked_on", _("Enter the date the check was done."))
    if checked_on > today:
        raise FieldError("checked_on", _("That date is still to come: enter the date the check was done."))
    if expires_on is None and kind not in EXPIRY_OPTIONAL:
        raise FieldError("expires_on", _("Enter the date this check expires."))
    if expires_on is not None and expires_on <= checked_on:
        raise FieldError("expires_on", _("The expiry date must be after the date of the check."))
    if expires_on is not None and expires_on < today:
        raise FieldError("expires_on", _("That date has passed: a check that has expired can't be recorded."))
    check = db.session.scalar(select(VettingCheck).where(VettingCheck.user_id == person.id, VettingCheck.kind == kind))
    renewed = check is not None
    if check is None:
        check = VettingCheck(user_id=person.id, kind=kind)
        db.session.add(check)
    check.checked_on, check.expires_on, check.checked_by_id = checked_on, expires_on, actor.id
    check.reminded_for = None  # a new expiry date gets its own reminder
    check.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "vetting_renew" if renewed else "vetting_add", "user", person.id, check=kind,
                 checked_on=checked_on.isoformat(), expires_on=expires_on.isoformat() if expires_on else None)
    db.session.commit()
    return check


def remove_check(actor: User, person: User, kind: str) -> None:
    """Remove the person's check of this kind (a mistake, or a check no longer valid)."""
    _require_coordinator(actor)
    _require_not_about(actor, person)
    check = db.session.scalar(select(VettingCheck).where(VettingCheck.user_id == person.id, VettingCheck.kind == kind))
    if check is None:
        raise FieldError("kind", _("This person has no such check."))
    db.session.delete(check)
    audit.record(actor, "vetting_remove", "user", person.id, check=kind)
    db.session.commit()


def _expiring_query(today: date):
    return (select(VettingCheck).join(User, User.id == VettingCheck.user_id)
            .where(VettingCheck.expires_on.is_not(None), User.deleted_at.is_(None),
                   VettingCheck.expires_on <= today + timedelta(days=EXPIRY_NOTICE_DAYS))
            .order_by(VettingCheck.expires_on, User.name, VettingCheck.id))


def expiring(actor: User) -> list[VettingCheck]:
    """Checks that expire within EXPIRY_NOTICE_DAYS or have expired, soonest first (coordinators
    only; the reader's own checks are left out)."""
    _require_coordinator(actor)
    return list(db.session.scalars(_expiring_query(local_today()).where(VettingCheck.user_id != actor.id)))


def send_expiry_reminders(link: Callable[[], str] | None = None) -> int:
    """Email every coordinator, once per check and expiry date, the checks expiring soon (one email
    each, in their language). Returns how many checks were announced. For the daily job."""
    today = local_today()
    due = list(db.session.scalars(_expiring_query(today).where(
        or_(VettingCheck.reminded_for.is_(None), VettingCheck.reminded_for != VettingCheck.expires_on))))
    if not due:
        return 0
    coordinators = db.session.scalars(select(User).where(User.role.in_(("coordinator", "admin")), User.email.is_not(None))
                                      .order_by(User.id)).all()
    items = [({"name": c.person.name, "kind": c.kind, "expires_on": c.expires_on, "expired": c.expires_on < today},
              c.user_id) for c in due]
    url = link() if link else None
    for coordinator in coordinators:
        theirs = [item for item, person_id in items if person_id != coordinator.id]  # never their own checks
        if not theirs:
            continue
        queue_email(coordinator.email, _l("Checks expiring soon"), "vetting_expiring", kind="vetting_expiring",
                    locale=coordinator.language, user=coordinator, items=theirs, url=url, kinds=CHECK_KINDS)
    for check in due:
        check.reminded_for = check.expires_on
    db.session.commit()
    log.info("%s expiring checks announced to %s coordinators", len(due), len(coordinators))
    return len(due)


def checked_by_residence(match: Match) -> bool:
    """Whether the match's helper holds, in date, every check the rules ask for this request (and
    the rules ask for at least one): what the resident's card says as "Checked by the residence"."""
    from app.services.exclusions import load

    snapshot = load()
    kinds = snapshot.requires(match.need.category, match.need.owner_id)
    return bool(kinds) and kinds <= snapshot.provides(match.offer.owner_id)
