"""Ticket commands: new, list, show, update, comment, priority, close, reopen."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from sdesk.cli import completers, context, is_text
from sdesk.cli.options import (
    assignee_filter,
    customer_filter,
    desk_options,
    field_options,
    field_values,
    format_option,
    team_filter,
)
from sdesk.cli.pager import paged
from sdesk.errors import InvalidData, SdeskError
from sdesk.output import PAIR_COLUMNS, as_pairs, plural, render_rows, stream_rows, table, to_json
from sdesk.words import SORT_KEYS

if TYPE_CHECKING:
    from sdesk.actions import workflow
    from sdesk.actions.owing import Owed
    from sdesk.actions.record import Recorded
    from sdesk.clocks import sla
    from sdesk.clocks.slaviews import Due
    from sdesk.policy.decisions import Match
    from sdesk.policy.rules import Customer, Rules
    from sdesk.storage.gitrepo import Commit
    from sdesk.storage.index import Index
    from sdesk.storage.store import Desk
    from sdesk.tickets.model import Event, Ticket
    from sdesk.tickets.query import Selection

COOPERATION_NEEDS = (("--their-ticket", "cooperation_ticket"), ("--their-email", "cooperation_email"))
EDITOR_TEMPLATE = (
    "\n# Describe the problem above: what happened, since when, for whom.\n# Lines starting with '#' are dropped.\n"
)


@click.command("new")
@field_options
@click.option("--override", metavar="REASON", help="Open it although it is not eligible; the reason is recorded.")
@click.option("--accept-costs", is_flag=True, help="Open it although it falls outside the contract and may cost extra.")
@click.option(
    "--dry-run", is_flag=True, help="Show what the rules decide and save nothing; exit 1 if new would refuse."
)
@click.option("--edit", is_flag=True, help="Write the description in $EDITOR.")
@click.option(
    "--cooperation",
    is_flag=True,
    help="The customer's own desk works on it too: needs --their-ticket and --their-email (seed 000).",
)
@click.option(
    "--outage",
    metavar="ID",
    shell_complete=completers.outages,
    help="Part of this outage announcement: resolving the outage closes it.",
)
@format_option
@desk_options()
def new(
    fmt: str,
    override: str | None,
    accept_costs: bool,
    dry_run: bool,
    edit: bool,
    cooperation: bool,
    outage: str | None,
    **params: Any,
) -> None:
    """Open a ticket and print its number.

    The rules in rules.yaml decide its priority and team, check that the
    requester may raise it, and flag work outside the contract. On a
    terminal, missing fields are asked for and costs are confirmed.
    """
    from sdesk.actions import record, workflow
    from sdesk.cli.policy import print_assessment

    desk = context.desk()
    rules = desk.rules
    if not dry_run:
        context.actor(desk)  # an identity that may not open tickets hears so before any question
    values = field_values(params)
    if context.interactive():
        _prompt_missing(values, rules)
    if edit:
        values["description"] = _edit_text(values.get("description"))
    missing = [f"--{name}" for name in workflow.REQUIRED_FIELDS if not values.get(name)]
    if cooperation:
        missing += [flag for flag, name in COOPERATION_NEEDS if not values.get(name)]
    if missing:
        raise click.UsageError("missing " + ", ".join(missing))
    announcement = desk.find_announcement(outage) if outage else None
    if announcement is not None:
        values["outage"] = announcement.id
    moment = context.now(desk)
    if values.get("assignee"):
        values["assignee"] = context.assignee(desk, values["assignee"])
    plan = workflow.plan_new(rules, values, moment)
    if announcement is not None:
        workflow.check_outage(announcement, values["customer"], rules)
    if context.interactive() and plan.assessment.missing:
        _prompt_required(values, plan.assessment.missing, rules.customers[values["customer"]])
        plan = workflow.plan_new(rules, values, moment)
    if dry_run:
        print_assessment(plan.assessment, plan.values.get("type"), fmt)
        if plan.refusals:
            raise SdeskError("sdesk new would refuse: " + "; ".join(plan.refusals))
        click.echo(f"sdesk new would open it: {plan.assessment.priority.level}, team {plan.assessment.team}.", err=True)
        return
    if plan.assessment.excluded and not accept_costs and context.interactive():
        accept_costs = _confirm_costs(plan)
    agent = context.actor(desk)
    recorded = record.open_ticket(desk, lambda: workflow.create(rules, plan, agent, moment, override, accept_costs))
    report_mail(recorded)
    ticket = recorded.ticket
    if fmt == "table":
        click.echo(f"Created {ticket.id}  {ticket.priority} {ticket.type} for {ticket.customer}: {ticket.title}")
        click.echo(f"Quote {ticket.id} in all communication about this ticket.", err=True)
    else:
        _print_ticket(ticket, fmt)
    for match in plan.assessment.excluded:
        click.echo(f"May cost extra ({match.rule}): {match.outcome}", err=True)
    if plan.assessment.priority.phone:
        _phone_reminder(ticket)


@click.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    shell_complete=completers.statuses,
    help="Only this status, e.g. waiting-for-customer (repeatable).",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    shell_complete=completers.types,
    help="Only this ticket type, e.g. incident (repeatable).",
)
@click.option(
    "--priority",
    "priorities",
    multiple=True,
    shell_complete=completers.priorities,
    help="Only this priority, e.g. P1 (repeatable).",
)
@customer_filter
@team_filter
@assignee_filter
@click.option("--open", "scope", flag_value="open", help="Only open tickets (the default).")
@click.option("--closed", "scope", flag_value="closed", help="Only closed tickets.")
@click.option("--all", "scope", flag_value="all", help="Open and closed tickets.")
@click.option("--search", "-s", "text", metavar="TEXT", help="Only tickets whose text or comments contain TEXT.")
@click.option(
    "--sort",
    type=click.Choice(SORT_KEYS),
    default="created",
    show_default=True,
    help="Order: by creation, most recently changed first, or by priority.",
)
@click.option(
    "--columns",
    metavar="NAME,...",
    help="The columns to show, e.g. id,title,assignee,due (JSON and CSV: these fields); an unknown name lists them.",
)
@format_option
@desk_options()
@paged
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
    columns: str | None,
    fmt: str,
) -> None:
    """List tickets, open ones by default, oldest first.

    The table shows ID, Pri, Type, Status, Customer, Assignee, Due (when the
    running SLA clock due first is due) and Title; a terminal too narrow for
    them all leaves out Type, then Customer. --columns picks others.
    """
    from sdesk.cli import views
    from sdesk.formats import reader
    from sdesk.tickets import query

    names = views.list_columns(columns)
    desk = context.desk()
    rules = desk.rules
    for wanted, options, what in (
        (statuses, rules.statuses, "status"),
        (types, rules.types, "type"),
        (priorities, rules.priority.levels, "priority"),
        (customers, rules.customers, "customer"),
        (teams, rules.teams, "team"),
    ):
        for value in wanted:
            if value not in options:
                raise InvalidData(reader.unknown(what, value, list(options)))
    selection = query.Selection(
        final_statuses=frozenset(rules.final_statuses),
        scope=scope or ("all" if statuses else "open"),
        statuses=statuses,
        types=types,
        priorities=priorities,
        customers=customers,
        teams=teams,
        assignees=tuple(context.wanted_assignee(desk, value) for value in assignees),
        text=text,
    )
    # JSON and CSV carry the fields scripts rely on, unless --columns names others
    shown = names if columns or fmt == "table" else query.SUMMARY_FIELDS
    index = context.index(desk)
    due = _due(desk, index, selection) if "due" in shown else {}
    kept = index.summaries(selection, sort, rules.priority.levels)
    rows = (views.summary(fields, rules, due.get(fields["id"])) for fields in kept)
    picked = [views.LIST_COLUMNS[name] for name in names]
    if fmt != "table":
        for piece in stream_rows(rows, picked, fmt, shown):
            click.echo(piece, nl=False)
        return
    text = table(rows, picked, () if columns else views.LIST_OPTIONAL, views.LEAST_TITLE)
    click.echo(text, nl=False)
    count = max(text.count("\n") - 2, 0)  # a line per ticket under the header and its rule (cells hold no breaks)
    click.echo(plural(count, "ticket") if count else "No tickets match.", err=True)


def _due(desk: Desk, index: Index, selection: Selection) -> dict[str, Due]:
    """When each open ticket of the listing is due, from the clock facts the index keeps (as `queue` does)."""
    from sdesk.actions import clocked

    return dict(clocked.open_due(desk, index, context.now(desk), selection))


@click.command()
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.any_ticket)
@click.option("--history", "in_git", is_flag=True, help="Also who changed it in which commit (from git log).")
@format_option
@desk_options()
@paged
def show(ticket_ref: str, in_git: bool, fmt: str) -> None:
    """Everything about one ticket, history included."""
    from sdesk.cli import views
    from sdesk.clocks import slaviews

    if in_git and fmt == "csv":
        raise click.UsageError("--history prints as a table or as JSON")
    desk = context.desk()
    ticket = desk.read(desk.resolve(ticket_ref))
    clocks, unavailable = _clocks(desk, ticket)
    commits = _commits(desk, ticket) if in_git else None
    mail = _mail(desk, ticket)
    if fmt == "json":
        data = {**views.detail(ticket), "clocks": [slaviews.clock_data(clock) for clock in clocks]}
        data["mail"] = [
            {
                "event_at": item.letter.at,
                "kind": item.letter.kind,
                "to": [address.addr_spec for address in item.letter.to],
                "state": item.state,
                "at": item.standing.at if item.standing is not None else None,
            }
            for item in mail
        ]
        data["clocks_unavailable"] = unavailable
        if commits is not None:
            data["commits"] = views.commits_data(commits)
        click.echo(to_json(data), nl=False)
        return
    if fmt == "table":
        click.echo(views.detail_text(ticket, views.mail_marks(mail), _timer_on(desk, ticket.id)), nl=False)
    else:
        _print_ticket(ticket, fmt, detailed=True)
    if fmt == "table":
        click.echo("\nSLA clocks:")
        for clock in clocks:
            click.echo(f"  {clock.name.capitalize():<11} {slaviews.clock_words(clock)}")
        if not clocks:
            click.echo(f"  {unavailable or 'none: the plan has no targets for this priority'}")
        if commits is not None:
            click.echo(views.commits_text(commits), nl=False)


def _timer_on(desk: Desk, ticket_id: str) -> str | None:
    """How the acting agent's timer runs on this ticket, when it does."""
    from sdesk.cli import views

    timer = context.timer(desk)
    if timer is None or timer.ticket != ticket_id:
        return None
    return views.timer_words(timer, context.now(desk), desk.rules.timezone)


