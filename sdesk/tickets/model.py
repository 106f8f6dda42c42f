"""Tickets and their history, and their fixed-order YAML form.

A ticket file holds the current value of every field followed by the
append-only ``history``: each event says when, who, what, and for every
changed field its value before and after. The file is declared once
(:data:`TICKET`): its order is the order the serializer writes keys in
(documented in README, "Ticket files"), its shape what the reader checks
and what `sdesk schema ticket` prints for editors.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from msgspec import Struct, field
from msgspec.structs import fields

from sdesk.formats.declare import Day, Email, Flag, Integer, List, Name, Pattern, Record, Text, Timestamp, Words
from sdesk.formats.reader import Problems
from sdesk.tickets import ids
from sdesk.words import IMPACTS, SCORES, URGENCIES

# What the names a desk declares look like (statuses, types, teams, customers …), and a site's ID.
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
SITE_PATTERN = re.compile(r"[0-9]{4}")

# Statuses and ticket types are the desk's own, declared in rules.yaml.
VISIBILITIES = ("public", "internal")
# "priority" is an agent escalating or de-escalating by hand, with the reason as text;
# "reminder", "breach", "warning" and "auto-closed" are recorded by the sweep; "time" is a
# time entry (`sdesk log`), "survey" the customer's satisfaction answer (`sdesk survey`); "call" a phone
# call on the record (`sdesk call`), "callback" the customer asking to be called back (`sdesk callback`);
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
    "warning",
    "auto-closed",
    "time",
    "survey",
    "merged",
    "call",
    "callback",
)
CLOSING_KINDS = ("closed", "auto-closed")
SWEEPER = "sdesk sweep"  # the `by` of every event the sweep records, whoever ran it
CLOCK_NAMES = ("response", "resolution", "callback")
# How a time entry is billed: covered by the contract (plan, warranty, included hours) or billable.
BILLING_CLASSES = ("covered", "billable")
MAX_ENTRY_MINUTES = 24 * 60


class Change(Struct, frozen=True):
    field: str
    old: str | None
    new: str | None


class Event(Struct, frozen=True):
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
    on_site: bool = False  # time entry: done at the customer's (remote unless said: seeds 002, 004)
    score: int | None = None  # survey: the customer's answer, 1 (bad) to 5 (very good)
    amends: datetime | None = None  # time entry: the `at` of the entry this one corrects (0 minutes withdraws it)
    mail: str | None = None  # the received mail this event came from (its record under inbox/)
    attachments: tuple[str, ...] = ()  # files kept under attachments/<ticket>/, as the mail brought them


class Ticket(Struct):
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
    watchers: str | None = None  # people who get the public mails too, comma-separated (Cc'd on the customer's mail)
    resolution: str | None = None
    sla_plan: str | None = None
    sla_calendar: str | None = None
    sla_response: str | None = None
    sla_resolution: str | None = None
    sla_callback: str | None = None
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
    def watcher_list(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in (self.watchers or "").split(",") if part.strip())

    def is_participant(self, email: str) -> bool:
        """The requester, a watcher or the cooperation contact: people whose mail about it is theirs to send."""
        known = (self.requester, *self.watcher_list, self.cooperation_email or "")
        return email.lower() in {address.lower() for address in known if address}

    @property
    def priority_set_by_hand(self) -> bool:
        """An agent chose the level; the rules no longer recompute it."""
        return any(event.kind == "priority" for event in self.history)

    def apply(self, event: Event) -> None:
        """Apply an event's field changes and append it to the history."""
        for change in event.changes:
            setattr(self, change.field, field_value(change.field, change.new))
        self.history.append(event)


def change_text(name: str, value: Any) -> str | None:
    """A field's value as a history change records it: text, the exclusions as comma-separated names."""
    if name == "exclusions":
        return ",".join(value) or None
    return None if value is None else str(value)


def field_value(name: str, text: str | None) -> Any:
    """The value a history change sets (:func:`change_text` read back)."""
    if name == "exclusions":
        return tuple(part for part in (text or "").split(",") if part)
    return text


FIELD_NAMES = tuple(f.name for f in fields(Ticket))
TEXT_FIELDS = tuple(name for name in FIELD_NAMES if name not in ("created", "exclusions", "history"))

# --- the declaration of a ticket file --------------------------------------------------

