"""Selecting and ordering tickets for `sdesk list` (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sdesk.model import Ticket

SCOPES = ("open", "closed", "all")
SORT_KEYS = ("created", "updated", "priority")


@dataclass(frozen=True)
class Selection:
    """What `sdesk list` keeps; an empty tuple means "any"."""

    final_statuses: frozenset[str]  # what "closed" means on this desk (rules.yaml)
    scope: str = "open"
    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    assignees: tuple[str | None, ...] = ()  # None selects unassigned tickets
    text: str | None = None

    def keeps(self, ticket: Ticket) -> bool:
        closed = ticket.status in self.final_statuses
        if self.scope == "open" and closed or self.scope == "closed" and not closed:
            return False
        for wanted, value in (
            (self.statuses, ticket.status),
            (self.types, ticket.type),
            (self.priorities, ticket.priority),
            (self.customers, ticket.customer),
            (self.teams, ticket.team),
            (self.assignees, ticket.assignee),
        ):
            if wanted and value not in wanted:
                return False
        return self.text is None or self.text.casefold() in searchable_text(ticket)


def searchable_text(ticket: Ticket) -> str:
    """Everything an agent may search for: the ticket's text fields and its comments."""
    parts = [
        ticket.id,
        ticket.title,
        ticket.description,
        ticket.error_message,
        ticket.url,
        ticket.requester,
        ticket.contact_name,
        ticket.contact_email,
        ticket.external_ref,
        ticket.resolution,
        ticket.category,
        ticket.product,
    ]
    parts.extend(event.text for event in ticket.history)
    return "\n".join(part for part in parts if part).casefold()


def ordered(tickets: Iterable[Ticket], sort: str, priority_levels: tuple[str, ...]) -> list[Ticket]:
    """Tickets in creation order, or by last change, or by priority (then creation)."""
    tickets = sorted(tickets, key=lambda ticket: ticket.id)
    if sort == "updated":
        return sorted(tickets, key=lambda ticket: ticket.updated, reverse=True)
    if sort == "priority":
        rank = {level: index for index, level in enumerate(priority_levels)}
        return sorted(tickets, key=lambda ticket: rank.get(ticket.priority, len(rank)))
    return tickets
