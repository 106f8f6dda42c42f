"""Business-time arithmetic: when a desk is open, and how much open time lies between two moments.

A :class:`Calendar` is weekly opening windows in local wall time (breaks are
simply gaps between windows), public holidays of a country and the desk's own
closing days, or always open. All arithmetic happens on UTC instants, so
business time is real elapsed time inside opening windows and the DST
weekends need no special case. Pure: no files, no clock.

The fine points (README, "SLA clocks"):

* windows include their start and end: a clock that starts at 17:00 sharp
  on a 09:00–17:00 day starts at the next opening, while a target that runs
  out at 17:00 is due at 17:00 (the earliest moment the time is used up);
* "N business days" is the business time from the clock's start to the same
  wall-clock time N open days later: 7 hours on a 09:00–12:00, 13:00–17:00
  calendar, so a ticket that arrives Monday 10:00 is due Tuesday 10:00.
"""

from __future__ import annotations

import importlib
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import Struct, field

from sdesk.calendar import durations
from sdesk.formats.patterns import SPACE, Deferred, caseless

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# A calendar that stays closed this long has run out of opening days (closing days piled up by hand).
SEARCH_LIMIT_DAYS = 3 * 366
SEARCH_LIMIT_YEARS = 3  # the same for add(), which searches year by year
RECENT_MOMENTS = 1024  # open times kept for moments measured again soon

Windows = tuple[tuple[int, int], ...]  # opening windows of one weekday, in minutes after midnight


class NeverOpen(ValueError):
    """The calendar has no opening time ahead: a validation error, never an endless loop."""


class WorkedOut:
    """What a calendar works out as clocks ask, kept with it: not part of its value (equal to any other)."""

    __slots__ = ("days", "holiday_years", "open_before", "recent")

    def __init__(self) -> None:
        # Each day's windows: clocks of long-open tickets walk the same days again and again.
        self.days: dict[date, list[tuple[datetime, datetime]]] = {}
        # Each year's public holidays, once asked for (and kept with the rules' cache, so a command that
        # finds them there never imports the holiday library).
        self.holiday_years: dict[int, Mapping[date, str]] = {}
        # Open time (µs) before each local day of a year (the last entry: the year's total): measuring and
        # adding open time cost the same for a ticket opened yesterday or three years ago.
        self.open_before: dict[int, list[int]] = {}
        # Open time up to moments measured lately: `now`, which every clock of a listing measures to.
        self.recent: dict[tuple[datetime, int], int] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkedOut)

    def __hash__(self) -> int:
        return 0


