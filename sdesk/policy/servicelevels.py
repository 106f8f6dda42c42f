"""The service-level part of rules.yaml: calendars, plan targets, the queue order and the sweep.

Declared here (:mod:`sdesk.formats.declare`) for rules.py's declaration of
the whole file; read after its shape pass with the same
:class:`~sdesk.formats.reader.Problems` collector, so `sdesk rules check`
lists every problem at once. Pure.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from msgspec import Struct, field

from sdesk.calendar.businesstime import (
    MAX_TARGET_DAYS,
    TARGET_EXAMPLES,
    TARGET_PATTERN,
    WEEKDAYS,
    Calendar,
    Target,
    parse_target,
    supported_country,
)
from sdesk.formats import reader
from sdesk.formats.declare import Among, Day, Flag, Integer, List, MappingOf, Name, Node, OneOf, Pattern, Record, Text
from sdesk.formats.patterns import ASCII_SPACE, SPACE, Deferred, caseless
from sdesk.formats.reader import KeyPath, Problems
from sdesk.policy import conditions
from sdesk.policy.conditions import Condition, Field

CLOCKS = ("response", "resolution", "callback")
DEFAULT_REMINDERS = (2, 4)
DEFAULT_AUTO_CLOSE = 5
_TIME = "([01]?[0-9]|2[0-3]):([0-5][0-9])"
# An opening window, HH:MM-HH:MM, its end at most 24:00 (groups: start hour and minute, end hour and minute),
# blanks around it and around the dash. That it starts before it ends is checked once it is read.
WINDOW_PATTERN = Deferred(f"{SPACE}*{_TIME}{ASCII_SPACE}*-{ASCII_SPACE}*(?:{_TIME}|(24):(00)){SPACE}*")
# A weekday or a span of weekdays in week order (mon, sat, mon-fri), in any case.
WEEKDAYS_PATTERN = Deferred(
    "|".join(
        f"{caseless(day)}(?:{SPACE}*-{SPACE}*(?:{'|'.join(caseless(last) for last in WEEKDAYS[index:])}))?"
        for index, day in enumerate(WEEKDAYS)
    )
)

NOT_A_WINDOW = "'{value}' is not an opening window (write HH:MM-HH:MM, e.g. 09:00-12:00)"
TARGET = Pattern(
    TARGET_PATTERN,
    "'{value}' is not a target: " + TARGET_EXAMPLES,
    # YAML 1.1 reads an unquoted 1:30 as the number 90 (base 60), where an editor's YAML 1.2 reads text
    number_refusal="'{value}' is not a target: " + TARGET_EXAMPLES + " (quote a time such as '1:30': YAML reads "
    "it unquoted as a number)",
)
TARGETS = Record(
    {"response": TARGET, "resolution": TARGET, "callback": TARGET, "calendar": Name()},
    among=Among(CLOCKS, "give a response, resolution and/or callback target", several=True),
)
PLAN_FIELDS: dict[str, Node] = {"calendar": Name(), "targets": MappingOf(TARGETS, key=Name())}
CALENDAR = Record(
    {
        "timezone": Text(),
        "hours": MappingOf(
            List(Pattern(WINDOW_PATTERN, NOT_A_WINDOW)),
            key=Pattern(WEEKDAYS_PATTERN, "'{value}' is not a day or range of days (write mon, sat or mon-fri)"),
        ),
        "always_open": Flag(),
        "holidays": OneOf(
            Text(numbers=False), Record({"country": Text(), "subdivision": Text()}, required=("country",))
        ),
        "closed": OneOf(List(Day()), MappingOf(Text(), key=Day())),
    },
    defaults={"always_open": False},
)


def sections(when: Node, status: Node) -> dict[str, Node]:
    """The sections of rules.yaml read here, whose conditions are ``when`` and statuses ``status``."""
    ahead = Record({"name": Text(), "description": Text(), "when": when}, required=("name", "when"))
    return {
        "calendars": MappingOf(CALENDAR),
        "queue": Record({"ahead": List(ahead)}),
        "sweep": Record(
            {
                "reminders": List(
                    Integer(1, MAX_TARGET_DAYS, refusal=f"expected 1 to {MAX_TARGET_DAYS} working days, got {{got}}")
                ),
                "auto_close": Integer(
                    0, MAX_TARGET_DAYS, refusal=f"expected up to {MAX_TARGET_DAYS} working days (0: never), got {{got}}"
                ),
                "close_status": status,
                "warn_within": TARGET,
            },
            defaults={"reminders": list(DEFAULT_REMINDERS), "auto_close": DEFAULT_AUTO_CLOSE},
        ),
    }


class Targets(Struct, frozen=True):
    """A plan's targets for one priority level, and the calendar their clocks run on (``callback``: how soon
    a customer who asks to be called back is phoned, seed 002)."""

    calendar: str
    response: Target | None
    resolution: Target | None
    callback: Target | None = None

    def get(self, clock: str) -> Target | None:
        found: Target | None = getattr(self, clock)
        return found


class Plan(Struct, frozen=True):
    key: str
    targets: dict[str, Targets]  # priority level -> targets; a level without targets has no clocks


class Ahead(Struct, frozen=True):
    """A queue rule: tickets it matches are taken before others of the same priority."""

    name: str
    description: str | None
    when: Condition


class Sweep(Struct, frozen=True):
    reminders: tuple[int, ...]  # working days of waiting on the customer after which a reminder goes out
    auto_close: int  # working days of waiting after which the ticket is closed; 0: never
    close_status: str
    warn_within: Target | None = None  # a running clock with this much open time left gets a warning (agents' mail)


class ServiceLevels(Struct, frozen=True):
    calendars: dict[str, Calendar]
    desk_calendar: str  # the desk's working days: reminders and auto-close count them
    plans: dict[str, Plan]
    type_targets: dict[str, Targets]  # a ticket type's own clock, whatever the plan (a complaint, seeds 003/004)
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
    """The service levels from rules.yaml's data as its shape pass read it (rules.RULES)."""
    calendars = _calendars(data.get("calendars", {}), problems, timezone, language)
    desk = data.get("desk", {})
    desk_calendar = _calendar_name(desk.get("calendar"), ("desk", "calendar"), calendars, problems)
    return ServiceLevels(
        calendars=calendars,
        desk_calendar=desk_calendar,
        plans=_plans(data.get("plans", {}), calendars, desk_calendar, levels, problems),
        type_targets=_type_targets(data.get("types", {}), calendars, desk_calendar, problems),
        ahead=_ahead(data.get("queue", {}), fields, problems),
        sweep=_sweep(data["sweep"], final_statuses, problems),
        pausing=pausing,
    )


