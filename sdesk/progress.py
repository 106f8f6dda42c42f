"""Progress of long work: a line on a terminal while a person waits, nothing for a script.

Domain code never prints: it takes a :data:`Progress` callback and calls it as
it goes, ``progress("Reading ticket files", done, total)``, first with
``done`` 0 when the work starts and last with ``done == total``. The CLI passes
a :class:`Meter` (``sdesk.cli.context.progress()``); anything else may pass
:func:`silent` or a recorder of its own.

A meter draws only on a terminal, only once the work has lasted ``AFTER``
seconds (short work stays quiet), redraws a few times a second, and erases its
line when the work is done, so it never stays between a command's own lines,
and never reaches a pipe, a file or a CI log.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO, TypeVar

Progress = Callable[[str, int, int], None]  # (what is being done, how many done, how many in all)
UNKNOWN = -1  # the total of work that counts as it goes (a file read a ticket at a time): the count is shown
AFTER = 0.5  # seconds of work before a line is shown
EVERY = 0.1  # seconds between redraws: a terminal is not written to for each of 100,000 files
T = TypeVar("T")


def silent(what: str, done: int, total: int) -> None:
    """The progress of work nobody watches: work whose total costs something to know may skip it for this one."""


def counted(items: Iterable[T], what: str, total: int, progress: Progress) -> Iterator[T]:
    """``items`` as they come, ``progress`` told of each one done (``total``: how many there are)."""
    progress(what, 0, total)
    done = 0
    for item in items:
        yield item
        done += 1
        progress(what, done, total)
    progress(what, total, total)  # fewer than said (a file gone meanwhile): the work is over all the same


class Meter:
    """One progress line on ``stream`` (a terminal; None: never shown), as a :data:`Progress` callback.

    ``after`` and ``clock`` are the seconds before a line is shown (default :data:`AFTER`) and the clock
    that measures them. :meth:`clear` erases the line for something else to be printed (the next update
    draws it again); :meth:`close` erases it for good (the command ends, or a pager takes the screen).
    """

    def __init__(self, stream: TextIO | None, after: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.after = AFTER if after is None else after
        self.clock = clock
        self.what = ""  # the work under way ("": none)
        self.next_draw = 0.0
        self.shown = 0  # the width of the line on the screen (0: none)

    def __call__(self, what: str, done: int, total: int) -> None:
        if self.stream is None:
            return
        now = self.clock()
        if what != self.what:  # new work: its own wait before a line is shown
            self.clear()
            self.what, self.next_draw = what, now + self.after
        if done >= total >= 0:
            self.clear()
            self.what = ""  # the same work again later waits again
        elif now >= self.next_draw:
            counts = f"{done:,}" if total == UNKNOWN else f"{done * 100 // total}% ({done:,}/{total:,})"
            self._draw(f"{what}: {counts}")
            self.next_draw = now + EVERY

    def clear(self) -> None:
        if self.shown:
            self._write(f"\r{' ' * self.shown}\r")
            self.shown = 0

    def close(self) -> None:
        self.clear()
        self.stream = None

    def _draw(self, line: str) -> None:
        """Over the line before, with spaces rather than escape sequences (as git does: any terminal, even a
        dumb one); narrower than the terminal, since a line that wrapped could not be drawn over."""
        width = self._width() - 1
        line = line[:width].ljust(min(self.shown, width))
        self._write(f"\r{line}")
        self.shown = len(line)

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns if self.stream else 0
        except (OSError, ValueError, AttributeError):  # a stream without a file descriptor
            columns = 0
        return columns or 80  # a terminal that does not say its size

    def _write(self, text: str) -> None:
        if self.stream is None:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError:  # the terminal went away: the work goes on without its meter
            self.stream = None
