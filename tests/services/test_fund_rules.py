"""The fund's rules, called on the service itself: every entry point (pages, CLI, the coming API and
text replies) gets them from here. Each refusal also checks that nothing was written."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, FundApproval, FundRequest, LedgerTransaction, OutboxEmail, Pledge
from app.services import Conflict, FieldError, NotAllowed
from app.services import fund
from app.services.accounts import NotConfirmed
from app.services.mail import send_pending
from tests.conftest import reads_as_a_sentence
from tests.services.test_fund import TODAY, _fund_with, crew  # noqa: F401 - the fixture


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _written():
    """Everything a money action could write: compared before and after a refusal. Read through
    the same session, flushed, so that whatever a later commit would save is counted too."""
    db.session.flush()
    db.session.expire_all()
    return (_count(LedgerTransaction), _count(FundApproval), _count(AuditEntry), _count(OutboxEmail), _count(Pledge),
            sorted(db.session.execute(select(FundRequest.id, FundRequest.status)).all()), fund.balances())


def _audit(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def _approved(crew, amount="100", purpose="rent"):
    req = fund.create_request(crew.resident, crew.resident, amount, purpose, "Valley Apartments")
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    return req


def _refused(exc, call, match=None, field=None):
    before = _written()
    with pytest.raises(exc, match=match) as info:
        call()
    assert _written() == before
    assert reads_as_a_sentence(info.value.message), info.value.message
    assert info.value.field == field
    db.session.rollback()
    return info.value


# Who may do what, checked by the service --------------------------------------------------------

def test_only_coordinators_record_receipts_payments_reversals_and_cancellations(crew):
    gift = fund.record_receipt(crew.a, "500", "check", TODAY, None, "chk 1")
    req = _approved(crew)
    for member in (crew.donor, crew.resident):
        _refused(NotAllowed, lambda: fund.record_receipt(member, "50", "cash", TODAY, None), "Only coordinators")
        _refused(NotAllowed, lambda: fund.record_payment(member, req.id, TODAY, "check", "chk 2"), "Only coordinators")
        _refused(NotAllowed, lambda: fund.cancel_approved(member, req.id, "changed my mind"), "Only coordinators")
        _refused(NotAllowed, lambda: fund.reverse(member, gift.id, "typo"), "Only coordinators")
        _refused(NotAllowed, lambda: fund.approve(member, req.id), "Only coordinators")
        _refused(NotAllowed, lambda: fund.decline(member, req.id, "no"), "Only coordinators")


def test_a_member_cannot_ask_on_someone_elses_behalf_and_coordinators_ask_only_for_residents(crew, make_user):
    other_resident = make_user("resident")
    _refused(NotAllowed, lambda: fund.create_request(crew.donor, crew.resident, "50", "rent", "Landlord"),
             "Only coordinators")
    _refused(NotAllowed, lambda: fund.create_request(crew.resident, other_resident, "50", "rent", "Landlord"),
             "Only coordinators")
    _refused(NotAllowed, lambda: fund.create_request(crew.a, crew.b, "50", "rent", "Landlord"), "residents only")
    _refused(NotAllowed, lambda: fund.create_request(crew.donor, crew.donor, "50", "rent", "Landlord"),
             "a coordinator can help")
    req = fund.create_request(crew.a, crew.resident, "50", "rent", "Landlord")
    assert (req.requester_id, req.created_by_id) == (crew.resident.id, crew.a.id)
    own = fund.create_request(crew.a, crew.a, "50", "rent", "Landlord")  # a coordinator in need asks too
    assert (own.requester_id, own.created_by_id) == (crew.a.id, crew.a.id)
    (entry,) = [e for e in _audit("fund_request") if e.subject_id == req.id]
    assert (entry.actor_id, entry.details) == (crew.a.id, {"cents": 5000})


def test_an_unconfirmed_member_cannot_pledge_or_ask(crew, make_user):
    newcomer = make_user("resident", confirmed=False)
    _refused(NotConfirmed, lambda: fund.pledge(newcomer, "25", "one_off"), "confirm your email")
    _refused(NotConfirmed, lambda: fund.create_request(newcomer, newcomer, "50", "rent", "Landlord"), "confirm")


def test_the_requester_cannot_record_the_payment_of_their_own_grant(crew):
    _fund_with(crew, 500)
    req = fund.create_request(crew.c, crew.c, "100", "rent", "Landlord")
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    _refused(NotAllowed, lambda: fund.record_payment(crew.c, req.id, TODAY, "check", "chk 3"), "your own request")
    fund.record_payment(crew.a, req.id, TODAY, "check", "chk 3")
    assert db.session.get(FundRequest, req.id).status == "paid"


def test_a_coordinator_who_filed_a_request_may_not_decide_it_and_unknown_ids_are_refused(crew):
    req = fund.create_request(crew.a, crew.resident, "50", "rent", "Landlord")
    assert fund.may_decide(crew.a, req) == "You filed this request; two other coordinators decide it."
    assert fund.may_decide(crew.b, req) is None
    own = fund.create_request(crew.b, crew.b, "5", "rent", "Landlord")
    assert fund.may_decide(crew.b, own) == "You can't decide a request for yourself."

    assert fund.may_decide(crew.donor, req) == "Only coordinators decide fund requests."
    _refused(NotAllowed, lambda: fund.approve(crew.a, req.id), "You filed this request")
    _refused(NotAllowed, lambda: fund.decline(crew.a, req.id, "no"), "You filed this request")
    for call in (lambda: fund.approve(crew.b, 99999), lambda: fund.decline(crew.b, 99999, "x"),
                 lambda: fund.record_payment(crew.b, 99999, TODAY, "check", "x"),
                 lambda: fund.cancel_approved(crew.b, 99999, "x"), lambda: fund.reverse(crew.b, 99999, "x")):
        assert "No such" in _refused(NotAllowed, call).message


# Approvals ------------------------------------------------------------------------------------

def test_approvals_from_people_no_longer_coordinators_do_not_count(crew):
    _fund_with(crew, 500)
    req = fund.create_request(crew.resident, crew.resident, "100", "rent", "Landlord")
    fund.approve(crew.a, req.id)
    crew.a.role = "member"  # left the staff
    db.session.commit()
    fund.approve(crew.b, req.id)
    assert db.session.get(FundRequest, req.id).status == "pending" and fund.available_cents() == 50000
    progress = fund.approval_progress(crew.c, req)
    assert [a.coordinator_id for a in progress.approvers] == [crew.b.id] and progress.still_needed == 1
    fund.approve(crew.c, req.id)
    assert db.session.get(FundRequest, req.id).status == "approved" and fund.available_cents() == 40000


def test_approval_progress_tells_each_coordinator_what_they_may_do(crew):
    req = fund.create_request(crew.a, crew.resident, "100", "rent", "Landlord")
    start = fund.approval_progress(crew.b, req)
    assert (start.approvers, start.still_needed, start.mine, start.can_approve, start.can_decline, start.why_not) == \
        ([], 2, None, True, True, None)
    filer = fund.approval_progress(crew.a, req)
    assert (filer.can_approve, filer.can_decline) == (False, False) and "You filed" in filer.why_not
    fund.approve(crew.b, req.id)
    req = db.session.get(FundRequest, req.id)
    mine = fund.approval_progress(crew.b, req)
    assert mine.mine is not None and mine.mine.coordinator_id == crew.b.id and mine.still_needed == 1
    assert (mine.can_approve, mine.can_decline) == (False, True)
    assert mine.why_not == "You have approved this request; another coordinator gives the second approval."
    other = fund.approval_progress(crew.c, req)
    assert (other.mine, other.can_approve, other.can_decline, other.why_not) == (None, True, True, None)
    fund.decline(crew.c, req.id, "Covered by the county")
    done = fund.approval_progress(crew.c, db.session.get(FundRequest, req.id))
    assert (done.can_approve, done.can_decline) == (False, False)


def test_a_grant_of_exactly_the_available_balance_is_approved_and_one_cent_more_is_not(crew):
    _fund_with(crew, 100)
    over = fund.create_request(crew.resident, crew.resident, "100.01", "rent", "Landlord")
    fund.approve(crew.a, over.id)
    _refused(Conflict, lambda: fund.approve(crew.b, over.id), r"The fund has \$100.00 available")
    fund.decline(crew.c, over.id, "Too much")
    exact = fund.create_request(crew.resident, crew.resident, "100", "rent", "Landlord")
    fund.approve(crew.a, exact.id)
    fund.approve(crew.b, exact.id)
    assert db.session.get(FundRequest, exact.id).status == "approved" and fund.available_cents() == 0
    grant = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "approval"))
    assert (grant.request_id, grant.actor_id, grant.occurred_on) == (exact.id, crew.b.id, TODAY)
    assert grant.memo == f"Grant for request {exact.id} (Rent)"
    exact = db.session.get(FundRequest, exact.id)
    assert exact.decided_at is not None
    done = fund.approval_progress(crew.c, exact)
    assert [a.coordinator_id for a in done.approvers] == [crew.a.id, crew.b.id] and done.still_needed == 0
    assert (done.can_approve, done.can_decline) == (False, False)
    assert [e.details for e in _audit("fund_approve")] == [{"cents": 10001}, {"cents": 10000}, {"cents": 10000}]
    assert {e.account: e.amount_cents for e in grant.entries} == {"grants": 10000, "payable": -10000}


def test_declining_needs_a_reason_and_tells_the_residents_coordinator(crew, smtp):
    req = fund.create_request(crew.resident, crew.resident, "100", "rent", "Landlord")
    _refused(FieldError, lambda: fund.decline(crew.b, req.id, "   "), "Say why", "reason")
    fund.decline(crew.b, req.id, "  Covered by the county  ")
    req = db.session.get(FundRequest, req.id)
    assert (req.status, req.decline_reason, req.declined_by_id) == ("declined", "Covered by the county", crew.b.id)
    assert req.decided_at is not None
    (entry,) = _audit("fund_decline")
    # The audit log keeps codes only: the reason is on the request, where deleting an account can erase it.
    assert (entry.actor_id, entry.subject_id, entry.details) == (crew.b.id, req.id, {})
    _refused(Conflict, lambda: fund.decline(crew.c, req.id, "again"), "declined")
    _refused(Conflict, lambda: fund.approve(crew.c, req.id), "declined")
    assert db.session.scalar(select(OutboxEmail.kind)) == "fund_declined"
    send_pending()
    (message,) = smtp.messages
    assert message["rcpt"] == ["avery@example.org"] and message["msg"]["Subject"] == "Fund request declined"
    long = fund.create_request(crew.resident, crew.resident, "10", "rent", "Landlord")
    assert len(fund.decline(crew.c, long.id, "r" * 400).decline_reason) == 300


def test_the_email_goes_to_the_coordinator_who_filed_and_nobody_when_they_left(crew, smtp):
    _fund_with(crew, 500)
    req = fund.create_request(crew.c, crew.resident, "100", "rent", "Landlord")  # Cam filed it, Avery registered Robin
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    crew.c.role = "member"
    crew.a.role = "member"
    db.session.commit()
    fund.record_payment(crew.b, req.id, TODAY, "check", "chk 4")
    send_pending()
    assert [(m["rcpt"], m["msg"]["Subject"]) for m in smtp.messages] == [(["cam@example.org"], "Fund request approved")]
    assert db.session.scalars(select(OutboxEmail.kind)).all() == ["fund_approved"]
    body = smtp.messages[0]["msg"].get_body(("plain",)).get_content()
    assert body.startswith("Hello Cam,") and f"$100.00 for rent for Robin (request {req.id})" in body


# The 90-day limit -----------------------------------------------------------------------------

def test_the_90_day_limit_counts_pending_approved_and_paid_but_not_declined_or_cancelled(crew, app):
    app.config.update(FUND_MAX_REQUEST_CENTS=100000, FUND_MAX_PER_PERSON_90D_CENTS=100000)
    _fund_with(crew, 2000)
    paid = _approved(crew, "300")
    fund.record_payment(crew.c, paid.id, TODAY, "check", "chk 5")
    _approved(crew, "300")
    fund.create_request(crew.resident, crew.resident, "300", "rent", "Landlord")  # pending
    _refused(FieldError, lambda: fund.create_request(crew.resident, crew.resident, "100.01", "rent", "Landlord"),
             r"The limit is \$1,000.00 per person in 90 days; \$100.00 is left", "amount")
    cancelled = _approved(crew, "50", "utilities")
    fund.cancel_approved(crew.c, cancelled.id, "Paid by the county")
    exactly = fund.create_request(crew.resident, crew.resident, "100", "rent", "Landlord")  # exactly what is left
    assert exactly.amount_cents == 10000
    err = _refused(FieldError, lambda: fund.create_request(crew.resident, crew.resident, "0.01", "rent", "Landlord"), field="amount")
    assert err.field == "amount" and "$0.00 is left" in err.message


def test_the_90_day_window_and_the_per_request_limit_edges(crew, app):
    app.config.update(FUND_MAX_REQUEST_CENTS=50000, FUND_MAX_PER_PERSON_90D_CENTS=50000)
    fund.create_request(crew.resident, crew.resident, "500", "rent", "Landlord")  # exactly one request's limit
    _refused(FieldError, lambda: fund.create_request(crew.resident, crew.resident, "1", "rent", "Landlord"), "left", "amount")
    first = db.session.scalar(select(FundRequest))
    first.created_at = first.created_at - timedelta(days=89, hours=23)
    db.session.commit()
    _refused(FieldError, lambda: fund.create_request(crew.resident, crew.resident, "1", "rent", "Landlord"), "left", "amount")
    first.created_at = first.created_at - timedelta(hours=2)  # 90 days and an hour ago
    db.session.commit()
    fund.create_request(crew.resident, crew.resident, "1", "rent", "Landlord")


@pytest.mark.parametrize("field,args,message", [
    ("purpose", ("50", "groceries", "Store"), "what the money is for"),
    ("payee", ("50", "rent", "x" * 121), "under 120"),
    ("amount", ("", "rent", "Landlord"), "Enter an amount"),
])
def test_bad_request_fields_are_named(crew, field, args, message):
    err = _refused(FieldError, lambda: fund.create_request(crew.resident, crew.resident, *args), message, field)
    assert err.field == field


def test_a_request_keeps_a_trimmed_payee_and_note_and_refuses_a_long_note(crew):
    req = fund.create_request(crew.resident, crew.resident, "50", "rent", "  Valley Apartments  ", "  late fee  ")
    assert (req.payee, req.note) == ("Valley Apartments", "late fee")
    assert fund.create_request(crew.resident, crew.resident, "5", "rent", "x" * 120, "n" * 2000).note == "n" * 2000
    blank = fund.create_request(crew.resident, crew.resident, "5", "rent", "Landlord", "   ")
    assert blank.note is None
    err = _refused(FieldError, lambda: fund.create_request(crew.resident, crew.resident, "5", "rent", "L", "n" * 2001), field="note")
    assert err.field == "note" and "2,000" in err.message


def test_one_persons_requests_never_use_up_anothers_limit_and_admins_may_ask_too(crew, app, make_user):
    app.config.update(FUND_MAX_REQUEST_CENTS=50000, FUND_MAX_PER_PERSON_90D_CENTS=50000)
    neighbor = make_user("resident")
    fund.create_request(crew.resident, crew.resident, "500", "rent", "Landlord")
    assert fund.create_request(neighbor, neighbor, "500", "rent", "Landlord").amount_cents == 50000
    admin = make_user("admin")
    assert fund.create_request(admin, admin, "5", "rent", "Landlord").requester_id == admin.id
    _refused(FieldError, lambda: fund.create_request(neighbor, neighbor, "500.01", "rent", "Landlord"),
             r"One request can be at most \$500.00", "amount")
