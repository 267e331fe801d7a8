"""The emergency support fund: pledges, requests, approvals, and a double-entry ledger.

Money is integer cents everywhere. The ledger is append-only: a correction is a new transaction
that reverses an old one. Accounts (sign: debit positive, credit negative; every transaction's
entries sum to zero):

  cash       money the fund holds            receipt +, payment -
  gifts      where received money comes from receipt -
  payable    approved grants not yet paid    approval -, payment +
  grants     money granted to households     approval +
"""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, event, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from flask_babel import lazy_gettext as _l
from app.extensions import db
from app.models.audit import make_append_only
from app.timeutil import utcnow

ACCOUNTS = ("cash", "gifts", "payable", "grants")
PURPOSES = {"rent": _l("Rent"), "utilities": _l("Utilities"), "medical": _l("Medical"), "transport": _l("Transport"), "other": _l("Other")}
METHODS = {"cash": _l("Cash"), "check": _l("Check"), "online": _l("Online transfer")}
PLEDGE_FREQUENCIES = {"one_off": _l("One-off"), "monthly": _l("Monthly")}
REQUEST_STATES = {"pending": _l("Waiting for two approvals"), "approved": _l("Approved, to be paid"), "paid": _l("Paid"),
                  "declined": _l("Declined"), "cancelled": _l("Cancelled")}


class UnbalancedTransaction(Exception):
    """A ledger transaction whose entries do not sum to zero."""


class FundLock(db.Model):
    """One row. Every movement of money first updates it, so movements happen one at a time and
    each sees the balance the previous one left (a row lock on PostgreSQL, the write lock on SQLite)."""

    __tablename__ = "fund_lock"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


class Pledge(db.Model):
    __tablename__ = "fund_pledges"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="ck_pledge_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int]
    frequency: Mapped[str] = mapped_column(String(10), default="one_off")
    note: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FundRequest(db.Model):
    __tablename__ = "fund_requests"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="ck_fund_request_positive"),
                      Index("ix_fund_requests_requester_created", "requester_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount_cents: Mapped[int]
    purpose: Mapped[str] = mapped_column(String(12))
    payee: Mapped[str] = mapped_column(String(120))  # landlord, utility company: never cash to the person
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(String(300))
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_on: Mapped[date | None]
    payment_method: Mapped[str | None] = mapped_column(String(10))
    payment_reference: Mapped[str | None] = mapped_column(String(120))
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    requester = relationship("User", foreign_keys=[requester_id], lazy="joined")
    approvals: Mapped[list["FundApproval"]] = relationship(back_populates="request", order_by="FundApproval.id")

    @property
    def state_label(self) -> str:
        return REQUEST_STATES.get(self.status, self.status)


class FundApproval(db.Model):
    """One coordinator's approval; two different ones are needed. The pair is unique."""

    __tablename__ = "fund_approvals"
    __table_args__ = (UniqueConstraint("request_id", "coordinator_id", name="uq_fund_approval_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("fund_requests.id"), index=True)
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    request: Mapped[FundRequest] = relationship(back_populates="approvals")
    coordinator = relationship("User", lazy="joined")


class LedgerTransaction(db.Model):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # receipt, approval, payment, reversal
    occurred_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Built by the code from kinds and ids ("Pledge 4 received", "Reverses #12"), never words
    # someone typed: those live in `note` (LedgerNote), which can be erased with the person they name.
    memo: Mapped[str] = mapped_column(String(300), default="")
    method: Mapped[str | None] = mapped_column(String(10))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("fund_pledges.id"))
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: an anonymous gift
    request_id: Mapped[int | None] = mapped_column(ForeignKey("fund_requests.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)

    entries: Mapped[list["LedgerEntry"]] = relationship(back_populates="transaction", order_by="LedgerEntry.id")
    note: Mapped["LedgerNote | None"] = relationship(lazy="joined")

    @hybrid_property
    def reference(self) -> str | None:
        """The check number or transfer reference a coordinator typed, if any."""
        return self.note.reference if self.note is not None else None

    @reference.inplace.expression
    @classmethod
    def _reference_expression(cls):
        return (select(LedgerNote.reference).where(LedgerNote.transaction_id == cls.id)
                .correlate_except(LedgerNote).scalar_subquery())

    @property
    def description(self) -> str:
        """What the ledger page and the CSV show: the memo, and the reason typed for a reversal."""
        reason = self.note.reason if self.note is not None else None
        return f"{self.memo}: {reason}"[:300] if reason else self.memo


class LedgerNote(db.Model):
    """The words people typed about one ledger transaction (a reference, a reversal's reason). Apart
    from the append-only ledger, so that deleting an account can erase a name typed here while the
    amounts, accounts, dates and ids that keep the books stay as they were."""

    __tablename__ = "ledger_notes"

    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(300))


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (CheckConstraint("amount_cents <> 0", name="ck_ledger_entry_nonzero"),
                      CheckConstraint("account in ('cash', 'gifts', 'payable', 'grants')", name="ck_ledger_account"))

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(String(10), index=True)
    amount_cents: Mapped[int]
    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")


make_append_only(LedgerTransaction)
make_append_only(LedgerEntry)


@event.listens_for(Session, "before_flush")
def _balanced(session, _context, _instances) -> None:
    """Every new ledger transaction is flushed with its entries, and they sum to zero."""
    for obj in session.new:
        if isinstance(obj, LedgerTransaction):
            if len(obj.entries) < 2 or sum(e.amount_cents for e in obj.entries) != 0:
                raise UnbalancedTransaction(f"ledger transaction ({obj.kind}) does not balance")
        elif isinstance(obj, LedgerEntry) and obj.transaction not in session.new:
            raise UnbalancedTransaction("entries can only be added together with their new transaction")
