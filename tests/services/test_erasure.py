"""Deleting an account: nothing that names the person is left in any column of any table, the
people around them hear what they need to, the books still balance, the address can sign up again."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (AuditEntry, CaseNote, LedgerEntry, LedgerTransaction, Match, OutboxEmail, Post, SessionSeat,
                        User)
from app.services import Conflict, FieldError, NotAllowed, accounts, erasure, fund, fund_reports
from app.services.personal_data import named_tables
from tests.conftest import reads_as_a_sentence
from tests.services.data_rights_helpers import (EMAIL, NAME, PASSWORD, TODAY, everything, match_of, name_words, needles,
                                               scan_everything)


@pytest.fixture
def world(make_user, make_post):
    return everything(make_user, make_post)


def _emails(to: str, kind: str | None = None) -> list[OutboxEmail]:
    stmt = select(OutboxEmail).where(OutboxEmail.to_addr == to).order_by(OutboxEmail.id)
    return list(db.session.scalars(stmt if kind is None else stmt.where(OutboxEmail.kind == kind)))


def test_the_scenario_really_spreads_the_person_everywhere(world):
    """The scan below means something only if, before the deletion, it finds them in many places."""
    tables = {table for table, _column, _value in scan_everything(world.z.id)}
    expected = {"users", "posts", "post_terms", "matches", "case_notes", "session_feedback", "session_series",
                "fund_pledges", "fund_requests", "ledger_notes", "outbox_emails"}
    assert expected <= tables, expected - tables
    for extra in ("messages", "concerns", "bars", "invitations"):
        assert extra in tables, extra


def test_after_deletion_no_column_of_any_table_holds_their_name_email_or_phone(world):
    z_id = world.z.id
    pseudonym = erasure.delete_account(world.z, world.z, PASSWORD)
    db.session.expire_all()
    assert scan_everything(z_id) == []
    z = db.session.get(User, z_id)
    assert z.name == pseudonym and pseudonym.startswith("Former member ") and not z.can_log_in
    assert (z.email, z.phone, z.password_hash, z.lat, z.contact_detail, z.role) == (None, None, None, None, None, "member")
    assert z.deleted_at is not None
    assert db.session.scalar(select(func.count()).select_from(CaseNote)) == 0


def test_the_people_around_them_hear_what_they_need_and_nothing_about_them(world):
    erasure.delete_account(world.z, world.z, PASSWORD)
    db.session.expire_all()
    # Every open post is withdrawn; the approved ride is cancelled and Hal is told (by the pseudonym only).
    assert set(db.session.scalars(select(Post.status).where(Post.owner_id == world.z.id))) <= {"withdrawn", "fulfilled"}
    assert match_of(world.ride_match.id).status == "cancelled"
    assert match_of(world.volunteered.id).status == "cancelled"  # the "I can help" waiting for a coordinator
    (cancelled,) = _emails("hal@example.org", "match_cancelled")
    assert NAME.split()[0] not in cancelled.body_text
    # Zebulon's place in Hana's session went to Wes, who was waiting, and Wes was emailed.
    seats = dict(db.session.execute(select(SessionSeat.user_id, SessionSeat.status)
                                    .where(SessionSeat.session_id == world.session.id)).all())
    assert seats == {world.z.id: "left", world.waiting.id: "joined"}
    assert _emails("wes@example.org", "group_place_opened")
    # The workshop Zebulon hosted is cancelled, and Ada (who had a place) hears it.
    assert _emails("ada@example.org", "group_series_cancelled")
    # Hal's card no longer shows Zebulon as his contact person.
    hal = db.session.get(User, world.helper.id)
    assert (hal.contact_method, hal.contact_name, hal.contact_detail) == ("email", None, None)


def test_the_deletion_is_audited_without_what_was_erased(world):
    erasure.delete_account(world.z, world.z, PASSWORD)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account_delete"))
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (world.z.id, "user", world.z.id)
    assert entry.details["by"] == "self" and entry.details["posts_withdrawn"] >= 3
    assert all(isinstance(v, (int, str)) and not any(n in str(v).lower() for n in needles() + name_words())
               for v in entry.details.values())


def test_the_funds_books_balance_and_read_the_same_after_the_deletion(world):
    before = (fund.balances(), fund.available_cents(), fund_reports.public_summary())
    rows_before = fund_reports.ledger_csv(world.coord).splitlines()
    erasure.delete_account(world.coord, world.z, "correct horse battery")
    db.session.expire_all()
    assert (fund.balances(), fund.available_cents(), fund_reports.public_summary()) == before
    assert sum(fund.balances().values()) == 0
    for tx in db.session.scalars(select(LedgerTransaction)):
        assert sum(e.amount_cents for e in tx.entries) == 0
    rows_after = fund_reports.ledger_csv(world.coord).splitlines()
    assert len(rows_after) == len(rows_before) == db.session.scalar(select(func.count()).select_from(LedgerEntry)) + 1
    # Same amounts, accounts, dates and payees; only the words that named the person are gone.
    assert [r.split(",")[:6] for r in rows_after] == [r.split(",")[:6] for r in rows_before]
    assert any(NAME in r for r in rows_before) and not any(NAME in r for r in rows_after)
    assert "Birch Lane Properties" in "\n".join(rows_after)
    # The paid request still counts as a household helped, pointing at the pseudonym.
    assert fund_reports.public_summary().households_helped == 1


def test_the_same_email_can_sign_up_again_as_a_new_member(world):
    erasure.delete_account(world.z, world.z, PASSWORD)
    accounts.sign_up("Zeb Again", EMAIL, "another good password", "54016",
                     lambda token: f"http://localhost/confirm/{token}", "http://localhost/login", "http://localhost/reset")
    again = accounts.find_by_email(EMAIL)
    assert again is not None and again.id != world.z.id and again.deleted_at is None
    assert [e.kind for e in _emails(EMAIL)] == ["confirm_email"]  # a new account, not "someone tried"


def test_who_may_delete_whom(world, make_user):
    other = make_user(name="Other Member")
    for actor, person in ((other, world.z), (world.helper, world.asker), (world.coord, world.helper)):
        with pytest.raises(NotAllowed) as err:
            erasure.delete_account(actor, person, "correct horse battery")
        assert reads_as_a_sentence(err.value.message)
    for typed in ("", "wrong password"):
        with pytest.raises(FieldError) as err:
            erasure.delete_account(world.z, world.z, typed)
        assert err.value.field == "password" and reads_as_a_sentence(err.value.message)
    db.session.expire_all()
    assert db.session.get(User, world.z.id).email == EMAIL  # nothing happened
    admin = make_user("admin", name="Only Admin")
    with pytest.raises(Conflict):
        erasure.delete_account(admin, admin, "correct horse battery")
    erasure.delete_account(world.coord, world.z, "correct horse battery")  # a coordinator, for a resident
    with pytest.raises(NotAllowed):
        erasure.delete_account(world.coord, db.session.get(User, world.z.id), "correct horse battery")


def test_every_table_that_points_at_a_person_is_named_in_the_personal_data_rules():
    users = db.metadata.tables["users"]
    pointing = {t.name for t in db.metadata.sorted_tables if t is not users
                and any(fk.column.table is users for fk in t.foreign_keys)}
    assert pointing - named_tables() == set(), "say in app/services/personal_data.py what deleting an account does"


def test_matches_on_the_other_side_keep_their_history(world):
    erasure.delete_account(world.z, world.z, PASSWORD)
    db.session.expire_all()
    done = db.session.scalars(select(Match).where(Match.status == "completed")).one()
    assert done.need_feedback == "[deleted]"  # Zebulon's words
    assert done.offer_feedback.startswith("Lovely to meet")  # Hal's words stay his, the name replaced
    assert "[deleted]" in done.offer_feedback


def test_their_messages_are_redacted_and_the_other_sides_stay_without_their_name(world):
    from app import models

    erasure.delete_account(world.z, world.z, PASSWORD)
    db.session.expire_all()
    rows = db.session.execute(select(models.Message.author_id, models.Message.body)
                              .where(models.Message.match_id == world.ride_match.id).order_by(models.Message.id)).all()
    assert rows == [(world.helper.id, "Hello [deleted], see you soon"), (world.z.id, "[deleted]")]


def test_a_name_made_of_everyday_words_leaves_other_peoples_text_and_emails_alone(make_user, make_post):
    """"Will May" deleting her account: Hal's "I will be there" stays as he wrote it, and emails to
    other people stay queued; only her full name, email and phone are taken out of them."""
    from app.models import LedgerNote, Message
    from app.services import fund, matches, messages

    coord = make_user("coordinator", name="Cora Coord", email="cora@example.org")
    hal = make_user(name="Hal Helper", email="hal@example.org")
    ada = make_user(name="Ada Asker", email="ada@example.org")
    will = make_user(name="Will May", email="will.may@example.org", password=PASSWORD)
    will.phone = "651-555-0199"
    db.session.commit()
    offer = make_post(hal, kind="offer", title="Rides to appointments")
    need = make_post(will, title="Ride to the clinic")
    match = matches.manual_match(coord, need.id, offer.id, None, lambda m: f"http://localhost/x/{m.id}")
    messages.send(hal, match.id, "I will be there at ten, may be a bit early", lambda m: f"http://localhost/x/{m.id}")
    messages.send(hal, match.id, "Will May, your ride is outside", lambda m: f"http://localhost/x/{m.id}")
    pledge = fund.pledge(will, "10", "monthly")
    receipt = fund.record_receipt(coord, "10", "online", TODAY, pledge.id, "will check again in May")
    mail = {to: OutboxEmail(to_addr=to, subject=subject, body_text=body, body_html=f"<p>{body}</p>", kind="notice")
            for to, subject, body in (
                ("ada@example.org", "We will meet in May", "You may bring a friend; we will have tea."),
                ("hal@example.org", "Your match", "Will May can be reached at 651-555-0199 or will.may@example.org."),
                ("will.may@example.org", "Hello Will", "Your ride is on Tuesday."))}
    db.session.add_all(mail.values())
    db.session.commit()
    ids = {to: e.id for to, e in mail.items()}

    erasure.delete_account(will, will, PASSWORD)
    db.session.expire_all()

    assert db.session.scalars(select(Message.body).where(Message.match_id == match.id).order_by(Message.id)).all() == [
        "I will be there at ten, may be a bit early", "[deleted], your ride is outside"]
    assert db.session.get(LedgerNote, receipt.id).reference == "will check again in May"
    to_ada = db.session.get(OutboxEmail, ids["ada@example.org"])
    assert (to_ada.subject, to_ada.body_text, to_ada.body_html) == (
        "We will meet in May", "You may bring a friend; we will have tea.", "<p>You may bring a friend; we will have tea.</p>")
    # Hal's email carried Will's contact card (her name, phone, email, and so her place): it is gone.
    assert db.session.get(OutboxEmail, ids["hal@example.org"]) is None
    assert db.session.get(OutboxEmail, ids["will.may@example.org"]) is None
    assert _emails("will.may@example.org") == []
    # The emails the deletion itself sent others (Hal's match is cancelled) are there too.
    assert _emails("hal@example.org", "match_cancelled")


def test_a_deleted_account_leaves_the_waiting_list_and_the_expiring_checks(make_user):
    """Its checks are deleted with it; and a deleted account from before (a check or a decision
    left over) is listed nowhere."""
    from datetime import timedelta

    from app.models import MemberApproval, VettingCheck
    from app.services import membership, vetting
    from app.timeutil import local_today, utcnow

    coord = make_user("coordinator", name="Cora Coord", email="cora@example.org")
    leaving = make_user(name="Lee Leaving", email="lee@example.org", password=PASSWORD)
    earlier = make_user(name="Old Gone", email="old@example.org")
    today = local_today()
    for person in (leaving, earlier):
        vetting.save_check(coord, person, "licence", today - timedelta(days=300), today + timedelta(days=10))
        db.session.add(MemberApproval(user_id=person.id, status="waiting"))
    db.session.commit()
    assert {c.user_id for c in vetting.expiring(coord)} == {leaving.id, earlier.id}
    assert {w.user.id for w in membership.waiting(coord)} == {leaving.id, earlier.id}

    erasure.delete_account(leaving, leaving, PASSWORD)
    db.session.execute(User.__table__.update().where(User.id == earlier.id).values(deleted_at=utcnow()))
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalars(select(VettingCheck.user_id)).all() == [earlier.id]
    assert vetting.expiring(coord) == [] and membership.waiting(coord) == []
    assert vetting.send_expiry_reminders() == 0
