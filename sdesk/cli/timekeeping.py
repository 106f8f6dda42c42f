"""After the work: `sdesk log` registers time on a ticket, `sdesk survey` records the customer's score."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from sdesk.cli import context
from sdesk.cli.options import desk_options, format_option, parse_day
from sdesk.words import SCORES

if TYPE_CHECKING:
    pass


@click.command("log")
@click.argument("ticket_ref", metavar="ID")
@click.argument("duration")
@click.option("--note", required=True, help="What was done; it appears on the invoice's detail.")
@click.option("--on", "day", metavar="DATE", help="The day the work was done (YYYY-MM-DD, default: today).")
@click.option(
    "--billable/--covered",
    "billable",
    default=None,
    help="Bill it, or count it as covered by the contract (default: billable when the ticket "
    "is outside the contract, else covered; a correction keeps its entry's class).",
)
@click.option(
    "--correct",
    type=int,
    metavar="N",
    help="Correct time entry N (as sdesk show numbers them) instead of adding one: DURATION replaces it "
    "in every total, 0 withdraws it. It keeps the entry's day and class unless --on or --billable/--covered say "
    "otherwise.",
)
@format_option
@desk_options()
def log(
    ticket_ref: str, duration: str, note: str, day: str | None, billable: bool | None, correct: int | None, fmt: str
) -> None:
    """Register DURATION of work on a ticket (45m, 1h30m, 1.5h or 1:30), also after it closed.

    A wrong entry is corrected with --correct N, not by editing the file: the
    correction is a new entry in the history, so it merges between clones like
    any other work and the history keeps who corrected what.
    """
    from sdesk.actions import workflow
    from sdesk.cli.tickets import change
    from sdesk.service import timelog
    from sdesk.tickets.model import MAX_ENTRY_MINUTES

    try:
        minutes = 0 if duration.strip() == "0" else timelog.parse_minutes(duration)  # 0 withdraws (--correct)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="DURATION") from None
    if minutes > MAX_ENTRY_MINUTES:
        raise click.BadParameter(
            f"{duration} is more than a day: log each day's work on its own", param_hint="DURATION"
        )
    on = parse_day(day, "--on") if day else None
    billing = None if billable is None else ("billable" if billable else "covered")
    desk = context.desk()
    change(
        desk,
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.log_time(
            ticket, desk.rules, minutes, note, agent, moment, on, billing, correct
        ),
    )


@click.command()
@click.argument("ticket_ref", metavar="ID")
@click.argument("score", type=click.IntRange(*SCORES))
@click.option("--comment", "remark", metavar="TEXT", help="What the customer said with the score.")
@format_option
@desk_options()
def survey(ticket_ref: str, score: int, remark: str | None, fmt: str) -> None:
    """Record the customer's satisfaction SCORE for a closed ticket: 1 (very unsatisfied) to 5 (very satisfied).

    One answer per ticket; `sdesk report csat` sums them up.
    """
    from sdesk.actions import workflow
    from sdesk.cli.tickets import change

    desk = context.desk()
    change(
        desk,
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.survey(ticket, desk.rules, score, remark, agent, moment),
    )
