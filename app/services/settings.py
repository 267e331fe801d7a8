"""Site settings: what each key means, its default, and reading and changing them (admins only).

A setting is stored as text in `site_settings` only once an admin has saved it; until then its
default holds. Reading them costs one small query per request (kept on `g` for the rest of it):
never a cache across requests, so a change made in one worker holds in every other at once.
"""
import logging
from dataclasses import dataclass, field

from flask import g, has_request_context
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import User
from app.models.settings import SiteSetting
from app.services import Conflict, FieldError, NotAllowed, audit

log = logging.getLogger(__name__)

BOARD_VISIBILITY = "board_visibility"
PUBLIC, MEMBERS_ONLY = "public", "members"


@dataclass(frozen=True)
class Choice:
    """A setting that is one of a few values, each with the label the admin page shows."""

    default: str
    labels: dict = field(default_factory=dict)
    message: str = ""  # lazy; shown beside the field for any other value

    def parse(self, key: str, raw) -> str:
        value = raw.strip() if isinstance(raw, str) else None
        if value not in self.labels:
            raise FieldError(key, str(self.message))
        return value


SETTINGS: dict[str, Choice] = {
    BOARD_VISIBILITY: Choice(
        default=PUBLIC,
        labels={PUBLIC: _l("Public: anyone can read the requests, offers and group sessions (town and distance only)"),
                MEMBERS_ONLY: _l("Members only: only approved members can read them; new accounts wait for a "
                                 "coordinator's approval or come by invitation")},
        message=_l("Choose public or members only."),
    ),
}


def _stored() -> dict[str, str]:
    if has_request_context() and "site_settings" in g:
        return g.site_settings
    rows = dict(db.session.execute(select(SiteSetting.key, SiteSetting.value)).all())
    if has_request_context():  # jobs and commands run long: they read afresh every time
        g.site_settings = rows
    return rows


def get(key: str) -> str:
    """The setting's value now: the saved one if it is still a valid choice, else the default."""
    spec = SETTINGS[key]
    value = _stored().get(key)
    return value if value in spec.labels else spec.default


def values() -> dict[str, str]:
    """Every setting's value now, for the admin page."""
    return {key: get(key) for key in SETTINGS}


def board_members_only() -> bool:
    """True when only approved members may read the requests, offers and group sessions."""
    return get(BOARD_VISIBILITY) == MEMBERS_ONLY


def update(actor: User, changes: dict[str, object]) -> list[str]:
    """Save the settings an admin sent (key -> value as typed); returns the keys that changed.

    NotAllowed for anyone but an admin; FieldError beside the first bad value, nothing saved.
    Each change is written to the audit log in the same transaction.
    """
    if not actor.is_admin:
        raise NotAllowed(_("Only admins can change the site settings."))
    parsed = {}
    for key, raw in changes.items():
        if key not in SETTINGS:
            raise FieldError(key, _("This is not one of the site settings."))
        parsed[key] = SETTINGS[key].parse(key, raw)
    changed = []
    for key, value in parsed.items():
        old = get(key)
        if value == old:
            continue
        row = db.session.get(SiteSetting, key)
        if row is None:
            row = SiteSetting(key=key, value=value, updated_by_id=actor.id)
            db.session.add(row)
        else:
            row.value, row.updated_by_id = value, actor.id
        audit.record(actor, "setting_change", "setting", None, key=key, old=old, new=value)
        changed.append(key)
    try:
        db.session.commit()
    except IntegrityError:  # another admin saved the first value of this key at the same moment
        db.session.rollback()
        raise Conflict(_("Another admin changed the settings at the same time. Reload the page and try again.")) from None
    if has_request_context():
        g.pop("site_settings", None)
    for key in changed:
        log.info("admin %s changed setting %s", actor.id, key)
    return changed
