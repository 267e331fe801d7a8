"""What each kind of help needs: for a category and an audience (residents' needs, or everyone's),
the checks a helper must hold, in date. Set by coordinators and admins; applied by
app/services/exclusions.py wherever a need meets an offer. Changes are in the audit log."""
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import HelpRule, User
from app.models.safety import AUDIENCES, CHECK_KINDS, RULE_CATEGORIES
from app.services import FieldError, NotAllowed, audit


def choices() -> list[str]:
    """Every (category, audience, check) a rule can be, as the form's values "rides:residents:licence"."""
    return [f"{c}:{a}:{k}" for c in RULE_CATEGORIES for a in AUDIENCES for k in CHECK_KINDS]


def current() -> set[str]:
    """The rules in force, in the form's values."""
    return {f"{c}:{a}:{k}" for c, a, k in db.session.execute(
        select(HelpRule.category, HelpRule.audience, HelpRule.check_kind))}


def set_rules(actor: User, chosen) -> tuple[int, int]:
    """Make the rules exactly `chosen` (values of `choices()`). Returns (added, removed)."""
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can do that."))
    chosen = set(chosen or ())
    if not chosen <= set(choices()):
        raise FieldError("rule", _("Choose among the checks listed."))
    before = current()
    added, removed = sorted(chosen - before), sorted(before - chosen)
    for value in removed:
        category, audience, kind = value.split(":")
        db.session.delete(db.session.scalar(select(HelpRule).where(
            HelpRule.category == category, HelpRule.audience == audience, HelpRule.check_kind == kind)))
    for value in added:
        category, audience, kind = value.split(":")
        db.session.add(HelpRule(category=category, audience=audience, check_kind=kind, created_by_id=actor.id))
    if added or removed:
        audit.record(actor, "help_rules", "help_rules", None, added=added, removed=removed)
    db.session.commit()
    return len(added), len(removed)