def _mail(desk: Desk, ticket: Ticket) -> list[Owed]:
    """The ticket's mail and where it stands; none shown while rules.yaml or git cannot say."""
    from sdesk.actions.owing import ticket_mail

    try:
        return ticket_mail(desk, ticket.id)
    except SdeskError:
        return []


def _commits(desk: Desk, ticket: Ticket) -> list[tuple[Commit | None, list[Event]]]:
    from sdesk.storage import gitrepo

    gitrepo.work_tree(desk.root)
    return gitrepo.attribute(gitrepo.ticket_versions(desk.root, desk.path_for(ticket.id)), ticket.history)


def _clocks(desk: Desk, ticket: Ticket) -> tuple[list[sla.Clock], str | None]:
    """The ticket's clocks; while rules.yaml is broken, show still works and says why there are none."""
    from sdesk.clocks import sla

    try:
        rules = desk.rules
    except SdeskError as error:
        return [], f"unavailable until rules.yaml is fixed ({error})"
    return sla.clocks(ticket, rules, context.now(desk)), None


@click.command()
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.open_ticket)
@click.option(
    "--status",
    metavar="STATUS",
    shell_complete=completers.next_statuses,
    help="Move to this status, as rules.yaml allows (e.g. in-progress, waiting-for-customer; to close: sdesk close).",
)
@field_options
@click.option("--note", help="Why: recorded with the change in the history.")
@click.option(
    "--from-customer", is_flag=True, help="The change is the requester's reaction (stops the sweep's reminders)."
)
@click.option(
    "--accept-costs", is_flag=True, help="Change it although it now falls outside the contract and may cost extra."
)
@format_option
@desk_options()
def update(
    ticket_ref: str,
    status: str | None,
    note: str | None,
    from_customer: bool,
    accept_costs: bool,
    fmt: str,
    **params: Any,
) -> None:
    """Change a ticket's status or fields; each change is recorded in its history.

    A change that makes the ticket fall outside the contract (an exclusion in rules.yaml) is confirmed at a
    terminal, and needs --accept-costs in a script, as for `sdesk new`; the ticket is then flagged.
    """
    from sdesk.actions import workflow
    from sdesk.tickets.model import field_value

    values = field_values(params)
    if status is not None:
        values = {"status": status, **values}
    if not values and not from_customer:
        raise click.UsageError("nothing to update: pass --status or a field option (see sdesk update --help)")
    desk = context.desk()
    context.actor(desk)  # refused before anything is asked
    if "assignee" in values:
        values["assignee"] = context.assignee(desk, values["assignee"]) or ""
    if not accept_costs and context.interactive():
        accept_costs = _confirm_new_costs(desk, ticket_ref, values)
    updated = change(
        desk,
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.update(
            ticket, desk.rules, values, agent, moment, note, from_customer=from_customer, accept_costs=accept_costs
        ),
    )
    flagged = next((c for c in updated.history[-1].changes if c.field == "exclusions"), None)
    if flagged is not None:  # what the agent now tells the customer
        for name in set(updated.exclusions) - set(field_value("exclusions", flagged.old)):
            click.echo(f"May cost extra ({name}): {desk.rules.exclusion_message(name, desk.rules.language)}", err=True)


