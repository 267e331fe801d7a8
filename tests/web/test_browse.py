import re

from app.extensions import db
from app.services import geo


def titles(html):
    return re.findall(r'<h3><a href="/posts/\d+">([^<]+)</a></h3>', html)


def test_browse_is_public_and_shows_open_needs(client, make_user, make_post):
    owner = make_user()
    make_post(owner, title="Ride to the clinic")
    make_post(owner, kind="offer", title="I can drive")
    html = client.get("/browse").get_data(as_text=True)
    assert titles(html) == ["Ride to the clinic"]
    assert titles(client.get("/browse?kind=offer").get_data(as_text=True)) == ["I can drive"]


def test_fuzzy_search_tolerates_typos(client, make_user, make_post):
    owner = make_user()
    make_post(owner, kind="offer", category="skills", title="Resume writing and interview practice")
    make_post(owner, kind="offer", category="skills", title="Sewing lessons")
    html = client.get("/browse?kind=offer&q=resmue").get_data(as_text=True)
    assert titles(html) == ["Resume writing and interview practice"]
    assert titles(client.get("/browse?kind=offer&q=sewign").get_data(as_text=True)) == ["Sewing lessons"]
    assert "No offers match yet" in client.get("/browse?kind=offer&q=plumbing").get_data(as_text=True)


def test_category_urgency_and_distance_filters(client, make_user, make_post):
    hudson, duluth = make_user(zip_code="54016"), make_user(zip_code="55802")
    make_post(hudson, title="Near and urgent", urgency=3)
    make_post(hudson, category="food", title="Near food")
    make_post(duluth, title="Far away")
    assert titles(client.get("/browse?category=food").get_data(as_text=True)) == ["Near food"]
    assert titles(client.get("/browse?urgency=3").get_data(as_text=True)) == ["Near and urgent"]
    near = titles(client.get("/browse?near=54022&within=25").get_data(as_text=True))
    assert sorted(near) == ["Near and urgent", "Near food"]


def test_sort_closest_and_distance_buckets(client, make_user, make_post):
    for zip_code, title in (("55802", "Duluth"), ("54016", "Hudson"), ("55082", "Stillwater")):
        make_post(make_user(zip_code=zip_code), title=title)
    html = client.get("/browse?near=54016&sort=closest").get_data(as_text=True)
    assert titles(html) == ["Hudson", "Stillwater", "Duluth"]
    assert "Under 2 mi" in html and "5–10 mi" in html and "Over 25 mi" in html


def test_urgency_sort_puts_today_first(client, make_user, make_post):
    owner = make_user()
    make_post(owner, title="Whenever", urgency=0)
    make_post(owner, title="Today", urgency=3)
    make_post(owner, title="This week", urgency=1)
    assert titles(client.get("/browse").get_data(as_text=True)) == ["Today", "This week", "Whenever"]


def test_pagination(app, client, make_user, make_post):
    app.config["POSTS_PER_PAGE"] = 2
    owner = make_user()
    for i in range(5):
        make_post(owner, title=f"Need {i}")
    first = client.get("/browse?sort=newest").get_data(as_text=True)
    third = client.get("/browse?sort=newest&page=3").get_data(as_text=True)
    assert titles(first) == ["Need 4", "Need 3"] and titles(third) == ["Need 0"]
    assert "Page 1 of 3" in first and 'rel="next"' in first and 'rel="next"' not in third


def test_bad_browse_input_is_explained_not_a_500(client):
    response = client.get("/browse?near=00000&within=abc&page=-4&sort=drop+table&kind=zzz")
    assert response.status_code == 200
    html = client.get("/browse?near=00000").get_data(as_text=True)
    assert "We don&#39;t know ZIP 00000." in html


def test_expired_and_closed_posts_are_not_listed(client, make_user, make_post):
    owner = make_user()
    post = make_post(owner, title="Old")
    post.expires_at = post.created_at
    db.session.commit()
    make_post(owner, title="Current")
    assert titles(client.get("/browse").get_data(as_text=True)) == ["Current"]


def test_query_count_does_not_grow_with_rows_shown(app, client, make_user, make_post, count_queries):
    owner = make_user()
    for i in range(3):
        make_post(owner, title=f"Need {i}")
    with count_queries() as few:
        client.get("/browse?near=54016&sort=closest")
    for i in range(3, 25):
        make_post(owner, title=f"Need {i}", urgency=i % 4)
    with count_queries() as many:
        html = client.get("/browse?near=54016&sort=closest").get_data(as_text=True)
    assert len(titles(html)) == 20
    assert many.count == few.count <= 4, many.statements  # 4: the site settings (who may read the board) first


def test_public_pages_never_show_address_coordinates_role_or_name(app, client, make_user, make_post):
    from app.services import accounts

    coordinator = make_user(role="coordinator")
    resident = accounts.create_resident(coordinator, "Jordan Secret", "55082", phone="651-555-0199")
    post = make_post(resident, actor=coordinator, title="Ride to a meeting", street_address="42 Hidden Way",
                     destination_kind="support_meeting")
    viewer = app.test_client()
    pages = [viewer.get(url).get_data(as_text=True) for url in
             ("/browse", f"/posts/{post.id}", "/browse?near=54016&sort=closest", "/")]
    for html in pages:
        for secret in ("42 Hidden Way", "Jordan", "651-555-0199", "resident", "Resident",
                       str(post.lat), str(post.lon), f"{post.lat:.3f}", f"{post.lon:.3f}"):
            assert secret not in html, secret
    assert "Stillwater" in pages[1]


def test_public_distance_uses_the_coarse_cell(make_user, make_post):
    post = make_post(make_user(zip_code="55082"))
    assert abs(post.cell_lat - post.lat) <= 0.005 + 1e-9
    assert geo.haversine_miles(post.lat, post.lon, post.cell_lat, post.cell_lon) < 0.7
    assert geo.coarse_cell(post.lat, post.lon) == (post.cell_lat, post.cell_lon)


def test_a_bad_filter_is_explained_without_discarding_the_others(client, make_user, make_post):
    owner = make_user()
    make_post(owner, kind="offer", category="skills", title="Resume writing and interview practice")
    make_post(owner, kind="offer", category="skills", title="Sewing lessons")
    html = client.get("/browse?kind=offer&q=resmue&near=00000&within=abc").get_data(as_text=True)
    assert "We don&#39;t know ZIP 00000." in html
    assert titles(html) == ["Resume writing and interview practice"]
