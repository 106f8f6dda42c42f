"""The whole site, or one customer's portal, from one pass over the tickets.

Only the tickets a portal lists are kept; every other ticket is counted for
the dashboard and let go, so a desk of 100,000 tickets exports in the
memory of the open ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

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
) -> dict[str, str]:
    """Every page by its path: the desk's pages and each customer's portal in its own folder.

    With ``customer``, that customer's portal alone, to publish where that customer reads it.
    """
    if customer is not None:
        return portal_pages(portal.build(customer, tickets, announcements, rules, now, recent_days), templates)
    collector = Collector(rules, now)
    listed: dict[str, list[Ticket]] = {key: [] for key in rules.customers}
    for ticket in tickets:
        collector.add(ticket)
        if ticket.customer in listed and portal.shown(ticket, rules, now, recent_days):
            listed[ticket.customer].append(ticket)
    portals = [portal.build(key, listed[key], announcements, rules, now, recent_days) for key in sorted(listed)]
    notices = noticeboard.notices(announcements, rules, now)
    pages = desk_pages(collector.dashboard(), notices, portals, templates, recent_days)
    for each in portals:
        for name, page in portal_pages(each, templates).items():
            pages[f"{PORTALS}/{each.customer}/{name}"] = page
    return pages
