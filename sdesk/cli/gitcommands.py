"""Git commands: registering the merge driver, and the driver itself."""

from __future__ import annotations

from pathlib import Path

import click

from sdesk.cli import context
from sdesk.cli.options import desk_options


@click.group("git")
def git_group() -> None:
    """Work with the desk's git repository: sdesk git setup once per clone."""


@git_group.command("setup")
@desk_options()
def setup() -> None:
    """Make git merge ticket files by their meaning (once per clone; sdesk init does it too).

    Writes .gitattributes (commit it) and this clone's git config, so that
    concurrent comments, time entries and status changes on one ticket merge
    without conflict markers. Git runs the sdesk it finds on PATH, so a
    reinstalled sdesk needs no new setup; when none runs, git's own line merge
    marks the conflict.
    """
    from sdesk.storage import mergedriver

    for line in mergedriver.setup(context.desk().root):
        click.echo(line)


@click.command("merge-ticket")
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ours", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("theirs", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("name", required=False, default="ticket")
def merge_ticket(base: Path, ours: Path, theirs: Path, name: str) -> None:
    """Git's merge driver for ticket files: merge THEIRS into OURS, BASE being their common version.

    Histories merge event by event and fields take the value of their latest
    event; what cannot be decided is left to git's own line merge, as a
    conflict with markers. Exits 0 when merged, 1 on a conflict.
    """
    from sdesk.storage.mergedriver import merge_files

    status, said = merge_files(base, ours, theirs, name)
    for line in said:
        click.echo(f"sdesk merge-ticket: {line}", err=True)
    raise SystemExit(status)
