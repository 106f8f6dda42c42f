"""Long output through a pager, as git does: only when stdout is a terminal, never into a pipe or a file.

The pager is ``$SDESK_PAGER``, else ``$PAGER``, else ``less`` (with
``LESS=FRX`` when LESS is unset: output shorter than the screen prints as
if there were no pager); an empty value or ``cat`` means none, and so does
``--no-pager``. It starts at the command's first line of output, so a command
that prints nothing, or only an error, never shows it. Behind the pager the
command's stderr waits until the pager is gone, so a summary or an error reads
after the listing, not above it. Quitting the pager early drops the rest of
the output quietly, a pager that cannot run leaves the output printed
directly, and the command keeps its exit code. Ctrl-C waits for the pager to
put the terminal back before the command ends.

Commands that prompt are never paged: a question would be hidden behind it.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO, TypeVar, cast

import click

from sdesk import terminal
from sdesk.cli import context
from sdesk.cli.options import no_pager_option

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT = "less"
SETTINGS = {"LESS": "FRX", "LV": "-c"}  # as git sets them, when the user has not: quit when it fits, no screen swap


def paged(command: F) -> F:
    """The command's output goes through the pager on a terminal; it takes --no-pager after its name too."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        start(click.get_current_context())
        return command(*args, **kwargs)

    return cast(F, no_pager_option(run))


def program(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The pager's command line and where it was named (the variable, or "" for the default); None: no pager."""
    for name in ("SDESK_PAGER", "PAGER"):
        if name in environ:
            line = environ[name].strip()
            return (line, name) if line and line != "cat" else None
    return DEFAULT, ""


def start(ctx: click.Context) -> None:
    """Send stdout to the pager from the first line on, until ``ctx`` closes (the command returned or failed)."""
    out, err = sys.stdout, sys.stderr
    if not isinstance(out, terminal.EscapingStream) or not isinstance(err, terminal.EscapingStream):
        return  # not run by sdesk's own main (nothing to stand in front of)
    if ctx.meta.get("sdesk.no_pager") or not out.isatty():
        return
    chosen = program(os.environ)
    if chosen is None:
        return
    pager = Pager(out.stream, err.stream, *chosen, before=context.stop_progress)
    # Each stands in for a text stream, as EscapingStream itself does.
    sys.stdout = terminal.EscapingStream(cast(TextIO, pager))
    sys.stderr = terminal.EscapingStream(cast(TextIO, pager.held))

    def finish() -> None:
        sys.stdout, sys.stderr = out, err
        pager.close()

    ctx.call_on_close(finish)


class Pager:
    """Stands in for stdout: starts the pager program at the first write and writes into it.

    ``before`` runs just before the pager takes the screen (the progress line is erased for good). What
    the command writes to stderr meanwhile waits in :attr:`held` until :meth:`close`.
    """

    def __init__(self, screen: TextIO, stderr: TextIO, line: str, named_by: str, before: Callable[[], None]):
        self.screen, self.line, self.named_by, self.before = screen, line, named_by, before
        self.encoding = screen.encoding or "utf-8"
        self.errors = "backslashreplace"
        self.held = Held(stderr, self)
        self.process: subprocess.Popen[str] | None = None
        self.direct = False  # the pager could not run: the output goes to the screen itself
        self.gone = False  # the pager quit before the output ended: the rest is dropped

    def write(self, text: str) -> int:
        if self.process is None and not self.direct:
            self._start()
        if self.process is None:
            return self.screen.write(text)
        if not self.gone:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(text)
            except OSError:  # BrokenPipeError: the user quit the pager (q) before the end
                self.gone = True
        return len(text)

    def flush(self) -> None:
        if self.process is None:
            self.screen.flush()
            return
        if not self.gone:
            try:
                assert self.process.stdin is not None
                self.process.stdin.flush()
            except OSError:
                self.gone = True

    def isatty(self) -> bool:
        return self.screen.isatty()

    def fileno(self) -> int:
        return self.screen.fileno()

    def close(self) -> None:
        """Let the pager read the end and wait until the user quits it; then what stderr held."""
        if self.process is not None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()
            except (OSError, ValueError):
                pass  # the pager quit early (the last lines had nowhere to go), or Ctrl-C cut a write short
            _wait(self.process)
            self.process = None
        self.direct = True
        self.held.release()

    def _start(self) -> None:
        import shlex

        self.before()
        environment = {**SETTINGS, **os.environ}
        try:
            self.process = subprocess.Popen(
                shlex.split(self.line),
                stdin=subprocess.PIPE,
                env=environment,
                encoding=self.encoding,
                errors=self.errors,
            )
        except (ValueError, OSError) as error:  # no such program, or a line shlex cannot split
            self.direct = True
            if self.named_by:  # the default `less` missing is no mistake of the user's: printed directly
                reason = getattr(error, "strerror", None) or str(error)
                self.held.stream.write(
                    terminal.visible(f"Warning: cannot run the pager {self.named_by}={self.line!r}: {reason}") + "\n"
                )


class Held:
    """Stands in for stderr while the pager may run: what is written waits until the pager is gone."""

    def __init__(self, stream: TextIO, pager: Pager):
        self.stream, self.pager = stream, pager
        self.encoding, self.errors = stream.encoding, stream.errors
        self.waiting: list[str] = []

    def write(self, text: str) -> int:
        if self.pager.process is None:
            return self.stream.write(text)
        self.waiting.append(text)
        return len(text)

    def flush(self) -> None:
        if self.pager.process is None:
            self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def release(self) -> None:
        self.stream.write("".join(self.waiting))
        self.stream.flush()
        self.waiting.clear()


def _wait(process: subprocess.Popen[str]) -> None:
    """Wait for the pager to end; Ctrl-C meanwhile is the pager's to handle (less ignores it), not ours:
    ending first would leave the terminal in the pager's raw mode under the shell's prompt."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not this code's to set
        process.wait()
        return
    try:
        process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
