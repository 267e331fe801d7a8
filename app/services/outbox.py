"""The outbox: every channel (email, text) is queued in the caller's transaction and delivered
after the commit, with the same guarantees.

Delivery is at most one sender per row: a sender claims a batch of due rows with one conditional
UPDATE (committed before any traffic to the mail server or the text provider), sends them over one
connection, and commits each row as sent the moment the server accepts it. A second sender running
at the same time claims other rows; a sender killed mid-batch leaves its unsent rows `sending`
until the lease (`<PREFIX>_CLAIM_LEASE` seconds) runs out, and the next run sends them. A failure
is retried with a doubling backoff, and after the last attempt kept as failed with the error. The
one moment no protocol covers is between the server's acceptance and our commit of that one row: a
row caught there is sent again (an email with the same Message-ID, which mail stores recognise).

A channel says how to connect, send one row and close; which errors mean "try again later" and
which mean "this row can never be sent" (an invalid number: failed at once); and, optionally, why a
claimed row must not go after all (its member sent STOP since it was queued): cancelled, not sent.
"""
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from flask import current_app, g, has_request_context
from sqlalchemy import and_, inspect, or_, select, update

from app.extensions import db
from app.timeutil import utcnow

log = logging.getLogger(__name__)
BATCH = 200


class Permanent(Exception):
    """Raised by a channel's `send` when this row can never be delivered (try no more)."""


@dataclass(frozen=True)
class Channel:
    name: str  # "email", "text": also the word in log lines and metrics
    model: Any
    columns: tuple[str, ...]  # what `send` reads of a row (besides id and attempts)
    prefix: str  # config: <prefix>_CLAIM_LEASE, _MAX_ATTEMPTS, _RETRY_BASE_SECONDS
    connect: Callable[[], Any]
    send: Callable[[Any, Any], dict | None]  # (connection, row) -> extra values to store, e.g. the provider's id
    close: Callable[[Any], None]
    retry_on: tuple[type[BaseException], ...]  # errors after which the row is tried again later
    # After this error, is the connection still good for the next row? If not, `drop` lets it go
    # without talking to the server again.
    keeps_connection: Callable[[BaseException], bool] = lambda exc: False
    drop: Callable[[Any], None] | None = None
    # Ids among the claimed rows that must not be sent after all (cancelled, never counted as sent).
    withdrawn: Callable[[list], set] = lambda rows: set()
    metric: Callable[[int, int], None] | None = None
    # When a failed row may be tried again, given the backoff's answer (texts: not in quiet hours).
    retry_at: Callable[[Any, Any], Any] | None = None
    extra: dict = field(default_factory=dict)

    def config(self, key: str):
        return current_app.config[f"{self.prefix}_{key}"]


@dataclass(frozen=True)
class Outgoing:
    """A claimed row as plain values: the commit after each send would expire and reload ORM objects."""

    id: int
    attempts: int
    values: dict

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def remember(channel: Channel, row) -> None:
    """Note a row queued in this request, so it is delivered once the response has gone out."""
    if has_request_context():
        g.setdefault("queued_outbox", []).append((channel.name, row))