# --- calendars -----------------------------------------------------------------------------


def _calendars(entries: dict[str, Any], problems: Problems, timezone: str, language: str) -> dict[str, Calendar]:
    calendars = {}
    for key, entry in entries.items():
        at: KeyPath = ("calendars", key)
        zone = timezone
        if "timezone" in entry:
            zone = problems.get(timezone, reader.timezone_name, entry["timezone"], at + ("timezone",))
        always = entry["always_open"]
        for key_name in ("hours", "holidays", "closed"):
            if always and key_name in entry:
                problems.add(at + (key_name,), f"an always-open calendar has no {key_name}: drop one of the two")
        hours = {} if always else _hours(entry.get("hours", {}), at + ("hours",), problems)
        country, subdivision = _holidays(entry.get("holidays"), at + ("holidays",), problems)
        calendar = Calendar(
            name=key,
            timezone=zone,
            hours=hours,
            country=country,
            subdivision=subdivision,
            closed=_closed(entry.get("closed")),
            always_open=always,
            language=language,
        )
        if always or "hours" not in entry:
            if not always and not problems.reported(at + ("hours",)):
                problems.add(at, "give opening 'hours' (e.g. mon-fri: [09:00-17:00]) or 'always_open: true'")
        elif not any(hours.values()) and not problems.reported(at + ("hours",)):
            problems.add(at + ("hours",), "the calendar never opens: give at least one opening window")
        calendars[key] = calendar
    return calendars


def _hours(
    value: dict[str, list[str | None]], keypath: KeyPath, problems: Problems
) -> dict[int, tuple[tuple[int, int], ...]]:
    """`mon-fri: [09:00-12:00, 13:00-17:00]`, `sat: [10:00-14:00]`: windows per weekday."""
    hours: dict[int, tuple[tuple[int, int], ...]] = {}
    for key, spans in value.items():
        at = keypath + (key,)
        windows: list[tuple[int, int]] = []
        for index, span in enumerate(spans):
            if span is None:
                continue
            window = _window(span)
            if window is None:
                problems.add(at + (index,), NOT_A_WINDOW.format(value=span))
            elif windows and window[0] < windows[-1][1]:
                problems.add(at + (index,), f"'{span}' overlaps or comes before the window before it")
            else:
                windows.append(window)
        for day in _weekdays(key):
            if day in hours:
                problems.add(at, f"{WEEKDAYS[day]} already has hours")
            hours[day] = tuple(windows)
    return hours


def _weekdays(span: str) -> list[int]:
    """The days of a span that matched WEEKDAYS_PATTERN."""
    first, _, last = "".join(span.split()).lower().partition("-")
    return list(range(WEEKDAYS.index(first), WEEKDAYS.index(last or first) + 1))


def _window(span: str) -> tuple[int, int] | None:
    """A window that matched WINDOW_PATTERN in minutes after midnight; None when it does not start before it ends."""
    found = WINDOW_PATTERN.fullmatch(span)
    assert found is not None
    start_h, start_m, end_h, end_m, midnight_h, midnight_m = found.groups()
    start = int(start_h) * 60 + int(start_m)
    end = int(end_h or midnight_h) * 60 + int(end_m or midnight_m)
    return (start, end) if start < end else None


