"""The report pages through the test client: who may see them, the CSV against the page, bad
dates, the phone and print layouts, and the public figures' suppression of small counts."""
import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from app.extensions import db
from app.services import fund, settings
from tests.conftest import login
from app.timeutil import local_today, utcnow
from tests.services.test_reports import build_world, raw_match, raw_post

ROOT = Path(__file__).resolve().parents[2]
REPORT_URLS = ("/reports", "/reports/funder", "/reports/funder.csv")


def test_coordinators_and_admins_see_reports_members_do_not_and_visitors_log_in(app, client, make_user, login_as):
    for url in REPORT_URLS:
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url
    login_as(make_user())
    for url in REPORT_URLS:
        assert client.get(url).status_code == 403, url
    for role in ("coordinator", "admin"):
        other = app.test_client()
        assert login(other, make_user(role).email).status_code == 302
        for url in REPORT_URLS:
            response = other.get(url)
            assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", (role, url)
    csv_response = other.get("/reports/funder.csv")
    assert csv_response.mimetype == "text/csv" and "attachment" in csv_response.headers["Content-Disposition"]


def _page_figures(html: str) -> dict:
    return {key: re.sub(r"\s+", " ", value).strip()
            for key, value in re.findall(r'data-figure="([^"]+)">([^<]*)<', html)}


def _plain(text: str) -> str:
    """A page's '$1,150.00', '63%', '12.5 hours' or '—' as the CSV writes it, for comparing."""
    text = text.replace("$", "").replace(",", "").replace(" hours", "").strip()
    return "" if text == "—" else text


def test_the_funder_csv_parses_and_matches_the_printable_page(client, make_user, login_as):
    w = build_world(make_user)
    login_as(w.coord)
    query = f"?from={w.period.start.isoformat()}&to={w.period.end.isoformat()}"
    page = client.get("/reports/funder" + query)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    rows = list(csv.reader(io.StringIO(client.get("/reports/funder.csv" + query).get_data(as_text=True))))
    assert rows[0] == ["section", "group", "measure", "value"]
    figures = _page_figures(html)
    compared = 0
    for section, group, measure, value in rows[1:]:
        if section == "period":
            continue
        shown = _plain(figures[f"{section}/{group}/{measure}"])
        if measure.endswith("rate") and value:
            assert shown == f"{round(float(value) * 100)}%", (section, group, measure, value, shown)
        else:
            assert shown == value, (section, group, measure, value, shown)
        compared += 1
    assert compared == len(figures) and compared > 100
    # Each chart: inline SVG with a name, inside a figure with its caption; no script anywhere on the page.
    charts = re.findall(r"<figure>\s*(<svg[^>]*>).*?</svg>\s*<figcaption>", html, re.S)
    assert len(charts) == 3 and all('role="img"' in svg and 'aria-label="' in svg and "viewBox" in svg for svg in charts)
    assert "<script>" not in html and "<script " not in html.split("</head>")[1]


@pytest.mark.parametrize("query,field,message", [("?from=2026-13-45", "from", "Enter a date like 2026-11-30."),
                                                 ("?from=2026-05-01&to=2026-04-01", "to", "The end date is before"),
                                                 ("?from=2020-01-01&to=2026-01-01", "to", "at most 366 days"),
                                                 ("?to=%00", "to", "Enter a date like")])
def test_a_bad_period_is_explained_beside_the_field_and_kept(client, make_user, login_as, query, field, message):
    login_as(make_user("coordinator"))
    for url in REPORT_URLS:
        response = client.get(url + query)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and message in html, (url, html[-2000:])
        assert f'id="{field}-err"' in html and 'aria-invalid="true"' in html
    assert 'value="2026-13-45"' in client.get("/reports?from=2026-13-45").get_data(as_text=True)


def test_the_templates_fit_a_phone_and_print_without_navigation_or_forms(client, make_user, login_as):
    sources = [p.read_text() for p in (ROOT / "templates" / "reports").glob("*.html")]
    css = (ROOT / "app" / "static" / "reports.css").read_text()
    for text in [*sources, css, (ROOT / "app" / "services" / "reports_charts.py").read_text()]:
        assert not re.search(r"(?<![-\w])(min-)?width\s*:\s*\d+(\.\d+)?(px|rem|em|pt)", text)
        assert not re.search(r'<(svg|table)[^>]*\swidth="', text)
    print_css = css[css.index("@media print"):]
    assert ".site-header" in print_css and "form" in print_css and "display: none" in print_css
    login_as(make_user("coordinator"))
    html = client.get("/reports").get_data(as_text=True)
    tables = re.findall(r"<table[^>]*>", html)
    assert tables and all('class="list stack"' in t for t in tables)
    cells = re.findall(r"<td[^>]*>", html)
    assert cells and all("data-label=" in c for c in cells)
    assert 'href="/static/reports.css"' in html


# The public figures ---------------------------------------------------------------------------

