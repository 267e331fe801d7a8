"""The job queue and the worker process, on Huey.

Huey runs both kinds of background work with one small, well-kept library: periodic tasks (each
entry of the registry, checked every minute) and tasks on demand (deliver the email and texts a request just
queued, within a second of its commit). Its storage is a SQLite file in `instance/` by default, so
`make serve` needs nothing else running, or Redis when `QUEUE_URL` names it (several machines).
Huey's own scheduler does not know that other workers exist, so each periodic task goes through
the lease in runner.py, which makes the job run once per period however many workers ask.
"""
import gc
import logging
import os
from pathlib import Path

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from huey.storage import SqliteStorage

from app.extensions import db
from app.jobs.registry import JOBS

log = logging.getLogger("app.jobs")


class QueueStorage(SqliteStorage):
    """Huey's SQLite storage, committing without a sync to disk (`synchronous=NORMAL`, safe from
    corruption in WAL mode) instead of Huey's default full sync on every enqueue and dequeue: under
    load, a post waited on that sync (and on the worker's) while the queue was locked. What a power
    cut could lose is a hint, never the work: the post's proposals (`proposed_at` empty, the match
    tick proposes), an email or text (still in the outbox, sent by the outbox job), an import (still
    "queued", shown as such, and it can be started again)."""

    def _create_connection(self):
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class QueueHuey(SqliteHuey):
    storage_class = QueueStorage


def make_huey(app: Flask):
    url = app.config["QUEUE_URL"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("mutual-aid", url=url, results=False, utc=True)
    path = url.removeprefix("sqlite:///") if url else str(Path(app.instance_path) / "queue.sqlite")
    return QueueHuey("mutual-aid", filename=path, results=False, utc=True, timeout=10)


def init_app(app: Flask) -> None:
    """Create the queue lazily: the web process only enqueues, and most requests never do."""
    app.extensions["job_queue"] = None


def queue(app: Flask | None = None):
    app = app or current_app._get_current_object()
    if app.extensions.get("job_queue") is None:
        app.extensions["job_queue"] = _build(app)
    return app.extensions["job_queue"]


def _in_app(app: Flask, fn, *args):
    with app.app_context():
        try:
            return fn(*args)
        finally:
            db.session.remove()


def _build(app: Flask):
    huey = make_huey(app)

    @huey.task(name="deliver")
    def deliver(ids):
        """{channel: [outbox ids]} a request just committed."""
        from app.services.outbox import deliver_after_commit

        _in_app(app, deliver_after_commit, ids)

    @huey.task(name="deliver_email")
    def deliver_email(ids):
        # Tasks queued under the old name (email ids only) before an upgrade still go out.
        from app.services.outbox import deliver_after_commit

        _in_app(app, deliver_after_commit, {"email": list(ids)})

    wanted = {n.strip() for n in app.config["WORKER_JOBS"].split(",") if n.strip()}
    for job in JOBS:
        if not wanted or job.name in wanted:
            _register_periodic(app, huey, job.name)
    @huey.task(name="csv_import")
    def csv_import(job_id):
        """A coordinator's CSV import (app/services/csv_import_run.py): the good lines, in batches."""
        from app.services.csv_import_run import run

        _in_app(app, run, job_id)

    @huey.periodic_task(crontab(minute="35"), name="csv_import_forget")
    def csv_import_forget():
        """Uploaded CSV lines are kept a day at most, even when no import runs (idempotent)."""
        from app.services.csv_import import forget_stale

        _in_app(app, forget_stale)

    @huey.task(name="propose")
    def propose(post_id):
        """The engine's proposals for a post a request just committed (its own transaction)."""
        from app.services.proposals import propose_after_save

        _in_app(app, propose_after_save, post_id)

    huey.tasks_by_name = {"deliver": deliver, "deliver_email": deliver_email, "csv_import": csv_import,
                          "propose": propose}
    return huey


def _register_periodic(app: Flask, huey, name: str) -> None:
    from app.jobs.registry import BY_NAME
    from app.jobs.runner import run_job
    from app.timeutil import utcnow

    job = BY_NAME[name]

    def due(_huey_now) -> bool:
        # The scheduler's own clock is ignored: the app's clock (which tests may move) decides.
        with app.app_context():
            return job.period_key(utcnow()) is not None

    def task():
        _in_app(app, run_job, name)

    task.__name__ = f"job_{name.replace('-', '_')}"
    huey.periodic_task(due, name=f"job:{name}")(task)


def enqueue_delivery(ids: dict[str, list[int]], app: Flask | None = None) -> bool:
    """Hand the ids of committed outbox rows ({channel: ids}) to a worker; False when the queue
    cannot take them (the per-minute outbox job will send them anyway)."""
    try:
        queue(app).tasks_by_name["deliver"]({name: list(rows) for name, rows in ids.items()})
        return True
    except Exception:  # noqa: BLE001 - the rows are safe in the outbox
        log.warning("could not queue delivery; the outbox job will send it", exc_info=True)
        return False


def _lower_priority(nice: int) -> None:
    """Make this process at least `nice` (never raise its priority: that needs privileges). Under
    systemd the unit sets Nice= itself (its system-call filter refuses setpriority), so nothing is done."""
    try:
        now = os.getpriority(os.PRIO_PROCESS, 0)
        if nice > now:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError as exc:
        log.warning("could not lower the worker's priority", extra={"error": str(exc)})


# The worker keeps many objects alive (the engine's index of every open post, the vocabulary), and
# each proposal makes thousands of short-lived rows: with the default thresholds the collector
# walked the lot again and again (a read of 7,000 offers: 23 ms without it, 146 ms median with it),
# a fifth of each proposal's CPU (52 -> 41 ms at 100,000 posts). Fewer young-generation passes,
# and what was loaded at start (modules, the app) never walked again.
GC_THRESHOLDS = (50_000, 20, 10)


def _tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_worker(app: Flask, threads: int) -> None:
    """Run the consumer in this process until SIGTERM or SIGINT (both let running tasks finish)."""
    from huey.consumer import Consumer, Scheduler

    class _Scheduler(Scheduler):
        # How often periodic tasks are checked: every minute (tests make it shorter).
        periodic_task_seconds = app.config["WORKER_PERIODIC_SECONDS"]

    class _Consumer(Consumer):
        scheduler_class = _Scheduler

    _lower_priority(app.config["WORKER_NICE"])
    huey = queue(app)
    _tune_gc()
    consumer = _Consumer(huey, workers=threads, worker_type="thread", periodic=True, initial_delay=0.1,
                                    backoff=1.15, max_delay=1.0, scheduler_interval=1,
                                    check_worker_health=True, graceful_signal="TERM")
    log.info("worker started", extra={"threads": threads, "queue": type(huey).__name__, "gc": list(gc.get_threshold())})
    consumer.run()
