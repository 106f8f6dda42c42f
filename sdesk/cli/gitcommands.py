"""Git commands: registering the merge driver, and the driver itself."""

from __future__ import annotations

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
    without conflict markers. Git runs the sdesk it finds on PATH, so a
    reinstalled sdesk needs no new setup; when none runs, git's own line merge
    marks the conflict.
    """
    from sdesk.storage import gitrepo

    for line in gitrepo.setup(context.desk().root):
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
    from sdesk.storage import gitrepo

    try:
        status = _merge_by_meaning(base, ours, theirs, name)
    except Exception as error:  # a bug must not cost the other side its work: git's line merge marks the conflict
        click.echo(f"sdesk merge-ticket: {name}: {type(error).__name__}: {error}; left to git's line merge", err=True)
        status = gitrepo.line_merge(base, ours, theirs, conflict=True)
    raise SystemExit(status)


def _merge_by_meaning(base: Path, ours: Path, theirs: Path, name: str) -> int:
    from sdesk.formats import files, yamlio
    from sdesk.storage import gitrepo, merge
    from sdesk.storage.store import SCHEMA_COMMENT, parse_ticket, read_ticket, render, write_atomic

    try:
        texts = [files.read_text(ours), files.read_text(theirs)]
        mine, other = parse_ticket(texts[0], ours, named_after_id=False), parse_ticket(texts[1], theirs, False)
    except SdeskError as why:  # a side that is no ticket is a conflict, even where its lines merge cleanly
        click.echo(f"sdesk merge-ticket: {name}: {why}; left to git's line merge, as a conflict", err=True)
        return gitrepo.line_merge(base, ours, theirs, conflict=True)
    if any(yamlio.comments(text, SCHEMA_COMMENT) for text in texts):  # rewriting from data would drop them
        click.echo(f"sdesk merge-ticket: {name}: holds hand-written comments; left to git's line merge", err=True)
        return gitrepo.line_merge(base, ours, theirs, valid=_is_ticket)
    try:
        common = read_ticket(base, named_after_id=False)
    except SdeskError:
        common = None  # no common version (both added the file) or a broken one: the shared events stand in
    try:
        merged, decisions = merge.merge(common, mine, other)
    except merge.Undecidable as why:  # a contradiction stays a conflict even where the lines would merge
        click.echo(f"sdesk merge-ticket: {name}: {why}; left to git's line merge, as a conflict", err=True)
        return gitrepo.line_merge(base, ours, theirs, conflict=True)
    for decision in decisions:
        click.echo(f"sdesk merge-ticket: {name}: {decision.text}", err=True)
    write_atomic(ours, render(merged))
    return 0


def _is_ticket(path: Path) -> bool:
    """Did git's line merge make a valid ticket (and not, say, a file with one key twice)?"""
    from sdesk.storage.store import read_ticket

    try:
        read_ticket(path, named_after_id=False)
    except SdeskError:
        return False
    return True
