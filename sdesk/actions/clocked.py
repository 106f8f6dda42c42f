"""Open tickets with their SLA clocks, from the facts the index keeps beside each ticket.

For `queue`, `sla`, the sweep and the Due column of `list`; a module of its
own so a listing loads the clocks without what recording a change needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from sdesk.clocks import sla, slaviews

if TYPE_CHECKING:
    from sdesk.clocks.slaviews import Due
    from sdesk.storage.index import Index
    from sdesk.storage.store import Desk
    from sdesk.tickets.model import Ticket
    from sdesk.tickets.query import Selection


def open_with_clocks(desk: Desk, index: Index, now: datetime) -> Iterator[tuple[Ticket, list[sla.Clock]]]:
    """Every open ticket in the index with its clocks at ``now``: their facts come from the index, worked
    out again only for tickets or rules that changed."""
    rules = desk.rules
    for ticket, data in _kept(desk, index):
        yield ticket, sla.clocks_from_kept(data, ticket, rules, now)


def open_due(desk: Desk, index: Index, now: datetime, selection: Selection) -> Iterator[tuple[str, Due]]:
    """When each open ticket ``selection`` keeps is due (`sdesk list`): from the same facts, without the
    open time each clock has used."""
    rules = desk.rules
    for ticket, data in _kept(desk, index, selection):
        clocks = sla.from_kept(data, ticket, rules, lambda known: sla.upcoming(known, rules, now), sla.Upcoming())
        yield ticket.id, slaviews.next_due(clocks, now)


def _kept(desk: Desk, index: Index, selection: Selection | None = None) -> Iterator[tuple[Ticket, bytes | None]]:
    rules = desk.rules
    return index.tickets_with(
        rules.final_statuses, desk.rules_key, lambda ticket: sla.kept(ticket, rules), selection=selection
    )
