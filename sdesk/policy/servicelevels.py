"""The service-level part of rules.yaml: calendars, plan targets, the queue order and the sweep.

Read with the same :class:`~sdesk.formats.reader.Problems` collector as the rest of
rules.yaml, so `sdesk rules check` lists every problem at once. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sdesk.calendar.businesstime import WEEKDAYS, Calendar, Target, parse_target, supported_country
from sdesk.formats import reader
from sdesk.formats.reader import KeyPath, Problems
from sdesk.policy import conditions
from sdesk.policy.conditions import Condition, Field

CLOCKS = ("response", "resolution")
_WINDOW = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", re.ASCII)
_DAYS = re.compile(r"([a-z]{3})(?:\s*-\s*([a-z]{3}))?")
DEFAULT_REMINDERS = (2, 4)
DEFAULT_AUTO_CLOSE = 5


@dataclass(frozen=True)
class Targets:
    """A plan's targets for one priority level, and the calendar their clocks run on."""

    calendar: str
    response: Target | None
    resolution: Target | None

    def get(self, clock: str) -> Target | None:
        found: Target | None = getattr(self, clock)
        return found


@dataclass(frozen=True)
class Plan:
    key: str
    targets: dict[str, Targets]  # priority level -> targets; a level without targets has no clocks


@dataclass(frozen=True)
class Ahead:
    """A queue rule: tickets it matches are taken before others of the same priority."""

    name: str
    description: str | None
    when: Condition


@dataclass(frozen=True)
class Sweep:
    reminders: tuple[int, ...]  # working days of waiting on the customer after which a reminder goes out
    auto_close: int  # working days of waiting after which the ticket is closed; 0: never
    close_status: str


@dataclass(frozen=True)
class ServiceLevels:
    calendars: dict[str, Calendar]
    desk_calendar: str  # the desk's working days: reminders and auto-close count them
    plans: dict[str, Plan]
    ahead: tuple[Ahead, ...]
    sweep: Sweep
    pausing: frozenset[str] = field(default_factory=frozenset)  # statuses that stop the clocks


def parse(
    data: dict[str, Any],
    problems: Problems,
    *,
    timezone: str,
    language: str,
    levels: tuple[str, ...],
    pausing: frozenset[str],
    final_statuses: tuple[str, ...],
    fields: dict[str, Field],
) -> ServiceLevels:
    calendars = _calendars(data.get("calendars"), problems, timezone, language)
    desk: dict[str, Any] = data["desk"] if isinstance(data.get("desk"), dict) else {}
    desk_calendar = _calendar_name(desk.get("calendar"), ("desk", "calendar"), calendars, problems)
    return ServiceLevels(
        calendars=calendars,
        desk_calendar=desk_calendar,
        plans=_plans(data.get("plans"), calendars, desk_calendar, levels, problems),
        ahead=_ahead(data.get("queue"), fields, problems),
        sweep=_sweep(data.get("sweep"), final_statuses, problems),
        pausing=pausing,
    )


# --- calendars -----------------------------------------------------------------------------


def _calendars(value: Any, problems: Problems, timezone: str, language: str) -> dict[str, Calendar]:
    calendars = {}
    entries = problems.mapping(value if value is not None else {}, ("calendars",))
    for key, entry in entries.items():
        at: KeyPath = ("calendars", key)
        entry = problems.mapping(entry, at, allowed=("timezone", "hours", "always_open", "holidays", "closed"))
        zone = timezone
        if "timezone" in entry:
            zone = problems.get(timezone, reader.timezone_name, entry["timezone"], at + ("timezone",))
        always = problems.flag(entry.get("always_open"), at + ("always_open",))
        for key_name in ("hours", "holidays", "closed"):
            if always and key_name in entry:
                problems.add(at + (key_name,), f"an always-open calendar has no {key_name}: drop one of the two")
        hours = {} if always else _hours(entry.get("hours"), at + ("hours",), problems)
        country, subdivision = _holidays(entry.get("holidays"), at + ("holidays",), problems)
        calendar = Calendar(
            name=str(key),
            timezone=zone,
            hours=hours,
            country=country,
            subdivision=subdivision,
            closed=_closed(entry.get("closed"), at + ("closed",), problems),
            always_open=always,
            language=language,
        )
        if always or "hours" not in entry:
            if not always:
                problems.add(at, "give opening 'hours' (e.g. mon-fri: [09:00-17:00]) or 'always_open: true'")
        elif not any(hours.values()) and not _malformed(problems, at + ("hours",)):
            problems.add(at + ("hours",), "the calendar never opens: give at least one opening window")
        calendars[str(key)] = calendar
    return calendars


