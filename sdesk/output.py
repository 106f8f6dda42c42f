"""One way to print rows: a table for people, JSON and CSV for scripts.

Every listing goes through :func:`render_rows`, so the three formats always
carry the same fields in the same order; one record (what a command did) goes
through :func:`render_record`. Each format is safe for its reader:
table cells show control characters (sdesk.terminal), JSON escapes every one
of them, and a CSV cell never starts a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import json
import numbers
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from msgspec import Struct

from sdesk.terminal import visible, visible_lines

MIN_FILL_WIDTH = 16
COLUMN_GAP = 2  # spaces between two columns
# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Column(Struct, frozen=True):
    key: str
    header: str
    fill: bool = False  # this column takes the width the others leave and is cut to it


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


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """The rows as a table that fits the terminal; the rows themselves are let go as their cells are made."""
    cells = [[_cell(row.get(column.key)) for column in columns] for row in rows]
    if not cells:
        return ""
    headers = [column.header for column in columns]
    widths = [max(len(header), *(len(line[index]) for line in cells)) for index, header in enumerate(headers)]
    room = shutil.get_terminal_size((80, 24)).columns
    for index, column in enumerate(columns):
        if column.fill:
            others = sum(width for i, width in enumerate(widths) if i != index)
            fill = max(MIN_FILL_WIDTH, room - others - COLUMN_GAP * (len(columns) - 1) - 1)
            for line in cells:
                line[index] = truncate(line[index], fill)
            widths[index] = max(len(column.header), *(len(line[index]) for line in cells))
    lines = [_line(headers, widths), _line(["-" * width for width in widths], widths)]
    lines.extend(_line(line, widths) for line in cells)
    return "\n".join(lines) + "\n"


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    """One line of the table: cells left-aligned in their columns, two spaces apart, no trailing blanks.

    Written here rather than by tabulate, which took 20 µs a cell: seconds on a desk-wide listing.
    """
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"


def truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return visible(" ".join(_plain(value).split()))  # escaped before widths and truncation are worked out


def _plain(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
