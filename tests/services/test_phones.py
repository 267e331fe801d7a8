"""A verified mobile number: parsed and stored in E.164, a six-digit code texted through the real
Twilio library to the local provider server, typed back within its minutes and tries, at most a few
codes an hour; a number proven by one account leaves the other; a coordinator adds a resident's
number only with the resident's consent."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, OutboxText, PhoneCode, User
from app.services import FieldError, NotAllowed, accounts, phones
from app.services import texts as text_service
from app.timeutil import utcnow
from tests.conftest import reads_as_a_sentence

MOBILE = "+16515550142"
CODE_TEXT = re.compile(r"^Mutual Aid Exchange code: (\d{6})\. It expires in 10 minutes\.$")


def _sent_code(server, number: str = MOBILE) -> str:
    """Deliver what is queued, then read the code out of the last text the provider got for `number`."""
    text_service.send_pending()
    got = server.to(number)
    assert got, f"no text reached {number}"
    match = CODE_TEXT.match(got[-1]["body"])
    assert match, got[-1]["body"]
    return match.group(1)


def _fresh(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


@pytest.fixture
def clock(monkeypatch):
    """Move the services' clock: `clock(minutes=11)` is eleven minutes from now."""
    def move(**delta):
        moved = utcnow() + timedelta(**delta)
        monkeypatch.setattr(phones, "utcnow", lambda: moved)
        return moved
    return move


# Parsing ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["651-555-0142", "(651) 555-0142", "651.555.0142", "6515550142", "1 651 555 0142",
                                   "+1 651 555 0142", "+16515550142", " 651 555 0142 ", "001 651 555 0142"])
def test_us_numbers_in_any_usual_format_are_stored_in_e164(app, typed):
    assert phones.parse(typed) == MOBILE
    assert phones.display(MOBILE) == "(651) 555-0142"


def test_a_number_from_another_country_needs_its_country_code_and_shows_with_it(app):
    assert phones.parse("+44 7911 123456") == "+447911123456"
    assert phones.display("+447911123456") == "+44 7911 123456"


@pytest.mark.parametrize("typed, words", [
    ("", "Enter a mobile number."),
    ("651-555-CALL", "Use digits"),
    ("call me", "Use digits"),
    ("12345", "not a phone number we can read"),
    ("651-555-014", "not a phone number we can read"),
    ("+44 20 7946 0958", "cannot get texts"),  # a London landline
    ("1-800-555-0199", "cannot get texts"),  # toll-free
    ("+1 651 555 01425555", "not a phone number we can read"),
])
def test_what_cannot_be_texted_is_refused_with_a_sentence_for_the_field(app, typed, words):
    with pytest.raises(FieldError) as err:
        phones.parse(typed)
    assert err.value.field == "number" and words in err.value.message and reads_as_a_sentence(err.value.message)


# The code ---------------------------------------------------------------------------------------

def test_the_code_goes_by_text_to_the_typed_number_and_only_its_hash_is_kept(app, make_user, texts):
    member = make_user()
    row = phones.request_code(member, member, "(651) 555-0142")
    assert _fresh(member.id).mobile is None  # nothing is theirs until the code comes back
    code = _sent_code(texts)
    (message,) = texts.messages
    assert message["to"] == MOBILE and message["from"] == texts.from_number
    assert message["body"] == f"Mutual Aid Exchange code: {code}. It expires in 10 minutes."
    stored = db.session.get(PhoneCode, row.id)
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert stored.number == MOBILE and stored.expires_at - stored.created_at == timedelta(minutes=10)
    # The outbox row is not tied to the member (the number is not theirs yet) and goes in quiet hours too.
    out = db.session.scalars(select(OutboxText)).one()
    assert (out.user_id, out.kind, out.status) == (None, "phone_code", "sent")


def test_the_right_code_makes_the_number_the_members(app, make_user, texts):
    member = make_user()
    phones.request_code(member, member, "651 555 0142")
    assert phones.verify(member, member, _sent_code(texts)) == MOBILE
    member = _fresh(member.id)
    assert member.mobile == MOBILE and member.mobile_verified_at is not None and member.can_get_texts
    assert (member.mobile_consent_by_id, member.mobile_consent_at) == (None, None)
    assert db.session.scalars(select(PhoneCode)).one().used_at is not None
    with pytest.raises(FieldError):  # a code works once
        phones.verify(member, member, "000000")


def test_a_code_typed_with_spaces_is_read(app, make_user, texts):
    member = make_user()
    phones.request_code(member, member, MOBILE)
    code = _sent_code(texts)
    assert phones.verify(member, member, f" {code[:3]} {code[3:]} ") == MOBILE


def test_the_code_expires_after_ten_minutes(app, make_user, texts, clock):
    member = make_user()
    phones.request_code(member, member, MOBILE)
    code = _sent_code(texts)
    clock(minutes=10, seconds=1)
    with pytest.raises(FieldError) as err:
        phones.verify(member, member, code)
    assert err.value.field == "code" and "Ask for a new code" in err.value.message
    assert _fresh(member.id).mobile is None


