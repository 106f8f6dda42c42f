"""The order the desk should take open work in (`sdesk queue`), and why. Pure.

Priority first; within a priority, tickets that a `queue.ahead` rule of
rules.yaml matches (business-critical disruptions, managed-services
customers) in the order of those rules; then first come, first served.
Tickets whose clocks are paused (waiting on the customer, on hold) are not
the desk's work right now and stay out unless asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from msgspec import Struct

from sdesk.clocks import sla
from sdesk.policy import decisions, priority
from sdesk.policy.rules import Rules
from sdesk.tickets.model import Ticket


class Queued(Struct, frozen=True):
    """What the queue shows of a ticket: a place holds this, not the ticket and its history (a queue of
    36,000 old open tickets held them all at once, 380 MB)."""

    id: str
    title: str
    status: str
    priority: str
    customer: str
    team: str
    assignee: str | None
    created: datetime
    phone_owed: bool  # to be phoned as well, and no call recorded yet (seed 000)

    @classmethod
    def of(cls, ticket: Ticket, rules: Rules) -> Queued:
        return cls(
            ticket.id,
            ticket.title,
            ticket.status,
            ticket.priority,
            ticket.customer,
            ticket.team,
            ticket.assignee,
            ticket.created,
            priority.phone_owed(ticket, rules),
        )


class Place(Struct, frozen=True):
    ticket: Queued
    rank: int  # the priority's position, most urgent first
    ahead: str | None  # the queue rule that moves it ahead
    ahead_index: int  # that rule's position in rules.yaml (rules after it count as none)
    ahead_reasons: tuple[str, ...]
    clocks: tuple[sla.Clock, ...]

    def why(self) -> str:
        """One line: the three keys of the order, in order."""
        parts = [f"priority {self.ticket.priority}"]
        if self.ahead:
            parts.append(f"ahead by {self.ahead} ({'; '.join(self.ahead_reasons)})")
        parts.append(f"opened {self.ticket.created:%Y-%m-%d %H:%M} (first come, first served)")
        return " · ".join(parts)


def queue(clocked: Iterable[tuple[Ticket, Sequence[sla.Clock]]], rules: Rules, paused: bool = False) -> list[Place]:
    """Open tickets (each with its clocks now) in the order to take them; ``paused`` keeps those waiting on
    someone else too."""
    places = []
    levels = rules.priority.levels
    for ticket, clocks in clocked:
        if rules.is_final(ticket.status) or (not paused and ticket.status in rules.service.pausing):
            continue
        places.append(_place(ticket, tuple(clocks), rules, levels))
    return sorted(places, key=lambda place: (place.rank, place.ahead_index, place.ticket.created, place.ticket.id))


def _place(ticket: Ticket, clocks: tuple[sla.Clock, ...], rules: Rules, levels: tuple[str, ...]) -> Place:
    facts = decisions.facts(rules, ticket.fields())
    rank = levels.index(ticket.priority) if ticket.priority in levels else len(levels)
    for index, rule in enumerate(rules.service.ahead):
        outcome = rule.when.evaluate(facts)
        if outcome.passed:
            return Place(Queued.of(ticket, rules), rank, rule.name, index, outcome.reasons, clocks)
    return Place(Queued.of(ticket, rules), rank, None, len(rules.service.ahead), (), clocks)
