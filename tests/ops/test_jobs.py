"""The worker: each scheduled job runs once per period however many workers run, a worker killed
mid-job loses nothing, and the jobs are due at their local times."""
import json
import os
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.jobs import registry
from app.jobs.runner import run_job, states
from app.models import Digest, JobRun, Match, OutboxEmail, Post
from app.services import digests
from app.timeutil import local_to_utc, local_today, real_utcnow
from tests.conftest import sender_env
from tests.ops import procs

JOB_NAMES = [job.name for job in registry.JOBS]


def test_every_job_is_due_from_its_start_time_to_the_end_of_its_period(app):
    hourly, daily = registry.BY_NAME["match-tick"], registry.BY_NAME["posts-expire"]
    assert hourly.period_key(datetime(2026, 12, 1, 15, 4)) is None  # starts at :05
    assert hourly.period_key(datetime(2026, 12, 1, 15, 5)) == "2026-12-01T15"
    assert hourly.period_key(datetime(2026, 12, 1, 15, 59)) == "2026-12-01T15"
    # Daily jobs follow the community's day (America/Chicago): 03:00 local on Dec 1 is 09:00 UTC.
    assert daily.period_key(datetime(2026, 12, 1, 8, 59)) is None
    assert daily.period_key(datetime(2026, 12, 1, 9, 0)) == "2026-12-01"
    assert daily.period_key(datetime(2026, 12, 2, 4, 0)) == "2026-12-01"  # 22:00 local, still Dec 1
    # Across the change to daylight time (Mar 8 2026), 03:00 local is 08:00 UTC.
    assert daily.period_key(datetime(2026, 3, 8, 7, 59)) is None
    assert daily.period_key(datetime(2026, 3, 8, 8, 0)) == "2026-03-08"


def test_a_job_runs_once_per_period_and_a_second_attempt_does_nothing(app):
    first = run_job("housekeeping", force_period="2026-12-01")
    second = run_job("housekeeping", force_period="2026-12-01")
    assert (first.status, second.status) == ("succeeded", "skipped")
    rows = db.session.scalars(select(JobRun).where(JobRun.job == "housekeeping")).all()
    assert [(r.period, r.status, r.attempts) for r in rows] == [("2026-12-01", "succeeded", 1)]
    assert rows[0].summary == "job_runs_pruned=0" and rows[0].duration_ms is not None


def test_a_run_whose_worker_died_is_taken_over_once_its_lease_has_run_out(app):
    now = real_utcnow()
    db.session.add(JobRun(job="housekeeping", period="P1", status="running", token="dead", worker="gone:1",
                          started_at=now - timedelta(minutes=5), lease_until=now + timedelta(seconds=30)))
    db.session.commit()
    assert run_job("housekeeping", force_period="P1").status == "skipped"  # the lease still holds
    db.session.execute(JobRun.__table__.update().values(lease_until=now - timedelta(seconds=1)))
    db.session.commit()
    assert run_job("housekeeping", force_period="P1").status == "succeeded"
    row = db.session.scalar(select(JobRun).where(JobRun.period == "P1"))
    assert (row.status, row.attempts) == ("succeeded", 2) and row.token != "dead"


def test_a_failed_run_is_recorded_without_details_and_tried_again_later(app, monkeypatch):
    def boom():
        raise RuntimeError("secret value helen@example.org")

    housekeeping = registry.BY_NAME["housekeeping"]
    monkeypatch.setattr(registry, "BY_NAME", dict(registry.BY_NAME, housekeeping=registry.Job(
        "housekeeping", "t", "day", boom, at_hour=4)))
    monkeypatch.setattr("app.jobs.runner.BY_NAME", registry.BY_NAME)
    assert run_job("housekeeping", force_period="P2").status == "failed"
    row = db.session.scalar(select(JobRun).where(JobRun.period == "P2"))
    assert (row.status, row.error) == ("failed", "RuntimeError")  # the class only: messages can hold data
    assert run_job("housekeeping", force_period="P2").status == "skipped"  # not before JOB_RETRY_SECONDS
    app.config["JOB_RETRY_SECONDS"] = 0
    row.finished_at = real_utcnow() - timedelta(seconds=1)
    db.session.commit()
    monkeypatch.setattr("app.jobs.runner.BY_NAME", {"housekeeping": housekeeping})
    assert run_job("housekeeping", force_period="P2").status == "succeeded"
    assert db.session.scalar(select(JobRun.attempts).where(JobRun.period == "P2")) == 2


