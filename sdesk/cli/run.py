"""`sdesk run`: one cycle of the desk's runner, and ready-made set-ups to run it on a timer."""

from __future__ import annotations

from pathlib import Path

import click

from sdesk.cli import context
from sdesk.cli.mailin import Mailbox, mailbox_options
from sdesk.cli.notify import MailServer, smtp_options
from sdesk.cli.options import desk_options, format_option
from sdesk.errors import SdeskError
from sdesk.output import Column, render_rows

STEP_COLUMNS = (Column("step", "Step"), Column("summary", "What it did", fill=True))


@click.command("run")
@click.option("--dry-run", is_flag=True, help="Say what a cycle would do (fetches, changes nothing).")
@click.option(
    "--export",
    "export_to",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Export the site (portals, dashboard) into DIR every cycle; only pages that changed are made again.",
)
@click.option(
    "--example",
    type=click.Choice(["cron", "systemd", "ci"]),
    help="Print a ready-made set-up that runs a cycle every few minutes, and exit.",
)
@mailbox_options
@smtp_options
@format_option
@desk_options()
def run_command(
    dry_run: bool, export_to: Path | None, example: str | None, mail: MailServer, mailbox: Mailbox | None, fmt: str
) -> None:
    """One cycle of the desk's runner: pull, receive mail, sweep, push, deliver the mail history owes, export.

    Run it in one clone of the desk on a server (cron, a systemd timer or CI:
    --example prints each). Agents only record in their clones; this cycle
    does what must happen once: the sweep's reminders, auto-closes and
    breaches, every mail to customers and agents, the portal. Each step says
    what it did in one line; a failing step says which and why, exits 1 and
    leaves the clone clean for the next cycle. Without --smtp no mail is sent;
    with --maildir or --imap the customers' mail is received first. As JSON
    or CSV each line is a row (step, summary), printed also when a step fails.
    """
    if example is not None and fmt != "table":
        raise click.UsageError("--example prints a set-up to copy, not data: leave out --format")
    if example is not None:
        from sdesk.actions.runner_examples import example as text

        click.echo(text(example, context.desk().root), nl=False)
        return
    from sdesk.actions import cycle

    desk = context.desk()
    settings = cycle.Settings(mail.connection, export_to, mail.retry, dry_run, mailbox, context.progress())
    rows: list[dict[str, str]] = []

    def say(line: str) -> None:  # every line is "step: what it did"
        if fmt == "table":
            click.echo(line)
        else:
            step, _, summary = line.partition(": ")
            rows.append({"step": step, "summary": summary})

    try:
        cycle.run(desk, context.now(desk), settings, say)
    except cycle.StepFailed as failure:
        raise SdeskError(f"the cycle stopped at {failure.message}; the next cycle starts over") from None
    finally:
        if fmt != "table":
            click.echo(render_rows(rows, STEP_COLUMNS, fmt), nl=False)
