"""Ticket commands: new, list, show, update, comment, close, reopen."""

from __future__ import annotations

import sys
from typing import Any

import click

from sdesk import query, schema, views, workflow
from sdesk.cli import context
from sdesk.cli.options import desk_options, field_options, field_values, format_option, repeatable_choice
from sdesk.errors import InvalidData
from sdesk.model import STATUSES, TYPES, Ticket
from sdesk.output import plural, render_rows, to_json
from sdesk.store import BrokenFile, Desk

OPEN_STATUSES = [status for status in STATUSES if status != "closed"]
EDITOR_TEMPLATE = (
    "\n# Describe the problem above: what happened, since when, for whom.\n# Lines starting with '#' are dropped.\n"
)


def interactive() -> bool:
    """Prompt only when a person is at the terminal, never in scripts or CI."""
    return sys.stdin.isatty() and sys.stdout.isatty()


@click.command("new")
@field_options
@click.option("--edit", is_flag=True, help="Write the description in $EDITOR.")
@format_option
@desk_options()
def new(fmt: str, edit: bool, **params: Any) -> None:
    """Open a ticket and print its number.

    On a terminal, missing mandatory fields are asked for.
    """
    desk = context.desk()
    rules = desk.rules
    values = field_values(params)
    if interactive():
        _prompt_missing(values, list(rules.customers))
    if edit:
        values["description"] = _edit_text(values.get("description"))
    missing = [name for name in workflow.REQUIRED_FIELDS if not values.get(name)]
    if missing:
        raise click.UsageError("missing " + ", ".join(f"--{name}" for name in missing))
    agent, moment = context.actor(desk), context.now(desk)
    if values.get("assignee"):
        values["assignee"] = _assignee(desk, values["assignee"])
    ticket = desk.add(lambda: workflow.create(rules, values, agent, moment))
    if fmt == "table":
        click.echo(f"Created {ticket.id}  {ticket.priority} {ticket.type} for {ticket.customer}: {ticket.title}")
        click.echo(f"Quote {ticket.id} in all communication about this ticket.", err=True)
    else:
        _print_ticket(ticket, fmt)


@click.command("list")
@repeatable_choice("--status", "statuses", "STATUS", STATUSES)
@repeatable_choice("--type", "types", "TYPE", TYPES)
@click.option("--priority", "priorities", multiple=True, help="Only this priority, e.g. P1 (repeatable).")
@click.option("--customer", "customers", multiple=True, help="Only this customer (repeatable).")
@click.option("--team", "teams", multiple=True, help="Only this team (repeatable).")
@click.option(
    "--assignee",
    "assignees",
    multiple=True,
    metavar="EMAIL|me|none",
    help="Only tickets assigned to this agent; 'me' for yourself, 'none' for unassigned.",
)
@click.option("--open", "scope", flag_value="open", help="Only open tickets (the default).")
@click.option("--closed", "scope", flag_value="closed", help="Only closed tickets.")
@click.option("--all", "scope", flag_value="all", help="Open and closed tickets.")
@click.option("--search", "-s", "text", metavar="TEXT", help="Only tickets whose text or comments contain TEXT.")
@click.option(
    "--sort",
    type=click.Choice(query.SORT_KEYS),
    default="created",
    show_default=True,
    help="Order: by creation, most recently changed first, or by priority.",
)
@format_option
@desk_options()
def list_tickets(
    statuses: tuple[str, ...],
    types: tuple[str, ...],
    priorities: tuple[str, ...],
    customers: tuple[str, ...],
    teams: tuple[str, ...],
    assignees: tuple[str, ...],
    scope: str | None,
    text: str | None,
    sort: str,
    fmt: str,
) -> None:
    """List tickets, open ones by default, oldest first."""
    desk = context.desk()
    rules = desk.rules
    for wanted, options, what in (
        (priorities, rules.priority_levels, "priority"),
        (customers, rules.customers, "customer"),
        (teams, rules.teams, "team"),
    ):
        for value in wanted:
            if value not in options:
                raise InvalidData(f"unknown {what} '{value}'{schema.one_of(value, list(options))}")
    selection = query.Selection(
        scope=scope or ("all" if statuses else "open"),
        statuses=statuses,
        types=types,
        priorities=priorities,
        customers=customers,
        teams=teams,
        assignees=tuple(_assignee(desk, value) for value in assignees),
        text=text,
    )
    kept = [ticket for ticket in _readable(desk) if selection.keeps(ticket)]
    rows = [views.summary(ticket) for ticket in query.ordered(kept, sort, rules.priority_levels)]
    click.echo(render_rows(rows, views.SUMMARY_COLUMNS, fmt, views.SUMMARY_FIELDS), nl=False)
    if fmt == "table":
        click.echo(plural(len(rows), "ticket") if rows else "No tickets match.", err=True)


@click.command()
@click.argument("ticket_ref", metavar="ID")
@format_option
@desk_options()
def show(ticket_ref: str, fmt: str) -> None:
    """Everything about one ticket, history included."""
    desk = context.desk()
    _print_ticket(desk.read(desk.resolve(ticket_ref)), fmt, detailed=True)


