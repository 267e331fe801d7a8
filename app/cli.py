"""`flask` commands: serve, worker, jobs list/run, user create-admin, posts expire, mail send-pending, digest send,
match run/tick, retention run, backup create/restore, seed-demo."""
import getpass

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from app.extensions import db
from app.jobs import registry as jobs
from app.jobs.registry import JOBS
from app.services import ServiceError

user_cli = AppGroup("user", help="Manage accounts.")
posts_cli = AppGroup("posts", help="Housekeeping for posts.")
mail_cli = AppGroup("mail", help="The email outbox.")
digest_cli = AppGroup("digest", help="Digests of new requests.")
match_cli = AppGroup("match", help="Matching and coordination.")
jobs_cli = AppGroup("jobs", help="The scheduled jobs the worker runs.")
retention_cli = AppGroup("retention", help="Removing personal details that have served (RETAIN_* settings).")


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
    """Close expired posts and email owners whose posts expire soon (the worker runs it daily)."""
    r = jobs.expire_posts()
    click.echo(f"Expired {r['expired']} posts; warned {r['warned']} owners; "
               f"emails sent {r['emails_sent']}, failed {r['emails_failed']}.")


@mail_cli.command("send-pending")
def send_pending_cmd() -> None:
    """Deliver pending emails and texts from the outbox (safe to run at any time, also beside the worker)."""
    r = jobs.send_outbox()
    click.echo(f"Sent {r['sent']}; failed {r['failed']}. Texts sent {r['texts_sent']}; failed {r['texts_failed']}.")


@digest_cli.command("send")
def digest_send() -> None:
    """Queue and send every due digest (the worker runs it hourly; a member gets one per period at most)."""
    r = jobs.send_digests()
    click.echo(f"Digests due {r['due']}: queued {r['queued']}, nothing new for {r['empty']}, "
               f"no place for {r['no_place']}. Emails sent {r['emails_sent']}, failed {r['emails_failed']}.")


@match_cli.command("run")
def match_run() -> None:
    """Re-run the whole assignment over every open post (the worker runs it nightly); waiting engine proposals are replaced."""
    with click.progressbar(length=1, label="Matching open posts", show_pos=True) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        r = jobs.match_run(progress)
    click.echo(f"{r['needs']} needs and {r['offers']} offers: {r['proposals']} proposals "
               f"({r['replaced']} older ones replaced); {r['unmet']} needs unmet.")


@match_cli.command("tick")
def match_tick() -> None:
    """Time-driven steps (the worker runs them hourly): unanswered approvals reopen, reminders, follow-up questions."""
    r = jobs.match_tick()
    click.echo(f"Proposed for {r['proposed']} posts left without proposals; reopened {r['reopened']} unanswered "
               f"matches; reminded {r['reminded']}; asked {r['asked']} how it went. "
               f"Emails sent {r['emails_sent']}, failed {r['emails_failed']}.")


@retention_cli.command("run")
def retention_run() -> None:
    """Remove closed posts' exact places, old emails, messages and case notes now (the worker runs it daily)."""
    r = jobs.retention()
    click.echo(f"Exact places cleared {r['places']}; emails removed {r['emails']}; messages removed {r['messages']}; "
               f"case notes removed {r['case_notes']}.")


@click.command("worker")
@click.option("--threads", type=int, default=None, help="Tasks run at once in this process (WORKER_THREADS).")
def worker(threads: int | None) -> None:
    """Send queued email and run every scheduled job at its time, until stopped (SIGTERM or Ctrl+C).

    Run as many as you like, on one machine or several: each job runs once per period."""
    from app.jobs.queue import run_worker

    app = current_app._get_current_object()
    run_worker(app, threads or app.config["WORKER_THREADS"])


@jobs_cli.command("list")
def jobs_list() -> None:
    """Every scheduled job, its period, and when it last succeeded."""
    from app.jobs.runner import states

    for state in states():
        last = state.last_success.strftime("%Y-%m-%d %H:%M UTC") if state.last_success else "never"
        click.echo(f"{state.name:<13} every {state.every:<7} last success {last:<21}"
                   f"{'  LATE' if state.overdue else ''}  {state.title}")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice([job.name for job in JOBS]))
def jobs_run(name: str) -> None:
    """Run one job now, through the same lease as the worker (skipped if this period's run is done)."""
    from app.jobs.runner import run_job

    outcome = run_job(name)
    if outcome.status == "skipped":
        click.echo(f"{name}: not due, or this period ({outcome.period}) already ran or is running elsewhere.")
    elif outcome.status == "failed":
        raise click.ClickException(f"{name} failed; the log has the traceback.")
    else:
        click.echo(f"{name} ({outcome.period}): " + ", ".join(f"{k} {v}" for k, v in outcome.summary.items()))


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
    from app.cli_backup import backup_cli

    for cmd in (user_cli, posts_cli, mail_cli, digest_cli, match_cli, jobs_cli, retention_cli, backup_cli, worker, serve,
                seed_demo):
        app.cli.add_command(cmd)

    @app.teardown_appcontext
    def _cleanup(_exc):
        db.session.remove()
