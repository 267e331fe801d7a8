"""The data-rights migration keeps what the ledger and the audit log meant: typed words move from the
append-only rows to places that can be erased, and back again on a downgrade."""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.models import LedgerTransaction
from app.services import fund

BEFORE = "e2b3c4d5f6a7"
TODAY = datetime.now(ZoneInfo("America/Chicago")).date()


def test_typed_words_leave_the_append_only_rows_and_come_back_on_a_downgrade(app, make_user):
    a, b = (make_user("coordinator", name=f"Coord {n}") for n in "ab")
    gift = fund.record_receipt(a, "50", "check", TODAY, None, "chk 77")
    reversal = fund.reverse(b, gift.id, "Counted twice")
    ids = gift_id, reversal_id = (gift.id, reversal.id)
    db.session.commit()  # end every read: on PostgreSQL the downgrade's ALTER TABLE waits for them
    downgrade(revision=BEFORE)
    try:
        with db.engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT id, memo || '|' || COALESCE(reference, '') FROM ledger_transactions "
                                             "WHERE id IN (:g, :r)"), {"g": ids[0], "r": ids[1]}).all())
            assert rows == {gift_id: "Gift received|chk 77", reversal_id: f"Reverses #{gift_id}: Counted twice|"}
            details = conn.execute(sa.text("SELECT details FROM audit_log WHERE action = 'fund_reversal'")).scalar()
            details = details if isinstance(details, dict) else json.loads(details)
            assert details == {"reverses": gift_id, "reason": "Counted twice"}
        upgrade()
    finally:
        upgrade()
    db.session.expire_all()
    gift, reversal = (db.session.get(LedgerTransaction, i) for i in ids)
    assert (gift.memo, gift.reference, reversal.memo, reversal.note.reason) == \
        ("Gift received", "chk 77", f"Reverses #{gift.id}", "Counted twice")
    assert reversal.description == f"Reverses #{gift.id}: Counted twice"
    with db.engine.connect() as conn:
        assert "reference" not in {c["name"] for c in sa.inspect(conn).get_columns("ledger_transactions")}
        for (details,) in conn.execute(sa.text("SELECT details FROM audit_log")).all():
            assert "reason" not in str(details)
    assert fund.balances()["cash"] == 0 and sum(fund.balances().values()) == 0