@click.command()
@click.argument("ticket_ref", metavar="ID")
@click.option(
    "--status",
    type=click.Choice(OPEN_STATUSES),
    metavar="STATUS",
    help=f"Move to this status: {', '.join(OPEN_STATUSES)} (to close: sdesk close).",
)
@field_options
@click.option("--note", help="Why: recorded with the change in the history.")
@format_option
@desk_options()
def update(ticket_ref: str, status: str | None, note: str | None, fmt: str, **params: Any) -> None:
    """Change a ticket's status or fields; each change is recorded in its history."""
    values = field_values(params)
    if status is not None:
        values = {"status": status, **values}
    if not values:
        raise click.UsageError("nothing to update: pass --status or a field option (see sdesk update --help)")
    desk = context.desk()
    if "assignee" in values:
        values["assignee"] = _assignee(desk, values["assignee"]) or ""
    _change(
        desk,
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.update(ticket, desk.rules, values, agent, moment, note),
    )


@click.command()
@click.argument("ticket_ref", metavar="ID")
@click.argument("text", required=False)
@click.option("--internal", is_flag=True, help="A desk-only note: never shown or mailed to the customer.")
@format_option
@desk_options()
def comment(ticket_ref: str, text: str | None, internal: bool, fmt: str) -> None:
    """Add a comment (public unless --internal). TEXT '-' reads standard input; none opens $EDITOR."""
    if text == "-":
        text = sys.stdin.read()
    elif text is None:
        if not interactive():
            raise click.UsageError("give the comment TEXT, or '-' to read it from standard input")
        text = _edit_text(None)
    body = text or ""
    _change(
        context.desk(),
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.comment(ticket, body, agent, moment, internal),
    )


@click.command()
@click.argument("ticket_ref", metavar="ID")
@click.option("--resolution", required=True, help="What was done to solve it (sent to the customer).")
@format_option
@desk_options()
def close(ticket_ref: str, resolution: str, fmt: str) -> None:
    """Close a ticket with its resolution."""
    _change(
        context.desk(), ticket_ref, fmt, lambda ticket, agent, moment: workflow.close(ticket, resolution, agent, moment)
    )


@click.command()
@click.argument("ticket_ref", metavar="ID")
@click.option("--reason", required=True, help="Why the ticket is opened again.")
@format_option
@desk_options()
def reopen(ticket_ref: str, reason: str, fmt: str) -> None:
    """Reopen a closed ticket; it goes back to open."""
    _change(
        context.desk(), ticket_ref, fmt, lambda ticket, agent, moment: workflow.reopen(ticket, reason, agent, moment)
    )


# --- helpers -------------------------------------------------------------------------


def _change(desk: Desk, ticket_ref: str, fmt: str, decide: Any) -> None:
    """Resolve the reference, apply one workflow step under the lock, report it."""
    ticket_id = desk.resolve(ticket_ref)
    agent, moment = context.actor(desk), context.now(desk)
    ticket, event = desk.change(ticket_id, lambda current: decide(current, agent, moment))
    if fmt == "table":
        click.echo(views.change_summary(ticket.id, event))
    else:
        _print_ticket(ticket, fmt)


def _print_ticket(ticket: Ticket, fmt: str, detailed: bool = False) -> None:
    if fmt == "json":
        click.echo(to_json(views.detail(ticket)), nl=False)
    elif fmt == "csv":
        click.echo(render_rows(views.detail_pairs(ticket), views.DETAIL_COLUMNS, "csv"), nl=False)
    elif detailed:
        click.echo(views.detail_text(ticket), nl=False)


def _readable(desk: Desk) -> list[Ticket]:
    """Every ticket that parses; each broken file is named once on stderr."""
    tickets = []
    for item in desk.scan():
        if isinstance(item, BrokenFile):
            click.echo(f"Warning: {item.error} (skipped)", err=True)
        else:
            tickets.append(item)
    return tickets


def _assignee(desk: Desk, value: str) -> str | None:
    """'me' is the acting agent; 'none' (or '') means nobody."""
    if value in ("none", ""):
        return None
    return context.actor(desk) if value == "me" else value


def _prompt_missing(values: dict[str, Any], customers: list[str]) -> None:
    if not values.get("title"):
        click.echo("One subject per ticket: open a second ticket for a second problem.", err=True)
        values["title"] = click.prompt("Title", err=True)
    if not values.get("type"):
        values["type"] = click.prompt("Type", type=click.Choice(TYPES), default="incident", err=True)
    if not values.get("customer"):
        values["customer"] = click.prompt("Customer", type=click.Choice(customers), err=True)
    if not values.get("requester"):
        values["requester"] = click.prompt("Requester email", err=True)


def _edit_text(initial: str | None) -> str | None:
    edited = click.edit((initial or "") + EDITOR_TEMPLATE)
    if edited is None:
        return initial
    kept = "\n".join(line for line in edited.splitlines() if not line.startswith("#")).strip()
    return kept or None
