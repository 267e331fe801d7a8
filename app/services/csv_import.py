"""CSV imports for coordinators: upload, preview, then import the good lines in the background.

`preview` reads a members file and/or a posts file (csv_import_rows.py), checks every line and
the lines against each other and the database (the same email twice, an address that already has
an account, a post's owner that is neither an account nor in the members file), and saves the
job with its lines in one commit. `start` queues the job: the worker runs it (csv_import_run.py),
or, without a worker (MAIL_DELIVERY other than "worker": the tests, `make dev`), this process
runs it once the response has gone out. The page polls the job's counts.

Each line has a stable key (an HMAC of its normalised content under the secret key; for a member,
of the address): what it created is remembered under that key (ImportKey), so a second upload of
the same file finds its lines "already imported" and importing it creates nothing twice.

The uploaded lines are personal data: they are deleted when the import finishes, or a day after
the upload (`purge_stale`: at every upload, at the end of every run, and hourly by the worker).
"""
import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, insert, or_, select, update

from app.after_response import later
from app.extensions import db
from app.models import User
from app.models.imports import ImportJob, ImportKey, ImportRow
from app.services import FieldError, NotAllowed, ServiceError, audit
from app.services import csv_import_rows as rows
from app.services.posts import PostInput, _validate as validate_post
from app.timeutil import utcnow

log = logging.getLogger(__name__)
KEEP_ROWS = timedelta(days=1)
CHUNK = 500
# PostInput fields as the posts file names them, for a problem found by the post rules.
_POST_FIELD_COLUMNS = {"kind": "kind", "category": "category", "title": "title", "details": "details",
                       "quantity": "quantity", "windows": "start", "appointment_day": "appointment",
                       "destination_kind": "destination", "radius_miles": "radius", "offer_format": "format",
                       "zip_code": "zip", "urgency": "urgency", "fund_purpose": "category"}


def require_coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can import members and posts."))


def row_key(kind: str, canonical: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"csv-import:{kind}\n{canonical}".encode(), hashlib.sha256).hexdigest()


def post_input(v: dict) -> PostInput:
    """The PostInput of a post line's values (times are local wall-clock times)."""
    when = lambda text: datetime.fromisoformat(text) if text else None  # noqa: E731
    start, end, appointment = when(v.get("start")), when(v.get("end")), when(v.get("appointment"))
    need = v["kind"] == "need"
    windows = [(start, end)] if start and end else []
    return PostInput(kind=v["kind"], category=v["category"], title=v["title"], details=v.get("details") or "",
                     zip_code=v["zip"], quantity=v["quantity"], urgency=v.get("urgency") or 0,
                     duration_min=v.get("duration") or 60, flexible=need and not windows and not appointment,
                     radius_miles=None if need else v.get("radius"), offer_format=v.get("format"),
                     destination_kind=v.get("destination"), appointment_at=appointment, windows=windows)


# The preview -----------------------------------------------------------------------------------

def preview(actor: User, members: bytes | None, posts: bytes | None) -> ImportJob:
    """Read and check the files; save the job (status "preview") and its lines. FieldError when
    neither file was given."""
    require_coordinator(actor)
    if not members and not posts:
        raise FieldError("members", _("Choose a members file, a posts file, or both."))
    purge_stale()
    file_problems, lines = [], []
    member_lines: dict[str, dict] = {}
    if members:
        parsed = rows.read_file(members, "members")
        file_problems += [dict(p, file="members") for p in parsed.problems]
        lines += _check_members(parsed, member_lines)
    if posts:
        parsed = rows.read_file(posts, "posts")
        file_problems += [dict(p, file="posts") for p in parsed.problems]
        lines += _check_posts(parsed, member_lines)
    job = ImportJob(created_by_id=actor.id, status="preview", file_problems=file_problems, total_rows=len(lines),
                    good_rows=sum(1 for r in lines if r["state"] == "ok"),
                    skipped_rows=sum(1 for r in lines if r["state"] == "skip"),
                    problem_rows=sum(1 for r in lines if r["state"] == "problem"))
    db.session.add(job)
    db.session.flush()
    for i in range(0, len(lines), CHUNK):
        db.session.execute(insert(ImportRow), [dict(r, job_id=job.id) for r in lines[i:i + CHUNK]])
    audit.record(actor, "csv_import_preview", "import", job.id, lines=job.total_rows, good=job.good_rows)
    db.session.commit()
    log.info("coordinator %s previewed import %s: %s lines, %s good", actor.id, job.id, job.total_rows, job.good_rows)
    return job


