"""Tickets and their history, and their fixed-order YAML form.

A ticket file holds the current value of every field followed by the
append-only ``history``: each event says when, who, what, and for every
changed field its value before and after. The serializer, not the caller,
owns the key order (documented in README, "Ticket files").
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from sdesk.errors import excerpt
from sdesk.formats import reader
from sdesk.formats.reader import KeyPath, SchemaError
from sdesk.tickets import ids
from sdesk.words import IMPACTS, SCORES, URGENCIES

# Statuses and ticket types are the desk's own, declared in rules.yaml.
VISIBILITIES = ("public", "internal")
# "priority" is an agent escalating or de-escalating by hand, with the reason as text;
# "reminder", "breach" and "auto-closed" are recorded by `sdesk sweep`; "time" is a
# time entry (`sdesk log`), "survey" the customer's satisfaction answer (`sdesk survey`);
# "merged" records what git's merge driver decided when two clones changed one field (merge.py).
EVENT_KINDS = (
    "created",
    "updated",
    "priority",
    "comment",
    "closed",
    "reopened",
    "reminder",
    "breach",
    "auto-closed",
    "time",
    "survey",
    "merged",
)
CLOSING_KINDS = ("closed", "auto-closed")
CLOCK_NAMES = ("response", "resolution")
# How a time entry is billed: covered by the contract (plan, warranty, included hours) or billable.
BILLING_CLASSES = ("covered", "billable")
MAX_ENTRY_MINUTES = 24 * 60

CONTACT_KEYS = ("name", "phone", "email")
# A cooperation incident (seed 000): the customer's own desk works on it too.
COOPERATION_KEYS = ("ticket", "name", "email", "phone", "impact", "urgency")
# The service-level targets fixed on the ticket when it opens and when its priority changes.
SLA_KEYS = ("plan", "calendar", "response", "resolution")
TICKET_KEYS = (
    "id",
    "title",
    "type",
    "status",
    "priority",
    "customer",
    "product",
    "requester",
    "team",
    "assignee",
    "category",
    "exclusions",
    "impact",
    "urgency",
    "site",
    "url",
    "error_message",
    "description",
    "contact",
    "external_ref",
    "cooperation",
    "outage",
    "resolution",
    "sla",
    "created",
    "history",
)
EVENT_KEYS = (
    "at",
    "by",
    "event",
    "from_customer",
    "clock",
    "visibility",
    "on",
    "minutes",
    "billing",
    "score",
    "amends",
    "changes",
    "text",
)
CHANGE_KEYS = ("field", "from", "to")


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Event:
    at: datetime
    by: str
    kind: str
    changes: tuple[Change, ...] = ()
    visibility: str | None = None
    text: str | None = None
    from_customer: bool = False  # the requester's reaction, entered by the agent in `by`
    clock: str | None = None  # the SLA clock a breach event is about
    on: date | None = None  # time entry: the day the work was done
    minutes: int | None = None  # time entry: how long
    billing: str | None = None  # time entry: covered or billable
    score: int | None = None  # survey: the customer's answer, 1 (bad) to 5 (very good)
    amends: datetime | None = None  # time entry: the `at` of the entry this one corrects (0 minutes withdraws it)


@dataclass
class Ticket:
    id: str
    title: str
    type: str
    status: str
    priority: str
    customer: str
    requester: str
    team: str
    created: datetime
    product: str | None = None
    assignee: str | None = None
    category: str | None = None
    exclusions: tuple[str, ...] = ()  # exclusion rules that matched: the work may cost extra
    impact: str | None = None
    urgency: str | None = None
    site: str | None = None
    url: str | None = None
    error_message: str | None = None
    description: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    external_ref: str | None = None
    cooperation_ticket: str | None = None
    cooperation_name: str | None = None
    cooperation_email: str | None = None
    cooperation_phone: str | None = None
    cooperation_impact: str | None = None
    cooperation_urgency: str | None = None
    outage: str | None = None  # the outage announcement this ticket is part of
    resolution: str | None = None
    sla_plan: str | None = None
    sla_calendar: str | None = None
    sla_response: str | None = None
    sla_resolution: str | None = None
    history: list[Event] = field(default_factory=list)

    @property
    def updated(self) -> datetime:
        return self.history[-1].at if self.history else self.created

    def value(self, name: str) -> str | None:
        found: str | None = getattr(self, name)
        return found

    def fields(self) -> dict[str, str | None]:
        """Every text field by name: what rules and conditions look at."""
        return {name: getattr(self, name) for name in TEXT_FIELDS}

    def is_requester(self, email: str) -> bool:
        return email.lower() == self.requester.lower()

    @property
    def priority_set_by_hand(self) -> bool:
        """An agent chose the level; the rules no longer recompute it."""
        return any(event.kind == "priority" for event in self.history)

    def apply(self, event: Event) -> None:
        """Apply an event's field changes and append it to the history."""
        for change in event.changes:
            setattr(self, change.field, change.new)
        self.history.append(event)


