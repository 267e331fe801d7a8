"""Digests of new requests: who gets what, once per period, and one-click unsubscribe (RFC 8058)."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Digest, DigestSubscription, OutboxEmail
from app.services import digests, geo
from app.services.mail import send_pending
from app.timeutil import utcnow
from tests.conftest import csrf_token

FAR_ZIP = "55401"  # Minneapolis, about 20 miles from Hudson (54016)


@pytest.fixture(autouse=True)
def _always_due(app):
    app.config.update(DIGEST_HOUR=0)  # daily and weekly digests are due whenever the test runs


@pytest.fixture
def community(make_user, make_post):
    """A helper in Hudson who offers rides, and needs posted around them."""
    assert geo.haversine_miles(*_ll("54016"), *_ll(FAR_ZIP)) > 10
    helper = make_user(name="Helen Helper", email="helen@example.org")
    make_post(helper, kind="offer", category="rides", title="Rides around Hudson")
    digests.subscription_for(helper)
    db.session.commit()
    asker = make_user(role="resident", name="Rita Resident", email="rita@example.org")
    asker.phone = "715-555-0100"
    digests.subscription_for(asker).frequency = "never"  # only the helper's digest is under test
    db.session.commit()
    needs = {
        "calm": make_post(asker, title="Ride to the library", urgency=0),
        "urgent": make_post(asker, title="Ride to dialysis", urgency=3, street_address="12 Secret Street"),
        "food": make_post(asker, category="food", title="Groceries for the week"),
        "far": make_post(asker, title="Ride in Minneapolis", zip_code=FAR_ZIP),
        "own": make_post(helper, title="My own need"),
    }
    return helper, asker, needs


def _ll(zip_code):
    place = geo.locate(zip_code)
    return place.lat, place.lon


def _digest_mail(smtp, to="helen@example.org"):
    mails = [m for m in smtp.messages if m["rcpt"] == [to]]
    assert len(mails) == 1
    return mails[0]["msg"]


def test_digest_lists_new_nearby_needs_in_my_categories_most_urgent_first(app, community, smtp, runner):
    helper, _asker, needs = community
    result = runner.invoke(args=["digest", "send"])
    assert result.exit_code == 0, result.output
    msg = _digest_mail(smtp)
    text, html = msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
    assert msg["Subject"] == "New requests near you"
    assert msg["From"].addresses[0].display_name == "Mutual Aid Exchange"
    assert text.index("Ride to dialysis") < text.index("Ride to the library")  # most urgent first
    for absent in ("Groceries", "Minneapolis", "My own need"):  # other category, too far, own post
        assert absent not in text
    for item in ("Hudson, WI", "Under 2 mi", "Needed today", "Rides"):
        assert item in text
    assert f"http://localhost/posts/{needs['urgent'].id}#help" in text and "I can help" in html
    for private in ("Rita", "Resident", "resident", "12 Secret Street", "715-555-0100", "rita@example.org"):
        assert private not in text and private not in html


def test_nobody_gets_an_empty_digest_or_someone_elses_list(app, make_user, make_post, smtp):
    lonely = make_user(email="lonely@example.org")
    digests.subscription_for(lonely)
    other = make_user(email="other@example.org", zip_code=FAR_ZIP)
    digests.subscription_for(other)
    db.session.commit()
    make_post(make_user(zip_code=FAR_ZIP), title="Ride in the city", zip_code=FAR_ZIP)
    run = digests.send_digests()
    send_pending()
    assert run.sent == 1 and run.empty >= 1
    assert [m["rcpt"] for m in smtp.messages] == [["other@example.org"]]


def test_one_digest_per_member_and_period_even_when_run_every_hour(app, community, smtp):
    helper, _asker, _needs = community
    first = digests.send_digests()
    assert first.sent == 1
    assert digests.send_digests().sent == 0  # the next hourly run: already sent this period
    send_pending()
    assert len(smtp.messages) == 1
    period = db.session.scalar(select(Digest.period).where(Digest.user_id == helper.id))
    db.session.add(Digest(user_id=helper.id, period=period, need_count=1))
    with pytest.raises(IntegrityError):  # the database itself refuses a second digest
        db.session.commit()
    db.session.rollback()


def test_the_next_digest_holds_only_needs_posted_since_the_last(app, community, make_post, smtp):
    helper, asker, _needs = community
    sub = db.session.get(DigestSubscription, helper.id)
    sub.frequency = "daily"
    db.session.commit()
    later = utcnow() + timedelta(days=1, hours=1)
    digests.send_digests()
    new = make_post(asker, title="Ride to a job interview")
    new.created_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    assert digests.send_digests(now=later).sent == 1
    send_pending()
    second = [m for m in smtp.messages if m["rcpt"] == ["helen@example.org"]][-1]["msg"].get_body(("plain",)).get_content()
    assert "job interview" in second and "dialysis" not in second


def test_default_subscription_follows_my_offers_or_every_category_without_offers(app, client, smtp):
    client.post("/auth/signup", data={"csrf_token": csrf_token(client, "/auth/signup"), "name": "New Neighbor",
                                      "email": "new@example.org", "password": "a long password", "confirm": "a long password",
                                      "zip_code": "54016"})
    sub = db.session.scalar(select(DigestSubscription))
    assert (sub.frequency, sub.categories, sub.radius_miles) == ("weekly", None, 10.0)


def test_never_means_no_digest(app, community, smtp):
    helper, _asker, _needs = community
    db.session.get(DigestSubscription, helper.id).frequency = "never"
    db.session.commit()
    assert digests.send_digests().sent == 0


def test_digest_carries_rfc8058_headers_and_one_click_post_unsubscribes(app, community, smtp, client):
    helper, _asker, _needs = community
    digests.send_digests()
    send_pending()
    msg = _digest_mail(smtp)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = msg["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://localhost/unsubscribe/")
    # Opaque: the link carries the subscription's random key and a signature, nothing about the person.
    key = url.rsplit("/", 1)[1].split(".")[0]
    assert key == db.session.get(DigestSubscription, helper.id).unsubscribe_key and len(key) >= 32
    path = url.removeprefix("http://localhost")

    page = client.get(path)  # a GET (a link scanner, a preview) changes nothing
    assert page.status_code == 200 and "Stop the digests?" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DigestSubscription, helper.id).frequency == "weekly"

    # The mail client's one-click POST: no session, no CSRF token, just the RFC 8058 body.
    response = client.post(path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and "You are unsubscribed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DigestSubscription, helper.id).frequency == "never"
    assert client.post(path).status_code == 200  # repeating it is harmless


def test_forged_or_tampered_unsubscribe_links_are_refused(app, community, client):
    helper, _asker, _needs = community
    token = digests.unsubscribe_token(db.session.get(DigestSubscription, helper.id))
    key, _, sig = token.partition(".")
    for bad in (key + ".AAAA" + sig[4:], "x" + token, "garbage"):
        response = client.post(f"/unsubscribe/{bad}")
        assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DigestSubscription, helper.id).frequency == "weekly"


def test_account_page_saves_digest_settings_and_shows_errors_beside_fields(app, client, make_user, login_as):
    user = make_user()
    login_as(user)
    token = csrf_token(client, "/account/")
    bad = client.post("/account/digest", data={"csrf_token": token, "dg-frequency": "daily",
                                                "dg-categories": ["food"], "dg-radius_miles": "500"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "between 0.5 and 100 miles" in html and 'value="500"' in html
    assert db.session.get(DigestSubscription, user.id) is None  # nothing saved

    none_chosen = client.post("/account/digest", data={"csrf_token": token, "dg-frequency": "daily", "dg-radius_miles": "5"})
    assert none_chosen.status_code == 422 and "at least one category" in none_chosen.get_data(as_text=True)

    ok = client.post("/account/digest", data={"csrf_token": token, "dg-frequency": "daily",
                                               "dg-categories": ["food", "rides"], "dg-radius_miles": "5"})
    assert ok.status_code == 302
    sub = db.session.get(DigestSubscription, user.id)
    assert (sub.frequency, sub.categories, sub.radius_miles) == ("daily", ["food", "rides"], 5.0)
    page = client.get("/account/").get_data(as_text=True)
    assert '<input checked id="dg-frequency-0" name="dg-frequency" required type="radio" value="daily">' in page


def test_member_without_a_place_is_asked_for_one(app, client, make_user, login_as):
    user = make_user(zip_code=None)
    login_as(user)
    response = client.post("/account/digest", data={"csrf_token": csrf_token(client, "/account/"),
                                                     "dg-frequency": "weekly", "dg-follow_offers": "y", "dg-radius_miles": "10"})
    assert response.status_code == 422 and "ZIP code" in response.get_data(as_text=True)


def test_outbox_rows_for_digests_are_written_with_the_digest(app, community):
    digests.send_digests()
    rows = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "digest")).all()
    assert len(rows) == 1 and rows[0].unsubscribe_url and db.session.scalar(select(Digest)).need_count == 2
