"""CSV import: each problem by line and column, good lines imported once however often the file
comes, members invited to choose their own password, the uploaded lines forgotten afterwards."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, OutboxEmail, Post, User
from app.models.imports import ImportJob, ImportKey, ImportRow
from app.services import NotAllowed, ServiceError, accounts, csv_import, csv_import_run, erasure
from app.timeutil import utcnow
from tests.conftest import local_dt

MEMBERS = ("name,email,zip,phone,language\r\n"
           "Ada Lovelace,ada@example.org,54016,651-555-0100,en\r\n"
           "Ben Ortiz,BEN@example.org , 54022,,es\r\n")


def _when(days: int, hour: int) -> str:
    return local_dt(days=days, hour=hour).strftime("%Y-%m-%d %H:%M")


def posts_file(lines: list[str]) -> bytes:
    header = "kind,category,title,details,zip,quantity,owner email,start,end,destination\r\n"
    return (header + "".join(line + "\r\n" for line in lines)).encode()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _problems(job) -> list[tuple]:
    listed, _total = csv_import.problems_of(job)
    return [(p["file"], p["line"], p["column"]) for p in listed]


@pytest.fixture
def coord(make_user):
    return make_user("coordinator", name="Cora Coord", email="cora@example.org")


def _import(coord, members=None, posts=None):
    job = csv_import.preview(coord, members, posts)
    csv_import.start(coord, job.id)  # outside a request the job runs at once (MAIL_DELIVERY is "inline")
    db.session.expire_all()
    return db.session.get(ImportJob, job.id)


def test_every_problem_is_named_by_file_line_and_column(coord, make_user):
    make_user(email="taken@example.org")
    members = ("name,email,zip\n"
               "Ada,ada@example.org,54016\n"          # line 2: fine
               "Ben,ben@example.org,0000\n"           # line 3: bad ZIP
               ",ada@example.org,54016\n"             # line 4: no name, and Ada's address again
               "Cy,taken@example.org,54016\n"         # line 5: the address has an account
               f"{'D' * 81},d@example.org,54016\n")   # line 6: name too long
    posts = posts_file([
        f"need,rides,Ride,,54016,1,ada@example.org,{_when(3, 10)},{_when(3, 12)},medical",   # line 2: fine
        "need,plumbing,Fix sink,,54016,1,ada@example.org,,,",                                # line 3: category
        f"need,food,Meals,,54016,1,ada@example.org,{_when(3, 12)},{_when(3, 10)},",          # line 4: end before start
        "offer,food,Soup,,54016,1,nobody@example.org,,,",                                    # line 5: unknown owner
        "need,food,Groceries,,54016,1,ben@example.org,,,",                                   # line 6: owner's line is bad
    ])
    job = csv_import.preview(coord, members.encode(), posts)
    found = _problems(job)
    assert ("members", 3, "zip") in found
    assert ("members", 4, "name") in found and ("members", 4, "email") in found
    assert ("members", 5, "email") in found and ("members", 6, "name") in found
    assert ("posts", 3, "category") in found and ("posts", 4, "end") in found
    assert ("posts", 5, "owner email") in found and ("posts", 6, "owner email") in found
    assert not [p for p in found if p[1] == 2]
    assert (job.total_rows, job.good_rows, job.problem_rows) == (10, 2, 8)
    messages = " ".join(p["message"] for p in csv_import.problems_of(job)[0])
    assert "also on line 2" in messages and "already an account" in messages and "end is before the start" in messages


def test_a_missing_required_column_is_named_on_line_one(coord):
    job = csv_import.preview(coord, b"name,zip\nAda,54016\n", None)
    assert _problems(job) == [("members", 1, "email")] and job.good_rows == 0


def test_good_lines_are_imported_and_the_same_file_twice_creates_nothing_twice(coord):
    posts = posts_file([f"need,rides,Ride to the clinic,Tuesday,54016,1,ada@example.org,{_when(3, 10)},{_when(3, 12)},medical",
                        "offer,food,Soup on Fridays,,54022,4,ben@example.org,,,",
                        "need,food,Broken,,99999,1,ada@example.org,,,"])
    job = _import(coord, MEMBERS.encode(), posts)
    assert (job.status, job.members_created, job.posts_created, job.failed_rows) == ("done", 2, 2, 0)
    ben = accounts.find_by_email("ben@example.org")
    assert (ben.name, ben.zip_code, ben.language, ben.role, ben.password_hash) == ("Ben Ortiz", "54022", "es", "member", None)
    ride = db.session.scalar(select(Post).where(Post.title == "Ride to the clinic"))
    assert ride.owner_id == accounts.find_by_email("ada@example.org").id and ride.created_by_id == coord.id
    assert len(ride.windows) == 1 and ride.proposed_at is None  # the hourly tick proposes for it
    assert _count(ImportRow) == 0  # the uploaded lines are gone once the import is done
    counts = (_count(User), _count(Post), _count(OutboxEmail))

    again = csv_import.preview(coord, MEMBERS.encode(), posts)
    assert (again.good_rows, again.skipped_rows, again.problem_rows) == (0, 4, 1)
    with pytest.raises(ServiceError):
        csv_import.start(coord, again.id)
    assert (_count(User), _count(Post), _count(OutboxEmail)) == counts


def test_a_line_is_numbered_where_it_starts_when_a_cell_holds_line_breaks(coord):
    posts = posts_file(['offer,food,"Soup\non\nFridays","Two\nlines",54016,1,nobody@example.org,,,'])
    job = csv_import.preview(coord, None, posts + b"offer,food,Bread,,1234x,1,nobody@example.org,,,\r\n")
    assert ("posts", 2, "owner email") in _problems(job) and ("posts", 6, "zip") in _problems(job)


def test_semicolons_and_a_byte_order_mark_are_read(coord):
    text = "\ufeffname;email;zip\nZoë Ñúñez;zoe@example.org;54016\n"
    job = _import(coord, text.encode("utf-8"))
    assert job.members_created == 1 and accounts.find_by_email("zoe@example.org").name == "Zoë Ñúñez"


def test_a_run_claims_the_job_once(coord):
    job = csv_import.preview(coord, MEMBERS.encode(), None)
    db.session.execute(ImportJob.__table__.update().values(status="queued"))
    db.session.commit()
    assert csv_import_run.run(job.id)["claimed"] is True
    assert csv_import_run.run(job.id) == {"claimed": False}
    assert _count(User) == 3


def test_lines_that_went_stale_since_the_preview_are_reported_not_imported(coord):
    job = csv_import.preview(coord, MEMBERS.encode(), None)
    accounts.create_resident(coord, "Ada Other", "54016", email="ada@example.org")
    csv_import.start(coord, job.id)
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert (job.members_created, job.failed_rows) == (1, 1)
    assert job.failures == [{"file": "members", "line": 2, "column": "email",
                             "message": "There is already an account with this email address."}]


def test_imported_members_get_a_link_to_choose_their_password_and_no_password(coord, smtp, client):
    _import(coord, MEMBERS.encode())
    ada = accounts.find_by_email("ada@example.org")
    assert ada.password_hash is None and not ada.can_log_in and ada.email_confirmed_at is None
    mail = {m["rcpt"][0]: m for m in smtp.messages}
    assert set(mail) == {"ada@example.org", "ben@example.org"}
    body = mail["ada@example.org"]["msg"].get_body(("plain",)).get_content()
    assert "Cora" in body
    (link,) = re.findall(r"http://localhost(/welcome/\S+)", body)
    # Nothing in the email logs in: no word of it is a password of the account.
    assert all(accounts.authenticate("ada@example.org", word) is None for word in body.split())
    assert "password:" not in body.lower()

    page = client.get(link)
    assert page.status_code == 200 and "Welcome, Ada" in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    typo = client.post(link, data={"csrf_token": token, "password": "a long new secret", "confirm": "a long new secreT"})
    assert typo.status_code == 422 and "The passwords don&#39;t match." in typo.get_data(as_text=True)
    done = client.post(link, data={"csrf_token": token, "password": "a long new secret", "confirm": "a long new secret"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/login")
    db.session.expire_all()
    ada = accounts.find_by_email("ada@example.org")
    assert accounts.authenticate("ada@example.org", "a long new secret") is not None
    assert ada.email_confirmed_at is not None
    assert client.get(link).status_code == 400  # the link works once


def test_only_coordinators_import_and_only_their_own_jobs_are_theirs(coord, make_user):
    member = make_user()
    with pytest.raises(NotAllowed):
        csv_import.preview(member, MEMBERS.encode(), None)
    job = csv_import.preview(coord, MEMBERS.encode(), None)
    other = make_user("coordinator")
    with pytest.raises(NotAllowed):
        csv_import.job_for(other, job.id)
    with pytest.raises(NotAllowed):
        csv_import.start(other, job.id)
    assert csv_import.job_for(make_user("admin"), job.id).id == job.id
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.subject_type == "import")) == "csv_import_preview"


def test_uploaded_lines_are_forgotten_after_a_day(coord):
    job = csv_import.preview(coord, MEMBERS.encode(), None)
    assert _count(ImportRow) == 2
    assert csv_import.purge_stale(now=utcnow() + timedelta(hours=23)) == 0
    assert csv_import.purge_stale(now=utcnow() + timedelta(hours=25)) == 2
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ImportJob, job.id).status == "discarded"


def test_deleting_an_imported_account_forgets_its_key_and_its_lines(coord, make_user):
    job = _import(coord, MEMBERS.encode(), posts_file(["offer,food,Soup,,54016,2,ada@example.org,,,"]))
    assert job.posts_created == 1
    pending = csv_import.preview(coord, MEMBERS.encode(), None)  # lines naming Ada, waiting
    assert db.session.scalar(select(func.count()).select_from(ImportRow).where(ImportRow.email == "ada@example.org")) == 1
    ada = accounts.find_by_email("ada@example.org")
    csv_import_run.accept_welcome(csv_import_run.welcome_token(ada), "correct horse battery")
    erasure.delete_account(ada, ada, "correct horse battery")
    assert db.session.scalar(select(func.count()).select_from(ImportRow).where(ImportRow.email == "ada@example.org")) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportKey).where(ImportKey.user_id == ada.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportKey).where(ImportKey.kind == "posts")) == 0
    assert db.session.get(ImportJob, pending.id).total_rows == 2


def test_the_worker_forgets_lines_a_day_old_every_hour(coord, app, tmp_path):
    from datetime import datetime

    from app.jobs.queue import queue

    app.config.update(QUEUE_URL=f"sqlite:///{tmp_path}/queue.sqlite")
    old = csv_import.preview(coord, MEMBERS.encode(), None)
    fresh = csv_import.preview(coord, MEMBERS.encode(), None)
    db.session.execute(ImportJob.__table__.update().where(ImportJob.id == old.id)
                       .values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    huey = queue(app)
    due = [t for t in huey.read_periodic(datetime(2030, 1, 1, 5, 35)) if t.name == "csv_import_forget"]
    assert len(due) == 1 and not [t for t in huey.read_periodic(datetime(2030, 1, 1, 5, 36))
                                  if t.name == "csv_import_forget"]
    huey.execute(due[0])
    db.session.expire_all()
    assert set(db.session.scalars(select(ImportRow.job_id))) == {fresh.id}
    assert db.session.get(ImportJob, old.id).status == "discarded"