def test_a_job_that_never_ran_is_late_and_one_that_ran_is_not(app):
    assert all(s.overdue for s in states())  # no worker has ever run
    run_job("outbox")
    by_name = {s.name: s for s in states()}
    assert not by_name["outbox"].overdue and by_name["outbox"].last_success is not None
    assert not by_name["match-run"].overdue  # a worker started less than two days ago
    db.session.execute(JobRun.__table__.update().values(started_at=real_utcnow() - timedelta(days=3),
                                                        finished_at=real_utcnow() - timedelta(days=3)))
    db.session.commit()
    assert {s.name for s in states() if s.overdue} == set(JOB_NAMES)


# ---- real worker processes -------------------------------------------------------------------

def _clock_at_digest_hour(app, tmp_path, hour=7) -> dict:
    """A test clock file that puts the worker's 'now' at the next HH:10 local, and its env."""
    now = real_utcnow()
    at = datetime.min.time().replace(hour=hour, minute=10)
    target = local_to_utc(local_today(), at)
    if target <= now:
        target = local_to_utc(local_today() + timedelta(days=1), at)
    clock = tmp_path / "clock"
    clock.write_text(str((target - now).total_seconds()))
    return {"APP_ENV": "testing", "TEST_CLOCK_FILE": str(clock), "DIGEST_HOUR": str(hour)}


@pytest.fixture
def subscribers(app, make_user, make_post):
    """Six helpers with daily digests and new needs near them: one digest each is due."""
    asker = make_user(role="resident", name="Rita Resident", email="rita@example.org")
    digests.subscription_for(asker).frequency = "never"
    helpers = []
    for i in range(6):
        helper = make_user(name=f"Helper {i}", email=f"helper{i}@example.org")
        make_post(helper, kind="offer", category="rides", title=f"Rides {i}")
        sub = digests.subscription_for(helper)
        sub.frequency, sub.since = "daily", real_utcnow() - timedelta(days=2)
        helpers.append(helper)
    db.session.commit()
    make_post(asker, title="Ride to the clinic")
    make_post(asker, title="Ride to work")
    return helpers


def _worker_env(app, tmp_path, smtp, **extra) -> dict:
    return sender_env(app, WORKER_PERIODIC_SECONDS=1, JOB_LEASE_SECONDS=2, MAIL_CLAIM_LEASE=2, LOG_FORMAT="json",
                      MAIL_DELIVERY="worker", QUEUE_URL=f"sqlite:///{tmp_path}/queue.sqlite",
                      **_clock_at_digest_hour(app, tmp_path), **extra)


def _digest_mail_by_recipient(smtp) -> dict:
    out: dict = {}
    for m in smtp.messages:
        if m["msg"]["Subject"] == "New requests near you":
            out.setdefault(m["rcpt"][0], set()).add(m["msg"]["Message-ID"])
    return out


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_two_worker_processes_run_each_job_once_per_period(app, smtp, subscribers, tmp_path):
    env = _worker_env(app, tmp_path, smtp)
    a = procs.worker(env, tmp_path / "a.log")
    b = procs.worker(env, tmp_path / "b.log")
    try:
        procs.wait_for(lambda: len(_digest_mail_by_recipient(smtp)) == 6, 60, what="six digests")
        done = lambda: db.session.scalar(select(func.count()).select_from(JobRun)  # noqa: E731
                                         .where(JobRun.status == "succeeded", JobRun.job != "outbox")) == len(JOB_NAMES) - 1
        procs.wait_for(lambda: (db.session.rollback(), done())[1], 60, what="every job to succeed")
        procs.wait_for(lambda: all('"worker started"' in p.output() for p in (a, b)), 30, what="both workers")
        time.sleep(3)  # both check the schedule every second: three more rounds within the same periods
    finally:
        codes = [a.stop(), b.stop()]
    assert codes == [0, 0], (a.output()[-2000:], b.output()[-2000:])
    db.session.rollback()
    runs = db.session.execute(select(JobRun.job, JobRun.period, JobRun.status, JobRun.attempts)).all()
    per_period = {}
    for job, period, status, attempts in runs:
        per_period.setdefault((job, period), []).append((status, attempts))
    assert all(v == [("succeeded", 1)] for v in per_period.values()), per_period
    assert {job for job, _ in per_period} == set(JOB_NAMES)
    assert {to: len(ids) for to, ids in _digest_mail_by_recipient(smtp).items()} == {
        f"helper{i}@example.org": 1 for i in range(6)}
    assert db.session.scalar(select(func.count()).select_from(Digest)) == 6
    # Which worker ran what is in their JSON logs: each run is logged by exactly one of them.
    logged = [(e["job"], e["period"]) for p in (a, b) for e in _json_lines(p.output()) if e["msg"] == "job succeeded"]
    assert sorted(logged) == sorted(per_period)


@pytest.mark.parametrize("step", ["digests:queued", "match-tick:proposed", "posts-expire:committed",
                                  "match-run:progress"])
