"""One way to print rows: a table for people, JSON and CSV for scripts.

Every listing goes through :func:`render_rows`, so the three formats always
carry the same fields in the same order; one record (what a command did) goes
through :func:`render_record`. Each format is safe for its reader:
table cells show control characters (sdesk.terminal), JSON escapes every one
of them, and a CSV cell never starts a spreadsheet formula.

A table is measured in terminal cells, not characters: a Chinese or Japanese
character or an emoji takes two, an accent or a joiner none (wcwidth knows
which), so every row fits the terminal whatever the script of its cells.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import numbers
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from itertools import filterfalse
from types import ModuleType
from typing import Any

from msgspec import Struct

from sdesk.terminal import visible, visible_lines

MIN_FILL_WIDTH = 16  # a narrower fill column has optional columns left out first (table's ``optional``)
MIN_CUT_WIDTH = 6  # the least a cut column keeps: five cells and "…"
COLUMN_GAP = 2  # spaces between two columns
ELLIPSIS = "…"
# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Column(Struct, frozen=True):
    key: str
    header: str
    fill: bool = False  # this column takes the width the others leave and is the first cut to fit
    cut: bool = False  # free text that may be cut to fit as well (a name); other columns are never cut
    shown: Callable[[Any], Any] | None = None  # what the table shows of a value (JSON and CSV keep the value)


PAIR_COLUMNS = (Column("field", "Field"), Column("value", "Value"))


def as_pairs(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One thing with parts (a ticket and its history) as field/value rows for CSV: a part's fields as
    history.2.text; a list of words stays one cell."""
    pairs: list[dict[str, Any]] = []

    def flatten(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                flatten(f"{prefix}.{key}" if prefix else key, item)
        elif isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
            for index, item in enumerate(value, start=1):
                flatten(f"{prefix}.{index}", item)
        else:
            pairs.append({"field": prefix, "value": value})

    flatten("", data)
    return pairs


def render_rows(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], fmt: str, fields: Sequence[str] | None = None
) -> str:
    """Rows as a table (``columns``) or as JSON/CSV (``fields``, default: the columns' keys)."""
    if fmt == "table":
        return table(rows, columns)
    return "".join(stream_rows(rows, columns, fmt, fields))


def stream_rows(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], fmt: str, fields: Sequence[str] | None = None
) -> Iterator[str]:
    """What :func:`render_rows` prints as JSON or CSV, a piece at a time: a script's listing of 100,000
    tickets is never held whole (a table is, for its column widths)."""
    keys = list(fields) if fields is not None else [column.key for column in columns]
    if fmt == "csv":
        yield from _csv_lines(rows, keys)
        return
    opening = "["
    for row in rows:
        item = _dumps({key: row.get(key) for key in keys})
        yield visible_lines(f"{opening}\n  " + item.replace("\n", "\n  "))
        opening = ","
    yield "[]\n" if opening == "[" else "\n]\n"


def render_record(data: Mapping[str, Any], fmt: str) -> str:
    """One record for scripts: a JSON object, or a CSV header and its line."""
    return to_json(data) if fmt == "json" else to_csv([data], list(data))


def to_json(data: Any) -> str:
    """JSON with the control characters json.dumps leaves raw (DEL, C1, bidi) escaped too: the same data, inert."""
    return visible_lines(_dumps(data)) + "\n"


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_plain)


def _dumps_flat(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=_plain)