def _confirm_new_costs(desk: Desk, ticket_ref: str, values: dict[str, str | None]) -> bool:
    """Asked before the change is made (never while its ticket is locked): does it now fall outside the contract?"""
    from sdesk.actions import workflow
    from sdesk.tickets.model import Change

    ticket = desk.read(desk.resolve(ticket_ref))
    if desk.rules.is_final(ticket.status):
        return False  # the update refuses a closed ticket: nothing to confirm
    changes = [Change(name, ticket.value(name), value) for name, value in values.items() if name != "status"]
    newly = workflow.newly_excluded(ticket, desk.rules, changes)
    if newly:
        _confirm(newly, "change the ticket", "not changed")
    return bool(newly)


@click.command()
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.open_ticket)
@click.argument("text", required=False)
@click.option("--internal", is_flag=True, help="A desk-only note: never shown or mailed to the customer.")
@click.option(
    "--from-customer",
    is_flag=True,
    help="The requester's reaction (by mail or phone): stops reminders and puts a waiting ticket back in progress.",
)
@format_option
@desk_options()
def comment(ticket_ref: str, text: str | None, internal: bool, from_customer: bool, fmt: str) -> None:
    """Add a comment (public unless --internal). TEXT '-' reads standard input; none opens $EDITOR."""
    from sdesk.actions import workflow

    if text is None and not context.interactive():
        raise click.UsageError("give the comment TEXT, or '-' to read it from standard input")
    desk = context.desk()
    context.actor(desk)  # refused before the comment is written
    if text == "-":
        text = sys.stdin.read()
        if not is_text(text):
            raise SdeskError("the comment on standard input is not UTF-8 text")
    elif text is None:
        text = _edit_text(None)
    body = text or ""
    change(
        desk,
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.comment(
            ticket, desk.rules, body, agent, moment, internal=internal, from_customer=from_customer
        ),
    )


