"""Running a queued import (the worker's "csv_import" task, or this process after the response),
and the welcome link each imported member is emailed to choose their password.

The good lines go in batches of BATCH, each batch one transaction that also moves the job's
counts on, so the page shows progress and a crash loses at most one batch: a run that stopped is
taken over after STALE, and lines whose key is already remembered are not created again. Members
come first (their lines were saved first), so a post's owner from the same import exists by then.
Posts are saved with the post rules (posts._validate, posts._apply) but without running the
matching engine line by line: the hourly match tick proposes for them (`proposed_at` is empty).

Imported members have no password. Their email carries a signed link, valid WELCOME_DAYS and good
once (it carries the account's reset nonce, rotated when it is used), to choose one; following
it proves the address, so the account is confirmed then. No password is ever made up or sent.
"""
import logging
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.i18n import DEFAULT, in_language
from app.models import Post, User
from app.models.imports import ImportJob, ImportKey, ImportRow
from app.models.users import new_token
from app.services import FieldError, ServiceError, accounts, geo
from app.services.csv_import import post_input, postable_owner, purge_stale
from app.services.digests import subscription_for
from app.services.mail import queue_email
from app.services.posts import _apply as apply_post, _validate as validate_post
from app.timeutil import utcnow

log = logging.getLogger(__name__)
BATCH = 200
STALE = timedelta(minutes=10)
WELCOME_DAYS = 14
MAX_FAILURES_KEPT = 500


def run(job_id: int) -> dict:
    """Import the job's good lines; returns its counts. Does nothing if another run has it."""
    now = utcnow()
    claimed = db.session.execute(
        update(ImportJob).where(ImportJob.id == job_id, or_(
            ImportJob.status == "queued",
            (ImportJob.status == "running") & (ImportJob.heartbeat_at < now - STALE)))
        .values(status="running", started_at=func.coalesce(ImportJob.started_at, now), heartbeat_at=now)).rowcount
    db.session.commit()
    if not claimed:
        return {"claimed": False}
    job = db.session.get(ImportJob, job_id)
    actor = db.session.get(User, job.created_by_id)
    with in_language(actor.language if actor else None):
        try:
            if actor is None or not actor.is_coordinator:
                _fail(job, _("The coordinator who started this import can no longer import."))
            else:
                _run_all(job, actor)
        except Exception:  # noqa: BLE001 - the job says it failed; its lines stay a day for another try
            db.session.rollback()
            log.exception("import %s failed", job_id)
            _fail(db.session.get(ImportJob, job_id), _("Something went wrong during the import. "
                                                        "What was imported stays; start it again to import the rest."))
    job = db.session.get(ImportJob, job_id)
    log.info("import %s %s: %s members, %s posts, %s failed", job.id, job.status, job.members_created,
             job.posts_created, job.failed_rows)
    return {"claimed": True, "members": job.members_created, "posts": job.posts_created, "failed": job.failed_rows}


def _fail(job: ImportJob, message: str) -> None:
    job.status, job.finished_at = "failed", utcnow()
    job.failures = [*job.failures, {"file": "", "line": 0, "column": "", "message": message}]
    db.session.commit()


def _run_all(job: ImportJob, actor: User) -> None:
    from app.services.outbox import deliver_after_commit

    last = 0
    while True:
        ids = [r for r in db.session.scalars(select(ImportRow.id).where(
            ImportRow.job_id == job.id, ImportRow.state == "ok", ImportRow.id > last).order_by(ImportRow.id).limit(BATCH))]
        if not ids:
            break
        last = ids[-1]
        emails = _batch_with_retry(job.id, actor.id, ids)
        if emails:
            deliver_after_commit({"email": emails})  # the worker's outbox job retries any that fail
    job = db.session.get(ImportJob, job.id)
    job.status, job.finished_at = "done", utcnow()
    db.session.execute(delete(ImportRow).where(ImportRow.job_id == job.id))  # the uploaded lines are no longer needed
    purge_stale()
    db.session.commit()


def _batch_with_retry(job_id: int, actor_id: int, ids: list[int]) -> list[int]:
    """One batch; if another import created the same member or post meanwhile (a unique key),
    the batch is done again, and this time finds it."""
    for attempt in range(3):
        try:
            return _batch(db.session.get(ImportJob, job_id), db.session.get(User, actor_id), ids)
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    return []


