"""The data rights of texts: deleting an account takes its mobile number, its codes, its channel
choices, the texts queued or sent to its number, the words of what it texted us and its requests
by text; the download of my data holds them; retention removes old texts and codes."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import InboundText, Message, NoticeChoice, OutboxText, PhoneCode, PurgedCount, TextChoice, TextRequest, User
from app.services import data_export, erasure, matches, notify, phones, retention
from app.services import texts as text_service
from app.timeutil import utcnow
from tests.services.data_rights_helpers import scan_everything

MOBILE = "+16515550142"
TRIED = "+16515550124"  # a number a code went to for them, never confirmed
PASSWORD = "correct horse battery"


def _code_for(number: str) -> str:
    body = db.session.scalars(select(OutboxText.body).where(OutboxText.to_number == number, OutboxText.kind == "phone_code")
                              .order_by(OutboxText.id.desc())).first()
    return body.split("code: ")[1][:6]


@pytest.fixture
def texter(make_user, make_post):
    """Tess, with a confirmed mobile, chosen channels, texts both ways, a request by text, the codes
    of a last list, and a code once texted to a number she mistyped; and Otto, whose texts stay."""
    tess = make_user(name="Tess Texter", email="tess@example.org")
    otto = make_user(name="Otto Other", email="otto@example.org")
    coord = make_user("coordinator", name="Cora Coord")
    phones.request_code(tess, tess, TRIED)
    phones.request_code(tess, tess, MOBILE)
    phones.verify(tess, tess, _code_for(MOBILE))
    phones.request_code(otto, otto, "651-555-0177")
    phones.verify(otto, otto, _code_for("+16515550177"))
    tess, otto = db.session.get(User, tess.id), db.session.get(User, otto.id)
    notify.save_choices(tess, tess, {key: {"email": True, "text": True} for key in notify.KINDS})
    text_service.queue_text(tess, "Mutual Aid Exchange: Hal can help with your request. Details: http://localhost/texts/m/abc",
                            kind="match_approved")
    text_service.queue_text(otto, "Mutual Aid Exchange: you have a new message.", kind="message_notice")
    # The generic answer her number got before it was hers: no member on the row, only the number.
    db.session.add(OutboxText(user_id=None, to_number=MOBILE, body="Reply HELP for help.", kind="unknown"))
    db.session.add(InboundText(provider_id="SM1", user_id=tess.id, body="NEED ride Tuesday 9am, Tess at 12 Birch Lane",
                               command="NEED", outcome="need"))
    db.session.add(InboundText(provider_id="SM2", user_id=otto.id, body="YES", command="YES", outcome="done"))
    db.session.add(TextRequest(user_id=tess.id, body="NEED ride Tuesday 9am, Tess at 12 Birch Lane", category="rides",
                               parsed={"category": "ride"}))
    need = make_post(tess, title="Ride to the clinic")
    offer = make_post(otto, kind="offer", title="Rides")
    match = matches.manual_match(coord, need.id, offer.id, None, lambda m: f"http://localhost/m/{m.id}")
    db.session.add(TextChoice(user_id=tess.id, code=1, question="confirm", match_id=match.id))
    db.session.add(Message(match_id=match.id, side="offer", author_id=otto.id, body="I'll text Tess on (651) 555-0142"))
    db.session.commit()
    return tess, otto


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_deleting_an_account_takes_its_number_and_its_texts(texter):
    tess, otto = texter
    assert scan_everything(tess.id, ["6515550142", "6515550124"])  # they are there before
    erasure.delete_account(tess, tess, PASSWORD)
    db.session.expire_all()
    tess = db.session.get(User, tess.id)
    assert (tess.mobile, tess.mobile_verified_at, tess.mobile_consent_by_id, tess.texts_stopped_at) == (None, None, None, None)
    assert scan_everything(tess.id, ["6515550142", "6515550124", "12 birch lane"]) == []
    for model in (PhoneCode, NoticeChoice, TextChoice, TextRequest, OutboxText):
        assert _count(model, model.user_id == tess.id) == 0, model
    assert _count(OutboxText, OutboxText.to_number.in_((MOBILE, TRIED))) == 0
    (inbound,) = db.session.scalars(select(InboundText).where(InboundText.user_id == tess.id))
    assert (inbound.body, inbound.command, inbound.outcome) == (None, "NEED", "need")  # counted, no words
    # Otto's number, codes, texts and words stay his.
    otto = db.session.get(User, otto.id)
    assert otto.mobile == "+16515550177"
    assert db.session.scalar(select(OutboxText.body).where(OutboxText.user_id == otto.id, OutboxText.kind == "message_notice")) \
        == "Mutual Aid Exchange: you have a new message."
    assert db.session.scalar(select(InboundText.body).where(InboundText.user_id == otto.id)) == "YES"
    assert _count(PhoneCode, PhoneCode.user_id == otto.id) == 1


def test_her_mobile_number_in_the_other_sides_message_is_replaced(texter):
    tess, otto = texter
    erasure.delete_account(tess, tess, PASSWORD)
    db.session.expire_all()
    assert db.session.scalar(select(Message.body).where(Message.author_id == otto.id)) == "I'll text Tess on [deleted]"


def test_my_data_holds_my_number_choices_and_texts_both_ways(texter):
    tess, _otto = texter
    doc = data_export.export_for(tess, tess)
    texts = doc["texts"]
    assert texts["mobile"] == MOBILE and texts["mobile_verified_at"] is not None and texts["consent_recorded"] is None
    assert {c["kind"] for c in texts["notice_choices"]} == set(notify.KINDS)
    # The one queued above, and the one the coordinator's match queued: both hers, links left out.
    assert [t["kind"] for t in texts["sent_to_me"]] == ["match_approved", "match_approved"]
    bodies = [t["body"] for t in texts["sent_to_me"]]
    assert "Mutual Aid Exchange: Hal can help with your request. Details: [link]" in bodies
    assert all("http" not in b and t["to"] == MOBILE for b, t in zip(bodies, texts["sent_to_me"]))
    assert [t["body"] for t in texts["sent_by_me"]] == ["NEED ride Tuesday 9am, Tess at 12 Birch Lane"]
    assert [(r["category"], r["status"]) for r in texts["requests"]] == [("rides", "draft")]
    assert sorted(c["number"] for c in texts["codes"]) == sorted([MOBILE, TRIED])
    assert "new message" not in str(texts)  # the texts to Otto stay his
    data_export.to_json(doc)  # every value is JSON


def test_the_data_page_shows_the_texts(texter, client):
    from tests.conftest import login

    tess, _otto = texter
    login(client, tess.email)
    page = client.get("/account/data").get_data(as_text=True)
    assert "(651) 555-0142" in page and "NEED ride Tuesday 9am" in page and "Hal can help" in page


# Retention --------------------------------------------------------------------------------------

def _text(status: str, days_old: float, kind: str = "notice") -> int:
    when = utcnow() - timedelta(days=days_old)
    row = OutboxText(to_number=MOBILE, body="Hello", kind=kind, status=status, created_at=when, next_attempt_at=when)
    db.session.add(row)
    db.session.commit()
    return row.id


def test_old_texts_go_and_are_counted_and_waiting_ones_stay(app):
    gone = [_text(s, 91) for s in ("sent", "failed", "cancelled")]
    kept = [_text("pending", 91), _text("sent", 89)]
    counts = retention.run()
    assert counts["texts"] == 3
    assert sorted(db.session.scalars(select(OutboxText.id))) == sorted(kept)
    assert all(db.session.get(OutboxText, i) is None for i in gone)
    assert retention.purged_counts() == {"text:notice": 3}
    assert retention.run()["texts"] == 0


def test_the_days_for_texts_are_a_setting(app):
    _text("sent", 10)
    assert retention.run()["texts"] == 0
    app.config["RETAIN_TEXT_DAYS"] = 7
    assert retention.run()["texts"] == 1


def test_old_texts_sent_to_us_lose_their_words_and_keep_their_count(app, make_user):
    member = make_user()
    old_at, new_at = utcnow() - timedelta(days=91), utcnow() - timedelta(days=1)
    db.session.add_all([InboundText(provider_id="SMold", user_id=member.id, body="DONE thanks", command="DONE",
                                    outcome="done", created_at=old_at),
                        InboundText(provider_id="SMnew", user_id=member.id, body="YES", command="YES", outcome="done",
                                    created_at=new_at)])
    db.session.commit()
    assert retention.run()["inbound_texts"] == 1
    rows = {r.provider_id: r for r in db.session.scalars(select(InboundText))}
    assert (rows["SMold"].body, rows["SMold"].command, rows["SMold"].outcome) == (None, "DONE", "done")
    assert rows["SMnew"].body == "YES"


def test_used_and_expired_codes_go_after_a_day_and_a_waiting_one_stays(app, make_user):
    member = make_user()
    now = utcnow()

    def code(created: datetime, used: datetime | None = None, minutes: int = 10) -> int:
        row = PhoneCode(user_id=member.id, number=MOBILE, code_hash="x", created_at=created,
                        expires_at=created + timedelta(minutes=minutes), used_at=used)
        db.session.add(row)
        db.session.commit()
        return row.id

    used_long_ago = code(now - timedelta(days=2), used=now - timedelta(days=2))
    expired_long_ago = code(now - timedelta(days=3))
    expired_today = code(now - timedelta(hours=2))
    waiting = code(now - timedelta(minutes=1))
    assert retention.run()["phone_codes"] == 2
    assert sorted(db.session.scalars(select(PhoneCode.id))) == sorted([expired_today, waiting])
    assert not {used_long_ago, expired_long_ago} & set(db.session.scalars(select(PhoneCode.id)))
    # Tallied by the month each code was made: two rows in a month's first days, one otherwise.
    assert db.session.scalar(select(func.sum(PurgedCount.count)).where(PurgedCount.kind == "phone_codes")) == 2
