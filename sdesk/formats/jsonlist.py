"""A JSON list read one item at a time, as untrusted input: an export of 100,000 tickets is never held whole.

The file is a list of objects, as `sdesk export json` writes it (or as any
tool reformats it: ``jq .`` gives the same items). Each item comes with the
line it starts on, so a refusal can name it. What would hurt is refused with
the file and line: an item larger than ``limit`` characters, nesting that
would exhaust the parser, a key written twice in one object (the parser
would keep the last silently), text that is not UTF-8 (a byte order mark is
allowed), anything after the list.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sdesk.errors import InvalidData

CHUNK = 1 << 20  # characters read at a time
_SPACE = " \t\r\n"


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"the key {key!r} is written twice in one object")
        found[key] = value
    return found


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


class _Text:
    """The file's text as it is read, with the place reached and the line it is on."""

    def __init__(self, stream: BinaryIO, path: Path) -> None:
        self.stream = stream
        self.path = path
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.text = ""
        self.at = 0  # the place reached in text
        self.line = 1  # the line of that place
        self.read_bytes = 0
        self.ended = False

    def more(self, characters: int = CHUNK) -> bool:
        """Read on; False at the end of the file."""
        if self.ended:
            return False
        if self.at > len(self.text) // 2:  # forget what was read, now and then (not per item: that is quadratic)
            self.text = self.text[self.at :]
            self.at = 0
        data = self.stream.read(characters)
        try:
            self.text += self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            raise InvalidData(f"not UTF-8 text (byte {self.read_bytes + error.start})", self.path) from None
        self.read_bytes += len(data)
        self.ended = not data
        return True

    def skip_space(self) -> str:
        """The next character that is not white space ('' at the end)."""
        while True:
            while self.at < len(self.text) and self.text[self.at] in _SPACE:
                self.line += self.text[self.at] == "\n"
                self.at += 1
            if self.at < len(self.text):
                return self.text[self.at]
            if not self.more():
                return ""

    def refuse(self, message: str) -> InvalidData:
        return InvalidData(message, self.path, self.line)


def items(stream: BinaryIO, path: Path, limit: int) -> Iterator[tuple[int, Any]]:
    """Each item of the JSON list in ``stream`` with the line it starts on; at most ``limit`` characters each."""
    text = _Text(stream, path)
    if text.skip_space() != "[":
        raise text.refuse("not a JSON list: it should start with [")
    text.at += 1
    first = True
    while True:
        found = text.skip_space()
        if found == "]":
            text.at += 1
            if text.skip_space():
                raise text.refuse("more after the end of the list")
            return
        if not first:
            if found != ",":
                raise text.refuse("expected , or ] between the items of the list")
            text.at += 1
            text.skip_space()
        first = False
        line = text.line
        value, end = _item(text, limit)
        text.line += text.text.count("\n", text.at, end)
        text.at = end
        yield line, value


def _item(text: _Text, limit: int) -> tuple[Any, int]:
    """The value that starts at the place reached, read on until it is whole."""
    while True:
        try:
            return _DECODER.raw_decode(text.text, text.at)
        except json.JSONDecodeError as error:
            if not text.ended and len(text.text) - text.at <= limit:
                text.more(max(CHUNK, len(text.text) - text.at))  # doubling: a large item is not parsed again and again
                continue
            if len(text.text) - text.at > limit:
                raise text.refuse(f"an item of more than {limit:,} characters: more than sdesk reads") from None
            line = text.line + text.text.count("\n", text.at, error.pos)
            raise InvalidData(f"invalid JSON: {error.msg}", text.path, line) from None
        except ValueError as error:  # a key written twice
            raise text.refuse(f"invalid JSON: {error}") from None
        except RecursionError:
            raise text.refuse("invalid JSON: nested too deeply") from None
