"""What the fund shows: the coordinators' desk, a member's own pledges and receipts, the public
monthly summary (no names, no payees), and the ledger as CSV for the treasurer."""
import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from app.extensions import db
from app.models import FundRequest, LedgerEntry, LedgerTransaction, Pledge, User
from app.i18n import day
from app.services import audit

log = logging.getLogger(__name__)
MAX_CENTS = 100_000_000  # $1,000,000: anything larger is a typo
MAX_AMOUNT_CHARS = 20  # "$1,000,000.00" is 13; anything longer is over MAX_CENTS or not an amount
_AMOUNT = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")
from app.services.fund import _coordinator, available_cents, balances, dollars


@dataclass
class Overview:
    balances: dict
    available: int
    pledged_one_off: int
    pledged_monthly: int
    received: int
    pending: list
    to_pay: list
    ledger: list


def overview(actor: User, ledger_limit: int = 50) -> Overview:
    _coordinator(actor)
    b = balances()
    pledged = dict(db.session.execute(select(Pledge.frequency, func.sum(Pledge.amount_cents))
                                      .where(Pledge.active.is_(True)).group_by(Pledge.frequency)).all())
    pending = db.session.scalars(select(FundRequest).where(FundRequest.status == "pending").order_by(FundRequest.created_at)).all()
    to_pay = db.session.scalars(select(FundRequest).where(FundRequest.status == "approved").order_by(FundRequest.decided_at)).all()
    ledger = db.session.scalars(select(LedgerTransaction).order_by(LedgerTransaction.id.desc()).limit(ledger_limit)).all()
    return Overview(b, available_cents(b), int(pledged.get("one_off") or 0), int(pledged.get("monthly") or 0),
                    -b["gifts"], list(pending), list(to_pay), list(ledger))


def pledge_choices(actor: User, limit: int = 200) -> list[tuple[int, str]]:
    """Active pledges, newest first, as (id, "Name: $25.00 monthly") for the receipt form."""
    _coordinator(actor)
    rows = db.session.execute(select(Pledge, User.name).join(User, User.id == Pledge.member_id)
                              .where(Pledge.active.is_(True)).order_by(Pledge.created_at.desc()).limit(limit))
    return [(p.id, _("%(name)s: %(amount)s monthly", name=name, amount=dollars(p.amount_cents)) if p.frequency == "monthly"
             else _("%(name)s: %(amount)s one-off", name=name, amount=dollars(p.amount_cents))) for p, name in rows]


def history_of(member: User) -> tuple[list[Pledge], list[LedgerTransaction]]:
    """A member's own pledges and the receipts recorded against them."""
    pledges = db.session.scalars(select(Pledge).where(Pledge.member_id == member.id).order_by(Pledge.created_at.desc())).all()
    receipts = db.session.scalars(select(LedgerTransaction).where(LedgerTransaction.donor_id == member.id)
                                  .order_by(LedgerTransaction.occurred_on.desc())).all()
    return list(pledges), list(receipts)


def requests_of(person: User) -> list[FundRequest]:
    return list(db.session.scalars(select(FundRequest).where(FundRequest.requester_id == person.id)
                                   .order_by(FundRequest.created_at.desc())))


@dataclass
class PublicSummary:
    months: list  # ("November 2026", in cents, out cents), newest first
    households_helped: int
    balance: int
    # What members are shown: the same with small counts suppressed (app/services/reports_public.py).
    published: object = None


def public_summary() -> PublicSummary:
    """What every member sees: money in and out per month, households helped, the balance. No
    names, no payees, no single request."""
    month = func.substr(func.cast(LedgerTransaction.occurred_on, db.String), 1, 7)
    rows = db.session.execute(
        select(month.label("month"),
               # In: gifts received, less any receipt reversed as a mistake. Out: payments to payees.
               func.sum(case((LedgerTransaction.kind != "payment", LedgerEntry.amount_cents), else_=0)),
               func.sum(case((LedgerTransaction.kind == "payment", -LedgerEntry.amount_cents), else_=0)),
               # How many gifts and households each month holds: a month with few is not shown.
               func.count(func.distinct(case((LedgerTransaction.kind == "receipt", LedgerTransaction.id)))),
               func.count(func.distinct(case((LedgerTransaction.kind == "payment", FundRequest.requester_id)))))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .outerjoin(FundRequest, FundRequest.id == LedgerTransaction.request_id)
        .where(LedgerEntry.account == "cash").group_by(month).order_by(month.desc()).limit(12)
    ).all()
    helped = db.session.scalar(select(func.count(func.distinct(FundRequest.requester_id))).where(FundRequest.status == "paid")) or 0
    months = [(day(date(int(m[:4]), int(m[5:7]), 1), "%B %Y"), int(i or 0), int(o or 0)) for m, i, o, _g, _h in rows]
    balance = available_cents()
    from app.services.reports_public import publish_fund

    published = publish_fund(months, [(int(g), int(h)) for *_m, g, h in rows], helped, balance)
    return PublicSummary(months, helped, balance, published)


def ledger_csv(actor: User) -> str:
    """The whole ledger, one row per entry, for the treasurer."""
    _coordinator(actor)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["transaction", "date", "recorded_at_utc", "kind", "account", "amount", "memo", "method",
                     "reference", "request", "payee", "reverses"])
    rows = db.session.execute(
        select(LedgerTransaction, LedgerEntry, FundRequest.payee)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .outerjoin(FundRequest, FundRequest.id == LedgerTransaction.request_id)
        .order_by(LedgerTransaction.id, LedgerEntry.id)
    ).all()
    for tx, entry, payee in rows:
        writer.writerow([tx.id, tx.occurred_on.isoformat(), tx.recorded_at.isoformat(timespec="seconds"), tx.kind,
                         entry.account, _plain(entry.amount_cents),
                         _csv_safe(tx.description), tx.method or "", _csv_safe(tx.reference or ""), tx.request_id or "",
                         _csv_safe(payee or ""), tx.reverses_id or ""])
    audit.record(actor, "fund_export", "ledger", None, rows=len(rows))
    db.session.commit()
    return out.getvalue()


def _plain(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _csv_safe(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; a leading quote disarms them."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
