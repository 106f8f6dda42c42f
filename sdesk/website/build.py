"""The whole site, or one customer's portal, from one pass over the tickets.

Only the tickets a portal lists are kept; every other ticket is counted for
the dashboard and let go, so a desk of 100,000 tickets exports in the
memory of the open ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sdesk.clocks import sla
from sdesk.policy.rules import Rules
from sdesk.service.announcements import Announcement
from sdesk.tickets.model import Ticket
from sdesk.website import noticeboard, portal
from sdesk.website.dashboard import Collector
from sdesk.website.pages import PORTALS, Templates, desk_pages, portal_pages


def site(
    tickets: Iterable[Ticket],
    announcements: list[Announcement],
    rules: Rules,
    now: datetime,
    templates: Templates,
    customer: str | None = None,
    recent_days: int = portal.RECENT_DAYS,
    attachment: Callable[[str, str], bytes | None] = lambda ticket, name: None,
    clocks: sla.ClockSource | None = None,
) -> dict[str, str | bytes]:
    """Every page by its path: the desk's pages and each customer's portal in its own folder.

    With ``customer``, that customer's portal alone, to publish where that customer reads it.
    ``attachment(ticket, name)`` gives a file the customer sent (None: not there), which the portal links;
    ``clocks`` where the tickets' clocks come from (worked out from each ticket by default).
    """
    if customer is not None:
        alone = portal.build(customer, tickets, announcements, rules, now, recent_days, clocks)
        return {**portal_pages(alone, templates), **_files(alone, attachment, "")}
    collector = Collector(rules, now, clocks)
    listed: dict[str, list[Ticket]] = {key: [] for key in rules.customers}
    for ticket in tickets:
        collector.add(ticket)
        if ticket.customer in listed and portal.shown(ticket, rules, now, recent_days):
            listed[ticket.customer].append(ticket)
    portals = [portal.build(key, listed[key], announcements, rules, now, recent_days, clocks) for key in sorted(listed)]
    notices = noticeboard.notices(announcements, rules, now)
    pages: dict[str, str | bytes] = {**desk_pages(collector.dashboard(), notices, portals, templates, recent_days)}
    for each in portals:
        for name, page in portal_pages(each, templates).items():
            pages[f"{PORTALS}/{each.customer}/{name}"] = page
        pages.update(_files(each, attachment, f"{PORTALS}/{each.customer}/"))
    return pages


def _files(shown: portal.Portal, attachment: Callable[[str, str], bytes | None], prefix: str) -> dict[str, str | bytes]:
    """The files a portal's tickets link to, under ``files/<ticket>/`` beside its pages."""
    found: dict[str, str | bytes] = {}
    for ticket in (*shown.open, *shown.recently_closed):
        for event in ticket.history:
            for name in event.attachments:
                data = attachment(ticket.id, name)
                if data is not None:
                    found[f"{prefix}{portal.FILES}/{ticket.id}/{name}"] = data
    return found
