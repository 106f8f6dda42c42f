"""Durations as agents write and read them: one grammar for every duration sdesk reads, one form per place it
prints one. Pure.

`sdesk log`, `sdesk sla --within` and rules.yaml's targets read durations with :func:`parse_minutes`, in
English or Dutch (``1h30m``, ``1u30``, ``1,5 uur``, ``90 min``, ``1:30``), so the same text means the same
time everywhere. Tables print :func:`hours_minutes` (``1:30``: columns that line up and add up by eye),
sentences :func:`words` (``1h 30m``); both read back as the minutes they show (README, "Durations").

The grammar is written in what Python and ECMA-262 read alike (sdesk.formats.patterns): rules.yaml's
JSON Schema checks a target with it as an editor types.
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from sdesk.formats.patterns import SPACE, Deferred, caseless

EXAMPLES = "write e.g. 45m, 1h30m, 1u30, 1,5 uur, 90 min or 1:30"
MAX_HOURS = 10_000  # over a year round the clock: far beyond any entry, target or window
MAX_LENGTH = 100  # characters; "1 hour and 30 minutes" takes 21

_HOURS = caseless("(?:h(?:ours?|rs?)?|u(?:ur|ren)?)")
_MINUTES = caseless("m(?:in(?:s|utes?|uut|uten)?)?")
_AND = caseless("(?:and|en)")
# Hours and minutes as a clock shows them (groups 1, 2); hours, whole or decimal with a point or a comma,
# then optional minutes with their word or as two bare digits (3, 4, 5: 1h30m, 1 uur en 15 min, 1u30);
# or minutes alone (6). White space between the parts, any case.
GRAMMAR = (
    "([0-9]+):([0-5][0-9])"
    f"|([0-9]+(?:[.,][0-9]+)?){SPACE}*{_HOURS}"
    f"(?:{SPACE}*(?:{_AND}{SPACE}+)?(?:([0-9]+){SPACE}*{_MINUTES}|([0-5][0-9])))?"
    f"|([0-9]+){SPACE}*{_MINUTES}"
)
DURATION_PATTERN = Deferred(f"{SPACE}*(?:{GRAMMAR}){SPACE}*")


def parse_minutes(text: str, most_hours: int = MAX_HOURS) -> int:
    """Whole minutes, more than zero and at most ``most_hours``, from any way the grammar writes them; raises
    ValueError saying how to write one. Decimal hours are exact (4.1h is 246 minutes), never rounded."""
    if len(text) > MAX_LENGTH:
        raise ValueError(f"a duration of {len(text):,} characters is too long: {EXAMPLES}")
    found = DURATION_PATTERN.fullmatch(text)
    if found is None:
        raise ValueError(f"'{text.strip()}' is not a duration: {EXAMPLES}")
    clock_hours, clock_minutes, hours, minutes, bare_minutes, only_minutes = found.groups()
    if clock_hours is not None:
        exact = Fraction(int(clock_hours) * 60 + int(clock_minutes))
    elif hours is not None:
        exact = Fraction(hours.replace(",", ".")) * 60 + int(minutes or bare_minutes or 0)
    else:
        exact = Fraction(int(only_minutes))
    if exact.denominator != 1:
        raise ValueError(f"'{text.strip()}' is not a whole number of minutes: {EXAMPLES}")
    if exact == 0:
        raise ValueError(f"'{text.strip()}' is no time at all: give more than zero minutes")
    if exact > most_hours * 60:
        raise ValueError(f"'{text.strip()}' is too long: at most {most_hours:,} hours")
    return int(exact)


def hours_minutes(minutes: int) -> str:
    """Minutes the way a table shows them: 12:05 (hours:minutes), -1:30 for time past."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}"


def whole_minutes(duration: timedelta) -> int:
    """A span in whole minutes, the seconds dropped (toward the past): what tables and JSON count."""
    return duration // timedelta(minutes=1)


def words(duration: timedelta) -> str:
    """A duration the way a sentence says it: 3h 30m, 45m, 0m; days of 24h are not implied."""
    minutes = whole_minutes(duration)
    sign = "-" if minutes < 0 else ""
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours}h {minutes:02d}m" if hours else f"{sign}{minutes}m"
