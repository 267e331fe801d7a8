"""Running a job once per period, safely with any number of workers.

`run_job` inserts the (job, period) lease row and commits before any work: a second worker that
tries the same period gets the unique-constraint error and does nothing. While the job works, a
heartbeat thread pushes `lease_until` forward; a worker killed with SIGKILL stops pushing, and once
the lease runs out the next worker's attempt takes the row over and runs the job again. That is
safe because every job is written to be re-run: each step commits what it finished (digests are
unique per member and period, outbox rows are claimed, expired posts are no longer open, the
nightly re-match replaces what an unfinished run left), so nothing is lost and nothing is sent
twice.
"""
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs.registry import BY_NAME, JOBS, Job
from app.models import JobRun
from app.timeutil import real_utcnow, utcnow

log = logging.getLogger("app.jobs")
WORKER_ID = f"{socket.gethostname()[:60]}:{os.getpid()}"


def _lease_seconds() -> int:
    return current_app.config["JOB_LEASE_SECONDS"]


def claim(job: Job, period: str) -> str | None:
    """Take (job, period) for this worker; the token, or None when another has it or it is done."""
    now, token = real_utcnow(), secrets.token_hex(16)
    lease = now + timedelta(seconds=_lease_seconds())
    try:
        db.session.add(JobRun(job=job.name, period=period, status="running", token=token, worker=WORKER_ID,
                              started_at=now, lease_until=lease))
        db.session.commit()
        return token
    except IntegrityError:
        db.session.rollback()
    retry_before = now - timedelta(seconds=current_app.config["JOB_RETRY_SECONDS"])
    taken = db.session.execute(
        update(JobRun)
        .where(JobRun.job == job.name, JobRun.period == period,
               or_(and_(JobRun.status == "running", JobRun.lease_until < now),
                   and_(JobRun.status == "failed", JobRun.finished_at < retry_before)))
        .values(status="running", token=token, worker=WORKER_ID, started_at=now, lease_until=lease,
                attempts=JobRun.attempts + 1, finished_at=None, error=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return token if taken.rowcount == 1 else None


class _Heartbeat(threading.Thread):
    def __init__(self, app, token: str):
        super().__init__(daemon=True, name="job-heartbeat")
        self.app, self.token, self.stop = app, token, threading.Event()

    def run(self) -> None:
        every = max(self.app.config["JOB_LEASE_SECONDS"] / 3, 0.2)
        while not self.stop.wait(every):
            try:
                with self.app.app_context(), db.engine.begin() as conn:
                    conn.execute(update(JobRun).where(JobRun.token == self.token, JobRun.status == "running")
                                 .values(lease_until=real_utcnow() + timedelta(seconds=self.app.config["JOB_LEASE_SECONDS"])))
            except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
                log.warning("job heartbeat failed", exc_info=True)


def _finish(token: str, started: float, status: str, summary: str | None, error: str | None) -> bool:
    result = db.session.execute(
        update(JobRun).where(JobRun.token == token)
        .values(status=status, finished_at=real_utcnow(), duration_ms=int((time.monotonic() - started) * 1000),
                summary=summary, error=error, lease_until=real_utcnow())
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


@dataclass
class Outcome:
    job: str
    period: str | None
    status: str  # "succeeded", "failed", "skipped" (not due, or another worker has it)
    summary: dict | None = None
    seconds: float = 0.0


def run_job(name: str, now: datetime | None = None, force_period: str | None = None) -> Outcome:
    """Run job `name` for the period `now` falls in, unless another worker has or had it."""
    from app.ops import metrics

    job = BY_NAME[name]
    period = force_period or job.period_key(now or utcnow())
    if period is None:
        return Outcome(name, None, "skipped")
    token = claim(job, period)
    if token is None:
        return Outcome(name, period, "skipped")
    app = current_app._get_current_object()
    beat = _Heartbeat(app, token)
    beat.start()
    started = time.monotonic()
    try:
        summary = job.run()
    except Exception as exc:  # noqa: BLE001 - recorded, logged with its traceback, retried later
        db.session.rollback()
        beat.stop.set()
        seconds = time.monotonic() - started
        _finish(token, started, "failed", None, type(exc).__name__[:300])
        metrics.job_finished(name, "failed", seconds)
        log.exception("job failed", extra={"job": name, "period": period, "duration_ms": int(seconds * 1000)})
        return Outcome(name, period, "failed", None, seconds)
    finally:
        beat.stop.set()  # also when something escapes (a KeyboardInterrupt): the lease must run out
    seconds = time.monotonic() - started
    text = " ".join(f"{k}={v}" for k, v in summary.items())[:300]
    if not _finish(token, started, "succeeded", text, None):
        log.warning("job finished after its lease was taken over", extra={"job": name, "period": period})
    metrics.job_finished(name, "succeeded", seconds)
    log.info("job succeeded", extra={"job": name, "period": period, "duration_ms": int(seconds * 1000),
                                     "counts": summary})
    return Outcome(name, period, "succeeded", summary, seconds)


def checkpoint(step: str) -> None:
    """A point between two committed steps of a job. With APP_ENV=testing and WORKER_STALL_AT=step
    the worker writes `<STALL_FILE>` and stops here until it is killed: the SIGKILL tests use it to
    kill a worker mid-job at a known place. Any other environment ignores it."""
    cfg = current_app.config
    if cfg["APP_ENV"] != "testing" or os.environ.get("WORKER_STALL_AT") != step:
        return
    with open(os.environ["WORKER_STALL_FILE"], "w") as fh:
        fh.write(step)
    while True:
        time.sleep(1)


def prune_runs(days: int) -> int:
    cutoff = real_utcnow() - timedelta(days=days)
    result = db.session.execute(delete(JobRun).where(JobRun.finished_at < cutoff, JobRun.status != "running"))
    db.session.commit()
    return result.rowcount


@dataclass(frozen=True)
class JobState:
    name: str
    title: str
    every: str
    last_success: datetime | None
    last_failure: datetime | None
    overdue: bool


def states() -> list[JobState]:
    """Each job's last success and failure, and whether it is late (for /readyz and /metrics).

    Before any worker has ever run, every job counts as late from the moment the first job row
    would have been due: a site whose worker never started says so."""
    rows = db.session.execute(
        select(JobRun.job, JobRun.status, func.max(JobRun.finished_at))
        .where(JobRun.status.in_(("succeeded", "failed"))).group_by(JobRun.job, JobRun.status)).all()
    last = {(job, status): at for job, status, at in rows}
    first_seen = db.session.scalar(select(func.min(JobRun.started_at)))
    now = real_utcnow()
    out = []
    for job in JOBS:
        success = last.get((job.name, "succeeded"))
        since = success or first_seen
        overdue = since is None or now - since > job.overdue_after()
        out.append(JobState(job.name, job.title, job.every, success, last.get((job.name, "failed")), overdue))
    return out
