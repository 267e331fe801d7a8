"""Texts people send us, on the service (app/services/text_commands.py): which command a text is,
what waits for a person's answer, the numbered list and its codes, the dates of help that repeats,
and what each answer changes. The webhook itself (signatures, the provider server, replies as
delivered): tests/web/test_text_webhooks.py."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Concern, InboundText, Match, NeedOccurrence, OutboxText, TextChoice, User
from app.services import matches
from app.services import text_commands as tc
from app.services.text_commands import Command, parse_command
from app.timeutil import utcnow
from tests.services.test_repeating_needs import driver, next_monday, ride_to_work


def link(m):
    return f"http://localhost/matches/{m.id}"


def verify(user, number):
    """Give a member a verified mobile number (app/services/phones.py does it for real)."""
    user = db.session.get(User, user.id)
    user.mobile, user.mobile_verified_at = number, utcnow()
    db.session.commit()
    return user


def approved_match(make_post, coord, asker, helper, title="A coat", when=None):
    """A need of `asker` matched by hand with an offer of `helper`: approved, waiting on both."""
    need = make_post(asker, category="household_items", title=title)
    offer = make_post(helper, kind="offer", category="household_items", title=f"{title} to give")
    m = matches.manual_match(coord, need.id, offer.id, None, link)
    if when is not None:
        m.scheduled_at = when
        db.session.commit()
    return m


def accepted_and_asked(make_post, coord, asker, helper, title="A coat"):
    """A match both confirmed, whose "did it happen?" question has gone out."""
    m = approved_match(make_post, coord, asker, helper, title)
    matches.answer(asker, m.id, True, link)
    matches.answer(helper, m.id, True, link)
    db.session.execute(update(Match).where(Match.id == m.id).values(followup_sent_at=utcnow()))
    db.session.commit()
    return db.session.get(Match, m.id)


def replies(user_id=None):
    stmt = select(OutboxText).order_by(OutboxText.id)
    if user_id is not None:
        stmt = stmt.where(OutboxText.user_id == user_id)
    return db.session.scalars(stmt).all()


def send(number, body, sid=None):
    """What the webhook does with one text; returns its InboundText row (None: a repeat)."""
    db.session.expire_all()
    send.n += 1
    return tc.handle(sid or f"SM{send.n:032x}", number, body)


send.n = 0


@pytest.fixture
def crew(make_user):
    class Crew:
        coord = make_user("coordinator", name="Casey Coordinator")
        coord2 = make_user("coordinator", name="Drew Coordinator")
        ana = verify(make_user(name="Ana Asker"), "+16515550101")
        sam = make_user(name="Sam Helper")
        lee = make_user(name="Lee Helper")
    return Crew


# Which command a text is ------------------------------------------------------------------------

@pytest.mark.parametrize("body, command", [
    ("YES", Command("YES")), ("yes", Command("YES")), ("  Yes!  ", Command("YES")), ("Sí", Command("YES")),
    ("si.", Command("YES")), ("YES 2", Command("YES", 2)), ("yes #2", Command("YES", 2)), ("YES2", Command("YES", 2)),
    ("No", Command("NO")), ("no 3", Command("NO", 3)), ("DONE", Command("DONE")), ("listo", Command("DONE")),
    ("Done 1.", Command("DONE", 1)), ("NOSHOW", Command("NOSHOW")), ("no show", Command("NOSHOW")),
    ("No-show 2", Command("NOSHOW", 2)), ("STOP", Command("STOP")), ("stop.", Command("STOP")),
    ("Unsubscribe", Command("STOP")), ("STOPALL", Command("STOP")), ("cancel", Command("STOP")),
    ("END", Command("STOP")), ("quit", Command("STOP")), ("START", Command("START")), ("unstop", Command("START")),
    ("help", Command("HELP")), ("INFO", Command("HELP")), ("ayuda", Command("HELP")),
    ("NEED ride Tuesday 9am clinic", Command("NEED", rest="ride Tuesday 9am clinic")),
    ("necesito comida mañana", Command("NEED", rest="comida mañana")), ("need", Command("NEED")),
    # Not commands: words around them, or nothing at all.
    ("yes please", Command(None)), ("no idea what this is", Command(None)), ("please stop texting me", Command(None)),
    ("Who is this?", Command(None)), ("", Command(None)), ("   ", Command(None)), ("!!!", Command(None)),
    ("YES 2 3", Command(None)), ("STOP 2", Command(None)),
])
def test_a_text_is_read_as_its_command(body, command):
    assert parse_command(body) == command


# Answers ---------------------------------------------------------------------------------------

def test_yes_with_one_waiting_match_confirms_this_persons_side_only(crew, make_post):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    row = send("+16515550101", "Yes")
    assert (row.user_id, row.body, row.command, row.outcome) == (crew.ana.id, "Yes", "YES", "done")
    m = db.session.get(Match, m.id)
    assert (m.status, m.need_answer, m.offer_answer) == ("approved", "accepted", None)
    [reply] = [r for r in replies(crew.ana.id) if r.kind == "reply"]
    assert "Thank you: you confirmed your match with Sam." in reply.body
    assert "http://localhost/posts/mine" in reply.body and reply.to_number == "+16515550101"


def test_the_second_yes_confirms_the_match_for_both(crew, make_post):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    verify(crew.sam, "+16515550102")
    send("+16515550101", "YES")
    send("+16515550102", "YES")
    assert db.session.get(Match, m.id).status == "accepted"


def test_no_declines_and_nothing_waits_after_it(crew, make_post):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    assert send("+16515550101", "no").outcome == "done"
    m = db.session.get(Match, m.id)
    assert (m.status, m.need_answer) == ("declined", "declined")
    assert send("+16515550101", "NO").outcome == "nothing"
    assert "No match waits for you to confirm now." in replies(crew.ana.id)[-1].body


def test_two_waiting_get_a_numbered_list_and_yes_2_confirms_the_second_only(crew, make_post):
    soon, later = utcnow() + timedelta(days=2), utcnow() + timedelta(days=3)
    first = approved_match(make_post, crew.coord, crew.ana, crew.sam, "A coat", when=soon)
    second = approved_match(make_post, crew.coord, crew.ana, crew.lee, "A bed", when=later)
    row = send("+16515550101", "YES")
    assert row.outcome == "listed"
    assert db.session.get(Match, first.id).need_answer is None and db.session.get(Match, second.id).need_answer is None
    body = replies(crew.ana.id)[-1].body
    assert body.startswith("2 matches wait for your answer: 1) Sam, ") and " 2) Lee, " in body
    assert "Reply YES 1 or NO 1 (and so on)." in body
    # Neutral words only: no title, no address, no last name.
    assert "coat" not in body.lower() and "bed" not in body.lower() and "Helper" not in body
    choices = db.session.execute(select(TextChoice.code, TextChoice.match_id, TextChoice.question)
                                 .order_by(TextChoice.code)).all()
    assert choices == [(1, first.id, "confirm"), (2, second.id, "confirm")]
    assert send("+16515550101", "YES 2").outcome == "done"
    assert db.session.get(Match, second.id).need_answer == "accepted"
    assert db.session.get(Match, first.id).need_answer is None
    assert "with Lee" in replies(crew.ana.id)[-1].body
    # Code 2 no longer waits; code 1 still does.
    assert send("+16515550101", "yes 2").outcome == "gone"
    assert "Number 2 no longer waits for your answer." in replies(crew.ana.id)[-1].body
    assert send("+16515550101", "NO 1").outcome == "done"
    assert db.session.get(Match, first.id).status == "declined"


def test_a_new_list_replaces_the_old_codes(crew, make_post):
    approved_match(make_post, crew.coord, crew.ana, crew.sam, "A coat")
    approved_match(make_post, crew.coord, crew.ana, crew.lee, "A bed")
    send("+16515550101", "YES")
    send("+16515550101", "YES")
    assert db.session.scalars(select(TextChoice.code).order_by(TextChoice.code)).all() == [1, 2]
    # A code from a list of another question does not answer this one.
    assert send("+16515550101", "DONE 1").outcome == "gone"


def test_a_paused_match_does_not_wait_for_an_answer(crew, make_post):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    db.session.add(Concern(subject_type="match", match_id=m.id, reporter_id=crew.sam.id, category="safety", body="x", holding=True))
    db.session.commit()
    assert send("+16515550101", "YES").outcome == "nothing"
    assert db.session.get(Match, m.id).need_answer is None


def test_done_completes_and_noshow_reopens(crew, make_post):
    done = accepted_and_asked(make_post, crew.coord, crew.ana, crew.sam, "A coat")
    assert send("+16515550101", "DONE").outcome == "done"
    assert db.session.get(Match, done.id).status == "completed"
    assert "Thank you for letting us know it happened." in replies(crew.ana.id)[-1].body
    missed = accepted_and_asked(make_post, crew.coord, crew.ana, crew.lee, "A bed")
    assert send("+16515550101", "no show").outcome == "done"
    m = db.session.get(Match, missed.id)
    assert (m.status, m.outcome_by_id) == ("no_show", crew.ana.id)
    assert db.session.get(type(m.need), m.need_id).status == "open"


def test_done_waits_for_the_question_to_have_been_asked(crew, make_post):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    matches.answer(crew.ana, m.id, True, link)
    matches.answer(crew.sam, m.id, True, link)
    assert send("+16515550101", "DONE").outcome == "nothing"
    assert db.session.get(Match, m.id).status == "accepted"


def test_done_answers_a_past_date_of_help_that_repeats(crew, make_post):
    offer = driver(make_post, crew.sam, range(5))
    need = ride_to_work(make_post, crew.ana, next_monday())
    [m] = db.session.scalars(select(Match).where(Match.need_id == need.id)).all()
    matches.approve(crew.coord, m.id, link)
    matches.answer(crew.ana, m.id, True, link)
    matches.answer(crew.sam, m.id, True, link)
    dates = db.session.scalars(select(NeedOccurrence).where(NeedOccurrence.need_id == need.id)
                               .order_by(NeedOccurrence.starts_at)).all()
    past = dates[0]
    db.session.execute(update(NeedOccurrence).where(NeedOccurrence.id == past.id).values(
        starts_at=utcnow() - timedelta(hours=3), ends_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    assert offer.id == m.offer_id
    assert send("+16515550101", "DONE").outcome == "done"
    assert db.session.get(NeedOccurrence, past.id).status == "done"
    assert {d.status for d in dates[1:]} == {"matched"}
    assert db.session.get(Match, m.id).status == "accepted"  # the other dates still to come


def test_a_resident_who_cannot_log_in_answers_and_is_pointed_to_a_coordinator(crew, make_post, make_user, app):
    app.config["COMMUNITY_CONTACT"] = "651-555-0100"
    pat = make_user("resident", name="Pat Resident", email="")
    pat.password_hash = None
    db.session.commit()
    verify(pat, "+16515550109")
    m = approved_match(make_post, crew.coord, pat, crew.sam, title="A coat")
    assert send("+16515550109", "SÍ").outcome == "done"
    assert db.session.get(Match, m.id).need_answer == "accepted"
    body = replies(pat.id)[-1].body
    assert "A coordinator will help: 651-555-0100" in body and "http" not in body


# The rest --------------------------------------------------------------------------------------

def test_stop_while_stopped_is_recorded_without_a_reply_and_acts_on_nothing(crew, make_post):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    assert send("+16515550101", "STOP").outcome == "stopped"
    before = len(replies())
    assert send("+16515550101", "YES").outcome == "ignored"
    assert send("+16515550101", "hello?").outcome == "ignored"
    assert len(replies()) == before and db.session.get(Match, m.id).need_answer is None
    assert send("+16515550101", "HELP").outcome == "help"
    assert replies()[-1].kind == "help"


def test_an_unknown_number_leaves_no_number_and_no_words(crew):
    row = send("+16515559999", "YES my name is Jo, 12 Elm St")
    assert (row.user_id, row.body, row.command, row.outcome) == (None, None, None, "unknown_number")
    [reply] = replies()
    assert (reply.user_id, reply.to_number, reply.kind) == (None, "+16515559999", "unknown_number")


def test_an_unverified_or_deleted_number_is_unknown(crew, make_user):
    pending = make_user(name="Nico New")
    pending.mobile = "+16515550120"  # not verified
    gone = verify(make_user(name="Gus Gone"), "+16515550121")
    gone.deleted_at = utcnow()
    db.session.commit()
    assert send("+16515550120", "HELP").outcome == "unknown_number"
    assert send("+16515550121", "HELP").outcome == "unknown_number"


def test_the_same_message_id_acts_once(crew, make_post):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    assert send("+16515550101", "NO", sid="SM" + "a" * 32).outcome == "done"
    assert send("+16515550101", "NO", sid="SM" + "a" * 32) is None
    assert db.session.scalar(select(InboundText.id).where(InboundText.outcome != "done")) is None
    assert len([r for r in replies(crew.ana.id) if r.kind == "reply"]) == 1
    assert db.session.get(Match, m.id).status == "declined"


def test_anything_else_is_kept_for_coordinators_until_one_marks_it_handled(crew):
    row = send("+16515550101", "Can someone call me?")
    assert row.outcome == "unmatched"
    assert [(r.id, u.id) for r, u in tc.unmatched()] == [(row.id, crew.ana.id)]
    assert tc.waiting_count() == 1
    assert tc.mark_handled(db.session.get(User, crew.coord.id), row.id) is True
    assert tc.mark_handled(db.session.get(User, crew.coord2.id), row.id) is False
    assert db.session.get(InboundText, row.id).seen_by_id == crew.coord.id
    assert tc.unmatched() == [] and tc.waiting_count() == 0


def test_a_failure_while_acting_is_kept_as_an_error_and_a_retry_does_not_act_twice(crew, monkeypatch):
    def broken(*args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(tc, "_dispatch", broken)
    row = send("+16515550101", "YES", sid="SM" + "e" * 32)
    assert row.outcome == "error" and replies() == []
    monkeypatch.undo()
    assert send("+16515550101", "YES", sid="SM" + "e" * 32) is None
