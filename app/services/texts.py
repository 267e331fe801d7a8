"""Texts through the outbox (app/services/outbox.py): queued in the caller's transaction, delivered
after the commit by the provider (app/services/text_providers.py), claimed once, retried with
backoff, kept as failed with the provider's error.

A text is short and plain: it names nobody but by first name and never carries an address; the
details are behind a link that needs the reader's login or a signed token (app/services/text_links.py).
Quiet hours (TEXT_QUIET_START to TEXT_QUIET_END, community time) hold a text until the morning,
unless what it is about happens before then. A STOP cancels every text still waiting, and a
claimed text whose member has stopped texts since it was queued is cancelled, not sent.
"""
import logging
from datetime import datetime, time, timedelta

from flask import current_app, render_template
from sqlalchemy import select, update

from app.extensions import db
from app.models import OutboxText, User
from app.services import outbox
from app.services.text_providers import TryLater, provider
from app.timeutil import local_to_utc, utc_to_local, utcnow

log = logging.getLogger(__name__)
# One SMS segment is 160 GSM characters (70 with any other character); a notice fits in three.
MAX_LENGTH = 459
# The answers carriers allow even to a number that sent STOP: the confirmation of the STOP itself
# and the answer to HELP.
AFTER_STOP = frozenset({"stop_confirmed", "help"})


def render_text(template: str, **context) -> str:
    """`templates/text/<template>.txt`, as one short block: blank lines kept, other space folded."""
    raw = render_template(f"text/{template}.txt", **context)
    lines = [" ".join(line.split()) for line in raw.strip().splitlines()]
    text = "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1]))
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1].rstrip() + "…"


def quiet_until(now_utc: datetime) -> datetime | None:
    """The end of the quiet hours `now_utc` falls in (naive UTC), or None outside them."""
    cfg = current_app.config
    start, end = cfg["TEXT_QUIET_START"], cfg["TEXT_QUIET_END"]
    local = utc_to_local(now_utc)
    hour = local.hour
    quiet = (hour >= start or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    return local_to_utc(day, time(end, 0))


def due_at(now_utc: datetime, happens_at: datetime | None = None) -> datetime:
    """When a text queued now may go: now, or the end of the quiet hours, unless what it is about
    (`happens_at`, naive UTC) comes before the morning (a same-day ride): then now."""
    until = quiet_until(now_utc)
    if until is None or (happens_at is not None and now_utc < happens_at <= until):
        return now_utc
    return until


def queue_text(user: User | None, body: str, kind: str = "notice", *, to_number: str | None = None,
               happens_at: datetime | None = None, quiet: bool = True) -> OutboxText | None:
    """Add a text to the outbox in the current transaction (the caller commits). Nothing for a
    member who cannot get texts (no verified number, or STOP). `quiet=False` for an answer to a
    text the person just sent us, which is never held."""
    if user is not None:
        reachable = user.can_get_texts or (kind in AFTER_STOP and user.mobile and user.mobile_verified_at)
        if not reachable:
            return None
        to_number = user.mobile
    if not to_number:
        return None
    now = utcnow()
    row = OutboxText(user_id=user.id if user is not None else None, to_number=to_number, body=body[:1600], kind=kind,
                     happens_at=happens_at, next_attempt_at=due_at(now, happens_at) if quiet else now)
    db.session.add(row)
    outbox.remember(TEXT, row)
    return row


def cancel_waiting(user_id: int) -> int:
    """STOP: every text still waiting for this member is cancelled at once (the caller commits)."""
    return db.session.execute(
        update(OutboxText).where(OutboxText.user_id == user_id, OutboxText.status == "pending")
        .values(status="cancelled", claim_token=None).execution_options(synchronize_session=False)
    ).rowcount


def _withdrawn(rows) -> set:
    """Claimed texts whose member stopped texts (or lost the number) since they were queued."""
    user_ids = {row.user_id for row in rows if row.user_id is not None and row.kind not in AFTER_STOP}
    if not user_ids:
        return set()
    ok = {uid: (mobile, stopped) for uid, mobile, stopped in db.session.execute(
        select(User.id, User.mobile, User.texts_stopped_at).where(User.id.in_(user_ids))).all()}
    gone = set()
    for row in rows:
        if row.user_id in ok and row.kind not in AFTER_STOP:
            mobile, stopped = ok[row.user_id]
            if stopped is not None or mobile != row.to_number:
                gone.add(row.id)
    return gone


def _status_url() -> str | None:
    base = current_app.config["BASE_URL"].rstrip("/")
    if current_app.config["TEXT_PROVIDER"] in ("", "console"):
        return None
    return f"{base}/texts/status"


class _Connection:
    def __init__(self):
        self.provider = provider()
        self.conn = self.provider.connect()
        self.status_url = _status_url()


def _connect() -> _Connection:
    return _Connection()


def _send(conn: _Connection, row) -> dict:
    values = {"provider_id": conn.provider.send(conn.conn, row.to_number, row.body, conn.status_url)}
    if row.kind == "phone_code":
        values["body"] = "[a verification code]"  # once sent, the code is not kept (only its hash is)
    return values


def _close(conn: _Connection) -> None:
    conn.provider.close(conn.conn)


def _metric(sent: int, failed: int) -> None:
    from app.ops.metrics import texts

    texts(sent, failed)


TEXT = outbox.Channel(
    name="text", model=OutboxText, columns=("user_id", "to_number", "body", "kind", "happens_at"), prefix="TEXT",
    connect=_connect, send=_send, close=_close, retry_on=(TryLater, OSError), keeps_connection=lambda exc: True,
    withdrawn=_withdrawn, metric=_metric, retry_at=lambda out, when: due_at(when, out.happens_at))


def send_pending(limit: int | None = None, only_ids: list[int] | None = None) -> tuple[int, int]:
    """Deliver due texts (the worker's per-minute job; `flask mail send-pending` too)."""
    return outbox.send_pending(TEXT, limit, only_ids)


# How far along a sent text is, by the provider's status: its reports come one request each and
# may arrive out of order, so a late "sent" never overwrites "delivered".
_DELIVERY_STEP = {"accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3,
                  "undelivered": 3, "failed": 3, "read": 4}


def record_delivery(provider_id: str, status: str, error_code: str | None = None) -> bool:
    """The provider's later word on a sent text (delivered, undelivered, failed): kept on the row,
    and an undelivered or failed text counts as the member's last failed text."""
    row = db.session.scalar(select(OutboxText).where(OutboxText.provider_id == provider_id))
    if row is None:
        return False
    if _DELIVERY_STEP.get(status, 0) < _DELIVERY_STEP.get(row.delivery or "", 0):
        return True  # an older report, arriving late
    row.delivery = status[:20]
    if status in ("undelivered", "failed"):
        row.last_error = f"Delivery {status}" + (f" (error {error_code})" if error_code else "")
    db.session.commit()
    return True
