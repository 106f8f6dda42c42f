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
    sites: tuple[str, ...] = ()  # the sites they may pick on a new ticket (all the customer's when none listed)
    only_sites: bool = False  # they see only their sites' tickets and their own (rules.yaml: portal: sites)


def viewer_for(rules: Rules, address: str) -> Viewer | None:
    """The contact ``address`` belongs to (any case), or None: only a customer's contacts with a portal sign in.

    rules.yaml lists an address under one customer at most, so the answer is never ambiguous; asked again
    on every request, it ends the access of a contact removed from rules.yaml at once."""
    for customer in rules.customers.values():
        person = customer.contact(address)
        if person is not None:
            if person.portal == "none":
                return None
            sites = person.sites or tuple(customer.sites)
            language = rules.customer_language(customer.key)
            return Viewer(person.email, person.name, customer.key, language, sites, person.portal == "sites")
    return None


def may_see(ticket: Ticket, viewer: Viewer) -> bool:
    """Whether the ticket is the viewer's customer's (a ticket moved to another customer is theirs no more),
    and, for a contact who sees only their sites, one of those sites' or their own."""
    if ticket.customer != viewer.customer:
        return False
    return not viewer.only_sites or ticket.site in viewer.sites or ticket.is_requester(viewer.address)
