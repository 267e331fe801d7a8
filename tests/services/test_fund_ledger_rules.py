"""The ledger's rules on the service itself: receipts, reversals, payments, cancellations, the
audit trail, the export. Helpers and the fixture: test_fund_rules.py."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, FundApproval, FundRequest, LedgerTransaction
from app.services import Conflict, FieldError, NotAllowed
from app.services import fund
from tests.services.test_fund import TODAY, _fund_with, crew  # noqa: F401 - the fixture
from tests.services.test_fund_rules import _approved, _audit, _refused


# Receipts, reversals, payments, cancellations ---------------------------------------------------

def test_a_receipt_against_a_pledge_names_the_donor_and_an_unknown_pledge_is_refused(crew):
    p = fund.pledge(crew.donor, "25", "monthly", "  For rent help  ")
    assert (p.amount_cents, p.frequency, p.note) == (2500, "monthly", "For rent help")
    assert fund.pledge(crew.donor, "5", "one_off", "   ").note is None
    _refused(FieldError, lambda: fund.pledge(crew.donor, "5", "weekly"), "one-off or monthly", "frequency")
    tx = fund.record_receipt(crew.a, "25", "online", TODAY, p.id, "  Venmo 88  ")
    assert (tx.pledge_id, tx.donor_id, tx.reference, tx.method, tx.occurred_on) == (p.id, crew.donor.id, "Venmo 88",
                                                                                   "online", TODAY)
    assert tx.memo == f"Pledge {p.id} received" and tx.actor_id == crew.a.id
    anon = fund.record_receipt(crew.a, "10", "cash", TODAY - timedelta(days=3), None, "")
    assert (anon.donor_id, anon.pledge_id, anon.reference, anon.memo) == (None, None, None, "Gift received")
    assert anon.occurred_on == TODAY - timedelta(days=3)
    assert [e.details for e in _audit("fund_receipt")] == [{"cents": 2500, "method": "online"},
                                                           {"cents": 1000, "method": "cash"}]
    assert _refused(FieldError, lambda: fund.record_receipt(crew.a, "5", "cash", TODAY, 99999), field="pledge_id").field == "pledge_id"
    assert _refused(FieldError, lambda: fund.record_receipt(crew.a, "5", "bitcoin", TODAY, None), field="method").field == "method"
    assert _refused(FieldError, lambda: fund.record_receipt(crew.a, "5", "cash", None, None), field="received_on").field == "received_on"
    future = _refused(FieldError, lambda: fund.record_receipt(crew.a, "5", "cash", TODAY + timedelta(days=1), None), field="received_on")
    assert future.field == "received_on" and "future" in future.message
    assert fund.balances() == {"cash": 3500, "gifts": -3500, "payable": 0, "grants": 0}


def test_a_reversal_cannot_be_reversed_and_grants_are_corrected_through_their_request(crew):
    _fund_with(crew, 500)
    wrong = fund.record_receipt(crew.a, "300", "cash", TODAY, None)
    req = _approved(crew)
    grant = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "approval"))
    _refused(Conflict, lambda: fund.reverse(crew.c, grant.id, "oops"), "through their request")
    _refused(FieldError, lambda: fund.reverse(crew.c, wrong.id, "   "), "Say what was wrong", "reason")
    rev = fund.reverse(crew.c, wrong.id, "  Counted twice  ")
    assert rev.description == f"Reverses #{wrong.id}: Counted twice" and rev.actor_id == crew.c.id
    assert (rev.memo, rev.note.reason) == (f"Reverses #{wrong.id}", "Counted twice")  # typed words: the note
    assert {e.account: e.amount_cents for e in rev.entries} == {"cash": -30000, "gifts": 30000}
    assert _refused(NotAllowed, lambda: fund.reverse(crew.c, rev.id, "undo")).message == "No such transaction to reverse."
    (entry,) = _audit("fund_reversal")
    assert (entry.actor_id, entry.subject_id, entry.details) == (crew.c.id, rev.id,
                                                                 {"reverses": wrong.id})
    assert db.session.get(FundRequest, req.id).status == "approved"


def test_a_receipt_reversal_may_leave_exactly_zero_but_never_less(crew):
    big = fund.record_receipt(crew.a, "100", "cash", TODAY, None)
    small = fund.record_receipt(crew.a, "20", "cash", TODAY, None)
    _approved(crew, "30")  # 90 available
    _refused(Conflict, lambda: fund.reverse(crew.c, big.id, "bounced"), "less than what is already approved")
    fund.reverse(crew.c, small.id, "bounced")
    assert fund.available_cents() == 7000
    fund.record_receipt(crew.a, "30", "cash", TODAY, None)
    fund.reverse(crew.c, big.id, "bounced")  # leaves exactly nothing
    assert fund.available_cents() == 0 and fund.balances()["cash"] == 3000


def test_a_payment_records_what_was_paid_and_by_whom(crew):
    _fund_with(crew, 500)
    req = _approved(crew)
    for args, field in (((None, "check", "x"), "paid_on"), ((TODAY, "bitcoin", "x"), "method"),
                        ((TODAY, "check", "  "), "reference"), ((TODAY + timedelta(days=1), "check", "x"), "paid_on")):
        assert _refused(FieldError, lambda: fund.record_payment(crew.c, req.id, *args), field=field).field == field
    fund.record_payment(crew.c, req.id, TODAY - timedelta(days=1), "online", "  ACH 42  ")
    req = db.session.get(FundRequest, req.id)
    assert (req.status, req.paid_on, req.payment_method, req.payment_reference, req.paid_by_id) == \
        ("paid", TODAY - timedelta(days=1), "online", "ACH 42", crew.c.id)
    pay = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "payment"))
    assert (pay.occurred_on, pay.method, pay.reference, pay.request_id, pay.actor_id) == \
        (TODAY - timedelta(days=1), "online", "ACH 42", req.id, crew.c.id)
    assert {e.account: e.amount_cents for e in pay.entries} == {"payable": 10000, "cash": -10000}
    assert pay.memo == f"Paid request {req.id} to payee"
    (entry,) = _audit("fund_payment")
    assert (entry.actor_id, entry.subject_id, entry.details) == (crew.c.id, req.id, {"cents": 10000, "method": "online"})
    _refused(Conflict, lambda: fund.cancel_approved(crew.c, req.id, "late"), "approved, unpaid")


def test_cancelling_reverses_the_grant_and_is_audited(crew):
    _fund_with(crew, 500)
    pending = fund.create_request(crew.resident, crew.resident, "100", "rent", "Landlord")
    _refused(Conflict, lambda: fund.cancel_approved(crew.c, pending.id, "x"), "Only an approved")
    req = _approved(crew, "120")
    _refused(FieldError, lambda: fund.cancel_approved(crew.c, req.id, "  "), "Say why", "reason")
    grant = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "approval"))
    fund.cancel_approved(crew.c, req.id, "  Landlord forgave it  ")
    req = db.session.get(FundRequest, req.id)
    assert (req.status, req.decline_reason) == ("cancelled", "Landlord forgave it")
    rev = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "reversal"))
    assert (rev.reverses_id, rev.request_id, rev.actor_id) == (grant.id, req.id, crew.c.id)
    assert rev.description == f"Reverses #{grant.id}: Landlord forgave it"
    assert {e.account: e.amount_cents for e in rev.entries} == {"grants": -12000, "payable": 12000}
    (entry,) = _audit("fund_cancel")
    assert (entry.actor_id, entry.details) == (crew.c.id, {})
    assert fund.available_cents() == 50000
    _refused(Conflict, lambda: fund.record_payment(crew.c, req.id, TODAY, "check", "x"), "cancelled")


def test_the_lock_row_is_created_on_a_database_without_it(crew):
    from app.models import FundLock

    db.session.execute(db.delete(FundLock))
    db.session.commit()
    fund.record_receipt(crew.a, "5", "cash", TODAY, None)
    assert db.session.get(FundLock, 1).version == 1
    fund.record_receipt(crew.a, "5", "cash", TODAY, None)
    db.session.expire_all()
    assert db.session.get(FundLock, 1).version == 2


def test_long_references_and_reasons_are_cut_to_what_the_ledger_holds(crew):
    _fund_with(crew, 500)
    gift = fund.record_receipt(crew.a, "5", "cash", TODAY, None, "r" * 130)
    assert gift.reference == "r" * 120
    rev = fund.reverse(crew.b, gift.id, "w" * 400)
    assert len(rev.description) == 300 and rev.description.startswith(f"Reverses #{gift.id}: www")
    req = _approved(crew)
    fund.record_payment(crew.c, req.id, TODAY, "check", "c" * 130)
    req = db.session.get(FundRequest, req.id)
    assert req.payment_reference == "c" * 120
    assert db.session.scalar(select(LedgerTransaction.reference).where(LedgerTransaction.kind == "payment")) == "c" * 120
    other = _approved(crew, "10")
    assert len(fund.cancel_approved(crew.c, other.id, "x" * 400).decline_reason) == 300


def test_approvals_recorded_for_the_asker_or_the_filer_never_count(crew):
    """Say an import or an old rule let them in: the two-person rule still holds."""
    _fund_with(crew, 500)
    req = fund.create_request(crew.a, crew.resident, "100", "rent", "Landlord")
    db.session.add_all([FundApproval(request_id=req.id, coordinator_id=crew.a.id),
                        FundApproval(request_id=req.id, coordinator_id=crew.resident.id)])
    db.session.commit()
    assert fund.counted_approvals(req) == [] and fund.approval_progress(crew.b, req).still_needed == 2
    fund.approve(crew.b, req.id)
    assert db.session.get(FundRequest, req.id).status == "pending" and fund.available_cents() == 50000
    fund.approve(crew.c, req.id)
    assert db.session.get(FundRequest, req.id).status == "approved"


def test_dollars_reads_like_money():
    assert [fund.dollars(c) for c in (0, None, 5, 1205, 123456789, -1205)] == \
        ["$0.00", "$0.00", "$0.05", "$12.05", "$1,234,567.89", "-$12.05"]


@pytest.mark.parametrize("payee", ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "\tTab Co", "\rCR Co"])
def test_a_ledger_export_never_hands_a_spreadsheet_a_formula(crew, payee):
    import csv
    import io

    from app.services import fund_reports

    _fund_with(crew, 500)
    req = fund.create_request(crew.resident, crew.resident, "10", "rent", "Landlord")
    req.payee = payee  # as typed, before the form trims it
    db.session.commit()
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    fund.record_payment(crew.c, req.id, TODAY, "check", payee)
    rows = list(csv.DictReader(io.StringIO(fund_reports.ledger_csv(crew.c), newline="")))
    paid = [r for r in rows if r["kind"] == "payment"]
    assert {r["payee"] for r in paid} == {"'" + payee}
    reference = payee.strip()  # the payment form trims the reference, so a leading tab is gone there
    assert {r["reference"] for r in paid} == {("'" + reference) if reference[0] in "=+-@" else reference}
    plain = [r for r in rows if r["kind"] == "receipt"]
    assert plain[0]["reference"] == "chk 1001"  # ordinary text is left alone



def test_missing_values_are_refused_like_blank_ones_and_optional_ones_may_be_left_out(crew):
    _fund_with(crew, 500)
    assert _refused(FieldError, lambda: fund.parse_amount(None), "Enter an amount", "amount")
    assert _refused(FieldError, lambda: fund.parse_amount(None, "pledge_amount"), field="pledge_amount")
    _refused(FieldError, lambda: fund.parse_amount("1" * 21), "more than this fund handles", "amount")
    _refused(FieldError, lambda: fund.parse_amount("$" + "1" * 19), "more than this fund handles", "amount")
    _refused(FieldError, lambda: fund.create_request(crew.resident, crew.resident, "5", "rent", None), "Name who gets paid",
             "payee")
    req = fund.create_request(crew.resident, crew.resident, "5", "rent", "Landlord")  # no note given
    assert req.note is None
    assert fund.pledge(crew.donor, "5", "one_off").note is None
    assert fund.record_receipt(crew.a, "5", "cash", TODAY, None).reference is None
    _refused(FieldError, lambda: fund.decline(crew.b, req.id, None), "Say why", "reason")
    gift = fund.record_receipt(crew.a, "5", "cash", TODAY, None)
    _refused(FieldError, lambda: fund.reverse(crew.b, gift.id, None), "Say what was wrong", "reason")
    approved = _approved(crew, "10")
    _refused(FieldError, lambda: fund.cancel_approved(crew.c, approved.id, None), "Say why", "reason")
    fund.approve(crew.a, req.id)
    _refused(Conflict, lambda: fund.approve(crew.a, req.id), "You have already approved this request")


def test_every_money_action_is_audited_against_its_object(crew):
    _fund_with(crew, 500)
    paid = _approved(crew, "10")
    fund.record_payment(crew.c, paid.id, TODAY, "check", "chk 9")
    cancelled = _approved(crew, "10")
    fund.cancel_approved(crew.c, cancelled.id, "r" * 400)
    declined = fund.create_request(crew.resident, crew.resident, "10", "rent", "Landlord")
    fund.decline(crew.c, declined.id, "d" * 400)
    gift = fund.record_receipt(crew.a, "5", "cash", TODAY, None)
    reversal = fund.reverse(crew.b, gift.id, "bounced")
    rows = {(e.action, e.subject_id): (e.actor_id, e.subject_type, e.details) for e in _audit_all()}
    assert rows[("fund_request", paid.id)] == (crew.resident.id, "fund_request", {"cents": 1000})
    assert rows[("fund_payment", paid.id)] == (crew.c.id, "fund_request", {"cents": 1000, "method": "check"})
    # Codes and ids only: the reasons typed are on the request and the ledger note, which can be erased.
    assert rows[("fund_cancel", cancelled.id)] == (crew.c.id, "fund_request", {})
    assert rows[("fund_decline", declined.id)] == (crew.c.id, "fund_request", {})
    assert rows[("fund_reversal", reversal.id)] == (crew.b.id, "ledger", {"reverses": gift.id})
    assert (db.session.get(FundRequest, cancelled.id).decline_reason, reversal.note.reason) == ("r" * 300, "bounced")
    assert rows[("fund_receipt", gift.id)] == (crew.a.id, "ledger", {"cents": 500, "method": "cash"})
    approvals = [(e.actor_id, e.subject_type, e.subject_id) for e in _audit("fund_approve")]
    assert approvals == [(crew.a.id, "fund_request", paid.id), (crew.b.id, "fund_request", paid.id),
                         (crew.a.id, "fund_request", cancelled.id), (crew.b.id, "fund_request", cancelled.id)]


def _audit_all():
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_cancelling_one_grant_reverses_that_grant_and_no_other(crew):
    _fund_with(crew, 500)
    first, second = _approved(crew, "100"), _approved(crew, "150")
    fund.cancel_approved(crew.c, second.id, "Paid by the county")
    grant = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "approval",
                                                              LedgerTransaction.request_id == second.id))
    rev = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "reversal"))
    assert rev.reverses_id == grant.id and fund.available_cents() == 40000
    assert db.session.get(FundRequest, first.id).status == "approved"


def test_a_long_pledge_note_is_cut_and_a_second_reversal_is_refused(crew):
    assert fund.pledge(crew.donor, "5", "one_off", "n" * 400).note == "n" * 300
    gift = fund.record_receipt(crew.a, "5", "cash", TODAY, None)
    fund.reverse(crew.b, gift.id, "bounced")
    _refused(Conflict, lambda: fund.reverse(crew.c, gift.id, "again"), "This transaction was already reversed.")
