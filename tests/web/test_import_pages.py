"""The import and export pages: who may use them, the preview's problems by line and column, the
progress view of an import run by the worker, attachments, and no 500 whatever the file holds."""
import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Post, User
from app.models.imports import ImportJob
from app.timeutil import local_today
from tests.conftest import csrf_token, local_dt


@pytest.fixture
def coord(make_user, login_as):
    user = make_user("coordinator", name="Cora Coord", email="cora@example.org")
    login_as(user)
    return user


def _upload(client, members: bytes | None = None, posts: bytes | None = None, token: str | None = None):
    data = {"csrf_token": token if token is not None else csrf_token(client, "/coordinate/import")}
    if members is not None:
        data["members"] = (io.BytesIO(members), "members.csv")
    if posts is not None:
        data["posts"] = (io.BytesIO(posts), "posts.csv")
    return client.post("/coordinate/import/upload", data=data, content_type="multipart/form-data")


def _problem_rows(html: str) -> list[tuple[str, str, str, str]]:
    cells = re.findall(r'<tr role="row" class="problem">(.*?)</tr>', html, re.S)
    out = []
    for row in cells:
        file, line, column, message = re.findall(r'<td role="cell" data-label="[^"]*">(.*?)</td>', row, re.S)
        out.append((file, line, column, message))
    return out


def test_access_member_403_coordinator_200_members_export_for_admins(client, make_user, login_as):
    today = local_today().isoformat()
    urls = ("/coordinate/import", f"/coordinate/export/posts.csv?start={today}&end={today}",
            f"/coordinate/export/matches.csv?start={today}&end={today}", "/coordinate/import/template/members.csv")
    login_as(make_user())
    for url in urls + ("/admin/export/members.csv",):
        assert client.get(url).status_code == 403, url
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as(make_user("coordinator"))
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/export/members.csv").status_code == 403
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as(make_user("admin", email="root@example.org"))
    response = client.get("/admin/export/members.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=members-")
    assert response.headers["Cache-Control"] == "no-store"
    assert "root@example.org" in response.get_data(as_text=True)


def test_exports_are_attachments_and_a_bad_range_is_told_beside_the_field(client, coord):
    today = local_today().isoformat()
    response = client.get(f"/coordinate/export/posts.csv?start={today}&end={today}")
    assert response.headers["Content-Disposition"] == f"attachment; filename=posts-{today}-{today}.csv"
    assert response.headers["Cache-Control"] == "no-store" and response.get_data(as_text=True).startswith("post,kind,")
    bad = client.get("/coordinate/export/matches.csv?start=2025-03-10&end=2025-03-01")
    assert bad.status_code == 422 and "The end date is before the start date." in bad.get_data(as_text=True)
    typo = client.get("/coordinate/export/posts.csv?start=not-a-date&end=2025-03-01")
    assert typo.status_code == 422 and 'value="not-a-date"' in typo.get_data(as_text=True)


def test_the_preview_lists_each_problem_with_its_line_and_column(client, coord, make_user):
    make_user(email="taken@example.org")
    members = (b"Name;E-mail;ZIP code\n"
               b"Ada;ada@example.org;54016\n"
               b"Ben;ben@example.org;123\n"
               b"Cy;ada@example.org;54016\n"
               b"Di;taken@example.org;54016\n")
    start, end = (local_dt(days=4, hour=h).strftime("%Y-%m-%d %H:%M") for h in (12, 10))
    posts = ("kind,category,title,zip,owner email,start,end\n"
             "need,food,Groceries,54016,ada@example.org,,\n"
             "need,plumbing,Sink,54016,ada@example.org,,\n"
             f"need,food,Meals,54016,ada@example.org,{start},{end}\n").encode()
    response = _upload(client, members, posts)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    rows = _problem_rows(html)
    assert ("members", "3", "ZIP code", "Enter a 5-digit US ZIP code.") in rows
    assert ("members", "4", "E-mail", "This email is also on line 2.") in rows
    assert ("members", "5", "E-mail", "There is already an account with this email address.") in rows
    assert any(r[:3] == ("posts", "3", "category") for r in rows)
    assert ("posts", "4", "end", "The end is before the start.") in rows
    assert "2 lines are ready to import." in html and "5 lines have problems and will be left out." in html
    assert "Import the 2 good lines" in html and "Refresh" not in page.headers


