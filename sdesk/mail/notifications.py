"""Which ticket events mail whom, and what the templates get to say. Pure.

Seeds 000-003: the customer gets a copy on creation and on every status
change, when the desk needs information, on news (a public comment),
reminders, closing and the satisfaction survey. Agents hear where service
desks tell them: a ticket assigned to them, a customer's reaction on a ticket
they own, a clock about to breach and a breach (to the assignee, else the
team's address). Internal notes, time entries and priority changes never
mail. The rendered message is :mod:`sdesk.mail.compose`'s job.

A mail is known by its ticket, its kind and the event it is about (a digest
of the event's content, which committed history never changes): every clone
works out the same mails from the same history, with the same Message-ID.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from datetime import datetime
from email.errors import MessageError
from email.headerregistry import Address
from typing import Any

from msgspec import Struct

from sdesk.clocks import sla, sweep
from sdesk.errors import InvalidData, excerpt
from sdesk.policy.rules import Rules
from sdesk.terminal import CONTROLS
from sdesk.tickets.model import Event, Ticket, event_to_dict

CUSTOMER_KINDS = ("created", "status", "info-requested", "reminder", "comment", "closed", "auto-closed", "survey")
AGENT_KINDS = ("assigned", "reaction", "warning", "breach")
MAIL_KINDS = CUSTOMER_KINDS + AGENT_KINDS
REFUSED = "refused"  # the mail gateway's answer to a message it could not take (owed by its record, not a ticket)
_MAILBOX = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: what goes in a header and RCPT TO as it is


def kinds_for(ticket: Ticket, event: Event, rules: Rules) -> tuple[str, ...]:
    """The mails an event sends; ``ticket`` is as it stands after the event."""
    return _customer_kinds(ticket, event, rules) + _agent_kinds(ticket, event)


def _customer_kinds(ticket: Ticket, event: Event, rules: Rules) -> tuple[str, ...]:
    """The customer's own reaction mails them nothing, not even when it moves the ticket back in progress:
    they know, and auto-replies cannot start a loop."""
    if event.from_customer:
        return ()
    if event.kind in ("created", "reminder", "auto-closed"):
        return (event.kind,)
    if event.kind == "closed":  # one survey per ticket: the first time an agent closes it
        first = next((earlier for earlier in ticket.history if earlier.kind == "closed"), event)
        return ("closed", "survey") if first is event or first == event else ("closed",)
    if event.kind == "comment":
        return ("comment",) if event.visibility == "public" else ()
    moved = any(change.field == "status" for change in event.changes)
    if moved and event.kind in ("updated", "reopened"):
        status = rules.statuses.get(ticket.status)
        return ("info-requested",) if status is not None and status.waiting_on_customer else ("status",)
    return ()


def _agent_kinds(ticket: Ticket, event: Event) -> tuple[str, ...]:
    if event.kind in ("warning", "breach"):
        return (event.kind,)
    kinds: tuple[str, ...] = ()
    if _assigned_to(ticket, event) is not None:
        kinds += ("assigned",)
    if event.from_customer and ticket.assignee is not None:
        kinds += ("reaction",)
    return kinds


def _assigned_to(ticket: Ticket, event: Event) -> str | None:
    """Whom the event assigned the ticket to (opening it for them included), unless they took it themselves."""
    if event.kind == "created":
        chosen = ticket.assignee
    else:
        chosen = next((change.new for change in event.changes if change.field == "assignee"), None)
    return chosen if chosen and chosen.lower() != event.by.lower() else None


def event_digest(event: Event) -> str:
    """What names an event in its mails' identity: its whole content, which committed history never changes."""
    content = json.dumps(event_to_dict(event), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class Letter(Struct, frozen=True):
    """One mail to send: who, about which event, and the values its template fills in."""

    kind: str
    ticket: str
    event: str  # the digest of the event it is about (event_digest): with ticket and kind, it names the mail
    language: str
    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    at: datetime
    values: dict[str, Any]
    reply_to: Address | None = None  # where replies go: the gateway's plus address names the ticket
    answers: str | None = None  # the Message-ID this mail answers, when it is not the ticket's thread

    @property
    def domain(self) -> str:
        return self.sender.domain or "sdesk.invalid"

    @property
    def key(self) -> str:
        """The mail's identity in the delivery records: the same in every clone, whatever the team's address."""
        return f"{self.ticket}.{self.event}.{self.kind}"

    @property
    def message_id(self) -> str:
        if self.kind == "created":  # every later mail answers it, and replies quote it
            return self.thread_id
        return f"<{self.key}@{self.domain}>"

    @property
    def thread_id(self) -> str:
        """The creation mail's id: every later mail about the ticket answers it, so mail clients thread them."""
        return f"<{self.ticket}.1.created@{self.domain}>"


def sender(ticket: Ticket, rules: Rules) -> Address | None:
    """The ticket's team address, else the desk's; None when rules.yaml gives neither."""
    team = rules.teams.get(ticket.team)
    email = (team.email if team else None) or rules.desk_email
    if email is None:
        return None
    name = rules.desk_name if team is None else f"{rules.desk_name} ({team.name})"
    return _address(ticket.id, "sender address in rules.yaml", name, email)


def letters(ticket: Ticket, event: Event, rules: Rules, only: Collection[str] | None = None) -> list[Letter]:
    """The mails this event sends (of the kinds ``only`` names), ``ticket`` as it stood just after it."""
    kinds = tuple(kind for kind in kinds_for(ticket, event, rules) if only is None or kind in only)
    origin = sender(ticket, rules)
    if not kinds or origin is None:
        return []
    language = rules.customer_language(ticket.customer)
    requester = (_address(ticket.id, "requester", _requester_name(ticket, rules), ticket.requester),)
    cc = tuple(_address(ticket.id, "watcher", None, watcher) for watcher in ticket.watcher_list)
    if ticket.cooperation_email is not None:
        cc += (_address(ticket.id, "cooperation contact", ticket.cooperation_name, ticket.cooperation_email),)
    plus = rules.mail.reply_address(ticket.id)
    reply_to = _address(ticket.id, "mail.address in rules.yaml", origin.display_name, plus) if plus else None
    digest = event_digest(event)
    found = []
    for kind in kinds:
        if kind in CUSTOMER_KINDS:
            # The survey asks the requester alone: watchers and the cooperation contact did not raise the ticket.
            to, copy, speaks = requester, () if kind == "survey" else cc, language
        else:
            agent = _agent(ticket, event, kind, rules)
            if agent is None:
                continue
            to, copy, speaks = (agent,), (), rules.language
        values = _values(ticket, event, rules, speaks)
        found.append(Letter(kind, ticket.id, digest, speaks, origin, to, copy, event.at, values, reply_to))
    return found


def refusal(
    record_id: str,
    sender: str,
    notices: list[str],
    language: str,
    subject: str,
    answers: str | None,
    at: datetime,
    digest: str,
    rules: Rules,
) -> Letter | None:
    """The gateway's auto-reply to a message it held: why, and what to do (``notices``, see actions/receive.py)."""
    email = rules.mail.address or rules.desk_email
    if email is None:
        return None
    origin = _address(record_id, "mail.address in rules.yaml", rules.desk_name, email)
    values = {
        "desk": {"name": rules.desk_name, "email": email},
        "subject": subject[:80],  # to a sender nobody verified: no room to carry someone's advertisement
        "notices": [{"kind": kind, "detail": detail} for kind, _, detail in (n.partition(":") for n in notices)],
    }
    to = (_address(record_id, "sender", None, sender),)
    return Letter(REFUSED, record_id, digest, language, origin, to, (), at, values, None, answers)


def _agent(ticket: Ticket, event: Event, kind: str, rules: Rules) -> Address | None:
    """Who hears of it: the new assignee, the owner, else (warnings and breaches) the team's address."""
    if kind == "assigned":
        email = _assigned_to(ticket, event)
    else:
        team = rules.teams.get(ticket.team)
        email = ticket.assignee or (team.email if team is not None and kind in ("warning", "breach") else None)
    return _address(ticket.id, "agent", None, email) if email else None


def _values(ticket: Ticket, event: Event, rules: Rules, language: str) -> dict[str, Any]:
    """What a template may use, as it stood at the event; documented in README, "Mail templates"."""
    now = event.at
    status = rules.statuses.get(ticket.status)
    ticket_type = rules.types.get(ticket.type)
    customer = rules.customers.get(ticket.customer)
    product = rules.products.get(ticket.product or "")
    team = rules.teams.get(ticket.team)
    clocks = {clock.name: clock for clock in sla.clocks(ticket, rules, now)}
    response = clocks.get("response")
    return {
        "desk": {"name": rules.desk_name, "email": rules.desk_email},
        "team": {"name": team.name if team else ticket.team, "email": team.email if team else None},
        "ticket": {
            "id": ticket.id,
            "title": ticket.title,
            "status": ticket.status,
            "status_label": status.labels.get(language, ticket.status) if status else ticket.status,
            "priority": ticket.priority,
            "type_label": ticket_type.labels.get(language, ticket.type) if ticket_type else ticket.type,
            "customer_name": customer.name if customer else ticket.customer,
            "product_name": product.name if product else ticket.product,
            "site": ticket.site,
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "resolution": ticket.resolution,
            "created": ticket.created,
        },
        "requester": {"name": _requester_name(ticket, rules), "email": ticket.requester},
        "cooperation": {
            "ticket": ticket.cooperation_ticket,
            "name": ticket.cooperation_name,
            "email": ticket.cooperation_email,
            "phone": ticket.cooperation_phone,
            "impact": ticket.cooperation_impact,
            "urgency": ticket.cooperation_urgency,
        }
        if ticket.cooperation_ticket or ticket.cooperation_email
        else None,
        "event": {"text": event.text, "by": event.by, "at": event.at},
        "response_due": response.due if response is not None and response.stopped is None else None,
        "waiting_since": sweep.waiting_since(ticket),
        "closes": sweep.closing_moment(ticket, rules) if event.kind == "reminder" else None,
        "exclusions": list(ticket.exclusions),
        "exclusion_messages": [rules.exclusion_message(name, language) for name in ticket.exclusions],
    }


def _requester_name(ticket: Ticket, rules: Rules) -> str | None:
    customer = rules.customers.get(ticket.customer)
    person = customer.contact(ticket.requester) if customer is not None else None
    if person is not None:
        return person.name
    return ticket.contact_name if ticket.contact_email in (None, ticket.requester) else None


def one_line(text: str) -> str:
    """Text for a header: a control character (ESC, NUL, CR, LF, tab …) becomes a space, a run of spaces one.

    "=?" becomes "= ?": Python's email package decodes an RFC 2047 encoded word it is given
    (``=?utf-8?q?=0D=0ACc:_x@evil.example?=``), which would let a title add a header.
    """
    return " ".join(CONTROLS.sub(" ", text).replace("=?", "= ?").split())


def is_mailbox(spec: str) -> bool:
    """Is this one mailbox that headers and SMTP carry as it is (email's parser gives it back unchanged)?"""
    if not _MAILBOX.fullmatch(spec):
        return False
    try:
        address = Address(addr_spec=spec)
    except (ValueError, LookupError, MessageError):  # what email's parser raises on such input
        return False
    return address.addr_spec == spec and bool(address.username and address.domain)


def _address(ticket_id: str, role: str, name: str | None, email: str) -> Address:
    """One mailbox under a one-line name; anything else stops this ticket's mail with a clear error.

    Whatever a file holds, a list ("a@x.example,b@y.example"), a line break or a
    missing domain must not crash every later mail nor mail someone else.
    """
    spec = email.strip()
    if not is_mailbox(spec):
        raise InvalidData(f"cannot mail {ticket_id}: the {role} {excerpt(email)} is not one plain email address")
    return Address(display_name=one_line(name or ""), addr_spec=spec)