def to_csv(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> str:
    return "".join(_csv_lines(rows, keys))


def _csv_lines(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> Iterator[str]:
    """The header, then one line per row, written by one CSV writer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(keys)
    for row in rows:
        writer.writerow([_csv_cell(row.get(key)) for key in keys])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    """Numbers stay numbers, booleans are written as JSON writes them, a list is its JSON text in one cell;
    text a spreadsheet would run as a formula gets OWASP's leading quote and stays text.

    Control characters are escaped here rather than left to the output stream: Click drops escape
    sequences from what it prints to a pipe, which would change the data without a word.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Number):
        return value
    text = _dumps_flat(value) if isinstance(value, (list, tuple, dict)) else _plain(value)
    return visible_lines(f"'{text}" if text.startswith(FORMULA_STARTS) else text)


def table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[Column],
    optional: Sequence[str] = (),
    least_fill: int = MIN_FILL_WIDTH,
) -> str:
    """The rows as a table that fits the terminal; the rows themselves are let go as their cells are made.

    The columns ``optional`` names (by key) are left out, the first named first, while the fill column
    would otherwise be cut below ``least_fill`` cells: a narrow terminal keeps the title readable, and
    columns marked ``cut`` give way before the title goes below it.
    """
    cells = [[_cell(row.get(column.key), column.shown) for column in columns] for row in rows]
    if not cells:
        return ""
    widths = [_column_width(column.header, [line[index] for line in cells]) for index, column in enumerate(columns)]
    limit = terminal_width() - 1  # one cell spare: a terminal may wrap a line that reaches its last cell
    kept = _without_optional(list(range(len(columns))), columns, widths, optional, limit, least_fill)
    if len(kept) < len(columns):
        columns, widths = [columns[index] for index in kept], [widths[index] for index in kept]
        cells = [[line[index] for index in kept] for line in cells]
    fitted = _fitted(columns, widths, limit - COLUMN_GAP * (len(columns) - 1), least_fill)
    cut = [index for index, (width, room) in enumerate(zip(widths, fitted, strict=True)) if room < width]
    headers = [column.header for column in columns]
    for line in (headers, *cells):
        for index in cut:
            line[index] = truncate(line[index], fitted[index])
    lines = [_line(headers, fitted), _line(["-" * width for width in fitted], fitted)]
    lines.extend(_line(line, fitted) for line in cells)
    return "\n".join(lines) + "\n"


def terminal_width() -> int:
    """The terminal's width in cells: $COLUMNS, else that of the terminal on stdout, or on stderr or stdin
    when stdout is a pipe (`sdesk list | less` is still read on that terminal), else 80."""
    fallback = 80
    for descriptor in (2, 0):
        try:
            fallback = os.get_terminal_size(descriptor).columns or fallback
            break
        except OSError:
            continue
    return shutil.get_terminal_size((fallback, 24)).columns


def _column_width(header: str, cells: list[str]) -> int:
    """The widest of a column's cells, in cells of the terminal; a column of plain ASCII is measured by len."""
    if _narrow("".join(cells)):
        return max(len(header), *map(len, cells))
    return max(len(header), *map(len, filter(_narrow, cells)), *map(display_width, filterfalse(_narrow, cells)))


def _without_optional(
    kept: list[int],
    columns: Sequence[Column],
    widths: Sequence[int],
    optional: Sequence[str],
    limit: int,
    least_fill: int,
) -> list[int]:
    """The columns kept once the optional ones the fill column has no room for are left out."""
    for key in optional:
        fills = [index for index in kept if columns[index].fill]
        if not fills:
            break
        needed = sum(min(widths[index], least_fill) for index in fills)
        others = sum(widths[index] for index in kept if not columns[index].fill)
        if others + needed + COLUMN_GAP * (len(kept) - 1) <= limit:
            break
        kept = [index for index in kept if columns[index].key != key]
    return kept


def _fitted(columns: Sequence[Column], widths: list[int], room: int, least_fill: int) -> list[int]:
    """Widths that add up to no more than ``room`` where cutting text can do it: the fill column first, down
    to ``least_fill``; then, in a table with columns marked ``cut``, those (widest first, down to MIN_CUT_WIDTH)
    with the fill column kept at ``least_fill``; then the fill column too, down to MIN_CUT_WIDTH. Numbers,
    moments and ticket numbers are never cut (a cut one reads as another): what is left of them runs past a
    terminal too narrow for them."""
    pairs = list(zip(columns, widths, strict=True))
    widths = _cut(widths, [min(width, least_fill) if column.fill else width for column, width in pairs], room)
    if not any(column.cut for column in columns):
        return widths
    for fill_floor in (least_fill, MIN_CUT_WIDTH):
        floors = [
            min(width, fill_floor) if column.fill else min(width, MIN_CUT_WIDTH) if column.cut else width
            for column, width in zip(columns, widths, strict=True)
        ]
        widths = _cut(widths, floors, room)
    return widths


