from datetime import date, datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ReportDay(db.Model):
    """What became of the needs posted on one local day (money needs left out), as of the
    summary's last refresh (app/services/report_summary.py): one row a day, so that a year is 366
    rows however many needs it had.

    `counts`: {"category": {key: {outcome: needs}}, "town": {town: {outcome: needs}}};
    `approval` / `done`: the whole seconds each need took to its first approved match / to done,
    sorted (the medians and 90th percentiles are read from them, exactly)."""

    __tablename__ = "report_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    needs: Mapped[int]
    completed: Mapped[int]  # matches of these needs completed
    no_shows: Mapped[int]  # matches of these needs that did not happen
    counts: Mapped[dict] = mapped_column(JSON)
    approval: Mapped[list] = mapped_column(JSON)
    done: Mapped[list] = mapped_column(JSON)


class ReportMark(db.Model):
    """The one row that says how far the summary has counted: every change to a need or its
    matches made before `counted_to` (less a margin for transactions still open then) is in it."""

    __tablename__ = "report_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    counted_to: Mapped[datetime | None]
    rebuilt_at: Mapped[datetime | None]
    zone: Mapped[str | None] = mapped_column(String(64))  # the community's zone its days were counted in
