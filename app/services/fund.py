"""The emergency support fund: pledges, receipts, requests, the two-coordinator rule, payments.

Every movement of money is one balanced ledger transaction, written in the same database
transaction as the change that causes it, after taking the fund lock (`_lock`): an UPDATE of the
single `fund_lock` row, which makes concurrent movements wait for each other on PostgreSQL and on
SQLite alike. The available balance is then read from the ledger itself, so no approval can spend
money another approval already took.
"""
import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from babel.numbers import format_currency
from flask import current_app
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import func, select, update

from app.extensions import db
from app.i18n import DEFAULT, in_language
from app.ids import get_by_id
from app.models import FundApproval, FundLock, FundRequest, LedgerEntry, LedgerNote, LedgerTransaction, Pledge, User
from app.models.fund import METHODS, PLEDGE_FREQUENCIES, PURPOSES
from app.services import Conflict, FieldError, NotAllowed, audit
from app.services.accounts import require_confirmed
from app.services.disclosure import acting_coordinator
from app.services.mail import queue_email
from app.timeutil import utc_to_local, utcnow

log = logging.getLogger(__name__)
MAX_CENTS = 100_000_000  # $1,000,000: anything larger is a typo
MAX_AMOUNT_CHARS = 20  # "$1,000,000.00" is 13; anything longer is over MAX_CENTS or not an amount
_AMOUNT = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")


# Money ----------------------------------------------------------------------------------------

def parse_amount(text: str | None, field: str = "amount") -> int:
    """'12', '12.5', '$1,200.00' -> cents. Anything else gets a sentence for the field."""
    value = (text or "").strip()
    if not value:
        raise FieldError(field, _("Enter an amount in dollars, like 125 or 125.50."))
    if len(value) > MAX_AMOUNT_CHARS:  # before int(): it refuses more than 4,300 digits with an error
        raise FieldError(field, _("That is more than this fund handles; check the amount."))
    if value.startswith("-"):
        raise FieldError(field, _("Enter an amount above zero."))
    match = _AMOUNT.match(value)
    if not match:
        if re.match(r"^\$?\s*\d+\.\d{3,}$", value):
            raise FieldError(field, _("Use at most two digits after the point (cents)."))
        raise FieldError(field, _("Enter an amount in dollars, like 125 or 125.50."))
    cents = int(match.group(1).replace(",", "")) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if cents <= 0:
        raise FieldError(field, _("Enter an amount above zero."))
    if cents > MAX_CENTS:
        raise FieldError(field, _("That is more than this fund handles; check the amount."))
    return cents


def dollars(cents: int | None) -> str:
    """Cents as money in the reader's language: "$1,234.56" in English, "1.234,56 US$" in Spanish."""
    return format_currency(Decimal(cents or 0) / 100, "USD", locale=get_locale() or DEFAULT)


# The ledger -----------------------------------------------------------------------------------

def _lock() -> None:
    """Take the fund lock for the rest of this transaction (see the module docstring)."""
    done = db.session.execute(update(FundLock).where(FundLock.id == 1).values(version=FundLock.version + 1)).rowcount
    if not done:  # a fresh database without the row (the migration inserts it)
        db.session.add(FundLock(id=1, version=1))
        db.session.flush()


def _post(kind: str, entries: dict[str, int], actor: User | None, memo: str, occurred_on: date | None = None,
          reference: str | None = None, reason: str | None = None, **fields) -> LedgerTransaction:
    """One balanced transaction. `memo` is built from kinds and ids; what someone typed (a reference,
    a reason) goes to its LedgerNote, which an account's deletion can erase (the ledger cannot change)."""
    tx = LedgerTransaction(kind=kind, occurred_on=occurred_on or utc_to_local(utcnow()).date(),
                           actor_id=actor.id if actor else None, memo=memo[:300], **fields)
    tx.entries = [LedgerEntry(account=account, amount_cents=amount) for account, amount in entries.items() if amount]
    if reference or reason:
        tx.note = LedgerNote(reference=reference or None, reason=reason or None)
    db.session.add(tx)
    db.session.flush()
    return tx


def balances() -> dict[str, int]:
    rows = db.session.execute(select(LedgerEntry.account, func.sum(LedgerEntry.amount_cents)).group_by(LedgerEntry.account))
    totals = {account: int(total or 0) for account, total in rows}
    return {a: totals.get(a, 0) for a in ("cash", "gifts", "payable", "grants")}


