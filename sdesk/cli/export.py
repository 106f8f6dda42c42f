"""`sdesk export html`: the static site of customer portals, the dashboard and announcements."""

from __future__ import annotations

from pathlib import Path

import click

from sdesk.cli import completers, context
from sdesk.cli.options import desk_options

RECENT_DAYS = 30  # as sdesk.website.portal.RECENT_DAYS, without importing it at start-up


@click.group()
def export() -> None:
    """Export the desk for others to read: a static HTML site."""


@export.command("html")
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--customer",
    metavar="KEY",
    shell_complete=completers.customers,
    help="Only this customer's portal, written straight into OUT.",
)
@click.option(
    "--recent",
    "recent_days",
    type=click.IntRange(1, 3650),
    default=RECENT_DAYS,
    show_default=True,
    metavar="DAYS",
    help="How long closed tickets and past announcements stay on a portal.",
)
@desk_options()
def export_html(out: Path, customer: str | None, recent_days: int) -> None:
    """Customer portals, the desk dashboard and the announcements, as a static site in OUT.

    Each customer's portal is a folder of its own (customers/KEY/) that shows
    only that customer's tickets and their public history; the dashboard and
    announcements pages are the team's. Pages need no network and no
    JavaScript. The same desk at the same SDESK_NOW gives the same bytes, and
    a re-export removes only pages an earlier export wrote. A ticket file
    that does not read stops the export: a site without it would tell its
    customer the ticket is gone.
    """
    from sdesk.website.export import export

    desk = context.desk()
    rules = desk.rules
    exported = export(desk, out, customer, recent_days, context.now(desk))
    result = exported.published
    what = f"the portal of {rules.customers[customer].name}" if customer else "the site"
    click.echo(
        f"Exported {what} to {out}: {exported.pages} pages, {result.written} written, "
        f"{result.unchanged} unchanged, {result.removed} removed."
    )
    click.echo(f"Open {out / 'index.html'} in a browser.", err=True)