@click.command()
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.open_ticket)
@click.argument("level", shell_complete=completers.priorities)
@click.option("--reason", required=True, help="Why the level changes; recorded in the history.")
@format_option
@desk_options()
def priority(ticket_ref: str, level: str, reason: str, fmt: str) -> None:
    """Escalate or de-escalate a ticket to LEVEL, such as P1, by hand.

    From then on the rules no longer recompute its priority.
    """
    from sdesk.actions import workflow
    from sdesk.clocks import sla, slaviews
    from sdesk.policy.priority import phone_owed

    desk = context.desk()
    ticket = change(
        desk,
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.set_priority(ticket, desk.rules, level, reason, agent, moment),
    )
    if fmt == "table":
        for clock in sla.clocks(ticket, desk.rules, context.now(desk)):
            click.echo(f"  {clock.name.capitalize():<11} {slaviews.clock_words(clock)}")
    if phone_owed(ticket, desk.rules):
        _phone_reminder(ticket)


@click.command()
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.open_ticket)
@click.option("--resolution", required=True, help="What was done to solve it (sent to the customer).")
@click.option(
    "--status",
    metavar="STATUS",
    shell_complete=completers.final_statuses,
    help="The final status, when rules.yaml declares several.",
)
@format_option
@desk_options()
def close(ticket_ref: str, resolution: str, status: str | None, fmt: str) -> None:
    """Close a ticket with its resolution."""
    from sdesk.actions import workflow

    desk = context.desk()
    change(
        desk,
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.close(ticket, desk.rules, resolution, agent, moment, status),
    )


@click.command()
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.closed_ticket)
@click.option("--reason", required=True, help="Why the ticket is opened again.")
@format_option
@desk_options()
def reopen(ticket_ref: str, reason: str, fmt: str) -> None:
    """Reopen a closed ticket; it goes back to open (the status rules.yaml lists after closed)."""
    from sdesk.actions import workflow

    desk = context.desk()
    change(
        desk, ticket_ref, fmt, lambda ticket, agent, moment: workflow.reopen(ticket, desk.rules, reason, agent, moment)
    )


