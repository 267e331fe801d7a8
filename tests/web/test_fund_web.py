"""The fund's pages: messages beside fields, who sees what, the CSV download."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import FundRequest, Pledge
from app.services import fund
from tests.conftest import csrf_token, login

TODAY = datetime.now(ZoneInfo("America/Chicago")).date()


@pytest.fixture
def crew(make_user):
    class Crew:
        a = make_user("coordinator", name="Avery Coord", email="avery@example.org")
        b = make_user("coordinator", name="Blake Coord", email="blake@example.org")
        c = make_user("coordinator", name="Cam Coord", email="cam@example.org")
        donor = make_user(name="Dana Donor", email="dana@example.org")
        resident = make_user("resident", name="Robin Resident", email="robin@example.org")
    return Crew


@pytest.mark.parametrize("typed,message", [("12.345", "two digits after the point"), ("-5", "above zero"),
                                           ("1e9", "like 125"), ("abc", "like 125")])
def test_bad_pledge_amount_is_explained_beside_the_field_and_kept(client, crew, typed, message):
    login(client, crew.donor.email)
    response = client.post("/fund/pledges", data={"csrf_token": csrf_token(client, "/fund/"), "amount": typed,
                                                  "frequency": "monthly", "note": "for rent"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and f'value="{typed}"' in html
    assert 'id="amount-err"' in html
    assert db.session.scalar(select(Pledge)) is None


def test_member_pledges_and_sees_an_anonymous_summary(client, crew):
    fund.record_receipt(crew.a, "500", "check", TODAY, None)
    req = fund.create_request(crew.resident, crew.resident, "120", "rent", "Valley Apartments LLC")
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    fund.record_payment(crew.a, req.id, TODAY, "check", "chk 42")
    login(client, crew.donor.email)
    assert client.post("/fund/pledges", data={"csrf_token": csrf_token(client, "/fund/"), "amount": "25",
                                              "frequency": "monthly"}).status_code == 302
    page = client.get("/fund/").get_data(as_text=True)
    # Small counts are suppressed (tests/web/test_report_pages.py): the balance to $100, one household as "fewer than 5".
    assert "at least $300.00" in page and "Households helped: <strong>fewer than 5</strong>" in page and "$25.00" in page
    for private in ("Robin", "Valley Apartments", "chk 42"):
        assert private not in page


def test_resident_asks_and_over_limit_is_refused_beside_the_field(client, crew):
    login(client, crew.resident.email)
    url = "/fund/requests/new"
    over = client.post(url, data={"csrf_token": csrf_token(client, url), "amount": "900", "purpose": "rent",
                                  "payee": "Valley Apartments"})
    html = over.get_data(as_text=True)
    assert over.status_code == 422 and "at most $500.00" in html and 'value="Valley Apartments"' in html
    ok = client.post(url, data={"csrf_token": csrf_token(client, url), "amount": "350", "purpose": "rent",
                                "payee": "Valley Apartments"})
    assert ok.status_code == 302
    req = db.session.scalar(select(FundRequest))
    assert (req.amount_cents, req.requester_id, req.status) == (35000, crew.resident.id, "pending")


def test_members_cannot_reach_the_desk_the_csv_or_others_requests(client, crew, make_user):
    req = fund.create_request(crew.resident, crew.resident, "100", "rent", "Landlord")
    login(client, crew.donor.email)
    assert client.get("/fund/manage").status_code == 403
    assert client.get("/fund/ledger.csv").status_code == 403
    assert client.get(f"/fund/requests/{req.id}").status_code == 404
    assert client.get("/fund/requests/new").status_code == 403
    token = csrf_token(client, "/fund/")
    assert client.post(f"/fund/requests/{req.id}/approve", data={"csrf_token": token}).status_code == 403


def test_two_coordinators_approve_through_the_pages_then_pay_then_export(client, crew):
    fund.record_receipt(crew.a, "500", "check", TODAY, None)
    req = fund.create_request(crew.c, crew.resident, "100", "utilities", "Xcel Energy")
    detail = f"/fund/requests/{req.id}"
    login(client, crew.a.email)
    assert ">Approve</button>" in client.get(detail).get_data(as_text=True)
    assert client.post(f"{detail}/approve", data={"csrf_token": csrf_token(client, detail)}).status_code == 302
    # Having approved, the coordinator sees who approved and what is still needed, not the button again.
    page = client.get(detail).get_data(as_text=True)
    assert ">Approve</button>" not in page
    assert "Avery Coord" in page and "One more approval is needed" in page and "You have approved" in page
    again = client.post(f"{detail}/approve", data={"csrf_token": csrf_token(client, detail)})
    assert again.status_code == 409 and "second coordinator" in again.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, crew.b.email)
    assert client.post(f"{detail}/approve", data={"csrf_token": csrf_token(client, detail)}).status_code == 302
    bad = client.post(f"{detail}/pay", data={"csrf_token": csrf_token(client, detail), "paid_on": TODAY.isoformat(),
                                             "method": "check", "reference": ""})
    assert bad.status_code == 422 and "check number" in bad.get_data(as_text=True)
    assert client.post(f"{detail}/pay", data={"csrf_token": csrf_token(client, detail), "paid_on": TODAY.isoformat(),
                                              "method": "check", "reference": "chk 5"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(FundRequest, req.id).status == "paid"
    desk = client.get("/fund/manage").get_data(as_text=True)
    assert "$400.00" in desk
    csv_response = client.get("/fund/ledger.csv")
    assert csv_response.mimetype == "text/csv" and "attachment" in csv_response.headers["Content-Disposition"]
    assert "Xcel Energy" in csv_response.get_data(as_text=True)


def test_receipt_form_keeps_what_was_typed_on_error(client, crew):
    login(client, crew.a.email)
    response = client.post("/fund/receipts", data={"csrf_token": csrf_token(client, "/fund/manage"), "amount": "12.345",
                                                   "method": "cash", "received_on": TODAY.isoformat(), "pledge_id": "0",
                                                   "reference": "envelope 3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "two digits" in html and 'value="envelope 3"' in html


def test_the_coordinator_who_filed_a_request_cannot_approve_it(client, crew):
    """Two people other than the one who asked and the one who filed decide."""
    fund.record_receipt(crew.a, "500", "check", TODAY, None)
    req = fund.create_request(crew.c, crew.resident, "100", "utilities", "Xcel Energy")
    detail = f"/fund/requests/{req.id}"
    login(client, crew.c.email)
    page = client.get(detail).get_data(as_text=True)
    assert ">Approve</button>" not in page and "You filed this request" in page
    assert client.post(f"{detail}/approve", data={"csrf_token": csrf_token(client, detail)}).status_code == 403
    assert client.post(f"{detail}/decline", data={"csrf_token": csrf_token(client, detail), "reason": "x"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(FundRequest, req.id).approvals == []