def test_the_code_still_works_just_before_it_expires(app, make_user, texts, clock):
    member = make_user()
    phones.request_code(member, member, MOBILE)
    code = _sent_code(texts)
    clock(minutes=9, seconds=50)
    assert phones.verify(member, member, code) == MOBILE


def test_five_wrong_tries_kill_the_code(app, make_user, texts):
    member = make_user()
    phones.request_code(member, member, MOBILE)
    code = _sent_code(texts)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(FieldError) as err:
            phones.verify(member, member, wrong)
        assert f"try {left} more time" in err.value.message and reads_as_a_sentence(err.value.message)
    with pytest.raises(FieldError) as err:
        phones.verify(member, member, wrong)
    assert "tried too often" in err.value.message
    with pytest.raises(FieldError):  # now even the right code is refused
        phones.verify(member, member, code)
    assert _fresh(member.id).mobile is None
    phones.request_code(member, member, MOBILE)  # a new code must be asked for
    assert phones.verify(member, member, _sent_code(texts)) == MOBILE


@pytest.mark.parametrize("typed, words", [("", "Enter the code"), ("12345", "six digits"), ("12345a", "six digits"),
                                          ("١٢٣٤٥٦", "six digits")])
def test_a_code_that_is_not_six_digits_is_refused_without_using_a_try(app, make_user, texts, typed, words):
    member = make_user()
    row = phones.request_code(member, member, MOBILE)
    with pytest.raises(FieldError) as err:
        phones.verify(member, member, typed)
    assert err.value.field == "code" and words in err.value.message
    assert db.session.get(PhoneCode, row.id).tries == 0


def test_asking_again_ends_the_earlier_code(app, make_user, texts):
    member = make_user()
    phones.request_code(member, member, MOBILE)
    first = _sent_code(texts)
    phones.request_code(member, member, MOBILE)
    second = _sent_code(texts)
    if first != second:
        with pytest.raises(FieldError):
            phones.verify(member, member, first)
    assert phones.verify(member, member, second) == MOBILE


# How many codes -----------------------------------------------------------------------------------

def test_a_fourth_code_in_an_hour_is_refused_and_an_hour_later_allowed(app, make_user, texts, clock):
    member = make_user()
    for number in ("651-555-0142", "651-555-0143", "651-555-0144"):
        phones.request_code(member, member, number)
    with pytest.raises(FieldError) as err:
        phones.request_code(member, member, "651-555-0145")
    assert err.value.field == "number" and "only 3 codes an hour" in err.value.message
    assert reads_as_a_sentence(err.value.message)
    text_service.send_pending()
    assert len(texts.messages) == 3
    clock(minutes=61)
    phones.request_code(member, member, "651-555-0145")


def test_one_number_gets_at_most_three_codes_an_hour_whoever_asks(app, make_user):
    people = [make_user() for _ in range(4)]
    for person in people[:3]:
        phones.request_code(person, person, MOBILE)
    with pytest.raises(FieldError) as err:
        phones.request_code(people[3], people[3], MOBILE)
    assert "codes an hour" in err.value.message
    phones.request_code(people[3], people[3], "651-555-0199")  # another number is fine
    assert db.session.query(PhoneCode).count() == 4


# Moving, replacing, removing ------------------------------------------------------------------

def test_a_number_proven_by_another_account_moves_to_it(app, make_user, texts):
    old, new = make_user(name="Olga Old"), make_user(name="Nell New")
    phones.request_code(old, old, MOBILE)
    phones.verify(old, old, _sent_code(texts))
    phones.request_code(new, new, MOBILE)
    code = _sent_code(texts)
    # The new owner's code text is the same as anyone's: nothing about the other account.
    assert texts.to(MOBILE)[-1]["body"] == f"Mutual Aid Exchange code: {code}. It expires in 10 minutes."
    assert phones.verify(new, new, code) == MOBILE
    old, new = _fresh(old.id), _fresh(new.id)
    assert (old.mobile, old.mobile_verified_at, old.can_get_texts) == (None, None, False)
    assert new.mobile == MOBILE and new.can_get_texts
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "phone_reassigned"))
    assert (entry.subject_id, entry.actor_id) == (old.id, new.id) and "555" not in str(entry.details)


def test_texts_waiting_for_the_old_owner_are_cancelled_when_the_number_moves(app, make_user):
    old, new = make_user(), make_user()
    old.mobile, old.mobile_verified_at = MOBILE, utcnow()
    db.session.commit()
    waiting = text_service.queue_text(old, "Reminder for tomorrow", kind="notice")
    db.session.commit()
    waiting_id = waiting.id
    row = phones.request_code(new, new, MOBILE)
    code = _code_of(row)
    phones.verify(new, new, code)
    assert db.session.get(OutboxText, waiting_id).status == "cancelled"