def test_a_missing_column_garbage_and_wrong_delimiters_are_problems_never_a_500(client, coord):
    cases = {
        "missing column": (b"name,zip\nAda,54016\n", "is missing from the first line"),
        "binary": (bytes(range(256)) * 20, "This is not a CSV text file"),
        "not utf-8": ("name,email,zip\nJosé,jose@example.org,54016\n".encode("latin-1"), "not in UTF-8"),
        "utf-16": ("name,email,zip\n".encode("utf-16"), "This is not a CSV text file"),
        "empty": (b"", "This file is empty."),
        "blank": (b"\n\n  \n", "This file is empty."),
        "wrong delimiter": (b"name|email|zip\nAda|ada@example.org|54016\n", "is missing from the first line"),
        "huge line": (b"name,email,zip\n\"" + b"x" * 200_000 + b"\",a@example.org,54016\n", "could not be read"),
        "open quote": (b"name,email,zip\n\"Ada,ada@example.org,54016\n", "a quote that is never closed"),
        "too many lines": (b"name,email,zip\n" + b"Ada,ada@example.org,54016\n" * 10_001, "more than 10,000 lines"),
    }
    for name, (content, message) in cases.items():
        response = _upload(client, members=content)
        assert response.status_code == 302, name
        page = client.get(response.headers["Location"])
        assert page.status_code == 200 and message in page.get_data(as_text=True), name
        assert "Import the" not in page.get_data(as_text=True), name


def test_no_file_too_big_a_file_and_a_missing_token_are_told_not_500(client, coord, app):
    none = client.post("/coordinate/import/upload", data={"csrf_token": csrf_token(client, "/coordinate/import")})
    assert none.status_code == 422 and "Choose a members file, a posts file, or both." in none.get_data(as_text=True)
    app.config["IMPORT_MAX_BYTES"] = 1000
    big = _upload(client, members=b"name,email,zip\n" + b"Ada,ada@example.org,54016\n" * 100)
    assert big.status_code == 422 and "This file is larger than" in big.get_data(as_text=True)
    huge = _upload(client, members=b"x" * 200_000)
    assert huge.status_code == 413 and "larger than" in huge.get_data(as_text=True)
    assert _upload(client, members=b"name,email,zip\n", token="").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_another_coordinators_upload_is_a_404(client, coord, make_user, login_as):
    response = _upload(client, members=b"name,email,zip\nAda,ada@example.org,54016\n")
    url = response.headers["Location"]
    job_id = int(url.rstrip("/").split("/")[-1])
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as(make_user("coordinator"))
    assert client.get(url).status_code == 404
    token = csrf_token(client, "/coordinate/import")
    assert client.post(f"/coordinate/import/{job_id}/start", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/coordinate/import/{job_id}/discard", data={"csrf_token": token}).status_code == 404


def test_ten_thousand_lines_are_imported_by_the_worker_while_the_page_shows_progress(client, coord, app, tmp_path):
    from app.jobs.queue import queue

    app.config.update(MAIL_DELIVERY="worker", QUEUE_URL=f"sqlite:///{tmp_path}/queue.sqlite")
    members = b"name,email,zip\nAda Lovelace,ada@example.org,54016\nBen Ortiz,ben@example.org,54022\n"
    lines = ["kind,category,title,details,zip,quantity,owner email"]
    for i in range(10_000):
        kind, owner = ("need", "ada") if i % 2 else ("offer", "ben")
        lines.append(f"{kind},food,Meals for a family {i},Soup and bread {i},54016,{1 + i % 4},{owner}@example.org")
    response = _upload(client, members, ("\n".join(lines) + "\n").encode())
    job_url = response.headers["Location"]
    assert "10002 lines are ready to import." in client.get(job_url).get_data(as_text=True)
    job_id = int(job_url.rstrip("/").split("/")[-1])

    started = client.post(f"{job_url}/start", data={"csrf_token": csrf_token(client, job_url)})
    assert started.status_code == 302 and started.headers["Location"].endswith(job_url)
    progress = client.get(job_url)  # the request answered; the work waits in the queue
    html = progress.get_data(as_text=True)
    assert "0 of 10002 lines imported." in html and '<progress max="10002" value="0">' in html
    assert progress.headers["Refresh"] == "3"
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0

    huey = queue(app)
    task = huey.dequeue()
    assert task.name == "csv_import" and task.args == (job_id,)
    huey.execute(task)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Post)) == 10_000
    assert db.session.scalar(select(func.count()).select_from(User).where(User.created_by_id == coord.id)) == 2
    done = client.get(job_url)
    assert "Members created: 2. Posts created: 10000." in done.get_data(as_text=True) and "Refresh" not in done.headers
    assert huey.dequeue() is None  # nothing else was queued