def test_a_worker_killed_mid_job_loses_nothing(app, smtp, subscribers, make_user, make_post, tmp_path, step):
    job = step.split(":")[0]
    helper = subscribers[0]
    owner = make_user(name="Olive Owner", email="olive@example.org")
    stale = make_post(owner, title="An old request")
    stale.expires_at = real_utcnow() - timedelta(hours=1)
    db.session.commit()
    stall = tmp_path / "stalled"
    # Only this job (and the outbox) is scheduled, so nothing else is in play.
    env = _worker_env(app, tmp_path, smtp, WORKER_STALL_AT=step, WORKER_STALL_FILE=str(stall),
                      WORKER_JOBS=f"{job},outbox")
    a = procs.worker(env, tmp_path / "a.log")
    procs.wait_for(stall.exists, 60, what=f"the worker to reach {step}")
    a.kill()  # SIGKILL: no cleanup, the lease row stays "running"
    db.session.rollback()
    row = db.session.scalar(select(JobRun).where(JobRun.job == job))
    assert row.status == "running"
    env.pop("WORKER_STALL_AT")
    b = procs.worker(env, tmp_path / "b.log")
    try:
        def finished():
            db.session.rollback()
            return db.session.scalar(select(JobRun.status).where(JobRun.job == job)) == "succeeded"

        procs.wait_for(finished, 60, what=f"{job} to be taken over and finish")
        procs.wait_for(lambda: (db.session.rollback(), db.session.scalar(
            select(func.count()).where(OutboxEmail.status != "sent")) == 0)[1], 30, what="the outbox to empty")
    finally:
        b.stop()
    row = db.session.scalar(select(JobRun).where(JobRun.job == job))
    assert row.attempts == 2 and row.worker != "" and row.status == "succeeded"
    if job == "digests":
        got = _digest_mail_by_recipient(smtp)
        assert {to: len(ids) for to, ids in got.items()} == {f"helper{i}@example.org": 1 for i in range(6)}
        assert db.session.scalar(select(func.count()).select_from(Digest)) == 6
    if job == "posts-expire":
        assert db.session.get(Post, stale.id).status == "expired"
    if job in ("match-tick", "match-run"):
        # The need of every helper's category was proposed exactly once: no duplicate from the rerun.
        waiting = db.session.execute(select(Match.need_id, func.count()).where(Match.status == "proposed")
                                     .group_by(Match.need_id)).all()
        assert waiting and all(n == 1 for _, n in waiting)
    assert helper.email in {m["rcpt"][0] for m in smtp.messages} or job != "digests"


def _nice_of(pid: int) -> int:
    """The niceness the kernel gives a process (field 19 of /proc/PID/stat)."""
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[16])


def test_the_worker_runs_below_the_web_processes_priority(app, smtp, tmp_path):
    """Its work can wait a moment, a person's page cannot: WORKER_NICE (default 5) lowers the
    worker's CPU priority as it starts; it is never raised, and 0 leaves it as started."""
    base = os.getpriority(os.PRIO_PROCESS, 0)  # what the worker inherits from this test
    started = []
    for nice, expected in ((None, max(5, base)), ("7", max(7, base)), ("0", base)):
        env = _worker_env(app, tmp_path, smtp)
        env.pop("WORKER_NICE", None)
        if nice is not None:
            env["WORKER_NICE"] = nice
        w = procs.worker(env, tmp_path / f"nice-{nice}.log")
        try:
            procs.wait_for(lambda: '"worker started"' in w.output(), 30, what="the worker")
            started.append((_nice_of(w.proc.pid), expected))
            # and it collects garbage less often than the default (its index of open posts is large)
            assert '"gc": [50000, 20, 10]' in w.output()
        finally:
            w.stop()
    assert [got for got, _ in started] == [expected for _, expected in started], started


def test_the_sqlite_queue_commits_without_a_full_sync_and_keeps_what_it_was_given(app, tmp_path):
    """Write-ahead log on disk (what another process opening the file finds), no full sync on each
    commit (a post waited on it under load), and a task queued by one process's connection is
    there for another's."""
    import sqlite3

    from app.jobs.queue import make_huey

    app.config["QUEUE_URL"] = f"sqlite:///{tmp_path}/queue.sqlite"
    web, worker = make_huey(app), make_huey(app)
    web.storage.enqueue(b"a task")
    assert web.storage.conn.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL (Huey's default: 2, FULL)
    other = sqlite3.connect(tmp_path / "queue.sqlite")
    assert other.execute("pragma journal_mode").fetchone()[0] == "wal"
    other.close()
    assert worker.storage.dequeue() == b"a task" and worker.storage.dequeue() is None