def _code_of(row: PhoneCode) -> str:
    """The code of a row, read from the text queued for it (no provider in this test)."""
    db.session.expire_all()
    text = db.session.scalars(select(OutboxText).where(OutboxText.to_number == row.number, OutboxText.kind == "phone_code")
                              .order_by(OutboxText.id.desc())).first()
    return CODE_TEXT.match(text.body).group(1)


def test_a_new_number_replaces_the_old_one(app, make_user):
    member = make_user()
    phones.verify(member, member, _code_of(phones.request_code(member, member, MOBILE)))
    old_text = text_service.queue_text(_fresh(member.id), "For the old number", kind="notice")
    db.session.commit()
    old_text_id = old_text.id
    phones.verify(member, member, _code_of(phones.request_code(member, member, "651-555-0177")))
    member = _fresh(member.id)
    assert member.mobile == "+16515550177"
    assert db.session.get(OutboxText, old_text_id).status == "cancelled"
    with pytest.raises(FieldError) as err:  # the same number again: nothing to do
        phones.request_code(member, member, "651-555-0177")
    assert "already confirmed" in err.value.message


def test_removing_the_number_stops_every_text(app, make_user):
    member = make_user()
    phones.verify(member, member, _code_of(phones.request_code(member, member, MOBILE)))
    waiting = text_service.queue_text(_fresh(member.id), "Soon", kind="notice")
    db.session.commit()
    waiting_id = waiting.id
    phones.remove(member, _fresh(member.id))
    member = _fresh(member.id)
    assert (member.mobile, member.mobile_verified_at, member.can_get_texts) == (None, None, False)
    assert db.session.get(OutboxText, waiting_id).status == "cancelled"
    assert text_service.queue_text(member, "After", kind="notice") is None


def test_a_member_with_a_verified_phone_and_no_email_needs_no_email_confirmation(app):
    person = User(name="Phone Only", email=None, role="member")
    db.session.add(person)
    db.session.commit()
    assert not person.is_confirmed
    with pytest.raises(accounts.NotConfirmed):
        accounts.require_confirmed(person)
    coord = User(name="Cora Coord", email="cora@example.org", role="coordinator", password_hash="x")
    db.session.add(coord)
    db.session.commit()
    phones.verify(coord, person, _code_of(phones.request_code(coord, person, MOBILE, consent=True)))
    person = _fresh(person.id)
    assert person.is_confirmed
    accounts.require_confirmed(person)


# A coordinator, for a resident ------------------------------------------------------------------

@pytest.fixture
def resident(make_user):
    coord = make_user("coordinator", name="Cora Coord")
    person = accounts.create_resident(coord, "Rae Resident", "54016")
    return coord, person


def test_a_coordinator_needs_the_residents_consent(app, resident):
    coord, person = resident
    with pytest.raises(FieldError) as err:
        phones.request_code(coord, person, MOBILE, consent=False)
    assert err.value.field == "consent" and reads_as_a_sentence(err.value.message)
    assert db.session.query(PhoneCode).count() == 0 and db.session.query(OutboxText).count() == 0


def test_a_coordinator_adds_a_residents_number_the_resident_reads_the_code_back(app, resident, texts):
    coord, person = resident
    phones.request_code(coord, person, "651-555-0142", consent=True)
    code = _sent_code(texts)
    assert _fresh(person.id).mobile is None
    phones.verify(coord, person, code)
    person = _fresh(person.id)
    assert person.mobile == MOBILE and person.mobile_consent_by_id == coord.id and person.mobile_consent_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "phone_added_for_member"))
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (coord.id, "user", person.id)
    assert not any(d in str(entry.details) for d in ("6515550142", "555"))
    phones.remove(coord, person)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "phone_removed_for_member")).subject_id == person.id


def test_a_mistyped_number_never_becomes_the_residents(app, resident, texts):
    coord, person = resident
    phones.request_code(coord, person, "651-555-0124", consent=True)  # two digits swapped: a stranger's phone
    code = _sent_code(texts, "+16515550124")
    guess = f"{(int(code) + 1) % 10 ** 6:06d}"  # the resident got no code and cannot read it back
    with pytest.raises(FieldError):
        phones.verify(coord, person, guess)
    person = _fresh(person.id)
    assert person.mobile is None and not person.can_get_texts
    assert text_service.queue_text(person, "A notice", kind="notice") is None


def test_who_may_set_whose_number(app, make_user, resident):
    coord, person = resident
    member = make_user()
    can_log_in = make_user("resident", name="Rita Login")
    for actor, target in ((member, person), (member, coord), (coord, member), (coord, can_log_in)):
        with pytest.raises(NotAllowed) as err:
            phones.request_code(actor, target, MOBILE, consent=True)
        assert reads_as_a_sentence(err.value.message)
        with pytest.raises(NotAllowed):
            phones.verify(actor, target, "123456")
        with pytest.raises(NotAllowed):
            phones.remove(actor, target)
    assert db.session.query(PhoneCode).count() == 0
