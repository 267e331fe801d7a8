"""A resident's case: private notes that only coordinators ever see."""
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import CaseNote, User
from app.services import FieldError, NotAllowed, audit

MAX_NOTE = 4000


def notes_of(actor: User, resident: User) -> list[CaseNote]:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can read case notes."))
    return list(db.session.scalars(select(CaseNote).where(CaseNote.resident_id == resident.id)
                                   .order_by(CaseNote.created_at.desc())))


def add_note(actor: User, resident: User, body: str) -> CaseNote:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can write case notes."))
    body = (body or "").strip()
    if not body:
        raise FieldError("body", _("Write the note first."))
    if len(body) > MAX_NOTE:
        raise FieldError("body", _("Keep a note under %(max)s characters.", max=MAX_NOTE))
    note = CaseNote(resident_id=resident.id, author_id=actor.id, body=body)
    db.session.add(note)
    db.session.flush()
    audit.record(actor, "case_note", "user", resident.id, note=note.id)
    db.session.commit()
    return note
