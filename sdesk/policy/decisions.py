"""What the desk's rules decide for one ticket, and why.

:func:`assess` applies every rule of rules.yaml to a ticket's field values
(the priority from :mod:`priority`, who may raise it from :mod:`eligibility`,
and here the mandatory fields, exclusions and routing)
and returns the decisions together with the rules that produced them and the
facts that decided each one: the priority step by step, each eligibility
check, each mandatory field, each exclusion and routing rule, fired or not.
`sdesk new` acts on the decisions; `sdesk rules explain` and
`sdesk new --dry-run` print them. Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import date

from msgspec import Struct

from sdesk.policy import eligibility, priority
from sdesk.policy.conditions import Facts, Outcome, Values
from sdesk.policy.eligibility import Check
from sdesk.policy.priority import PriorityDecision
from sdesk.policy.rules import CONDITION_FIELDS, DERIVED_FROM, Rules

# Ticket fields that conditions may test; the other condition fields follow from these.
CONDITION_INPUTS = tuple(name for name in CONDITION_FIELDS if name not in DERIVED_FROM)


class Match(Struct, frozen=True):
    """A named rule with a condition (exclusion or route) and whether it matched."""

    rule: str
    matched: bool
    reasons: tuple[str, ...]
    outcome: str  # the exclusion's message in the desk's language (agents read it), or the route's team


class Assessment(Struct, frozen=True):
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
        priority=priority.decide(rules, values, known),
        eligibility=eligibility.checks(rules, values, on),
        required=required(rules, values),
        exclusions=_exclusions(rules, known),
        routes=routes,
        team=team,
        team_reason=team_reason,
    )


def excluded(rules: Rules, values: Values) -> tuple[Match, ...]:
    """The exclusions ``values`` match (seed 004: outside the contract, may cost extra)."""
    return tuple(match for match in _exclusions(rules, facts(rules, values)) if match.matched)


def _exclusions(rules: Rules, known: Facts) -> tuple[Match, ...]:
    return tuple(
        _match(exclusion.name, exclusion.when.evaluate(known), exclusion.messages[rules.language])
        for exclusion in rules.exclusions
    )


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