# --- helpers -------------------------------------------------------------------------


def change(desk: Desk, ticket_ref: str, fmt: str, decide: Any) -> Ticket:
    """Resolve the reference, record one workflow step with its mail, report it."""
    from sdesk.actions import record

    ticket_id = desk.resolve(ticket_ref)
    agent, moment = context.actor(desk), context.now(desk)
    recorded = record.change(desk, ticket_id, lambda current: decide(current, agent, moment))
    report_change(recorded, fmt)
    return recorded.ticket


def report_change(recorded: Recorded, fmt: str) -> None:
    """What a change did, in one line (or the ticket, for scripts), and the mail it owes."""
    from sdesk.cli import views

    report_mail(recorded)
    if fmt == "table":
        click.echo(views.change_summary(recorded.ticket.id, recorded.event))
    else:
        _print_ticket(recorded.ticket, fmt)


def report_mail(recorded: Recorded) -> None:
    for letter in recorded.mails:
        recipients = ", ".join(address.addr_spec for address in (*letter.to, *letter.cc))
        click.echo(f"Mail owed: {letter.kind} to {recipients} (the runner sends it: sdesk run)", err=True)
    for warning in recorded.warnings:
        click.echo(f"Warning: {warning}", err=True)


def _phone_reminder(ticket: Ticket) -> None:
    contact = ", ".join(part for part in (ticket.contact_name, ticket.contact_phone) if part) or ticket.requester
    click.echo(
        f"{ticket.priority}: phone the customer as well: {contact} (then: sdesk call {ticket.id} --note …)", err=True
    )


def _confirm_costs(plan: workflow.NewTicket) -> bool:
    """The desk never surprises a customer with costs: the agent confirms they will say so."""
    _confirm(plan.assessment.excluded, "open the ticket", "not opened")
    return True


def _confirm(matches: Sequence[Match], action: str, refusal: str) -> None:
    for match in matches:
        click.echo(f"Outside the contract ({match.rule}): {match.outcome}", err=True)
        click.echo(f"  because {'; '.join(match.reasons)}", err=True)
    if not click.confirm(f"This may cost the customer extra. Tell them, and {action}?", err=True):
        raise SdeskError(f"{refusal}: the work may cost extra and was not confirmed")


def _print_ticket(ticket: Ticket, fmt: str, detailed: bool = False) -> None:
    from sdesk.cli import views

    if fmt == "json":
        click.echo(to_json(views.detail(ticket)), nl=False)
    elif fmt == "csv":
        click.echo(render_rows(as_pairs(views.detail(ticket)), PAIR_COLUMNS, "csv"), nl=False)
    elif detailed:
        click.echo(views.detail_text(ticket), nl=False)


def _prompt_missing(values: dict[str, Any], rules: Rules) -> None:
    """Ask for the fields every ticket needs, and the product when the customer has several."""
    if not values.get("title"):
        click.echo("One subject per ticket: open a second ticket for a second problem.", err=True)
        values["title"] = click.prompt("Title", err=True)
    if not values.get("type"):
        values["type"] = click.prompt("Type", type=click.Choice(list(rules.types)), default="incident", err=True)
    if not values.get("customer"):
        values["customer"] = click.prompt("Customer", type=click.Choice(list(rules.customers)), err=True)
    customer = rules.customers.get(values["customer"])
    if not values.get("requester"):
        values["requester"] = click.prompt("Requester email", err=True)
    if customer is not None and not values.get("product") and len(customer.packages) > 1:
        products = [package.product for package in customer.packages]
        values["product"] = click.prompt("Product", type=click.Choice(products), err=True)


def _prompt_required(values: dict[str, Any], missing: tuple[str, ...], customer: Customer) -> None:
    """Ask for the fields the ticket's type makes mandatory that the plan could not fill in."""
    for field in missing:
        label = field.replace("_", " ").capitalize()
        if field == "site" and customer.sites:
            label += " (" + ", ".join(f"{site.id} {site.name}" for site in customer.sites.values()) + ")"
        values[field] = click.prompt(label, err=True)


def _edit_text(initial: str | None) -> str | None:
    edited = click.edit((initial or "") + EDITOR_TEMPLATE)
    if edited is None:
        return initial
    kept = "\n".join(line for line in edited.splitlines() if not line.startswith("#")).strip()
    return kept or None
