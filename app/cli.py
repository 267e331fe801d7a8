"""`flask` commands: serve, user create-admin, posts expire, mail send-pending, digest send, match run/tick, seed-demo."""
import getpass

import click
from flask import Flask, current_app, url_for
from flask.cli import AppGroup
from flask_migrate import upgrade

from app.extensions import db
from app.services import ServiceError

user_cli = AppGroup("user", help="Manage accounts.")
posts_cli = AppGroup("posts", help="Housekeeping for posts.")
mail_cli = AppGroup("mail", help="The email outbox.")
digest_cli = AppGroup("digest", help="Digests of new requests.")
match_cli = AppGroup("match", help="Matching and coordination.")


def _external(endpoint: str, **values) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


@user_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True, default="Admin")
def create_admin(email: str, name: str) -> None:
    """Create the first admin (or make an account admin). Asks for the password: there is no default."""
    from app.services.accounts import create_admin as create

    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        raise click.ClickException("The passwords do not match.")
    try:
        user = create(name, email, password)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Admin {user.email} is ready.")


@posts_cli.command("expire")
def expire() -> None:
    """Close expired posts and email owners whose posts expire soon (run daily)."""
    from app.services.mail import send_pending
    from app.services.posts import expire_posts

    expired, warned = expire_posts(lambda post: _external("posts.detail", post_id=post.id))
    sent, failed = send_pending()
    click.echo(f"Expired {expired} posts; warned {warned} owners; emails sent {sent}, failed {failed}.")


@mail_cli.command("send-pending")
def send_pending_cmd() -> None:
    """Deliver pending emails from the outbox (safe to run at any time)."""
    from app.services.mail import send_pending

    sent, failed = send_pending()
    click.echo(f"Sent {sent}; failed {failed}.")


@digest_cli.command("send")
def digest_send() -> None:
    """Queue and send every due digest (run hourly; a member gets one per period at most)."""
    from app.services.digests import send_digests
    from app.services.mail import send_pending

    run = send_digests()
    sent, failed = send_pending()
    click.echo(f"Digests due {run.due}: queued {run.sent}, nothing new for {run.empty}, "
               f"no place for {run.skipped_no_place}. Emails sent {sent}, failed {failed}.")


@match_cli.command("run")
def match_run() -> None:
    """Re-run the whole assignment over every open post (nightly); waiting engine proposals are replaced."""
    from app.services.proposals import run_all

    with click.progressbar(length=1, label="Matching open posts", show_pos=True) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        report = run_all(progress)
    click.echo(f"{report.needs} needs and {report.offers} offers: {report.proposals} proposals "
               f"({report.cancelled} older ones replaced); {report.unmet} needs unmet.")


@match_cli.command("tick")
def match_tick() -> None:
    """Time-driven steps (run hourly): unanswered approvals reopen, reminders, follow-up questions."""
    from app.services import followup, matches, proposals
    from app.services.mail import send_pending
    from app.services.posts import refresh_urgency_keys

    link = lambda m: _external("matches.detail", match_id=m.id)  # noqa: E731
    outcome = lambda token: _external("matches.outcome_by_link", token=token)  # noqa: E731
    refresh_urgency_keys()
    proposed = proposals.propose_missing()
    expired = matches.expire_unanswered()
    reminded = followup.send_reminders(link)
    asked = followup.send_followups(link, outcome)
    sent, failed = send_pending()
    click.echo(f"Proposed for {proposed} posts left without proposals; reopened {expired} unanswered matches; "
               f"reminded {reminded}; asked {asked} how it went. Emails sent {sent}, failed {failed}.")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--debug/--no-debug", default=False)
def serve(host: str, port: int, debug: bool) -> None:
    """Upgrade the database to the latest schema, then serve the site."""
    upgrade()
    click.echo(f"Serving Mutual Aid Exchange on http://{host}:{port}")
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    app.debug = debug
    run_simple(host, port, app, use_reloader=False, use_debugger=debug, threaded=True)


@click.command("seed-demo")
def seed_demo() -> None:
    """Create a believable St. Croix Valley community (idempotent) and print the demo logins."""
    from app.services.demo import seed

    upgrade()
    logins, created = seed()
    click.echo("Demo community " + ("created." if created else "already present; nothing changed."))
    click.echo("Demo logins (also kept in instance/demo-logins.txt):")
    for role, email, password in logins:
        click.echo(f"  {role:<12} {email:<40} {password}")


def init_app(app: Flask) -> None:
    for cmd in (user_cli, posts_cli, mail_cli, digest_cli, match_cli, serve, seed_demo):
        app.cli.add_command(cmd)

    @app.teardown_appcontext
    def _cleanup(_exc):
        db.session.remove()