def _claim(channel: Channel, limit: int, only_ids: list[int] | None = None) -> tuple[str, list[Outgoing]]:
    """Mark up to `limit` due rows as ours in one committed UPDATE; returns our token and the rows."""
    model = channel.model
    now = utcnow()
    lease = timedelta(seconds=channel.config("CLAIM_LEASE"))
    due = or_(
        and_(model.status == "pending", model.next_attempt_at <= now),
        and_(model.status == "sending", model.claimed_at < now - lease),
    )
    if only_ids is not None:
        due = and_(due, model.id.in_(only_ids))
    # SKIP LOCKED (PostgreSQL): a second sender takes the next rows instead of waiting for these.
    candidates = select(model.id).where(due).order_by(model.id).limit(limit).with_for_update(skip_locked=True)
    token = secrets.token_hex(16)
    # The same condition again in the UPDATE: a row another sender claimed in between is skipped.
    db.session.execute(
        update(model)
        .where(model.id.in_(candidates.scalar_subquery()), due)
        .values(status="sending", claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    columns = [getattr(model, name) for name in channel.columns]
    rows = db.session.execute(
        select(model.id, model.attempts, *columns)
        .where(model.claim_token == token, model.status == "sending").order_by(model.id)
    ).all()
    return token, [Outgoing(row[0], row[1], dict(zip(channel.columns, row[2:]))) for row in rows]


def _record(channel: Channel, row_id: int, token: str, **values) -> None:
    """Write the outcome of one row, only if our claim still holds, and commit at once."""
    model = channel.model
    db.session.execute(
        update(model)
        .where(model.id == row_id, model.claim_token == token, model.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _still_ours(channel: Channel, row_id: int, token: str) -> bool:
    """Our claim still holds: a batch that outlasted its lease may have lost a row to another
    sender, which then sends it; we must not send it too."""
    model = channel.model
    return db.session.scalar(select(model.id).where(model.id == row_id, model.claim_token == token,
                                                    model.status == "sending")) is not None


def _failure(channel: Channel, out: "Outgoing", exc: BaseException, permanent: bool = False) -> dict:
    row_id, attempts = out.id, out.attempts + 1
    values = dict(attempts=attempts, last_error=f"{type(exc).__name__}: {exc}"[:1000], claim_token=None)
    if permanent or attempts >= channel.config("MAX_ATTEMPTS"):
        values["status"] = "failed"
        log.error("%s %s failed for good after %s attempts", channel.name, row_id, attempts)
    else:
        # Backoff: 1, 2, 4, 8 ... minutes, at most a day.
        delay = min(channel.config("RETRY_BASE_SECONDS") * 2 ** (attempts - 1), 86400)
        when = utcnow() + timedelta(seconds=delay)
        if channel.retry_at is not None:
            when = channel.retry_at(out, when)
        values.update(status="pending", next_attempt_at=when)
        log.warning("%s %s failed (attempt %s); next try in %ss", channel.name, row_id, attempts, delay)
    return values


def send_pending(channel: Channel, limit: int | None = None, only_ids: list[int] | None = None) -> tuple[int, int]:
    """Deliver due rows of one channel until none are left (or `limit` were tried); safe to run at
    any time. Returns (sent, failed attempts)."""
    sent = failed = 0
    tried = 0
    while limit is None or tried < limit:
        token, rows = _claim(channel, BATCH if limit is None else min(BATCH, limit - tried), only_ids)
        if not rows:
            break
        tried += len(rows)
        conn = None
        for out in rows:
            # Asked just before each send, not once per batch: a STOP that arrives while a batch is
            # going out stops the rest of it.
            if not _still_ours(channel, out.id, token):
                continue
            if out.id in channel.withdrawn([out]):
                _record(channel, out.id, token, status="cancelled", claim_token=None)
                continue
            db.session.commit()  # end that read before waiting on the server
            try:
                if conn is None:
                    conn = channel.connect()
                extra = channel.send(conn, out) or {}
            except Permanent as exc:
                _record(channel, out.id, token, **_failure(channel, out, exc, permanent=True))
                failed += 1
                continue
            except channel.retry_on as exc:
                _record(channel, out.id, token, **_failure(channel, out, exc))
                failed += 1
                if conn is not None and not channel.keeps_connection(exc):
                    _quietly_close(channel, conn)
                    conn = None  # the connection is broken; the next row opens a new one
                continue
            _record(channel, out.id, token, status="sent", attempts=out.attempts + 1, sent_at=utcnow(),
                    claim_token=None, **extra)
            sent += 1
        if conn is not None:
            channel.close(conn)
    if channel.metric:
        channel.metric(sent, failed)
    return sent, failed


def _quietly_close(channel: Channel, conn) -> None:
    try:
        (channel.drop or channel.close)(conn)
    except Exception:  # noqa: BLE001 - it was broken already
        pass


def channels() -> dict[str, Channel]:
    from app.services.mail import EMAIL
    from app.services.texts import TEXT

    return {EMAIL.name: EMAIL, TEXT.name: TEXT}


def send_all(only: dict[str, list[int]] | None = None) -> dict[str, tuple[int, int]]:
    """Every channel's due rows (or just the given ids per channel)."""
    result = {}
    for name, channel in channels().items():
        if only is not None and not only.get(name):
            continue
        result[name] = send_pending(channel, only_ids=None if only is None else only[name])
    return result


def deliver_after_commit(ids: dict[str, list[int]]) -> None:
    """Send what a request queued, once its transaction committed; never fails anything.

    Rows that were rolled back no longer exist and are skipped; rows that fail stay in the outbox
    for the worker's per-minute job."""
    try:
        send_all(ids)
    except Exception:  # noqa: BLE001
        db.session.rollback()
        log.exception("sending what a request queued failed; it stays in the outbox")


def init_app(app) -> None:
    """After each request, hand what it queued to the sender once the response has gone out, so
    no page waits for the mail server or the text provider."""

    @app.after_request
    def _send_queued(response):
        ids: dict[str, list[int]] = {}
        for name, row in g.pop("queued_outbox", []):
            # The row's id once it was flushed: persistent, or detached if something closed the
            # session after the commit. An id whose row was rolled back finds nothing to send.
            state = inspect(row)
            if state.key is not None and not state.deleted:
                ids.setdefault(name, []).append(state.key[1][0])
        if not ids:
            return response
        flask_app = current_app._get_current_object()
        if current_app.config["MAIL_DELIVERY"] == "worker":
            from app.jobs.queue import enqueue_delivery

            response.call_on_close(lambda: enqueue_delivery(ids, flask_app))
        else:
            def send():
                with flask_app.app_context():
                    deliver_after_commit(ids)
                    db.session.remove()

            response.call_on_close(send)
        return response
