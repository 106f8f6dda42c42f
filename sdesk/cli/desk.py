"""Desk commands: init and check."""

from __future__ import annotations

from pathlib import Path

import click

from sdesk.cli import context
from sdesk.cli.options import check_format_option, desk_options
from sdesk.cli.pager import paged
from sdesk.cli.problems import report
from sdesk.errors import SdeskError
from sdesk.output import plural


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="Service Desk", show_default=True, help="The desk's name, shown to customers.")
def init(folder: Path, name: str) -> None:
    """Make FOLDER a new desk: a commented rules.yaml, tickets/ and a .gitignore."""
    from sdesk.calendar import clock
    from sdesk.mail import baseline
    from sdesk.storage import mergedriver, scaffold

    agent = context.founder(folder)
    for created in scaffold.create_desk(folder, name, agent):
        click.echo(f"created {created}")
    if agent is None:
        click.echo("No agents declared (nobody said who they are): anyone may change tickets.", err=True)
    else:
        click.echo(f"{agent[0]} is the desk's first agent: add your colleagues to agents: in rules.yaml.", err=True)
    baseline.write(folder, baseline.NONE, clock.now())
    click.echo(f"created {folder / baseline.FILE}: every event's mail is owed, sent by the runner (sdesk run)")
    click.echo(
        "One clone on a server runs the desk (mail, sweep, portal): sdesk run --example cron|systemd|ci "
        "prints a ready-made set-up.",
        err=True,
    )
    try:
        for line in mergedriver.setup(folder):
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
@click.option(
    "--changed",
    "only_changed",
    is_flag=True,
    help="Read only the ticket files changed since the last commit (or --since REF), the rest as always: "
    "a pre-commit hook on a large desk answers in about a second.",
)
@check_format_option
@desk_options()
@paged
def check(since: str | None, only_changed: bool, fmt: str) -> None:
    """Validate rules.yaml, every ticket and announcement file and the desk's templates (for CI).

    In a git repository also: tickets with an unresolved merge conflict, and
    committed events edited or removed by hand since the last commit (or
    --since REF). Warns when this clone cannot run the ticket merge driver.
    Exits 1 if anything is wrong.
    """
    from sdesk.actions.check import check_desk

    checked = check_desk(context.desk(), since, only_changed, context.progress())
    for warning in checked.warnings:
        click.echo(f"Warning: {warning}", err=True)
    problems = checked.problems
    report(problems, fmt)
    summary = f"{plural(checked.tickets, 'ticket file')} checked, {plural(len(problems), 'problem')}"
    if problems:
        raise SdeskError(summary)
    click.echo(f"{summary}.", err=True)
