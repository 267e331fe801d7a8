"""The emergency fund: money as cents, the two-person rule, limits, the ledger, summaries, CSV."""
import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, FundRequest, LedgerEntry, LedgerTransaction
from app.models.audit import AppendOnlyError
from app.models.fund import UnbalancedTransaction
from app.services import Conflict, FieldError, NotAllowed
from app.services import fund
from app.services import fund_reports
from app.services.mail import send_pending
from tests.conftest import postgres_only

TODAY = datetime.now(ZoneInfo("America/Chicago")).date()  # the community's date (TestConfig's zone)


@pytest.fixture
def crew(make_user):
    class Crew:
        a = make_user("coordinator", name="Avery Coord", email="avery@example.org")
        b = make_user("coordinator", name="Blake Coord", email="blake@example.org")
        c = make_user("coordinator", name="Cam Coord", email="cam@example.org")
        donor = make_user(name="Dana Donor", email="dana@example.org")
        resident = make_user("resident", name="Robin Resident", email="robin@example.org")
    Crew.resident.created_by_id = Crew.a.id
    db.session.commit()
    return Crew


def _fund_with(crew, dollars):
    fund.record_receipt(crew.a, str(dollars), "check", TODAY, None, "chk 1001")


@pytest.mark.parametrize("text,cents", [("12", 1200), ("12.5", 1250), ("12.05", 1205), ("$1,200.00", 120000), (" 7 ", 700)])
def test_amounts_become_integer_cents(text, cents):
    assert fund.parse_amount(text) == cents


@pytest.mark.parametrize("text,message", [("12.345", "two digits"), ("-5", "above zero"), ("1e9", "like 125"),
                                          ("abc", "like 125"), ("", "like 125"), ("0", "above zero"),
                                          ("0.00", "above zero"), ("2000000", "more than this fund"), ("1,2", "like 125")])
def test_bad_amounts_get_a_clear_message(text, message):
    from tests.conftest import reads_as_a_sentence

    with pytest.raises(FieldError, match=message) as info:
        fund.parse_amount(text, "pledge_amount")
    assert info.value.field == "pledge_amount" and reads_as_a_sentence(info.value.message)


def test_the_largest_amounts_the_fund_takes():
    assert fund.parse_amount("1000000") == fund.MAX_CENTS  # exactly the most
    assert fund.parse_amount("0" * 19 + "1") == 100  # 20 characters are still read
    with pytest.raises(FieldError, match="more than this fund handles"):
        fund.parse_amount("1000000.01")


def test_every_transaction_balances_and_available_is_received_minus_paid_minus_approved(crew):
    _fund_with(crew, 1000)
    req = fund.create_request(crew.resident, crew.resident, "300", "rent", "Valley Apartments LLC")
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    assert fund.available_cents() == 70000
    other = fund.create_request(crew.a, crew.resident, "200", "utilities", "Xcel Energy")
    fund.approve(crew.b, other.id)
    fund.approve(crew.c, other.id)
    fund.record_payment(crew.c, req.id, TODAY, "check", "chk 2001")
    b = fund.balances()
    assert b == {"cash": 70000, "gifts": -100000, "payable": -20000, "grants": 50000}
    assert fund.available_cents() == 50000
    for tx in db.session.scalars(select(LedgerTransaction)):
        assert sum(e.amount_cents for e in tx.entries) == 0
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_cents))) == 0


def test_two_different_coordinators_must_approve(crew):
    _fund_with(crew, 500)
    req = fund.create_request(crew.resident, crew.resident, "100", "medical", "River Falls Clinic")
    fund.approve(crew.a, req.id)
    assert db.session.get(FundRequest, req.id).status == "pending" and fund.available_cents() == 50000
    with pytest.raises(Conflict, match="already approved"):
        fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    assert db.session.get(FundRequest, req.id).status == "approved"
    with pytest.raises(Conflict):
        fund.approve(crew.c, req.id)


