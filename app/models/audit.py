from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class AuditEntry(db.Model):
    """Who did what to which object, and when. Append-only: the model refuses updates and deletes,
    and on PostgreSQL a trigger refuses them too."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class AppendOnlyError(Exception):
    """An attempt to change or delete a row of an append-only table."""


_APPEND_ONLY: set[str] = set()


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_changes(state) -> None:
    """Bulk `update()` / `delete()` statements skip the mapper events below; stop them here."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        table = state.bind_mapper.local_table.name
        if table in _APPEND_ONLY:
            raise AppendOnlyError(f"{table} is append-only; add a new entry instead")


def make_append_only(model) -> None:
    """Refuse UPDATE and DELETE of `model` rows through the ORM, one by one or in bulk."""
    _APPEND_ONLY.add(model.__tablename__)

    @event.listens_for(model, "before_update")
    def _no_update(_mapper, _conn, target):
        raise AppendOnlyError(f"{model.__tablename__} is append-only; add a new entry instead")

    @event.listens_for(model, "before_delete")
    def _no_delete(_mapper, _conn, target):
        raise AppendOnlyError(f"{model.__tablename__} is append-only; add a new entry instead")


make_append_only(AuditEntry)
