"""`sdesk call`: a phone call on the record, to the customer or from them."""

from __future__ import annotations

import click

from sdesk.cli import completers, context
from sdesk.cli.options import desk_options, format_option


@click.command("call")
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.any_ticket)
@click.option("--note", required=True, help="What was said.")
@click.option("--to", "party", metavar="WHO", help="Who was phoned, or who phoned (default: the ticket's contact).")
@click.option("--from-customer", "incoming", is_flag=True, help="The customer phoned the desk (default: we phoned).")
@format_option
@desk_options()
def call(ticket_ref: str, note: str, party: str | None, incoming: bool, fmt: str) -> None:
    """Record a phone call on a ticket: a P1 is phoned as well (seed 000), and the queue says so until then."""
    from sdesk.actions import workflow
    from sdesk.cli.tickets import change

    desk = context.desk()
    change(
        desk, ticket_ref, fmt, lambda ticket, agent, moment: workflow.call(ticket, agent, moment, note, party, incoming)
    )


@click.command("callback")
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.open_ticket)
@click.option("--phone", metavar="NUMBER", help="The number to call (default: the ticket's contact).")
@click.option("--note", help="What the customer said when asking.")
@format_option
@desk_options()
def callback(ticket_ref: str, phone: str | None, note: str | None, fmt: str) -> None:
    """The customer asks to be called back (seed 002): its own clock runs until a call to them is recorded."""
    from sdesk.actions import workflow
    from sdesk.cli.tickets import change
    from sdesk.clocks import sla, slaviews

    desk = context.desk()
    ticket = change(
        desk,
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.callback(ticket, desk.rules, agent, moment, note, phone),
    )
    clocks = sla.clocks(ticket, desk.rules, context.now(desk))
    clock = next((clock for clock in clocks if clock.name == "callback"), None)
    if fmt == "table" and clock is not None:  # None: the ticket's recorded target does not read (sdesk check)
        click.echo(f"Call back by {slaviews.when(clock, clock.due)} (then: sdesk call {ticket.id} --note …)")
