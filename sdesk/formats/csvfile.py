"""A CSV file read as untrusted input, a row at a time, each with the line it starts on.

Helpdesks export CSV in many ways; sdesk reads UTF-8, with or without the
byte order mark Excel writes ("CSV UTF-8"). Anything else is refused with
what to do, rather than guessed: a file in Windows-1252 or Latin-1 would
come in with wrong letters in every name. The line a row starts on is the
file's physical line (a cell may hold line breaks), as an editor shows it.
What would hurt is refused with the file and line: a line or a row longer
than the bounds, more columns than the bound, a NUL character (a binary
file, or a spreadsheet's own format saved as .csv).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sdesk.errors import InvalidData

BOM = b"\xef\xbb\xbf"
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
CONVERT = "save it as UTF-8 (Excel: CSV UTF-8) or convert it, e.g. iconv -f {} -t UTF-8"


class Bounds:
    """How large a row may be: ``cell`` characters in one cell (a line too), ``columns`` cells."""

    def __init__(self, cell: int, columns: int) -> None:
        self.cell = cell
        self.columns = columns


def rows(stream: BinaryIO, path: Path, bounds: Bounds, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Each row that is not blank, with the physical line it starts on; the header is the first."""
    lines = _Lines(stream, path, bounds.cell * 2)
    csv.field_size_limit(bounds.cell)  # csv's own bound, per cell (global to csv, and the same each time)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    start = 1
    while True:
        lines.fed = 0
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            message = str(error)
            if "field larger than field limit" in message:
                message = f"a cell of more than {bounds.cell:,} characters: more than sdesk reads"
            raise InvalidData(f"not CSV as sdesk reads it: {message}", path, start) from None
        if len(row) > bounds.columns:
            raise InvalidData(f"more than {bounds.columns:,} columns: more than sdesk reads", path, start)
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


class _Lines:
    """The file's lines as text for csv, each decoded, bounded and checked on its own (line by line, the
    line number of a bad byte is known)."""

    def __init__(self, stream: BinaryIO, path: Path, row_limit: int) -> None:
        self.stream = stream
        self.path = path
        self.row_limit = row_limit
        self.number = 0
        self.fed = 0  # characters given to the row being read

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        data = self.stream.readline(self.row_limit + 1)
        if not data:
            raise StopIteration
        self.number += 1
        if self.number == 1:
            if data.startswith(_UTF16):
                raise InvalidData(f"is UTF-16 text, not UTF-8: {CONVERT.format('UTF-16')}", self.path)
            data = data.removeprefix(BOM)
        if len(data) > self.row_limit:
            raise InvalidData(
                f"a line of more than {self.row_limit:,} bytes: more than sdesk reads", self.path, self.number
            )
        if b"\0" in data:
            raise InvalidData("holds a NUL character: not a text CSV file", self.path, self.number)
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"not UTF-8 text (byte {error.start + 1} of the line): {CONVERT.format('WINDOWS-1252')}"
            raise InvalidData(message, self.path, self.number) from None
        self.fed += len(line)
        if self.fed > self.row_limit:
            raise InvalidData(
                f"a row of more than {self.row_limit:,} characters: more than sdesk reads", self.path, self.number
            )
        return line
