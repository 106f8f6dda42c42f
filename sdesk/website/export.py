"""`sdesk export html`: the whole site, or one customer's portal, from the desk into a folder.

A ticket file that does not read stops the export before anything is
written: a portal without the ticket would tell its customer it is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sdesk.clocks import sla
from sdesk.errors import InvalidData, SdeskError
from sdesk.policy.rules import Rules
from sdesk.progress import Progress, counted, silent
from sdesk.storage import attachments
from sdesk.storage.index import Index
from sdesk.storage.store import Desk
from sdesk.tickets.model import Ticket
from sdesk.website import build, dashboard, keptpages
from sdesk.website.pages import Templates
from sdesk.website.publish import Published, check_folder, publish

BUILDING = "Going through tickets"  # what the export tells its progress while the pages' content is gathered


@dataclass(frozen=True)
class Exported:
    pages: int
    published: Published


def export(
    desk: Desk, out: Path, customer: str | None, recent_days: int, now: datetime, progress: Progress = silent
) -> Exported:
    """Write the site (or ``customer``'s portal alone) into ``out``, as of ``now``; ``progress`` hears of the
    ticket files read, the tickets gone through and the pages made and written."""
    rules = desk.rules
    if customer is not None and customer not in rules.customers:
        known = ", ".join(sorted(rules.customers)) or "none"
        raise SdeskError(f"unknown customer '{customer}' (customers in rules.yaml: {known})")
    check_folder(out)
    templates, announcements = Templates(desk.root), desk.announcements()
    index = Index(desk.tickets_dir, desk.state_dir)
    broken = index.refresh(progress)
    if broken:
        error = broken[0].error
        also = f" and {len(broken) - 1} more" if len(broken) > 1 else ""
        raise InvalidData(
            f"{error.message}{also}; nothing exported (sdesk check lists them)", error.path, error.line, error.column
        )
    clocks = KeptClocks(rules, now)
    # A ticket closed long ago and quiet since shows on no page and counts in no figure: left in the index.
    quiet = (tuple(rules.final_statuses), build.looks_back(now, recent_days))
    rows = index.tickets_with((), desk.rules_key, clocks.derive, quiet)
    if progress is not silent:  # the count costs a pass over the index: only for someone watching
        rows = counted(rows, BUILDING, index.count((), quiet), progress)
    tickets = clocks.tickets(rows)
    shared = keptpages.shared_digest(desk.rules_key, templates.desk_folder)
    kept = keptpages.KeptPages(desk.state_dir, out, customer, shared, now)
    pages = build.site(
        tickets, announcements, rules, now, templates, customer, recent_days, _reader(desk), clocks, kept
    )
    published = publish(out, pages, progress)
    kept.save(published.signatures)
    return Exported(len(pages), published)


class KeptClocks:
    """The tickets' clocks from the facts the index keeps (sdesk.clocks.sla.Facts), as the site asks for
    them: of the open tickets, and of the closed ones the dashboard's recent weeks count."""

    def __init__(self, rules: Rules, now: datetime):
        self.rules, self.now = rules, now
        self.facts: dict[str, bytes | None] = {}  # of the open tickets, and of the ticket passing by
        self.counted_since = now - timedelta(weeks=dashboard.WEEKS + 1)

    def derive(self, ticket: Ticket) -> bytes | None:
        if self.rules.is_final(ticket.status) and ticket.created < self.counted_since:
            return None  # no page shows its clocks: nothing to keep
        return sla.kept(ticket, self.rules)

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
