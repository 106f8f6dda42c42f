"""`sdesk export html`: the whole site, or one customer's portal, from the desk into a folder.

A ticket file that does not read stops the export before anything is
written: a portal without the ticket would tell its customer it is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sdesk.clocks import sla
from sdesk.errors import InvalidData, SdeskError
from sdesk.policy.rules import Rules
from sdesk.storage import attachments
from sdesk.storage.index import Index
from sdesk.storage.store import Desk
from sdesk.tickets.model import Ticket
from sdesk.website import build
from sdesk.website.pages import Templates
from sdesk.website.publish import Published, check_folder, publish


@dataclass(frozen=True)
class Exported:
    pages: int
    published: Published


def export(desk: Desk, out: Path, customer: str | None, recent_days: int, now: datetime) -> Exported:
    """Write the site (or ``customer``'s portal alone) into ``out``, as of ``now``."""
    rules = desk.rules
    if customer is not None and customer not in rules.customers:
        known = ", ".join(sorted(rules.customers)) or "none"
        raise SdeskError(f"unknown customer '{customer}' (customers in rules.yaml: {known})")
    check_folder(out)
    templates, announcements = Templates(desk.root), desk.announcements()
    index = Index(desk.tickets_dir, desk.state_dir)
    broken = index.refresh()
    if broken:
        error = broken[0].error
        also = f" and {len(broken) - 1} more" if len(broken) > 1 else ""
        raise InvalidData(
            f"{error.message}{also}; nothing exported (sdesk check lists them)", error.path, error.line, error.column
        )
    kept = KeptClocks(rules, now)
    rows = index.tickets_with((), desk.rules_key, kept.derive)
    tickets = kept.tickets(rows)
    pages = build.site(tickets, announcements, rules, now, templates, customer, recent_days, _reader(desk), kept)
    return Exported(len(pages), publish(out, pages))


class KeptClocks:
    """The open tickets' clocks from the facts the index keeps (sdesk.clocks.sla.Facts), as the site asks
    for them; a closed ticket's clocks, which only the dashboard's recent weeks need, are worked out."""

    def __init__(self, rules: Rules, now: datetime):
        self.rules, self.now = rules, now
        self.facts: dict[str, bytes | None] = {}  # of the open tickets, and of the ticket passing by

    def derive(self, ticket: Ticket) -> bytes | None:
        return None if self.rules.is_final(ticket.status) else sla.kept(ticket, self.rules)

    def tickets(self, rows: Iterable[tuple[Ticket, bytes | None]]) -> Iterator[Ticket]:
        for ticket, data in rows:
            if data is not None:
                self.facts[ticket.id] = data
            yield ticket

    def __call__(self, ticket: Ticket) -> list[sla.Clock]:
        return sla.clocks_from_kept(self.facts.get(ticket.id), ticket, self.rules, self.now)


def _reader(desk: Desk) -> Callable[[str, str], bytes | None]:
    """A kept attachment's bytes when it is what sdesk kept (see storage.attachments.read); None otherwise."""
    return lambda ticket_id, name: attachments.read(desk.root, ticket_id, name)
