"""A ticket's priority: the impact x urgency matrix, then each adjustment of rules.yaml, step by step (pure).

Every step says which rule applied and why, so `sdesk rules explain` shows
how a level came about (seed 000: priority from impact and urgency, plus
the desk's common sense written down as adjustments).
"""

from __future__ import annotations

from msgspec import Struct

from sdesk.policy.conditions import Facts, Values
from sdesk.policy.rules import Adjustment, Rules
from sdesk.tickets.model import Ticket


class Step(Struct, frozen=True):
    """One step of the priority computation: a rule, whether it applied, and the level after it."""

    rule: str
    applied: bool
    reasons: tuple[str, ...]
    level: str


class PriorityDecision(Struct, frozen=True):
    level: str
    steps: tuple[Step, ...]
    phone: bool  # the desk phones the customer as well (seed 000: P1)


def decide(rules: Rules, values: Values, known: Facts) -> PriorityDecision:
    """The matrix level, then each adjustment in the order rules.yaml lists them."""
    policy = rules.priority
    impact, urgency = values.get("impact"), values.get("urgency")
    if impact and urgency:
        level = policy.matrix[impact][urgency]
        steps = [Step("matrix", True, (f"impact {impact} × urgency {urgency}",), level)]
    else:
        level = policy.default
        unknown = " and ".join(name for name in ("impact", "urgency") if not values.get(name))
        steps = [Step("default", True, (f"{unknown} not known yet",), level)]
    for adjustment in policy.adjustments:
        outcome = adjustment.when.evaluate(known)
        if outcome.passed:
            level = _adjusted(rules, adjustment, level)
        steps.append(Step(adjustment.name, outcome.passed, outcome.reasons, level))
    return PriorityDecision(level, tuple(steps), level in policy.phone)


def _adjusted(rules: Rules, adjustment: Adjustment, level: str) -> str:
    levels = rules.priority.levels
    rank = levels.index(level)
    operand = adjustment.operand
    if adjustment.action == "raise" and isinstance(operand, int):
        return levels[max(rank - operand, 0)]
    if adjustment.action == "lower" and isinstance(operand, int):
        return levels[min(rank + operand, len(levels) - 1)]
    bound = levels.index(str(operand))
    if adjustment.action == "at_least":
        return levels[min(rank, bound)]
    if adjustment.action == "at_most":
        return levels[max(rank, bound)]
    return str(operand)


def phone_owed(ticket: Ticket, rules: Rules) -> bool:
    """At a level rules.yaml says is phoned (priority.phone), and no call to the customer since the ticket
    reached it: the queue and `rules explain` say so until an agent records one (`sdesk call`)."""
    if ticket.priority not in rules.priority.phone or rules.is_final(ticket.status):
        return False
    since = 0
    for place, event in enumerate(ticket.history):
        if any(change.field == "priority" for change in event.changes):
            since = place
    return not any(event.kind == "call" and not event.from_customer for event in ticket.history[since:])
