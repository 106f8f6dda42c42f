"""Text from the desk's files made safe to print: control characters are shown, never sent.

A title, a name or a comment may hold what a terminal obeys instead of
printing: escape sequences that clear the screen, set the window title or hide
a link, a carriage return or backspaces that overwrite what was printed, a
bidi override that shows a line in another order than it reads. Each such
character is printed the way a JSON string writes it (``\\u001b``, ``\\r``):
readable, and still valid inside JSON. A backslash itself is left alone, so a
title may read like an escape (only JSON output tells them apart).
"""

from __future__ import annotations

import json
import re
from typing import TextIO

# C0 and C1 controls and DEL; the line and paragraph separators; the bidi marks, embeddings, overrides and isolates;
# the invisible ones that can hide text: zero-width space, word joiner and its kin, deprecated format characters,
# the byte order mark and the tag characters (zero-width joiner and non-joiner stay: scripts and emoji need them).
_OTHER = "\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\U000e0000-\U000e007f"
CONTROLS = re.compile(f"[\x00-\x1f{_OTHER}]")  # what a terminal or a mail header must never get raw
_CONTROLS_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHER}]")  # newline and tab kept
_SHORT = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def visible(text: str) -> str:
    """``text`` for one line: every control character escaped, line breaks and tabs too."""
    return CONTROLS.sub(_notation, text)


def visible_lines(text: str) -> str:
    """``text`` with its own line breaks and tabs; every other control character escaped."""
    return _CONTROLS_BUT_LINES.sub(_notation, text)


def _notation(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT.get(char) or json.dumps(char)[1:-1]  # a tag character as JSON's surrogate pair


class EscapingStream:
    """Stands in for sys.stdout or sys.stderr: writes through with :func:`visible_lines`.

    The net under every line a command prints, whoever formats it (Click's
    usage errors and prompts, warnings). It has no ``buffer``, so nothing that
    looks for the bytes underneath (as Click does for an ASCII stream) can
    write around it; what the stream cannot encode is written as an escape.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.encoding = stream.encoding
        self.errors = stream.errors

    def write(self, text: str) -> int:
        shown = visible_lines(text)  # bytes are refused here, as by any text stream
        try:
            self.stream.write(shown)
        except UnicodeEncodeError:  # a stream that cannot encode everything (ASCII, Latin-1): escaped as well
            self.stream.write(shown.encode(self.encoding, "backslashreplace").decode(self.encoding))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()
