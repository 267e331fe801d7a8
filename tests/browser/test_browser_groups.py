"""Groups and help that repeats, clicked through in headless Chromium at 390 px (issue #13's
"done when"): a host schedules a weekly peer group with 8 places; members find it, join, fill it,
wait, get a place when one frees up, are reminded, and add it to their calendar; a resident's
standing ride to work is matched for four weeks and one skipped day leaves the rest."""
import os
import re
from datetime import time, timedelta

import icalendar
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import GroupSession, Match, NeedOccurrence, OutboxEmail, Post, SessionSeat
from app.timeutil import local_today, local_to_utc
from tests.browser.test_browser import CHROMIUM, live_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
PASSWORD = "correct horse battery"


@pytest.fixture
def people_in_browsers(live_server):  # noqa: F811
    """`open_as(user)`: a page of its own (cookies apart) for each person, logged in, at 390 px."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                           "--disable-component-update", "--disable-sync", "--no-first-run",
                                           "--disable-quic"])
        contexts = []

        def open_as(user):
            context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
            contexts.append(context)
            page = context.new_page()
            page.goto("/auth/login")
            page.get_by_label("Email").fill(user.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("button", name="Log out")).to_be_attached()
            return page

        yield open_as
        for context in contexts:
            context.close()
        browser.close()


def next_weekday(weekday: int):
    today = local_today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def test_a_weekly_peer_group_fills_up_has_a_waiting_list_and_lands_in_calendars(people_in_browsers, make_user,
                                                                                 make_post):
    from app.services import groups_join, groups_reminders

    host = make_user(name="Hollis Host", email="hollis@example.org")
    first, waiting = make_user(name="Fran First"), make_user(name="Wes Waiting")
    others = [make_user(name=f"Neighbor {i}") for i in range(6)]

    # The host offers a peer group and schedules it every Tuesday, 8 places.
    hp = people_in_browsers(host)
    hp.goto("/posts/new?kind=offer")
    hp.get_by_label("Category").select_option("peer_support")
    hp.get_by_label("Title").fill("Tuesday evening peer circle")
    hp.get_by_label("How many").fill("8")
    hp.get_by_label("ZIP code").fill("54016")
    hp.get_by_label("How far you can travel (miles)").fill("5")
    hp.get_by_label("Format").select_option("group")
    hp.get_by_role("button", name="Post my offer").click()
    hp.get_by_role("link", name="Schedule sessions").click()
    tuesday = next_weekday(1)
    hp.get_by_label("First date").fill(tuesday.isoformat())
    hp.get_by_label("Starts at").fill("19:00")
    hp.get_by_label("Ends at").fill("18:00")  # a slip: the end before the start
    hp.get_by_label("Repeats").select_option("weekly")
    hp.get_by_label("Tue").check()
    hp.get_by_label("Number of sessions", exact=True).fill("6")
    hp.get_by_label("Places", exact=True).fill("8")
    hp.get_by_label("Exact place (private)").fill("Room 2, St. Mark's, 415 Main St")
    hp.get_by_role("button", name="Schedule").click()
    expect(hp.locator(".error").first).to_be_visible()  # beside the field, the rest kept
    expect(hp.get_by_label("Exact place (private)")).to_have_value("Room 2, St. Mark's, 415 Main St")
    hp.get_by_label("Ends at").fill("20:30")
    hp.get_by_role("button", name="Schedule").click()
    sessions = db.session.scalars(select(GroupSession).order_by(GroupSession.starts_at)).all()
    assert len(sessions) == 6 and sessions[0].starts_at == local_to_utc(tuesday, time(19, 0))

    # A member finds it on "Groups and workshops" and joins the whole series in one click.
    fp = people_in_browsers(first)
    fp.get_by_role("link", name="Groups and workshops").first.click()
    expect(fp.get_by_text("8 places left").first).to_be_visible()
    fp.get_by_role("link", name="Tuesday evening peer circle").first.click()
    expect(fp.get_by_text("415 Main St")).to_have_count(0)  # the exact place only once joined
    fp.get_by_role("button", name="Join every session").click()
    expect(fp.get_by_text("415 Main St")).to_be_visible()
    for person in others:  # six neighbours take places in the first session
        groups_join.join_session(person, sessions[0].id)
    # Seven places are taken (Fran and six neighbours): Lee takes the last one, and Wes waits.
    last = make_user(name="Lee Last")
    lp = people_in_browsers(last)
    lp.goto(f"/groups/sessions/{sessions[0].id}")
    expect(lp.get_by_text("1 place left")).to_be_visible()
    lp.get_by_role("button", name="Join this session").click()
    expect(lp.locator("#join").get_by_text("You have a place in this session.")).to_be_visible()
    wp = people_in_browsers(waiting)
    wp.goto(f"/groups/sessions/{sessions[0].id}")
    expect(wp.get_by_text("Full: waiting list")).to_be_visible()
    wp.get_by_role("button", name="Join this session").click()
    expect(wp.locator("#join").get_by_text("you are number 1 on the waiting list")).to_be_visible()

    # Fran cannot come to the first one: her place goes to Wes, who is emailed.
    fp.goto(f"/groups/sessions/{sessions[0].id}")
    fp.get_by_role("button", name="Leave this session").click()
    wp.reload()
    expect(wp.locator("#join").get_by_text("You have a place in this session.")).to_be_visible()
    [mail] = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_addr == waiting.email,
                                                          OutboxEmail.kind == "group_place_opened")).all()
    assert "Tuesday evening peer circle" in mail.body_text and "Fran" not in mail.body_text

    # The roster: first names, the waiting list empty, 8 of 8.
    hp.goto(f"/groups/sessions/{sessions[0].id}/roster")
    expect(hp.get_by_text("Wes")).to_be_visible()
    expect(hp.get_by_text("Fran")).to_have_count(0)

    # The day before, everyone with a place is reminded (the hourly job's work, at that hour).
    groups_reminders.send_reminders(lambda s: f"http://localhost/groups/sessions/{s.id}",
                                    now=sessions[0].starts_at - timedelta(hours=20))
    reminded = set(db.session.scalars(select(OutboxEmail.to_addr).where(OutboxEmail.kind == "group_reminder")))
    held = set(db.session.scalars(select(SessionSeat.user_id).where(SessionSeat.session_id == sessions[0].id,
                                                                    SessionSeat.status == "joined")))
    assert len(held) == 8 and waiting.email in reminded and first.email not in reminded

    # Wes adds it to his phone's calendar: the .ics, and his private feed.
    ics = wp.request.get(f"/groups/sessions/{sessions[0].id}.ics")
    assert ics.status == 200 and ics.headers["content-type"].startswith("text/calendar")
    [event] = icalendar.Calendar.from_ical(ics.body()).walk("VEVENT")
    assert str(event["summary"]) == "Group session" and "peer circle" not in ics.text() and "Main St" not in ics.text()
    wp.get_by_role("link", name="My calendar").first.click()
    expect(wp.get_by_role("link", name="Tuesday evening peer circle").first).to_be_visible()
    wp.get_by_role("button", name="Make my private address").click()
    feed_url = wp.get_by_label("Your private address").input_value()
    feed = wp.context.browser.new_context().request.get(feed_url)  # a calendar server: no cookies
    assert feed.status == 200 and "Wes" not in feed.text() and "BEGIN:VEVENT" in feed.text()


def test_a_standing_ride_to_work_for_four_weeks_survives_one_skipped_day(people_in_browsers, make_user, make_post):
    resident = make_user("resident", name="Riley Resident", email="riley@example.org")
    driver = make_user(name="Dana Driver", email="dana@example.org")
    coordinator = make_user("coordinator", name="Casey Coordinator", email="casey@example.org")
    make_post(driver, kind="offer", title="Weekday morning rides", weekly=[(d, 6 * 60, 9 * 60) for d in range(5)])

    rp = people_in_browsers(resident)
    rp.get_by_role("link", name="Ask for help").first.click()
    rp.get_by_label("Category").select_option("rides")
    rp.get_by_label("Title").fill("Ride to my new job")
    rp.get_by_label("ZIP code", exact=True).fill("54016")
    rp.get_by_label("Kind of destination").select_option("work")
    monday = next_weekday(0)
    rp.get_by_label("Appointment date").fill(monday.isoformat())
    rp.get_by_label("Appointment time").fill("07:30")
    rp.get_by_label("How long it takes").select_option("30")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        rp.locator("#repeat").get_by_label(day).check()
    rp.get_by_label("Or this many times").fill("20")
    rp.get_by_role("button", name="Post my request").click()
    expect(rp.get_by_role("status")).to_have_text("Your request is posted. We're looking for a match.")
    need = db.session.scalar(select(Post).where(Post.owner_id == resident.id))

    from tests.ops.procs import wait_for

    def proposed():  # the engine runs once the response has gone out
        db.session.rollback()
        return db.session.scalar(select(Match).where(Match.need_id == need.id))

    try:
        wait_for(proposed, 5, 0.1, "the engine to propose the standing ride")
    except AssertionError:  # see test_browser_es.py: lost work after the response, caught up by the tick
        from app.services import proposals

        proposals.propose_missing()
    cp = people_in_browsers(coordinator)
    cp.goto("/coordinate/queue")
    expect(cp.get_by_text("Standing: one helper for all 20 dates")).to_be_visible()
    cp.get_by_role("button", name="Approve").first.click()

    for person, page in ((resident, rp), (driver, people_in_browsers(driver))):
        page.goto(f"/matches/{proposed().id}")
        page.get_by_role("button", name="Confirm", exact=True).click()
    expect(rp.get_by_text("One helper for every date")).to_be_visible()

    rp.goto(f"/posts/{need.id}")
    rows = rp.locator("tr[data-occurrence]")
    expect(rows).to_have_count(20)
    rows.nth(2).get_by_role("button", name=re.compile("^Skip this date")).click()
    expect(rp.get_by_role("status")).to_contain_text("That date is skipped")
    db.session.expire_all()
    states = [r.status for r in db.session.scalars(select(NeedOccurrence).where(NeedOccurrence.need_id == need.id)
                                                   .order_by(NeedOccurrence.starts_at))]
    assert states[2] == "skipped" and states.count("matched") == 19
    assert db.session.get(Match, proposed().id).status == "accepted"
    rp.set_viewport_size({"width": 390, "height": 844})
    assert rp.evaluate("document.documentElement.scrollWidth") <= 390  # the dates table fits a phone
