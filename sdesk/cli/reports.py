"""`sdesk report`: SLA compliance, time and billing, customer satisfaction.

Each report's module is imported only when it runs, to keep every other
command's start-up short.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, overload

import click

from sdesk.cli import context
from sdesk.cli.options import customer_filter, desk_options, format_option, parse_day
from sdesk.cli.pager import paged
from sdesk.errors import InvalidData
from sdesk.output import render_rows

if TYPE_CHECKING:
    pass


@click.group()
def report() -> None:
    """Reports over a period: SLA compliance, time and billing, satisfaction."""


@report.command("sla")
@click.option("--from", "start", required=True, metavar="DATE", help="First day (YYYY-MM-DD) of tickets opened.")
@click.option("--to", "end", required=True, metavar="DATE", help="Last day (YYYY-MM-DD), included.")
@format_option
@desk_options()
@paged
def report_sla(start: str, end: str, fmt: str) -> None:
    """Response and resolution compliance per priority and per customer.

    Of the tickets opened from --from to --to: how many, the share of decided
    clocks (stopped, or already overdue) that met their target, and the
    median and 90th percentile of the business time they took (hours:minutes;
    decimal hours in JSON and CSV).
    """
    from sdesk.clocks import slareport  # statistics is only needed here

    first, last = _period(start, end)
    desk = context.desk()
    rows = slareport.report(context.tickets(desk), desk.rules, context.now(desk), first, last)
    click.echo(render_rows(rows, slareport.COLUMNS, fmt, slareport.FIELDS), nl=False)
    if fmt == "table":
        done = "Share of decided clocks met; median and P90 of the business time taken (hours:minutes)."
        click.echo(done if rows else f"No tickets opened from {first} to {last}.", err=True)


@report.command("time")
@click.option("--month", metavar="YYYY-MM", help="The month of the work (default: this month).")
@customer_filter
@click.option("--by-ticket", is_flag=True, help="Also a line per ticket, above its customer's total.")
@format_option
@desk_options()
@paged
def report_time(month: str | None, customers: tuple[str, ...], by_ticket: bool, fmt: str) -> None:
    """Registered time per customer: covered, included hours used, surplus, billable.

    Covered work is free under the plan and maintenance; for customers billed
    sla-hours it first uses the plan's included hours for the month, and the
    rest is surplus. To invoice = surplus + billable. CSV and JSON give exact
    minutes, ready for invoicing.
    """
    from sdesk.formats.reader import unknown
    from sdesk.service import timelog

    desk = context.desk()
    rules = desk.rules
    for customer in customers:
        if customer not in rules.customers:
            raise InvalidData(unknown("customer", customer, list(rules.customers)))
    if month is None:
        month = f"{context.now(desk):%Y-%m}"
    elif not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise click.BadParameter(f"'{month}' is not a month such as 2026-11", param_hint="--month")
    tickets = [ticket for ticket in context.tickets(desk) if not customers or ticket.customer in customers]
    months = timelog.month_report(timelog.entries(tickets), rules, month)
    rows = timelog.rows(months, month, by_ticket)
    columns = timelog.TICKET_COLUMNS if by_ticket else timelog.CUSTOMER_COLUMNS
    click.echo(render_rows(rows, columns, fmt, timelog.FIELDS), nl=False)
    if fmt == "table":
        click.echo(
            f"Time registered in {month} (hours:minutes)." if rows else f"No time registered in {month}.", err=True
        )


@report.command("csat")
@click.option("--from", "start", metavar="DATE", help="First day (YYYY-MM-DD) of tickets closed (default: all).")
@click.option("--to", "end", metavar="DATE", help="Last day (YYYY-MM-DD), included.")
@format_option
@desk_options()
@paged
def report_csat(start: str | None, end: str | None, fmt: str) -> None:
    """Satisfaction: surveys sent, answers, response rate and scores per customer, team and agent.

    A survey goes out when an agent closes a ticket; satisfied means a score of 4 or 5.
    """
    from sdesk.service import satisfaction

    first, last = _period(start, end)
    desk = context.desk()
    rows = satisfaction.report(context.tickets(desk), desk.rules, first, last)
    click.echo(render_rows(rows, satisfaction.COLUMNS, fmt, satisfaction.FIELDS), nl=False)
    if fmt == "table" and not rows:
        click.echo("No surveys sent in that period.", err=True)


@overload
def _period(start: str, end: str) -> tuple[date, date]: ...
@overload
def _period(start: str | None, end: str | None) -> tuple[date | None, date | None]: ...
def _period(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    """--from and --to as days (either may be open), the second not before the first."""
    first = parse_day(start, "--from") if start else None
    last = parse_day(end, "--to") if end else None
    if first and last and last < first:
        raise click.BadParameter(f"{end} is before --from {start}", param_hint="--to")
    return first, last