def available_cents(b: dict[str, int] | None = None) -> int:
    """Received minus paid minus approved-but-unpaid: cash on hand less what is owed."""
    b = b or balances()
    return b["cash"] + b["payable"]


# Pledges and receipts -------------------------------------------------------------------------

def pledge(member: User, amount_text: str, frequency: str, note: str = "") -> Pledge:
    require_confirmed(member)
    cents = parse_amount(amount_text)
    if frequency not in PLEDGE_FREQUENCIES:
        raise FieldError("frequency", _("Choose one-off or monthly."))
    p = Pledge(member_id=member.id, amount_cents=cents, frequency=frequency, note=(note or "").strip()[:300] or None)
    db.session.add(p)
    db.session.commit()
    return p


def record_receipt(actor: User, amount_text: str, method: str, received_on: date | None, pledge_id: int | None,
                   reference: str = "") -> LedgerTransaction:
    """A coordinator records money that actually arrived, against a pledge or as an anonymous gift."""
    _coordinator(actor)
    cents = parse_amount(amount_text)
    if method not in METHODS:
        raise FieldError("method", _("Choose cash, check or online transfer."))
    if received_on is None:
        raise FieldError("received_on", _("Enter the date the money arrived."))
    if received_on > utc_to_local(utcnow()).date():
        raise FieldError("received_on", _("That date is in the future."))
    pledge_row = None
    if pledge_id:
        pledge_row = get_by_id(Pledge, pledge_id)
        if pledge_row is None:
            raise FieldError("pledge_id", _("Choose one of the listed pledges, or anonymous gift."))
    _lock()
    tx = _post("receipt", {"cash": cents, "gifts": -cents}, actor,
               "Gift received" if pledge_row is None else f"Pledge {pledge_row.id} received",
               occurred_on=received_on, method=method, reference=(reference or "").strip()[:120] or None,
               pledge_id=pledge_row.id if pledge_row else None, donor_id=pledge_row.member_id if pledge_row else None)
    audit.record(actor, "fund_receipt", "ledger", tx.id, cents=cents, method=method)
    db.session.commit()
    return tx


def reverse(actor: User, transaction_id: int, reason: str) -> LedgerTransaction:
    """Correct a mistake with a reversing transaction; the original stays in the ledger."""
    _coordinator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", _("Say what was wrong, for the treasurer."))
    original = get_by_id(LedgerTransaction, transaction_id)
    if original is None or original.kind == "reversal":
        raise NotAllowed(_("No such transaction to reverse."))
    if original.request_id is not None:
        raise Conflict(_("Grants and payments are corrected through their request, not here."))
    if db.session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.reverses_id == original.id)):
        raise Conflict(_("This transaction was already reversed."))
    _lock()
    entries = {e.account: -e.amount_cents for e in original.entries}
    if original.kind == "receipt" and available_cents() + entries.get("cash", 0) < 0:
        raise Conflict(_("Reversing this receipt would leave less than what is already approved."))
    tx = _post("reversal", entries, actor, f"Reverses #{original.id}", reason=reason[:300], reverses_id=original.id)
    # The reason stays on the ledger note only: the audit log is append-only and keeps codes, never typed words.
    audit.record(actor, "fund_reversal", "ledger", tx.id, reverses=original.id)
    db.session.commit()
    return tx


# Requests -------------------------------------------------------------------------------------

def _coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can do that."))


def _used_in_90_days(person_id: int) -> int:
    since = utcnow() - timedelta(days=90)
    return db.session.scalar(select(func.coalesce(func.sum(FundRequest.amount_cents), 0)).where(
        FundRequest.requester_id == person_id, FundRequest.created_at >= since,
        FundRequest.status.in_(("pending", "approved", "paid")))) or 0