def test_a_coordinator_cannot_approve_their_own_request_and_members_cannot_approve(crew):
    _fund_with(crew, 500)
    own = fund.create_request(crew.a, crew.a, "100", "rent", "Landlord")
    with pytest.raises(NotAllowed, match="for yourself"):
        fund.approve(crew.a, own.id)
    with pytest.raises(NotAllowed):
        fund.decline(crew.a, own.id, "no")
    with pytest.raises(NotAllowed):
        fund.approve(crew.donor, own.id)
    fund.approve(crew.b, own.id)
    fund.approve(crew.c, own.id)
    assert db.session.get(FundRequest, own.id).status == "approved"
    with pytest.raises(NotAllowed):
        fund.record_payment(crew.a, own.id, TODAY, "check", "x")


def test_members_who_are_not_residents_are_sent_to_a_coordinator(crew):
    with pytest.raises(NotAllowed):
        fund.create_request(crew.donor, crew.donor, "100", "rent", "Landlord")
    with pytest.raises(NotAllowed):
        fund.create_request(crew.a, crew.donor, "100", "rent", "Landlord")  # on behalf of residents only


def test_limits_per_request_and_per_person_in_90_days(crew, app):
    app.config.update(FUND_MAX_REQUEST_CENTS=50000, FUND_MAX_PER_PERSON_90D_CENTS=80000)
    with pytest.raises(FieldError, match=r"at most \$500.00"):
        fund.create_request(crew.resident, crew.resident, "500.01", "rent", "Landlord")
    first = fund.create_request(crew.resident, crew.resident, "500", "rent", "Landlord")
    with pytest.raises(FieldError, match=r"\$300.00 is left"):
        fund.create_request(crew.resident, crew.resident, "300.01", "utilities", "Xcel")
    fund.decline(crew.b, first.id, "Covered by the county")  # declined requests do not count
    fund.create_request(crew.resident, crew.resident, "300.01", "utilities", "Xcel")
    old = fund.create_request(crew.a, crew.resident, "400", "medical", "Clinic")
    old.created_at = old.created_at - timedelta(days=91)
    db.session.commit()
    fund.create_request(crew.a, crew.resident, "450", "transport", "Bus pass office")  # the old one has aged out


def test_payee_is_required(crew):
    with pytest.raises(FieldError, match="never pays cash"):
        fund.create_request(crew.resident, crew.resident, "100", "rent", "  ")


def test_approval_that_the_balance_cannot_cover_stays_pending(crew):
    _fund_with(crew, 100)
    req = fund.create_request(crew.resident, crew.resident, "150", "rent", "Landlord")
    fund.approve(crew.a, req.id)
    with pytest.raises(Conflict, match=r"\$100.00 available"):
        fund.approve(crew.b, req.id)
    assert db.session.get(FundRequest, req.id).status == "pending" and fund.available_cents() == 10000
    _fund_with(crew, 50)
    fund.approve(crew.b, req.id)
    assert fund.available_cents() == 0


def test_payment_only_after_approval_and_only_once(crew):
    _fund_with(crew, 500)
    req = fund.create_request(crew.resident, crew.resident, "100", "rent", "Landlord")
    with pytest.raises(Conflict, match="only an approved request"):
        fund.record_payment(crew.a, req.id, TODAY, "check", "chk 1")
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    with pytest.raises(FieldError, match="reference"):
        fund.record_payment(crew.a, req.id, TODAY, "check", "")
    with pytest.raises(FieldError, match="future"):
        fund.record_payment(crew.a, req.id, TODAY + timedelta(days=2), "check", "chk 1")
    fund.record_payment(crew.a, req.id, TODAY, "check", "chk 1")
    with pytest.raises(Conflict):
        fund.record_payment(crew.b, req.id, TODAY, "check", "chk 1")
    assert fund.balances()["cash"] == 40000


