"""`sdesk notify list|send`: the outbox, and delivering it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from sdesk.cli import context
from sdesk.cli.options import desk_options, format_option
from sdesk.errors import SdeskError
from sdesk.output import Column, plural, render_rows

if TYPE_CHECKING:
    from sdesk.mail.outbox import Run
    from sdesk.storage.store import Desk

PASSWORD_VARIABLE = "SDESK_SMTP_PASSWORD"
SMTP_TIMEOUT_SECONDS = 30  # a slow but healthy server answers well within this
LIST_COLUMNS = (
    Column("state", "State"),
    Column("kind", "Mail"),
    Column("to_first", "To"),
    Column("subject", "Subject", fill=True),
)
LIST_FIELDS = ("state", "name", "ticket", "kind", "to", "subject", "last")


@click.group()
def notify() -> None:
    """Mail to customers: what waits in the outbox, and delivering it."""


@notify.command("list")
@click.option("--pending", "only_pending", is_flag=True, help="Only mail not sent yet (interrupted and parked too).")
@format_option
@desk_options()
def list_mail(only_pending: bool, fmt: str) -> None:
    """The outbox: pending, interrupted, parked and sent mail, oldest first."""
    from sdesk.mail.outbox import Outbox

    desk = context.desk()
    _settle(desk)
    items = Outbox(desk.root).items()
    if only_pending:
        items = [item for item in items if item.state != "sent"]
    rows = [item.row() for item in items]
    for row in rows:  # the table names the requester; JSON and CSV list every recipient
        first, *others = row["to"].split(", ")
        row["to_first"] = f"{first} +{len(others)}" if others else first
    click.echo(render_rows(rows, LIST_COLUMNS, fmt, LIST_FIELDS), nl=False)
    if fmt == "table":
        waiting = sum(item.state == "pending" for item in items)
        parked = [item for item in items if item.state == "parked"]
        for item in items:  # the table has no room for why; these need an agent
            if item.state == "parked" or not item.sendable:
                click.echo(f"{item.name}: {item.last}", err=True)
        again = f", {len(parked)} parked (notify send --retry-parked tries again once fixed)" if parked else ""
        click.echo(
            f"{plural(len(items), 'mail')}, {waiting} pending{again}." if items else "The outbox is empty.", err=True
        )


@notify.command("send")
@click.option("--smtp", "server", required=True, metavar="HOST:PORT", help="The mail server to hand the mail to.")
@click.option(
    "--starttls",
    is_flag=True,
    help="Encrypt with STARTTLS before anything else (port 587); the certificate is verified.",
)
@click.option("--tls", is_flag=True, help="Speak TLS from the start (SMTPS, port 465); the certificate is verified.")
@click.option(
    "--user",
    metavar="NAME",
    help=f"Log in as NAME; the password comes from ${PASSWORD_VARIABLE}. Needs --starttls or --tls.",
)
@click.option(
    "--insecure-login",
    is_flag=True,
    help="Allow --user without TLS: anyone on the network path can read the password (and the mail). "
    "Only for a server on this machine.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=SMTP_TIMEOUT_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for the server at each step.",
)
@click.option(
    "--resend-interrupted",
    is_flag=True,
    help="Also send mail an interrupted or unconfirmed delivery left behind (it may have arrived already).",
)
@click.option("--retry-parked", is_flag=True, help="Also try parked mail again (fix what parked it first).")
@desk_options()
def send(
    server: str,
    starttls: bool,
    tls: bool,
    user: str | None,
    insecure_login: bool,
    timeout: float,
    resend_interrupted: bool,
    retry_parked: bool,
) -> None:
    """Deliver the outbox; each mail is sent once, a failed one is kept for the next run.

    A mail the server refuses for good (5xx), or a file in the outbox sdesk cannot
    send, is parked with the reason (see notify list). Exits 1 when a mail could
    not be delivered.
    """
    host, _, port_text = server.rpartition(":")
    if not host or not port_text.isdigit():
        raise click.BadParameter(f"'{server}' is not HOST:PORT, e.g. mail.example.com:587", param_hint="--smtp")
    if starttls and tls:
        raise click.UsageError("--starttls and --tls exclude each other: STARTTLS for port 587, --tls for port 465")
    password = os.environ.get(PASSWORD_VARIABLE)
    if user is not None and not password:
        raise SdeskError(f"--user {user} needs the password in ${PASSWORD_VARIABLE}")
    from sdesk.mail.outbox import PLAIN, STARTTLS, TLS, Outbox, Smtp

    security = TLS if tls else STARTTLS if starttls else PLAIN
    connection = Smtp(host, int(port_text), security, user, password, timeout, insecure_login)
    desk = context.desk()
    _settle(desk)
    _report(Outbox(desk.root).send(connection, context.now(desk), resend_interrupted, retry_parked))


def _report(run: Run) -> None:
    """What a run did, a line per mail; exit 1 when a mail was not delivered or not confirmed."""
    for name in run.sent:
        click.echo(f"sent {name}")
    for name, reason in run.failed:
        click.echo(f"kept {name}: {reason}")
    for name, reason in run.parked:
        click.echo(f"parked {name}: {reason}")
    for name, reasons in run.refused:
        click.echo(f"Warning: {name} was sent, but the server refused {reasons}", err=True)
    for name, reason in run.unconfirmed:
        click.echo(
            f"Warning: {name}: {reason}; it may have arrived, so it stays in sending/ "
            "(--resend-interrupted sends it again)",
            err=True,
        )
    for name in run.interrupted:
        click.echo(
            f"Warning: {name} was being sent when a run was interrupted; it may have arrived "
            "(--resend-interrupted sends it again)",
            err=True,
        )
    if run.still_parked:
        click.echo(
            f"Warning: {plural(len(run.still_parked), 'parked mail')} not tried: sdesk notify list says why; "
            "--retry-parked tries again once the cause is fixed",
            err=True,
        )
    summary = f"Sent {plural(len(run.sent), 'mail')}; {len(run.failed)} kept for the next run"
    summary += f"; {len(run.parked)} parked" if run.parked else ""
    summary += f"; {len(run.unconfirmed)} unconfirmed" if run.unconfirmed else ""
    click.echo(f"{summary}.", err=True)
    problems = []
    if run.failed or run.parked:
        problems.append(f"{plural(len(run.failed) + len(run.parked), 'mail')} not delivered")
    if run.unconfirmed:
        problems.append(f"{plural(len(run.unconfirmed), 'mail')} not confirmed by the server")
    if problems:
        raise SdeskError(f"{', '.join(problems)} (kept in the outbox)")


def _settle(desk: Desk) -> None:
    """Held mail a killed command left is released or dropped first; say which."""
    from sdesk.mail.holding import settle

    for line in settle(desk, context.now(desk)):
        click.echo(line, err=True)
