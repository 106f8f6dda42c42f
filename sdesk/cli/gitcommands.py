"""Git commands: registering the merge driver, and the driver itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click

from sdesk.cli import context
from sdesk.cli.options import desk_options
from sdesk.errors import SdeskError


@click.group("git")
def git_group() -> None:
    """Work with the desk's git repository: sdesk git setup once per clone."""


@git_group.command("setup")
@desk_options()
def setup() -> None:
    """Make git merge ticket files by their meaning (once per clone; sdesk init does it too).

    Writes .gitattributes (commit it) and this clone's git config, so that
    concurrent comments, time entries and status changes on one ticket merge
    without conflict markers.
    """
    from sdesk import gitrepo

    for line in gitrepo.setup(context.desk().root):
        click.echo(line)


@click.command("merge-ticket")
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ours", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("theirs", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("name", required=False, default="ticket")
def merge_ticket(base: Path, ours: Path, theirs: Path, name: str) -> None:
    """Git's merge driver for ticket files: merge THEIRS into OURS, BASE being their common version.

    Histories are unioned and fields take the value of their latest event;
    what cannot be decided is left to git's own line merge, as a conflict.
    """
    from sdesk import merge
    from sdesk.store import read_ticket, render, write_atomic

    try:
        merged, decisions = merge.merge(*(read_ticket(path, named_after_id=False) for path in (base, ours, theirs)))
    except (SdeskError, merge.Undecidable) as why:
        click.echo(f"sdesk merge-ticket: {name}: {why}; left to git's line merge", err=True)
        raise SystemExit(_line_merge(base, ours, theirs)) from None
    write_atomic(ours, render(merged))
    for decision in decisions:
        click.echo(f"sdesk merge-ticket: {name}: {decision.text}", err=True)


def _line_merge(base: Path, ours: Path, theirs: Path) -> int:
    """What git does without a driver: a line merge into OURS, conflict markers where both sides differ."""
    done = subprocess.run(
        ["git", "merge-file", "-L", "ours", "-L", "base", "-L", "theirs", str(ours), str(base), str(theirs)],
        check=False,
    )
    return 0 if done.returncode == 0 else 1
