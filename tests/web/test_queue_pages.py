"""The coordinators' queue comes a page at a time (QUEUE_PER_PAGE, 10), in the same order as the
whole queue, with counts in the headings, and the same number of SQL queries for any page size."""
import re

from app.extensions import db
from app.models import Match
from app.services import match_queue
from tests.conftest import csrf_token


def _waiting():
    return db.session.scalar(db.select(db.func.count()).select_from(Match).where(Match.status == "proposed"))


def _proposals(make_user, make_post, n):
    """n more proposals: n ride needs, which the engine proposes to one big offer."""
    before = _waiting()
    make_post(make_user(), kind="offer", title="Rides to anywhere", quantity=100, radius_miles=50.0)
    for i in range(n):
        make_post(make_user(), title=f"Ride number {i:02d}", urgency=i % 3)
    assert _waiting() == before + n


def _shown(html):
    return re.findall(r'<li class="card" id="match-(\d+)"', html)


def test_queue_is_paged_in_its_order(client, make_user, make_post, login_as):
    _proposals(make_user, make_post, 25)
    login_as(make_user("coordinator"))
    order = [str(item.match.id) for item in match_queue.queue()]
    pages = [client.get(f"/coordinate/queue?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    assert [len(_shown(p)) for p in pages] == [10, 10, 5]
    assert sum((_shown(p) for p in pages), []) == order  # most urgent, then longest waiting, across pages
    assert "Matches to review (25)" in pages[0]
    assert "Showing 1–10 of 25" in pages[0] and "Showing 11–20 of 25" in pages[1] and "Showing 21–25 of 25" in pages[2]
    assert 'href="/coordinate/queue?page=2" rel="next"' in pages[0] and 'rel="prev"' not in pages[0]
    assert '<span aria-current="page">3</span>' in pages[2] and 'rel="next"' not in pages[2]
    # a page past the end shows the last; nonsense shows the first
    assert _shown(client.get("/coordinate/queue?page=99").get_data(as_text=True)) == _shown(pages[2])
    assert _shown(client.get("/coordinate/queue?page=abc").get_data(as_text=True)) == _shown(pages[0])


def test_service_page(app, make_user, make_post):
    _proposals(make_user, make_post, 12)
    second = match_queue.queue(page=2, per_page=5)
    assert (second.total, second.page, second.pages, second.first, second.last, len(second)) == (12, 2, 3, 6, 10, 5)
    assert [i.match.id for i in second] == [i.match.id for i in match_queue.queue()][5:10]


def test_acting_on_page_two_comes_back_to_page_two(client, make_user, make_post, login_as):
    _proposals(make_user, make_post, 12)
    login_as(make_user("coordinator"))
    html = client.get("/coordinate/queue?page=2").get_data(as_text=True)
    match_id = _shown(html)[0]
    assert f'action="/coordinate/matches/{match_id}/approve?page=2"' in html
    response = client.post(f"/coordinate/matches/{match_id}/reject?page=2",
                           data={"csrf_token": csrf_token(client, "/coordinate/queue"), "reason": "Too far for them"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/coordinate/queue?page=2")


def test_query_count_stays_flat(client, make_user, make_post, login_as, count_queries):
    login_as(make_user("coordinator"))
    _proposals(make_user, make_post, 3)
    client.get("/coordinate/queue")
    with count_queries() as few:
        assert len(_shown(client.get("/coordinate/queue").get_data(as_text=True))) == 3
    _proposals(make_user, make_post, 22)
    with count_queries() as many:
        assert len(_shown(client.get("/coordinate/queue").get_data(as_text=True))) == 10
    assert many.count == few.count, many.statements
