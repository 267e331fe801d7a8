"""The one place that decides which channels carry a notice to a member.

Every notice has a kind (a match proposed to me as a helper, my request has a match, a reminder,
"did it happen?", a session reminder, a new message, a digest, a change to a match or session).
For each kind a member chooses email, text, both or neither; without a choice the defaults below
hold. What they chose is then narrowed to what can reach them now: email needs an address they log
in with, text a verified number that has not sent STOP. Email and texts both go through the
outbox (app/services/outbox.py), so each has the same guarantees; a new channel is one more entry
in CHANNELS and one more branch in `send`.
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import NoticeChoice, OutboxText, User
from app.services import FieldError, NotAllowed, audit

CHANNELS = {"email": _l("Email"), "text": _l("Text message")}


@dataclass(frozen=True)
class Kind:
    label: object  # lazy strings: shown in the reader's language
    hint: object
    email: bool = True  # the defaults
    text: bool = True  # (only ever used once they have a verified number)


KINDS: dict[str, Kind] = {
    "match_proposed": Kind(_l("Someone could use my help"),
                           _l("A coordinator matched my offer with a request: will I confirm?")),
    "match_approved": Kind(_l("My request has a match"), _l("A helper was found, or both of us confirmed.")),
    "reminder": Kind(_l("Reminders"), _l("The day before help is due.")),
    "followup": Kind(_l("Did it happen?"), _l("After the help, to say whether it happened.")),
    "session_reminder": Kind(_l("Group session reminders"), _l("The day before a session I joined."), text=False),
    "message": Kind(_l("New messages"), _l("When the person I'm matched with writes to me.")),
    "changes": Kind(_l("Changes"), _l("A match or a session is cancelled, moved or declined.")),
    "digest": Kind(_l("Digests of new requests"), _l("How often is set under Digests."), text=False),
}

# Which kind each notice template is (for a match, on which side: the helper's or the asker's).
TEMPLATE_KINDS: dict[str, str | dict] = {
    "match_approved": {"offer": "match_proposed", "need": "match_approved"},
    "match_confirmed": "match_approved",
    "match_reminder": "reminder",
    "occurrence_reminder": "reminder",
    "match_followup": "followup",
    "match_cancelled": "changes",
    "match_declined": "changes",
    "match_stopped": "changes",
    "occurrence_skipped": "changes",
    "concern_match_cancelled": "changes",
    "message_notice": "message",
    "group_reminder": "session_reminder",
    "group_host_reminder": "session_reminder",
    "group_place_opened": "changes",
    "group_request": "changes",
    "group_request_accepted": "changes",
    "group_request_refused": "changes",
    "group_session_moved": "changes",
    "group_session_cancelled": "changes",
    "group_series_cancelled": "changes",
    "group_message": "message",
}


def kind_of(template: str, side: str | None = None) -> str:
    kind = TEMPLATE_KINDS[template]
    return kind[side or "need"] if isinstance(kind, dict) else kind


def email_reaches(user: User) -> bool:
    return bool(user.email and not user.acted_for and not user.deleted_at)


def chosen(user: User, rows: dict | None = None) -> dict[str, dict[str, bool]]:
    """Every kind's channels as the member chose them (the defaults where they did not)."""
    if rows is None:
        rows = {row.kind: row for row in db.session.scalars(select(NoticeChoice).where(NoticeChoice.user_id == user.id))}
    no_email = not user.email
    result = {}
    for key, kind in KINDS.items():
        row = rows.get(key)
        if row is not None:
            result[key] = {"email": row.email, "text": row.text}
        else:
            # Someone without email hears everything by text unless they say otherwise.
            result[key] = {"email": kind.email, "text": kind.text or no_email}
    return result


def channels_for(user: User, kind: str, choices: dict | None = None) -> set[str]:
    """The channels that carry this kind of notice to this member now."""
    want = (choices or chosen(user))[kind]
    out = set()
    if want["email"] and email_reaches(user):
        out.add("email")
    if want["text"] and user.can_get_texts:
        out.add("text")
    return out


