"""Email through an outbox: queued in the caller's transaction, delivered after the commit."""
import logging
import smtplib
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr

from flask import current_app, render_template
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail
from app.timeutil import utcnow

log = logging.getLogger(__name__)


def _one_line(value: str) -> str:
    """Header text on one line: CR/LF in a name or title can never start a new header."""
    return " ".join((value or "").split())


def queue_email(to_addr: str, subject: str, template: str, kind: str = "notice", **context) -> OutboxEmail:
    """Add an email to the outbox in the current transaction (the caller commits).

    `template` names `templates/email/<template>.txt` and `.html`.
    """
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    row = OutboxEmail(to_addr=to_addr, subject=_one_line(subject)[:200], body_text=text, body_html=html, kind=kind)
    db.session.add(row)
    return row


def build_message(row: OutboxEmail) -> EmailMessage:
    cfg = current_app.config
    msg = EmailMessage()
    name, addr = parseaddr(cfg["MAIL_DEFAULT_SENDER"])
    user, _, domain = addr.partition("@")
    msg["From"] = Address(display_name=_one_line(name), username=user, domain=domain or "localhost")
    msg["To"] = row.to_addr
    msg["Subject"] = _one_line(row.subject)
    msg["Message-ID"] = f"<outbox-{row.id}@{domain or 'localhost'}>"
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    return msg


def _transport(message: EmailMessage) -> None:
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        # Development without a mail server: print instead of sending.
        print(message.as_string(), flush=True)
        return
    with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(message)


def send_pending(limit: int = 500) -> tuple[int, int]:
    """Deliver due pending emails; returns (sent, failed). Each row is committed on its own."""
    sent = failed = 0
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    ids = db.session.scalars(
        select(OutboxEmail.id)
        .where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= utcnow())
        .order_by(OutboxEmail.id)
        .limit(limit)
    ).all()
    for email_id in ids:
        row = db.session.get(OutboxEmail, email_id)
        if row is None or row.status != "pending":
            continue
        try:
            _transport(build_message(row))
        except (smtplib.SMTPException, OSError) as exc:
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            if row.attempts >= max_attempts:
                row.status = "failed"
            else:
                row.next_attempt_at = utcnow() + timedelta(minutes=2 ** row.attempts)
            failed += 1
            log.warning("email %s failed (attempt %s)", row.id, row.attempts)
        else:
            row.status = "sent"
            row.attempts += 1
            row.sent_at = utcnow()
            sent += 1
        db.session.commit()
    return sent, failed


def deliver_after_commit() -> None:
    """Called by views after a service committed: push out what it queued, never failing the request."""
    try:
        send_pending()
    except Exception:  # noqa: BLE001 - the rows stay pending for `flask mail send-pending`
        db.session.rollback()
        log.exception("sending queued email failed; it stays in the outbox")
