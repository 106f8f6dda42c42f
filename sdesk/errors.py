"""The one error family of sdesk.

Domain code raises these; the CLI turns them into a single ``Error: …`` line
and exit code 1, so no caller has to format or catch them itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from sdesk.terminal import visible


class SdeskError(Exception):
    """A refusal or failure the user can act on, optionally located in a file."""

    def __init__(
        self, message: str, path: Path | str | None = None, line: int | None = None, column: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column

    def __reduce__(self) -> tuple[type[SdeskError], tuple[str, Path | None, int | None, int | None]]:
        """Keep the location when an error crosses to another process (parallel checks)."""
        return type(self), (self.message, self.path, self.line, self.column)

    def __str__(self) -> str:
        """One line, always: a file name or a quoted value with a line break cannot forge a second one."""
        if self.path is None:
            return visible(self.message)
        where = display_path(self.path)
        if self.line is not None:
            where = f"{where}:{self.line}"
            if self.column is not None:
                where = f"{where}:{self.column}"
        return visible(f"{where}: {self.message}")


EXCERPT_CHARS = 40


def excerpt(value: object, width: int = EXCERPT_CHARS) -> str:
    """A value quoted in a message: short and on one line.

    A bad value may be a whole private key read through a symbolic link or a
    megabyte of garbage: an error shows its start, never all of it.
    """
    return f"'{shortened(value, width)}'"


def shortened(value: object, width: int = EXCERPT_CHARS) -> str:
    """A value's start, on one line, control characters escaped (a key path's part, an excerpt)."""
    text = str(value)
    if len(text) > width:
        text = text[: width - 1] + "…"
    return visible(text)


class NotFound(SdeskError):
    """An unknown ticket, desk or file."""


class Refused(SdeskError):
    """A move the workflow does not allow (closed ticket, missing resolution …)."""


class InvalidData(SdeskError):
    """A file or a value that does not validate."""


def display_path(path: Path) -> str:
    """Show a path relative to the working directory when it lies below it (a link as itself, never its target)."""
    try:
        return str((path.parent.resolve() / path.name).relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return os.fspath(path)
