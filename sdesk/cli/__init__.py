"""The `sdesk` command: parse, call the domain, render. Errors are translated once, here.

Commands are imported only when they run: `sdesk --help` and every command's
start-up stay close to the cost of importing Click (bench/RESULTS.md).
``views`` renders tickets for the terminal. May import everything; no other
package imports it.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sdesk import __version__, terminal
from sdesk.cli.options import desk_options, no_pager_option
from sdesk.errors import SdeskError, display_path
from sdesk.words import DATA_CONTRACT

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

# name -> (module:function, the one-line summary `sdesk --help` shows), in the order of a working day.
# tests/test_cli.py checks that each summary is its command's own.
COMMANDS: dict[str, tuple[str, str]] = {
    "new": ("tickets:new", "Open a ticket and print its number."),
    "list": ("tickets:list_tickets", "List tickets, open ones by default, oldest first."),
    "show": ("tickets:show", "Everything about one ticket, history included."),
    "update": ("tickets:update", "Change a ticket's status or fields; each change is recorded in its history."),
    "comment": ("tickets:comment", "Add a comment (public unless --internal)."),
    "priority": ("tickets:priority", "Escalate or de-escalate a ticket to LEVEL, such as P1, by hand."),
    "close": ("tickets:close", "Close a ticket with its resolution."),
    "reopen": (
        "tickets:reopen",
        "Reopen a closed ticket; it goes back to open (the status rules.yaml lists after closed).",
    ),
    "log": (
        "timekeeping:log",
        "Register DURATION of work on a ticket (45m, 1h30m, 1u30, 1,5 uur or 1:30), also after it closed.",
    ),
    "call": (
        "calls:call",
        "Record a phone call on a ticket: a P1 is phoned as well (seed 000), and the queue says so until then.",
    ),
    "callback": (
        "calls:callback",
        "The customer asks to be called back (seed 002): its own clock runs until a call to them is recorded.",
    ),
    "survey": (
        "timekeeping:survey",
        "Record the customer's satisfaction SCORE for a closed ticket: 1 (very unsatisfied) to 5 (very satisfied).",
    ),
    "link": ("announce:link", "Link a ticket to an outage: resolving the outage closes the ticket."),
    "queue": ("sla:queue", "Open work in the order to take it, with the time left on each clock."),
    "sla": ("sla:sla_command", "Clocks that are overdue, or due within --within; exit code 1 when any is listed."),
    "sweep": (
        "sla:sweep_command",
        "Record SLA breaches, remind customers who do not answer, close what they abandoned.",
    ),
    "mail": ("mailin:mail", "Mail in: receive customers' mail, and decide on what the gateway held in triage."),
    "notify": ("notify:notify", "Mail to customers and agents: what history owes, what went out, delivering it."),
    "run": (
        "run:run_command",
        "One cycle of the desk's runner: pull, receive mail, sweep, push, deliver the mail history owes, export.",
    ),
    "serve": (
        "serve:serve",
        "Serve the live customer portal: contacts sign in with a mailed link and work on their tickets.",
    ),
    "announce": ("announce:announce", "Announce planned maintenance and outages; resolve an outage and its tickets."),
    "report": ("reports:report", "Reports over a period: SLA compliance, time and billing, satisfaction."),
    "export": (
        "export:export",
        "Export the desk: a static HTML site, or every ticket with its history as JSON or CSV.",
    ),
    "import": (
        "transfer:import_tickets",
        "Import tickets: from sdesk export json|csv, or another helpdesk's CSV export with --mapping.",
    ),
    "init": ("desk:init", "Make FOLDER a new desk: a commented rules.yaml, tickets/ and a .gitignore."),
    "check": (
        "desk:check",
        "Validate rules.yaml, every ticket and announcement file and the desk's templates (for CI).",
    ),
    "rules": ("policy:rules", "Check the desk's policy in rules.yaml and see how it applies to a ticket."),
    "schema": ("policy:schema", "Print the JSON Schema of rules.yaml, a ticket file or an announcement file."),
    "completion": ("completion:completion", "Print the script that makes Tab complete sdesk in bash, zsh or fish."),
    "git": ("gitcommands:git_group", "Work with the desk's git repository: sdesk git setup once per clone."),
    "merge-ticket": (
        "gitcommands:merge_ticket",
        "Git's merge driver for ticket files: merge THEIRS into OURS, BASE being their common version.",
    ),
}


class SdeskGroup(click.Group):
    """Loads a command when it is used, and turns every SdeskError into Click's one-line `Error: …`, exit 1.

    While a command runs, stdout and stderr show control characters rather than
    send them (sdesk.terminal): whatever a line quotes from a ticket file, the
    terminal prints it and obeys none of it.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        given = kwargs.get("args", args[0] if args else None)
        arguments = sys.argv[1:] if given is None else given
        if any(not is_text(argument) for argument in arguments):
            # Bytes that are no UTF-8 (a terminal in another encoding, a script's raw data) cannot go into a file.
            print("Error: an argument is not UTF-8 text (is the terminal set to UTF-8?)", file=sys.stderr)
            raise SystemExit(2)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = (None if stream is None else terminal.EscapingStream(stream) for stream in saved)
        try:
            return super().main(*args, **kwargs)
        finally:
            sys.stdout, sys.stderr = saved

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        """Tab completion answers in the shell's own protocol on the real stdout (the completers show a
        title's control characters themselves)."""
        escaping = sys.stdout
        sys.stdout = escaping.stream if isinstance(escaping, terminal.EscapingStream) else escaping
        try:
            super()._main_shell_completion(ctx_args, prog_name, complete_var)
        finally:
            sys.stdout = escaping

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names with the summaries above, without importing every command; then the options."""
        from click.shell_completion import CompletionItem

        names = [CompletionItem(name, help=summary) for name, (_, summary) in COMMANDS.items()]
        options = click.Command.shell_complete(self, ctx, incomplete)
        return [item for item in names if item.value.startswith(incomplete)] + options

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, name = COMMANDS[cmd_name][0].partition(":")
        command: click.Command = getattr(import_module(f"sdesk.cli.{module}"), name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the summaries above, without importing every command."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)  # as Click's own format_commands
        rows = [(name, _shorten(summary, limit)) for name, (_, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SdeskError as error:
            # One line, always: a value echoed back with a line break or an escape sequence in it shows them.
            raise click.ClickException(terminal.visible(str(error))) from None
        except BrokenPipeError:  # the reader went away (sdesk export csv | head): stop quietly, as git does
            _silence_stdout()
            raise SystemExit(PIPE_CLOSED) from None
        except OSError as error:  # what the system refused where no domain code expected it (a full disk …)
            where = f"{display_path(Path(error.filename))}: " if error.filename else ""
            raise click.ClickException(terminal.visible(f"{where}{error.strerror or error}")) from None
        except UnicodeDecodeError as error:  # text read from stdin or an editor that is not UTF-8
            raise click.ClickException(f"the text given is not UTF-8 (byte {error.start})") from None


PIPE_CLOSED = 141  # 128 + SIGPIPE: the exit code of a command whose reader closed the pipe (git's, cat's)


def _silence_stdout() -> None:
    """What is still buffered for stdout goes nowhere: its reader is gone, and the flush at exit would fail."""
    stream = sys.stdout.stream if isinstance(sys.stdout, terminal.EscapingStream) else sys.stdout
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's capture): nothing to silence
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def is_text(argument: str) -> bool:
    """Python hands bytes that are no UTF-8 over as lone surrogates, which no file or mail can hold."""
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shorten(summary: str, limit: int) -> str:
    """Cut at a word boundary, as Click does for the summaries it computes itself (its helper is private)."""
    if len(summary) <= limit:
        return summary
    return summary[: limit - 3].rsplit(" ", 1)[0] + "..."


# color: Click would otherwise drop escape sequences it prints to a pipe, silently changing what a line
# quotes; sdesk's own streams show them escaped instead (see SdeskGroup.main).
@click.group(cls=SdeskGroup, context_settings={"help_option_names": ["-h", "--help"], "color": True})
@click.version_option(
    __version__, prog_name="sdesk", message=f"%(prog)s, version %(version)s (data contract {DATA_CONTRACT})"
)
@desk_options(envvars=True)
@no_pager_option
def main() -> None:
    """A service desk that lives in a git repository.

    Policy lives in rules.yaml, every ticket is one YAML file under tickets/.
    Set SDESK_NOW (ISO-8601 with offset) to replay a moment in time. On a
    terminal, long output goes through $SDESK_PAGER, else $PAGER, else less.
    """