def create_request(actor: User, requester: User, amount_text: str, purpose: str, payee: str, note: str = "") -> FundRequest:
    """A resident asks, or a coordinator asks on a resident's behalf; limits come from settings."""
    require_confirmed(actor)
    if requester.id != actor.id:
        _coordinator(actor)
        if requester.role != "resident":
            raise NotAllowed(_("Coordinators ask on behalf of residents only."))
    elif actor.role not in ("resident", "coordinator", "admin"):
        raise NotAllowed(_("The fund helps residents; a coordinator can help you ask."))
    cents = parse_amount(amount_text)
    cfg = current_app.config
    if cents > cfg["FUND_MAX_REQUEST_CENTS"]:
        raise FieldError("amount", _("One request can be at most %(amount)s.", amount=dollars(cfg["FUND_MAX_REQUEST_CENTS"])))
    used = _used_in_90_days(requester.id)
    if used + cents > cfg["FUND_MAX_PER_PERSON_90D_CENTS"]:
        left = max(cfg["FUND_MAX_PER_PERSON_90D_CENTS"] - used, 0)
        raise FieldError("amount", _("The limit is %(limit)s per person in 90 days; %(left)s is left for now.",
                                     limit=dollars(cfg["FUND_MAX_PER_PERSON_90D_CENTS"]), left=dollars(left)))
    if purpose not in PURPOSES:
        raise FieldError("purpose", _("Choose what the money is for."))
    payee = (payee or "").strip()
    if not payee:
        raise FieldError("payee", _("Name who gets paid (the landlord or company): the fund never pays cash to the person."))
    if len(payee) > 120:
        raise FieldError("payee", _("Keep the payee under 120 characters."))
    note = (note or "").strip()
    if len(note) > 2000:
        raise FieldError("note", _("Keep the note under 2,000 characters."))
    req = FundRequest(requester_id=requester.id, created_by_id=actor.id, amount_cents=cents, purpose=purpose,
                      payee=payee, note=note or None)
    db.session.add(req)
    db.session.flush()
    audit.record(actor, "fund_request", "fund_request", req.id, cents=cents)
    db.session.commit()
    return req


def _get_request(request_id: int) -> FundRequest:
    req = get_by_id(FundRequest, request_id)
    if req is None:
        raise NotAllowed(_("No such request."))
    return req


def may_decide(actor: User, req: FundRequest) -> str | None:
    """Why this coordinator may not approve or decline this request, or None if they may."""
    if not actor.is_coordinator:
        return _("Only coordinators decide fund requests.")
    if actor.id == req.requester_id:
        return _("You can't decide a request for yourself.")
    if actor.id == req.created_by_id:
        return _("You filed this request; two other coordinators decide it.")
    return None


APPROVALS_NEEDED = 2


@dataclass
class ApprovalProgress:
    """Where a pending request stands, for the coordinator looking at it."""

    approvers: list  # FundApproval rows, oldest first
    still_needed: int
    mine: object | None  # this coordinator's approval, if they gave one
    can_approve: bool
    can_decline: bool
    why_not: str | None


def counted_approvals(req: FundRequest) -> list:
    """Approvals that count now: from people who are coordinators today and are neither the
    person asking nor the one who filed the request."""
    return [a for a in req.approvals if a.coordinator_id not in (req.requester_id, req.created_by_id)
            and db.session.get(User, a.coordinator_id).is_coordinator]


def approval_progress(actor: User, req: FundRequest) -> ApprovalProgress:
    approvals = sorted(counted_approvals(req), key=lambda a: (a.created_at, a.id))
    mine = next((a for a in approvals if a.coordinator_id == actor.id), None)
    rule = may_decide(actor, req)
    why = rule
    if mine is not None and rule is None:
        why = _("You have approved this request; another coordinator gives the second approval.")
    pending = req.status == "pending"
    return ApprovalProgress(approvals, max(APPROVALS_NEEDED - len(approvals), 0), mine,
                            pending and why is None, pending and rule is None, why)


def approve(actor: User, request_id: int) -> FundRequest:
    """One coordinator's approval. The second, from a different coordinator, grants the money, if
    the fund's available balance covers it at that moment."""
    req = _get_request(request_id)
    why = may_decide(actor, req)
    if why:
        raise NotAllowed(why)
    _lock()
    db.session.refresh(req)  # the state as it is now that we hold the lock
    if req.status != "pending":
        raise Conflict(_("This request is %(state)s; it can't be approved now.", state=str(req.state_label).lower()))
    if any(a.coordinator_id == actor.id for a in req.approvals):
        raise Conflict(_("You have already approved this request; a second coordinator must approve it."))
    db.session.add(FundApproval(request_id=req.id, coordinator_id=actor.id))
    audit.record(actor, "fund_approve", "fund_request", req.id, cents=req.amount_cents)
    db.session.flush()
    db.session.refresh(req)
    if len(counted_approvals(req)) >= APPROVALS_NEEDED:
        if available_cents() < req.amount_cents:
            db.session.rollback()
            raise Conflict(_("The fund has %(amount)s available, less than this request. "
                             "It stays pending until more money is received.", amount=dollars(available_cents())))
        req.status, req.decided_at = "approved", utcnow()
        with in_language(DEFAULT):  # the ledger is kept in English, whoever approves
            memo = f"Grant for request {req.id} ({PURPOSES[req.purpose]})"
        _post("approval", {"grants": req.amount_cents, "payable": -req.amount_cents}, actor, memo, request_id=req.id)
        _notify(req, _l("Fund request approved"), "fund_approved")
    db.session.commit()
    return req