def reachable(user: User) -> bool:
    """Some channel can reach them at all (whatever they chose)."""
    return email_reaches(user) or user.can_get_texts


def may_choose_for(actor: User, user: User) -> bool:
    """A member chooses for themselves; a coordinator for a member who cannot log in."""
    return actor.id == user.id or (actor.is_coordinator and user.acted_for)


def save_choices(actor: User, user: User, choices: dict[str, dict[str, bool]]) -> None:
    """Store a member's channels for every kind (kind -> {"email": bool, "text": bool}); commits."""
    if not may_choose_for(actor, user):
        raise NotAllowed(_("You can only choose how you hear from us yourself."))
    for key in choices:
        if key not in KINDS:
            raise FieldError("kinds", _("This is not one of the kinds of notice."))
    wants_text = any(bool(c.get("text")) for c in choices.values())
    if wants_text and not (user.mobile and user.mobile_verified_at):
        raise FieldError("kinds", _("Add and confirm a mobile number before choosing texts."))
    existing = {row.kind: row for row in db.session.scalars(select(NoticeChoice).where(NoticeChoice.user_id == user.id))}
    for key, want in choices.items():
        row = existing.get(key)
        if row is None:
            row = NoticeChoice(user_id=user.id, kind=key)
            db.session.add(row)
        row.email, row.text = bool(want.get("email")), bool(want.get("text"))
    if actor.id != user.id:
        audit.record(actor, "notices_for_member", "user", user.id)
    db.session.commit()


def send(to: User, template: str, subject, *, side: str | None = None, link: str | None = None,
         happens_at: datetime | None = None, **context) -> set[str]:
    """Queue one notice to one person on the channels that carry its kind to them (the caller
    commits). Returns the channels used: empty when none reaches them (the caller may then tell
    whoever acts for them). `link` is what a text carries; `happens_at` (naive UTC) lets a text
    about something before the morning go out in quiet hours."""
    from app.i18n import in_language
    from app.services.mail import queue_email
    from app.services.texts import queue_text, render_text

    used = set()
    kind = kind_of(template, side)
    context.setdefault("person", to)
    if side is not None:
        context["side"] = side
    channels = channels_for(to, kind)
    if "email" in channels:
        queue_email(to.email, subject, template, kind=template, locale=to.language, **context)
        used.add("email")
    if "text" in channels:
        with in_language(to.language):
            body = render_text(template, link=link, **context)
        if queue_text(to, body, kind=template, happens_at=happens_at) is not None:
            used.add("text")
    return used


@dataclass
class Reach:
    """How notices reach one member, for coordinators (and the member's own page)."""

    email: bool
    text: bool
    stopped_at: datetime | None
    by_kind: dict  # kind -> set of channels that carry it now
    last_text_failure: tuple[datetime, str] | None


def reach_of(user: User) -> Reach:
    return reach_many([user])[user.id]


def reach_many(users: list[User]) -> dict[int, Reach]:
    """Reach of each of these members, in two queries however many they are (the members list)."""
    ids = [u.id for u in users]
    rows: dict[int, dict] = {}
    for row in db.session.scalars(select(NoticeChoice).where(NoticeChoice.user_id.in_(ids))):
        rows.setdefault(row.user_id, {})[row.kind] = row
    latest = (select(OutboxText.user_id, func.max(OutboxText.id).label("id"))
              .where(OutboxText.user_id.in_(ids), OutboxText.last_error.is_not(None))
              .group_by(OutboxText.user_id).subquery())
    failures = {uid: (at, error) for uid, at, error in db.session.execute(
        select(OutboxText.user_id, OutboxText.created_at, OutboxText.last_error).join(latest, latest.c.id == OutboxText.id))}
    result = {}
    for user in users:
        choices = chosen(user, rows.get(user.id, {}))
        result[user.id] = Reach(email=email_reaches(user), text=user.can_get_texts, stopped_at=user.texts_stopped_at,
                                by_kind={key: channels_for(user, key, choices) for key in KINDS},
                                last_text_failure=failures.get(user.id))
    return result