def _cut(widths: list[int], floors: list[int], room: int) -> list[int]:
    """The widest columns cut to one width (none below its floor) so that all fit in ``room``, if they can;
    what that leaves over goes back to the cut columns, a cell each."""
    if sum(widths) <= room:
        return widths
    low, high = 0, max(widths)  # the widest width a column may keep: the largest that fits
    while low < high:
        cap = (low + high + 1) // 2
        if sum(max(floor, min(width, cap)) for width, floor in zip(widths, floors, strict=True)) <= room:
            low = cap
        else:
            high = cap - 1
    cut = [max(floor, min(width, low)) for width, floor in zip(widths, floors, strict=True)]
    spare = room - sum(cut)
    for index, width in enumerate(widths):
        if spare > 0 and cut[index] < width:
            cut[index] += 1
            spare -= 1
    return cut


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    """One line of the table: cells left-aligned in their columns, two spaces apart, no trailing blanks.

    Written here rather than by tabulate, which took 20 µs a cell: seconds on a desk-wide listing.
    """
    *padded, last = cells  # the last cell needs no padding
    return "  ".join(
        [
            *(
                cell.ljust(room) if _narrow(cell) else cell + " " * (room - display_width(cell))
                for cell, room in zip(padded, widths[:-1], strict=True)
            ),
            last,
        ]
    ).rstrip()


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"


def display_width(text: str) -> int:
    """How many terminal cells ``text`` takes: text for one line, its control characters escaped (as every
    table cell is: sdesk.terminal.visible)."""
    if _narrow(text):
        return len(text)
    width: int = _wcwidth().wcswidth(text)
    return width


def _narrow(text: str) -> bool:
    """Is every character of ``text`` one cell, so ``len`` measures it? ASCII is, and so are the Latin
    letters and signs below the combining accents (U+0300) that most titles beyond ASCII hold: é, ß, °."""
    return text.isascii() or max(text) < "\u0300"


@functools.cache
def _wcwidth() -> ModuleType:
    """Loaded on first use: the import takes 14 ms, paid only by a table that holds text beyond ASCII."""
    import wcwidth

    return wcwidth


def truncate(text: str, room: int) -> str:
    """``text`` cut to ``room`` cells, ending in "…"; never through a wide character or between the parts of
    one character as a reader sees it (a letter and its accent, an emoji sequence joined by U+200D)."""
    if room <= 0:
        return ""
    if _narrow(text):
        return text if len(text) <= room else text[: room - 1] + ELLIPSIS
    if display_width(text) <= room:
        return text
    keep = min(len(text), room - 1)  # what fits beside the "…": in mostly narrow text, the first guess
    if display_width(text[:keep]) != room - 1 or not text[keep].isascii():
        low, high = 0, len(text)  # wide characters, accents or joiners: the longest prefix that fits, by halving
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if display_width(text[:middle]) <= room - 1 else (low, middle - 1)
        # a cut inside a character as the reader sees it (an emoji sequence, a letter and its accent) goes before it
        keep = low if text[low].isascii() else _wcwidth().grapheme_boundary_before(text, low + 1)
    return text[:keep] + ELLIPSIS


def _cell(value: Any, shown: Callable[[Any], Any] | None = None) -> str:
    if value is None:
        return ""
    if shown is not None:
        value = shown(value)
    return visible(" ".join(_plain(value).split()))  # escaped before widths and truncation are worked out


def _plain(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
