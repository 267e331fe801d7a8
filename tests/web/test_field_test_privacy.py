"""The field test's privacy holes: contact cards, the pickup area, access after a change of role."""
import re
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Match, Post, User
from app.services import accounts, matches
from app.services.mail import send_pending
from app.timeutil import local_today
from tests.conftest import csrf_token, login


def link(match):
    return f"http://localhost/matches/{match.id}"


def _card(html: str) -> str:
    """The contact card as a shape: tags and labels, with the person's own words taken out."""
    card = re.search(r'<div class="card contact">(.*?)</div>', html, re.S).group(1)
    return re.sub(r"<dd>[^<]*</dd>|<h2>[^<]*</h2>", "", card)


def _approved_ride(make_user, make_post, asker, coord, **need):
    helper = make_user(name="Hana Helper", email=f"hana{asker.id}@example.org")
    make_post(helper, kind="offer", title="Rides to appointments")
    post = make_post(asker, title="Ride to the clinic", street_address="12 Hidden Lane", **need)
    match = db.session.scalar(select(Match).where(Match.need_id == post.id))
    matches.approve(coord, match.id, link)
    return helper, post, match


def test_the_card_reads_the_same_for_a_resident_without_login_and_a_member_with_a_contact_person(
        client, make_user, make_post):
    coord = make_user("coordinator", name="Casey Lindgren", email="casey@example.org")
    other_coord = make_user("coordinator", name="Drew Coordinator", email="drew@example.org")
    resident = accounts.create_resident(coord, "Jordan Reyes", "54016")  # no email, no phone
    member = make_user(name="Mia Member", email="mia@example.org")
    accounts.update_profile(member, "Mia Member", "54016", None, "person", "Kim", "651-555-0199")
    pages = {}
    for asker in (resident, member):
        helper, _post, match = _approved_ride(make_user, make_post, db.session.get(User, asker.id), other_coord,
                                              actor=coord if asker is resident else db.session.get(User, asker.id))
        login(client, helper.email)
        pages[asker.name] = client.get(f"/matches/{match.id}").get_data(as_text=True)
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    jordan, mia = pages["Jordan Reyes"], pages["Mia Member"]
    assert "Contact person" in jordan and "Casey, casey@example.org" in jordan
    assert "Contact person" in mia and "Kim, 651-555-0199" in mia
    assert _card(jordan) == _card(mia)  # the same fields in the same order: nothing tells them apart
    for page in (jordan, mia):
        assert not re.search(r"coordinator|resident|on behalf", _card(page), re.I)


def test_the_approval_email_introduces_a_resident_like_anyone_else(make_user, make_post, smtp):
    coord = make_user("coordinator", name="Casey Lindgren", email="casey@example.org")
    other = make_user("coordinator", name="Drew Coordinator", email="drew@example.org")
    resident = accounts.create_resident(coord, "Jordan Reyes", "54016")
    helper, _post, _match = _approved_ride(make_user, make_post, resident, other, actor=coord)
    send_pending()
    to_helper = next(m for m in smtp.messages if m["rcpt"] == [helper.email])["msg"].get_body(("plain",)).get_content()
    assert "How to reach Jordan: Contact person, Casey, casey@example.org" in to_helper
    assert not re.search(r"coordinator|resident", to_helper.split("How to reach", 1)[1].split("\n", 1)[0], re.I)