def _holidays(value: Any, keypath: KeyPath, problems: Problems) -> tuple[str | None, str | None]:
    """`holidays: BE` or `holidays: {country: NL, subdivision: ...}`."""
    entry: dict[str, Any] = {"country": value} if isinstance(value, str) else value or {}
    country, subdivision = entry.get("country"), entry.get("subdivision")
    if country is None:
        return None, None
    reason = supported_country(country, subdivision)
    if reason:
        problems.add(keypath, reason)
        return None, None
    return country, subdivision


def _closed(value: Any) -> dict[date, str]:
    """The desk's own closing days: a list of dates, or dates with the reason."""
    if isinstance(value, list):
        return {day: "closing day" for day in value if day is not None}
    return {day: reason or "closing day" for day, reason in (value or {}).items()}


def _calendar_name(value: Any, keypath: KeyPath, calendars: dict[str, Calendar], problems: Problems) -> str:
    if value is None:
        return next(iter(calendars), "")
    if value not in calendars:
        problems.add(keypath, reader.unknown("calendar", value, list(calendars)))
        return ""
    return str(value)


# --- plans, queue, sweep -------------------------------------------------------------------


def _plans(
    entries: dict[str, Any],
    calendars: dict[str, Calendar],
    desk_calendar: str,
    levels: tuple[str, ...],
    problems: Problems,
) -> dict[str, Plan]:
    plans = {}
    for key, entry in entries.items():
        at: KeyPath = ("plans", key)
        calendar = desk_calendar
        if "calendar" in entry:
            calendar = _calendar_name(entry["calendar"], at + ("calendar",), calendars, problems)
        elif "targets" in entry and not calendars:
            problems.add(at + ("targets",), "targets need a calendar: declare one under 'calendars'")
        targets = {}
        for level, item in entry.get("targets", {}).items():
            where = at + ("targets", level)
            if level not in levels:
                problems.add(where, reader.unknown("priority level", level, list(levels)))
                continue
            targets[level] = _targets(item, where, calendar, calendars, problems)
        plans[key] = Plan(key, targets)
    return plans


def _type_targets(
    entries: dict[str, Any], calendars: dict[str, Calendar], desk_calendar: str, problems: Problems
) -> dict[str, Targets]:
    """The targets a ticket type has of its own, on the desk's calendar unless they name one."""
    found = {}
    for key, entry in entries.items():
        item = entry.get("targets")
        if item is None:
            continue
        found[key] = _targets(item, ("types", key, "targets"), desk_calendar, calendars, problems)
    return found


def _targets(
    item: dict[str, Any], where: KeyPath, calendar: str, calendars: dict[str, Calendar], problems: Problems
) -> Targets:
    """Response, resolution and/or callback targets, on ``calendar`` unless the entry names one."""
    return Targets(
        calendar=_calendar_name(item["calendar"], where + ("calendar",), calendars, problems)
        if "calendar" in item
        else calendar,
        response=_target(item, "response", where, problems),
        resolution=_target(item, "resolution", where, problems),
        callback=_target(item, "callback", where, problems),
    )


def _target(item: dict[str, Any], key: str, where: KeyPath, problems: Problems) -> Target | None:
    """The target under ``key``, if given and within bounds (its grammar was checked when read)."""
    if key not in item:
        return None
    try:
        return parse_target(item[key])
    except ValueError as error:
        problems.add(where + (key,), str(error))
        return None


def _ahead(entry: dict[str, Any], fields: dict[str, Field], problems: Problems) -> tuple[Ahead, ...]:
    rules = []
    for index, item in enumerate(entry.get("ahead", [])):
        at: KeyPath = ("queue", "ahead", index)
        when = conditions.parse(item["when"], at + ("when",), fields, problems) if "when" in item else None
        if when is not None:
            rules.append(Ahead(item.get("name", ""), item.get("description"), when))
    return tuple(rules)


def _sweep(entry: dict[str, Any], final_statuses: tuple[str, ...], problems: Problems) -> Sweep:
    reminders: list[int] = []
    for index, item in enumerate(entry["reminders"]):
        if item is None:
            continue
        if reminders and item <= reminders[-1]:
            problems.add(("sweep", "reminders", index), "reminders must come in increasing order")
        else:
            reminders.append(item)
    auto_close = entry["auto_close"] if not problems.reported(("sweep", "auto_close")) else 0
    if auto_close and reminders and reminders[-1] >= auto_close:
        problems.add(
            ("sweep", "reminders"), f"every reminder must come before the auto-close after {auto_close} working days"
        )
    default = final_statuses[0] if final_statuses else ""
    close_status = problems.get(
        default, reader.choice, entry.get("close_status", default), ("sweep", "close_status"), list(final_statuses)
    )
    warn_within = _target(entry, "warn_within", ("sweep",), problems)
    return Sweep(tuple(reminders), auto_close, close_status, warn_within)
