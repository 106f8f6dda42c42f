"""`sdesk export html|json|csv`: the static site of customer portals, the dashboard and announcements;
every ticket with its whole history, for a backup or another desk (`sdesk import` reads it back)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sdesk.cli import completers, context
from sdesk.cli.options import desk_options, format_option
from sdesk.output import plural

if TYPE_CHECKING:
    from sdesk.tickets.model import Ticket

RECENT_DAYS = 30  # as sdesk.website.portal.RECENT_DAYS, without importing it at start-up


@click.group()
def export() -> None:
    """Export the desk: a static HTML site, or every ticket with its history as JSON or CSV."""


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
@format_option
@desk_options()
def export_html(out: Path, customer: str | None, recent_days: int, fmt: str) -> None:
    """Customer portals, the desk dashboard and the announcements, as a static site in OUT.

    Each customer's portal is a folder of its own (customers/KEY/) that shows
    only that customer's tickets and their public history; the dashboard and
    announcements pages are the team's. Pages need no network and no
    JavaScript. The same desk at the same SDESK_NOW gives the same bytes, and
    a re-export removes only pages an earlier export wrote. A ticket file
    that does not read stops the export: a site without it would tell its
    customer the ticket is gone.
    """
    from sdesk.output import render_record
    from sdesk.website.export import export

    desk = context.desk()
    rules = desk.rules
    exported = export(desk, out, customer, recent_days, context.now(desk), context.progress())
    result = exported.published
    if fmt != "table":
        counts = {"pages": exported.pages, "written": result.written, "unchanged": result.unchanged}
        click.echo(render_record({"out": str(out), **counts, "removed": result.removed}, fmt), nl=False)
        return
    what = f"the portal of {rules.customers[customer].name}" if customer else "the site"
    click.echo(
        f"Exported {what} to {out}: {exported.pages} pages, {result.written} written, "
        f"{result.unchanged} unchanged, {result.removed} removed."
    )
    click.echo(f"Open {out / 'index.html'} in a browser.", err=True)


def _output_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, path_type=Path),
        default="-",
        show_default=True,
        metavar="FILE",
        help="Where to write it: a file (written whole or not at all), or - for stdout.",
    )(command)


@export.command("json")
@_output_option
@desk_options()
def export_json(output: Path) -> None:
    """Every ticket, open and closed, with its whole history, as a JSON list (a ticket a line).

    Each ticket is its file's content (the same keys, times as written), so
    `sdesk import` makes the very same files in another desk.
    """
    _export("json", output)


@export.command("csv")
@_output_option
@desk_options()
def export_csv(output: Path) -> None:
    """Every ticket, open and closed, as CSV: a row per ticket, its history as JSON in the last column.

    A cell that a spreadsheet would run as a formula, that starts with ', or that
    holds a control character is written as ' and the text JSON-escaped;
    `sdesk import` undoes exactly that, so the round trip loses nothing.
    """
    _export("csv", output)


def _export(fmt: str, output: Path) -> None:
    from sdesk.actions import transfer
    from sdesk.storage.store import write_atomic

    desk = context.desk()
    counted = [0]

    def tickets() -> Iterator[Ticket]:
        for ticket in transfer.every_ticket(desk, context.progress()):
            counted[0] += 1
            yield ticket

    pieces = transfer.export(tickets(), fmt)
    if str(output) == "-":
        for piece in pieces:
            click.echo(piece, nl=False)
    else:
        write_atomic(output, pieces)
    where = "" if str(output) == "-" else f" to {output}"
    click.echo(f"Exported {plural(counted[0], 'ticket')}{where}.", err=True)
