"""`sdesk import`: tickets from `sdesk export json|csv`, or from another helpdesk's CSV export with a mapping."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from sdesk.cli import context
from sdesk.cli.options import desk_options, format_option
from sdesk.errors import SdeskError, display_path
from sdesk.output import Column, plural, render_rows

if TYPE_CHECKING:
    from sdesk.actions.transfer import Outcome, Source

IMPORTED_COLUMNS = (
    Column("state", "State"),
    Column("id", "ID"),
    Column("line", "Line"),
    Column("reason", "Why", fill=True),
)
IMPORTED_FIELDS = ("id", "state", "file", "line", "name", "reason")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--from",
    "from_format",
    type=click.Choice(("json", "csv")),
    help="FILE is sdesk export json or csv (default: told by its first character).",
)
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="MAP.yaml",
    help="FILE is another helpdesk's CSV export; MAP.yaml maps its columns and words to this desk.",
)
@click.option(
    "--skip-refused", is_flag=True, help="Import the tickets that pass even when others are refused (exit 1 still)."
)
@click.option("--dry-run", is_flag=True, help="Check every ticket and say what would be imported; write nothing.")
@click.option(
    "--owe-mail",
    is_flag=True,
    help="Import into a desk whose runner already mails: the runner mails what the imported history owes.",
)
@format_option
@desk_options()
def import_tickets(
    file: Path,
    from_format: str | None,
    mapping: Path | None,
    skip_refused: bool,
    dry_run: bool,
    owe_mail: bool,
    fmt: str,
) -> None:
    """Import tickets: from sdesk export json|csv, or another helpdesk's CSV export with --mapping.

    FILE is what sdesk export json or csv wrote (the files come back byte for
    byte), or with --mapping MAP.yaml another helpdesk's CSV export, its
    columns and words mapped to this desk. Each ticket is checked as sdesk
    check checks tickets, every one before any is written: when one is refused
    (listed with its line), nothing is imported unless --skip-refused. A
    ticket the desk has already is left alone, so running it again is harmless.
    """
    from sdesk.actions import transfer

    if mapping is not None and from_format == "json":
        raise click.UsageError("--mapping reads another helpdesk's CSV export: leave out --from json")
    desk = context.desk()
    rows: dict[tuple[str, int | None], dict[str, object]] = {}  # each ticket of the file as it ended
    try:
        job = transfer.Import(
            desk, _source(file, from_format, mapping), skip_refused, dry_run, owe_mail, context.progress()
        )
        for outcome in job.run():
            if outcome.state == "refused":
                context.clear_progress()
                click.echo(outcome.refusal(), err=True)
            rows[(str(outcome.where.path), outcome.where.line)] = _row(outcome)
    except transfer.FileProblems as invalid:  # each at its line, as sdesk rules check lists them
        for problem in invalid.problems:
            click.echo(str(problem), err=True)
        raise
    if job.mail_note:
        click.echo(f"Note: {job.mail_note}", err=True)
    checked, written = job.checked, job.written
    refused = checked["refused"] + written["refused"]
    total = sum(checked.values())
    there = written["unchanged"] if written else checked["unchanged"]
    already = f"; {plural(there, 'ticket')} already in the desk" if there else ""
    if fmt != "table":
        click.echo(render_rows(list(rows.values()), IMPORTED_COLUMNS, fmt, IMPORTED_FIELDS), nl=False)
    if dry_run or (refused and not skip_refused):
        click.echo(f"Would import {plural(checked['checked'], 'ticket')}{already}.", err=True)
    else:
        click.echo(f"Imported {plural(written['imported'], 'ticket')}{already}.", err=fmt != "table")
    if refused:
        done = "the others imported" if skip_refused and not dry_run else "nothing imported"
        hint = (
            "" if skip_refused or dry_run else " (fix them and run it again, or import the others with --skip-refused)"
        )
        raise SdeskError(f"{refused} of {total} refused: {done}{hint}")


def _row(outcome: Outcome) -> dict[str, object]:
    """A ticket of the file for scripts: checked (fit to import, not written: --dry-run, or another was
    refused), imported, unchanged (the desk has it) or refused, at its file and line."""
    where = outcome.where
    return {
        "id": outcome.ticket_id,
        "state": outcome.state,
        "file": display_path(where.path) if where.path else None,
        "line": where.line,
        "name": where.message,
        "reason": outcome.reason or None,
    }


def _source(file: Path, fmt: str | None, mapping: Path | None) -> Source:
    """Where the tickets come from: sdesk's own export, or their CSV through the mapping."""
    from sdesk.actions import movein, transfer

    desk = context.desk()
    if mapping is None:
        return transfer.exported(file, fmt)
    rules = desk.rules
    imap = movein.load_mapping(mapping, rules)
    known = movein.imported_before(context.tickets(desk))
    return movein.rows(file, mapping, imap, rules, context.actor(desk), context.now(desk), known)
