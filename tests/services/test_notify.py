"""The one notification service: which channels carry each kind of notice to whom, the defaults,
a member's own choices, quiet hours, the coordinator told only when nothing reaches someone, and
what a text may carry."""
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import NoticeChoice, OutboxEmail, OutboxText
from app.services import FieldError, NotAllowed, matches, notify, texts
from app.services.accounts import create_resident
from app.timeutil import local_to_utc, utcnow
from tests.services.test_match_rules import link, people, proposal  # noqa: F401


def verify(user, number="+16515550123"):
    """What a confirmed code leaves behind (app/services/phones.py is tested on its own)."""
    user.mobile, user.mobile_verified_at = number, utcnow()
    db.session.commit()
    return user


def texts_to(user):
    return db.session.scalars(select(OutboxText).where(OutboxText.user_id == user.id).order_by(OutboxText.id)).all()


def emails_to(address):
    return db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_addr == address).order_by(OutboxEmail.id)).all()


@pytest.fixture
def resident(people):
    """A resident a coordinator registered without email (cannot log in), with a verified mobile."""
    return verify(create_resident(people.coord, "Jordan Reyes", "54016"))


def approved_for(people, make_post, asker, helper, **need_fields):
    offer = make_post(helper, kind="offer", title="Rides")
    need = make_post(asker, title="Ride to 12 Hidden Lane clinic", street_address="12 Hidden Lane",
                     actor=people.coord if not asker.can_log_in else asker, **need_fields)
    return matches.approve(people.coord, proposal(need).id, link)


# Defaults and choices -------------------------------------------------------------------------------

def test_defaults_email_for_everyone_texts_once_a_number_is_verified(people):
    hana = people.helper
    assert {k: notify.channels_for(hana, k) for k in notify.KINDS} == {k: {"email"} for k in notify.KINDS}
    verify(hana)
    got = {k: notify.channels_for(hana, k) for k in notify.KINDS}
    assert got["match_proposed"] == got["reminder"] == got["followup"] == {"email", "text"}
    assert got["digest"] == got["session_reminder"] == {"email"}


def test_someone_without_email_hears_every_kind_by_text(resident):
    assert {k: notify.channels_for(resident, k) for k in notify.KINDS} == {k: {"text"} for k in notify.KINDS}
    resident.texts_stopped_at = utcnow()
    assert not notify.reachable(resident)
    assert {k: notify.channels_for(resident, k) for k in notify.KINDS} == {k: set() for k in notify.KINDS}


def test_a_member_chooses_per_kind_and_texts_need_a_verified_number(people):
    hana = people.helper
    with pytest.raises(FieldError) as err:
        notify.save_choices(hana, hana, {"reminder": {"email": False, "text": True}})
    assert err.value.field == "kinds"
    db.session.rollback()
    assert db.session.scalars(select(NoticeChoice)).all() == []  # nothing saved
    verify(hana)
    notify.save_choices(hana, hana, {"reminder": {"email": False, "text": True}, "message": {"email": False, "text": False}})
    assert notify.channels_for(hana, "reminder") == {"text"}
    assert notify.channels_for(hana, "message") == set()
    assert notify.channels_for(hana, "followup") == {"email", "text"}  # untouched kinds keep the defaults


def test_only_the_member_or_a_coordinator_for_someone_who_cannot_log_in_chooses(people, resident):
    with pytest.raises(NotAllowed):
        notify.save_choices(people.member, people.helper, {"reminder": {"email": True, "text": False}})
    with pytest.raises(NotAllowed):
        notify.save_choices(people.coord, people.helper, {"reminder": {"email": True, "text": False}})
    notify.save_choices(people.coord, resident, {"digest": {"email": False, "text": False}})
    assert notify.chosen(resident)["digest"] == {"email": False, "text": False}
    with pytest.raises(FieldError):
        notify.save_choices(people.helper, people.helper, {"nonsense": {"email": True}})


# Match notices on the chosen channels --------------------------------------------------------------

def test_a_resident_without_email_gets_the_approval_by_text_and_the_coordinator_is_not_emailed(people, make_post, resident):
    verify(people.helper, "+16515550199")
    m = approved_for(people, make_post, resident, people.helper)
    [to_resident] = texts_to(resident)
    assert to_resident.kind == "match_approved" and to_resident.to_number == "+16515550123"
    body = to_resident.body
    assert "Hana can help" in body and "Reply YES to confirm or NO to decline." in body
    assert "/texts/m/" in body  # a signed link: the resident cannot log in
    for secret in ("Hidden Lane", "Helper", "Reyes", "clinic", "hana@example.org"):
        assert secret not in body
    assert [e.to_addr for e in db.session.scalars(select(OutboxEmail))] == ["hana@example.org"]  # only the helper's email
    [to_helper] = texts_to(people.helper)
    assert "Jordan could use your help" in to_helper.body and f"/matches/{m.id}" in to_helper.body
    assert "Reyes" not in to_helper.body


