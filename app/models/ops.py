from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

JOB_STATUSES = ("running", "succeeded", "failed")


class JobRun(db.Model):
    """One run of a scheduled job for one period: the row is the lease, so a job runs once per period.

    The first worker to insert (job, period) runs it and keeps `lease_until` moving while it works;
    a worker that finds the row `running` past its lease (the first one died) or `failed` takes it
    over. Times here are the real time, never the test clock. `summary` holds counts only and
    `error` the exception's class: no personal data.
    """

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_runs_job_period"),
                      Index("ix_job_runs_job_status_finished", "job", "status", "finished_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="running")
    token: Mapped[str] = mapped_column(String(40))
    worker: Mapped[str] = mapped_column(String(80))
    attempts: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime]
    lease_until: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    summary: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(String(300))
