"""Mail: composing it with every ticket change, and `sdesk notify list|send`."""

from __future__ import annotations

import os
from datetime import datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

import click

from sdesk.cli import context
from sdesk.cli.options import desk_options, format_option
from sdesk.errors import SdeskError
from sdesk.output import Column, plural, render_rows

if TYPE_CHECKING:
    from sdesk import notifications
    from sdesk.model import Event, Ticket
    from sdesk.store import Desk

PASSWORD_VARIABLE = "SDESK_SMTP_PASSWORD"
LIST_COLUMNS = (
    Column("state", "State"),
    Column("kind", "Mail"),
    Column("to_first", "To"),
    Column("subject", "Subject", fill=True),
)
LIST_FIELDS = ("state", "name", "ticket", "kind", "to", "subject", "last")


if TYPE_CHECKING:
    Composed = list[tuple[notifications.Letter, EmailMessage]]


def compose(desk: Desk, ticket: Ticket, event: Event, now: datetime) -> Composed:
    """The mails an event sends (``ticket`` as changed by it), rendered before the change is saved.

    A broken template raises, so the change is not saved either.
    """
    from sdesk import notifications

    rules = desk.rules
    letters = notifications.letters(ticket, event, rules, now)
    if not letters:
        if notifications.kinds_for(ticket, event, rules):
            click.echo(
                f"Warning: no mail for {ticket.id}: rules.yaml gives team {ticket.team} no email and no desk.email",
                err=True,
            )
        return []
    from sdesk import mail  # Jinja2 is loaded only when there is mail to write

    templates = mail.Templates(desk.root, rules.timezone)
    return [(letter, mail.message(letter, templates)) for letter in letters]


def queue(desk: Desk, composed: Composed) -> None:
    """Put composed mails in the outbox and say so."""
    if not composed:
        return
    from sdesk.outbox import Outbox  # smtplib and ssl are slow to import: only when mailing

    outbox = Outbox(desk.root)
    for letter, message in composed:
        outbox.add(message, letter.at, letter.ticket, letter.event_number, letter.kind)
        recipients = ", ".join(address.addr_spec for address in (*letter.to, *letter.cc))
        click.echo(f"Mail queued: {letter.kind} to {recipients} (sdesk notify send delivers it)", err=True)


@click.group()
def notify() -> None:
    """Mail to customers: what waits in the outbox, and delivering it."""


@notify.command("list")
@click.option("--pending", "only_pending", is_flag=True, help="Only mail not sent yet (and interrupted runs).")
@format_option
@desk_options()
def list_mail(only_pending: bool, fmt: str) -> None:
    """The outbox: pending, interrupted and sent mail, oldest first."""
    from sdesk.outbox import Outbox

    items = Outbox(context.desk().root).items()
    if only_pending:
        items = [item for item in items if item.state != "sent"]
    rows = [item.row() for item in items]
    for row in rows:  # the table names the requester; JSON and CSV list every recipient
        first, *others = row["to"].split(", ")
        row["to_first"] = f"{first} +{len(others)}" if others else first
    click.echo(render_rows(rows, LIST_COLUMNS, fmt, LIST_FIELDS), nl=False)
    if fmt == "table":
        waiting = sum(item.state == "pending" for item in items)
        click.echo(f"{plural(len(items), 'mail')}, {waiting} pending." if items else "The outbox is empty.", err=True)


@notify.command("send")
@click.option("--smtp", "server", required=True, metavar="HOST:PORT", help="The mail server to hand the mail to.")
@click.option("--starttls", is_flag=True, help="Encrypt the session with STARTTLS before logging in.")
@click.option("--user", metavar="NAME", help=f"Log in as NAME; the password comes from ${PASSWORD_VARIABLE}.")
@click.option(
    "--resend-interrupted",
    is_flag=True,
    help="Also send mail an interrupted run left behind (it may have arrived already).",
)
@desk_options()
def send(server: str, starttls: bool, user: str | None, resend_interrupted: bool) -> None:
    """Deliver the outbox; each mail is sent once, a failed one is kept for the next run.

    Exits 1 when a mail could not be delivered.
    """
    host, _, port_text = server.rpartition(":")
    if not host or not port_text.isdigit():
        raise click.BadParameter(f"'{server}' is not HOST:PORT, e.g. mail.example.com:587", param_hint="--smtp")
    password = os.environ.get(PASSWORD_VARIABLE)
    if user is not None and not password:
        raise SdeskError(f"--user {user} needs the password in ${PASSWORD_VARIABLE}")
    from sdesk.outbox import Outbox, Smtp

    desk = context.desk()
    run = Outbox(desk.root).send(
        lambda: Smtp(host, int(port_text), starttls, user, password),
        context.now(desk),
        resend_interrupted=resend_interrupted,
    )
    for name in run.sent:
        click.echo(f"sent {name}")
    for name, reason in run.failed:
        click.echo(f"kept {name}: {reason}")
    for name, reasons in run.refused:
        click.echo(f"Warning: {name} was sent, but the server refused {reasons}", err=True)
    for name in run.interrupted:
        click.echo(
            f"Warning: {name} was being sent when a run was interrupted; it may have arrived "
            "(--resend-interrupted sends it again)",
            err=True,
        )
    click.echo(f"Sent {plural(len(run.sent), 'mail')}; {len(run.failed)} kept for the next run.", err=True)
    if run.failed:
        raise SdeskError(f"{plural(len(run.failed), 'mail')} not delivered (kept in the outbox)")
