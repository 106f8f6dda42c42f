"""The whole site, or one customer's portal, from one pass over the tickets.

Only the tickets a portal lists are kept; every other ticket is counted for
the dashboard and let go, so a desk of 100,000 tickets exports in the
memory of the open ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial

from sdesk.clocks import sla
from sdesk.policy.rules import Rules
from sdesk.service.announcements import Announcement
from sdesk.tickets.model import Ticket
from sdesk.website import dashboard, noticeboard, portal
from sdesk.website.dashboard import Collector
from sdesk.website.keptpages import KeptPages
from sdesk.website.pages import PORTALS, Reuse, Templates, desk_pages, portal_pages
from sdesk.website.publish import LazyPage


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
    kept: KeptPages | None = None,
) -> dict[str, str | bytes | LazyPage]:
    """Every page by its path: the desk's pages and each customer's portal in its own folder.

    With ``customer``, that customer's portal alone, to publish where that customer reads it.
    ``attachment(ticket, name)`` gives a file the customer sent (None: not there), which the portal links;
    ``clocks`` where the tickets' clocks come from (worked out from each ticket by default); ``kept`` the
    ticket pages of the last export, reused where they still hold.
    """
    view = _views(rules, now, clocks, kept)
    if customer is not None:
        alone = portal.build(customer, tickets, announcements, rules, now, recent_days, clocks, view)
        return {**portal_pages(alone, templates, _reuse(kept, "")), **_files(alone, attachment, "")}
    collector = Collector(rules, now, clocks)
    listed: dict[str, list[Ticket]] = {key: [] for key in rules.customers}
    for ticket in tickets:
        collector.add(ticket)
        if ticket.customer in listed and portal.shown(ticket, rules, now, recent_days):
            listed[ticket.customer].append(ticket)
    portals = [
        portal.build(key, listed[key], announcements, rules, now, recent_days, clocks, view) for key in sorted(listed)
    ]
    notices = noticeboard.notices(announcements, rules, now)
    pages: dict[str, str | bytes | LazyPage] = {
        **desk_pages(collector.dashboard(), notices, portals, templates, recent_days)
    }
    for each in portals:
        prefix = f"{PORTALS}/{each.customer}/"
        for name, page in portal_pages(each, templates, _reuse(kept, prefix)).items():
            pages[prefix + name] = page
        pages.update(_files(each, attachment, prefix))
    return pages


def looks_back(now: datetime, recent_days: int) -> datetime:
    """The earliest moment a closed ticket must speak of for the site to show or count it: the portals' recent
    days, the dashboard's weeks of compliance, its week of closings and its days of time registered (with two
    days to spare for time zones)."""
    dashboard_window = max(timedelta(weeks=dashboard.WEEKS + 1), timedelta(days=dashboard.TIME_DAYS))
    return now - max(dashboard_window, timedelta(days=recent_days)) - timedelta(days=2)


def _views(rules: Rules, now: datetime, clocks: sla.ClockSource | None, kept: KeptPages | None) -> portal.View | None:
    """How a ticket's view is made: from the kept pages where they hold (None: the portal's default)."""
    if kept is None:
        return None
    return lambda ticket, language: kept.view(
        ticket, language, partial(portal.public_ticket_and_span, ticket, rules, language, now, clocks)
    )


def _reuse(kept: KeptPages | None, prefix: str) -> Reuse | None:
    """Where a ticket's page may be left as it is: kept pages, named by their path in the folder."""
    if kept is None:
        return None
    return lambda ticket_id, name: kept.signature(ticket_id, prefix + name)


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
