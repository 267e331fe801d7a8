"""The provider's webhooks (/texts/inbound, /texts/status) as Twilio calls them, signed by twilio's
own RequestValidator (tests/textserver.py), with the replies read from the local server speaking
Twilio's API that the app sends to through the real library; the draft a NEED text makes, and the
coordinators' page of texts. The commands' rules in detail: tests/services/test_text_commands.py."""
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import InboundText, Match, OutboxText, Post, TextRequest, User
from app.services import texts as text_service
from app.timeutil import utcnow
from tests.conftest import csrf_token
from tests.services.test_text_commands import accepted_and_asked, approved_match, verify
from tests.textserver import inbound_params, signed_post, status_params, twilio_headers

ANA, SAM, STRANGER = "+16515550101", "+16515550102", "+16515559999"
INBOUND = "http://localhost/texts/inbound"


@pytest.fixture
def crew(make_user):
    class Crew:
        coord = make_user("coordinator", name="Casey Coordinator", email="casey@example.org")
        ana = verify(make_user(name="Ana Asker", email="ana@example.org"), ANA)
        sam = make_user(name="Sam Helper", email="sam@example.org")
        lee = make_user(name="Lee Helper", email="lee@example.org")
        mo = make_user(name="Mo Member", email="mo@example.org")
    return Crew


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def bodies_to(texts, number) -> list[str]:
    return [m["body"] for m in texts.to(number)]


