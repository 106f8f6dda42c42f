"""Moments and days the way a customer reads them, in Dutch or English. Pure.

Mail and the static site speak to customers in their own language; both
say "maandag 23 november om 13:30" rather than an ISO timestamp.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}
_MONTHS = {
    "en": "January February March April May June July August September October November December".split(),
    "nl": "januari februari maart april mei juni juli augustus september oktober november december".split(),
}
_AT = {"en": "at", "nl": "om"}
_HOURS = {"en": "h", "nl": "u"}


def day(when: date, language: str, year: bool = True) -> str:
    """'Monday 23 November 2026' / 'maandag 23 november 2026'; without the year when ``year`` is false."""
    words = language if language in _DAYS else "en"
    text = f"{_DAYS[words][when.weekday()]} {when.day} {_MONTHS[words][when.month - 1]}"
    return f"{text} {when.year}" if year else text


def moment(when: datetime, language: str, zone: ZoneInfo, now: datetime | None = None) -> str:
    """'Monday 23 November 2026 at 13:30' in ``zone``; the year is left out when it is ``now``'s year."""
    local = when.astimezone(zone)
    same_year = now is not None and now.astimezone(zone).year == local.year
    words = language if language in _AT else "en"
    return f"{day(local.date(), words, year=not same_year)} {_AT[words]} {local:%H:%M}"


def duration(length: timedelta, language: str) -> str:
    """'3h 05m' / '3u 05m', '45m', '-1h 10m': open time as a team reads it, to the minute."""
    minutes = int(length.total_seconds() // 60)
    sign = "-" if minutes < 0 else ""
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours}{_HOURS.get(language, 'h')} {minutes:02d}m" if hours else f"{sign}{minutes}m"
