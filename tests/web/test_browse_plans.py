"""The plans the database picks for browse pages: an index for each sort order, never a sort of
every open post, and a count that stops at the cap."""
import pytest
from sqlalchemy import event

from app.extensions import db


@pytest.fixture
def statements(app):
    seen = []

    def hook(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM posts" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", hook)
    yield seen
    event.remove(db.engine, "before_cursor_execute", hook)


def _plan(statement, parameters) -> str:
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            # Tiny test tables make a sequential scan cheapest; forbid it and sorting, so the plan
            # shows whether an index can deliver the order at all (a Sort node would remain if not).
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(str(r[-1]) for r in rows)


@pytest.mark.parametrize("url,index", [
    ("/browse?kind=need&sort=newest", "ix_posts_newest"),
    ("/browse?kind=need", "ix_posts_urgent"),
    ("/browse?kind=need&category=rides", "ix_posts_category_urgent"),
    ("/browse?kind=need&category=food&sort=newest", "ix_posts_category_newest"),
    ("/browse?kind=offer", "ix_posts_newest"),
    ("/browse?kind=need&page=3", "ix_posts_urgent"),
])
def test_each_browse_order_is_read_from_its_index(client, make_user, make_post, statements, url, index):
    owner = make_user()
    for i in range(6):
        make_post(owner, title=f"Need {i}", urgency=i % 4, category="rides" if i % 2 else "food")
        make_post(owner, kind="offer", title=f"Offer {i}")
    statements.clear()
    assert client.get(url).status_code == 200
    page_query = [s for s in statements if "LIMIT" in s[0] and "count(" not in s[0]][-1]
    plan = _plan(*page_query)
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan.split("Limit", 1)[-1], plan
    count_query = next(s for s in statements if "count(" in s[0])
    assert "LIMIT" in count_query[0]  # capped: the count stops at 1,001 rows


@pytest.mark.parametrize("url,indexes", [
    ("/browse?kind=need&category=rides&near=54016&within=10", ["ix_posts_category_place"]),
    # Without a category either index of places serves (PostgreSQL scans the category one for
    # the box on tiny tables; SQLite takes the one without).
    ("/browse?kind=need&near=54016&within=10", ["ix_posts_place", "ix_posts_category_place"]),
])
def test_the_count_of_a_distance_page_reads_an_index_of_places(client, make_user, make_post, statements, url, indexes):
    """The count of "within N miles" reads the box of public cells from an index, not every post of the kind."""
    owner = make_user()
    for i in range(6):
        make_post(owner, title=f"Need {i}", category="rides" if i % 2 else "food")
    statements.clear()
    assert client.get(url).status_code == 200
    count_query = next(s for s in statements if "count(" in s[0])
    plan = _plan(*count_query)
    assert any(index in plan for index in indexes), plan


@pytest.mark.parametrize("url,index", [
    ("/browse?kind=need&category=rides&near=54016&within=10", "ix_posts_category_urgent"),
    ("/browse?kind=need&near=54016&within=10&sort=newest", "ix_posts_newest"),
])
def test_a_distance_page_with_more_posts_than_the_cap_walks_its_sort_order(client, make_user, make_post, statements,
                                                                           monkeypatch, url, index):
    """Past the cap, a page of the nearest posts comes from the sort order's index, not from a sort
    of every post in the box (which the index of places would give)."""
    from app.services import browse

    monkeypatch.setattr(browse, "COUNT_CAP", 3)
    owner = make_user()
    for i in range(6):
        make_post(owner, title=f"Need {i}", urgency=i % 4)
    statements.clear()
    html = client.get(url).get_data(as_text=True)
    assert "3+ posts" in html
    page_query = [s for s in statements if "LIMIT" in s[0] and "count(" not in s[0]][-1]
    plan = _plan(*page_query)
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan.split("Limit", 1)[-1], plan


@pytest.mark.parametrize("sort", ["newest", "urgency"])
def test_past_the_cap_a_distance_page_lists_exactly_what_the_box_would(app, make_user, make_post, monkeypatch, sort):
    """Walking the sort order with the exact circle alone (past the cap) and reading the box of
    places (under it) are two plans for one question: every page lists the same posts, in the same
    order, and only posts within the distance."""
    from app.services import browse, geo

    owner = make_user()
    zips = ["54016", "55082", "55101", "54022", "55042", "54017"]  # Hudson and towns 8 to 20 miles off
    for i in range(18):
        make_post(owner, title=f"Need {i}", zip_code=zips[i % len(zips)], urgency=i % 4)
    origin = geo.lookup_zip("54016")
    origin = (origin.lat, origin.lon)

    def pages(walk_rows):
        monkeypatch.setattr(browse, "WALK_ROWS", walk_rows)
        out = []
        for page in range(1, 6):
            found = browse.browse(browse.BrowseFilters(kind="need", within_miles=10, origin=origin, sort=sort,
                                                       page=page, per_page=3))
            assert found.capped  # more than the cap within 10 miles: the walk applies when allowed
            out.append([item.post.id for item in found.items])
        return out

    monkeypatch.setattr(browse, "COUNT_CAP", 2)
    walked, boxed = pages(200), pages(0)
    assert walked == boxed
    listed = [post_id for page in walked for post_id in page]
    assert len(listed) == len(set(listed)) and 3 < len(listed) < 18  # some within 10 miles, some not
    from app.models import Post
    for post_id in listed:
        p = db.session.get(Post, post_id)
        assert geo.haversine_miles(origin[0], origin[1], p.cell_lat, p.cell_lon) <= 10.5


def test_past_the_cap_a_page_is_not_counted_again_for_a_while_and_under_it_always(client, make_user, make_post,
                                                                                  statements, monkeypatch):
    """"3+" stays true from one page to the next: counted once per OVER_CAP_SECONDS in a process.
    Under the cap every page counts, so a post just closed or made shows on the next page."""
    from app.services import browse
    from app.services.posts import withdraw_post

    monkeypatch.setattr(browse, "COUNT_CAP", 3)
    clock = [1000.0]
    monkeypatch.setattr(browse, "_now", lambda: clock[0])
    owner = make_user()
    posts = [make_post(owner, title=f"Need {i}") for i in range(5)]

    def page(url="/browse?kind=need&sort=newest"):
        statements.clear()
        html = client.get(url).get_data(as_text=True)
        return html, sum(1 for s in statements if "count(" in s[0])

    html, counted = page()
    assert "3+ posts" in html and counted == 1  # the first page counts
    html, counted = page()
    assert "3+ posts" in html and counted == 0  # the next one, within the window, does not
    other, counted = page("/browse?kind=need&sort=newest&category=rides")  # another filter counts itself
    assert "3+ posts" in other and counted == 1
    for p in posts[:3]:
        withdraw_post(owner, p)
    html, counted = page()
    assert "3+ posts" in html and counted == 0  # within the window: still said to be past the cap
    clock[0] += browse.OVER_CAP_SECONDS + 1
    html, counted = page()
    assert "2 posts" in html and counted == 1  # counted again, exactly
    make_post(owner, title="One more")
    html, counted = page()
    assert "3 posts" in html and counted == 1  # under the cap: every page counts
