"""Desk commands: init and check."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from sdesk.cli import context
from sdesk.cli.options import desk_options, format_option
from sdesk.errors import SdeskError, display_path
from sdesk.output import Column, plural, render_rows

if TYPE_CHECKING:
    from sdesk.storage.store import Desk

PROBLEM_COLUMNS = (
    Column("file", "File"),
    Column("line", "Line"),
    Column("column", "Col"),
    Column("problem", "Problem", fill=True),
)


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="Service Desk", show_default=True, help="The desk's name, shown to customers.")
def init(folder: Path, name: str) -> None:
    """Make FOLDER a new desk: a commented rules.yaml, tickets/ and a .gitignore."""
    from sdesk.storage import gitrepo, scaffold

    for created in scaffold.create_desk(folder, name):
        click.echo(f"created {created}")
    try:
        for line in gitrepo.setup(folder):
            click.echo(line)
        click.echo(f"Next: edit {folder / 'rules.yaml'}, then commit the desk.", err=True)
    except SdeskError:  # not in a git repository yet
        click.echo(f"Next: edit {folder / 'rules.yaml'}, then 'git init', 'sdesk git setup' and commit.", err=True)


@click.command()
@click.option(
    "--since",
    metavar="REF",
    help="Compare the tickets' committed history with this commit instead of the last one (HEAD): in CI, "
    "--since origin/main refuses a push that edited or removed an event by hand.",
)
@format_option
@desk_options()
def check(since: str | None, fmt: str) -> None:
    """Validate rules.yaml, every ticket and announcement file and the desk's templates (for CI).

    In a git repository also: tickets with an unresolved merge conflict, and
    committed events edited or removed by hand since the last commit (or
    --since REF). Warns when this clone cannot run the ticket merge driver.
    Exits 1 if anything is wrong.
    """
    from sdesk.storage import gitrepo, parallel

    desk = context.desk()
    rules = desk.rules
    problems: list[SdeskError] = desk.strays()
    announced = set()
    for number in desk.announcement_ids():
        try:
            desk.read_announcement(number)
            announced.add(number)
        except SdeskError as error:
            problems.append(error)
    paths = [desk.path_for(number) for number in desk.ticket_ids()]
    for found in parallel.map_files(_file_problems, (desk, frozenset(announced)), paths):
        problems += found
    count = len(paths)
    from sdesk.mail import compose  # Jinja2 only for commands that need it
    from sdesk.website import pages

    problems += compose.Templates(desk.root, rules.timezone).check()
    problems += pages.Templates(desk.root).check()
    in_git = gitrepo.check(desk.root, desk.tickets_dir, since)
    problems += in_git.problems
    for warning in in_git.warnings:
        click.echo(f"Warning: {warning}", err=True)
    rows = [
        {"file": display_path(p.path) if p.path else "", "line": p.line, "column": p.column, "problem": p.message}
        for p in problems
    ]
    if fmt != "table":
        click.echo(render_rows(rows, PROBLEM_COLUMNS, fmt), nl=False)
    else:
        for problem in problems:
            click.echo(str(problem))
    summary = f"{plural(count, 'ticket file')} checked, {plural(len(problems), 'problem')}"
    if problems:
        raise SdeskError(summary)
    click.echo(f"{summary}.", err=True)


def _file_problems(checking: tuple[Desk, frozenset[str]], path: Path) -> list[SdeskError]:
    """Everything wrong with one ticket file, located; runs in worker processes on a large desk."""
    from sdesk.formats.files import read_text
    from sdesk.formats.reader import SchemaError, located
    from sdesk.policy.checks import ticket_problems
    from sdesk.service.timelog import amends_problems
    from sdesk.storage.store import parse_ticket

    desk, announced = checking
    try:
        text = read_text(path, desk.root)
        ticket = parse_ticket(text, path)
    except SdeskError as error:
        from sdesk.storage.gitrepo import unresolved_conflict

        return [unresolved_conflict(path, desk.root) or error]
    found = ticket_problems(ticket, desk.rules) + amends_problems(ticket.history)
    if ticket.outage and ticket.outage not in announced:
        found.append(SchemaError(("outage",), f"no announcement {ticket.outage} in {desk.announcements_dir.name}/"))
    return list(located(found, path, text)) if found else []