def decline(actor: User, request_id: int, reason: str) -> FundRequest:
    req = _get_request(request_id)
    why = may_decide(actor, req)
    if why:
        raise NotAllowed(why)
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", _("Say why, for the resident's coordinator."))
    _lock()
    db.session.refresh(req)
    if req.status != "pending":
        raise Conflict(_("This request is %(state)s; it can't be declined now.", state=str(req.state_label).lower()))
    req.status, req.decided_at, req.decline_reason, req.declined_by_id = "declined", utcnow(), reason[:300], actor.id
    audit.record(actor, "fund_decline", "fund_request", req.id)  # the reason is on the request (erasable)
    _notify(req, _l("Fund request declined"), "fund_declined")
    db.session.commit()
    return req


def record_payment(actor: User, request_id: int, paid_on: date | None, method: str, reference: str) -> FundRequest:
    """Once approved, a coordinator records the payment to the payee."""
    _coordinator(actor)
    req = _get_request(request_id)
    if actor.id == req.requester_id:
        raise NotAllowed(_("You can't record a payment for your own request."))
    if paid_on is None:
        raise FieldError("paid_on", _("Enter the payment date."))
    if paid_on > utc_to_local(utcnow()).date():
        raise FieldError("paid_on", _("That date is in the future."))
    if method not in METHODS:
        raise FieldError("method", _("Choose cash, check or online transfer."))
    reference = (reference or "").strip()
    if not reference:
        raise FieldError("reference", _("Enter the check number or transfer reference."))
    _lock()
    db.session.refresh(req)
    if req.status != "approved":
        raise Conflict(_("This request is %(state)s; only an approved request can be paid.",
                         state=str(req.state_label).lower()))
    req.status, req.paid_on, req.payment_method, req.payment_reference, req.paid_by_id = \
        "paid", paid_on, method, reference[:120], actor.id
    _post("payment", {"payable": req.amount_cents, "cash": -req.amount_cents}, actor,
          f"Paid request {req.id} to payee", occurred_on=paid_on, method=method, reference=reference[:120],
          request_id=req.id)
    audit.record(actor, "fund_payment", "fund_request", req.id, cents=req.amount_cents, method=method)
    _notify(req, _l("Fund request paid"), "fund_paid")
    db.session.commit()
    return req


def cancel_approved(actor: User, request_id: int, reason: str) -> FundRequest:
    """An approved grant that will not be paid after all: its approval is reversed in the ledger."""
    _coordinator(actor)
    req = _get_request(request_id)
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", _("Say why."))
    _lock()
    db.session.refresh(req)
    if req.status != "approved":
        raise Conflict(_("Only an approved, unpaid request can be cancelled."))
    grant = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.request_id == req.id,
                                                              LedgerTransaction.kind == "approval"))
    _post("reversal", {e.account: -e.amount_cents for e in grant.entries}, actor,
          f"Reverses #{grant.id}", reason=reason[:300], reverses_id=grant.id, request_id=req.id)
    req.status, req.decline_reason = "cancelled", reason[:300]
    audit.record(actor, "fund_cancel", "fund_request", req.id)  # the reason is on the request (erasable)
    db.session.commit()
    return req


def _notify(req: FundRequest, subject, template: str) -> None:
    """Email the requester's coordinator (who registered them, or who asked for them), in the
    coordinator's language; the template formats the amount (`|dollars`) in that language."""
    requester = db.session.get(User, req.requester_id)
    coordinator = acting_coordinator(requester, req.created_by_id)
    if coordinator is None:
        return
    queue_email(coordinator.email, subject, template, kind=template, locale=coordinator.language, req=req,
                coordinator=coordinator, requester=requester, purpose=PURPOSES[req.purpose])
