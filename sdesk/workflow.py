"""What agents do to tickets, as pure functions that return history events.

Each function checks that the move is allowed and describes it as an
:class:`Event`; applying the event (``Ticket.apply``) and saving it is the
store's job. Nothing here reads files or the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sdesk import ids, schema
from sdesk.errors import InvalidData, Refused
from sdesk.model import CLOSED, IMPACTS, STATUSES, TYPES, URGENCIES, Change, Event, Ticket
from sdesk.rules import SITE_PATTERN, Rules

REQUIRED_FIELDS = ("title", "type", "customer", "requester")
# Fields that may never be cleared once a ticket exists.
NEVER_EMPTY = frozenset({"title", "type", "customer", "requester", "team"})


def check_value(rules: Rules, name: str, value: str | None) -> str | None:
    """Validate one field value against the field's format and the desk's rules."""
    if value is None or not value.strip():
        if name in NEVER_EMPTY:
            raise InvalidData(f"{name.replace('_', ' ')} must not be empty")
        return None
    choices = {
        "type": TYPES,
        "impact": IMPACTS,
        "urgency": URGENCIES,
        "customer": list(rules.customers),
        "team": list(rules.teams),
    }
    if name in choices and value not in choices[name]:
        raise InvalidData(f"unknown {name} '{value}'{schema.one_of(value, choices[name])}")
    if name in ("requester", "contact_email", "assignee") and not schema.EMAIL_PATTERN.match(value):
        raise InvalidData(f"{name.replace('_', ' ')} '{value}' is not an email address")
    if name == "site" and not SITE_PATTERN.match(value):
        raise InvalidData(f"site ID '{value}' must be 4 digits")
    if name == "url" and not re.match(r"^https?://\S+$", value):
        raise InvalidData(f"url '{value}' must start with http:// or https://")
    return value if "\n" in value else value.strip()


def create(
    rules: Rules, values: Mapping[str, str | None], actor: str, now: datetime, random_bits: int | None = None
) -> Ticket:
    """A new open ticket; contact details default to the reference person's."""
    missing = [name for name in REQUIRED_FIELDS if not values.get(name)]
    if missing:
        raise InvalidData("missing " + ", ".join(missing))
    fields: dict[str, Any] = {name: check_value(rules, name, value) for name, value in values.items()}
    fields["team"] = fields.get("team") or rules.default_team
    person = rules.customers[fields["customer"]].contact(fields["requester"])
    if person is not None:
        fields["contact_name"] = fields.get("contact_name") or person.name
        fields["contact_phone"] = fields.get("contact_phone") or person.phone
    ticket = Ticket(
        id=ids.new_id(now, random_bits),
        status="open",
        priority=rules.priority_for(fields.get("impact"), fields.get("urgency")),
        created=now,
        **fields,
    )
    ticket.history.append(Event(now, actor, "created"))
    return ticket


def update(
    ticket: Ticket, rules: Rules, values: Mapping[str, str | None], actor: str, now: datetime, note: str | None = None
) -> Event:
    """Change fields and/or status; impact or urgency recompute the priority."""
    _refuse_if_closed(ticket, "update")
    status = values.get("status")
    if status == CLOSED:
        raise Refused(f"close a ticket with: sdesk close {ticket.id} --resolution TEXT")
    if status is not None and status not in STATUSES:
        raise InvalidData(f"unknown status '{status}'{schema.one_of(status, STATUSES)}")
    changes = []
    for name, value in values.items():
        new = value if name == "status" else check_value(rules, name, value)
        if new != ticket.value(name):
            changes.append(Change(name, ticket.value(name), new))
    impact = _new_value(changes, "impact", ticket.impact)
    urgency = _new_value(changes, "urgency", ticket.urgency)
    priority = rules.priority_for(impact, urgency)
    if (impact, urgency) != (ticket.impact, ticket.urgency) and priority != ticket.priority:
        changes.append(Change("priority", ticket.priority, priority))
    if not changes:
        raise Refused(f"nothing to change: {ticket.id} already has those values")
    return Event(now, actor, "updated", tuple(changes), text=_clean(note))


def comment(ticket: Ticket, text: str, actor: str, now: datetime, internal: bool = False) -> Event:
    _refuse_if_closed(ticket, "comment on")
    body = _clean(text)
    if body is None:
        raise Refused("a comment needs text")
    return Event(now, actor, "comment", visibility="internal" if internal else "public", text=body)


def close(ticket: Ticket, resolution: str, actor: str, now: datetime) -> Event:
    if ticket.is_closed:
        raise Refused(f"{ticket.id} is already closed")
    text = _clean(resolution)
    if text is None:
        raise Refused("closing needs a resolution: say what was done (--resolution TEXT)")
    return Event(
        now, actor, "closed", (Change("status", ticket.status, CLOSED), Change("resolution", ticket.resolution, text))
    )


def reopen(ticket: Ticket, reason: str, actor: str, now: datetime) -> Event:
    if not ticket.is_closed:
        raise Refused(f"{ticket.id} is not closed (status: {ticket.status})")
    text = _clean(reason)
    if text is None:
        raise Refused("reopening needs a reason (--reason TEXT)")
    return Event(
        now,
        actor,
        "reopened",
        (Change("status", CLOSED, "open"), Change("resolution", ticket.resolution, None)),
        text=text,
    )


def _refuse_if_closed(ticket: Ticket, verb: str) -> None:
    if ticket.is_closed:
        raise Refused(
            f"cannot {verb} {ticket.id}: it is closed (reopen it first: sdesk reopen {ticket.id} --reason TEXT)"
        )


def _new_value(changes: list[Change], name: str, current: str | None) -> str | None:
    return next((change.new for change in changes if change.field == name), current)


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip("\n").rstrip()
    return text or None
