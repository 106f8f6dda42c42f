"""The ``mail:`` section of rules.yaml: how the mail gateway reads what customers send.

Which address the gateway reads (replies come back to it plus-addressed,
``desk+TICKET@…``), how long after closing a reply reopens a ticket, what an
attachment may weigh, who on Cc becomes a watcher, how much one sender may
send in an hour, whose Authentication-Results to trust, and how a new
ticket's type, product or category is worked out from a mail: only where a
route here says so (a recipient address, or a condition on the subject and
text as the rest of rules.yaml writes them).
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

from sdesk.formats import reader
from sdesk.formats.declare import Email, Integer, List, Node, Record, Text, Words
from sdesk.formats.reader import KeyPath, Problems
from sdesk.policy import conditions
from sdesk.policy.conditions import Condition, Field

WATCHER_POLICIES = ("none", "contacts", "anyone")
ROUTE_FIELDS = ("type", "product", "category", "impact", "urgency")
DEFAULT_REOPEN_DAYS = 14
DEFAULT_ATTACHMENT_MB = 10
DEFAULT_PER_HOUR = 20
MAX_WATCHERS = 10  # Cc'd people kept per ticket: a mail to a whole company makes no watchers list


def section(when: Node) -> Record:
    """The declaration of ``mail:``, its conditions written as ``when`` declares them."""
    values = Record({name: Text() for name in ROUTE_FIELDS})
    route = Record({"name": Text(), "to": Email(), "when": when, "set": values}, required=("name", "set"))
    return Record(
        {
            "address": Email(),
            "reopen_within_days": Integer(0, refusal="expected a number of days (0: a reply never reopens), got {got}"),
            "max_attachment_mb": Integer(1, 100, refusal="expected megabytes from 1 to 100, got {got}"),
            "watchers": Words(WATCHER_POLICIES),
            "per_sender_per_hour": Integer(1, refusal="expected a number of mails (1 or more), got {got}"),
            "verified_by": Text(),
            "new_tickets": values,
            "routes": List(route),
        },
        defaults={
            "reopen_within_days": DEFAULT_REOPEN_DAYS,
            "max_attachment_mb": DEFAULT_ATTACHMENT_MB,
            "watchers": "contacts",
            "per_sender_per_hour": DEFAULT_PER_HOUR,
        },
    )


class MailRoute(Struct, frozen=True):
    """Mail to ``to`` (when given) that meets ``when`` (when given) opens tickets with ``values``."""

    name: str
    to: str | None
    when: Condition | None
    values: dict[str, str]


class MailGateway(Struct, frozen=True):
    address: str | None = None  # the mailbox the gateway reads: Reply-To is its plus address
    reopen_within_days: int = DEFAULT_REOPEN_DAYS
    max_attachment_bytes: int = DEFAULT_ATTACHMENT_MB * 1024 * 1024
    watchers: str = "contacts"
    per_sender_per_hour: int = DEFAULT_PER_HOUR
    verified_by: str | None = None  # the receiving server's authserv-id; None: From is taken as it says
    new_tickets: dict[str, str] = field(default_factory=dict)
    routes: tuple[MailRoute, ...] = ()

    def reply_address(self, ticket_id: str) -> str | None:
        """``desk+TICKET@domain``: a reply names its ticket even when the subject lost it."""
        if self.address is None:
            return None
        local, _, domain = self.address.partition("@")
        return f"{local}+{ticket_id}@{domain}"


def parse(
    entry: dict[str, Any], fields: dict[str, Field], choices: dict[str, list[str]], problems: Problems
) -> MailGateway:
    """The gateway's settings; a value a route or new_tickets sets must be one rules.yaml declares."""
    at: KeyPath = ("mail",)
    routes = []
    for index, item in enumerate(entry.get("routes", [])):
        where = at + ("routes", index)
        values = _values(item.get("set", {}), where + ("set",), choices, problems)
        when = conditions.parse(item["when"], where + ("when",), fields, problems) if "when" in item else None
        if "to" not in item and "when" not in item:
            problems.add(where, "a mail route needs 'to' (a recipient address), 'when' (a condition) or both")
        routes.append(MailRoute(item.get("name", ""), item.get("to"), when, values))
    return MailGateway(
        address=entry.get("address"),
        reopen_within_days=entry["reopen_within_days"],
        max_attachment_bytes=entry["max_attachment_mb"] * 1024 * 1024,
        watchers=entry["watchers"],
        per_sender_per_hour=entry["per_sender_per_hour"],
        verified_by=entry.get("verified_by"),
        new_tickets=_values(entry.get("new_tickets", {}), at + ("new_tickets",), choices, problems),
        routes=tuple(routes),
    )


def _values(given: dict[str, Any], at: KeyPath, choices: dict[str, list[str]], problems: Problems) -> dict[str, str]:
    values = {}
    for name, value in given.items():
        options = choices.get(name)
        if value is None:
            continue
        if options is not None and str(value) not in options:
            problems.add(at + (name,), reader.unknown(name, value, options))
            continue
        values[name] = str(value)
    return values
