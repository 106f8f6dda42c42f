"""Announcements of maintenance and outages, and tickets linked to an outage."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from sdesk.cli import completers, context
from sdesk.cli.options import desk_options, format_option
from sdesk.cli.pager import paged
from sdesk.errors import InvalidData, Refused
from sdesk.output import Column, plural, render_rows
from sdesk.words import ALL_CUSTOMERS, ANNOUNCEMENT_KINDS

if TYPE_CHECKING:
    from sdesk.policy.rules import Rules
    from sdesk.service.announcements import Announcement
    from sdesk.storage.store import Desk

FIELDS = (
    "id",
    "kind",
    "state",
    "title",
    "start",
    "end",
    "customers",
    "service",
    "linked_open",
    "resolved",
    "resolution",
)
COLUMNS = (
    Column("id", "ID"),
    Column("kind", "Kind"),
    Column("state", "State"),
    Column("when", "When"),
    Column("for", "For"),
    Column("title", "Title", fill=True),
)


@click.group()
def announce() -> None:
    """Announce planned maintenance and outages; resolve an outage and its tickets."""


@announce.command("new")
@click.option("--kind", required=True, type=click.Choice(ANNOUNCEMENT_KINDS), help="Planned maintenance or an outage.")
@click.option("--title", required=True, help="What customers read, e.g. 'Care Dossier unavailable'.")
@click.option(
    "--start", required=True, metavar="WHEN", help="Start, e.g. 2026-11-28T22:00 (desk time unless an offset)."
)
@click.option("--end", metavar="WHEN", help="End (expected end for an outage); required for maintenance.")
@click.option(
    "--customers",
    default=ALL_CUSTOMERS,
    show_default=True,
    metavar="all|KEY,KEY",
    shell_complete=completers.customer_list,
    help="Who it concerns: all (of the service, when given) or customer keys.",
)
@click.option(
    "--service",
    metavar="PRODUCT",
    shell_complete=completers.products,
    help="The product concerned (a product key from rules.yaml).",
)
@click.option(
    "--confirm",
    is_flag=True,
    help="Maintenance in customers' business hours is meant (asked at a terminal, refused in scripts without it).",
)
@format_option
@desk_options()
def new(
    kind: str, title: str, start: str, end: str | None, customers: str, service: str | None, confirm: bool, fmt: str
) -> None:
    """Announce maintenance or an outage.

    Refused when its window already ended or the same announcement is there; maintenance in customers'
    business hours (seed 000: maintenance happens in evenings and weekends) needs --confirm, or a yes at a
    terminal.
    """
    from sdesk.formats import reader
    from sdesk.service import announcements
    from sdesk.service.announcements import Announcement

    desk = context.desk()
    rules = desk.rules
    starts, ends = _moment(start, "--start", rules), _moment(end, "--end", rules) if end else None
    if kind == "maintenance" and ends is None:
        raise click.UsageError("maintenance needs an --end")
    if ends is not None and ends <= starts:
        raise click.BadParameter(f"{end} is not after --start {start}", param_hint="--end")
    if service is not None and service not in rules.products:
        raise InvalidData(reader.unknown("service", service, list(rules.products)))
    named = _customers(customers, rules)
    if not title.strip():
        raise click.BadParameter("an announcement needs a title", param_hint="--title")
    agent, now = context.actor(desk), context.now(desk)

    def draft() -> Announcement:
        return Announcement(
            id=announcements.new_id(now),
            kind=kind,
            title=" ".join(title.split()),
            start=starts,
            end=ends,
            customers=named,
            service=service,
            created=now,
            by=agent,
        )

    refused = announcements.refusal(draft(), desk.announcements(), now)
    if refused is not None:
        raise Refused(refused)
    overlaps = announcements.business_hours_overlap(draft(), rules)
    if overlaps and not confirm:
        _confirm_business_hours(overlaps)
    announcement = desk.add_announcement(draft)
    concerned = announcements.concerned_customers(announcement, rules)
    if fmt == "table":
        click.echo(f"Announced {announcement.id}: {kind} {_when(announcement, rules)}: {announcement.title}")
        click.echo(f"  for {', '.join(concerned) or 'no customer'}", err=True)
    else:
        click.echo(render_rows([_row(announcement, rules, 0, now)], COLUMNS, fmt, FIELDS), nl=False)
    if overlaps:
        click.echo(f"Warning: maintenance during business hours of {'; '.join(overlaps)}", err=True)


def _confirm_business_hours(overlaps: list[str]) -> None:
    """Asks at a terminal; a script must say --confirm."""
    during = f"maintenance during business hours of {'; '.join(overlaps)}"
    if not context.interactive():
        raise Refused(f"{during}: plan it for evenings and weekends, or add --confirm")
    if not click.confirm(f"{during}. Announce it anyway?", err=True):
        raise Refused("not announced")


@announce.command("list")
@click.option("--active", is_flag=True, help="Only what is under way now.")
@click.option("--all", "everything", is_flag=True, help="Also resolved and past announcements.")
@click.option(
    "--customer",
    metavar="KEY",
    shell_complete=completers.customers,
    help="Only announcements that concern this customer.",
)
@format_option
@desk_options()
@paged
def list_announcements(active: bool, everything: bool, customer: str | None, fmt: str) -> None:
    """Announcements: current and upcoming by default, oldest first."""
    from sdesk.formats import reader
    from sdesk.service import announcements

    desk = context.desk()
    rules, now = desk.rules, context.now(desk)
    if customer is not None and customer not in rules.customers:
        raise InvalidData(reader.unknown("customer", customer, list(rules.customers)))
    linked = _open_linked(desk, rules)
    states = ("active",) if active else announcements.STATES if everything else announcements.CURRENT_STATES
    shown = [
        announcement
        for announcement in desk.announcements()
        if announcement.state(now) in states and (customer is None or announcement.concerns(customer, rules))
    ]
    rows = [_row(announcement, rules, len(linked.get(announcement.id, [])), now) for announcement in shown]
    click.echo(render_rows(rows, COLUMNS, fmt, FIELDS), nl=False)
    if fmt == "table" and not rows:
        click.echo("No announcements.", err=True)


@announce.command("resolve")
@click.argument("ref", metavar="ID", shell_complete=completers.announcements)
@click.option("--note", required=True, help="What was wrong and what was done: the resolution of every linked ticket.")
@format_option
@desk_options()
def resolve(ref: str, note: str, fmt: str) -> None:
    """End an outage (or maintenance): close every open ticket linked to it, mailing each requester.

    Safe to run again after an interruption: it closes what is still open.
    """
    from sdesk.actions import record
    from sdesk.cli import views
    from sdesk.cli.tickets import report_change, report_mail
    from sdesk.tickets import query

    desk = context.desk()
    rules = desk.rules
    announcement = desk.find_announcement(ref)
    text = note.strip()
    if not text:
        raise click.BadParameter("say what was done", param_hint="--note")
    tickets = _open_linked(desk, rules).get(announcement.id, [])
    if announcement.resolved is not None and not tickets:
        raise Refused(f"{announcement.id} was already resolved on {announcement.resolved:%Y-%m-%d %H:%M}")
    agent, now = context.actor(desk), context.now(desk)
    closed = []
    for recorded in record.resolve_outage(desk, announcement, text, tickets, agent, now):
        if fmt == "table":
            report_change(recorded, fmt)
        else:  # one listing of the closed tickets, as `sdesk list` prints them
            report_mail(recorded)
            closed.append(query.summary_fields(recorded.ticket))
    if fmt != "table":
        click.echo(
            render_rows(closed, [views.LIST_COLUMNS[name] for name in views.LIST_DEFAULT], fmt, query.SUMMARY_FIELDS),
            nl=False,
        )
    click.echo(
        f"Resolved {announcement.id}: {announcement.title}; closed {plural(len(tickets), 'linked ticket')}.",
        err=fmt != "table",  # JSON and CSV output stays parseable
    )


@click.command()
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.open_ticket)
@click.option(
    "--outage",
    "outage_ref",
    required=True,
    metavar="ID",
    shell_complete=completers.outages,
    help="The outage announcement it is part of.",
)
@format_option
@desk_options()
def link(ticket_ref: str, outage_ref: str, fmt: str) -> None:
    """Link a ticket to an outage: resolving the outage closes the ticket."""
    from sdesk.actions import workflow
    from sdesk.cli.tickets import change

    desk = context.desk()
    announcement = desk.find_announcement(outage_ref)
    change(
        desk,
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.link_outage(ticket, desk.rules, announcement, agent, moment),
    )


def _open_linked(desk: Desk, rules: Rules) -> dict[str, list[str]]:
    """Open tickets per outage they are linked to."""
    linked: dict[str, list[str]] = {}
    for ticket in context.tickets(desk, open_only=True):
        if ticket.outage:
            linked.setdefault(ticket.outage, []).append(ticket.id)
    return linked


def _row(announcement: Announcement, rules: Rules, linked_open: int, now: datetime) -> dict[str, object]:
    return {
        "id": announcement.id,
        "kind": announcement.kind,
        "state": announcement.state(now),
        "title": announcement.title,
        "start": announcement.start,
        "end": announcement.end,
        "customers": list(announcement.customers),  # none named: every customer (of the service)
        "service": announcement.service,
        "linked_open": linked_open,
        "resolved": announcement.resolved,
        "resolution": announcement.resolution,
        "when": _when(announcement, rules),
        "for": ",".join(announcement.customers) or (announcement.service or ALL_CUSTOMERS),
    }


def _when(announcement: Announcement, rules: Rules) -> str:
    start = announcement.start.astimezone(rules.timezone)
    if announcement.end is None:
        return f"{start:%a %d %b %H:%M}-?"
    end = announcement.end.astimezone(rules.timezone)
    return (
        f"{start:%a %d %b %H:%M}-{end:%H:%M}"
        if end.date() == start.date()
        else f"{start:%d %b %H:%M}-{end:%d %b %H:%M}"
    )


def _moment(text: str, option: str, rules: Rules) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a moment such as 2026-11-28T22:00", param_hint=option) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=rules.timezone)


def _customers(text: str, rules: Rules) -> tuple[str, ...]:
    from sdesk.formats import reader

    if text.strip() == ALL_CUSTOMERS:
        return ()
    keys = tuple(key.strip() for key in text.split(",") if key.strip())
    if not keys:
        raise click.BadParameter("name customers (a,b) or all", param_hint="--customers")
    for key in keys:
        if key not in rules.customers:
            raise InvalidData(reader.unknown("customer", key, list(rules.customers)))
    return keys
