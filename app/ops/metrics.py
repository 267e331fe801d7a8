"""Prometheus metrics, shared by every gunicorn worker and the job worker.

With `PROMETHEUS_MULTIPROC_DIR` set (a folder the web unit empties at start), each process writes
its counters and histograms there and /metrics adds them up (the client library's multiprocess
mode); without it, /metrics shows this process only. The outbox and job figures are read from the
database at scrape time, so they are right whichever process asks. No money and no personal
figure is ever a metric.
"""
import os
from datetime import timezone

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # The client library writes each process's figures there from the first metric on.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

REQUEST_SECONDS = Histogram("mae_http_request_duration_seconds", "Time to answer a request",
                            ["endpoint", "method", "status"],
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10))
EMAILS_SENT = Counter("mae_emails_sent_total", "Emails the mail server accepted")
EMAILS_FAILED = Counter("mae_emails_failed_total", "Failed attempts to send an email")
TEXTS_SENT = Counter("mae_texts_sent_total", "Texts the text-message provider accepted")
TEXTS_FAILED = Counter("mae_texts_failed_total", "Failed attempts to send a text")
JOB_RUNS = Counter("mae_job_runs_total", "Scheduled job runs", ["job", "status"])
JOB_SECONDS = Histogram("mae_job_duration_seconds", "Time a scheduled job ran", ["job"],
                        buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600))
ENGINE_SECONDS = Histogram("mae_engine_solve_seconds", "Time the matching engine took for one solve",
                           buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120))


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_finished(endpoint: str, method: str, status: int, seconds: float) -> None:
    # A made-up method name must not make a new series: anyone can send one.
    REQUEST_SECONDS.labels(endpoint, method if method in _METHODS else "other", str(status)).observe(seconds)


def emails(sent: int, failed: int) -> None:
    if sent:
        EMAILS_SENT.inc(sent)
    if failed:
        EMAILS_FAILED.inc(failed)


def texts(sent: int, failed: int) -> None:
    if sent:
        TEXTS_SENT.inc(sent)
    if failed:
        TEXTS_FAILED.inc(failed)


def job_finished(job: str, status: str, seconds: float) -> None:
    JOB_RUNS.labels(job, status).inc()
    JOB_SECONDS.labels(job).observe(seconds)


class _DatabaseCollector:
    """Figures that live in the database: read once per scrape."""

    def collect(self):
        from app.ops.health import outbox_state
        from app.jobs.runner import states

        box = outbox_state()
        yield GaugeMetricFamily("mae_outbox_pending", "Emails waiting to be sent", value=box["pending"])
        yield GaugeMetricFamily("mae_outbox_failed", "Emails given up on after the last attempt", value=box["failed"])
        yield GaugeMetricFamily("mae_outbox_oldest_pending_seconds", "Age of the oldest email waiting",
                                value=box["oldest_pending_seconds"] or 0)
        yield GaugeMetricFamily("mae_outbox_texts_pending", "Texts waiting to be sent (quiet hours too)",
                                value=box["texts_pending"])
        yield GaugeMetricFamily("mae_outbox_texts_failed", "Texts given up on after the last attempt",
                                value=box["texts_failed"])
        last = GaugeMetricFamily("mae_job_last_success_timestamp_seconds", "When each job last succeeded (Unix time)",
                                 labels=["job"])
        late = GaugeMetricFamily("mae_job_overdue", "1 when a job has not succeeded for twice its period",
                                 labels=["job"])
        for state in states():
            if state.last_success is not None:
                last.add_metric([state.name], state.last_success.replace(tzinfo=timezone.utc).timestamp())
            late.add_metric([state.name], 1 if state.overdue else 0)
        yield last
        yield late


def render() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
        registry_local = CollectorRegistry()
        registry_local.register(_DatabaseCollector())
        return generate_latest(registry) + generate_latest(registry_local)
    registry.register(_DatabaseCollector())
    return generate_latest(registry)
