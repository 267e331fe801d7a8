"""CSV imports of members and posts (app/services/csv_import.py).

An `ImportJob` is one upload: a members file, a posts file, or both. Its `ImportRow`s hold what
each line parsed to and its problems, only while they are needed: they are deleted when the
import finishes, or a day after the upload if it never runs. An `ImportKey` remembers, for good,
what each imported line created (a keyed hash of the line's normalised content), so importing the
same file again creates nothing twice.
"""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

JOB_STATUSES = ("preview", "queued", "running", "done", "failed", "discarded")
ROW_KINDS = ("members", "posts")
ROW_STATES = ("ok", "problem", "skip")


class ImportJob(db.Model):
    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint("status in ('preview', 'queued', 'running', 'done', 'failed', 'discarded')",
                        name="ck_import_jobs_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="preview")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]  # the runner's last batch: a stale one may be taken over
    finished_at: Mapped[datetime | None]
    # Counts at the preview: lines read, lines that will be imported, lines imported before, lines with problems.
    total_rows: Mapped[int] = mapped_column(default=0)
    good_rows: Mapped[int] = mapped_column(default=0)
    skipped_rows: Mapped[int] = mapped_column(default=0)
    problem_rows: Mapped[int] = mapped_column(default=0)
    # Counts of the run.
    done_rows: Mapped[int] = mapped_column(default=0)
    members_created: Mapped[int] = mapped_column(default=0)
    posts_created: Mapped[int] = mapped_column(default=0)
    failed_rows: Mapped[int] = mapped_column(default=0)
    # Problems with a whole file (its encoding, a missing column) and, after the run, lines that
    # could not be imported after all: [{"file", "line", "column", "message"}], never a typed value.
    file_problems: Mapped[list] = mapped_column(JSON, default=list)
    failures: Mapped[list] = mapped_column(JSON, default=list)

    @property
    def is_running(self) -> bool:
        return self.status in ("queued", "running")

    def __repr__(self) -> str:
        return f"<ImportJob {self.id} {self.status}>"


class ImportRow(db.Model):
    __tablename__ = "import_rows"
    __table_args__ = (Index("ix_import_rows_job_state", "job_id", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "members" or "posts"
    line: Mapped[int]
    state: Mapped[str] = mapped_column(String(8))  # ok, problem, skip (imported before)
    key: Mapped[str] = mapped_column(String(64))
    # The member's address, or a post's owner's: what an account deletion finds these rows by.
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    problems: Mapped[list] = mapped_column(JSON, default=list)  # [{"column", "message"}]


class ImportKey(db.Model):
    """What one imported line created: a member or a post. `key` is an HMAC of the line's
    normalised content (a member's: their address) under the secret key."""

    __tablename__ = "import_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
