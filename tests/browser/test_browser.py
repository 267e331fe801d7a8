"""What a person clicks, in headless Chromium (Debian's package, driven by Playwright)."""
import os
import shutil
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.conftest import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make test installs it)")


@pytest.fixture
def live_server(app):
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page(live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
        outside = []
        context.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server) else None)
        pg = context.new_page()
        yield pg
        assert outside == [], f"requests left the site: {outside}"
        context.close()
        browser.close()


def test_sign_up_post_a_need_and_find_it(page, live_server, tmp_path):
    page.goto("/")
    page.get_by_role("link", name="Join").first.click()
    page.get_by_label("Your name").fill("Sam Berg")
    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("ZIP code (optional)").fill("54016")
    page.get_by_label("Password", exact=True).fill("a long enough pw")
    page.get_by_label("Repeat password").fill("a long enough pw")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    # The link from the confirmation email, as the outbox holds it; a GET shows a button.
    import re

    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxEmail

    body = db.session.scalar(select(OutboxEmail.body_text).where(OutboxEmail.kind == "confirm_email"))
    page.goto(re.search(r"https?://\S+(/auth/confirm/\S+)", body).group(1))
    page.get_by_role("button", name="Confirm my email").click()
    expect(page.get_by_text("your email is confirmed")).to_be_visible()
    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label("Password").fill("a long enough pw")
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Ask for help").first.click()
    page.get_by_label("Category").select_option("rides")
    expect(page.get_by_text("About the ride")).to_be_visible()
    expect(page.get_by_text("Or give one or more times")).to_be_hidden()  # a ride is asked for by its appointment
    page.get_by_label("Category").select_option("food")
    expect(page.get_by_text("About the ride")).to_be_hidden()  # only the chosen category's fields
    expect(page.get_by_text("Or give one or more times")).to_be_visible()
    page.get_by_label("Category").select_option("rides")
    page.get_by_label("Title").fill("Ride to the clinic on Friday")
    page.get_by_label("ZIP code").fill("00000")
    page.get_by_label("Kind of destination").select_option("medical")
    page.get_by_label("I'm flexible").check()
    page.get_by_role("button", name="Post my request").click()
    # a clear message beside the field, and what was typed is still there
    expect(page.get_by_text("We don't know ZIP 00000.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Ride to the clinic on Friday")

    page.get_by_label("ZIP code").fill("54016")
    page.get_by_role("button", name="Post my request").click()
    expect(page.get_by_role("status")).to_have_text("Your request is posted. We're looking for a match.")
    page.screenshot(path=str(tmp_path / "posted.png"), full_page=True)

    page.get_by_role("link", name="Browse").click()
    page.get_by_text("Filters").click()  # folded on a phone
    page.get_by_label("Search").fill("clnic")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name="Ride to the clinic on Friday")).to_be_visible()
    expect(page.get_by_text("Under 2 mi")).to_be_visible()