FIELD_NAMES = tuple(f.name for f in fields(Ticket))
TEXT_FIELDS = tuple(name for name in FIELD_NAMES if name not in ("created", "exclusions", "history"))


# --- to and from the file's plain data -------------------------------------------------


def to_dict(ticket: Ticket) -> dict[str, Any]:
    """The ticket as plain data in file order; empty optional fields are left out."""
    values: dict[str, Any] = {name: getattr(ticket, name) for name in FIELD_NAMES}
    values["contact"] = _group(ticket, "contact", CONTACT_KEYS)
    values["sla"] = _group(ticket, "sla", SLA_KEYS)
    values["cooperation"] = _group(ticket, "cooperation", COOPERATION_KEYS)
    values["exclusions"] = list(ticket.exclusions) or None
    values["history"] = [event_to_dict(event) for event in ticket.history]
    return {key: values[key] for key in TICKET_KEYS if values[key] is not None}


def _group(ticket: Ticket, prefix: str, keys: tuple[str, ...]) -> dict[str, str] | None:
    """Flat fields such as contact_name written as one nested mapping (contact: {name: …})."""
    values = {key: getattr(ticket, f"{prefix}_{key}") for key in keys}
    return {key: value for key, value in values.items() if value is not None} or None


def event_to_dict(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = {"at": event.at, "by": event.by, "event": event.kind}
    if event.from_customer:
        data["from_customer"] = True
    if event.clock is not None:
        data["clock"] = event.clock
    if event.visibility is not None:
        data["visibility"] = event.visibility
    for key in ("on", "minutes", "billing", "score", "amends"):
        if getattr(event, key) is not None:
            data[key] = getattr(event, key)
    if event.changes:
        data["changes"] = [{"field": c.field, "from": c.old, "to": c.new} for c in event.changes]
    if event.text is not None:
        data["text"] = event.text
    return data


def from_dict(data: Any) -> Ticket:
    """Strictly read a ticket's plain data; raises SchemaError with the key path."""
    data = reader.mapping(
        data,
        (),
        allowed=TICKET_KEYS,
        required=("id", "title", "type", "status", "priority", "customer", "requester", "team", "created"),
    )
    ticket_id = reader.text(data["id"], ("id",))
    if not ids.is_ticket_id(ticket_id):
        raise SchemaError(("id",), f"{excerpt(ticket_id)} is not a ticket number")
    contact = reader.mapping(data.get("contact") or {}, ("contact",), allowed=CONTACT_KEYS)
    sla = reader.mapping(data.get("sla") or {}, ("sla",), allowed=SLA_KEYS)
    cooperation = _cooperation(data.get("cooperation"))
    optional = {
        name: reader.text(data.get(name), (name,), optional=True)
        for name in (
            "product",
            "category",
            "site",
            "url",
            "error_message",
            "description",
            "external_ref",
            "outage",
            "resolution",
        )
    }
    history = [
        _event_from_dict(item, ("history", index))
        for index, item in enumerate(reader.sequence(data.get("history"), ("history",)))
    ]
    return Ticket(
        id=ticket_id,
        title=reader.text(data["title"], ("title",)),
        type=reader.text(data["type"], ("type",)),
        status=reader.text(data["status"], ("status",)),
        priority=reader.text(data.get("priority"), ("priority",)),
        customer=reader.text(data.get("customer"), ("customer",)),
        requester=reader.email(data.get("requester"), ("requester",)),
        team=reader.text(data.get("team"), ("team",)),
        created=reader.timestamp(data["created"], ("created",)),
        assignee=reader.email(data.get("assignee"), ("assignee",), optional=True),
        impact=reader.choice(data.get("impact"), ("impact",), IMPACTS, optional=True),
        urgency=reader.choice(data.get("urgency"), ("urgency",), URGENCIES, optional=True),
        contact_name=reader.text(contact.get("name"), ("contact", "name"), optional=True),
        contact_phone=reader.text(contact.get("phone"), ("contact", "phone"), optional=True),
        contact_email=reader.email(contact.get("email"), ("contact", "email"), optional=True),
        **{f"sla_{key}": reader.text(sla.get(key), ("sla", key), optional=True) for key in SLA_KEYS},
        exclusions=tuple(
            reader.text(item, ("exclusions", index))
            for index, item in enumerate(reader.sequence(data.get("exclusions"), ("exclusions",)))
        ),
        history=history,
        **cooperation,
        **optional,
    )


def _cooperation(data: Any) -> dict[str, str | None]:
    where: KeyPath = ("cooperation",)
    group = reader.mapping(data or {}, where, allowed=COOPERATION_KEYS)
    values = {key: reader.text(group.get(key), where + (key,), optional=True) for key in COOPERATION_KEYS}
    values["email"] = reader.email(group.get("email"), where + ("email",), optional=True)
    values["impact"] = reader.choice(group.get("impact"), where + ("impact",), IMPACTS, optional=True)
    values["urgency"] = reader.choice(group.get("urgency"), where + ("urgency",), URGENCIES, optional=True)
    return {f"cooperation_{key}": value for key, value in values.items()}


def _event_from_dict(data: Any, keypath: KeyPath) -> Event:
    data = reader.mapping(data, keypath, allowed=EVENT_KEYS, required=("at", "by", "event"))
    changes = []
    for index, item in enumerate(reader.sequence(data.get("changes"), keypath + ("changes",))):
        where = keypath + ("changes", index)
        item = reader.mapping(item, where, allowed=CHANGE_KEYS, required=("field",))
        name = reader.choice(item["field"], where + ("field",), FIELD_NAMES)
        changes.append(
            Change(
                name,
                reader.text(item.get("from"), where + ("from",), optional=True),
                reader.text(item.get("to"), where + ("to",), optional=True),
            )
        )
    return Event(
        at=reader.timestamp(data["at"], keypath + ("at",)),
        by=reader.text(data["by"], keypath + ("by",)),
        kind=reader.choice(data["event"], keypath + ("event",), EVENT_KINDS),
        changes=tuple(changes),
        visibility=reader.choice(data.get("visibility"), keypath + ("visibility",), VISIBILITIES, optional=True),
        text=reader.text(data.get("text"), keypath + ("text",), optional=True),
        from_customer=data.get("from_customer") is True,
        clock=reader.choice(data.get("clock"), keypath + ("clock",), CLOCK_NAMES, optional=True),
        on=reader.day(data["on"], keypath + ("on",)) if "on" in data else None,
        minutes=_optional_int(data, "minutes", keypath, 0 if "amends" in data else 1, MAX_ENTRY_MINUTES),
        billing=reader.choice(data.get("billing"), keypath + ("billing",), BILLING_CLASSES, optional=True),
        score=_optional_int(data, "score", keypath, *SCORES),
        amends=reader.timestamp(data["amends"], keypath + ("amends",)) if "amends" in data else None,
    )


def _optional_int(data: dict[str, Any], key: str, keypath: KeyPath, low: int, high: int) -> int | None:
    return reader.integer(data[key], keypath + (key,), low, high) if key in data else None
