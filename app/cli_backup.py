"""`flask backup create PATH [--force]` and `flask backup restore PATH [--yes]` (app/services/backup.py)."""
import click
from flask.cli import AppGroup

from app.services import ServiceError

backup_cli = AppGroup("backup", help="Back the database up to a file, or restore it from one.")


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.1f} kB"


def _describe(info) -> str:
    return f"{info.tables} tables, schema revision {info.revision}, {_size(info.size_bytes)}"


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a file that already exists at PATH.")
def create_cmd(path: str, force: bool) -> None:
    """Back the whole database up into PATH (safe while the site runs)."""
    from app.services import backup

    try:
        info = backup.create(path, force=force)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Backed up the {info.database} database to {info.path} ({_describe(info)}).")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_cmd(path: str, yes: bool) -> None:
    """Replace ALL data in the database with the backup in PATH."""
    from app.services import backup

    try:
        info = backup.inspect(path)
        click.echo(f"Backup {info.path}: {_describe(info)}.")
        if not yes:
            click.echo("Stop the site and its workers first: on PostgreSQL the restore waits for every open "
                       "transaction, and whatever the site writes meanwhile is lost.")
            click.confirm("This replaces every row in the site's database with the backup's. Continue?", abort=True)
        info = backup.restore(path)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Restored the {info.database} database from {info.path}.")
    if not info.up_to_date:
        click.echo("The backup is from an older version of the site: run `flask db upgrade` now.")
