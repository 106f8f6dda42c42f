"""Selecting and ordering tickets for `sdesk list`, and the fields a listing shows (pure).

The selection is answered by the ticket index (SQLite), so it is written
here once as a WHERE clause over the index's columns; the index keeps each
ticket's listing fields, so they are named here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from msgspec import Struct

from sdesk.tickets.model import Ticket

SUMMARY_FIELDS = (
    "id",
    "title",
    "type",
    "status",
    "priority",
    "customer",
    "requester",
    "team",
    "assignee",
    "category",
    "cooperation_ticket",
    "created",
    "updated",
)


def summary_fields(ticket: Ticket) -> dict[str, Any]:
    """The fields of a listing row, under their stable JSON/CSV names (what the index keeps)."""
    return {name: getattr(ticket, name) for name in SUMMARY_FIELDS}


class Selection(Struct, frozen=True):
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


def sql_filter(selection: Selection) -> tuple[str, list[Any]]:
    """The selection as a WHERE clause over the index's columns, with its parameters."""
    clauses, params = ["1"], []
    final = sorted(selection.final_statuses)
    if selection.scope != "all" and final:
        negation = "NOT " if selection.scope == "open" else ""
        clauses.append(f"status {negation}IN ({_marks(final)})")
        params += final
    elif selection.scope == "closed":
        clauses.append("0")  # a desk without final statuses has nothing closed
    for column, wanted in (
        ("status", selection.statuses),
        ("type", selection.types),
        ("priority", selection.priorities),
        ("customer", selection.customers),
        ("team", selection.teams),
    ):
        if wanted:
            clauses.append(f"{column} IN ({_marks(wanted)})")
            params += wanted
    if selection.assignees:
        named = [assignee for assignee in selection.assignees if assignee is not None]
        either = [f"assignee IN ({_marks(named)})"] if named else []
        if None in selection.assignees:
            either.append("assignee IS NULL")
        clauses.append("(" + " OR ".join(either) + ")")
        params += named
    if selection.text is not None:
        clauses.append("instr(search, ?) > 0")
        params.append(selection.text.casefold())
    return " AND ".join(clauses), params


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def latest_moment(ticket: Ticket) -> datetime:
    """The latest moment a ticket speaks of: its last update, any event, any day of work logged (from that
    day's start in UTC). A closed ticket whose latest moment is long past counts in no recent figure."""
    moments = [ticket.created, ticket.updated, *(event.at for event in ticket.history)]
    moments += [datetime.combine(event.on, time(), UTC) for event in ticket.history if event.on is not None]
    return max(moments)


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
        ticket.cooperation_ticket,
        ticket.cooperation_name,
        ticket.cooperation_email,
        ticket.resolution,
        ticket.category,
        ticket.product,
    ]
    parts.extend(event.text for event in ticket.history)
    return "\n".join(part for part in parts if part).casefold()


def sql_order(sort: str, priority_levels: Sequence[str]) -> tuple[str, list[Any]]:
    """The ORDER BY clause of a listing: by creation (ticket numbers sort so), by last change (newest first)
    or by priority; ties keep creation order."""
    if sort == "updated":
        return "updated_us DESC, id", []
    if sort == "priority":
        ranks = " ".join("WHEN ? THEN ?" for _ in priority_levels)
        params: list[Any] = [value for rank, level in enumerate(priority_levels) for value in (level, rank)]
        return f"CASE priority {ranks} ELSE ? END, id", [*params, len(priority_levels)]
    return "id", []