def test_someone_nothing_reaches_is_told_through_their_coordinator_by_email(people, make_post):
    resident = create_resident(people.coord, "Jordan Reyes", "54016")  # no email, no number
    approved_for(people, make_post, resident, people.helper)
    assert texts_to(resident) == []
    [to_coord] = emails_to("casey@example.org")
    assert "someone you post for" in to_coord.body_text.lower()


def test_a_stopped_resident_falls_back_to_the_coordinator(people, make_post, resident):
    resident.texts_stopped_at = utcnow()
    db.session.commit()
    approved_for(people, make_post, resident, people.helper)
    assert texts_to(resident) == []
    assert len(emails_to("casey@example.org")) == 1


def test_a_member_who_turned_a_kind_off_gets_nothing_of_it(people, make_post):
    notify.save_choices(people.helper, people.helper, {"match_proposed": {"email": False, "text": False}})
    approved_for(people, make_post, people.asker, people.helper)
    assert emails_to("hana@example.org") == []
    assert len(emails_to("riley@example.org")) == 1  # the other side still hears


# Quiet hours ---------------------------------------------------------------------------------------

def _local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    today = datetime.now().date()
    return local_to_utc(today + timedelta(days=day_offset), time(hour, minute))


def test_quiet_hours_hold_texts_until_eight_unless_the_help_comes_first(app):
    evening = _local(1, 22, 30)
    morning = _local(2, 8)
    assert texts.quiet_until(evening) == morning
    assert texts.quiet_until(_local(2, 6)) == morning
    assert texts.quiet_until(_local(2, 12)) is None
    assert texts.due_at(evening) == morning
    assert texts.due_at(evening, happens_at=_local(1, 23, 15)) == evening  # a same-night ride: now
    assert texts.due_at(evening, happens_at=_local(2, 10)) == morning
    app.config.update(TEXT_QUIET_START=8, TEXT_QUIET_END=9)  # a window that does not cross midnight
    assert texts.quiet_until(_local(2, 8, 30)) == _local(2, 9)
    assert texts.quiet_until(_local(2, 22)) is None


def test_a_text_queued_in_quiet_hours_waits_and_the_sender_leaves_it(people, make_post, resident, monkeypatch):
    night = _local(1, 23)
    monkeypatch.setattr(texts, "utcnow", lambda: night)
    approved_for(people, make_post, resident, people.helper, flexible=False, appointment_at=_local_naive(3, 10))
    [row] = texts_to(resident)
    assert row.next_attempt_at == _local(2, 8) and row.status == "pending"
    monkeypatch.undo()
    assert texts.send_pending() == (0, 0)  # not due yet: now is before that morning
    assert db.session.get(OutboxText, row.id).status == "pending"


def _local_naive(day_offset: int, hour: int) -> datetime:
    return datetime.combine(datetime.now().date() + timedelta(days=day_offset), time(hour, 0))


# Coordinators see how each member is reached --------------------------------------------------------

def test_reach_says_which_channels_carry_each_kind_and_the_last_failed_text(people, resident):
    verify(people.helper, "+16515550199")
    db.session.add_all([OutboxText(user_id=people.helper.id, to_number="+16515550199", body="a", status="failed",
                                   last_error="Twilio 400 error 21211: bad number", created_at=utcnow() - timedelta(days=2)),
                        OutboxText(user_id=people.helper.id, to_number="+16515550199", body="b", status="sent",
                                   last_error="Delivery undelivered (error 30003)", created_at=utcnow() - timedelta(hours=1)),
                        OutboxText(user_id=people.helper.id, to_number="+16515550199", body="c", status="sent")])
    db.session.commit()
    reach = notify.reach_many([people.helper, resident, people.member])
    assert reach[people.helper.id].email and reach[people.helper.id].text
    assert reach[people.helper.id].last_text_failure[1] == "Delivery undelivered (error 30003)"
    assert reach[resident.id].by_kind["reminder"] == {"text"} and not reach[resident.id].email
    assert reach[people.member.id].last_text_failure is None and not reach[people.member.id].text
