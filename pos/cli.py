"""`flask --app wsgi pos ...`: the commands of ../shared/API.md "CLI"."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from pos.domain.errors import PosError
from pos.domain.roles import sorted_roles

pos_cli = AppGroup("pos", help="Clinic point of sale commands.")


def fail(error: PosError) -> None:
    raise click.ClickException(error.message)


@pos_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has users.")
def seed_demo_command(if_empty: bool) -> None:
    """Create the demo clinic: catalog, lots, clients and one user per role."""
    from pos import app_settings
    from pos.seed import database_is_empty, seed_demo

    saved = Path(current_app.instance_path) / "demo-logins.txt"
    if not database_is_empty():
        if if_empty:
            click.echo("The database already has data; the demo clinic was not loaded again.")
            if saved.exists():
                click.echo(saved.read_text().rstrip())
            return
        raise click.ClickException("The database already has users; seed an empty one.")
    logins = seed_demo(app_settings(current_app))
    lines = ["Demo logins (role, email, password):"]
    lines += [f"  {login.role:<16} {login.email:<28} {login.password}" for login in logins]
    text = "\n".join(lines)
    click.echo(text)
    # Kept beside the database so `make run` can show them again on every start.
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(text + "\n")
    os.chmod(saved, 0o600)


@pos_cli.command("create-user")
@click.argument("email")
@click.option("--role", "roles", required=True, multiple=True,
              type=click.Choice(["front_desk", "provider", "manager", "admin"]),
              help="A role the user holds; repeat it for several (--role provider "
                   "--role manager).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--name", default=None)
def create_user_command(email: str, roles: tuple[str, ...], password_stdin: bool,
                        name: str | None) -> None:
    """Create a staff account."""
    from pos.services.staff import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, roles, password, name=name)
    except PosError as error:
        fail(error)
    click.echo(f"Created {user.email} ({', '.join(sorted_roles(user.roles))}).")


@pos_cli.command("deactivate-user")
@click.argument("email")
def deactivate_user_command(email: str) -> None:
    """Deactivate a staff account: its sign-ins, sessions and tokens stop at once."""
    from pos.services.accounts import deactivate_by_email
    from pos.services.transaction import write_transaction

    try:
        with write_transaction() as session:
            user = deactivate_by_email(session, email)
            shown = user.email
    except PosError as error:
        fail(error)
    click.echo(f"Deactivated {shown}.")


@pos_cli.command("revoke-token")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def revoke_token_command(token_id: int) -> None:
    """Revoke an API token by its id (`GET /api/v1/users/<id>/tokens` lists them)."""
    from pos.services.accounts import revoke_token
    from pos.services.transaction import write_transaction

    try:
        with write_transaction() as session:
            revoke_token(session, token_id, by_user=None)
    except PosError as error:
        fail(error)
    click.echo(f"Revoked token {token_id}.")


@pos_cli.command("create-token")
@click.argument("email")
def create_token_command(email: str) -> None:
    """Print a new API bearer token for that user (shown once; only its hash is kept)."""
    from pos.services.staff import create_token

    try:
        click.echo(create_token(email))
    except PosError as error:
        fail(error)


@pos_cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
def backup_command(file: str) -> None:
    """Write a consistent backup of the database to FILE while the clinic keeps selling.

    SQLite: a copy made with SQLite's online backup API. PostgreSQL: a pg_dump custom-format
    archive (restore it with `pos restore` or pg_restore).
    """
    from pos.extensions import db
    from pos.services.backup import BackupError, backup_database

    try:
        path = backup_database(db.engine.url, file)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")


@pos_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask; the database's content is replaced.")
def restore_command(file: str, yes: bool) -> None:
    """Replace the database's content with the backup in FILE (stop the app servers first)."""
    from pos.extensions import db
    from pos.services.backup import BackupError, restore_database

    url = db.engine.url
    if not yes:
        click.confirm(f"Replace everything in {url.render_as_string()} with {file}?",
                      abort=True)
    db.engine.dispose()
    try:
        restore_database(url, file)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {file} into {url.render_as_string()}.")


