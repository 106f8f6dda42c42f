"""Cross-checks of tickets against the desk's rules, for `sdesk check` (pure)."""

from __future__ import annotations

from sdesk import schema
from sdesk.model import Ticket
from sdesk.rules import Rules
from sdesk.schema import SchemaError


def ticket_problems(ticket: Ticket, rules: Rules) -> list[SchemaError]:
    """What in a well-formed ticket file disagrees with rules.yaml."""
    problems = []
    known = (
        ("customer", ticket.customer, list(rules.customers)),
        ("team", ticket.team, list(rules.teams)),
        ("priority", ticket.priority, list(rules.priority_levels)),
    )
    for name, value, options in known:
        if value not in options:
            problems.append(SchemaError((name,), f"unknown {name} '{value}'{schema.one_of(value, options)}"))
    for index, event in enumerate(ticket.history):
        if index and event.at < ticket.history[index - 1].at:
            problems.append(SchemaError(("history", index, "at"), "event is older than the one before it"))
    if not ticket.history or ticket.history[0].kind != "created":
        problems.append(SchemaError(("history",), "history must start with the 'created' event"))
    return problems
