"""Announcements of planned maintenance and of outages, one YAML file each. Pure.

Seed 000: disruptions that touch several customers, and planned maintenance,
are announced. Maintenance belongs in evenings and weekends, so maintenance
that overlaps a customer's business hours is worth a warning. An outage can
have tickets linked to it; resolving it closes them (the CLI's job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sdesk.calendar import businesstime
from sdesk.formats import reader
from sdesk.formats.reader import SchemaError
from sdesk.policy.rules import Rules
from sdesk.tickets import ids
from sdesk.words import ALL_CUSTOMERS, ANNOUNCEMENT_KINDS

STATES = ("planned", "active", "ended", "resolved")
CURRENT_STATES = STATES[:2]  # what `announce list` shows by default
KEYS = (
    "id",
    "kind",
    "title",
    "start",
    "end",
    "customers",
    "service",
    "created",
    "by",
    "resolved",
    "resolved_by",
    "resolution",
)


@dataclass
class Announcement:
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
            overlaps.append(f"{key} ({businesstime.words(overlap)} of their business hours on {calendar_name})")
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
    """Strictly read an announcement file's data; raises SchemaError with the key path."""
    data = reader.mapping(data, (), allowed=KEYS, required=("id", "kind", "title", "start", "created", "by"))
    announcement_id = reader.text(data["id"], ("id",))
    if not ids.is_ticket_id(announcement_id):
        raise SchemaError(("id",), f"'{announcement_id}' is not an announcement number")
    customers = data.get("customers", ALL_CUSTOMERS)
    if customers == ALL_CUSTOMERS:
        named: tuple[str, ...] = ()
    else:
        named = tuple(
            reader.text(item, ("customers", index))
            for index, item in enumerate(reader.sequence(customers, ("customers",)))
        )
    start = reader.timestamp(data["start"], ("start",))
    end = reader.timestamp(data["end"], ("end",)) if data.get("end") is not None else None
    if end is not None and end <= start:
        raise SchemaError(("end",), "ends before it starts")
    return Announcement(
        id=announcement_id,
        kind=reader.choice(data["kind"], ("kind",), ANNOUNCEMENT_KINDS),
        title=reader.text(data["title"], ("title",)),
        start=start,
        end=end,
        customers=named,
        service=reader.text(data.get("service"), ("service",), optional=True),
        created=reader.timestamp(data["created"], ("created",)),
        by=reader.text(data["by"], ("by",)),
        resolved=reader.timestamp(data["resolved"], ("resolved",)) if data.get("resolved") is not None else None,
        resolved_by=reader.text(data.get("resolved_by"), ("resolved_by",), optional=True),
        resolution=reader.text(data.get("resolution"), ("resolution",), optional=True),
    )