@pos_cli.command("reconcile-stripe")
@click.option("--since", default=None, help="Only sales created on or after this ISO date.")
def reconcile_stripe_command(since: str | None) -> None:
    """Settle card sales whose payment events were missed, by asking the gateway."""
    from datetime import UTC, datetime

    from pos.services.sales import reconcile

    start = None
    if since:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise click.BadParameter("use an ISO date, e.g. 2026-11-01",
                                     param_hint="--since") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
    counts = reconcile(start)
    click.echo(" ".join(f"{key}={value}" for key, value in counts.items()))


@pos_cli.command("sweep-checkouts")
def sweep_checkouts_command() -> None:
    """Expire card checkouts past their expiry whose event never came (releasing stock)."""
    from pos.services.sales import sweep_checkouts

    counts = sweep_checkouts()
    click.echo(" ".join(f"{key}={value}" for key, value in counts.items()))


@pos_cli.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit (for tests and cron).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between rounds (default 5); on PostgreSQL a commit that queues "
                   "a message wakes it sooner.")
def worker_command(once: bool, interval: float | None) -> None:
    """Deliver the outbox, raise expiring-lot alerts, queue the digests, sweep abandoned
    card checkouts and purge old Idempotency-Key records, until SIGTERM or SIGINT."""
    from pos.worker import DEFAULT_INTERVAL_SECONDS, Worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = Worker(app, interval=interval or DEFAULT_INTERVAL_SECONDS)
    mode = "one round" if once else f"every {worker.interval:g} s" + (
        ", woken by NOTIFY" if worker.listens else "")
    click.echo(f"pos worker: started ({mode})")

    def report(counts: dict[str, int]) -> None:
        if once:
            click.echo(" ".join(f"{key}={value}" for key, value in counts.items()))

    worker.run(once=once, on_round=report)
    click.echo("pos worker: stopped")


@pos_cli.command("deliver-alerts")
@click.option("--limit", default=200, show_default=True, help="At most this many messages.")
def deliver_alerts_command(limit: int) -> None:
    """Raise expiring-lot alerts, queue the daily digest, deliver what the outbox holds."""
    from pos import app_settings
    from pos.notify.outbox import deliver_pending
    from pos.services.alerts import check_expiring_lots, queue_daily_digest

    settings = app_settings(current_app)
    expiring = check_expiring_lots(settings)
    digest = queue_daily_digest(settings)
    from pos.services.reports import queue_monthly_report

    if queue_monthly_report(settings) is not None:
        click.echo("monthly_report_queued=yes")
    report = deliver_pending(limit=limit, settings=settings)
    click.echo(f"expiring_lot_alerts={expiring} digest_queued={'yes' if digest else 'no'} "
               f"delivered={report.delivered} failed={report.failed} "
               f"held_without_mail_server={report.held_without_mail_server}")
    for error in report.errors:
        click.echo(f"  {error}", err=True)


@pos_cli.command("report")
@click.option("--month", "month_text", required=True, help="The clinic month, YYYY-MM.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, writable=True),
              default=None, help="Also write the month's CSV to this file.")
def report_command(month_text: str, csv_file: str | None) -> None:
    """Print the monthly report's summary; --csv FILE writes every figure as CSV."""
    from pos import app_settings
    from pos.domain.reporting import parse_month
    from pos.extensions import db
    from pos.services.reports import monthly_report, report_csv, report_summary

    try:
        month = parse_month(month_text)
    except PosError as error:
        fail(error)
    report = monthly_report(db.session, month.year, month.month)
    click.echo(report_summary(report, app_settings(current_app).currency), nl=False)
    if csv_file:
        Path(csv_file).write_text(report_csv(report), newline="")
        click.echo(f"CSV written to {csv_file}")