def text(client, texts, body, number=ANA, **kwargs):
    response = texts.inbound(client, body, number, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    return response


# Signatures ------------------------------------------------------------------------------------

def test_a_signed_text_gets_an_empty_twiml_answer(client, texts, crew):
    response = text(client, texts, "hello")
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.get_data(as_text=True) == '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.mark.parametrize("how", ["unsigned", "other token", "other url", "other path", "changed body", "added field"])
def test_a_text_without_a_valid_signature_is_refused_and_changes_nothing(client, texts, crew, make_post, how):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    queued = count(OutboxText)  # the approval's own notices
    params = inbound_params(texts.account_sid, ANA, texts.from_number, "YES")
    token, url = texts.auth_token, INBOUND
    headers = None
    if how == "unsigned":
        token = None
    elif how == "other token":
        token = "0" * 32
    elif how == "other url":
        headers = twilio_headers(texts.auth_token, "https://elsewhere.example/texts/inbound", params)
    elif how == "other path":
        headers = twilio_headers(texts.auth_token, "http://localhost/texts/status", params)
    if how in ("changed body", "added field"):
        headers = twilio_headers(texts.auth_token, INBOUND, params)
        params = dict(params, Body="NO") if how == "changed body" else dict(params, Extra="1")
    response = signed_post(client, url, params, token, headers=headers)
    assert response.status_code == 403
    db.session.expire_all()
    assert count(InboundText) == 0 and count(OutboxText) == queued and texts.messages == []
    assert db.session.get(Match, m.id).need_answer is None


def test_the_signature_is_checked_against_base_url_behind_a_proxy(app, client, texts, crew):
    """Twilio signs the public URL; the request reaches us under another host and scheme."""
    app.config["BASE_URL"] = "https://aid.example.org"
    params = inbound_params(texts.account_sid, ANA, texts.from_number, "HELP")
    public = "https://aid.example.org/texts/inbound?source=sms"
    response = client.post("/texts/inbound?source=sms", data=params, base_url="http://10.0.0.5:8000",
                           headers=twilio_headers(texts.auth_token, public, params))
    assert response.status_code == 200
    # The same signature is refused for the URL the request came in under.
    params = dict(params, MessageSid="SM" + "b" * 32)
    inner = "http://10.0.0.5:8000/texts/inbound?source=sms"
    response = client.post("/texts/inbound?source=sms", data=params, base_url="http://10.0.0.5:8000",
                           headers=twilio_headers(texts.auth_token, inner, params))
    assert response.status_code == 403
    assert len(texts.to(ANA)) == 1


def test_without_a_provider_configured_no_webhook_is_trusted(app, client, crew):
    from tests.textserver import signed_post as post

    params = inbound_params("AC" + "0" * 32, ANA, "+16515550100", "STOP")
    assert post(client, INBOUND, params, "any-token").status_code == 403  # TEXT_PROVIDER="" (console)
    assert count(InboundText) == 0 and db.session.get(User, crew.ana.id).texts_stopped_at is None


# Who sent it -----------------------------------------------------------------------------------

def test_an_unknown_number_gets_one_generic_answer_whatever_it_sends(client, texts, crew, make_post):
    approved_match(make_post, crew.coord, crew.ana, crew.sam)
    for body in ("YES", "NEED ride tomorrow", "HELP", "Is Ana there?", "START", ""):
        text(client, texts, body, STRANGER)
    replies = bodies_to(texts, STRANGER)
    assert replies == ["This number is not linked to an account at Mutual Aid Exchange. http://localhost"] * 6
    rows = db.session.execute(select(InboundText.user_id, InboundText.body, InboundText.command,
                                     InboundText.outcome)).all()
    assert set(rows) == {(None, None, None, "unknown_number")}
    assert count(TextRequest) == 0 and texts.to(ANA) == []


def test_an_unknown_number_that_sends_stop_gets_no_text_at_all(client, texts, crew):
    text(client, texts, "STOP", STRANGER)
    assert texts.messages == [] and db.session.scalar(select(InboundText.outcome)) == "unknown_number"


# Answers ---------------------------------------------------------------------------------------

def test_yes_with_one_waiting_match_confirms_it_and_the_reply_arrives(client, texts, crew, make_post):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    text(client, texts, "yes")
    m = db.session.get(Match, m.id)
    assert (m.need_answer, m.offer_answer, m.status) == ("accepted", None, "approved")
    [reply] = bodies_to(texts, ANA)
    assert reply == "Thank you: you confirmed your match with Sam.\nYour matches: http://localhost/posts/mine"
    row = db.session.scalar(select(InboundText))
    assert (row.user_id, row.body, row.command, row.outcome) == (crew.ana.id, "yes", "YES", "done")


def test_two_waiting_get_a_list_and_yes_2_confirms_the_second_only(client, texts, crew, make_post):
    first = approved_match(make_post, crew.coord, crew.ana, crew.sam, "A coat", when=datetime(2099, 12, 1, 15, 0))
    second = approved_match(make_post, crew.coord, crew.ana, crew.lee, "A bed", when=datetime(2099, 12, 2, 15, 0))
    text(client, texts, "YES")
    listing = bodies_to(texts, ANA)[-1]
    assert listing == ("2 matches wait for your answer: 1) Sam, Tue Dec 1, 9:00 AM 2) Lee, Wed Dec 2, 9:00 AM.\n"
                       "Reply YES 1 or NO 1 (and so on).")
    assert db.session.get(Match, first.id).need_answer is None and db.session.get(Match, second.id).need_answer is None
    text(client, texts, "YES 2")
    assert db.session.get(Match, second.id).need_answer == "accepted"
    assert db.session.get(Match, first.id).need_answer is None
    assert bodies_to(texts, ANA)[-1].startswith("Thank you: you confirmed your match with Lee.")


def test_no_declines(client, texts, crew, make_post):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    text(client, texts, "No.")
    m = db.session.get(Match, m.id)
    assert (m.status, m.need_answer) == ("declined", "declined")
    assert bodies_to(texts, ANA)[-1].startswith("You declined. We'll look for someone else.")


def test_done_completes_the_match(client, texts, crew, make_post):
    m = accepted_and_asked(make_post, crew.coord, crew.ana, crew.sam)
    text(client, texts, "DONE")
    assert db.session.get(Match, m.id).status == "completed"
    assert bodies_to(texts, ANA)[-1].startswith("Thank you for letting us know it happened.")


def test_noshow_reopens_the_need(client, texts, crew, make_post):
    m = accepted_and_asked(make_post, crew.coord, crew.ana, crew.sam)
    text(client, texts, "NOSHOW")
    m = db.session.get(Match, m.id)
    assert m.status == "no_show" and db.session.get(Post, m.need_id).status == "open"


def test_the_same_message_id_twice_acts_once(client, texts, crew, make_post):
    m = approved_match(make_post, crew.coord, crew.ana, crew.sam)
    sid = "SM" + "c" * 32
    text(client, texts, "NO", sid=sid)
    sent = bodies_to(texts, ANA)  # the decline's notice, and the reply
    assert sent[-1].startswith("You declined.")
    text(client, texts, "NO", sid=sid)  # Twilio posts again when it did not hear back
    assert count(InboundText) == 1 and bodies_to(texts, ANA) == sent
    assert db.session.get(Match, m.id).status == "declined"


def test_anything_else_gets_a_link_and_is_kept_for_coordinators(client, texts, crew):
    text(client, texts, "Can someone call me about Tuesday?")
    assert bodies_to(texts, ANA) == [
        "Mutual Aid Exchange: we couldn't read that as an answer. A coordinator will see your message. "
        "Reply HELP for help.\nYour matches: http://localhost/posts/mine"]
    row = db.session.scalar(select(InboundText))
    assert (row.outcome, row.body, row.user_id) == ("unmatched", "Can someone call me about Tuesday?", crew.ana.id)


# STOP, START, HELP -----------------------------------------------------------------------------

def test_stop_ends_every_text_at_once_and_is_confirmed(client, texts, crew):
    waiting = [text_service.queue_text(db.session.get(User, crew.ana.id), f"Notice {n}") for n in range(3)]
    db.session.commit()
    ids = [row.id for row in waiting]
    text(client, texts, "Stop")
    assert bodies_to(texts, ANA) == ["You will get no more texts from Mutual Aid Exchange. Reply START to get them again."]
    assert db.session.scalars(select(OutboxText.status).where(OutboxText.id.in_(ids))).all() == ["cancelled"] * 3
    ana = db.session.get(User, crew.ana.id)
    assert ana.texts_stopped_at is not None and not ana.can_get_texts
    assert text_service.queue_text(ana, "Another notice") is None
    text(client, texts, "YES")  # while stopped: recorded, no reply
    assert len(texts.to(ANA)) == 1
    assert db.session.scalars(select(InboundText.outcome).order_by(InboundText.id)).all() == ["stopped", "ignored"]


def test_start_resumes_texts(client, texts, crew):
    text(client, texts, "UNSUBSCRIBE")
    text(client, texts, "start")
    assert db.session.get(User, crew.ana.id).texts_stopped_at is None
    assert bodies_to(texts, ANA)[-1] == ("Mutual Aid Exchange: you will get texts again. Reply STOP to stop them, "
                                         "HELP for help.")


def test_help_answers_with_the_communitys_name_and_contact(app, client, texts, crew):
    app.config.update(COMMUNITY_NAME="Valley Mutual Aid", COMMUNITY_CONTACT="651-555-0100")
    text(client, texts, "HELP")
    app.config["COMMUNITY_CONTACT"] = ""
    text(client, texts, "info")
    assert bodies_to(texts, ANA) == [
        "Valley Mutual Aid. A coordinator can help: 651-555-0100. Reply STOP to stop texts.",
        "Valley Mutual Aid. A coordinator can help: http://localhost. Reply STOP to stop texts."]


def test_replies_are_written_in_the_members_language(client, texts, crew, make_post):
    ana = db.session.get(User, crew.ana.id)
    ana.language = "es"
    db.session.commit()
    approved_match(make_post, crew.coord, crew.ana, crew.sam, "A coat", when=datetime(2099, 12, 1, 15, 0))
    approved_match(make_post, crew.coord, crew.ana, crew.lee, "A bed", when=datetime(2099, 12, 2, 15, 0))
    text(client, texts, "SÍ")
    listing = bodies_to(texts, ANA)[-1]
    assert "1) Sam, " in listing and " 2) Lee, " in listing
    assert "dic" in listing and "Dec" not in listing and "Tue" not in listing  # the dates as Spanish reads them


def test_the_status_callback_is_signed_and_recorded(app, client, texts, crew):
    app.config.update(TEXT_QUIET_START=0, TEXT_QUIET_END=0)  # sent now, whatever the hour of the run
    row = text_service.queue_text(db.session.get(User, crew.ana.id), "A notice")
    db.session.commit()
    text_service.send_pending()
    sid = db.session.get(OutboxText, row.id).provider_id
    assert sid and texts.message(sid)["status_callback"] == "http://localhost/texts/status"
    unsigned = signed_post(client, "http://localhost/texts/status",
                           status_params(texts.account_sid, sid, "undelivered", 30003), None)
    assert unsigned.status_code == 403
    db.session.expire_all()
    assert db.session.get(OutboxText, row.id).delivery is None
    response = texts.status(client, sid, "undelivered", 30003)
    assert response.status_code in (200, 204)
    db.session.expire_all()
    sent = db.session.get(OutboxText, row.id)
    assert sent.delivery == "undelivered" and "30003" in sent.last_error


# NEED ------------------------------------------------------------------------------------------

def _link(body: str) -> str:
    return re.search(r"http://localhost(/\S+)", body).group(1)


def test_need_from_a_member_texts_back_a_link_to_a_prefilled_form_only_they_can_post(
        client, texts, crew, login_as):
    text(client, texts, "NEED ride to the clinic Friday 9am")
    row = db.session.scalar(select(TextRequest))
    assert (row.user_id, row.status, row.category) == (crew.ana.id, "draft", "rides")
    [reply] = bodies_to(texts, ANA)
    assert reply.startswith("Check your request and post it here: http://localhost/posts/new?")
    path = _link(reply)
    assert f"from_text={row.id}" in path
    login_as(crew.mo)
    assert client.get(path).status_code == 404  # someone else's request
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as(crew.ana)
    page = client.get(path).get_data(as_text=True)
    day = row.parsed["date"]["value"]
    assert 'value="Ride to the clinic"' in page and '<option selected value="rides">' in page
    assert f'value="{day}"' in page and 'value="09:00"' in page and '<option selected value="medical">' in page
    data = {"csrf_token": csrf_token(client, path), "category": "rides", "title": "Ride to the clinic",
            "zip_code": "54016", "quantity": "1", "urgency": "0", "duration_min": "60", "destination_kind": "medical",
            "appointment_day": day, "appointment_time": "09:00"}
    response = client.post(path, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    post = db.session.scalar(select(Post).where(Post.kind == "need"))
    db.session.expire_all()
    row = db.session.get(TextRequest, row.id)
    assert (row.status, row.post_id, post.owner_id) == ("posted", post.id, crew.ana.id)
    again = client.get(path)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/posts/{post.id}")
    assert "This request is already posted." in client.get(again.headers["Location"]).get_data(as_text=True)


def test_need_from_a_resident_waits_for_a_coordinator_who_posts_it_for_them(client, texts, crew, make_user, login_as):
    pat = verify(make_user("resident", name="Pat Resident", email="pat@example.org"), "+16515550109")
    text(client, texts, "NEED groceries tomorrow 5pm", "+16515550109")
    assert bodies_to(texts, "+16515550109") == ["A coordinator will finish your request and text you."]
    row = db.session.scalar(select(TextRequest))
    assert (row.user_id, row.status, row.category) == (pat.id, "queued", "food")
    login_as(crew.coord)
    page = client.get("/coordinate/texts").get_data(as_text=True)
    assert "groceries tomorrow 5pm" in page and ">Pat</a>" in page and "Pat Resident" not in page
    form_url = f"/coordinate/residents/{pat.id}/posts/new?kind=need&amp;from_text={row.id}"
    assert form_url in page
    url = form_url.replace("&amp;", "&")
    form = client.get(url).get_data(as_text=True)
    day = row.parsed["date"]["value"]
    assert 'value="Groceries"' in form and '<option selected value="food">' in form
    assert f'value="{day}"' in form and 'value="17:00"' in form and 'value="18:00"' in form
    data = {"csrf_token": csrf_token(client, url), "category": "food", "title": "Groceries", "zip_code": "54016",
            "quantity": "1", "urgency": "0", "duration_min": "60", "windows-0-day": day, "windows-0-start": "17:00",
            "windows-0-end": "18:00"}
    assert client.post(url, data=data).status_code == 302
    db.session.expire_all()
    post = db.session.scalar(select(Post))
    row = db.session.get(TextRequest, row.id)
    assert (post.owner_id, post.created_by_id, row.status, row.post_id, row.handled_by_id) == (
        pat.id, crew.coord.id, "posted", post.id, crew.coord.id)
    assert "groceries tomorrow 5pm" not in client.get("/coordinate/texts").get_data(as_text=True)


# Coordinators ----------------------------------------------------------------------------------

def test_only_coordinators_see_the_texts_page(client, crew, login_as):
    assert "/auth/login" in client.get("/coordinate/texts").headers["Location"]
    login_as(crew.mo)
    assert client.get("/coordinate/texts").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/coordinate/texts/1/handled", data={"csrf_token": token}).status_code == 403


def test_a_coordinator_marks_an_unmatched_reply_handled(client, texts, crew, login_as):
    text(client, texts, "Who do I call about my ride?")
    text(client, texts, "Is this still on?", STRANGER)  # an unknown number's text is never shown
    row = db.session.scalar(select(InboundText).where(InboundText.user_id == crew.ana.id))
    login_as(crew.coord)
    queue = client.get("/coordinate/queue").get_data(as_text=True)
    assert "Texts for coordinators (1 waiting)" in queue
    page = client.get("/coordinate/texts").get_data(as_text=True)
    assert "Who do I call about my ride?" in page and "Is this still on?" not in page
    assert ">Ana</a>" in page and ">Ana Asker<" not in page and ANA not in page
    assert client.post(f"/coordinate/texts/{row.id}/handled").status_code == 400  # no CSRF token
    token = csrf_token(client, "/coordinate/texts")
    assert client.post(f"/coordinate/texts/{row.id + 100}/handled", data={"csrf_token": token}).status_code == 404
    response = client.post(f"/coordinate/texts/{row.id}/handled", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(InboundText, row.id).seen_by_id == crew.coord.id
    assert "Who do I call about my ride?" not in client.get("/coordinate/texts").get_data(as_text=True)
    assert "Texts for coordinators (0 waiting)" in client.get("/coordinate/queue").get_data(as_text=True)


def test_a_coordinator_dismisses_a_queued_request(client, texts, crew, make_user, login_as):
    verify(make_user("resident", name="Pat Resident", email="pat@example.org"), "+16515550109")
    text(client, texts, "NEED a bed", "+16515550109")
    row = db.session.scalar(select(TextRequest))
    login_as(crew.coord)
    assert "a bed" in client.get("/coordinate/texts").get_data(as_text=True)
    token = csrf_token(client, "/coordinate/texts")
    assert client.post(f"/coordinate/texts/requests/{row.id}/dismiss", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(TextRequest, row.id).status == "dismissed"
    assert client.post(f"/coordinate/texts/requests/{row.id}/dismiss", data={"csrf_token": token}).status_code == 404
    assert "a bed" not in client.get("/coordinate/texts").get_data(as_text=True)
