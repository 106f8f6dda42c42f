"""Strict reading of plain YAML data: problems with their key paths, and the values they concern.

Every failure names the full key path (``customers.acme.plan``) and suggests
the closest valid word, so a typo in a hand-edited file explains itself; a
:class:`Problems` collects them all, so one check can list every one. The
loader then adds the file and line (see :func:`located`). The shape of each
file is declared in :mod:`sdesk.formats.declare`, whose nodes read with the
helpers here: dates, timestamps, a word of a vocabulary, a time zone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from sdesk.errors import InvalidData, excerpt, shortened
from sdesk.formats import yamlio

KeyPath = tuple[str | int, ...]
# One plain mailbox, as mail headers and SMTP carry it: ASCII, no spaces or line breaks, nothing that
# separates addresses (a requester "a@x.example,b@y.example" would mail two people). Use fullmatch.
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


class SchemaError(Exception):
    """A value at ``keypath`` that does not validate."""

    def __init__(self, keypath: KeyPath, message: str, follows: bool = False):
        super().__init__(message)
        self.keypath = keypath
        self.message = message
        # A reference to a list that is empty: usually the echo of a broken
        # declaration elsewhere, so it is only reported when nothing else is.
        self.follows = follows

    def __str__(self) -> str:
        where = ".".join(shortened(part) for part in self.keypath)
        return f"{where}: {self.message}" if where else self.message


class Invalid(Exception):
    """Data with one or more problems, all of them, in document order."""

    def __init__(self, problems: Sequence[SchemaError]):
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = list(problems)


def located(errors: SchemaError | Sequence[SchemaError], path: Path, text: str) -> list[InvalidData]:
    """Turn schema errors into user-facing errors with file, line and column, in document order."""
    position = yamlio.locator(text)
    found = []
    for error in [errors] if isinstance(errors, SchemaError) else errors:
        line, column = position(error.keypath) or (None, None)
        found.append(InvalidData(str(error), path, line, column))
    return sorted(found, key=lambda error: (error.line or 0, error.column or 0))


def first_located(problems: Invalid, path: Path, text: str, full_check: str) -> InvalidData:
    """The first problem, located, saying how many more ``full_check`` would list."""
    first = located(problems.problems, path, text)[0]
    more = len(problems.problems) - 1
    if more:
        first.message += f" (and {more} more: run {full_check})"
    return first


T = TypeVar("T")
YAML_BOOLEAN_WORDS = {True: ("on", "yes", "y", "true"), False: ("off", "no", "n", "false")}


class Problems:
    """Collects every problem in a document, so one check can report them all.

    Readers that raise :class:`SchemaError` are called through :meth:`get`,
    which records the error and hands back a default, letting validation go
    on past the first mistake.
    """

    def __init__(self) -> None:
        self.found: list[SchemaError] = []
        self._missing: set[KeyPath] = set()
        self._suggested: set[KeyPath] = set()  # keys a did-you-mean has already pointed to

    def add(self, keypath: KeyPath, message: str) -> None:
        self.found.append(SchemaError(keypath, message))

    def get(self, default: T, read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return read(*args, **kwargs)
        except SchemaError as error:
            if error.keypath not in self._missing:  # a missing required key is reported once
                self.found.append(error)
            return default

    def unknown_key(self, keypath: KeyPath, key: Any, allowed: Sequence[str]) -> None:
        """A key the mapping at ``keypath`` does not have, with the one it probably meant."""
        if isinstance(key, bool):  # YAML 1.1 reads on, off, yes, no, y, n unquoted as true or false
            words = [word for word in allowed if word in YAML_BOOLEAN_WORDS[key]]
            if words:
                self.add(keypath + (words[0],), f"write the key in quotes ('{words[0]}':): YAML reads it as {key}")
                return
        self.add(keypath + (key,), f"unknown key{one_of(key, allowed)}")
        meant = closest(key, allowed)
        if meant is not None:
            self._suggested.add(keypath + (meant,))

    def missing(self, keypath: KeyPath, message: str = "is required") -> None:
        """A required key without a value: said once, and not when a did-you-mean already pointed to it."""
        if not self.suggested(keypath):
            self.add(keypath, message)
        self._missing.add(keypath)

    def reported(self, keypath: KeyPath) -> bool:
        """Is a problem at or under ``keypath`` recorded (so a problem that follows from it would only repeat it)?"""
        return any(problem.keypath[: len(keypath)] == keypath for problem in self.found)

    def suggested(self, keypath: KeyPath) -> bool:
        """Did a did-you-mean already point the user to this key (so "it is missing" would repeat it)?"""
        return keypath in self._suggested

    def check(self) -> None:
        """Raise every problem found; echoes of a broken declaration only when they are all there is."""
        if self.found:
            causes = [problem for problem in self.found if not problem.follows]
            raise Invalid(causes or self.found)


def closest(word: object, options: Iterable[str]) -> str | None:
    """The option a typo most likely meant: the same word in another case, else a close one."""
    options = list(options)
    same_but_case = [option for option in options if option.casefold() == str(word).casefold()]
    close = same_but_case or difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    return close[0] if close else None


def suggestion(word: object, options: Iterable[str]) -> str:
    meant = closest(word, options)
    return f" (did you mean '{meant}'?)" if meant else ""


def unknown(what: str, word: object, options: Sequence[str]) -> str:
    """The message for a word that is not one of ``options``: "unknown team 'nok' (did you mean 'noc'?)"."""
    return f"unknown {what} {excerpt(word)}{one_of(word, options)}"


def one_of(word: object, options: Sequence[str]) -> str:
    """Explain a bad choice: the suggestion if there is one, else the valid words."""
    if not options:
        return " (none are declared)"
    hint = suggestion(word, options)
    return hint or f" (expected one of: {', '.join(options)})"


def choice(value: Any, keypath: KeyPath, options: Sequence[str]) -> str:
    """One of ``options``: a team a rule names must be one the file declares."""
    if value not in options:
        raise SchemaError(keypath, f"{excerpt(value)} is not valid{one_of(value, options)}", follows=not options)
    return str(value)


def timestamp(value: Any, keypath: KeyPath) -> datetime:
    _refuse_impossible(value, keypath)
    if isinstance(value, str) and TIMESTAMP_PATTERN.fullmatch(value):  # quoted: what YAML would have read
        value = _moment(value)
    if not isinstance(value, datetime):
        raise SchemaError(keypath, f"expected an ISO-8601 timestamp, got {describe(value)}")
    if value.tzinfo is None:
        raise SchemaError(keypath, "timestamp has no UTC offset")
    _refuse_out_of_range(value, keypath)
    return value


def day(value: Any, keypath: KeyPath) -> date:
    _refuse_impossible(value, keypath)
    if isinstance(value, str) and DATE_PATTERN.fullmatch(value):  # quoted: what YAML would have read
        value = date.fromisoformat(value)
    if isinstance(value, datetime) or not isinstance(value, date):
        raise SchemaError(keypath, f"expected a date such as 2027-06-30, got {describe(value)}")
    _refuse_out_of_range(value, keypath)
    return value


YEARS = (1970, 2999)  # room to count days and clocks either way without leaving Python's calendar
# Dates and timestamps as YAML writes them, real ones within YEARS (leap days included), so the JSON
# Schema refuses what day() and timestamp() refuse. A timestamp is YAML's: one-digit month, day, hour
# and offset hour, a space for the T, a fraction of any length; sdesk requires the UTC offset.
_YEAR = "(?:19[7-9][0-9]|2[0-9]{3})"
_LEAP_YEAR = "(?:19(?:7[26]|8[048]|9[26])|2[0-9](?:0[48]|[2468][048]|[13579][26])|2[048]00)"


def _calendar_day(zero: str) -> str:
    """A real date's year, month and day; ``zero`` is "0" for two-digit months and days, "0?" for YAML's looser."""
    return (
        f"(?:{_YEAR}-(?:(?:{zero}[1-9]|1[0-2])-(?:{zero}[1-9]|1[0-9]|2[0-8])"
        f"|(?:{zero}[13-9]|1[0-2])-(?:29|30)|(?:{zero}[13578]|1[02])-31)|{_LEAP_YEAR}-{zero}2-29)"
    )


_HOUR = "(?:[01]?[0-9]|2[0-3])"
DATE_PATTERN = re.compile(_calendar_day("0"))
TIMESTAMP_PATTERN = re.compile(
    f"{_calendar_day('0?')}(?:[Tt]|[ \\t]+){_HOUR}:[0-5][0-9]:[0-5][0-9](?:\\.[0-9]*)?"
    f"[ \\t]*(?:Z|[-+]{_HOUR}(?::[0-5][0-9])?)"
)
_MOMENT = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?"
    r"[ \t]*(?:Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?)"
)


def _moment(text: str) -> datetime:
    """A timestamp that matched TIMESTAMP_PATTERN, as YAML reads one written without quotes."""
    parts = _MOMENT.fullmatch(text)
    assert parts is not None  # TIMESTAMP_PATTERN matched
    year, month, day_, hour, minute, second, fraction, sign, offset_hours, offset_minutes = parts.groups()
    offset = timedelta(hours=int(offset_hours or 0), minutes=int(offset_minutes or 0))
    zone = timezone(-offset if sign == "-" else offset)
    micro = int((fraction or "")[:6].ljust(6, "0"))
    return datetime(int(year), int(month), int(day_), int(hour), int(minute), int(second), micro, zone)


def _refuse_out_of_range(value: date, keypath: KeyPath) -> None:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise SchemaError(keypath, f"{value.isoformat()} is not a date sdesk works with ({YEARS[0]} to {YEARS[1]})")


def timezone_name(value: Any, keypath: KeyPath) -> str:
    """An IANA time zone name such as Europe/Brussels (text, as the declaration read it)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = str(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SchemaError(keypath, f"unknown time zone '{name}' (e.g. Europe/Brussels)") from None
    return name


def _refuse_impossible(value: Any, keypath: KeyPath) -> None:
    if isinstance(value, yamlio.ImpossibleDate):
        raise SchemaError(keypath, f"{excerpt(value)} is not a real date: {value.reason}")


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return excerpt(value)