def _hours(value: Any, keypath: KeyPath, problems: Problems) -> dict[int, tuple[tuple[int, int], ...]]:
    """`mon-fri: [09:00-12:00, 13:00-17:00]`, `sat: [10:00-14:00]`: windows per weekday."""
    hours: dict[int, tuple[tuple[int, int], ...]] = {}
    for key, spans in problems.mapping(value, keypath).items():
        at = keypath + (key,)
        days = _weekdays(str(key))
        if days is None:
            problems.add(at, f"'{key}' is not a day or range of days (write mon, sat or mon-fri)")
            continue
        windows: list[tuple[int, int]] = []
        for index, span in enumerate(problems.sequence(spans, at)):
            window = _window(span)
            if window is None:
                problems.add(at + (index,), f"'{span}' is not an opening window (write HH:MM-HH:MM, e.g. 09:00-12:00)")
            elif windows and window[0] < windows[-1][1]:
                problems.add(at + (index,), f"'{span}' overlaps or comes before the window before it")
            else:
                windows.append(window)
        for day in days:
            if day in hours:
                problems.add(at, f"{WEEKDAYS[day]} already has hours")
            hours[day] = tuple(windows)
    return hours


def _malformed(problems: Problems, keypath: KeyPath) -> bool:
    """A window or day under keypath is already reported: "never opens" would only repeat it."""
    return any(problem.keypath[: len(keypath)] == keypath for problem in problems.found)


def _weekdays(text: str) -> list[int] | None:
    found = _DAYS.fullmatch(text.lower())
    if not found or found.group(1) not in WEEKDAYS or (found.group(2) and found.group(2) not in WEEKDAYS):
        return None
    first = WEEKDAYS.index(found.group(1))
    last = WEEKDAYS.index(found.group(2)) if found.group(2) else first
    return list(range(first, last + 1)) if first <= last else None


