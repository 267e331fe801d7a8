"""Emails about group sessions, each in its reader's language, through the outbox.

Every email is addressed to one person and names nobody else but the host by first name (and a
requester, to the host). The exact place goes only to someone holding a place (and to the host).
"""
from typing import Callable

from flask_babel import lazy_gettext as _l

from app.models import GroupSession, User
from app.services import notify as notify_service

SUBJECTS = {
    "group_place_opened": _l("A place opened up for you"),
    "group_request": _l("Someone asks to join your group"),
    "group_request_accepted": _l("Your request to join was accepted"),
    "group_request_refused": _l("About your request to join"),
    "group_session_moved": _l("A session you joined has changed"),
    "group_session_cancelled": _l("A session you joined is cancelled"),
    "group_series_cancelled": _l("The sessions you joined are cancelled"),
    "group_reminder": _l("Reminder: your session is coming up"),
    "group_host_reminder": _l("Places are still free in your session"),
    "group_message": _l("A message about your session"),
}


def notify(person: User, template: str, session: GroupSession, link_for: Callable | None, *,
           with_place: bool = False, **context) -> None:
    """Queue `template` for one person about one session, on the channels they chose for its kind
    (app/services/notify.py). A text names neither the group nor the place: its link does."""
    url = link_for(session) if link_for else None
    notify_service.send(person, template, SUBJECTS[template], link=url, happens_at=session.starts_at,
                        session=session, title=session.offer.title, town=f"{session.offer.town}, {session.offer.state}",
                        place=session.place if with_place else None, url=url, **context)
