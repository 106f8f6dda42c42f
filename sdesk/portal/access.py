"""Who is looking, and what they may see: a customer's contact sees that customer's tickets only. Pure.

Every page and every file of the portal asks :func:`may_see` before it shows anything, and a ticket a
viewer may not see is answered exactly as a ticket that does not exist, so a guessed number tells a
stranger nothing.
"""

from __future__ import annotations

from msgspec import Struct

from sdesk.policy.rules import Rules
from sdesk.tickets.model import Ticket


class Viewer(Struct, frozen=True):
    """A signed-in contact of a customer, as rules.yaml declares them now."""

    address: str  # as rules.yaml spells it
    name: str
    customer: str
    language: str


def viewer_for(rules: Rules, address: str) -> Viewer | None:
    """The contact ``address`` belongs to (any case), or None: only a customer's contacts sign in.

    rules.yaml lists an address under one customer at most, so the answer is never ambiguous; asked again
    on every request, it ends the access of a contact removed from rules.yaml at once."""
    for customer in rules.customers.values():
        person = customer.contact(address)
        if person is not None:
            return Viewer(person.email, person.name, customer.key, rules.customer_language(customer.key))
    return None


def may_see(ticket: Ticket, viewer: Viewer) -> bool:
    """Whether the ticket is the viewer's customer's: a ticket moved to another customer is theirs no more."""
    return ticket.customer == viewer.customer