def test_ledger_rows_cannot_be_changed_or_deleted_through_the_model(crew):
    _fund_with(crew, 100)
    entry = db.session.scalar(select(LedgerEntry))
    entry.amount_cents = 1
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    for model in (LedgerEntry, LedgerTransaction):
        with pytest.raises(AppendOnlyError):
            db.session.execute(db.delete(model))
        db.session.rollback()
        with pytest.raises(AppendOnlyError):
            db.session.execute(db.update(model).values(id=99))
        db.session.rollback()
    tx = LedgerTransaction(kind="receipt", occurred_on=TODAY, memo="unbalanced")
    tx.entries = [LedgerEntry(account="cash", amount_cents=100), LedgerEntry(account="gifts", amount_cents=-99)]
    db.session.add(tx)
    with pytest.raises(UnbalancedTransaction):
        db.session.commit()
    db.session.rollback()
    assert fund.balances()["cash"] == 10000


def test_corrections_are_reversing_entries(crew):
    wrong = fund.record_receipt(crew.a, "1000", "cash", TODAY, None)
    fund.record_receipt(crew.a, "100", "cash", TODAY, None)
    with pytest.raises(FieldError):
        fund.reverse(crew.b, wrong.id, "")
    rev = fund.reverse(crew.b, wrong.id, "Typed 1000 for 100")
    assert rev.reverses_id == wrong.id and fund.available_cents() == 10000
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == 3  # nothing was deleted
    with pytest.raises(Conflict, match="already reversed"):
        fund.reverse(crew.b, wrong.id, "again")


def test_a_receipt_cannot_be_reversed_below_what_is_approved(crew):
    gift = fund.record_receipt(crew.a, "100", "cash", TODAY, None)
    req = fund.create_request(crew.resident, crew.resident, "80", "rent", "Landlord")
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    with pytest.raises(Conflict):
        fund.reverse(crew.c, gift.id, "mistake")


def test_cancelling_an_approved_grant_gives_the_money_back(crew):
    _fund_with(crew, 100)
    req = fund.create_request(crew.resident, crew.resident, "80", "rent", "Landlord")
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    fund.cancel_approved(crew.c, req.id, "Landlord forgave it")
    assert fund.available_cents() == 10000 and db.session.get(FundRequest, req.id).status == "cancelled"


def test_pledges_and_receipts_show_in_the_members_own_history(crew):
    p = fund.pledge(crew.donor, "25", "monthly", "For rent help")
    fund.record_receipt(crew.a, "25", "online", TODAY, p.id, "Venmo 88")
    pledges, receipts = fund_reports.history_of(crew.donor)
    assert [x.amount_cents for x in pledges] == [2500] and [r.donor_id for r in receipts] == [crew.donor.id]
    o = fund_reports.overview(crew.a)
    assert (o.pledged_monthly, o.received, o.available) == (2500, 2500, 2500)
    assert fund_reports.history_of(crew.resident) == ([], [])


def test_decisions_and_payments_are_audited_and_the_coordinator_is_emailed(crew, smtp):
    _fund_with(crew, 500)
    req = fund.create_request(crew.resident, crew.resident, "100", "rent", "Landlord")
    fund.approve(crew.b, req.id)
    fund.approve(crew.c, req.id)
    fund.record_payment(crew.b, req.id, TODAY, "check", "chk 7")
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["fund_receipt", "fund_request", "fund_approve", "fund_approve", "fund_payment"]
    send_pending()
    assert [m["rcpt"] for m in smtp.messages] == [["avery@example.org"], ["avery@example.org"]]
    assert [m["msg"]["Subject"] for m in smtp.messages] == ["Fund request approved", "Fund request paid"]


