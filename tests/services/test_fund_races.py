"""Races on one object, with real threads, on SQLite and on PostgreSQL (CI's second run).

Each test lets a first action run up to the moment before its commit (it has written its change and
holds the fund lock), starts a second action on the same object, and only then lets the first
commit. The second must wait for the first and then see what it did: a second grant for the same
request, a second payment, or a reversal that spends money an approval just took would each show
up in the ledger.
"""
import threading
import time

from sqlalchemy import func, select

from app.extensions import db
from app.models import FundRequest, LedgerTransaction, Match, Post, User
from app.services import Conflict
from app.services import fund, matches
from tests.services.test_fund import TODAY, _fund_with, crew  # noqa: F401 - the fixture

GRACE = 0.5  # seconds for the second action to reach the point where it must wait


class Paused:
    """Run `first` in a thread that stops inside `hook` (a function of `module`, called after the
    change is written and before the commit) until the second action has started."""

    def __init__(self, app, monkeypatch, module, hook, when=lambda *a, **k: True):
        self.app, self.reached, self.go = app, threading.Event(), threading.Event()
        self.results = {}
        original = getattr(module, hook)
        owner = {}

        def paused(*args, **kwargs):
            if threading.current_thread() is owner.get("thread") and when(*args, **kwargs):
                self.reached.set()
                assert self.go.wait(60)
            return original(*args, **kwargs)

        monkeypatch.setattr(module, hook, paused)
        self.owner = owner

    def _run(self, name, call):
        with self.app.app_context():
            try:
                call()
                self.results[name] = "ok"
            except Conflict as err:
                self.results[name] = err.message
            finally:
                db.session.remove()

    def race(self, first, second):
        db.session.remove()
        a = threading.Thread(target=self._run, args=("first", first))
        self.owner["thread"] = a
        a.start()
        assert self.reached.wait(60), "the first action never reached its commit"
        b = threading.Thread(target=self._run, args=("second", second))
        b.start()
        time.sleep(GRACE)
        self.go.set()
        a.join(60)
        b.join(60)
        assert not a.is_alive() and not b.is_alive()
        return self.results["first"], self.results["second"]


def _as(user_id):
    return db.session.get(User, user_id)


def _ledger(kind, request_id=None):
    stmt = select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.kind == kind)
    if request_id is not None:
        stmt = stmt.where(LedgerTransaction.request_id == request_id)
    return db.session.scalar(stmt)


def test_two_coordinators_giving_the_final_approval_of_one_request_grant_it_once(app, crew, monkeypatch):
    _fund_with(crew, 1000)
    req = fund.create_request(crew.resident, crew.resident, "300", "rent", "Landlord")
    fund.approve(crew.a, req.id)
    rid, b, c = req.id, crew.b.id, crew.c.id
    first, second = Paused(app, monkeypatch, fund, "_notify").race(
        lambda: fund.approve(_as(b), rid), lambda: fund.approve(_as(c), rid))
    assert first == "ok" and "approved, to be paid" in second, second
    assert _ledger("approval", rid) == 1 and fund.available_cents() == 70000
    assert db.session.get(FundRequest, rid).status == "approved"


def test_two_payments_of_one_request_pay_it_once(app, crew, monkeypatch):
    _fund_with(crew, 1000)
    req = fund.create_request(crew.resident, crew.resident, "300", "rent", "Landlord")
    fund.approve(crew.a, req.id)
    fund.approve(crew.b, req.id)
    rid, b, c = req.id, crew.b.id, crew.c.id
    first, second = Paused(app, monkeypatch, fund, "_notify").race(
        lambda: fund.record_payment(_as(b), rid, TODAY, "check", "chk 1"),
        lambda: fund.record_payment(_as(c), rid, TODAY, "check", "chk 2"))
    assert first == "ok" and "only an approved request can be paid" in second, second
    assert _ledger("payment", rid) == 1 and fund.balances()["cash"] == 70000
    assert db.session.get(FundRequest, rid).payment_reference == "chk 1"


