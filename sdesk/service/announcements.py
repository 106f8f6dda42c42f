"""Announcements of planned maintenance and of outages, one YAML file each. Pure.

Seed 000: disruptions that touch several customers, and planned maintenance,
are announced. Maintenance belongs in evenings and weekends, so maintenance
that overlaps a customer's business hours is worth a warning. An outage can
have tickets linked to it; resolving it closes them (the CLI's job). The
file is declared once (:data:`ANNOUNCEMENT`), for the reader and for
`sdesk schema announcement`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct

from sdesk.calendar import businesstime, durations
from sdesk.formats.declare import List, OneOf, Pattern, Record, Text, Timestamp, Words
from sdesk.formats.reader import Problems
from sdesk.policy.rules import Rules
from sdesk.tickets import ids
from sdesk.words import ALL_CUSTOMERS, ANNOUNCEMENT_KINDS

STATES = ("planned", "active", "ended", "resolved")
CURRENT_STATES = STATES[:2]  # what `announce list` shows by default
ANNOUNCEMENT = Record(
    {
        "id": Pattern(ids.ID_PATTERN, "'{value}' is not an announcement number"),
        "kind": Words(ANNOUNCEMENT_KINDS),
        "title": Text(),
        "start": Timestamp(),
        "end": Timestamp(),  # an outage's expected end may be unknown
        "customers": OneOf(Words((ALL_CUSTOMERS,)), List(Text())),  # all: every customer (of the service)
        "service": Text(),
        "created": Timestamp(),
        "by": Text(),
        "resolved": Timestamp(),
        "resolved_by": Text(),
        "resolution": Text(),
    },
    required=("id", "kind", "title", "start", "created", "by"),
    defaults={"customers": ALL_CUSTOMERS},
)
KEYS = ANNOUNCEMENT.names


class Announcement(Struct):
    id: str
    kind: str
    title: str
    start: datetime
    end: datetime | None  # an outage's expected end may be unknown
    customers: tuple[str, ...]  # empty: every customer (of the service, when one is named)
    service: str | None
    created: datetime
    by: str
    resolved: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None

    def concerns(self, customer: str, rules: Rules) -> bool:
        """Named, or "all" of the customers (with a package of the service, when one is named)."""
        if self.customers:
            return customer in self.customers
        if self.service is None:
            return True
        known = rules.customers.get(customer)
        return known is not None and known.package(self.service) is not None

    def state(self, now: datetime) -> str:
        """planned, active, ended or resolved; an outage stays active until resolved, whatever its expected end."""
        if self.resolved is not None:
            return "resolved"
        if self.kind == "maintenance" and self.end is not None and now >= self.end:
            return "ended"
        return "active" if now >= self.start else "planned"


def refusal(draft: Announcement, existing: Iterable[Announcement], now: datetime) -> str | None:
    """Why a new announcement makes no sense (None: it does): its window already ended, or the very same
    announcement (kind, title, window, customers, service) is already there and not resolved."""
    if draft.end is not None and draft.end <= now:
        return f"its window already ended ({draft.end.isoformat(timespec='minutes')}): there is nothing to announce"
    for known in existing:
        if known.resolved is None and _same(known) == _same(draft):
            return f"already announced as {known.id}"
    return None


def _same(announcement: Announcement) -> tuple[object, ...]:
    """What makes two announcements the same one: whatever the case and spacing of the title, the order of
    the customers."""
    title = " ".join(announcement.title.split()).casefold()
    customers = tuple(sorted(announcement.customers))
    return (announcement.kind, title, announcement.start, announcement.end, customers, announcement.service)


def concerned_customers(announcement: Announcement, rules: Rules) -> list[str]:
    return [key for key in rules.customers if announcement.concerns(key, rules)]


def business_hours_overlap(announcement: Announcement, rules: Rules) -> list[str]:
    """For maintenance: each concerned customer whose calendar is open during it, with how long."""
    if announcement.kind != "maintenance" or announcement.end is None:
        return []
    overlaps = []
    for key in concerned_customers(announcement, rules):
        calendar_name = _business_calendar(rules, rules.customers[key].plan)
        calendar = rules.service.calendars.get(calendar_name)
        if calendar is None or calendar.always_open:
            continue  # around the clock there are no evenings to move maintenance to
        overlap = businesstime.measure(calendar, announcement.start, announcement.end)
        if overlap > timedelta(0):
            overlaps.append(f"{key} ({durations.words(overlap)} of their business hours on {calendar_name})")
    return overlaps


def _business_calendar(rules: Rules, plan_key: str) -> str:
    """A customer's business hours: the calendar most of their plan's targets run on (else the desk's)."""
    plan = rules.service.plans.get(plan_key)
    names = [targets.calendar for targets in plan.targets.values()] if plan is not None else []
    return max(names, key=names.count) if names else rules.service.desk_calendar


def new_id(now: datetime, random_bits: int | None = None) -> str:
    return ids.new_id(now, random_bits)


def to_dict(announcement: Announcement) -> dict[str, Any]:
    values = {key: getattr(announcement, key) for key in KEYS}
    values["customers"] = list(announcement.customers) or ALL_CUSTOMERS
    return {key: value for key, value in values.items() if value is not None}


def from_dict(data: Any) -> Announcement:
    """Strictly read an announcement file's data; raises the first SchemaError, with its key path."""
    problems = Problems()
    data = ANNOUNCEMENT.read(data, (), problems)
    if "start" in data and "end" in data and data["end"] <= data["start"]:
        problems.add(("end",), "ends before it starts")
    if problems.found:
        raise problems.found[0]
    customers = data["customers"]
    return Announcement(
        id=data["id"],
        kind=data["kind"],
        title=data["title"],
        start=data["start"],
        end=data.get("end"),
        customers=() if customers == ALL_CUSTOMERS else tuple(customers),
        service=data.get("service"),
        created=data["created"],
        by=data["by"],
        resolved=data.get("resolved"),
        resolved_by=data.get("resolved_by"),
        resolution=data.get("resolution"),
    )