def _meet(need, offer, when):
    raw_match(need, offer, "completed", decided_at=when - timedelta(hours=2), closed_at=when)


def _impact_world(make_user):
    """This month: 7 rides and 6 food needs met, and one peer-support need, the only one in its
    town (Stillwater): its owner could be picked out by anyone who knows she asked."""
    helper, owner, lone = make_user(), make_user("resident"), make_user("resident", name="Lone Resident")
    now = utcnow() - timedelta(minutes=1)
    offers = {c: raw_post(helper, "offer", c, now - timedelta(days=1)) for c in ("rides", "food", "peer_support")}
    for category, n in (("rides", 7), ("food", 6)):
        for _ in range(n):
            _meet(raw_post(owner, "need", category, now - timedelta(hours=5)), offers[category], now)
    _meet(raw_post(lone, "need", "peer_support", now - timedelta(hours=5), zip_code="55082", title="Someone to talk to"),
          offers["peer_support"], now)
    db.session.commit()


def test_the_impact_page_never_reveals_a_single_resident_even_by_subtraction(client, make_user):
    _impact_world(make_user)
    response = client.get("/impact")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    table = html[html.index("<table"):html.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>|<tr class=\"total\">(.*?)</tr>", table, re.S)
    grid = [re.findall(r"<td[^>]*>([^<]*)</td>", a or b) for a, b in rows][1:]  # the header row has no <td>
    body, totals = grid[:-1], grid[-1]
    assert len(body) == 12 and all(len(r) == 6 for r in grid)  # Rides, Food, Skills, Peer support, Household, All
    this_month = body[0]
    assert this_month[:5] == ["7", "6", "fewer than 5", "fewer than 5", "fewer than 5"]
    assert this_month[5] == "at least 13" and totals[3] == "at least 0" and totals[5] == "at least 13"

    def number(text):
        return int(re.sub(r"\D", "", text) or 0) if "fewer" not in text else 0

    # Every published total is exactly the sum of the published cells it covers: subtracting the
    # published cells from any total gives 0, never the suppressed one.
    for r in body:
        assert number(r[5]) - sum(number(c) for c in r[:5]) == 0
    for j in range(5):
        assert number(totals[j]) - sum(number(r[j]) for r in body) == 0
    assert number(totals[5]) - sum(number(t) for t in totals[:5]) == 0
    # Nothing in the bytes of the page gives her away: not the true totals, her town or her words.
    for leak in (">1<", ">14<", "at least 14", "Stillwater", "Lone", "Someone to talk to", "55082"):
        assert leak not in html, leak


def test_the_impact_page_is_public_unless_the_board_is_members_only(app, client, make_user):
    assert client.get("/impact").status_code == 200
    settings.update(make_user("admin"), {"board_visibility": "members"})
    response = client.get("/impact")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    member = app.test_client()
    assert login(member, make_user().email).status_code == 302
    assert member.get("/impact").status_code == 200  # members from before the switch stay approved


def test_the_public_fund_summary_hides_a_month_with_one_payment(client, make_user):
    a, b = make_user("coordinator"), make_user("coordinator")
    resident, donor = make_user("resident", name="Robin Resident"), make_user()
    fund.record_receipt(a, "500", "check", local_today(), None)
    req = fund.create_request(resident, resident, "120", "rent", "Valley Apartments LLC")
    fund.approve(a, req.id)
    fund.approve(b, req.id)
    fund.record_payment(a, req.id, local_today(), "check", "chk 42")
    assert login(client, donor.email).status_code == 302
    html = client.get("/fund/").get_data(as_text=True)
    assert "fewer than 5 gifts" in html and "fewer than 5 households" in html
    assert "Households helped: <strong>fewer than 5</strong>" in html and "at least $300.00" in html
    for leak in ("$120.00", "$380.00", "$500.00", "Robin", "Valley Apartments"):
        assert leak not in html, leak
    # Five gifts in the month: its money in is shown; the one payment still is not.
    for _ in range(4):
        fund.record_receipt(a, "10", "cash", local_today(), None)
    html = client.get("/fund/").get_data(as_text=True)
    assert "$540.00" in html and "fewer than 5 households" in html and "$120.00" not in html


def test_the_public_routes_include_the_impact_page(app):
    view = app.view_functions["reports.impact"]
    assert getattr(view, "is_public", False) and getattr(view, "shows_board", False)
    assert not any(getattr(app.view_functions[e], "is_public", False)
                   for e in ("reports.dashboard", "reports.funder", "reports.funder_csv"))


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2026-02-30", "\x00", "sNaN", "9" * 5000, "²", "2026-1-1x"])
def test_hostile_dates_get_a_sentence_never_a_server_error(client, make_user, login_as, value):
    login_as(make_user("coordinator"))
    for url in REPORT_URLS:
        for name in ("from", "to"):
            response = client.get(url, query_string={name: value})
            assert response.status_code == 422, (url, name, value, response.status_code)
            assert f'id="{name}-err"' in response.get_data(as_text=True)
