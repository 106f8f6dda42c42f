"""Who may raise a ticket (seeds 003, 004): a designated reference person, for a site they edit,
of a product whose maintenance is paid on the ticket's date. Pure.

Each requirement is a :class:`Check` that passed or failed with the fact
that decided it, so a refusal names every reason at once.
"""

from __future__ import annotations

from datetime import date

from msgspec import Struct

from sdesk.policy.conditions import Values
from sdesk.policy.rules import Customer, Rules


class Check(Struct, frozen=True):
    """A yes/no requirement: eligibility, or a mandatory field."""

    name: str
    passed: bool
    detail: str


def checks(rules: Rules, values: Values, on: date) -> tuple[Check, ...]:
    """Seeds 003/004: a designated reference person, for a site they edit, of a product with maintenance paid."""
    customer = rules.customers.get(values.get("customer") or "")
    if customer is None:
        return (Check("customer", False, f"unknown customer '{values.get('customer')}'"),)
    return (
        _reference_person(rules, customer, values.get("requester") or ""),
        _site(rules, customer, values.get("site"), values.get("requester") or ""),
        _maintenance(rules, customer, values, on),
    )


def _reference_person(rules: Rules, customer: Customer, requester: str) -> Check:
    name = "reference person"
    person = customer.contact(requester)
    if person is not None:
        role = f"{person.campus} campus" if person.role == "campus" else person.role
        return Check(name, True, f"{person.name} is {customer.name}'s {role} reference person")
    if not rules.eligibility.reference_persons_only:
        return Check(name, True, f"{requester} is not a reference person; not required (eligibility)")
    return Check(name, False, f"{requester} is not a designated reference person of {customer.name}")


def _site(rules: Rules, customer: Customer, site_id: str | None, requester: str) -> Check:
    name = "site"
    if not site_id:
        return Check(name, True, "no site given")
    site = customer.sites.get(site_id)
    if site is None:
        known = ", ".join(customer.sites) or "none"
        return Check(name, False, f"site {site_id} is not a site of {customer.name} (its sites: {known})")
    person = customer.contact(requester)
    if rules.eligibility.reference_persons_only and person is not None and site_id not in person.sites:
        edits = ", ".join(person.sites) or "no site"
        return Check(name, False, f"{person.name} is not an editor of site {site_id} (edits: {edits})")
    return Check(name, True, f"site {site_id} is {customer.name}, {site.name}")


def _maintenance(rules: Rules, customer: Customer, values: Values, on: date) -> Check:
    name = "maintenance"
    if not rules.eligibility.maintenance_required:
        return Check(name, True, "not required (eligibility.maintenance_required: false)")
    ticket_type = rules.types.get(values.get("type") or "")
    if ticket_type is not None and ticket_type.about_the_desk:
        return Check(name, True, f"not needed for a {ticket_type.key}: it is about the desk, not a product")
    product_key = values.get("product")
    if not customer.packages:
        return Check(name, False, f"{customer.name} has no paid package")
    if not product_key:
        offered = ", ".join(package.product for package in customer.packages)
        return Check(name, False, f"no product given; {customer.name} has packages for {offered} (pass --product)")
    product = rules.products[product_key].name if product_key in rules.products else product_key
    package = customer.package(product_key)
    if package is None:
        return Check(name, False, f"{customer.name} has no package for {product}")
    if package.maintenance_until < on:
        return Check(
            name,
            False,
            f"maintenance of {product} was paid until {package.maintenance_until.isoformat()}: it has ended",
        )
    return Check(name, True, f"maintenance of {product} is paid until {package.maintenance_until.isoformat()}")