def test_reversing_a_receipt_while_an_approval_spends_it_never_leaves_the_fund_below_zero(app, crew, monkeypatch):
    gift = fund.record_receipt(crew.a, "100", "cash", TODAY, None)
    req = fund.create_request(crew.resident, crew.resident, "80", "rent", "Landlord")
    fund.approve(crew.a, req.id)
    rid, gid, b, c = req.id, gift.id, crew.b.id, crew.c.id
    first, second = Paused(app, monkeypatch, fund, "_notify").race(
        lambda: fund.approve(_as(b), rid), lambda: fund.reverse(_as(c), gid, "The check bounced"))
    assert first == "ok" and "less than what is already approved" in second, second
    assert _ledger("reversal") == 0 and fund.available_cents() == 2000


def test_an_approval_waits_for_a_receipt_reversal_and_then_sees_the_money_gone(app, crew, monkeypatch):
    gift = fund.record_receipt(crew.a, "100", "cash", TODAY, None)
    req = fund.create_request(crew.resident, crew.resident, "80", "rent", "Landlord")
    fund.approve(crew.a, req.id)
    rid, gid, b, c = req.id, gift.id, crew.b.id, crew.c.id
    # The reversal stops after writing its entries (in the audit call), before its commit.
    first, second = Paused(app, monkeypatch, fund.audit, "record", lambda actor, action, *a, **k: action == "fund_reversal"
                           ).race(lambda: fund.reverse(_as(c), gid, "The check bounced"), lambda: fund.approve(_as(b), rid))
    assert first == "ok" and "The fund has $0.00 available" in second, second
    assert _ledger("approval") == 0 and fund.available_cents() == 0
    assert db.session.get(FundRequest, rid).status == "pending"


def test_a_match_released_while_another_on_the_same_offer_is_approved_gives_its_place_once(
        app, make_user, make_post, monkeypatch):
    coordinator, other = make_user("coordinator"), make_user("coordinator")
    helper = make_user(name="Hana Helper")
    offer = make_post(helper, kind="offer", title="One seat to the clinic", quantity=1)
    first_need = make_post(make_user("resident"), title="Ride one")
    second_need = make_post(make_user("resident"), title="Ride two")
    m1 = db.session.scalar(select(Match).where(Match.need_id == first_need.id))
    matches.approve(coordinator, m1.id, lambda m: "http://localhost/")
    m2 = db.session.scalar(select(Match).where(Match.need_id == second_need.id, Match.status == "proposed"))
    if m2 is None:
        from app.services import proposals

        m2 = proposals._proposal(second_need, offer, 1, None)
        db.session.commit()
    ids = dict(m1=m1.id, m2=m2.id, helper=helper.id, other=other.id, offer=offer.id)
    first, second = Paused(app, monkeypatch, matches, "notify_both", lambda m, template, *a, **k: template == "match_declined"
                           ).race(lambda: matches.answer(_as(ids["helper"]), ids["m1"], accept=False),
                                  lambda: matches.approve(_as(ids["other"]), ids["m2"], lambda m: "http://localhost/"))
    # SQLite's write lock makes the approval wait and take the freed place; on PostgreSQL the
    # approval may read the offer as still full before the release commits, and is told so.
    assert first == "ok"
    assert second == "ok" or second.startswith("No longer available"), second
    db.session.expire_all()
    statuses = [db.session.get(Match, ids[k]).status for k in ("m1", "m2")]
    assert statuses == ["declined", "approved" if second == "ok" else "proposed"]
    held = db.session.scalar(select(func.coalesce(func.sum(Match.units), 0)).where(
        Match.offer_id == ids["offer"], Match.status.in_(("approved", "accepted"))))
    assert db.session.get(Post, ids["offer"]).units_committed == held <= 1
