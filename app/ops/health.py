"""What /readyz reports: can this process serve, and is the rest of the site well.

`unavailable` (HTTP 503: a proxy takes the node out of rotation) only when this process cannot
serve: the database does not answer or its schema is behind the code. A late job, a stuck outbox
or an unreachable Redis make the site `degraded`: still 200, with the reason in the body and in
the metrics, because taking every node out for a failing mail server would make things worse.
"""
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import OutboxEmail, OutboxText
from app.timeutil import real_utcnow

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(cfg).get_heads())


def outbox_state() -> dict:
    """Emails waiting or failed; texts the same, counted apart. A text held for quiet hours is not
    late: only texts already due count towards the oldest waiting one."""
    pending = db.session.execute(
        select(func.count(), func.min(OutboxEmail.created_at)).where(OutboxEmail.status.in_(("pending", "sending")))
    ).one()
    failed = db.session.scalar(select(func.count()).where(OutboxEmail.status == "failed"))
    oldest = (real_utcnow() - pending[1]).total_seconds() if pending[1] else None
    texts = db.session.execute(
        select(func.count(), func.min(OutboxText.next_attempt_at)).where(OutboxText.status.in_(("pending", "sending")))
    ).one()
    texts_failed = db.session.scalar(select(func.count()).where(OutboxText.status == "failed"))
    text_wait = (real_utcnow() - texts[1]).total_seconds() if texts[1] else None
    return {"pending": pending[0], "failed": failed, "oldest_pending_seconds": round(oldest) if oldest else None,
            "texts_pending": texts[0], "texts_failed": texts_failed,
            "oldest_due_text_seconds": round(text_wait) if text_wait and text_wait > 0 else None}


def _redis_urls() -> list[str]:
    cfg = current_app.config
    urls = [cfg.get("QUEUE_URL") or "", cfg.get("RATELIMIT_STORAGE_URI") or ""]
    return sorted({u for u in urls if u.startswith(("redis://", "rediss://"))})


def _redis_ok(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except redis.RedisError:
        return False


def readiness() -> tuple[int, dict]:
    """(HTTP status, report). The report holds counts, times and job names: no personal data."""
    from app.jobs.runner import states

    checks: dict = {}
    problems: list[str] = []
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure to reach the database means this node cannot serve
        db.session.rollback()
        return 503, {"status": "unavailable", "checks": {"database": "unreachable"}, "problems": ["database"]}
    current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")).all())
    behind = current != set(head_revisions())
    checks["migrations"] = "behind" if behind else "at head"
    for url in _redis_urls():
        ok = _redis_ok(url)
        checks.setdefault("redis", "ok")
        if not ok:
            checks["redis"] = "unreachable"
            problems.append("redis")
    box = outbox_state()
    checks["outbox"] = box
    stuck = current_app.config["OUTBOX_STUCK_SECONDS"]
    if any((box[key] or 0) > stuck for key in ("oldest_pending_seconds", "oldest_due_text_seconds")):
        problems.append("outbox")
    jobs = {}
    for state in states():
        jobs[state.name] = {"every": state.every,
                            "last_success": state.last_success.isoformat() + "Z" if state.last_success else None,
                            "last_failure": state.last_failure.isoformat() + "Z" if state.last_failure else None,
                            "overdue": state.overdue}
        if state.overdue:
            problems.append(f"job:{state.name}")
    checks["jobs"] = jobs
    if behind:
        return 503, {"status": "unavailable", "checks": checks, "problems": ["migrations", *problems]}
    return 200, {"status": "degraded" if problems else "ok", "checks": checks, "problems": problems}
