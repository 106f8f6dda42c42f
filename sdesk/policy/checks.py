"""Cross-checks of tickets against the desk's rules, for `sdesk check` (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from sdesk.calendar import businesstime
from sdesk.formats import reader
from sdesk.formats.reader import SchemaError
from sdesk.policy import agents
from sdesk.policy.decisions import with_article
from sdesk.policy.rules import Rules
from sdesk.tickets.model import CLOCK_NAMES, SWEEPER, Ticket


def ticket_problems(ticket: Ticket, rules: Rules) -> list[SchemaError]:
    """What in a well-formed ticket file disagrees with rules.yaml."""
    problems = []
    known: list[tuple[str, str | None, Sequence[str]]] = [
        ("status", ticket.status, list(rules.statuses)),
        ("type", ticket.type, list(rules.types)),
        ("customer", ticket.customer, list(rules.customers)),
        ("team", ticket.team, list(rules.teams)),
        ("priority", ticket.priority, rules.priority.levels),
        ("product", ticket.product, list(rules.products)),
    ]
    if rules.categories:
        known.append(("category", ticket.category, rules.categories))
    for name, value, options in known:
        if value is not None and value not in options:
            problems.append(SchemaError((name,), reader.unknown(name, value, options)))
    ticket_type = rules.types.get(ticket.type)
    for field in ticket_type.required if ticket_type else ():
        if not ticket.value(field):
            needs = f"{with_article(ticket.type)} needs {field} (rules.yaml: types.{ticket.type}.required)"
            problems.append(SchemaError(("type",), f"{field} is missing: {needs}"))
    unassignable = agents.assignee_problem(rules, ticket.assignee) if ticket.assignee else None
    if unassignable is not None and not rules.is_final(ticket.status):  # who closed one may since have left
        problems.append(SchemaError(("assignee",), unassignable))
    exclusions = [exclusion.name for exclusion in rules.exclusions]
    for index, name in enumerate(ticket.exclusions):
        if name not in exclusions:
            problems.append(SchemaError(("exclusions", index), reader.unknown("exclusion", name, exclusions)))
    problems += _sla_problems(ticket, rules)
    problems += _move_problems(ticket, rules)
    for index, event in enumerate(ticket.history):
        # The sweep dates what it records at the moment it fell due (clocks/sweep.py), which may be before
        # work recorded before a sweep noticed it; anything else older than the event before it is a mistake.
        if index and event.at < ticket.history[index - 1].at and event.by != SWEEPER:
            problems.append(SchemaError(("history", index, "at"), "event is older than the one before it"))
    if not ticket.history or ticket.history[0].kind != "created":
        problems.append(SchemaError(("history",), "history must start with the 'created' event"))
    return problems


def _move_problems(ticket: Ticket, rules: Rules) -> list[SchemaError]:
    """A ticket moved to another customer must have one of that customer's people as requester."""
    moved = any(change.field == "customer" for event in ticket.history for change in event.changes)
    customer = rules.customers.get(ticket.customer)
    if not moved or customer is None or not rules.eligibility.reference_persons_only:
        return []
    if customer.contact(ticket.requester) is not None:
        return []
    message = f"{ticket.requester} is not a reference person of {customer.name}, the customer the ticket moved to"
    return [SchemaError(("requester",), message)]


def _sla_problems(ticket: Ticket, rules: Rules) -> list[SchemaError]:
    """The recorded targets must still make sense: a known plan and calendar, readable targets."""
    problems = []
    if ticket.sla_plan is not None and ticket.sla_plan not in rules.service.plans:
        problems.append(SchemaError(("sla", "plan"), reader.unknown("plan", ticket.sla_plan, list(rules.plans))))
    calendars = list(rules.service.calendars)
    if ticket.sla_calendar is not None and ticket.sla_calendar not in calendars:
        message = reader.unknown("calendar", ticket.sla_calendar, calendars)
        problems.append(SchemaError(("sla", "calendar"), f"{message}; its clocks run on desk.calendar"))
    for clock in CLOCK_NAMES:
        text = ticket.value(f"sla_{clock}")
        try:
            if text is not None:
                businesstime.parse_target(text)
        except ValueError as error:
            problems.append(SchemaError(("sla", clock), f"{error}; the clock is not shown"))
    return problems
