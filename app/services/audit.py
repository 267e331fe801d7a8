"""The audit log: who did what to which object, and when. Rows are only ever added."""
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, User
from app.services import NotAllowed


def record(actor: User | None, action: str, subject_type: str, subject_id: int | None, **details) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits with its change)."""
    entry = AuditEntry(actor_id=actor.id if actor is not None else None, action=action,
                       subject_type=subject_type, subject_id=subject_id, details=details)
    db.session.add(entry)
    return entry


def page(actor: User, page_no: int = 1, per_page: int = 50, action: str | None = None):
    """Entries newest first, for admins; a pagination object."""
    if not actor.is_admin:
        raise NotAllowed("Only admins can read the audit log.")
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return db.paginate(stmt, page=page_no, per_page=per_page, error_out=False)
