"""Email through an outbox: queued in the caller's transaction, delivered after the commit.

Delivery is at most one sender per row: a sender claims a batch of due rows with one conditional
UPDATE (committed before any SMTP traffic), sends them over one SMTP connection, and commits each
row as sent the moment the server accepts it. A second sender running at the same time claims
other rows; a sender killed mid-batch leaves its unsent rows `sending` until the lease
(`MAIL_CLAIM_LEASE` seconds) runs out, and the next run sends them. The only moment SMTP itself
cannot cover is between the server's "250 OK" and our commit of that one row; a row caught there
is sent again with the same Message-ID, which mail stores use to recognise the copy.
"""
import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import parseaddr

from flask import current_app, g, has_request_context, render_template
from sqlalchemy import and_, inspect, or_, select, update

from app.extensions import db
from app.models import OutboxEmail
from app.timeutil import utcnow

log = logging.getLogger(__name__)
BATCH = 200
# Headers go out unfolded up to RFC 5322's 998-character line limit. The default policy folds at
# 78 and, for a long value with no space in it (an unsubscribe URL), falls back to an RFC 2047
# encoded word, which mail clients cannot use for RFC 8058 one-click unsubscribe.
MESSAGE_POLICY = SMTP_POLICY.clone(max_line_length=998)


def _one_line(value: str) -> str:
    """Header text on one line: CR/LF in a name or title can never start a new header."""
    return " ".join((value or "").split())


def render_email(template: str, **context) -> tuple[str, str]:
    """The text and HTML bodies of `templates/email/<template>.txt` and `.html`."""
    return render_template(f"email/{template}.txt", **context), render_template(f"email/{template}.html", **context)


def queue_email(to_addr: str, subject, template: str, kind: str = "notice", locale: str | None = None,
                **context) -> OutboxEmail:
    """Add an email to the outbox in the current transaction (the caller commits).

    The subject (a lazy string, `_l(...)`) and both bodies are written in `locale`, the
    recipient's language (`user.language`), whoever's request caused the email."""
    from app.i18n import in_language

    with in_language(locale):
        text, html = render_email(template, **context)
        subject = str(subject)
    row = OutboxEmail(to_addr=to_addr, subject=_one_line(subject)[:200], body_text=text, body_html=html, kind=kind)
    db.session.add(row)
    if has_request_context():
        g.setdefault("queued_emails", []).append(row)
    return row


@dataclass(frozen=True)
class _Outgoing:
    id: int
    attempts: int
    to_addr: str
    subject: str
    body_text: str
    body_html: str | None
    unsubscribe_url: str | None


def build_message(row: "OutboxEmail | _Outgoing") -> EmailMessage:
    """The message for one outbox row; every header goes through EmailMessage, on one line."""
    cfg = current_app.config
    msg = EmailMessage(policy=MESSAGE_POLICY)
    name, addr = parseaddr(cfg["MAIL_DEFAULT_SENDER"])
    user, _, domain = addr.partition("@")
    msg["From"] = Address(display_name=_one_line(name), username=user, domain=domain or "localhost")
    msg["To"] = _one_line(row.to_addr)
    msg["Subject"] = _one_line(row.subject)
    msg["Message-ID"] = f"<outbox-{row.id}@{domain or 'localhost'}>"
    if row.unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{_one_line(row.unsubscribe_url)}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    return msg


class _Console:
    """Development without MAIL_SERVER: print each email instead of sending it."""

    def send_message(self, message: EmailMessage) -> None:
        print(message.as_string(), flush=True)

    def close(self) -> None:
        pass