def test_members_choose_how_they_are_reached_and_bad_choices_get_a_message(client, make_user, login_as):
    user = make_user(name="Pat Member")
    login_as(user)
    token = csrf_token(client, "/account/")
    response = client.post("/account/", data={"csrf_token": token, "name": "Pat Member", "zip_code": "54016",
                                              "phone": "", "contact_method": "phone"})
    assert response.status_code == 200 and "Enter the phone number" in response.get_data(as_text=True)
    response = client.post("/account/", data={"csrf_token": token, "name": "Pat Member", "zip_code": "54016",
                                              "phone": "", "contact_method": "person", "contact_name": "Kim"})
    html = response.get_data(as_text=True)
    assert "contact person&#39;s email or phone" in html and 'value="Kim"' in html
    ok = client.post("/account/", data={"csrf_token": token, "name": "Pat Member", "zip_code": "54016",
                                        "phone": "651-555-0100", "contact_method": "phone"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).contact_method == "phone"


def test_a_rides_pickup_area_is_private_until_the_driver_is_approved(client, make_user, make_post, login_as):
    coord = make_user("coordinator")
    asker = make_user(name="Ari Asker")
    helper, post, match = None, None, None
    helper = make_user(name="Hana Helper")
    make_post(helper, kind="offer", title="Rides to appointments")
    post = make_post(asker, title="Ride to the clinic", pickup_area="North Hill")
    stranger = make_user()
    login_as(stranger)
    for url in (f"/posts/{post.id}", "/browse?kind=need", "/browse?kind=need&q=north+hill"):
        assert "North Hill" not in client.get(url).get_data(as_text=True), url
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    client.get("/")
    assert "North Hill" not in client.get(f"/posts/{post.id}").get_data(as_text=True)  # anonymous
    match = db.session.scalar(select(Match).where(Match.need_id == post.id))
    login(client, helper.email)
    assert "North Hill" not in client.get(f"/matches/{match.id}").get_data(as_text=True)  # proposed only
    matches.approve(coord, match.id, link)
    assert "North Hill" in client.get(f"/matches/{match.id}").get_data(as_text=True)


def test_a_coordinator_made_a_member_loses_access_to_what_they_posted_for_a_resident(client, make_user, make_post):
    admin = make_user("admin")
    coord = make_user("coordinator", name="Casey Former")
    other = make_user("coordinator")
    resident = accounts.create_resident(coord, "Jordan Reyes", "54016")
    helper = make_user()
    make_post(helper, kind="offer", title="Rides to appointments")
    post = make_post(resident, title="Ride to the clinic", street_address="12 Hidden Lane", actor=coord)
    match = db.session.scalar(select(Match).where(Match.need_id == post.id))
    matches.approve(other, match.id, link)
    login(client, coord.email)
    assert client.get(f"/posts/{post.id}/edit").status_code == 200
    assert client.get(f"/matches/{match.id}").status_code == 200
    accounts.set_role(admin, db.session.get(User, coord.id), "member")
    # The next request already follows the new role: no edit page, no match page, no case view.
    edit = client.get(f"/posts/{post.id}/edit")
    assert edit.status_code == 403 and "12 Hidden Lane" not in edit.get_data(as_text=True)
    assert client.get(f"/matches/{match.id}").status_code == 404
    assert client.get(f"/coordinate/residents/{resident.id}").status_code == 403
    token = csrf_token(client, "/")
    assert client.post(f"/posts/{post.id}/withdraw", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/matches/{match.id}/answer", data={"csrf_token": token, "answer": "accept"}).status_code == 404


def test_notices_for_a_resident_go_to_a_current_coordinator_only(make_user, make_post, smtp):
    admin = make_user("admin")
    coord = make_user("coordinator", email="former@example.org")
    other = make_user("coordinator", email="other@example.org")
    resident = accounts.create_resident(coord, "Jordan Reyes", "54016")
    make_post(make_user(), kind="offer", title="Rides to appointments")
    post = make_post(resident, title="Ride to the clinic", street_address="12 Hidden Lane", actor=coord)
    accounts.set_role(admin, db.session.get(User, coord.id), "member")
    match = db.session.scalar(select(Match).where(Match.need_id == post.id))
    matches.approve(other, match.id, link)
    send_pending()
    assert not [m for m in smtp.messages if m["rcpt"] == ["former@example.org"]]


def test_a_need_posted_as_today_two_weeks_ago_says_when_it_was_needed_and_is_flagged(client, make_user, make_post,
                                                                                   login_as):
    from app.timeutil import local_today

    old = make_post(make_user(), title="Ride today, long ago", urgency=3)
    old.needed_by = local_today() - timedelta(days=15)  # as if posted 15 days ago
    fresh = make_post(make_user(), title="Ride this week", urgency=1)
    db.session.commit()
    from app.services.posts import refresh_urgency_keys

    assert refresh_urgency_keys() == 1  # the hourly tick moves passed dates to the end
    login_as(make_user("coordinator"))
    page = client.get(f"/posts/{old.id}").get_data(as_text=True)
    assert "Was needed by " + old.needed_by.strftime("%b %-d") in page and "Today" not in page
    assert "Needed by " + fresh.needed_by.strftime("%b %-d") in client.get(f"/posts/{fresh.id}").get_data(as_text=True)
    browse = client.get("/browse?kind=need&sort=urgency").get_data(as_text=True)
    assert browse.index("Ride this week") < browse.index("Ride today, long ago")  # a stale date sorts last
    assert "Ride today, long ago" not in client.get("/browse?kind=need&urgency=3").get_data(as_text=True)
    make_post(make_user(), kind="offer", title="Rides for anyone", quantity=5)
    queue = client.get("/coordinate/queue").get_data(as_text=True)
    assert "Past its date" in queue


def test_i_can_help_on_a_pair_the_engine_already_proposed_keeps_the_note(client, make_user, make_post, login_as):
    helper = make_user()
    offer = make_post(helper, kind="offer", title="Rides to appointments")
    need = make_post(make_user(), title="Ride to the clinic")
    [proposal] = db.session.scalars(select(Match).where(Match.need_id == need.id)).all()
    assert proposal.offer_id == offer.id and proposal.source == "engine"
    login_as(helper)
    url = f"/posts/{need.id}"
    response = client.post(f"{url}/help", data={"csrf_token": csrf_token(client, url), "offer_id": offer.id,
                                                "note": "I drive past the clinic every Tuesday"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "already suggested" in page and "already offered" not in page
    db.session.expire_all()
    [same] = db.session.scalars(select(Match).where(Match.need_id == need.id)).all()
    assert same.id == proposal.id and same.note == "I drive past the clinic every Tuesday" and same.source == "volunteer"


def test_a_ride_need_asks_its_date_once(client, make_user, login_as):
    from tests.web.test_posts import need_form, post_new

    login_as(make_user())
    day = (local_today() + timedelta(days=4)).isoformat()
    data = need_form(appointment_day=day, appointment_time="10:00", duration_min="60",
                     **{"windows-0-day": "", "windows-0-start": "", "windows-0-end": ""})
    assert post_new(client, "need", data).status_code == 302
    post = db.session.scalar(select(Post))
    [window] = post.windows
    assert window.end_at == post.appointment_at and (window.end_at - window.start_at) == timedelta(minutes=90)
    missing = post_new(client, "need", need_form(appointment_day="", appointment_time="",
                                                 **{"windows-0-day": "", "windows-0-start": "", "windows-0-end": ""}))
    assert missing.status_code == 422 and "date and time of the appointment" in missing.get_data(as_text=True)


def test_a_residents_contact_is_the_coordinator_acting_for_them_today(make_user):
    from app.services.disclosure import reach_of

    admin = make_user("admin")
    coord = make_user("coordinator", name="Casey Former", email="former@example.org")
    resident = accounts.create_resident(coord, "Jordan Reyes", "54016")
    assert reach_of(resident) == ("Contact person", "Casey, former@example.org")
    accounts.set_role(admin, db.session.get(User, coord.id), "member")
    # Demoted: helpers are no longer sent to them.
    assert "former@example.org" not in (reach_of(db.session.get(User, resident.id))[1] or "")


def test_an_approval_from_someone_no_longer_a_coordinator_does_not_count(make_user):
    from app.services import fund, fund_reports  # noqa: F401
    from app.models import FundRequest

    admin = make_user("admin")
    a, b, c = (make_user("coordinator") for _ in range(3))
    resident = make_user("resident")
    fund.record_receipt(a, "500", "check", local_today(), None)  # the community's today, not the machine's
    req = fund.create_request(resident, resident, "100", "rent", "Landlord")
    fund.approve(a, req.id)
    accounts.set_role(admin, db.session.get(User, a.id), "member")
    fund.approve(b, req.id)
    db.session.expire_all()
    assert db.session.get(FundRequest, req.id).status == "pending"  # a's approval no longer counts
    fund.approve(c, req.id)
    db.session.expire_all()
    assert db.session.get(FundRequest, req.id).status == "approved"


def test_signing_up_twice_at_once_with_one_address_never_fails(app, make_user, smtp):
    from app.services import accounts as acc

    make_user(email="race@example.org")
    # The lookup misses (as when two sign-ups race); the database's unique email catches it.
    real = acc.find_by_email
    calls = {"n": 0}

    def first_misses(email):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(email)

    acc.find_by_email = first_misses
    try:
        acc.sign_up("Race", "race@example.org", "a long enough pw", None, lambda t: f"http://localhost/{t}",
                    "http://localhost/login", "http://localhost/reset")
    finally:
        acc.find_by_email = real
    send_pending()
    assert smtp.messages[-1]["msg"]["Subject"] == "Someone tried to sign up with your email"