def _window(span: Any) -> tuple[int, int] | None:
    found = _WINDOW.fullmatch(str(span).strip()) if isinstance(span, str) else None
    if not found:
        return None
    start_h, start_m, end_h, end_m = (int(part) for part in found.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_m > 59 or end_m > 59 or end > 24 * 60 or start >= end:
        return None
    return start, end


def _holidays(value: Any, keypath: KeyPath, problems: Problems) -> tuple[str | None, str | None]:
    """`holidays: BE` or `holidays: {country: NL, subdivision: ...}`."""
    if value is None:
        return None, None
    if isinstance(value, str):
        entry: dict[str, Any] = {"country": value}
    else:
        entry = problems.mapping(value, keypath, allowed=("country", "subdivision"), required=("country",))
    country = problems.get(None, reader.text, entry.get("country"), keypath)
    subdivision = problems.get(None, reader.text, entry.get("subdivision"), keypath + ("subdivision",), optional=True)
    if country is None:
        return None, None
    reason = supported_country(country, subdivision)
    if reason:
        problems.add(keypath, reason)
        return None, None
    return country, subdivision


def _closed(value: Any, keypath: KeyPath, problems: Problems) -> dict[date, str]:
    """The desk's own closing days: a list of dates, or dates with the reason."""
    if value is None:
        return {}
    closed: dict[date, str] = {}
    if isinstance(value, list):
        for index, item in enumerate(value):
            day = problems.get(None, reader.day, item, keypath + (index,))
            if day is not None:
                closed[day] = "closing day"
        return closed
    for key, reason in problems.mapping(value, keypath).items():
        day = problems.get(None, reader.day, key, keypath + (key,))
        if day is not None:
            closed[day] = problems.get("closing day", reader.text, reason, keypath + (key,))
    return closed


def _calendar_name(value: Any, keypath: KeyPath, calendars: dict[str, Calendar], problems: Problems) -> str:
    if value is None:
        return next(iter(calendars), "")
    if value not in calendars:
        problems.add(keypath, reader.unknown("calendar", value, list(calendars)))
        return ""
    return str(value)


# --- plans, queue, sweep -------------------------------------------------------------------


def _plans(
    value: Any, calendars: dict[str, Calendar], desk_calendar: str, levels: tuple[str, ...], problems: Problems
) -> dict[str, Plan]:
    plans = {}
    entries = value if isinstance(value, dict) else {}  # rules.py reports the plans' shape
    for key, entry in entries.items():
        if not isinstance(entry, dict):
            continue
        at: KeyPath = ("plans", key)
        calendar = desk_calendar
        if "calendar" in entry:
            calendar = _calendar_name(entry["calendar"], at + ("calendar",), calendars, problems)
        elif "targets" in entry and not calendars:
            problems.add(at + ("targets",), "targets need a calendar: declare one under 'calendars'")
        targets = {}
        for level, item in problems.mapping(entry.get("targets") or {}, at + ("targets",)).items():
            where = at + ("targets", level)
            if level not in levels:
                problems.add(where, reader.unknown("priority level", level, list(levels)))
                continue
            item = problems.mapping(item, where, allowed=("response", "resolution", "calendar"))
            if not (item.keys() & set(CLOCKS)):
                problems.add(where, "give a response and/or a resolution target")
            targets[str(level)] = Targets(
                calendar=_calendar_name(item["calendar"], where + ("calendar",), calendars, problems)
                if "calendar" in item
                else calendar,
                response=problems.get(None, _target, item.get("response"), where + ("response",)),
                resolution=problems.get(None, _target, item.get("resolution"), where + ("resolution",)),
            )
        plans[str(key)] = Plan(str(key), targets)
    return plans


def _target(value: Any, keypath: KeyPath) -> Target | None:
    if value is None:
        return None
    try:
        return parse_target(reader.text(value, keypath))
    except ValueError as error:
        raise reader.SchemaError(keypath, str(error)) from None


def _ahead(value: Any, fields: dict[str, Field], problems: Problems) -> tuple[Ahead, ...]:
    entry = problems.mapping(value if value is not None else {}, ("queue",), allowed=("ahead",))
    rules = []
    for index, item in enumerate(problems.sequence(entry.get("ahead"), ("queue", "ahead"))):
        at: KeyPath = ("queue", "ahead", index)
        item = problems.mapping(item, at, allowed=("name", "description", "when"), required=("name", "when"))
        name = problems.get("", reader.text, item.get("name"), at + ("name",))
        description = problems.get(None, reader.text, item.get("description"), at + ("description",), optional=True)
        when = conditions.parse(item["when"], at + ("when",), fields, problems) if "when" in item else None
        if when is not None:
            rules.append(Ahead(name, description, when))
    return tuple(rules)


def _sweep(value: Any, final_statuses: tuple[str, ...], problems: Problems) -> Sweep:
    entry = problems.mapping(
        value if value is not None else {}, ("sweep",), allowed=("reminders", "auto_close", "close_status")
    )
    reminders: list[int] = []
    for index, item in enumerate(
        problems.sequence(entry.get("reminders", list(DEFAULT_REMINDERS)), ("sweep", "reminders"))
    ):
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            problems.add(
                ("sweep", "reminders", index),
                f"expected a number of working days (1 or more), got {reader.describe(item)}",
            )
        elif reminders and item <= reminders[-1]:
            problems.add(("sweep", "reminders", index), "reminders must come in increasing order")
        else:
            reminders.append(item)
    auto_close = entry.get("auto_close", DEFAULT_AUTO_CLOSE)
    if isinstance(auto_close, bool) or not isinstance(auto_close, int) or auto_close < 0:
        problems.add(
            ("sweep", "auto_close"),
            f"expected a number of working days (0 turns it off), got {reader.describe(auto_close)}",
        )
        auto_close = 0
    elif auto_close and reminders and reminders[-1] >= auto_close:
        problems.add(
            ("sweep", "reminders"), f"every reminder must come before the auto-close after {auto_close} working days"
        )
    default = final_statuses[0] if final_statuses else ""
    close_status = problems.get(
        default, reader.choice, entry.get("close_status", default), ("sweep", "close_status"), list(final_statuses)
    )
    return Sweep(tuple(reminders), auto_close, close_status)
