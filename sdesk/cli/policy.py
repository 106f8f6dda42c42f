"""Policy commands: rules check, rules explain, and the JSON Schemas for editors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from sdesk.cli import completers, context
from sdesk.cli.options import check_format_option, desk_options, format_option
from sdesk.cli.pager import paged
from sdesk.cli.problems import report
from sdesk.errors import SdeskError, display_path
from sdesk.output import plural, render_rows, to_json
from sdesk.words import SCHEMA_KINDS

if TYPE_CHECKING:
    from sdesk.policy.decisions import Assessment
    from sdesk.policy.rules import Rules


@click.group()
def rules() -> None:
    """Check the desk's policy in rules.yaml and see how it applies to a ticket."""


@rules.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@check_format_option
@desk_options()
@paged
def rules_check(path: Path | None, fmt: str) -> None:
    """Validate rules.yaml (or PATH) and list every problem as FILE:LINE:COL: message.

    Exits 1 if there is any problem, so a desk's CI or pre-commit hook can
    keep a broken policy from landing.
    """
    from sdesk.storage import store

    if path is None:
        desk = context.desk()
        target, root = desk.rules_path, desk.root
    else:  # a file the user names may be a link to anywhere: they chose it
        target, root = path, Path(path.absolute().anchor)
    loaded, problems = store.rules_problems(target, root)
    report(problems, fmt)
    if loaded is None:
        raise SdeskError(f"{plural(len(problems), 'problem')}", target)
    click.echo(f"{display_path(target)}: OK ({_summary(loaded)})", err=fmt != "table")  # scripts read stdout
    if not loaded.agents:
        click.echo(
            "Note: no agents declared: any email may change tickets and be assigned them; "
            "declare agents: in rules.yaml to check --as, SDESK_USER, git's user.email and --assignee against them",
            err=True,
        )


@rules.command("explain")
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.any_ticket)
@format_option
@desk_options()
@paged
def rules_explain(ticket_ref: str, fmt: str) -> None:
    """Show how the rules apply to a ticket, and why.

    The priority step by step, each eligibility check, the mandatory fields,
    each exclusion and routing rule, fired or not, with the facts that
    decided it. The rules are applied as they stand now to the ticket's
    current fields, on the day it was opened.
    """
    from sdesk.policy import decisions, explain, priority

    desk = context.desk()
    rules_now = desk.rules
    ticket = desk.read(desk.resolve(ticket_ref))
    values = {**ticket.fields(), "team": None}
    assessment = decisions.assess(rules_now, values, ticket.created.date())
    if fmt != "table":
        print_assessment(assessment, ticket.type, fmt)
        return
    click.echo(f"{ticket.id}  {ticket.title}\n")
    print_assessment(assessment, ticket.type, fmt)
    differences = []
    if ticket.priority != assessment.priority.level:
        how = "set by hand" if ticket.priority_set_by_hand else "the rules have changed since"
        differences.append(f"The ticket has priority {ticket.priority} ({how}).")
    if ticket.team != assessment.team:
        differences.append(f"The ticket is with team {ticket.team}.")
    if priority.phone_owed(ticket, rules_now):
        differences.append(f"Not phoned yet: a {ticket.priority} is phoned as well (sdesk call {ticket.id} --note …).")
    if differences:
        click.echo("\n" + "\n".join(differences))
    notes = explain.history_notes(ticket)
    if notes:
        click.echo("\n" + notes, nl=False)


@click.command()
@click.argument("kind", type=click.Choice(SCHEMA_KINDS))
def schema(kind: str) -> None:
    """Print the JSON Schema of rules.yaml, a ticket file or an announcement file.

    Editors with yaml-language-server validate while you type when a file
    starts with: # yaml-language-server: $schema=PATH-TO-SCHEMA
    """
    from sdesk.storage import schemas

    click.echo(schemas.text(kind), nl=False)


def print_assessment(assessment: Assessment, ticket_type: str | None, fmt: str) -> None:
    from sdesk.policy import explain

    if fmt == "json":
        click.echo(to_json(explain.as_data(assessment)), nl=False)
    elif fmt == "csv":
        click.echo(render_rows(explain.as_rows(assessment), explain.ROW_COLUMNS, "csv"), nl=False)
    else:
        click.echo(explain.explanation(assessment, ticket_type), nl=False)


def _summary(loaded: Rules) -> str:
    counts = [
        plural(len(loaded.customers), "customer"),
        plural(len(loaded.teams), "team"),
        *([plural(len(loaded.agents), "agent")] if loaded.agents else []),
        plural(len(loaded.plans), "plan"),
        plural(len(loaded.service.calendars), "calendar"),
        plural(len(loaded.statuses), "status", "statuses"),
        plural(len(loaded.types), "ticket type"),
        f"priorities {'/'.join(loaded.priority.levels)}",
        plural(len(loaded.priority.adjustments), "adjustment"),
        plural(len(loaded.exclusions), "exclusion"),
        plural(len(loaded.routing), "routing rule"),
    ]
    if loaded.mail.address:
        counts.append(f"mail in at {loaded.mail.address} ({plural(len(loaded.mail.routes), 'mail route')})")
    if loaded.portal.url:
        counts.append(f"portal at {loaded.portal.url}")
    return ", ".join(counts)
