"""After the work: `sdesk log` registers time on a ticket, `sdesk survey` records the customer's score."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from sdesk.cli import completers, context
from sdesk.cli.options import desk_options, format_option, parse_day
from sdesk.output import render_record
from sdesk.words import SCORES

if TYPE_CHECKING:
    from sdesk.storage.store import Desk
    from sdesk.storage.timers import Timer


@click.command("log")
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.any_ticket)
@click.argument("duration", required=False)
@click.option("--note", help="What was done; it appears on the invoice's detail.")
@click.option("--on", "day", metavar="DATE", help="The day the work was done (YYYY-MM-DD, default: today).")
@click.option(
    "--billable/--covered",
    "billable",
    default=None,
    help="Bill it, or count it as covered by the contract (default: billable when the ticket "
    "is outside the contract or the plan bills on-site work done on site, else covered; a correction keeps its "
    "entry's class unless it moves the work on or off site).",
)
@click.option(
    "--on-site/--remote",
    "on_site",
    default=None,
    help="Where the work was done: at the customer's, or remote (default: remote; a correction keeps its "
    "entry's place). On-site work is billed as the customer's plan says (rules.yaml plans.*.on_site).",
)
@click.option(
    "--correct",
    type=int,
    metavar="N",
    help="Correct time entry N (as sdesk show numbers them) instead of adding one: DURATION replaces it "
    "in every total, 0 withdraws it. It keeps the entry's day, class and place unless --on, --billable/--covered "
    "or --on-site/--remote say otherwise.",
)
@click.option("--start", is_flag=True, help="Start a timer on the ticket instead of giving DURATION (one per agent).")
@click.option(
    "--stop",
    is_flag=True,
    help="Stop your timer and log the time it ran, rounded up to the minute, on the day it started (with --note).",
)
@click.option("--discard", is_flag=True, help="Drop your timer on the ticket without logging anything.")
@format_option
@desk_options()
def log(
    ticket_ref: str,
    duration: str | None,
    note: str | None,
    day: str | None,
    billable: bool | None,
    on_site: bool | None,
    correct: int | None,
    start: bool,
    stop: bool,
    discard: bool,
    fmt: str,
) -> None:
    """Register DURATION of work on a ticket (45m, 1h30m, 1u30, 1,5 uur or 1:30), also after it closed.

    A wrong entry is corrected with --correct N, not by editing the file: the
    correction is a new entry in the history, so it merges between clones like
    any other work and the history keeps who corrected what.

    Or time the work: --start now, --stop --note TEXT when done logs the
    same entry as DURATION would; the timer is kept in this clone and
    survives a new shell.
    """
    from sdesk.actions import workflow
    from sdesk.calendar import durations
    from sdesk.cli.tickets import change
    from sdesk.tickets.model import MAX_ENTRY_MINUTES

    timer = _timer_usage(
        duration, note, day, billable is not None or on_site is not None, correct, start, stop, discard
    )
    billing = None if billable is None else ("billable" if billable else "covered")
    if timer is not None:
        _timer(timer, ticket_ref, note, billing, on_site, fmt)
        return
    assert duration is not None and note is not None  # _timer_usage says so
    try:
        minutes = 0 if duration.strip() == "0" else durations.parse_minutes(duration)  # 0 withdraws (--correct)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="DURATION") from None
    if minutes > MAX_ENTRY_MINUTES:
        raise click.BadParameter(
            f"{duration} is more than a day: log each day's work on its own", param_hint="DURATION"
        )
    on = parse_day(day, "--on") if day else None
    desk = context.desk()
    change(
        desk,
        ticket_ref,
        fmt,
        lambda ticket, agent, moment: workflow.log_time(
            ticket, desk.rules, minutes, note, agent, moment, on, billing, correct, on_site
        ),
    )


def _timer_usage(
    duration: str | None,
    note: str | None,
    day: str | None,
    how: bool,
    correct: int | None,
    start: bool,
    stop: bool,
    discard: bool,
) -> str | None:
    """Which timer option was given (None: none), refusing the combinations that make no sense as usage."""
    given = [name for name, on in (("--start", start), ("--stop", stop), ("--discard", discard)) if on]
    if len(given) > 1:
        raise click.UsageError(f"{' and '.join(given)} do not go together: give one of --start, --stop, --discard")
    timer = given[0] if given else None
    if timer is None:
        if duration is None:
            raise click.UsageError("Missing argument 'DURATION' (e.g. 45m), or time the work with --start/--stop.")
        if note is None:
            raise click.UsageError("Missing option '--note': say what was done.")
        return None
    if duration is not None:
        raise click.UsageError(f"{timer} takes no DURATION: the timer measures it")
    if day is not None or correct is not None:
        raise click.UsageError(f"{timer} takes no --on or --correct: the timer logs a new entry on the day it started")
    if timer == "--stop" and note is None:
        raise click.UsageError("Missing option '--note': --stop logs the time, so say what was done.")
    if timer != "--stop" and (note is not None or how):
        raise click.UsageError(f"{timer} takes no --note, --billable/--covered or --on-site: they go with --stop")
    return timer


def _timer(option: str, ticket_ref: str, note: str | None, billing: str | None, on_site: bool | None, fmt: str) -> None:
    """Start, stop or discard the acting agent's timer on the ticket, under the timer's lock."""
    from sdesk.calendar.durations import words
    from sdesk.storage import timers

    desk = context.desk()
    ticket_id = desk.resolve(ticket_ref)
    agent, now, zone = context.actor(desk), context.now(desk), desk.rules.timezone
    with timers.locked(desk, agent) as running:
        if option == "--start":
            timer = timers.start(desk, agent, ticket_id, now, running)
            stop = f"stop it with sdesk log {ticket_id} --stop --note …"
            _said(timer, "running", fmt, f"{ticket_id}: timer started {timer.since(zone)}; {stop}")
            return
        timer = timers.on_ticket(running, ticket_id, zone, option.removeprefix("--"))
        if option == "--stop":
            minutes = timers.minutes_to_log(timer, now, zone)
            _log_timed(desk, timer, note or "", billing, on_site, minutes, fmt)
        timers.drop(desk, agent)
        if option == "--discard":
            ran = f"{timer.since(zone)} ({words(timer.so_far(now))})"
            _said(timer, "discarded", fmt, f"{ticket_id}: timer since {ran} discarded; nothing logged")


def _log_timed(
    desk: Desk, timer: Timer, note: str, billing: str | None, on_site: bool | None, minutes: int, fmt: str
) -> None:
    """The timer's time as one ordinary entry, on the day it started: exactly what `log ID DURATION` records."""
    from sdesk.actions import workflow
    from sdesk.cli.tickets import change

    day = timer.started.astimezone(desk.rules.timezone).date()
    change(
        desk,
        timer.ticket,
        fmt,
        lambda ticket, by, moment: workflow.log_time(
            ticket, desk.rules, minutes, note, by, moment, day, billing, on_site=on_site
        ),
    )


def _said(timer: Timer, state: str, fmt: str, sentence: str) -> None:
    """What became of a timer: a sentence for people, its fields for scripts."""
    if fmt == "table":
        click.echo(sentence)
        return
    data = {"ticket_id": timer.ticket, "by": timer.by, "started": timer.started, "state": state}
    click.echo(render_record(data, fmt), nl=False)


@click.command()
@click.argument("ticket_ref", metavar="ID", shell_complete=completers.closed_ticket)
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
