"""Issue #17's "done when" for reports and import: a coordinator imports 500 members from a
spreadsheet through the pages, they are helped over the month, and a month later the printable
funder report (charts included) and its CSV hold exactly the figures recomputed from the raw rows.
(The API half of it is tests/api/test_api_script.py.)"""
import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Match, Post, User
from app.services import accounts, followup, matches
from app.services.reports import Period
from app.timeutil import local_today
from tests.conftest import csrf_token
from tests.services.test_reports import expected_rows
from tests.web.test_import_pages import _upload, coord  # noqa: F401


def test_import_500_members_then_a_month_later_the_funder_report_adds_up(client, coord, make_user, make_post):  # noqa: F811
    lines = ["name,email,zip"] + [f"Member {i} Import,member{i}@example.org,{('54016', '54022', '55082')[i % 3]}"
                                  for i in range(500)]
    job_url = _upload(client, ("\n".join(lines) + "\n").encode()).headers["Location"]
    assert "500 lines are ready to import." in client.get(job_url).get_data(as_text=True)
    assert client.post(f"{job_url}/start", data={"csrf_token": csrf_token(client, job_url)}).status_code == 302
    assert "Members created: 500." in client.get(job_url).get_data(as_text=True)
    imported = db.session.scalars(select(User).where(User.email.like("member%@example.org")).order_by(User.id)).all()
    assert len(imported) == 500

    # Over the month: 30 of them, residents, ask for help (the coordinator posts for them); a neighbor helps.
    asking = [m for m in imported if m.zip_code == "54016"][:30]  # Hudson, where the helper drives
    for member in asking:
        accounts.set_role(coord, member, "resident")
    helper = make_user(name="Nia Neighbor", email="nia@example.org")
    for category in ("rides", "food"):
        make_post(helper, kind="offer", category=category, title=f"{category} help", quantity=40)
    link = lambda m: f"http://localhost/matches/{m.id}"  # noqa: E731
    needs = [make_post(member, category=("rides", "food")[i % 2], title="Help please", actor=coord)
             for i, member in enumerate(asking)]
    for i, need in enumerate(needs[:20]):
        proposal = db.session.scalars(select(Match).where(Match.need_id == need.id, Match.status == "proposed")).first()
        assert proposal is not None, need.id
        m = matches.approve(coord, proposal.id, link)
        matches.answer(helper, m.id, True)
        matches.answer(coord, m.id, True)  # for the member, who has not set a password yet
        if i < 15:
            followup.record_outcome(helper, m.id, i % 5 != 0)
    # ...which was a month ago by now.
    month = timedelta(days=31)
    for row in [*db.session.scalars(select(Post)), *db.session.scalars(select(Match))]:
        for column in ("created_at", "expires_at", "closed_at", "decided_at"):
            if getattr(row, column, None) is not None:
                setattr(row, column, getattr(row, column) - month)
    db.session.commit()

    p = Period(local_today() - timedelta(days=40), local_today() - timedelta(days=20))
    query = f"from={p.start.isoformat()}&to={p.end.isoformat()}"
    page = client.get(f"/reports/funder?{query}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<svg") >= 1 and 'role="img"' in html and "reports.css" in html
    exported = client.get(f"/reports/funder.csv?{query}")
    assert exported.status_code == 200 and exported.headers["Cache-Control"] == "no-store"
    rows = [tuple(r) for r in csv.reader(io.StringIO(exported.get_data(as_text=True)))][1:]
    assert rows == expected_rows(p)
    figures = {(s, g, m): v for s, g, m, v in rows}
    assert figures[("needs", "all", "posted")] == "30"
    assert int(figures[("needs", "all", "met")]) > 0 and int(figures[("matches", "all", "no_show")]) > 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 500 + 2
