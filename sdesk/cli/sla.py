"""Working against the clock: the queue, due and breached clocks, the sweep, the SLA report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from sdesk.cli import completers, context
from sdesk.cli.options import assignee_filter, desk_options, format_option, team_filter
from sdesk.cli.pager import paged
from sdesk.errors import InvalidData, Refused, SdeskError
from sdesk.output import Column, plural, render_rows, to_json

if TYPE_CHECKING:
    from sdesk.policy.rules import Rules
    from sdesk.storage.store import Desk
    from sdesk.tickets.model import Event


@click.command()
@team_filter
@assignee_filter
@click.option("--paused", is_flag=True, help="Also tickets whose clocks are paused (waiting on the customer, on hold).")
@click.option("--explain", is_flag=True, help="After the table, say why each ticket is where it is.")
@format_option
@desk_options()
@paged
def queue(teams: tuple[str, ...], assignees: tuple[str, ...], paused: bool, explain: bool, fmt: str) -> None:
    """Open work in the order to take it, with the time left on each clock.

    Priority first; within a priority the tickets rules.yaml's queue.ahead
    rules match (business-critical disruptions, managed-services customers);
    then first come, first served.
    """
    from sdesk.clocks import slaviews, workqueue

    desk = context.desk()
    rules = desk.rules
    _check_teams(rules, teams)
    wanted = {context.wanted_assignee(desk, value) for value in assignees}
    clocked = (
        (ticket, clocks)
        for ticket, clocks in context.open_tickets_with_clocks(desk)
        if (not teams or ticket.team in teams) and (not assignees or ticket.assignee in wanted)
    )
    places = workqueue.queue(clocked, rules, paused=paused)
    timer = context.timer(desk)
    timed = timer.ticket if timer else None
    rows = [
        slaviews.queue_row(position, place, place.ticket.id == timed) for position, place in enumerate(places, start=1)
    ]
    click.echo(render_rows(rows, slaviews.QUEUE_COLUMNS, fmt, slaviews.QUEUE_FIELDS), nl=False)
    if fmt == "table" and explain and rows:
        click.echo("\nWhy this order:")
        for row in rows:
            click.echo(f"{row['position']:>3}. {row['id']}  {row['why']}")
    if fmt == "table":
        click.echo(plural(len(rows), "ticket") + " in the queue" if rows else "The queue is empty.", err=True)


@click.command("sla")
@click.option(
    "--within", metavar="DURATION", help="Also clocks due within this much open time (e.g. 2h, 30m, 1u30, 1,5 uur)."
)
@click.option(
    "--explain",
    "explain_ref",
    metavar="ID",
    shell_complete=completers.any_ticket,
    help="Print the timeline one ticket's due dates come from.",
)
@team_filter
@click.option(
    "--open-now",
    is_flag=True,
    help="Only clocks whose calendar is open now: at night, the 24/7 contracts' (for a pager).",
)
@format_option
@desk_options()
@paged
def sla_command(within: str | None, explain_ref: str | None, teams: tuple[str, ...], open_now: bool, fmt: str) -> None:
    """Clocks that are overdue, or due within --within; exit code 1 when any is listed.

    Meant for scripts and cron: `sdesk sla --within 2h || notify-the-team`.
    Only running clocks of open tickets are listed; paused clocks are listed
    when they are already overdue. A night-time pager adds --open-now, so it
    wakes the on-call agent only for clocks that run at night (seed 001: only
    a 24/7 contract gets support outside office hours).
    """
    from datetime import timedelta

    from sdesk.calendar import businesstime, durations
    from sdesk.clocks import sla, slaviews

    if explain_ref is not None and fmt == "csv":
        raise click.UsageError("--explain prints as a table or as JSON")
    desk = context.desk()
    if explain_ref is not None:
        _explain(desk, explain_ref, fmt)
        return
    try:
        window = timedelta(minutes=durations.parse_minutes(within)) if within else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--within") from None
    _check_teams(desk.rules, teams)
    rows = []
    for ticket, clocks in context.open_tickets_with_clocks(desk):
        if teams and ticket.team not in teams:
            continue
        for clock in clocks:
            if open_now and not businesstime.is_open(clock.calendar, clock.now):
                continue
            if sla.needs_attention(clock, window):
                rows.append(slaviews.sla_row(clock, ticket))
    rows.sort(key=lambda row: (row["due"], row["id"]))
    click.echo(render_rows(rows, slaviews.SLA_COLUMNS, fmt, slaviews.SLA_FIELDS), nl=False)
    if rows:
        late = sum(1 for row in rows if row["state"] == "overdue")
        soon = f", {plural(len(rows) - late, 'clock')} due within {within}" if within else ""
        raise Refused(f"{plural(late, 'clock')} overdue{soon}")
    if fmt == "table":
        running = " whose calendar is open now" if open_now else ""
        click.echo(f"No clock{running} overdue{' or due within ' + within if within else ''}.", err=True)


def _explain(desk: Desk, ticket_ref: str, fmt: str) -> None:
    from sdesk.clocks import sla, slaviews

    ticket = desk.read(desk.resolve(ticket_ref))
    rules = desk.rules
    agreed = sla.terms(ticket, rules)
    if agreed is None:
        raise SdeskError(
            f"{ticket.id} has no SLA clocks: plan of {ticket.customer} has no targets for {ticket.priority}"
        )
    clocks = sla.clocks(ticket, rules, context.now(desk))
    if fmt == "json":
        data = {
            "id": ticket.id,
            "title": ticket.title,
            "plan": agreed.plan,
            "priority": ticket.priority,
            "calendar": agreed.calendar,
            "targets_recorded": ticket.sla_plan is not None,
            "clocks": [{**slaviews.clock_data(clock), "timeline": sla.timeline(clock)} for clock in clocks],
        }
        click.echo(to_json(data), nl=False)
        return
    recorded = "recorded on the ticket" if ticket.sla_plan else "from today's rules.yaml (none recorded on the ticket)"
    click.echo(f"{ticket.id}  {ticket.title}")
    click.echo(f"Plan {agreed.plan}, priority {ticket.priority}, calendar {agreed.calendar}; targets {recorded}.")
    for clock in clocks:
        click.echo(f"\n{clock.name.capitalize()}: {clock.target}, {slaviews.clock_words(clock)}")
        for line in sla.timeline(clock):
            click.echo(f"  {line}")


@click.command("sweep")
@click.option("--dry-run", is_flag=True, help="Say what the sweep would do; change nothing.")
@format_option
@desk_options()
def sweep_command(dry_run: bool, fmt: str) -> None:
    """Record SLA breaches, remind customers who do not answer, close what they abandoned.

    Safe to run every minute or once a day (cron, a CI schedule): what was
    done is in the tickets' history, so nothing is done twice.
    """
    from sdesk.actions import record
    from sdesk.cli.tickets import report_mail

    desk = context.desk()
    now = context.now(desk)
    rows = []
    for recorded in record.sweep_tickets(desk, context.open_tickets_with_clocks(desk), now, dry_run):
        report_mail(recorded)
        row = _swept(recorded.ticket.id, recorded.event, not dry_run)
        if fmt == "table":
            said = f"{row['event']}: {row['text'] or ''}".rstrip()
            click.echo(f"{row['id']}: {'' if row['recorded'] else 'would record '}{said}")
        rows.append(row)
    if fmt != "table":
        click.echo(render_rows(rows, SWEEP_COLUMNS, fmt), nl=False)
    verb = "would record" if dry_run else "recorded"
    click.echo(f"Sweep {verb} {plural(len(rows), 'event')}." if rows else "Sweep: nothing to do.", err=True)


SWEEP_COLUMNS = tuple(Column(key, key) for key in ("id", "event", "clock", "status", "text", "recorded"))


def _swept(ticket_id: str, event: Event, recorded: bool) -> dict[str, Any]:
    """What the sweep did to a ticket (or would do: ``recorded`` false): the event, the status it moved
    to, its text (an auto-close's resolution)."""
    moved = {change.field: change.new for change in event.changes}
    return {
        "id": ticket_id,
        "event": event.kind,
        "clock": event.clock,
        "status": moved.get("status"),
        "text": event.text or moved.get("resolution"),
        "recorded": recorded,
    }


def _check_teams(rules: Rules, teams: tuple[str, ...]) -> None:
    from sdesk.formats import reader

    for team in teams:
        if team not in rules.teams:
            raise InvalidData(reader.unknown("team", team, list(rules.teams)))
