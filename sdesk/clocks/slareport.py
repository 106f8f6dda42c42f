"""SLA compliance over a period (`sdesk report sla`): per priority and per customer. Pure.

A clock counts towards compliance once it is decided: stopped (met or
breached) or already overdue. Times are business time, pauses left out, as
the clocks count them: hours:minutes in the table, as every table shows a
duration, and whole minutes (``*_minutes``) in JSON and CSV.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from msgspec import Struct, field

from sdesk.calendar.durations import hours_minutes
from sdesk.clocks import sla
from sdesk.output import Column
from sdesk.policy.rules import Rules
from sdesk.tickets.model import CLOCK_NAMES, Ticket

GROUPINGS = ("priority", "customer")
FIELDS = (
    "group",
    "key",
    "tickets",
    *(
        f"{clock}_{measure}"
        for clock in CLOCK_NAMES
        for measure in ("decided", "met", "compliance", "median_minutes", "p90_minutes")
    ),
)
# The table: compliance as "50.0%", times as hours:minutes (the *_shown keys, not in JSON or CSV).
COLUMNS = (
    Column("group", "Group"),
    Column("key", "Key"),
    Column("tickets", "Tickets"),
    Column("response_shown", "Response"),
    Column("response_median_shown", "Median"),
    Column("response_p90_shown", "P90"),
    Column("resolution_shown", "Resolution"),
    Column("resolution_median_shown", "Median"),
    Column("resolution_p90_shown", "P90"),
    Column("callback_shown", "Call-back"),
)


class Tally(Struct):
    tickets: int = 0
    met: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLOCK_NAMES, 0))
    decided: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLOCK_NAMES, 0))
    hours: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in CLOCK_NAMES})

    def add(self, clocks: list[sla.Clock]) -> None:
        self.tickets += 1
        for clock in clocks:
            if clock.stopped is None and not clock.late:
                continue  # still running on time: not decided yet
            self.decided[clock.name] += 1
            self.met[clock.name] += not clock.late
            if clock.stopped is not None:
                self.hours[clock.name].append(clock.elapsed / timedelta(hours=1))

    def row(self, group: str, key: str) -> dict[str, Any]:
        row: dict[str, Any] = {"group": group, "key": key, "tickets": self.tickets}
        for name in CLOCK_NAMES:
            decided, hours = self.decided[name], sorted(self.hours[name])
            compliance = round(100 * self.met[name] / decided, 1) if decided else None
            row[f"{name}_decided"] = decided
            row[f"{name}_met"] = self.met[name]
            row[f"{name}_compliance"] = compliance
            row[f"{name}_shown"] = f"{compliance}%" if compliance is not None else None
            for measure, value in (
                ("median", statistics.median(hours) if hours else None),
                ("p90", percentile(hours, 90) if hours else None),
            ):
                minutes = round(value * 60) if value is not None else None
                row[f"{name}_{measure}_minutes"] = minutes
                row[f"{name}_{measure}_shown"] = hours_minutes(minutes) if minutes is not None else None
        return row


def percentile(values: list[float], pct: int) -> float:
    """The nearest-rank percentile: a value that occurred, as a support lead would read it off a sorted list."""
    ordered = sorted(values)
    rank = max(1, -(-pct * len(ordered) // 100))  # ceil(pct/100 * n)
    return ordered[rank - 1]


def in_period(ticket: Ticket, rules: Rules, start: date, end: date) -> bool:
    """Opened on a day from start to end inclusive, in the desk's time zone."""
    return start <= ticket.created.astimezone(rules.timezone).date() <= end


def report(tickets: Iterable[Ticket], rules: Rules, now: datetime, start: date, end: date) -> list[dict[str, Any]]:
    """One row per priority level and per customer, then the total."""
    tallies: dict[tuple[str, str], Tally] = {}
    total = Tally()
    for ticket in tickets:
        if not in_period(ticket, rules, start, end):
            continue
        clocks = sla.clocks(ticket, rules, now)
        total.add(clocks)
        for group in GROUPINGS:
            tallies.setdefault((group, str(getattr(ticket, group))), Tally()).add(clocks)
    levels = {level: index for index, level in enumerate(rules.priority.levels)}

    def order(key: tuple[str, str]) -> tuple[int, int, str]:
        group, name = key
        return GROUPINGS.index(group), levels.get(name, len(levels)) if group == "priority" else 0, name

    rows = [tallies[key].row(*key) for key in sorted(tallies, key=order)]
    return [*rows, total.row("all", "all")] if rows else []