# Names rules.yaml declares: `sdesk check` holds them to it (the reader cannot: a broken policy never hides a ticket).
_NAME = Name(SLUG_PATTERN)
CONTACT = Record({"name": Text(), "phone": Text(), "email": Email()})
# A cooperation incident (seed 000): the customer's own desk works on it too.
COOPERATION = Record(
    {
        "ticket": Text(),
        "name": Text(),
        "email": Email(),
        "phone": Text(),
        "impact": Words(IMPACTS),
        "urgency": Words(URGENCIES),
    }
)
# The service-level targets fixed on the ticket when it opens and when its priority changes.
SLA = Record({"plan": _NAME, "calendar": Name(), "response": Text(), "resolution": Text(), "callback": Text()})
# A change sets a field an event may set: never the ticket's number, its creation or its history.
CHANGEABLE = tuple(name for name in FIELD_NAMES if name not in ("id", "created", "history"))
CHANGE = Record({"field": Words(CHANGEABLE), "from": Text(), "to": Text()}, required=("field",))
EVENT = Record(
    {
        "at": Timestamp(),
        "by": Text(),
        "event": Words(EVENT_KINDS),
        "from_customer": Flag(),
        "clock": Words(CLOCK_NAMES),
        "visibility": Words(VISIBILITIES),
        "on": Day(),
        "minutes": Integer(0, MAX_ENTRY_MINUTES),  # 0 only in a correction: it withdraws the entry
        "billing": Words(BILLING_CLASSES),
        "on_site": Flag(),
        "score": Integer(*SCORES),
        "amends": Timestamp(),
        "mail": Text(),
        "attachments": List(Text()),
        "changes": List(CHANGE),
        "text": Text(),
    },
    required=("at", "by", "event"),
)
TICKET = Record(
    {
        "id": Pattern(ids.ID_PATTERN, "{shown} is not a ticket number"),
        "title": Text(),
        "type": _NAME,
        "status": _NAME,
        "priority": Name(),
        "customer": _NAME,
        "product": _NAME,
        "requester": Email(),
        "team": _NAME,
        "assignee": Email(),
        "category": Name(),  # free text where the desk declares no categories
        "exclusions": List(Text()),
        "impact": Words(IMPACTS),
        "urgency": Words(URGENCIES),
        "site": Text(),
        "url": Text(),
        "error_message": Text(),
        "description": Text(),
        "contact": CONTACT,
        "external_ref": Text(),
        "cooperation": COOPERATION,
        "outage": Name(ids.ID_PATTERN),
        "watchers": Text(),
        "resolution": Text(),
        "sla": SLA,
        "created": Timestamp(),
        "history": List(EVENT),
    },
    required=("id", "title", "type", "status", "priority", "customer", "requester", "team", "created"),
)
TICKET_KEYS = TICKET.names
CONTACT_KEYS = CONTACT.names
COOPERATION_KEYS = COOPERATION.names
SLA_KEYS = SLA.names
EVENT_KEYS = EVENT.names
CHANGE_KEYS = CHANGE.names


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
    for key in ("on", "minutes", "billing", "score", "amends", "mail"):
        if getattr(event, key) is not None:
            data[key] = getattr(event, key)
    if event.on_site:
        data["on_site"] = True
    if event.attachments:
        data["attachments"] = list(event.attachments)
    if event.changes:
        data["changes"] = [{"field": c.field, "from": c.old, "to": c.new} for c in event.changes]
    if event.text is not None:
        data["text"] = event.text
    return data


def from_dict(data: Any) -> Ticket:
    """Strictly read a ticket's plain data; raises the first SchemaError, with its key path."""
    problems = Problems()
    data = TICKET.read(data, (), problems)
    history = data.get("history", [])
    for index, event in enumerate(history):
        if event.get("minutes") == 0 and "amends" not in event:
            problems.add(("history", index, "minutes"), f"0 is out of range (1 to {MAX_ENTRY_MINUTES})")
        if event.get("on_site") and event.get("event") != "time":
            problems.add(("history", index, "on_site"), "only a time entry is done on site")
    if problems.found:
        raise problems.found[0]
    groups = {"contact": CONTACT_KEYS, "sla": SLA_KEYS, "cooperation": COOPERATION_KEYS}
    flat = {f"{group}_{key}": data[group].get(key) for group, keys in groups.items() if group in data for key in keys}
    values = {key: data[key] for key in TICKET_KEYS if key in data and key not in groups}
    values["exclusions"] = tuple(values.get("exclusions", ()))
    values["history"] = [_event(event) for event in history]
    return Ticket(**values, **flat)


def _event(data: dict[str, Any]) -> Event:
    return Event(
        at=data["at"],
        by=data["by"],
        kind=data["event"],
        changes=tuple(Change(item["field"], item.get("from"), item.get("to")) for item in data.get("changes", ())),
        visibility=data.get("visibility"),
        text=data.get("text"),
        from_customer=data.get("from_customer", False),
        clock=data.get("clock"),
        on=data.get("on"),
        minutes=data.get("minutes"),
        billing=data.get("billing"),
        on_site=data.get("on_site", False),
        score=data.get("score"),
        amends=data.get("amends"),
        mail=data.get("mail"),
        attachments=tuple(data.get("attachments", ())),
    )
