"""A ticket as `sdesk export json|csv` writes it, and read back as a ticket file's plain data. Pure.

JSON holds each ticket exactly as its file does (the same keys, in the same
order, times as the file writes them), so the file can be made again byte
for byte. CSV holds one ticket per row: the fields flat (``contact_name``,
``sla_plan`` …), the exclusions comma-separated, the history as JSON in one
cell. Its cells are written so that nothing is lost and nothing runs (README,
"Export and backup"): a cell that a spreadsheet would run as a formula,
that starts with a quote, or that holds a character a terminal obeys is
written as ``'`` and the text as a JSON string writes it; every other cell
is the text itself. Reading undoes exactly that.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sdesk.errors import InvalidData
from sdesk.output import FORMULA_STARTS
from sdesk.terminal import visible_lines
from sdesk.tickets.model import COOPERATION_KEYS, SLA_KEYS, TICKET_KEYS, Ticket, to_dict

_GROUPS = {"contact": ("name", "phone", "email"), "cooperation": COOPERATION_KEYS, "sla": SLA_KEYS}
# The CSV's columns: the file's keys in their order, each group's keys flat as the ticket's fields are named.
CSV_COLUMNS = tuple(
    column
    for key in TICKET_KEYS
    for column in ([f"{key}_{part}" for part in _GROUPS[key]] if key in _GROUPS else [key])
)
ESCAPED = "'"  # a cell that starts with it holds the text as a JSON string writes it (without the quotes)
_NEEDS_ESCAPE = (*FORMULA_STARTS, ESCAPED)


def plain(ticket: Ticket) -> dict[str, Any]:
    """The ticket as its file holds it, times and dates as the file writes them: JSON can carry it."""
    data: dict[str, Any] = json.loads(json.dumps(to_dict(ticket), default=_iso))
    return data


def _iso(value: Any) -> str:
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a ticket")


def json_text(data: Any) -> str:
    """One line of JSON: every control character escaped (json.dumps leaves DEL, C1 and bidi raw), so the
    text is the same whether it goes to a terminal or to a file, and json.loads returns the exact values."""
    return visible_lines(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def json_list(tickets: Iterable[Ticket]) -> Iterator[str]:
    """The export as JSON, a ticket a line: a list of every ticket's plain data."""
    opening = "["
    for ticket in tickets:
        yield f"{opening}\n{json_text(plain(ticket))}"
        opening = ","
    yield "[]\n" if opening == "[" else "\n]\n"


def csv_lines(tickets: Iterable[Ticket]) -> Iterator[str]:
    """The export as CSV: the header, then a line (or more, for text with line breaks) per ticket."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for ticket in tickets:
        writer.writerow(csv_row(ticket))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def csv_row(ticket: Ticket) -> list[str]:
    """The ticket's CSV cells, in the order of :data:`CSV_COLUMNS`."""
    data = plain(ticket)
    for group in _GROUPS:
        for part, value in data.pop(group, {}).items():
            data[f"{group}_{part}"] = value
    if any("," in name for name in data.get("exclusions", ())):
        raise InvalidData(f"{ticket.id}: an exclusion's name holds a comma, which CSV cannot carry: export json")
    data["exclusions"] = ",".join(data.get("exclusions", ()))
    data["history"] = json_text(data.get("history", []))
    return [write_cell(data.get(column) or "") for column in CSV_COLUMNS]


def write_cell(text: str) -> str:
    """A cell as written: the text, or ``'`` and the text escaped when it must be (see the module's doc)."""
    if text.startswith(_NEEDS_ESCAPE) or visible_lines(text) != text:
        return ESCAPED + json_text(text)[1:-1]
    return text


def read_cell(cell: str) -> str:
    """What :func:`write_cell` wrote, read back; raises ValueError for an escaped cell that does not read."""
    if not cell.startswith(ESCAPED):
        return cell
    text = json.loads(f'"{cell[1:]}"')
    if not isinstance(text, str):
        raise ValueError("not text")
    return text


def from_csv_row(cells: list[str]) -> dict[str, Any]:
    """A CSV row as a ticket file's plain data (empty cells left out); raises ValueError naming the column."""
    data: dict[str, Any] = {}
    for column, cell in zip(CSV_COLUMNS, cells, strict=True):
        try:
            text = read_cell(cell)
            if not text:
                continue
            if column == "history":
                data[column] = json.loads(text)
            elif column == "exclusions":
                data[column] = text.split(",")
            else:
                group, _, part = column.partition("_")
                if group in _GROUPS and part in _GROUPS[group]:
                    data.setdefault(group, {})[part] = text
                else:
                    data[column] = text
        except (ValueError, RecursionError) as error:
            raise ValueError(f"{column}: the cell does not read ({error})") from None
    return {key: data[key] for key in TICKET_KEYS if key in data}