def _connect():
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        return _Console()
    smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"])
    try:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _close(conn) -> None:
    try:
        if isinstance(conn, smtplib.SMTP):
            conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def _claim(limit: int, only_ids: list[int] | None = None) -> tuple[str, list["_Outgoing"]]:
    """Mark up to `limit` due rows as ours in one committed UPDATE; returns our token and the rows."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["MAIL_CLAIM_LEASE"])
    due = or_(
        and_(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now),
        and_(OutboxEmail.status == "sending", OutboxEmail.claimed_at < now - lease),
    )
    if only_ids is not None:
        due = and_(due, OutboxEmail.id.in_(only_ids))
    # SKIP LOCKED (PostgreSQL): a second sender takes the next rows instead of waiting for these.
    candidates = select(OutboxEmail.id).where(due).order_by(OutboxEmail.id).limit(limit).with_for_update(skip_locked=True)
    token = secrets.token_hex(16)
    # The same condition again in the UPDATE: a row another sender claimed in between is skipped.
    db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(candidates.scalar_subquery()), due)
        .values(status="sending", claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    # Plain values, not ORM objects: the commit after each email would expire and reload them.
    rows = db.session.execute(
        select(OutboxEmail.id, OutboxEmail.attempts, OutboxEmail.to_addr, OutboxEmail.subject, OutboxEmail.body_text,
               OutboxEmail.body_html, OutboxEmail.unsubscribe_url)
        .where(OutboxEmail.claim_token == token, OutboxEmail.status == "sending").order_by(OutboxEmail.id)
    ).all()
    return token, [_Outgoing(*row) for row in rows]


def _record(email_id: int, token: str, **values) -> None:
    """Write the outcome of one row, only if our claim still holds, and commit at once."""
    db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.claim_token == token, OutboxEmail.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _failure(email_id: int, attempts: int, exc: Exception) -> dict:
    attempts += 1
    values = dict(attempts=attempts, last_error=f"{type(exc).__name__}: {exc}"[:1000], claim_token=None)
    if attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        values["status"] = "failed"
        log.error("email %s failed for good after %s attempts", email_id, attempts)
    else:
        # Backoff: 1, 2, 4, 8 ... minutes, at most a day.
        delay = min(current_app.config["MAIL_RETRY_BASE_SECONDS"] * 2 ** (attempts - 1), 86400)
        values.update(status="pending", next_attempt_at=utcnow() + timedelta(seconds=delay))
        log.warning("email %s failed (attempt %s); next try in %ss", email_id, attempts, delay)
    return values


def send_pending(limit: int | None = None, only_ids: list[int] | None = None) -> tuple[int, int]:
    """Deliver due outbox rows until none are left (or `limit` were tried); safe to run at any time.

    Returns (sent, failed attempts); a failed row is retried later or, after the last attempt, kept
    as failed with its error."""
    sent = failed = 0
    tried = 0
    while limit is None or tried < limit:
        token, rows = _claim(BATCH if limit is None else min(BATCH, limit - tried), only_ids)
        if not rows:
            break
        tried += len(rows)
        conn = None
        for out in rows:
            try:
                if conn is None:
                    conn = _connect()
                conn.send_message(build_message(out))
            except (smtplib.SMTPException, OSError) as exc:
                _record(out.id, token, **_failure(out.id, out.attempts, exc))
                failed += 1
                if conn is not None and not isinstance(exc, smtplib.SMTPResponseException):
                    conn.close()
                    conn = None  # the connection is broken; the next row opens a new one
                continue
            _record(out.id, token, status="sent", attempts=out.attempts + 1, sent_at=utcnow(), claim_token=None)
            sent += 1
        if conn is not None:
            _close(conn)
    from app.ops.metrics import emails

    emails(sent, failed)
    return sent, failed


def deliver_after_commit(ids: list[int]) -> None:
    """Send the emails a request queued, once its transaction committed; never fails anything.

    Rows that were rolled back no longer exist and are skipped; rows that fail stay in the outbox
    for `flask mail send-pending`."""
    try:
        send_pending(only_ids=ids)
    except Exception:  # noqa: BLE001
        db.session.rollback()
        log.exception("sending queued email failed; it stays in the outbox")


def init_app(app) -> None:
    """After each request, hand what it queued to the sender once the response has gone out, so
    no page waits for the mail server (and a reset request takes as long for unknown addresses)."""

    @app.after_request
    def _send_queued(response):
        rows = g.pop("queued_emails", [])
        ids = []
        for row in rows:
            state = inspect(row)
            if state.persistent and not state.deleted and state.identity:
                ids.append(state.identity[0])
        if ids and current_app.config["MAIL_DELIVERY"] == "worker":
            from app.jobs.queue import enqueue_delivery

            flask_app = current_app._get_current_object()
            response.call_on_close(lambda: enqueue_delivery(ids, flask_app))
        elif ids:
            flask_app = current_app._get_current_object()

            def send():
                with flask_app.app_context():
                    deliver_after_commit(ids)
                    db.session.remove()

            response.call_on_close(send)
        return response