class Calendar(Struct, frozen=True, repr_omit_defaults=True):
    name: str
    timezone: str
    hours: Mapping[int, Windows] = field(default_factory=dict)  # weekday (0 = Monday) -> windows
    country: str | None = None  # public holidays of this country (ISO code), from the `holidays` library
    subdivision: str | None = None
    closed: Mapping[date, str] = field(default_factory=dict)  # the desk's own closing days and why
    always_open: bool = False
    language: str = "en"
    worked: WorkedOut = field(default_factory=WorkedOut)

    def __post_init__(self) -> None:
        for day, windows in self.hours.items():
            previous_end = 0
            for start, end in windows:
                if not (previous_end <= start < end <= MINUTES_PER_DAY):
                    raise ValueError(f"calendar {self.name}: {WEEKDAYS[day]} windows must be ordered and not overlap")
                previous_end = end

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def closure(self, day: date) -> str | None:
        """Why the desk is closed on a day it would otherwise open, or None."""
        if self.always_open:
            return None
        if day in self.closed:
            return self.closed[day] or "closing day"
        if self.country:
            name = self.public_holidays(day.year).get(day)
            if name:
                return f"{name} (public holiday {self.country})"
        return None

    def public_holidays(self, year: int) -> Mapping[date, str]:
        """The country's public holidays of ``year`` (none without a country)."""
        if not self.country:
            return {}
        if year not in self.worked.holiday_years:
            self.worked.holiday_years[year] = _holidays(self.country, self.subdivision, year, self.language)
        return self.worked.holiday_years[year]

    def prepare(self, years: range) -> None:
        """Work out the holidays and open-time tables of ``years`` now, to be kept with the rules' cache
        (the day windows it took are dropped again: any day is quick to work out, a cache of all is not)."""
        for year in years:
            self.year_table(year)
        self.worked.days.clear()
        self.worked.recent.clear()

    def day_windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening windows of one local date as UTC instants (none on closed days)."""
        if day not in self.worked.days:
            spans: Windows = ((0, MINUTES_PER_DAY),) if self.always_open else self.hours.get(day.weekday(), ())
            closed = not spans or self.closure(day) is not None
            self.worked.days[day] = [] if closed else [(self._instant(day, s), self._instant(day, e)) for s, e in spans]
        return self.worked.days[day]

    def windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening windows from ``start`` on, the first one clipped to start; raises NeverOpen."""
        start = start.astimezone(UTC)
        day = start.astimezone(self.zone).date() - timedelta(days=1)  # a window may reach past midnight
        closed_run = 0
        while True:
            found = False
            for opens, closes in self.day_windows(day):
                if closes > start:
                    found = True
                    yield max(opens, start), closes
            closed_run = 0 if found else closed_run + 1
            if closed_run > SEARCH_LIMIT_DAYS:
                raise NeverOpen(f"calendar {self.name} has no opening time after {start:%Y-%m-%d}")
            day += timedelta(days=1)

    def year_table(self, year: int) -> list[int]:
        """Open time (µs) from 1 January of ``year`` to the start of each of its days, then the year's total."""
        if year not in self.worked.open_before:
            table, total, day = [0], 0, date(year, 1, 1)
            while day.year == year:
                total += sum(micro(closes - opens) for opens, closes in self.day_windows(day))
                table.append(total)
                day += timedelta(days=1)
            self.worked.open_before[year] = table
        return self.worked.open_before[year]

    def open_time(self, moment: datetime, since_year: int) -> int:
        """Open time (µs) from 1 January of ``since_year`` (local) up to ``moment``."""
        key = (moment.astimezone(UTC), since_year)  # instants: a zone's datetimes compare by wall clock
        found = self.worked.recent.get(key)
        if found is None:
            if len(self.worked.recent) >= RECENT_MOMENTS:
                self.worked.recent.clear()
            found = self.worked.recent[key] = self._open_time(moment, since_year)
        return found

    def _open_time(self, moment: datetime, since_year: int) -> int:
        day = moment.astimezone(self.zone).date()
        total = sum(self.year_table(year)[-1] for year in range(since_year, day.year))
        total += self.year_table(day.year)[day.timetuple().tm_yday - 1]
        instant = moment.astimezone(UTC)
        for opens, closes in self.day_windows(day):
            if opens < instant:
                total += micro(min(closes, instant) - opens)
        return total

    def local(self, moment: datetime) -> datetime:
        """The moment on this calendar's wall clock, its UTC offset fixed (and named after the zone).

        Python compares two datetimes that share a zone object by wall clock,
        which is wrong in the hour the clocks go back; a fixed offset makes every
        comparison one between instants.
        """
        wall = moment.astimezone(self.zone)
        return wall.replace(tzinfo=timezone(wall.utcoffset() or timedelta(0), self.timezone), fold=0)

    def _instant(self, day: date, minutes: int) -> datetime:
        extra, minutes = divmod(minutes, MINUTES_PER_DAY)
        wall = datetime.combine(day + timedelta(days=extra), time(minutes // 60, minutes % 60), self.zone)
        return wall.astimezone(UTC)


@lru_cache(maxsize=64)
def _holidays(country: str, subdivision: str | None, year: int, language: str) -> Mapping[date, str]:
    """A country's public holidays of one year; the library is imported only when a calendar needs it."""
    # A language the country has no names in falls back to the library's own names.
    return dict(_country_class(country)(subdiv=subdivision, years=year, language=language))


@lru_cache(maxsize=8)
def _country_class(country: str) -> Any:
    """The holiday library's class for one country, its module alone imported.

    ``holidays.country_holidays`` and ``holidays.XX`` import every country the library knows, a
    tenth of a second on every command that reads rules.yaml; the registry names each one's module.
    """
    from holidays.registry import COUNTRIES

    for module, names in COUNTRIES.items():
        if country in names[1:]:
            return getattr(importlib.import_module(f"holidays.countries.{module}"), names[0])
    raise KeyError(country)


def supported_country(country: str, subdivision: str | None) -> str | None:
    """Why the holiday library cannot serve this country/subdivision, or None when it can."""
    try:
        known = _country_class(country).subdivisions
    except KeyError:
        return f"no public holidays known for country '{country}' (use an ISO 3166 code such as NL or BE)"
    if subdivision is not None and subdivision not in known:
        return f"country {country} has no subdivision '{subdivision}' (known: {', '.join(known)})"
    return None


# --- arithmetic --------------------------------------------------------------------------


def next_opening(calendar: Calendar, moment: datetime) -> datetime:
    """The moment itself when the desk is open then, else the next opening (a window's end does not count)."""
    for opens, _closes in calendar.windows(moment):
        return calendar.local(opens)
    raise AssertionError("windows() never ends")  # pragma: no cover


def is_open(calendar: Calendar, moment: datetime) -> bool:
    """Is the desk open at this moment (a window's closing moment itself is not)?"""
    return next_opening(calendar, moment) == moment


def add(calendar: Calendar, start: datetime, duration: timedelta, at_opening: bool = False) -> datetime:
    """The earliest moment at which ``duration`` of open time has passed since ``start``.

    ``at_opening``: when the time runs out exactly at a closing, the next
    opening instead (the same moment of business time), so "1 business day"
    from Monday 09:00 reads Tuesday 09:00 rather than Monday 17:00.

    Found in the calendar's tables of open time per day (a search, not a walk through every day), then
    in the windows of the one day it falls on.
    """
    if duration <= timedelta(0):
        return _add_by_walking(calendar, start, duration, at_opening)
    year = start.astimezone(calendar.zone).year
    target = calendar.open_time(start, year) + micro(duration)
    first_year = year
    while target > calendar.year_table(year)[-1]:
        target -= calendar.year_table(year)[-1]
        year += 1
        if year - first_year > SEARCH_LIMIT_YEARS:
            raise NeverOpen(f"calendar {calendar.name} has no opening time after {start:%Y-%m-%d}")
    table = calendar.year_table(year)
    index = bisect_left(table, target) - 1  # the day it falls on: open time before it < target <= after it
    remaining = target - table[index]
    for opens, closes in calendar.day_windows(date(year, 1, 1) + timedelta(days=index)):
        length = micro(closes - opens)
        if length > remaining:
            return calendar.local(opens + timedelta(microseconds=remaining))
        if length == remaining:
            return next_opening(calendar, closes) if at_opening else calendar.local(closes)
        remaining -= length
    raise AssertionError("the day's windows hold its open time")  # pragma: no cover


def _add_by_walking(calendar: Calendar, start: datetime, duration: timedelta, at_opening: bool) -> datetime:
    """add() for no time or less (the next opening, or before it), window by window."""
    remaining = duration
    for opens, closes in calendar.windows(start):
        if closes - opens > remaining or (closes - opens == remaining and not (at_opening and remaining)):
            return calendar.local(opens + remaining)
        remaining -= closes - opens
    raise AssertionError("windows() never ends")  # pragma: no cover


def measure(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Open time between two moments (zero when end is not after start), from the tables of open time."""
    if end <= start:
        return timedelta()
    year = start.astimezone(calendar.zone).year
    return timedelta(microseconds=calendar.open_time(end, year) - calendar.open_time(start, year))


def micro(span: timedelta) -> int:
    """A span in whole microseconds: exact, where float seconds would round."""
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def days_later(calendar: Calendar, start: datetime, days: int) -> timedelta:
    """The open time of "N business days" from start: up to the same wall time N open days later."""
    begin = next_opening(calendar, start)
    return measure(calendar, begin, open_days_later(calendar, begin, days))


def working_days_after(calendar: Calendar, start: datetime, days: int) -> datetime:
    """The moment "N working days" after start: the due moment of an "N business days" target started then.

    The one definition the sweep's reminders and auto-close and `sla --explain` share (README, "The
    sweep"): counted from the first open moment at or after start, to the same wall time N open days
    later; when that time falls at a closing, the next opening.
    """
    return add(calendar, start, days_later(calendar, start, days), at_opening=True)


def open_days_later(calendar: Calendar, start: datetime, days: int) -> datetime:
    """The same wall-clock time ``days`` open days after start's date."""
    local = calendar.local(start)
    day = local.date()
    for _ in range(days):
        day += timedelta(days=1)
        skipped = 0
        while not calendar.day_windows(day):
            day += timedelta(days=1)
            skipped += 1
            if skipped > SEARCH_LIMIT_DAYS:
                raise NeverOpen(f"calendar {calendar.name} has no open day after {local:%Y-%m-%d}")
    return calendar.local(datetime.combine(day, local.timetz().replace(tzinfo=None), calendar.zone))


# --- targets -----------------------------------------------------------------------------

TARGET_EXAMPLES = "write e.g. 30m, 4h, 1h30m, 1u30, 1,5 uur or 2 business days (2 werkdagen), more than zero"
MAX_TARGET_DAYS = 250  # a year of working days
MAX_TARGET_HOURS = 2000
_DAY_WORDS = (
    f"{caseless('d(?:ays?|ag(?:en)?)?')}|{caseless('werkdag(?:en)?')}"
    f"|(?:{caseless('business')}|{caseless('working')}){SPACE}+{caseless('days?')}"
)
# The grammar of a target, matched against the whole value: rules.yaml's reader and its JSON Schema both
# use it, so it is written in what Python and ECMA-262 read alike (sdesk.formats.patterns). More than zero
# (a digit other than 0 somewhere), then business days (group 1) or a duration as every command reads one.
TARGET_PATTERN = Deferred(f"(?=[^1-9]*[1-9]){SPACE}*(?:([0-9]+){SPACE}*(?:{_DAY_WORDS})|{durations.GRAMMAR}){SPACE}*")


class Target(Struct, frozen=True):
    """A response or resolution target: business minutes, or business days ("1 business day")."""

    text: str
    minutes: int = 0
    days: int = 0

    def duration(self, calendar: Calendar, start: datetime) -> timedelta:
        """The open time this target gives a clock that starts at ``start``."""
        if self.days:
            return days_later(calendar, start, self.days)
        return timedelta(minutes=self.minutes)

    def __str__(self) -> str:
        return self.text


def parse_target(text: str) -> Target:
    """Read "30m", "1u30", "1,5 uur", "8 hours", "1 business day", "2 werkdagen"; raises ValueError.

    At most a year's work (MAX_TARGET_DAYS business days, MAX_TARGET_HOURS hours), so every due moment is
    found within the calendar's search limits.
    """
    found = TARGET_PATTERN.fullmatch(text) if len(text) <= durations.MAX_LENGTH else None
    if found is None:
        raise ValueError(f"'{text.strip()[: durations.MAX_LENGTH]}' is not a target: {TARGET_EXAMPLES}")
    cleaned = " ".join(text.split())
    if found.group(1) is None:
        return Target(cleaned, minutes=durations.parse_minutes(text, most_hours=MAX_TARGET_HOURS))
    if int(found.group(1)) > MAX_TARGET_DAYS:
        raise ValueError(f"'{cleaned}' is too long: at most {MAX_TARGET_DAYS} business days")
    return Target(cleaned, days=int(found.group(1)))
