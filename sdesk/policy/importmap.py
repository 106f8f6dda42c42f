"""How another helpdesk's CSV export becomes tickets: the mapping file `sdesk import --mapping` reads. Pure.

The file says which of their columns holds which sdesk field, what their
words mean in rules.yaml (their statuses, priorities, types, organisations,
agents), how their dates are written and in which time zone, and what a
ticket gets where their cell is empty. It is untrusted input like every
other: declared once (:data:`MAPPING`, with the language of
:mod:`sdesk.formats.declare`), read strictly with every problem at its line,
and held to the desk's rules.yaml, so a word that maps to no status is an
error in the mapping, before any row is read. See README, "Moving in".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import Struct

from sdesk.errors import excerpt
from sdesk.formats import reader
from sdesk.formats.declare import Email, MappingOf, Name, Node, Pattern, Record, Text, Words
from sdesk.formats.reader import KeyPath, Problems, SchemaError
from sdesk.policy.rules import SITE_PATTERN, Rules
from sdesk.tickets.model import SLUG_PATTERN
from sdesk.words import IMPACTS, URGENCIES

MAX_SOURCE_CHARS = 60
DELIMITERS = (",", ";", "\t", "|")
# What a column may hold: the fields `sdesk new` takes, the status and priority as they stand, the resolution
# of a closed ticket; their ticket number, when it was made and when its status was last set.
REF, CREATED, UPDATED = "ref", "created", "updated"
FIELDS = (
    "title",
    "type",
    "status",
    "priority",
    "customer",
    "product",
    "requester",
    "team",
    "assignee",
    "category",
    "impact",
    "urgency",
    "site",
    "url",
    "error_message",
    "description",
    "contact_name",
    "contact_phone",
    "contact_email",
    "external_ref",
    "resolution",
)
NEEDED = ("title", "type", "customer", "requester")  # a column or a default, as sdesk new needs them
_SLUG = Name(SLUG_PATTERN)
# The values a field may be given (in `values` and `defaults`), by their shape; rules.yaml says the rest.
VALUE_NODES: dict[str, Node] = {
    "type": _SLUG,
    "status": _SLUG,
    "priority": Name(),
    "customer": _SLUG,
    "product": _SLUG,
    "team": _SLUG,
    "category": Name(),
    "impact": Words(IMPACTS),
    "urgency": Words(URGENCIES),
    "requester": Email(),
    "assignee": Email(),
    "site": Pattern(SITE_PATTERN, "{shown} is not a site ID (4 digits)", numbers=(0, 9999)),
}
_ONE_LINE = Pattern(
    re.compile(f"[^\\x00-\\x1f\\x7f]{{1,{MAX_SOURCE_CHARS}}}"), "{shown} is not one line of at most 60 characters"
)
MAPPING = Record(
    {
        "source": _ONE_LINE,
        "delimiter": Words(DELIMITERS),
        "columns": Record(
            {name: Text() for name in (REF, CREATED, UPDATED, *FIELDS)}, required=(REF, CREATED, "title")
        ),
        "values": Record({name: MappingOf(node, key=Text()) for name, node in VALUE_NODES.items()}),
        "dates": Record({"format": Text(), "timezone": Text()}),
        "defaults": Record({name: VALUE_NODES.get(name, Text()) for name in FIELDS if name != "title"}),
    },
    required=("source", "columns"),
    defaults={"delimiter": ","},
)


class ImportMap(Struct, frozen=True):
    """A mapping file, read and held to the rules."""

    source: str  # their helpdesk's name, said in every imported ticket's first event
    delimiter: str
    columns: dict[str, str]  # an sdesk field (or ref, created, updated): their column's header
    values: dict[str, dict[str, str]]  # a field: their word (folded, see :func:`fold`) -> the desk's value
    date_format: str | None  # strptime's; None: ISO-8601
    timezone: tzinfo  # for their times written without an offset
    defaults: dict[str, str]


def fold(word: str) -> str:
    """Their word as it is compared: case and the spaces around it do not count ("Open " is "open")."""
    return " ".join(word.split()).casefold()


def parse(data: Any, rules: Rules) -> ImportMap:
    """A mapping file's plain data, read strictly; raises :class:`reader.Invalid` with every problem."""
    problems = Problems()
    data = MAPPING.read(data, (), problems)
    choices = _choices(rules)
    values: dict[str, dict[str, str]] = {}
    for field, given in data.get("values", {}).items():
        values[field] = _words(given, field, choices.get(field), problems)
    defaults = {name: str(value) for name, value in data.get("defaults", {}).items()}
    for name, value in defaults.items():
        _declared(name, value, choices.get(name), ("defaults", name), problems)
    columns = {name: str(header) for name, header in data.get("columns", {}).items()}
    for name in NEEDED:
        if name not in columns and name not in defaults and not problems.suggested(("columns", name)):
            problems.add(("columns",), f"needs a column for {name}, or defaults.{name}")
    dates = data.get("dates", {})
    zone: tzinfo = rules.timezone
    if "timezone" in dates:
        zone = ZoneInfo(problems.get("UTC", reader.timezone_name, dates["timezone"], ("dates", "timezone")))
    date_format = dates.get("format")
    if date_format is not None:
        problems.get(None, _check_format, date_format, ("dates", "format"))
    problems.check()
    return ImportMap(data["source"], data["delimiter"], columns, values, date_format, zone, defaults)