def test_keyboard_alone_reaches_the_login_form(page):
    page.goto("/auth/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to content"
    page.get_by_label("Email").focus()
    page.keyboard.type("nobody@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password!")
    page.keyboard.press("Enter")
    expect(page.get_by_text("That email and password don't match an account.")).to_be_visible()


def _log_in(page, email):
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()


def _log_out(page):
    page.get_by_role("button", name="Log out").click()


def test_coordinator_approves_and_both_confirm(page, make_user, make_post):
    make_user("coordinator", name="Casey Coordinator", email="casey@example.org")
    asker = make_user(name="Riley Asker", email="riley@example.org")
    helper = make_user(name="Hana Helper", email="hana@example.org")
    helper.phone = "715-555-0202"
    helper.contact_method = "phone"  # Hana asked to be reached by phone
    from app.extensions import db

    db.session.commit()
    make_post(helper, kind="offer", title="Rides to appointments")
    make_post(asker, title="Ride to the clinic")

    _log_in(page, "casey@example.org")
    page.get_by_role("link", name="Review matches").click()
    expect(page.get_by_role("heading", name="Ride to the clinic (1 seat)")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Approved")
    _log_out(page)

    _log_in(page, "riley@example.org")
    page.get_by_role("link", name="My posts").click()
    page.get_by_role("link", name="Ride to the clinic").click()
    page.get_by_role("link", name="Approved: waiting for both to confirm").click()
    expect(page.get_by_text("715-555-0202")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Waiting for the other person")).to_be_visible()
    _log_out(page)

    _log_in(page, "hana@example.org")
    page.get_by_role("link", name="My posts").click()
    page.get_by_role("link", name="Rides to appointments").click()
    page.get_by_role("link", name="Approved: waiting for both to confirm").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Confirmed by both")).to_be_visible()


def test_resident_asks_the_fund_and_a_wrong_amount_is_explained(page, make_user):
    make_user("resident", name="Robin Resident", email="robin@example.org")
    _log_in(page, "robin@example.org")
    page.get_by_role("link", name="Fund").click()
    page.get_by_role("link", name="Ask for help with a bill").click()
    page.get_by_label("Amount (dollars)").fill("350.255")
    page.get_by_label("For", exact=True).select_option("rent")
    page.get_by_label("Who gets paid").fill("Valley Apartments")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Use at most two digits after the point (cents).")).to_be_visible()
    expect(page.get_by_label("Who gets paid")).to_have_value("Valley Apartments")
    page.get_by_label("Amount (dollars)").fill("350.25")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("status")).to_contain_text("Two coordinators will look at it")
    expect(page.get_by_role("heading", name="Fund request: $350.25 for rent")).to_be_visible()


LONG_WORD = "Unbrokenlongword" * 8  # 128 letters, no space: cut to 120, the longest title a post may have
LONG_TEXT = "x" * 300  # 300 characters with nowhere to wrap
LONG_LINK = "https://example.org/" + "a-very-long-path-segment/" * 12


def _scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_nothing_is_wider_than_a_phone(page, make_user, make_post, tmp_path):
    """A 390 px phone: a long unbroken title, details, note or link never widens a page, My posts
    fits, and the browse filters fold away behind a "Filters" button that needs no script."""
    from app.extensions import db
    from app.services import matches

    make_user("coordinator", name="Casey Coordinator", email="casey@example.org")
    helper = make_user(name="Hana Helper", email="hana@example.org")
    resident = make_user("resident", name=LONG_WORD[:60], email="riley@example.org")
    title = LONG_WORD[:120]
    make_post(helper, kind="offer", title="Offer " + title[:110], details=LONG_LINK)
    make_post(make_user(), kind="offer", title="Other " + title[:110])  # a candidate to swap to
    need = make_post(resident, title=title, details=f"{LONG_TEXT} {LONG_LINK}", urgency=2)
    make_post(resident, category="household_items", title="Bed " + title[:110])  # nobody offers: unmet, in the queue's table
    for proposal in db.session.scalars(db.select(matches.Match).where(matches.Match.need_id == need.id)):
        proposal.note = LONG_TEXT  # as a helper's "I can help" note would be
    db.session.commit()
    match_id = db.session.scalar(db.select(matches.Match.id).where(matches.Match.need_id == need.id))
    assert match_id, "the engine proposed the offer for the need"

    widths = {}
    _log_in(page, "casey@example.org")
    pages = {"home": "/", "browse": "/browse", "post": f"/posts/{need.id}", "queue": "/coordinate/queue",
             "match": f"/matches/{match_id}", "case view": f"/coordinate/residents/{resident.id}",
             "offers": "/browse?kind=offer"}
    for name, url in pages.items():
        page.goto(url)
        expect(page.get_by_text(title[:40]).first).to_be_visible()
        widths[name] = _scroll_width(page)
        if name in ("browse", "queue"):
            page.screenshot(path=f"/tmp/narrow-{name.replace(' ', '-')}.png", full_page=True)
    _log_out(page)
    _log_in(page, "riley@example.org")
    page.get_by_role("link", name="My posts").click()
    expect(page.get_by_role("heading", name="My posts")).to_be_visible()
    widths["my posts"] = _scroll_width(page)
    page.screenshot(path="/tmp/narrow-my-posts.png", full_page=True)
    # still a table with its headers (for screen readers), stacked as cards
    expect(page.get_by_role("columnheader", name="Status")).to_be_attached()
    expect(page.get_by_role("cell", name="Open").first).to_be_visible()
    print("scrollWidth at 390 px:", widths)
    assert all(width <= 390 for width in widths.values()), widths

    # Browse on a phone: the filters are folded; "Filters" opens them, without any script.
    page.goto("/browse?category=rides&sort=newest")
    search = page.get_by_label("Search")
    expect(search).to_be_hidden()
    expect(page.get_by_text("Filters (2 active)")).to_be_visible()  # category and sort differ from a bare /browse
    page.get_by_text("Filters").click()
    expect(search).to_be_visible()
    expect(page.get_by_label("Category")).to_have_value("rides")


def test_add_another_weekly_time_keeps_what_was_typed(page, make_user):
    make_user(name="Hana Helper", email="hana@example.org")
    _log_in(page, "hana@example.org")
    page.get_by_role("link", name="Offer help").first.click()
    page.get_by_label("Category").select_option("food")
    page.get_by_label("Title").fill("Soup on Tuesdays")
    first = page.get_by_role("group", name="Weekly time 1")
    first.get_by_label("Day").select_option("1")
    first.get_by_label("From").fill("09:00")
    first.get_by_label("To").fill("12:00")
    expect(page.get_by_role("group", name="Weekly time 4")).to_have_count(0)
    page.get_by_role("button", name="Add another time").click()
    expect(page.get_by_role("group", name="Weekly time 4")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Soup on Tuesdays")
    expect(first.get_by_label("From")).to_have_value("09:00")
    expect(page.locator(".error")).to_have_count(0)
    page.screenshot(path="/tmp/narrow-offer-form.png", full_page=True)
    fourth = page.get_by_role("group", name="Weekly time 4")
    fourth.get_by_label("Day").select_option("3")
    fourth.get_by_label("From").fill("17:00")
    fourth.get_by_label("To").fill("19:00")
    page.get_by_label("ZIP code").fill("54016")
    page.get_by_label("How far you can travel (miles)").fill("5")
    page.get_by_role("button", name="Post my offer").click()
    expect(page.get_by_role("status")).to_have_text("Thank you! Your offer is posted.")
    expect(page.get_by_text("Every Tue 09:00–12:00")).to_be_visible()
    expect(page.get_by_text("Every Thu 17:00–19:00")).to_be_visible()
