"""Open tickets with their SLA clocks, from the facts the index keeps beside each ticket.

For `queue`, `sla`, the sweep and the Due column of `list`; a module of its
own so a listing loads the clocks without what recording a change needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from sdesk.clocks import sla

if TYPE_CHECKING:
    from sdesk.storage.index import Index
    from sdesk.storage.store import Desk
    from sdesk.tickets.model import Ticket
    from sdesk.tickets.query import Selection


def open_with_clocks(
    desk: Desk, index: Index, now: datetime, selection: Selection | None = None
) -> Iterator[tuple[Ticket, list[sla.Clock]]]:
    """Every open ticket in the index (those ``selection`` keeps) with its clocks at ``now``: their facts
    come from the index, worked out again only for tickets or rules that changed."""
    rules = desk.rules
    kept = index.tickets_with(
        rules.final_statuses, desk.rules_key, lambda ticket: sla.kept(ticket, rules), selection=selection
    )
    for ticket, data in kept:
        yield ticket, sla.clocks_from_kept(data, ticket, rules, now)
