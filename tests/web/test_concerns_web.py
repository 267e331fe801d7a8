"""Reports of concern and messages through the pages: the "Report a concern" links and form, the
coordinators' queue and concern page, what a hidden post and a paused match show to whom, and the
message thread on the match page (escaped, its errors beside the field, others 404, rate limited)."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Concern, Match, Message, OutboxEmail
from app.services import concerns, matches
from tests.conftest import csrf_token, login
from tests.services.groups_helpers import group_offer, schedule, seat, sessions_of

WORDS = "He shouted at me in the parking lot"


def link(m):
    return f"http://localhost/matches/{m.id}"


@pytest.fixture
def w(app, make_user, make_post):
    class W:
        pass

    w = W()
    w.coord = make_user("coordinator", name="Casey Coordinator", email="casey@example.org")
    w.asker = make_user("resident", name="Riley Resident", email="riley@example.org")
    w.helper = make_user(name="Hana Helper", email="hana@example.org")
    w.member = make_user(name="Mo Reporter", email="mo@example.org")
    w.helper.phone, w.helper.contact_method = "715-555-0202", "phone"
    db.session.commit()
    w.offer = make_post(w.helper, kind="offer", title="Rides to appointments")
    w.need = make_post(w.asker, title="Ride to the dialysis center")
    proposal = db.session.scalar(select(Match).where(Match.need_id == w.need.id))
    w.match = matches.approve(w.coord, proposal.id, link)
    w.ids = (w.need.id, w.offer.id, w.match.id)
    return w


def browser(app, user):
    c = app.test_client()
    assert login(c, user.email).status_code == 302
    return c


def post_form(c, url, page, **data):
    return c.post(url, data={"csrf_token": csrf_token(c, page), **data})


def test_each_page_has_a_report_link_and_the_form_files_a_report(app, w, make_user, make_post):
    host = make_user(name="Hal Host")
    (session,) = sessions_of(schedule(host, group_offer(make_post, host), days_ahead=4))
    mo, riley = browser(app, w.member), browser(app, w.asker)
    for c, page, url in ((mo, f"/posts/{w.offer.id}", f"/concerns/report/post/{w.offer.id}"),
                         (riley, f"/matches/{w.match.id}", f"/concerns/report/match/{w.match.id}"),
                         (mo, f"/groups/sessions/{session.id}", f"/concerns/report/session/{session.id}")):
        assert f'href="{url}"' in c.get(page).get_data(as_text=True), page
        form = c.get(url)
        assert form.status_code == 200 and "Report a concern" in form.get_data(as_text=True)
        done = post_form(c, url, url, category="other", body=WORDS)
        assert done.status_code == 302 and done.headers["Location"] == page, url
    assert [c.subject_type for c in db.session.scalars(select(Concern).order_by(Concern.id))] == ["post", "match", "session"]
    # The owner has no link to report their own post, and the report page is not theirs.
    hana = browser(app, w.helper)
    assert "/concerns/report/post/" not in hana.get(f"/posts/{w.offer.id}").get_data(as_text=True)
    assert hana.get(f"/concerns/report/post/{w.offer.id}").status_code == 404
    assert browser(app, make_user()).get(f"/concerns/report/match/{w.match.id}").status_code == 404


def test_a_bad_report_is_answered_beside_its_field_with_what_was_typed_kept(app, w):
    mo = browser(app, w.member)
    url = f"/concerns/report/post/{w.offer.id}"
    response = post_form(mo, url, url, category="safety", body="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Say what happened, so a coordinator can act on it." in html
    assert re.search(r'value="safety"[^>]*checked|checked[^>]*value="safety"', html)
    response = post_form(mo, url, url, category="nonsense", body="Something \x00 odd")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Something" in html
    assert db.session.scalar(select(db.func.count()).select_from(Concern)) == 0


def test_the_queue_opens_with_open_concerns_safety_first(app, w):
    concerns.report(w.member, "post", w.offer.id, "other", "first, not safety", lambda c: "x")
    concerns.report(w.asker, "match", w.match.id, "safety", "second, safety", lambda c: "x")
    html = browser(app, w.coord).get("/coordinate/queue").get_data(as_text=True)
    section = html.index('id="concerns"')
    assert section < html.index('id="unmet"')
    ids = [int(i) for i in re.findall(r'id="concern-(\d+)"', html)]
    kinds = [db.session.get(Concern, i).category for i in ids]
    assert kinds == ["safety", "other"]
    assert "Match paused" in html and "second, safety" not in html  # the words are on the concern page only


def test_the_concern_page_is_for_coordinators_who_are_not_its_subject(app, w, make_user, make_post):
    concern = concerns.report(w.member, "post", w.need.id, "safety", WORDS, lambda c: "x")
    page = browser(app, w.coord).get(f"/concerns/{concern.id}")
    assert page.status_code == 200 and WORDS in page.get_data(as_text=True) and "Mo Reporter" in page.get_data(as_text=True)
    for user in (w.asker, w.helper, w.member):
        assert browser(app, user).get(f"/concerns/{concern.id}").status_code == 403
    drew = make_user("coordinator", name="Drew Coordinator", email="drew@example.org")
    own = concerns.report(w.member, "post", make_post(drew, kind="offer", title="Drew's rides").id, "other", WORDS,
                          lambda c: "x")
    assert browser(app, drew).get(f"/concerns/{own.id}").status_code == 404
    assert f"concern-{own.id}" not in browser(app, drew).get("/coordinate/queue").get_data(as_text=True)


def test_the_audit_log_does_not_tell_a_reported_admin_who_reported_them(app, w, make_user, make_post):
    ada = make_user("admin", name="Ada Admin", email="ada@example.org")
    post = make_post(ada, kind="offer", title="Ada's rides")
    concern = concerns.report(w.member, "post", post.id, "safety", WORDS, lambda c: "x")
    ada_browser = browser(app, ada)
    assert ada_browser.get(f"/concerns/{concern.id}").status_code == 404
    html = ada_browser.get("/admin/audit").get_data(as_text=True)
    assert "concern reported" in html and "held after a safety report" in html
    assert "Mo Reporter" not in html
    assert db.session.get(Concern, concern.id).reporter_id == w.member.id  # kept on the concern, for coordinators


def test_a_hidden_post_is_gone_for_others_until_a_coordinator_resolves_it(app, w, make_user):
    stranger = make_user(name="Sam Stranger")
    anonymous, sam = app.test_client(), browser(app, stranger)
    mo = browser(app, w.member)
    url = f"/concerns/report/post/{w.need.id}"
    done = post_form(mo, url, url, category="safety", body=WORDS)
    assert done.status_code == 302 and done.headers["Location"].startswith("/browse")
    for c in (anonymous, sam, mo):
        assert c.get(f"/posts/{w.need.id}").status_code == 404
        assert "Ride to the dialysis center" not in c.get("/browse?kind=need").get_data(as_text=True)
        assert "Ride to the dialysis center" not in c.get("/browse?kind=need&q=dialysis").get_data(as_text=True)
    riley = browser(app, w.asker)
    owner_view = riley.get(f"/posts/{w.need.id}").get_data(as_text=True)
    assert "Only you and the coordinators can see this post for now" in owner_view
    assert WORDS not in owner_view and "Mo Reporter" not in owner_view and "mo@example.org" not in owner_view
    casey = browser(app, w.coord)
    assert casey.get(f"/posts/{w.need.id}").status_code == 200
    concern = db.session.scalar(select(Concern))
    page = f"/concerns/{concern.id}"
    bad = casey.post(f"/concerns/{concern.id}/resolve", data={"csrf_token": csrf_token(casey, page), "resolve-note": ""})
    assert bad.status_code == 422 and "Write what was done, for the other coordinators." in bad.get_data(as_text=True)
    ok = casey.post(f"/concerns/{concern.id}/resolve",
                    data={"csrf_token": csrf_token(casey, page), "resolve-note": "Checked, fine."})
    assert ok.status_code == 302
    assert sam.get(f"/posts/{w.need.id}").status_code == 200
    assert "Ride to the dialysis center" in sam.get("/browse?kind=need&q=dialysis").get_data(as_text=True)


def test_a_paused_match_shows_neither_side_any_contact_until_a_coordinator_lifts_it(app, w):
    riley, hana, casey = browser(app, w.asker), browser(app, w.helper), browser(app, w.coord)
    assert "715-555-0202" in riley.get(f"/matches/{w.match.id}").get_data(as_text=True)
    url = f"/concerns/report/match/{w.match.id}"
    assert post_form(riley, url, url, category="safety", body=WORDS).status_code == 302
    for c, secret in ((riley, "715-555-0202"), (hana, "riley@example.org")):
        html = c.get(f"/matches/{w.match.id}").get_data(as_text=True)
        assert secret not in html and "This match is paused" in html
        assert WORDS not in html
    concern = db.session.scalar(select(Concern))
    page = f"/concerns/{concern.id}"
    assert casey.post(f"/concerns/{concern.id}/lift", data={"csrf_token": csrf_token(casey, page)}).status_code == 302
    assert "715-555-0202" in riley.get(f"/matches/{w.match.id}").get_data(as_text=True)
    assert "riley@example.org" in hana.get(f"/matches/{w.match.id}").get_data(as_text=True)


def test_coordinators_can_act_from_the_concern_page(app, w):
    concern = concerns.report(w.asker, "match", w.match.id, "no_show", "Nobody came", lambda c: "x")
    casey = browser(app, w.coord)
    page = f"/concerns/{concern.id}"
    assert "Cancel the match" in casey.get(page).get_data(as_text=True)
    done = casey.post(f"/concerns/{concern.id}/act", data={"csrf_token": csrf_token(casey, page), "act-note": "Cancelled"})
    assert done.status_code == 302
    assert db.session.get(Match, w.match.id).status == "cancelled"
    again = casey.post(f"/concerns/{concern.id}/act", data={"csrf_token": csrf_token(casey, page), "act-note": "Again"})
    assert again.status_code == 409


# Messages on the match page -------------------------------------------------------------------

def _send(c, match_id, body):
    page = f"/matches/{match_id}"
    return c.post(f"/matches/{match_id}/messages", data={"csrf_token": csrf_token(c, page), "body": body})


def test_messages_are_shown_escaped_to_the_two_people_only(app, w, make_user):
    riley, hana = browser(app, w.asker), browser(app, w.helper)
    sent = _send(riley, w.match.id, "<b>Hi</b> Tuesday?")
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/matches/{w.match.id}#messages")
    html = hana.get(f"/matches/{w.match.id}").get_data(as_text=True)
    assert "&lt;b&gt;Hi&lt;/b&gt; Tuesday?" in html and "<b>Hi</b>" not in html
    [notice] = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "message_notice")).all()
    assert notice.to_addr == "hana@example.org" and "Tuesday" not in notice.body_text + notice.body_html
    sam = browser(app, make_user(name="Sam Stranger"))
    assert sam.get(f"/matches/{w.match.id}").status_code == 404
    assert _send(sam, w.match.id, "Let me in").status_code == 404
    casey = browser(app, w.coord)
    assert "Tuesday" not in casey.get(f"/matches/{w.match.id}").get_data(as_text=True)  # not reported
    concerns.report(w.helper, "match", w.match.id, "other", "Odd messages", lambda c: "x")
    assert "&lt;b&gt;Hi&lt;/b&gt; Tuesday?" in casey.get(f"/matches/{w.match.id}").get_data(as_text=True)


def test_a_first_message_with_a_number_comes_back_with_the_reason_and_the_text_kept(app, w):
    riley = browser(app, w.asker)
    response = _send(riley, w.match.id, "call me 715-555-0101")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "the first message can&#39;t carry a link or a phone number" in html
    assert re.search(r">\s*call me 715-555-0101</textarea>", html) and 'aria-invalid="true"' in html
    assert db.session.scalars(select(Message)).all() == []
    assert db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "message_notice")).all() == []


def test_the_message_route_is_rate_limited_per_account(app, w):
    app.config.update(MESSAGE_RATE_LIMIT="2 per minute")
    riley = browser(app, w.asker)
    assert [_send(riley, w.match.id, f"Hello {i}").status_code for i in range(3)] == [302, 302, 429]
    assert len(db.session.scalars(select(Message)).all()) == 2


def test_a_hidden_group_offer_s_session_page_is_for_its_host_coordinators_and_seat_holders(app, w, make_user, make_post):
    from app.services import groups_join
    from tests.services.groups_helpers import link as session_link

    host = make_user(name="Hal Host")
    (session,) = sessions_of(schedule(host, group_offer(make_post, host), days_ahead=4))
    groups_join.join_session(w.helper, session.id, link_for=session_link)
    concerns.report(w.member, "post", session.offer_id, "safety", WORDS, link)
    url = f"/groups/sessions/{session.id}"
    for c in (app.test_client(), browser(app, w.member), browser(app, w.asker)):
        assert c.get(url).status_code == 404
    for person in (host, w.coord, w.helper):
        assert browser(app, person).get(url).status_code == 200
    riley = browser(app, w.asker)
    post_form(riley, f"{url}/join", "/groups")
    post_form(riley, f"/groups/series/{session.series_id}/join", "/groups", session_id=session.id)
    assert seat(session, w.asker) is None and groups_join.series_member(session.series_id, w.asker.id) is None