def _choices(rules: Rules) -> dict[str, list[str]]:
    """The words rules.yaml declares for each field that has them."""
    found = {
        "type": list(rules.types),
        "status": list(rules.statuses),
        "priority": list(rules.priority.levels),
        "customer": list(rules.customers),
        "product": list(rules.products),
        "team": list(rules.teams),
    }
    if rules.categories:
        found["category"] = list(rules.categories)
    return found


def _words(given: dict[str, Any], field: str, options: list[str] | None, problems: Problems) -> dict[str, str]:
    """Their words for one field, folded, each to a value the desk declares."""
    words: dict[str, str] = {}
    first: dict[str, str] = {}
    for theirs, ours in given.items():
        if ours is None:
            continue
        key, at = fold(theirs), ("values", field, theirs)
        if key in words and words[key] != ours:
            problems.add(at, f"means what {excerpt(first[key])} means (case and spaces do not count)")
        elif _declared(field, str(ours), options, at, problems):
            words[key] = str(ours)
            first.setdefault(key, theirs)
    return words


def _declared(field: str, value: str, options: list[str] | None, at: KeyPath, problems: Problems) -> bool:
    if options is not None and value not in options:
        problems.add(at, reader.unknown(field, value, options))
        return False
    return True


SAMPLE = datetime(2026, 11, 23, 17, 45, 30)


def _check_format(text: str, keypath: KeyPath) -> None:
    """A strptime format that reads back the day (and more) it writes: %d-%m-%Y %H:%M, not %Q or %H:%M alone."""
    try:
        read = datetime.strptime(SAMPLE.strftime(text), text)
    except ValueError as error:
        raise SchemaError(keypath, f"{excerpt(text)} is not a date format Python reads ({error})") from None
    if read.date() != SAMPLE.date():
        raise SchemaError(keypath, f"{excerpt(text)} does not say the day: it needs %d, %m (or %b) and %Y")


def header_problems(imap: ImportMap, header: Sequence[str]) -> list[SchemaError]:
    """Each mapped column their CSV does not have (with the header it probably meant), or has twice."""
    names = [cell.strip() for cell in header]
    found = []
    for field, column in imap.columns.items():
        count = names.count(column.strip())
        if count == 0:
            hint = reader.suggestion(column, names) or f" (it has {excerpt(', '.join(names), 60)})"
            found.append(SchemaError(("columns", field), f"their CSV has no column {excerpt(column)}{hint}"))
        elif count > 1:
            found.append(SchemaError(("columns", field), f"their CSV has {count} columns named {excerpt(column)}"))
    return found


class Row(Struct):
    """One of their rows as sdesk values: what a ticket is made of, or why it cannot be."""

    ref: str
    created: datetime | None
    updated: datetime | None
    values: dict[str, str]
    their_status: str | None  # as they wrote it, for the history
    reasons: list[str]


def read_row(imap: ImportMap, header: Sequence[str], cells: Sequence[str]) -> Row:
    """Their row's cells as sdesk values: mapped words, defaults for empty cells, dates read."""
    names = [cell.strip() for cell in header]
    given = {field: cells[names.index(column.strip())].strip() for field, column in imap.columns.items()}
    given = {field: cell for field, cell in given.items() if cell}
    reasons = []
    values = {}
    for field in FIELDS:
        cell = given.get(field)
        if cell is None:
            if field in imap.defaults:
                values[field] = imap.defaults[field]
            continue
        words = imap.values.get(field)
        if words is None:
            values[field] = cell
        elif fold(cell) in words:
            values[field] = words[fold(cell)]
        else:
            reasons.append(f"{field} {excerpt(cell)} is not in the mapping's values.{field}")
    created = _moment(imap, given.get(CREATED), CREATED, reasons, required=True)
    updated = _moment(imap, given.get(UPDATED), UPDATED, reasons, required=False)
    if REF not in given:
        reasons.append(f"their ticket number ({imap.columns[REF]}) is empty")
    return Row(given.get(REF, ""), created, updated, values, given.get("status"), reasons)


def _moment(imap: ImportMap, cell: str | None, field: str, reasons: list[str], required: bool) -> datetime | None:
    if cell is None:
        if required:
            reasons.append(f"{field} ({imap.columns[field]}) is empty")
        return None
    try:
        moment = datetime.strptime(cell, imap.date_format) if imap.date_format else datetime.fromisoformat(cell)
    except ValueError:
        said = imap.date_format or "ISO-8601, e.g. 2026-11-23 17:45"
        reasons.append(f"{field} {excerpt(cell)} is not a date as the mapping's dates.format says ({said})")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=imap.timezone)
    if not reader.YEARS[0] <= moment.year <= reader.YEARS[1]:
        reasons.append(
            f"{field} {excerpt(cell)} is not a date sdesk works with ({reader.YEARS[0]} to {reader.YEARS[1]})"
        )
        return None
    return moment
