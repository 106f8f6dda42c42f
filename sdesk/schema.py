"""Strict reading of plain YAML data into typed values.

Every failure names the full key path (``customers.acme.plan``) and suggests
the closest valid word, so a typo in a hand-edited file explains itself. The
loader then adds the file and line (see :func:`located`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, overload

from sdesk import yamlio
from sdesk.errors import InvalidData

KeyPath = tuple[str | int, ...]
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SchemaError(Exception):
    """A value at ``keypath`` that does not validate."""

    def __init__(self, keypath: KeyPath, message: str):
        super().__init__(message)
        self.keypath = keypath
        self.message = message

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.keypath)
        return f"{where}: {self.message}" if where else self.message


def located(error: SchemaError, path: Path, text: str) -> InvalidData:
    """Turn a schema error into a user-facing error with file and line."""
    return InvalidData(str(error), path, yamlio.line_of(text, error.keypath))


def suggestion(word: object, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def one_of(word: object, options: Sequence[str]) -> str:
    """Explain a bad choice: the suggestion if there is one, else the valid words."""
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
        raise SchemaError(keypath, f"'{value}' is not valid{one_of(value, options)}")
    return str(value)


@overload
def email(value: Any, keypath: KeyPath, *, optional: Literal[False] = False) -> str: ...
@overload
def email(value: Any, keypath: KeyPath, *, optional: bool) -> str | None: ...
def email(value: Any, keypath: KeyPath, *, optional: bool = False) -> str | None:
    result = text(value, keypath, optional=optional)
    if result is not None and not EMAIL_PATTERN.match(result):
        raise SchemaError(keypath, f"'{result}' is not an email address")
    return result


def timestamp(value: Any, keypath: KeyPath) -> datetime:
    if not isinstance(value, datetime):
        raise SchemaError(keypath, f"expected an ISO-8601 timestamp, got {describe(value)}")
    if value.tzinfo is None:
        raise SchemaError(keypath, "timestamp has no UTC offset")
    return value


def day(value: Any, keypath: KeyPath) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise SchemaError(keypath, f"expected a date such as 2027-06-30, got {describe(value)}")
    return value


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'"
