"""The tests' local Twilio (tests/textserver.py) answers as Twilio does, and its webhook helpers sign
requests so that the app's provider, through twilio's own RequestValidator, accepts them."""
import requests
from flask import request

from app.extensions import csrf, db
from app.services.text_providers import Twilio
from app.services.texts import queue_text, send_pending
from app.web import public
from tests.textserver import inbound_params, status_params, twilio_headers


def _messages_url(texts, sid=None):
    return f"{texts.url}/2010-04-01/Accounts/{sid or texts.account_sid}/Messages.json"


def test_the_server_refuses_a_wrong_login_and_a_bad_request_with_twilios_error_bodies(app, texts):
    form = {"To": "+16515550111", "From": texts.from_number, "Body": "Hi"}
    wrong = requests.post(_messages_url(texts), data=form, auth=(texts.account_sid, "wrong"), timeout=10)
    assert wrong.status_code == 401 and wrong.json()["code"] == 20003
    other = requests.post(_messages_url(texts, "AC" + "0" * 32), data=form,
                          auth=(texts.account_sid, texts.auth_token), timeout=10)
    assert other.status_code == 401
    no_to = requests.post(_messages_url(texts), data={"From": texts.from_number, "Body": "Hi"},
                          auth=(texts.account_sid, texts.auth_token), timeout=10)
    assert no_to.status_code == 400 and no_to.json()["code"] == 21604
    ok = requests.post(_messages_url(texts), data=form, auth=(texts.account_sid, texts.auth_token), timeout=10)
    assert ok.status_code == 201
    body = ok.json()
    assert body["sid"].startswith("SM") and len(body["sid"]) == 34 and body["status"] == "queued"
    assert (body["to"], body["from"], body["body"]) == ("+16515550111", texts.from_number, "Hi")
    assert body["uri"] == f"/2010-04-01/Accounts/{texts.account_sid}/Messages/{body['sid']}.json"
    assert [m["sid"] for m in texts.messages] == [body["sid"]]
    assert requests.get(f"{texts.url}/2010-04-01/Accounts", timeout=10).status_code == 404


def test_signed_webhook_params_pass_twilios_validator_and_nothing_else_does(app, texts):
    url = "http://localhost/texts/inbound"
    params = inbound_params(texts.account_sid, "+16515550111", texts.from_number, "YES 2")
    headers = twilio_headers(texts.auth_token, url, params)
    provider = Twilio()
    assert provider.valid_signature(url, params, headers)
    assert not provider.valid_signature(url, dict(params, Body="NO 2"), headers)
    assert not provider.valid_signature("http://localhost/texts/status", params, headers)
    assert not provider.valid_signature(url, params, twilio_headers(None, url, params))
    assert not provider.valid_signature(url, params, twilio_headers("another-token", url, params))
    status = status_params(texts.account_sid, "SM" + "1" * 32, "undelivered", 30003)
    assert status["MessageStatus"] == "undelivered" and status["ErrorCode"] == "30003"


def test_the_helpers_post_to_the_app_as_twilio_does(app, texts, client):
    seen = []

    @public
    def hook():
        seen.append(request.form.to_dict())
        ok = Twilio().valid_signature(request.url, request.form.to_dict(), request.headers)
        return ("ok", 200) if ok else ("forbidden", 403)

    # Paths of their own (the app's /texts/inbound and /texts/status are tested elsewhere).
    app.add_url_rule("/_test/inbound", "test_inbound", csrf.exempt(hook), methods=["POST"])
    app.add_url_rule("/_test/texts/status", "test_status", csrf.exempt(public(lambda: hook())), methods=["POST"])
    app.config.update(BASE_URL="http://localhost/_test")  # so texts carry StatusCallback=/_test/texts/status
    assert texts.inbound(client, "DONE", "+16515550111", url="http://localhost/_test/inbound").status_code == 200
    assert seen[-1]["Body"] == "DONE" and seen[-1]["From"] == "+16515550111"
    assert seen[-1]["To"] == texts.from_number and seen[-1]["AccountSid"] == texts.account_sid

    queue_text(None, "Hello", to_number="+16515550112", quiet=False)
    db.session.commit()
    assert send_pending() == (1, 0)
    sid = texts.messages[0]["sid"]
    assert texts.messages[0]["status_callback"] == "http://localhost/_test/texts/status"
    assert texts.status(client, sid, "undelivered", 30003).status_code == 200  # to its StatusCallback
    assert seen[-1]["MessageSid"] == sid and seen[-1]["MessageStatus"] == "undelivered"
    assert seen[-1]["ErrorCode"] == "30003" and seen[-1]["To"] == "+16515550112"

    from tests.textserver import signed_post

    unsigned = signed_post(client, "http://localhost/_test/inbound", seen[0], None)
    assert unsigned.status_code == 403
