"""Trust and safety clicked through in headless Chromium at 390 px (issue #14's "done when"): a
resident reports a concern about their match and blocks the helper; the match is paused at once
(no contact card), the coordinators are emailed without the words or the reporter, and a
coordinator acts on it from the top of the queue. The helper is never told who reported or blocked."""
import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Match, OutboxEmail
from app.services import matches
from tests.browser.test_browser import CHROMIUM, live_server  # noqa: F401 - the fixture
from tests.browser.test_browser_groups import people_in_browsers  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")


def test_a_resident_reports_and_blocks_a_helper_and_a_coordinator_acts(people_in_browsers, make_user,  # noqa: F811
                                                                      make_post):
    resident = make_user("resident", name="Riley Resident", email="riley@example.org")
    helper = make_user(name="Hank Helper", email="hank@example.org")
    coordinator = make_user("coordinator", name="Casey Coordinator", email="casey@example.org")
    offer = make_post(helper, kind="offer", title="Rides around Hudson")
    need = make_post(resident, title="Ride to the clinic")
    match = db.session.scalar(select(Match).where(Match.need_id == need.id, Match.offer_id == offer.id))
    matches.approve(coordinator, match.id, lambda m: f"http://localhost/matches/{m.id}")
    matches.answer(resident, match.id, True)
    matches.answer(helper, match.id, True)

    rp = people_in_browsers(resident)
    rp.goto(f"/matches/{match.id}")
    expect(rp.get_by_text("hank@example.org")).to_be_visible()  # the helper's card, after approval
    rp.get_by_role("link", name="Report a concern").click()
    rp.get_by_label("Safety").check()
    rp.get_by_role("button", name="Send to the coordinators").click()
    expect(rp.get_by_text("What happened?").first).to_be_visible()  # the words are required: asked again
    rp.get_by_label("What happened?").fill("He asked for my address on the phone before the ride.")
    rp.get_by_role("button", name="Send to the coordinators").click()
    rp.goto(f"/matches/{match.id}")
    expect(rp.get_by_text("hank@example.org")).to_have_count(0)  # paused: no contact card any more
    rp.get_by_role("button", name="Block this person").click()

    to_coordinator = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_addr == coordinator.email,
                                                                  OutboxEmail.kind == "concern_reported")).all()
    assert len(to_coordinator) == 1
    mail = to_coordinator[0]
    assert "Riley" not in mail.body_text and "address on the phone" not in mail.body_text

    cp = people_in_browsers(coordinator)
    cp.goto("/coordinate/queue")
    concerns = cp.locator("#concerns")
    expect(concerns.get_by_text("Match paused")).to_be_visible()
    concerns.get_by_role("link", name="Match: Ride to the clinic").click()
    expect(cp.get_by_text("He asked for my address on the phone before the ride.")).to_be_visible()
    cp.locator("form[action$='/act']").get_by_label("Note for the other coordinators").fill(
        "Called Riley; ended the match and barred the driver from residents' rides.")
    cp.get_by_role("button", name="Cancel the match").click()
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == "cancelled"

    # The helper hears that the match was cancelled, and nothing about a report or a block.
    hp = people_in_browsers(helper)
    hp.goto(f"/matches/{match.id}")
    page = hp.content()
    for word in ("reported", "blocked", "Safety", "address on the phone"):
        assert word not in page, word
    told = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_addr == helper.email)).all()
    assert told and all("report" not in m.body_text.lower() and "block" not in m.body_text.lower() for m in told)
    assert rp.evaluate("document.documentElement.scrollWidth") <= 390
