"""Strict reading of plain YAML data into typed values.

Every failure names the full key path (``customers.acme.plan``) and suggests
the closest valid word, so a typo in a hand-edited file explains itself. The
loader then adds the file and line (see :func:`located`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

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

    def mapping(
        self, value: Any, keypath: KeyPath, *, allowed: Iterable[str] | None = None, required: Iterable[str] = ()
    ) -> dict[str, Any]:
        """The known keys of a mapping; every unknown or missing key is recorded."""
        if not isinstance(value, dict):
            self.add(keypath, f"expected a mapping, got {describe(value)}")
            return {}
        known = value
        if allowed is not None:
            allowed = list(allowed)
            known = {}
            for key, item in value.items():
                if key in allowed:
                    known[key] = item
                else:
                    self.add(keypath + (key,), f"unknown key{one_of(key, allowed)}")
                    meant = closest(key, allowed)
                    if meant is not None:
                        self._suggested.add(keypath + (meant,))
        for key in required:
            if value.get(key) in (None, ""):
                if not self.suggested(keypath + (key,)):
                    self.add(keypath + (key,), "is required")
                self._missing.add(keypath + (key,))
        return known

    def flag(self, value: Any, keypath: KeyPath, default: bool = False) -> bool:
        """true or false; anything else is recorded and read as the default."""
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(keypath, f"expected true or false, got {describe(value)}")
            return default
        return value

    def sequence(self, value: Any, keypath: KeyPath) -> list[Any]:
        """The items of a list (none, with the problem recorded, when it is not a list)."""
        items: list[Any] = self.get([], sequence, value, keypath)
        return items

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


def mapping(
    value: Any, keypath: KeyPath, *, allowed: Iterable[str] | None = None, required: Iterable[str] = ()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError(keypath, f"expected a mapping, got {describe(value)}")
    if allowed is not None:
        allowed = list(allowed)
        for key in value:
            if key not in allowed:
                raise SchemaError(keypath + (key,), f"unknown key{one_of(key, allowed)}")
    for key in required:
        if value.get(key) in (None, ""):
            raise SchemaError(keypath + (key,), "is required")
    return value


def sequence(value: Any, keypath: KeyPath) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SchemaError(keypath, f"expected a list, got {describe(value)}")
    return value


@overload
def text(value: Any, keypath: KeyPath, *, optional: Literal[False] = False) -> str: ...
@overload
def text(value: Any, keypath: KeyPath, *, optional: bool) -> str | None: ...
def text(value: Any, keypath: KeyPath, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SchemaError(keypath, f"expected text, got {describe(value)}")
    result = str(value)
    if not result.strip() and not optional:
        raise SchemaError(keypath, "must not be empty")
    return result or None


@overload
def choice(value: Any, keypath: KeyPath, options: Sequence[str], *, optional: Literal[False] = False) -> str: ...
@overload
def choice(value: Any, keypath: KeyPath, options: Sequence[str], *, optional: bool) -> str | None: ...
def choice(value: Any, keypath: KeyPath, options: Sequence[str], *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if value not in options:
        raise SchemaError(keypath, f"{excerpt(value)} is not valid{one_of(value, options)}", follows=not options)
    return str(value)


@overload
def email(value: Any, keypath: KeyPath, *, optional: Literal[False] = False) -> str: ...
@overload
def email(value: Any, keypath: KeyPath, *, optional: bool) -> str | None: ...
def email(value: Any, keypath: KeyPath, *, optional: bool = False) -> str | None:
    result = text(value, keypath, optional=optional)
    if result is not None and not EMAIL_PATTERN.fullmatch(result):
        raise SchemaError(keypath, f"{excerpt(result)} is not an email address")
    return result


def timestamp(value: Any, keypath: KeyPath) -> datetime:
    _refuse_impossible(value, keypath)
    if not isinstance(value, datetime):
        raise SchemaError(keypath, f"expected an ISO-8601 timestamp, got {describe(value)}")
    if value.tzinfo is None:
        raise SchemaError(keypath, "timestamp has no UTC offset")
    _refuse_out_of_range(value, keypath)
    return value


def day(value: Any, keypath: KeyPath) -> date:
    _refuse_impossible(value, keypath)
    if isinstance(value, datetime) or not isinstance(value, date):
        raise SchemaError(keypath, f"expected a date such as 2027-06-30, got {describe(value)}")
    _refuse_out_of_range(value, keypath)
    return value


YEARS = (1970, 2999)  # room to count days and clocks either way without leaving Python's calendar


def _refuse_out_of_range(value: date, keypath: KeyPath) -> None:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise SchemaError(keypath, f"{value.isoformat()} is not a date sdesk works with ({YEARS[0]} to {YEARS[1]})")


def integer(value: Any, keypath: KeyPath, low: int, high: int) -> int:
    """A whole number within [low, high] (YAML's true/false are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError(keypath, f"expected a whole number, got {describe(value)}")
    if not low <= value <= high:
        raise SchemaError(keypath, f"{value} is out of range ({low} to {high})")
    return value


def timezone_name(value: Any, keypath: KeyPath) -> str:
    """An IANA time zone name such as Europe/Brussels."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = text(value, keypath)
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
