"""/healthz, /readyz and /metrics as a monitor or a proxy sees them, and the request log."""
import json
import logging
import re
from datetime import timedelta

from sqlalchemy import text

from app.extensions import db
from app.jobs.runner import run_job
from app.jobs.registry import JOBS
from app.models import JobRun, OutboxEmail
from app.timeutil import real_utcnow

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def _all_jobs_ran():
    for job in JOBS:
        run_job(job.name, force_period="now")


def test_healthz_answers_anyone_without_a_login(client):
    response = client.get("/healthz", environ_base=OUTSIDE)
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_gives_outsiders_the_status_only_and_trusted_callers_the_details(client, make_user, login_as):
    _all_jobs_ran()
    outside = client.get("/readyz", environ_base=OUTSIDE)
    assert outside.status_code == 200 and outside.get_json() == {"status": "ok"}
    inside = client.get("/readyz").get_json()  # 127.0.0.1 is in OPS_ALLOWED_IPS by default
    assert inside["status"] == "ok" and inside["problems"] == []
    assert inside["checks"]["database"] == "ok" and inside["checks"]["migrations"] == "at head"
    assert set(inside["checks"]["jobs"]) == {job.name for job in JOBS}
    assert all(j["last_success"] and not j["overdue"] for j in inside["checks"]["jobs"].values())
    login_as(make_user(role="admin", email="root@example.org"))
    assert "checks" in client.get("/readyz", environ_base=OUTSIDE).get_json()  # an admin from anywhere


def test_a_late_job_or_a_stuck_outbox_degrades_the_site_but_never_takes_it_out_of_rotation(client, app):
    _all_jobs_ran()
    db.session.execute(JobRun.__table__.update().where(JobRun.job == "digests")
                       .values(finished_at=real_utcnow() - timedelta(hours=3)))
    db.session.add(OutboxEmail(to_addr="helen@example.org", subject="Hi", body_text="x",
                               created_at=real_utcnow() - timedelta(hours=1)))
    db.session.commit()
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "degraded" and body["problems"] == ["outbox", "job:digests"]
    assert body["checks"]["outbox"]["pending"] == 1 and body["checks"]["outbox"]["oldest_pending_seconds"] >= 3600
    assert "helen" not in response.get_data(as_text=True)  # counts and times, never an address


def test_readyz_is_503_when_the_schema_is_behind_the_code(client):
    _all_jobs_ran()
    (old,) = db.session.execute(text("SELECT version_num FROM alembic_version")).one()
    db.session.execute(text("UPDATE alembic_version SET version_num = 'f4b8d2a6c913'"))
    db.session.commit()
    try:
        response = client.get("/readyz", environ_base=OUTSIDE)
        assert response.status_code == 503 and response.get_json() == {"status": "unavailable"}
        assert client.get("/readyz").get_json()["checks"]["migrations"] == "behind"
    finally:
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": old})
        db.session.commit()


def test_readyz_is_503_when_the_database_does_not_answer(tmp_path):
    from tests.conftest import make_app

    broken = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing-dir/none.sqlite")
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["status"] == "unavailable"
    assert broken.test_client().get("/healthz").status_code == 200  # the process itself is fine


def test_readyz_reports_redis_when_configured(client, app):
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"  # nothing listens there
    _all_jobs_ran()
    body = client.get("/readyz").get_json()
    assert body["checks"]["redis"] == "unreachable" and body["status"] == "degraded" and "redis" in body["problems"]


def test_metrics_are_for_trusted_callers_and_count_requests_by_endpoint_and_status(client):
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 403
    before = _sample(client.get("/metrics").get_data(as_text=True), "main.index", "200")
    for _ in range(3):
        client.get("/")
    page = client.get("/metrics").get_data(as_text=True)
    assert _sample(page, "main.index", "200") == before + 3
    for name in ("mae_outbox_pending", "mae_job_overdue", "mae_emails_sent_total", "mae_engine_solve_seconds"):
        assert name in page
    assert "balance" not in page and "cents" not in page  # no money figures


def _sample(page: str, endpoint: str, status: str) -> float:
    pattern = (r'^mae_http_request_duration_seconds_count\{endpoint="%s",method="GET",status="%s"\} (\S+)$'
               % (re.escape(endpoint), status))
    found = re.search(pattern, page, re.M)
    return float(found.group(1)) if found else 0.0


def test_each_request_is_one_json_line_with_its_id_and_no_personal_data(client, app, make_user, login_as, caplog):
    from app.ops.logs import JsonFormatter

    user = make_user(name="Priya Private", email="priya@example.org")
    login_as(user)
    caplog.set_level(logging.INFO, logger="app.request")
    response = client.get("/browse?q=priya+secret", headers={"X-Request-ID": "abc12345-from-proxy"})
    assert response.headers["X-Request-ID"] == "abc12345-from-proxy"
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "app.request"]
    assert lines[-1]["request_id"] == "abc12345-from-proxy" and lines[-1]["endpoint"] == "posts.browse"
    assert lines[-1]["user_id"] == user.id and lines[-1]["status"] == 200 and lines[-1]["method"] == "GET"
    assert "priya" not in json.dumps(lines).lower()  # neither the email, the name nor the search words
    forged = client.get("/", headers={"X-Request-ID": "bad id; <script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])


def test_the_error_page_shows_the_request_id_to_quote(client):
    response = client.get("/no-such-page")
    rid = response.headers["X-Request-ID"]
    assert response.status_code == 404 and rid in response.get_data(as_text=True)


def test_a_failing_statement_is_logged_without_its_values(app):
    from sqlalchemy.exc import StatementError

    try:
        db.session.execute(text("INSERT INTO no_such_table (email) VALUES (:e)"), {"e": "priya@example.org"})
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        assert "priya@example.org" not in str(exc)
        assert isinstance(exc, StatementError)
    else:
        raise AssertionError("the statement should have failed")


def test_an_unhandled_error_is_logged_with_its_traceback_but_not_its_path(app, caplog):
    from app.ops.logs import JsonFormatter
    from app.web import public

    @public
    def broken(token):
        raise RuntimeError("broken page")

    app.add_url_rule("/broken/<token>", "broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error page, not a raise
    caplog.set_level(logging.INFO)
    response = app.test_client().get("/broken/reset-token-abc123")
    assert response.status_code == 500 and response.headers["X-Request-ID"] in response.get_data(as_text=True)
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "app.request"]
    error = next(line for line in lines if line["msg"] == "unhandled error")
    assert error["endpoint"] == "broken" and "RuntimeError: broken page" in error["traceback"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert not any("reset-token-abc123" in r.getMessage() for r in caplog.records)
