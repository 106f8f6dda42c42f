"""Moments and days the way a customer reads them, in English, Dutch, French or German. Pure.

Mail and the static site speak to customers in their own language; both
say "maandag 23 november om 13:30" rather than an ISO timestamp. Four
languages fit in hand-written tables, which cost nothing at start-up where
Babel's locale data would (every command is timed).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
_MONTHS = {
    "en": "January February March April May June July August September October November December".split(),
    "nl": "januari februari maart april mei juni juli augustus september oktober november december".split(),
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split(),
}
# The weekday, the day of the month and the month, as each language writes them.
_DATE = {
    "en": "{weekday} {day} {month}",
    "nl": "{weekday} {day} {month}",
    "fr": "{weekday} {day} {month}",
    "de": "{weekday}, {day}. {month}",  # "Montag, 23. November": an ordinal day, a comma after the weekday
}
_FIRST = {"fr": "1er"}  # "lundi 1er décembre": French writes the first of the month as an ordinal
_AT = {"en": "at", "nl": "om", "fr": "à", "de": "um"}
# Open time in hours and minutes, and in minutes alone: "3h 05m", "3 h 05", "3 Std. 05 Min.".
_DURATION = {
    "en": ("{hours}h {minutes:02d}m", "{minutes}m"),
    "nl": ("{hours}u {minutes:02d}m", "{minutes}m"),
    "fr": ("{hours} h {minutes:02d}", "{minutes} min"),
    "de": ("{hours} Std. {minutes:02d} Min.", "{minutes} Min."),
}


def day(when: date, language: str, year: bool = True) -> str:
    """'Monday 23 November 2026' / 'Montag, 23. November 2026'; without the year when ``year`` is false."""
    words = language if language in _DAYS else "en"
    number = _FIRST.get(words, "1") if when.day == 1 else str(when.day)
    text = _DATE[words].format(weekday=_DAYS[words][when.weekday()], day=number, month=_MONTHS[words][when.month - 1])
    return f"{text} {when.year}" if year else text


def moment(when: datetime, language: str, zone: ZoneInfo, now: datetime | None = None) -> str:
    """'Monday 23 November 2026 at 13:30' in ``zone``; the year is left out when it is ``now``'s year."""
    local = when.astimezone(zone)
    same_year = now is not None and now.astimezone(zone).year == local.year
    words = language if language in _AT else "en"
    return f"{day(local.date(), words, year=not same_year)} {_AT[words]} {local:%H:%M}"


def duration(length: timedelta, language: str) -> str:
    """'3h 05m' / '3 h 05' / '3 Std. 05 Min.', '45m', '-1h 10m': open time as a team reads it, to the minute."""
    minutes = int(length.total_seconds() // 60)
    sign = "-" if minutes < 0 else ""
    hours, minutes = divmod(abs(minutes), 60)
    with_hours, alone = _DURATION.get(language, _DURATION["en"])
    return sign + (with_hours if hours else alone).format(hours=hours, minutes=minutes)
