"""The site's pages, rendered from HTML templates a desk can override. No files are written here.

Templates live in ``sdesk/website/templates/``; a desk overrides any of them
with a file of the same name in its own ``templates/html/``. Jinja2 escapes
every value, so a ticket title is text on the page, never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from sdesk.calendar.durations import hours_minutes
from sdesk.errors import SdeskError
from sdesk.formats import templating
from sdesk.website import charts
from sdesk.website.dashboard import Dashboard
from sdesk.website.noticeboard import Notice
from sdesk.website.phrases import phrases
from sdesk.website.portal import Portal
from sdesk.website.publish import LazyPage, Signature

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
DESK_TEMPLATES = Path("templates") / "html"  # inside the desk
TEMPLATE_NAMES = ("base", "charts", "home", "dashboard", "announcements", "portal", "ticket")
PORTALS = "customers"  # the folder of the portals in the whole site


class Templates:
    """The desk's HTML templates over the package's defaults."""

    def __init__(self, desk_root: Path):
        self.desk_root = desk_root
        self.desk_folder = desk_root / DESK_TEMPLATES
        self.environment = templating.environment(desk_root, self.desk_folder, PACKAGE_TEMPLATES, autoescape=True)
        self.environment.filters["hours"] = hours_minutes

    def render(self, name: str, values: Mapping[str, Any]) -> str:
        template = templating.load(self.environment, name, "html", self.desk_folder)
        with templating.reported(self.environment, "html", name):
            page = templating.collect(template.generate(values))
        return page

    def check(self) -> list[SdeskError]:
        """Every desk override sdesk would not use, that does not compile or that the sandbox forbids, located."""

        def used(name: str) -> bool:
            return name.removesuffix(".html") in TEMPLATE_NAMES and name.endswith(".html")

        names = f"<{'|'.join(TEMPLATE_NAMES)}>.html"
        return templating.compile_problems(
            self.environment, self.desk_root, self.desk_folder, "*.html", used, names, "html"
        )


Reuse = Callable[[str, str], Signature | None]  # ticket, page name: the signature its file was left with


def portal_pages(portal: Portal, templates: Templates, reuse: Reuse | None = None) -> dict[str, str | LazyPage]:
    """A customer's portal: index.html and a page per ticket, all in one folder, linking only to each other.

    Only the portal's own page says when it was made and lists the tickets. A ticket's page gets the ticket
    and whose portal it is (:class:`~sdesk.website.portal.PortalHeading`), so it reads the same until the
    ticket or its clocks change, and an export can leave it alone (``reuse``, see :mod:`.keptpages`).
    """
    words = phrases(portal.language)
    values = {"t": words, "desk_name": portal.desk_name, "desk_email": portal.desk_email}
    pages: dict[str, str | LazyPage] = {
        "index.html": templates.render("portal.html", {**values, "portal": portal, "updated": portal.updated})
    }
    for ticket in (*portal.open, *portal.recently_closed):
        name = f"{ticket.id}.html"
        shown = {**values, "portal": portal.heading, "updated": None, "ticket": ticket}
        render = partial(templates.render, "ticket.html", shown)
        pages[name] = LazyPage(render, reuse(ticket.id, name) if reuse is not None else None)
    return pages


def desk_pages(
    dashboard: Dashboard, notices: Iterable[Notice], portals: Iterable[Portal], templates: Templates, recent_days: int
) -> dict[str, str]:
    """The team's pages: the home page with a link to every portal, the dashboard, the announcements."""
    words = phrases(dashboard.language)
    shared = {"t": words, "desk_name": dashboard.desk_name, "desk_email": None, "updated": dashboard.updated}
    listed = list(portals)
    return {
        "index.html": templates.render(
            "home.html", {**shared, "portals": listed, "folder": PORTALS, "recent_days": recent_days}
        ),
        "dashboard.html": templates.render(
            "dashboard.html", {**shared, "d": dashboard, "charts": dashboard_charts(dashboard), "folder": PORTALS}
        ),
        "announcements.html": templates.render("announcements.html", {**shared, "notices": list(notices)}),
    }


def dashboard_charts(dashboard: Dashboard) -> dict[str, Any]:
    """The dashboard's charts, laid out; the same figures are in its tables."""
    words = phrases(dashboard.language)
    levels = dashboard.priorities
    return {
        "backlog": charts.bars(
            [label for label, _, _ in dashboard.backlog],
            [(level, [counts[index] for _, counts, _ in dashboard.backlog]) for index, level in enumerate(levels)],
        ),
        "compliance": charts.lines(
            [week.label[-3:] for week in dashboard.weeks],
            [
                (words["response_pct"], [week.response for week in dashboard.weeks]),
                (words["resolution_pct"], [week.resolution for week in dashboard.weeks]),
            ],
        ),
        "ages": charts.bars(
            [label for label, _ in dashboard.ages], [(words["tickets"], [n for _, n in dashboard.ages])]
        ),
        "time": charts.bars(
            [row.name for row in dashboard.time],
            [
                (words["covered"], [row.covered / 60 for row in dashboard.time]),
                (words["billable"], [row.billable / 60 for row in dashboard.time]),
            ],
            shown=lambda hours: hours_minutes(round(hours * 60)),  # h:mm, as in the table
        ),
    }
