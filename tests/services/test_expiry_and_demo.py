from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.services import accounts
from app.models.posts import POST_CATEGORIES
from app.models import OutboxEmail, Post, User
from app.timeutil import utcnow


def test_expire_sweep_closes_old_posts_and_warns_once(runner, make_user, make_post, smtp):
    owner = make_user(email="owner@example.org")
    old = make_post(owner, title="Old need")
    soon = make_post(owner, title="Ending soon")
    fresh = make_post(owner, title="Fresh")
    old.expires_at = utcnow() - timedelta(hours=1)
    soon.expires_at = utcnow() + timedelta(days=2)
    db.session.commit()
    result = runner.invoke(args=["posts", "expire"])
    assert result.exit_code == 0 and "Expired 1 posts; warned 1 owners" in result.output
    db.session.expire_all()
    assert [db.session.get(Post, p.id).status for p in (old, soon, fresh)] == ["expired", "open", "open"]
    assert len(smtp.messages) == 1 and "Ending soon" in smtp.text()
    assert smtp.messages[0]["msg"]["Subject"] == "Your post is about to expire"
    runner.invoke(args=["posts", "expire"])
    assert len(smtp.messages) == 1  # warned once only


def test_resident_post_expiry_warns_the_coordinator(runner, make_user, make_post, smtp):
    from app.services import accounts

    coordinator = make_user(role="coordinator", email="coord@example.org")
    resident = accounts.create_resident(coordinator, "Jordan", "55082")
    post = make_post(resident, actor=coordinator)
    post.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    runner.invoke(args=["posts", "expire"])
    assert smtp.messages[0]["rcpt"] == ["coord@example.org"]
    assert "on someone's behalf" in smtp.text()


def test_renew_gives_a_new_lifetime(client, make_user, make_post, login_as):
    from tests.conftest import csrf_token

    owner = make_user()
    post = make_post(owner)
    post.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    login_as(owner)
    client.post(f"/posts/{post.id}/renew", data={"csrf_token": csrf_token(client, "/account/")})
    db.session.expire_all()
    assert db.session.get(Post, post.id).expires_at > utcnow() + timedelta(days=29)


def test_mail_failure_keeps_the_email_for_a_retry(app, make_user, smtp, client):
    from tests.conftest import csrf_token

    make_user(email="retry@example.org")
    smtp.refuse = 1
    client.post("/auth/reset", data={"csrf_token": csrf_token(client), "email": "retry@example.org"})
    row = db.session.scalar(select(OutboxEmail))
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    row.next_attempt_at = utcnow()
    db.session.commit()
    from app.services.mail import send_pending

    assert send_pending() == (1, 0)
    assert len(smtp.messages) == 1


def test_seed_demo_is_idempotent_and_believable(runner, app):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "coordinator@demo.mutualaid.example" in first.output
    counts = (db.session.scalar(select(func.count()).select_from(User)), db.session.scalar(select(func.count()).select_from(Post)))
    second = runner.invoke(args=["seed-demo"])
    assert "nothing changed" in second.output
    assert (db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(Post))) == counts
    # the same logins are printed both times, and they work
    password = [line.split()[-1] for line in second.output.splitlines() if "coordinator@" in line][0]
    from app.services import accounts

    assert accounts.authenticate("coordinator@demo.mutualaid.example", password) is not None
    users, posts = counts
    assert 40 <= users <= 50 and 75 <= posts <= 90
    roles = set(db.session.scalars(select(User.role)))
    assert {"admin", "coordinator", "resident", "member"} <= roles
    categories = set(db.session.scalars(select(Post.category)))
    assert categories == set(POST_CATEGORIES)  # every kind of help, and money only through the fund
    # Demo logins include a resident who can log in, and three coordinators (a request one files
    # for a resident still gets two approvals from others).
    logins = {line.split()[0] for line in second.output.splitlines() if "@demo." in line}
    assert {"admin", "coordinator", "resident", "member"} <= logins
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role.in_(("coordinator", "admin")))) == 3
    resident_pw = [line.split()[-1] for line in second.output.splitlines() if "resident@" in line][0]
    resident = accounts.authenticate("resident@demo.mutualaid.example", resident_pw)
    assert resident is not None and resident.role == "resident" and resident.is_confirmed
    assert all(u.is_confirmed for u in db.session.scalars(select(User)))
    from app.models import FundRequest
    for req in db.session.scalars(select(FundRequest)):
        assert req.created_by_id not in {a.coordinator_id for a in req.approvals}
    towns = set(db.session.scalars(select(Post.town)))
    assert {"Stillwater", "Hudson", "River Falls", "New Richmond"} <= towns


def test_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_tests_never_write_into_the_projects_instance_folder(app):
    from pathlib import Path

    project_instance = Path(__file__).resolve().parents[2] / "instance"
    assert Path(app.instance_path).resolve() != project_instance.resolve()


def test_the_demo_has_spanish_speaking_neighbors_who_post_in_spanish_and_a_spanish_login(runner, app):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "vecina@demo.mutualaid.example" in line)
    vecina = accounts.authenticate("vecina@demo.mutualaid.example", line.split()[-1])
    assert vecina is not None and vecina.language == "es"
    speakers = list(db.session.scalars(select(User).where(User.language == "es")))
    assert len(speakers) >= 4
    spanish_posts = list(db.session.scalars(select(Post).where(Post.owner_id.in_([u.id for u in speakers]))))
    assert spanish_posts
    from app.services.demo_texts import NEEDS_ES, OFFERS_ES

    titles = {t for items in OFFERS_ES.values() for t in items} | {t for items in NEEDS_ES.values() for t, _ in items}
    assert all(p.title in titles for p in spanish_posts)  # everything they wrote is in Spanish
