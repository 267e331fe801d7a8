"""The one list of scheduled jobs: what runs, how often, and at what local time.

The worker turns each entry into a periodic task; the health check and the metrics read the same
entries to say which job is late. A job is *due* from its start time until the end of its period
(an hourly job from minute `at_minute` of each hour; a daily one from `at_hour:at_minute` local
time until midnight), so a worker that was down at the start time still runs it when it comes
back; the lease row for (job, period) makes sure it runs once.

Each `run` returns counts only (they are logged and kept in `job_runs.summary`).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from flask import current_app, url_for

from app.timeutil import community_zone

PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Job:
    name: str
    title: str
    every: str  # "minute", "hour" or "day"
    run: Callable[[], dict]
    at_hour: int = 0  # local hour, for daily jobs
    at_minute: int = 0

    @property
    def period_seconds(self) -> int:
        return PERIOD_SECONDS[self.every]

    def period_key(self, now_utc: datetime) -> str | None:
        """The period `now_utc` (naive UTC) falls in, or None while this period's start time has
        not come yet. Hourly and per-minute periods are counted in UTC (a local hour repeated when
        clocks go back is still two hours); days are the community's local days."""
        if self.every == "minute":
            return now_utc.strftime("%Y-%m-%dT%H:%M")
        if self.every == "hour":
            return now_utc.strftime("%Y-%m-%dT%H") if now_utc.minute >= self.at_minute else None
        local = now_utc.replace(tzinfo=timezone.utc).astimezone(community_zone())
        if (local.hour, local.minute) < (self.at_hour, self.at_minute):
            return None
        return local.strftime("%Y-%m-%d")

    def overdue_after(self) -> timedelta:
        """A job that has not succeeded for this long is late: twice its period (and a minute's
        grace for the per-minute job's own scheduling)."""
        return timedelta(seconds=2 * self.period_seconds + 60)


def external(endpoint: str, **values) -> str:
    """An absolute link for an email sent outside a request (BASE_URL)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


# ---- what each job does (the CLI commands call the same functions) ----

def send_outbox() -> dict:
    from app.services.outbox import send_all

    done = send_all()
    sent, failed = done["email"]
    texts_sent, texts_failed = done["text"]
    return {"sent": sent, "failed": failed, "texts_sent": texts_sent, "texts_failed": texts_failed}


def send_digests() -> dict:
    from app.jobs.runner import checkpoint
    from app.services.digests import send_digests as queue_digests

    run = queue_digests()
    checkpoint("digests:queued")
    return {"due": run.due, "queued": run.sent, "empty": run.empty, "no_place": run.skipped_no_place,
            **_mail()}


def match_tick() -> dict:
    from app.jobs.runner import checkpoint
    from app.services import followup, matches, occurrences, proposals
    from app.services.posts import refresh_urgency_keys

    link = lambda m: external("matches.detail", match_id=m.id)  # noqa: E731
    outcome = lambda token: external("matches.outcome_by_link", token=token)  # noqa: E731
    refresh_urgency_keys()
    proposed = proposals.propose_missing()
    checkpoint("match-tick:proposed")
    expired = matches.expire_unanswered()
    reminded = followup.send_reminders(link) + occurrences.send_reminders(link)
    asked = followup.send_followups(link, outcome)
    return {"proposed": proposed, "reopened": expired, "reminded": reminded, "asked": asked, **_mail()}


def expire_posts() -> dict:
    from app.jobs.runner import checkpoint
    from app.services.posts import expire_posts as expire

    expired, warned = expire(lambda post: external("posts.detail", post_id=post.id))
    checkpoint("posts-expire:committed")
    return {"expired": expired, "warned": warned, **_mail()}


def match_run(progress=None) -> dict:
    from app.jobs.runner import checkpoint
    from app.services.proposals import run_all

    report = run_all(progress or (lambda done, total: checkpoint("match-run:progress")))
    return {"needs": report.needs, "offers": report.offers, "proposals": report.proposals,
            "replaced": report.cancelled, "unmet": report.unmet}


def group_sessions() -> dict:
    from app.jobs.runner import checkpoint
    from app.services import groups_reminders, groups_schedule

    link = lambda s: external("groups.session", session_id=s.id)  # noqa: E731
    added = groups_schedule.extend_all()
    checkpoint("sessions:scheduled")
    return {"sessions_added": added, **groups_reminders.send_reminders(link), **_mail()}


def vetting_reminders() -> dict:
    from app.services.vetting import send_expiry_reminders

    announced = send_expiry_reminders(lambda: external("safety.expiring"))
    return {"checks_announced": announced, **_mail()}


def retention() -> dict:
    from app.services import retention as rules

    return rules.run()


def count_reports() -> dict:
    from app.services import report_summary

    return report_summary.refresh()


def recount_reports() -> dict:
    from app.services import report_summary

    return report_summary.refresh(full=True)


def housekeeping() -> dict:
    from app.jobs.runner import prune_runs

    return {"job_runs_pruned": prune_runs(days=30)}


def statistics() -> dict:
    from app.services import planner

    return planner.refresh()


def _mail() -> dict:
    sent = send_outbox()
    return {"emails_sent": sent["sent"], "emails_failed": sent["failed"], "texts_sent": sent["texts_sent"],
            "texts_failed": sent["texts_failed"]}


JOBS: tuple[Job, ...] = (
    Job("outbox", "Send queued email and texts (retries, texts held for quiet hours, anything missed)", "minute", send_outbox),
    Job("digests", "Digests of new requests", "hour", send_digests, at_minute=0),
    Job("match-tick", "Proposals for posts left without, unanswered matches, reminders, follow-ups",
        "hour", match_tick, at_minute=5),
    Job("sessions", "Group sessions: schedule ahead, reminders", "hour", group_sessions, at_minute=10),
    Job("posts-expire", "Close expired posts and warn owners", "day", expire_posts, at_hour=3),
    Job("match-run", "Nightly re-match of every open post", "day", match_run, at_hour=2),
    Job("vetting", "Email coordinators the checks expiring soon", "day", vetting_reminders, at_hour=6),
    Job("retention", "Remove old exact places, emails, messages and case notes (counts stay)", "day", retention,
        at_hour=4, at_minute=30),
    Job("reports", "Count the reports' daily summary again where needs or matches changed", "minute", count_reports),
    Job("reports-rebuild", "Count the reports' daily summary again from scratch", "day", recount_reports, at_hour=5),
    Job("statistics", "Fresh planner statistics (ANALYZE), so queries keep their indexes as tables grow", "day",
        statistics, at_hour=4, at_minute=15),
    Job("housekeeping", "Forget job runs older than 30 days", "day", housekeeping, at_hour=4),
)
BY_NAME = {job.name: job for job in JOBS}
