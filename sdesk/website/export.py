"""`sdesk export html`: the whole site, or one customer's portal, from the desk into a folder.

A ticket file that does not read stops the export before anything is
written: a portal without the ticket would tell its customer it is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sdesk.errors import InvalidData, SdeskError
from sdesk.storage import attachments
from sdesk.storage.index import Index
from sdesk.storage.store import Desk
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
    pages = build.site(index.tickets(), announcements, rules, now, templates, customer, recent_days, _reader(desk))
    return Exported(len(pages), publish(out, pages))


def _reader(desk: Desk) -> Callable[[str, str], bytes | None]:
    """A kept attachment's bytes when it is what sdesk kept (see storage.attachments.read); None otherwise."""
    return lambda ticket_id, name: attachments.read(desk.root, ticket_id, name)