def _in_chunks(values: list, query) -> set:
    found = set()
    for i in range(0, len(values), CHUNK):
        found |= set(db.session.scalars(query(values[i:i + CHUNK])))
    return found


def _existing_keys(keys: list[str]) -> set[str]:
    return _in_chunks(keys, lambda part: select(ImportKey.key).where(ImportKey.key.in_(part)))


def _existing_emails(emails: list[str]) -> set[str]:
    return _in_chunks(emails, lambda part: select(func.lower(User.email)).where(func.lower(User.email).in_(part)))


def postable_owner():
    """Whom a coordinator may post for, as on the site ("on behalf of residents only"): residents,
    and accounts a coordinator made that nobody has logged in to yet (imported members). Never
    another member, a coordinator or an admin."""
    return or_(User.role == "resident", and_(User.role == "member", User.created_by_id.is_not(None),
                                              User.password_hash.is_(None)))


def _owner_emails(emails: list[str]) -> set[str]:
    return _in_chunks(emails, lambda part: select(func.lower(User.email)).where(func.lower(User.email).in_(part),
                                                                                User.deleted_at.is_(None), postable_owner()))


def _line(kind: str, line: int, values: dict, problems: list, key: str, email: str | None) -> dict:
    return {"kind": kind, "line": line, "values": values, "problems": problems, "key": key, "email": email or None,
            "state": "problem" if problems else "ok"}


def _check_members(parsed, member_lines: dict[str, dict]) -> list[dict]:
    out = []
    for number, cells in parsed.lines:
        values, problems = rows.check_member(parsed, cells)
        email = values["email"]
        if email and email in member_lines:
            problems.append({"column": parsed.headers["email"],
                             "message": _("This email is also on line %(line)s.", line=member_lines[email]["line"])})
        out.append(_line("members", number, values, problems, row_key("members", email or f"line {number}"), email))
        if email and email not in member_lines:
            member_lines[email] = out[-1]
    emails = [r["email"] for r in out if r["email"]]
    imported, existing = _existing_keys([r["key"] for r in out]), _existing_emails(emails)
    for r in out:
        if r["state"] != "ok" or r["email"] not in existing:
            continue
        if r["key"] in imported:
            r["state"] = "skip"  # this address came in through an earlier import
        else:
            r["state"] = "problem"
            r["problems"].append({"column": parsed.headers["email"],
                                  "message": _("There is already an account with this email address.")})
    return out


def _check_posts(parsed, member_lines: dict[str, dict]) -> list[dict]:
    out, seen = [], {}
    for number, cells in parsed.lines:
        values, problems = rows.check_post(parsed, cells)
        key = row_key("posts", json.dumps(values, sort_keys=True, ensure_ascii=False))
        if key in seen and not problems:
            problems.append({"column": "", "message": _("This line repeats line %(line)s.", line=seen[key])})
        seen.setdefault(key, number)
        if not problems:
            _dry_run(parsed, values, problems)
        out.append(_line("posts", number, values, problems, key, values.get("owner_email")))
    wanted = sorted({r["email"] for r in out if r["email"]})
    owners, accounts = _owner_emails(wanted), _existing_emails(wanted)
    imported = _existing_keys([r["key"] for r in out])
    column = parsed.headers.get("owner_email", "owner_email")
    for r in out:
        if r["state"] != "ok":
            continue
        if r["key"] in imported:
            r["state"] = "skip"
            continue
        member = member_lines.get(r["email"])
        if r["email"] in owners or (member is not None and member["state"] != "problem"):
            continue
        r["state"] = "problem"
        if member is not None:
            message = _("This owner's line in the members file (line %(line)s) has problems.", line=member["line"])
        elif r["email"] in accounts:
            message = _("Coordinators post only for residents and for members they imported: this account posts for itself.")
        else:
            message = _("No account has this email, and it is not in the members file.")
        r["problems"].append({"column": column, "message": message})
    return out


def _dry_run(parsed, values: dict, problems: list) -> None:
    """The post rules themselves, so the preview promises only what the import will accept."""
    try:
        validate_post(post_input(values))
    except FieldError as err:
        name = _POST_FIELD_COLUMNS.get((err.field or "").split("-")[0], "")
        problems.append({"column": parsed.headers.get(name, name), "message": str(err.message)})


