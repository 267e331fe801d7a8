"""Email through the outbox (app/services/outbox.py): queued in the caller's transaction,
delivered after the commit, claimed once, retried with backoff. This module says how an email is
written and how it goes over SMTP; a row sent twice (killed between the server's "250 OK" and our
commit) carries the same Message-ID, which mail stores use to recognise the copy.
"""
import logging
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import parseaddr

from flask import current_app, render_template

from app.extensions import db
from app.models import OutboxEmail
from app.services import outbox

log = logging.getLogger(__name__)
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
    outbox.remember(EMAIL, row)
    return row


def build_message(row) -> EmailMessage:
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


def _send(conn, row) -> None:
    conn.send_message(build_message(row))


def _keeps_connection(exc: BaseException) -> bool:
    # The server answered (a refusal): the connection is still good for the next email.
    return isinstance(exc, smtplib.SMTPResponseException)


def _metric(sent: int, failed: int) -> None:
    from app.ops.metrics import emails

    emails(sent, failed)


EMAIL = outbox.Channel(
    name="email", model=OutboxEmail, columns=("to_addr", "subject", "body_text", "body_html", "unsubscribe_url"),
    prefix="MAIL", connect=_connect, send=_send, close=_close, retry_on=(smtplib.SMTPException, OSError),
    keeps_connection=_keeps_connection, drop=lambda conn: conn.close(), metric=_metric)


def send_pending(limit: int | None = None, only_ids: list[int] | None = None) -> tuple[int, int]:
    """Deliver due emails until none are left (or `limit` were tried); safe to run at any time.

    Returns (sent, failed attempts); a failed row is retried later or, after the last attempt, kept
    as failed with its error."""
    return outbox.send_pending(EMAIL, limit, only_ids)