def test_public_summary_is_anonymous(crew):
    _fund_with(crew, 500)
    req = fund.create_request(crew.resident, crew.resident, "123.45", "rent", "Valley Apartments LLC")
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    fund.record_payment(crew.a, req.id, TODAY, "check", "chk 9")
    s = fund_reports.public_summary()
    assert s.households_helped == 1 and s.balance == 50000 - 12345
    assert s.months == [(TODAY.strftime("%B %Y"), 50000, 12345)]
    text = repr(s)
    for private in ("Robin", "Valley Apartments", "chk 9", "robin@example.org"):
        assert private not in text


def test_ledger_csv_for_the_treasurer(crew):
    _fund_with(crew, 500)
    req = fund.create_request(crew.resident, crew.resident, "100", "rent", "=HYPERLINK(\"http://x\")")
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    fund.record_payment(crew.a, req.id, TODAY, "check", "chk 11")
    rows = list(csv.DictReader(io.StringIO(fund_reports.ledger_csv(crew.c))))
    assert len(rows) == 6 and sum(int(r["amount"].replace(".", "")) for r in rows) == 0
    payment = [r for r in rows if r["kind"] == "payment"]
    assert {r["account"]: r["amount"] for r in payment} == {"payable": "100.00", "cash": "-100.00"}
    assert payment[0]["reference"] == "chk 11" and payment[0]["payee"].startswith("'=")  # no formula injection
    with pytest.raises(NotAllowed):
        fund_reports.ledger_csv(crew.donor)


@postgres_only
def test_postgresql_refuses_ledger_changes_and_unbalanced_transactions(crew):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    _fund_with(crew, 100)
    for statement in ("UPDATE ledger_entries SET amount_cents = 1", "DELETE FROM ledger_transactions",
                      "UPDATE ledger_transactions SET memo = 'x'"):
        with db.engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
    with db.engine.connect() as conn:
        tx_id = conn.execute(text("INSERT INTO ledger_transactions (kind, occurred_on, recorded_at, memo) "
                                  "VALUES ('receipt', CURRENT_DATE, now(), 'sneaky') RETURNING id")).scalar()
        conn.execute(text("INSERT INTO ledger_entries (transaction_id, account, amount_cents) VALUES (:t, 'cash', 500)"),
                     {"t": tx_id})
        with pytest.raises(DBAPIError, match="does not balance"):
            conn.commit()
    assert fund.balances()["cash"] == 10000


def test_ten_concurrent_approvals_never_spend_more_than_the_balance(app, crew):
    """Real threads; on PostgreSQL (CI's second run) the fund lock is a row lock."""
    import threading

    from app.models import User

    _fund_with(crew, 1000)
    app.config.update(FUND_MAX_PER_PERSON_90D_CENTS=10**9)
    ids = []
    for i in range(10):
        # The resident asks (a coordinator who files a request may not approve it).
        req = fund.create_request(crew.resident, crew.resident, "250", "rent", f"Landlord {i}")
        ids.append(req.id)
    for rid in ids:
        fund.approve(crew.c, rid)  # the first approval of each; the second ones race below
    second = [crew.a.id, crew.b.id]
    db.session.remove()
    barrier = threading.Barrier(10)
    results = [None] * 10

    def worker(i):
        with app.app_context():
            actor = db.session.get(User, second[i % 2])
            barrier.wait(timeout=60)
            try:
                fund.approve(actor, ids[i])
                results[i] = "approved"
            except Conflict as err:
                results[i] = err.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count("approved") == 4, results  # $1,000 covers four requests of $250
    assert fund.available_cents() == 0
    approved = db.session.scalar(select(func.sum(FundRequest.amount_cents)).where(FundRequest.status == "approved"))
    assert approved == 100000


def test_a_reversed_receipt_does_not_inflate_the_public_summary(crew):
    wrong = fund.record_receipt(crew.a, "1000", "cash", TODAY, None)
    fund.record_receipt(crew.a, "100", "cash", TODAY, None)
    fund.reverse(crew.b, wrong.id, "Typed 1000 for 100")
    assert fund_reports.public_summary().months == [(TODAY.strftime("%B %Y"), 10000, 0)]