# Reading a job ---------------------------------------------------------------------------------

def job_for(actor: User, job_id: int) -> ImportJob:
    """The coordinator's own job (an admin: anyone's); NotAllowed otherwise (views answer 404)."""
    require_coordinator(actor)
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status == "discarded" or (job.created_by_id != actor.id and not actor.is_admin):
        raise NotAllowed(_("There is no such import."))
    return job


def problems_of(job: ImportJob, limit: int = 1000) -> tuple[list[dict], int]:
    """Every problem, by file and line: (the first `limit` of them, how many there are in all)."""
    listed = [dict(p) for p in job.file_problems]
    total = len(listed)
    stmt = (select(ImportRow.kind, ImportRow.line, ImportRow.problems)
            .where(ImportRow.job_id == job.id, ImportRow.state == "problem").order_by(ImportRow.id))
    for kind, line, found in db.session.execute(stmt):
        for p in found:
            total += 1
            if len(listed) < limit:
                listed.append({"file": kind, "line": line, "column": p["column"], "message": p["message"]})
    return listed, total


def recent_jobs(actor: User, limit: int = 10) -> list[ImportJob]:
    require_coordinator(actor)
    stmt = select(ImportJob).where(ImportJob.status != "discarded")
    if not actor.is_admin:
        stmt = stmt.where(ImportJob.created_by_id == actor.id)
    return list(db.session.scalars(stmt.order_by(ImportJob.id.desc()).limit(limit)))


# Starting, discarding, forgetting ---------------------------------------------------------------

def start(actor: User, job_id: int) -> ImportJob:
    """Queue the import of the good lines; one commit, then the work is handed on."""
    job = job_for(actor, job_id)
    if not job.good_rows:
        raise ServiceError(_("There are no good lines to import. Fix the file and upload it again."))
    if job.created_at < utcnow() - KEEP_ROWS:
        raise ServiceError(_("This upload is more than a day old and its lines were deleted. Upload the file again."))
    moved = db.session.execute(update(ImportJob).where(ImportJob.id == job.id, ImportJob.status.in_(("preview", "failed")))
                               .values(status="queued")).rowcount
    if not moved:
        db.session.rollback()
        from app.services import Conflict

        raise Conflict(_("This import has already been started."))
    audit.record(actor, "csv_import_start", "import", job.id, good=job.good_rows)
    db.session.commit()
    dispatch(job.id)
    return job


def dispatch(job_id: int) -> None:
    """Hand the job to the worker; without one (or if the queue cannot take it), run it here once
    the response has gone out."""
    from app.services.csv_import_run import run

    if current_app.config["MAIL_DELIVERY"] == "worker":
        try:
            from app.jobs.queue import queue

            queue().tasks_by_name["csv_import"](job_id)
            return
        except Exception:  # noqa: BLE001 - the job is safe in the table; run it here instead
            log.warning("could not queue import %s; running it in this process", job_id, exc_info=True)
    later(run, job_id)


def discard(actor: User, job_id: int) -> None:
    job = job_for(actor, job_id)
    if job.is_running:
        from app.services import Conflict

        raise Conflict(_("This import is running and can't be discarded now."))
    db.session.execute(delete(ImportRow).where(ImportRow.job_id == job.id))
    job.status = "discarded"
    db.session.commit()


def forget_stale() -> int:
    """The worker's hourly task: `purge_stale`, committed."""
    gone = purge_stale()
    db.session.commit()
    return gone


def purge_stale(now: datetime | None = None) -> int:
    """Forget the lines of uploads older than a day (the caller commits); returns how many."""
    cutoff = (now or utcnow()) - KEEP_ROWS
    old = select(ImportJob.id).where(ImportJob.created_at < cutoff)
    gone = db.session.execute(delete(ImportRow).where(ImportRow.job_id.in_(old))).rowcount or 0
    db.session.execute(update(ImportJob).where(ImportJob.created_at < cutoff, ImportJob.status == "preview")
                       .values(status="discarded"))
    # Queued a day ago and never run (no worker): its lines are gone, so it can no longer run.
    db.session.execute(update(ImportJob).where(ImportJob.created_at < cutoff, ImportJob.status == "queued")
                       .values(status="failed", finished_at=utcnow()))
    return gone
