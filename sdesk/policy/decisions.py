"""What the desk's rules decide for one ticket, and why.

:func:`assess` applies every rule of rules.yaml to a ticket's field values
and returns the decisions together with the rules that produced them and the
facts that decided each one: the priority step by step, each eligibility
check, each mandatory field, each exclusion and routing rule, fired or not.
`sdesk new` acts on the decisions; `sdesk rules explain` and
`sdesk new --dry-run` print them. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sdesk.policy.conditions import Facts, Outcome
from sdesk.policy.rules import CONDITION_FIELDS, DERIVED_FROM, Adjustment, Customer, Rules

Values = Mapping[str, str | None]
# Ticket fields that conditions may test; the other condition fields follow from these.
CONDITION_INPUTS = tuple(name for name in CONDITION_FIELDS if name not in DERIVED_FROM)


@dataclass(frozen=True)
class Step:
    """One step of the priority computation: a rule, whether it applied, and the level after it."""

    rule: str
    applied: bool
    reasons: tuple[str, ...]
    level: str


@dataclass(frozen=True)
class PriorityDecision:
    level: str
    steps: tuple[Step, ...]
    phone: bool  # the desk phones the customer as well (seed 000: P1)


@dataclass(frozen=True)
class Check:
    """A yes/no requirement: eligibility, or a mandatory field."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Match:
    """A named rule with a condition (exclusion or route) and whether it matched."""

    rule: str
    matched: bool
    reasons: tuple[str, ...]
    outcome: str  # the exclusion's message, or the route's team


@dataclass(frozen=True)
class Assessment:
    priority: PriorityDecision
    eligibility: tuple[Check, ...]
    required: tuple[Check, ...]
    exclusions: tuple[Match, ...]
    routes: tuple[Match, ...]
    team: str
    team_reason: str

    @property
    def eligible(self) -> bool:
        return all(check.passed for check in self.eligibility)

    @property
    def failed_eligibility(self) -> tuple[Check, ...]:
        return tuple(check for check in self.eligibility if not check.passed)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(check.name for check in self.required if not check.passed)

    @property
    def excluded(self) -> tuple[Match, ...]:
        return tuple(match for match in self.exclusions if match.matched)


def facts(rules: Rules, values: Values) -> Facts:
    """The ticket's fields plus what follows from them: the customer's plan and billing, the product's criticality."""
    customer = rules.customers.get(values.get("customer") or "")
    product = rules.products.get(values.get("product") or "")
    found: dict[str, str | bool | None] = {name: values.get(name) for name in CONDITION_INPUTS}
    found["plan"] = customer.plan if customer else None
    found["billing"] = customer.billing if customer else None
    found["business_critical"] = product.business_critical if product else None
    return found


def assess(rules: Rules, values: Values, on: date) -> Assessment:
    """Every rule applied to ``values``; ``on`` is the ticket's date, for maintenance."""
    known = facts(rules, values)
    team, team_reason, routes = _route(rules, values, known)
    return Assessment(
        priority=priority(rules, values, known),
        eligibility=eligibility(rules, values, on),
        required=required(rules, values),
        exclusions=tuple(
            _match(exclusion.name, exclusion.when.evaluate(known), exclusion.message) for exclusion in rules.exclusions
        ),
        routes=routes,
        team=team,
        team_reason=team_reason,
    )


def priority(rules: Rules, values: Values, known: Facts) -> PriorityDecision:
    """The matrix level, then each adjustment in the order rules.yaml lists them."""
    policy = rules.priority
    impact, urgency = values.get("impact"), values.get("urgency")
    if impact and urgency:
        level = policy.matrix[impact][urgency]
        steps = [Step("matrix", True, (f"impact {impact} × urgency {urgency}",), level)]
    else:
        level = policy.default
        unknown = " and ".join(name for name in ("impact", "urgency") if not values.get(name))
        steps = [Step("default", True, (f"{unknown} not known yet",), level)]
    for adjustment in policy.adjustments:
        outcome = adjustment.when.evaluate(known)
        if outcome.passed:
            level = _adjusted(rules, adjustment, level)
        steps.append(Step(adjustment.name, outcome.passed, outcome.reasons, level))
    return PriorityDecision(level, tuple(steps), level in policy.phone)


def _adjusted(rules: Rules, adjustment: Adjustment, level: str) -> str:
    levels = rules.priority.levels
    rank = levels.index(level)
    operand = adjustment.operand
    if adjustment.action == "raise" and isinstance(operand, int):
        return levels[max(rank - operand, 0)]
    if adjustment.action == "lower" and isinstance(operand, int):
        return levels[min(rank + operand, len(levels) - 1)]
    bound = levels.index(str(operand))
    if adjustment.action == "at_least":
        return levels[min(rank, bound)]
    if adjustment.action == "at_most":
        return levels[max(rank, bound)]
    return str(operand)


def eligibility(rules: Rules, values: Values, on: date) -> tuple[Check, ...]:
    """Seeds 003/004: a designated reference person, for a site they edit, of a product with maintenance paid."""
    customer = rules.customers.get(values.get("customer") or "")
    if customer is None:
        return (Check("customer", False, f"unknown customer '{values.get('customer')}'"),)
    return (
        _reference_person(rules, customer, values.get("requester") or ""),
        _site(rules, customer, values.get("site"), values.get("requester") or ""),
        _maintenance(rules, customer, values.get("product"), on),
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


def _maintenance(rules: Rules, customer: Customer, product_key: str | None, on: date) -> Check:
    name = "maintenance"
    if not rules.eligibility.maintenance_required:
        return Check(name, True, "not required (eligibility.maintenance_required: false)")
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


def with_article(noun: str) -> str:
    """'an incident', 'a change': messages name the ticket type in a sentence."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def required(rules: Rules, values: Values) -> tuple[Check, ...]:
    """The fields the ticket's type makes mandatory, each given or missing."""
    ticket_type = rules.types.get(values.get("type") or "")
    if ticket_type is None:
        return ()
    return tuple(
        Check(
            field,
            bool(values.get(field)),
            "given" if values.get(field) else f"{with_article(ticket_type.key)} needs it",
        )
        for field in ticket_type.required
    )


def _route(rules: Rules, values: Values, known: Facts) -> tuple[str, str, tuple[Match, ...]]:
    """The team: the one the agent named, else the first matching route, else the desk's default."""
    routes = tuple(_match(route.name, route.when.evaluate(known), route.team) for route in rules.routing)
    named = values.get("team")
    if named:
        return named, "named by the agent", routes
    first = next((match for match in routes if match.matched), None)
    if first is not None:
        return first.outcome, f"routing rule {first.rule}", routes
    return rules.default_team, "no routing rule matched: the desk's default team", routes


def _match(rule: str, outcome: Outcome, result: str) -> Match:
    return Match(rule, outcome.passed, outcome.reasons, result)