def _batch(job: ImportJob, actor: User, ids: list[int]) -> list[int]:
    batch = list(db.session.scalars(select(ImportRow).where(ImportRow.id.in_(ids)).order_by(ImportRow.id)))
    done = set(db.session.scalars(select(ImportKey.key).where(ImportKey.key.in_([r.key for r in batch]))))
    todo = [r for r in batch if r.key not in done]
    failures: list[dict] = []
    members = _members(job, actor, [r for r in todo if r.kind == "members"], failures)
    posts = _posts(job, actor, [r for r in todo if r.kind == "posts"], failures)
    db.session.flush()
    emails = []
    for row, user in members:
        db.session.add(ImportKey(key=row.key, kind="members", user_id=user.id, job_id=job.id))
        emails.append(_welcome_email(actor, user))
    for row, post in posts:
        db.session.add(ImportKey(key=row.key, kind="posts", post_id=post.id, job_id=job.id))
    job.done_rows += len(batch)
    job.members_created += len(members)
    job.posts_created += len(posts)
    job.failed_rows += len(failures)
    job.failures = [*job.failures, *failures][:MAX_FAILURES_KEPT]
    job.heartbeat_at = utcnow()
    db.session.commit()
    return [row.id for row in emails]


def _failure(row: ImportRow, column: str, message: str) -> dict:
    return {"file": row.kind, "line": row.line, "column": column, "message": str(message)}


def _members(job, actor, todo: list[ImportRow], failures: list) -> list[tuple[ImportRow, User]]:
    emails = [r.email for r in todo]
    taken = set(db.session.scalars(select(func.lower(User.email)).where(func.lower(User.email).in_(emails)))) if emails else set()
    made = []
    for row in todo:
        v = row.values
        if row.email in taken:  # an account was made with this address since the preview
            failures.append(_failure(row, "email", _("There is already an account with this email address.")))
            continue
        place = geo.lookup_zip(v["zip"])
        user = User(name=v["name"], email=row.email, role="member", phone=v.get("phone") or None,
                    language=v.get("language") or DEFAULT, created_by_id=actor.id, contact_method="email",
                    reset_nonce=new_token())
        if place is not None:
            user.zip_code, user.town, user.state, user.lat, user.lon = place.zip_code, place.town, place.state, place.lat, place.lon
        db.session.add(user)
        taken.add(row.email)
        made.append((row, user))
    return made


def _posts(job, actor, todo: list[ImportRow], failures: list) -> list[tuple[ImportRow, Post]]:
    if not todo:
        return []
    db.session.flush()  # members of this batch own some of these posts
    owners = {email: uid for email, uid in db.session.execute(
        select(func.lower(User.email), User.id).where(func.lower(User.email).in_({r.email for r in todo}),
                                                      User.deleted_at.is_(None), postable_owner()))}
    lifetime = timedelta(days=current_app.config["POST_LIFETIME_DAYS"])
    made = []
    for row in todo:
        owner_id = owners.get(row.email)
        if owner_id is None:
            failures.append(_failure(row, "owner_email", _("No account a coordinator may post for has this email any more.")))
            continue
        data = post_input(row.values)
        post = Post(owner_id=owner_id, created_by_id=actor.id, expires_at=utcnow() + lifetime)
        try:
            validate_post(data)  # again: a time may have gone by since the preview
            apply_post(post, data)
        except FieldError as err:
            failures.append(_failure(row, err.field or "", err.message))
            continue
        db.session.add(post)
        made.append((row, post))
    return made


# The welcome link --------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="import-welcome")


def welcome_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "n": user.reset_nonce})


def _welcome_email(actor: User, user: User):
    from app.jobs.registry import external

    return queue_email(user.email, _l("You have an account on Mutual Aid Exchange"), "import_welcome",
                       kind="import_welcome", locale=user.language, user=user, inviter=actor.first_name,
                       url=external("imports.welcome", token=welcome_token(user)), days=WELCOME_DAYS)


def user_for_welcome(token: str) -> User:
    """The imported member a welcome link is for; ServiceError if it expired, was altered or was used."""
    try:
        data = _serializer().loads(token, max_age=WELCOME_DAYS * 86400)
    except SignatureExpired:
        raise ServiceError(_("This link has expired. Choose \u201cForgot your password?\u201d on the log-in page "
                             "to get a new one.")) from None
    except BadSignature:
        raise ServiceError(_("This link is not valid.")) from None
    user = None
    if isinstance(data, dict) and isinstance(data.get("u"), int) and 0 < data["u"] < 2**31:
        user = db.session.get(User, data["u"])
    if user is None or not user.email or user.deleted_at is not None or data.get("n") != user.reset_nonce:
        raise ServiceError(_("This link has already been used. Log in, or choose \u201cForgot your password?\u201d."))
    return user


def accept_welcome(token: str, password: str) -> User:
    """Set the imported member's first password through their link (once); one commit."""
    user = user_for_welcome(token)
    accounts.check_password_strength(password)
    user.password_hash = accounts.hash_password(password)
    user.reset_nonce = new_token()  # the link works once
    user.session_token = new_token()
    user.email_confirmed_at = user.email_confirmed_at or utcnow()  # following the link proved the address
    subscription_for(user)  # weekly digest, as for every new member
    db.session.commit()
    log.info("imported member %s chose a password", user.id)
    return user
