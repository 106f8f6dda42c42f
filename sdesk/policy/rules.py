"""The desk's policy from rules.yaml, read strictly into typed objects.

Reading validates everything and records every problem before giving up, so
`sdesk rules check` can list them all at once and later code can rely on the
objects (a known plan, a reachable status, a complete priority matrix)
instead of re-checking mid-command. What the policy decides for a ticket is
in :mod:`sdesk.policy`. Pure: the caller reads the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sdesk.formats import reader
from sdesk.formats.reader import KeyPath, Problems, SchemaError
from sdesk.policy import conditions, servicelevels
from sdesk.policy.conditions import Condition, Field
from sdesk.policy.servicelevels import ServiceLevels, Sweep
from sdesk.tickets.model import TEXT_FIELDS
from sdesk.words import IMPACTS, URGENCIES

LANGUAGES = ("en", "nl")
BILLING_MODES = ("invoice", "sla-hours", "included")
CONTACT_ROLES = ("general", "technical", "campus")
SITE_PATTERN = re.compile(r"[0-9]{4}")
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
TOP_KEYS = (
    "desk",
    "statuses",
    "types",
    "categories",
    "products",
    "teams",
    "plans",
    "calendars",
    "priority",
    "eligibility",
    "exclusions",
    "routing",
    "queue",
    "sweep",
    "customers",
)
# Ticket fields a ticket type may make mandatory: those an agent fills in when opening it.
REQUIRABLE_FIELDS = tuple(
    name
    for name in TEXT_FIELDS
    if name
    not in ("id", "title", "type", "status", "priority", "customer", "requester", "team", "assignee", "resolution")
    and not name.startswith(("sla_", "cooperation_", "outage"))
)
# What conditions may test: the ticket's fields and facts about its customer and product.
CONDITION_FIELDS = (
    "type",
    "category",
    "product",
    "business_critical",
    "impact",
    "urgency",
    "customer",
    "plan",
    "billing",
    "site",
    "requester",
    "title",
    "description",
    "error_message",
    "url",
)
# Facts conditions may test that follow from a ticket field.
DERIVED_FROM = {"plan": "customer", "billing": "customer", "business_critical": "product"}
# How a priority adjustment moves the level: by steps, or to a bound.
ADJUSTMENTS = ("raise", "lower", "at_least", "at_most", "set")
DEFAULT_MAX_EDITORS = 3


@dataclass(frozen=True)
class Status:
    key: str
    labels: dict[str, str]
    short: str
    initial: bool
    final: bool
    waiting_on_customer: bool
    pauses_clock: bool  # time in this status does not count towards the SLA clocks
    next: tuple[str, ...]


@dataclass(frozen=True)
class TicketType:
    key: str
    labels: dict[str, str]
    code: str
    required: tuple[str, ...]


@dataclass(frozen=True)
class Product:
    key: str
    name: str
    business_critical: bool


@dataclass(frozen=True)
class Team:
    key: str
    name: str
    email: str | None


@dataclass(frozen=True)
class PlanTerms:
    """A service plan's contract terms; its SLA targets live in ServiceLevels."""

    key: str
    label: str
    included_minutes: int | None  # work covered each calendar month before it becomes billable surplus


@dataclass(frozen=True)
class Package:
    product: str
    maintenance_until: date


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    campus: str | None


@dataclass(frozen=True)
class ReferencePerson:
    """A person the customer designated to raise tickets (seed 004)."""

    name: str
    email: str
    phone: str | None
    role: str
    campus: str | None
    sites: tuple[str, ...]


@dataclass(frozen=True)
class Customer:
    key: str
    name: str
    language: str
    plan: str
    billing: str
    packages: tuple[Package, ...]
    sites: dict[str, Site]
    contacts: tuple[ReferencePerson, ...]

    def contact(self, email: str) -> ReferencePerson | None:
        wanted = email.lower()
        return next((person for person in self.contacts if person.email.lower() == wanted), None)

    def package(self, product: str) -> Package | None:
        return next((package for package in self.packages if package.product == product), None)


@dataclass(frozen=True)
class Adjustment:
    """A named priority rule: when ``when`` holds, move the level (see ADJUSTMENTS)."""

    name: str
    description: str | None
    when: Condition
    action: str
    operand: int | str


@dataclass(frozen=True)
class Priority:
    levels: tuple[str, ...]  # most urgent first
    default: str
    matrix: dict[str, dict[str, str]]
    phone: tuple[str, ...]  # levels at which the agent also phones the customer
    adjustments: tuple[Adjustment, ...]

    @property
    def inputs(self) -> frozenset[str]:
        """The ticket fields the priority depends on; a change to one recomputes it.

        Facts derived from a field count as that field: the plan and billing
        come with the customer, business_critical with the product.
        """
        used = {"impact", "urgency"}.union(*(adjustment.when.fields for adjustment in self.adjustments))
        return frozenset(DERIVED_FROM.get(name, name) for name in used)

    def rank(self, level: str) -> int:
        return self.levels.index(level)


@dataclass(frozen=True)
class Eligibility:
    reference_persons_only: bool
    maintenance_required: bool
    max_editors_per_site: int


@dataclass(frozen=True)
class Exclusion:
    """Work outside the contract that may cost extra; ``message`` is what the agent and customer read."""

    name: str
    message: str
    when: Condition


@dataclass(frozen=True)
class Route:
    name: str
    when: Condition
    team: str


@dataclass(frozen=True)
class Rules:
    desk_name: str
    desk_email: str | None  # sends the mail of teams without an address of their own
    timezone: ZoneInfo
    language: str
    default_team: str
    statuses: dict[str, Status]
    types: dict[str, TicketType]
    categories: tuple[str, ...]
    products: dict[str, Product]
    teams: dict[str, Team]
    plans: dict[str, PlanTerms]
    priority: Priority
    eligibility: Eligibility
    exclusions: tuple[Exclusion, ...]
    routing: tuple[Route, ...]
    customers: dict[str, Customer]
    service: ServiceLevels

    @property
    def initial_status(self) -> str:
        return next(status.key for status in self.statuses.values() if status.initial)

    @property
    def final_statuses(self) -> tuple[str, ...]:
        return tuple(status.key for status in self.statuses.values() if status.final)

    def is_final(self, status: str) -> bool:
        known = self.statuses.get(status)
        return known is not None and known.final


def parse(data: Any) -> Rules:
    """Validate rules.yaml's plain data; raises :class:`reader.Invalid` listing every problem."""
    problems = Problems()
    data = problems.mapping(data, (), allowed=TOP_KEYS, required=("desk", "statuses", "types", "teams", "priority"))
    teams = _teams(data.get("teams"), problems)
    plans = _plans(data.get("plans"), problems)
    statuses = _statuses(data.get("statuses"), problems)
    categories = _categories(data.get("categories"), problems)
    products = _products(data.get("products"), problems)
    types = _types(data.get("types"), problems)
    eligibility = _eligibility(data.get("eligibility"), problems)
    customers = _customers(data.get("customers"), plans, products, eligibility, problems)
    fields = _condition_fields(types, categories, products, customers, plans)
    desk = problems.mapping(
        data.get("desk"),
        ("desk",),
        allowed=("name", "email", "timezone", "language", "default_team", "calendar"),
        required=("name", "timezone", "default_team"),
    )
    timezone = problems.get(ZoneInfo("UTC"), _zone, desk.get("timezone"), ("desk", "timezone"))
    language = problems.get("en", reader.choice, desk.get("language", "en"), ("desk", "language"), LANGUAGES)
    priority = _priority(data.get("priority"), fields, problems)
    service = servicelevels.parse(
        data,
        problems,
        timezone=str(timezone),
        language=language,
        levels=priority.levels,
        pausing=frozenset(status.key for status in statuses.values() if status.pauses_clock),
        final_statuses=tuple(status.key for status in statuses.values() if status.final),
        fields=fields,
    )
    _check_auto_close(statuses, service.sweep, problems)
    rules = Rules(
        desk_name=problems.get("", reader.text, desk.get("name"), ("desk", "name")),
        desk_email=problems.get(None, reader.email, desk.get("email"), ("desk", "email"), optional=True),
        timezone=timezone,
        language=language,
        default_team=problems.get("", reader.choice, desk.get("default_team"), ("desk", "default_team"), list(teams)),
        statuses=statuses,
        types=types,
        categories=categories,
        products=products,
        teams=teams,
        plans=plans,
        priority=priority,
        eligibility=eligibility,
        exclusions=_exclusions(data.get("exclusions"), fields, problems),
        routing=_routing(data.get("routing"), fields, teams, problems),
        customers=customers,
        service=service,
    )
    problems.check()
    return rules


def _check_auto_close(statuses: dict[str, Status], sweep: Sweep, problems: Problems) -> None:
    """The sweep closes tickets nobody answers: every waiting status must allow that move."""
    if not sweep.auto_close or not sweep.close_status:
        return
    for status in statuses.values():
        if status.waiting_on_customer and sweep.close_status not in status.next:
            problems.add(
                ("statuses", status.key, "next"),
                f"the sweep closes tickets waiting on the customer after {sweep.auto_close} working days, "
                f"so {status.key} must allow a move to {sweep.close_status} (or set sweep.auto_close: 0)",
            )


def _condition_fields(
    types: dict[str, TicketType],
    categories: tuple[str, ...],
    products: dict[str, Product],
    customers: dict[str, Customer],
    plans: dict[str, PlanTerms],
) -> dict[str, Field]:
    """Each of CONDITION_FIELDS with the values this desk allows for it."""
    text = Field("text")
    kinds = {
        "type": Field("choice", tuple(types)),
        "category": Field("choice", categories),
        "product": Field("choice", tuple(products)),
        "business_critical": Field("flag"),
        "impact": Field("choice", IMPACTS),
        "urgency": Field("choice", URGENCIES),
        "customer": Field("choice", tuple(customers)),
        "plan": Field("choice", tuple(plans)),
        "billing": Field("choice", BILLING_MODES),
        "site": text,
        "requester": text,
        "title": text,
        "description": text,
        "error_message": text,
        "url": text,
    }
    return {name: kinds[name] for name in CONDITION_FIELDS}


def _zone(value: Any, keypath: KeyPath) -> ZoneInfo:
    return ZoneInfo(reader.timezone_name(value, keypath))


def _entries(value: Any, keypath: KeyPath, problems: Problems, what: str) -> dict[str, Any]:
    """A mapping of named entries whose names are slugs (lowercase, digits, dashes)."""
    entries = problems.mapping(value if value is not None else {}, keypath)
    for key in entries:
        if not SLUG_PATTERN.fullmatch(str(key)):
            problems.add(keypath + (key,), f"{what} name '{key}' must be lowercase letters, digits and dashes")
    return {str(key): item for key, item in entries.items()}


def _labels(value: Any, keypath: KeyPath, problems: Problems) -> dict[str, str]:
    """A label per language; English is required, Dutch falls back to it."""
    entry = problems.mapping(value, keypath, allowed=LANGUAGES, required=("en",))
    english = problems.get("", reader.text, entry.get("en"), keypath + ("en",)) if "en" in entry else ""
    labels = {"en": english}
    labels["nl"] = problems.get(english, reader.text, entry["nl"], keypath + ("nl",)) if "nl" in entry else english
    return labels


def _names(value: Any, keypath: KeyPath, options: list[str], problems: Problems) -> tuple[str, ...]:
    """A list of names, each one of ``options``, none twice."""
    names = []
    for index, item in enumerate(_list(value, keypath, problems)):
        name = problems.get(None, reader.choice, item, keypath + (index,), options)
        if name in names:
            problems.add(keypath + (index,), f"'{name}' is listed twice")
        elif name is not None:
            names.append(name)
    return tuple(names)


# --- vocabulary: teams, plans, statuses, types, categories, products ---------------------


def _teams(value: Any, problems: Problems) -> dict[str, Team]:
    teams = {}
    for key, entry in _entries(value, ("teams",), problems, "team").items():
        where = ("teams", key)
        entry = problems.mapping(entry, where, allowed=("name", "email"), required=("name",))
        teams[key] = Team(
            key,
            problems.get(key, reader.text, entry.get("name"), where + ("name",)),
            problems.get(None, reader.email, entry.get("email"), where + ("email",), optional=True),
        )
    if value is not None and not teams:
        problems.add(("teams",), "declare at least one team")
    return teams


def _plans(value: Any, problems: Problems) -> dict[str, PlanTerms]:
    plans = {}
    for key, entry in _entries(value, ("plans",), problems, "plan").items():
        at = ("plans", key)
        entry = problems.mapping(
            entry, at, allowed=("label", "calendar", "targets", "included_hours"), required=("label",)
        )
        plans[key] = PlanTerms(
            key,
            problems.get(key, reader.text, entry.get("label"), at + ("label",)),
            problems.get(None, _included_minutes, entry.get("included_hours"), at + ("included_hours",)),
        )
    return plans


HOURS_IN_A_MONTH = 31 * 24  # the most a plan can include (and no infinity)


def _included_minutes(value: Any, keypath: KeyPath) -> int | None:
    """Hours a month as whole minutes: 20 or 7.5 (7h30m)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= HOURS_IN_A_MONTH:
        raise SchemaError(keypath, f"expected hours a month such as 20 or 7.5, got {reader.describe(value)}")
    minutes = value * 60
    if minutes != int(minutes):
        raise SchemaError(keypath, f"{value} hours is not a whole number of minutes")
    return int(minutes)


def _statuses(value: Any, problems: Problems) -> dict[str, Status]:
    where: KeyPath = ("statuses",)
    declared = _entries(value, where, problems, "status")
    statuses = {}
    for key, entry in declared.items():
        at = where + (key,)
        entry = problems.mapping(
            entry,
            at,
            allowed=("label", "short", "initial", "final", "waiting_on_customer", "pauses_clock", "next"),
            required=("label",),
        )
        labels = _labels(entry.get("label"), at + ("label",), problems) if "label" in entry else {"en": key, "nl": key}
        statuses[key] = Status(
            key=key,
            labels=labels,
            short=problems.get(key, reader.text, entry.get("short", key.replace("-", " ")), at + ("short",)),
            initial=problems.flag(entry.get("initial"), at + ("initial",)),
            final=problems.flag(entry.get("final"), at + ("final",)),
            waiting_on_customer=problems.flag(entry.get("waiting_on_customer"), at + ("waiting_on_customer",)),
            pauses_clock=problems.flag(entry.get("pauses_clock"), at + ("pauses_clock",)),
            next=_names(entry.get("next"), at + ("next",), list(declared), problems),
        )
    if value is not None and declared:
        # A `next` that is not even a list is reported as such, not also as a dead end.
        unreadable = {key for key, entry in declared.items() if isinstance(entry, dict) and "next" in entry}
        unreadable = {key for key in unreadable if not isinstance(declared[key]["next"], list)}
        _check_workflow(statuses, unreadable, problems)
    return statuses


def _check_workflow(statuses: dict[str, Status], unreadable: set[str], problems: Problems) -> None:
    """One initial status, at least one final one, every status reachable, no dead ends."""
    initial = [status.key for status in statuses.values() if status.initial]
    if len(initial) != 1:
        where: KeyPath = ("statuses", initial[1]) if initial else ("statuses",)
        problems.add(where, "mark exactly one status 'initial: true' (new tickets start there)")
    if not any(status.final for status in statuses.values()):
        problems.add(("statuses",), "mark at least one status 'final: true' (closed tickets end there)")
    for status in statuses.values():
        if not status.final and not status.next and status.key not in unreadable:
            problems.add(("statuses", status.key), "is a dead end: list its 'next' statuses or mark it 'final: true'")
    if len(initial) == 1:
        reached, frontier = {initial[0]}, [initial[0]]
        while frontier:
            for following in statuses[frontier.pop()].next:
                if following not in reached:
                    reached.add(following)
                    frontier.append(following)
        for key in statuses:
            if key not in reached:
                problems.add(("statuses", key), f"is unreachable: no path of 'next' leads to it from '{initial[0]}'")


def _types(value: Any, problems: Problems) -> dict[str, TicketType]:
    types = {}
    for key, entry in _entries(value, ("types",), problems, "type").items():
        at: KeyPath = ("types", key)
        entry = problems.mapping(entry, at, allowed=("label", "code", "required"), required=("label",))
        types[key] = TicketType(
            key=key,
            labels=_labels(entry.get("label"), at + ("label",), problems) if "label" in entry else {"en": key},
            code=problems.get(key[:3].upper(), reader.text, entry.get("code", key[:3].upper()), at + ("code",)),
            required=_names(entry.get("required"), at + ("required",), list(REQUIRABLE_FIELDS), problems),
        )
    if value is not None and not types:
        problems.add(("types",), "declare at least one ticket type")
    return types


def _categories(value: Any, problems: Problems) -> tuple[str, ...]:
    categories: list[str] = []
    for index, item in enumerate(_list(value, ("categories",), problems)):
        name = problems.get(None, reader.text, item, ("categories", index))
        if name is None:
            continue
        if not SLUG_PATTERN.fullmatch(name):
            problems.add(("categories", index), f"category '{name}' must be lowercase letters, digits and dashes")
        elif name in categories:
            problems.add(("categories", index), f"'{name}' is listed twice")
        else:
            categories.append(name)
    return tuple(categories)


def _products(value: Any, problems: Problems) -> dict[str, Product]:
    products = {}
    for key, entry in _entries(value, ("products",), problems, "product").items():
        at: KeyPath = ("products", key)
        entry = problems.mapping(entry, at, allowed=("name", "business_critical"), required=("name",))
        products[key] = Product(
            key,
            problems.get(key, reader.text, entry.get("name"), at + ("name",)),
            problems.flag(entry.get("business_critical"), at + ("business_critical",)),
        )
    return products


# --- priority, eligibility, exclusions, routing -------------------------------------------


def _priority(value: Any, fields: dict[str, Field], problems: Problems) -> Priority:
    where: KeyPath = ("priority",)
    value = problems.mapping(
        value,
        where,
        allowed=("levels", "default", "phone", "matrix", "adjustments"),
        required=("levels", "default", "matrix"),
    )
    listed: list[Any] = problems.get([], reader.sequence, value.get("levels"), where + ("levels",))
    levels = tuple(
        problems.get("", reader.text, level, where + ("levels", index)) for index, level in enumerate(listed)
    )
    if "levels" in value and (len(set(levels)) != len(levels) or not levels):
        problems.add(where + ("levels",), "list each priority level once, most urgent first")
    options = list(levels)
    default = problems.get("", reader.choice, value.get("default"), where + ("default",), options)
    rows = problems.mapping(value.get("matrix"), where + ("matrix",), allowed=IMPACTS)
    matrix: dict[str, dict[str, str]] = {}
    for impact in IMPACTS:
        row = problems.mapping(rows[impact], where + ("matrix", impact), allowed=URGENCIES) if impact in rows else {}
        matrix[impact] = {}
        for urgency in URGENCIES:
            at = where + ("matrix", impact, urgency)
            if rows and impact in rows and urgency not in row:
                problems.add(at, f"is missing: the matrix needs a level for {impact} impact with {urgency} urgency")
            elif urgency in row:
                matrix[impact][urgency] = problems.get("", reader.choice, row[urgency], at, options)
        if rows and impact not in rows:
            problems.add(where + ("matrix", impact), f"is missing: the matrix needs a row for {impact} impact")
    adjustments = []
    for index, entry in enumerate(_list(value.get("adjustments"), where + ("adjustments",), problems)):
        adjustment = _adjustment(entry, where + ("adjustments", index), options, fields, problems)
        if adjustment is not None:
            adjustments.append(adjustment)
    _unique_names(value.get("adjustments"), where + ("adjustments",), problems)
    return Priority(
        levels=levels,
        default=default,
        matrix=matrix,
        phone=_names(value.get("phone"), where + ("phone",), options, problems),
        adjustments=tuple(adjustments),
    )


def _adjustment(
    entry: Any, at: KeyPath, levels: list[str], fields: dict[str, Field], problems: Problems
) -> Adjustment | None:
    entry = problems.mapping(
        entry, at, allowed=("name", "description", "when", *ADJUSTMENTS), required=("name", "when")
    )
    actions = [key for key in ADJUSTMENTS if key in entry]
    misspelt = any(problems.suggested(at + (action,)) for action in ADJUSTMENTS)
    if len(actions) != 1 and not (misspelt and not actions):
        problems.add(at, f"give exactly one of {', '.join(ADJUSTMENTS)} (found {len(actions)})")
    if len(actions) != 1:
        return None
    action = actions[0]
    operand: int | str | None
    if action in ("raise", "lower"):
        operand = entry[action]
        if isinstance(operand, bool) or not isinstance(operand, int) or operand < 1:
            problems.add(
                at + (action,), f"'{action}' takes a number of levels (1 or more), got {reader.describe(operand)}"
            )
            operand = None
    else:
        operand = problems.get(None, reader.choice, entry[action], at + (action,), levels)
    name = problems.get("", reader.text, entry.get("name"), at + ("name",))
    when = conditions.parse(entry.get("when"), at + ("when",), fields, problems) if "when" in entry else None
    if when is None or operand is None:
        return None
    description = problems.get(None, reader.text, entry.get("description"), at + ("description",), optional=True)
    return Adjustment(name, description, when, action, operand)


def _eligibility(value: Any, problems: Problems) -> Eligibility:
    where: KeyPath = ("eligibility",)
    entry = problems.mapping(
        value if value is not None else {},
        where,
        allowed=("reference_persons_only", "maintenance_required", "max_editors_per_site"),
    )
    editors = entry.get("max_editors_per_site", DEFAULT_MAX_EDITORS)
    if isinstance(editors, bool) or not isinstance(editors, int) or editors < 1:
        problems.add(
            where + ("max_editors_per_site",), f"expected a number of 1 or more, got {reader.describe(editors)}"
        )
        editors = DEFAULT_MAX_EDITORS
    return Eligibility(
        reference_persons_only=problems.flag(
            entry.get("reference_persons_only"), where + ("reference_persons_only",), True
        ),
        maintenance_required=problems.flag(entry.get("maintenance_required"), where + ("maintenance_required",), True),
        max_editors_per_site=editors,
    )


def _exclusions(value: Any, fields: dict[str, Field], problems: Problems) -> tuple[Exclusion, ...]:
    exclusions = []
    for index, entry in enumerate(_list(value, ("exclusions",), problems)):
        at: KeyPath = ("exclusions", index)
        entry = problems.mapping(entry, at, allowed=("name", "message", "when"), required=("name", "message", "when"))
        name = problems.get("", reader.text, entry.get("name"), at + ("name",))
        message = problems.get("", reader.text, entry.get("message"), at + ("message",))
        when = conditions.parse(entry["when"], at + ("when",), fields, problems) if "when" in entry else None
        if when is not None:
            exclusions.append(Exclusion(name, message, when))
    _unique_names(value, ("exclusions",), problems)
    return tuple(exclusions)


def _routing(value: Any, fields: dict[str, Field], teams: dict[str, Team], problems: Problems) -> tuple[Route, ...]:
    routes = []
    for index, entry in enumerate(_list(value, ("routing",), problems)):
        at: KeyPath = ("routing", index)
        entry = problems.mapping(entry, at, allowed=("name", "when", "team"), required=("name", "when", "team"))
        name = problems.get("", reader.text, entry.get("name"), at + ("name",))
        team = problems.get(None, reader.choice, entry.get("team"), at + ("team",), list(teams))
        when = conditions.parse(entry["when"], at + ("when",), fields, problems) if "when" in entry else None
        if when is not None and team is not None:
            routes.append(Route(name, when, team))
    _unique_names(value, ("routing",), problems)
    return tuple(routes)


def _list(value: Any, keypath: KeyPath, problems: Problems) -> list[Any]:
    return problems.sequence(value, keypath)


def _unique_names(value: Any, keypath: KeyPath, problems: Problems) -> None:
    """Rules are referred to by name in explanations, so a name may be used once."""
    if not isinstance(value, list):
        return
    seen: dict[str, int] = {}
    for index, entry in enumerate(value):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name in seen:
            first = ".".join(str(part) for part in keypath + (seen[name],))
            problems.add(keypath + (index, "name"), f"'{name}' is already the name of {first}")
        elif isinstance(name, str):
            seen[name] = index


# --- customers and their contracts --------------------------------------------------------


def _customers(
    value: Any,
    plans: dict[str, PlanTerms],
    products: dict[str, Product],
    eligibility: Eligibility,
    problems: Problems,
) -> dict[str, Customer]:
    customers = {
        key: _customer(key, entry, plans, products, eligibility, problems)
        for key, entry in _entries(value, ("customers",), problems, "customer").items()
    }
    first_seen: dict[str, str] = {}
    for customer in customers.values():
        for index, person in enumerate(customer.contacts):
            email = person.email.lower()
            if email in first_seen:
                problems.add(
                    ("customers", customer.key, "contacts", index, "email"),
                    f"{person.email} is listed twice (first at {first_seen[email]})",
                )
            else:
                first_seen[email] = f"customers.{customer.key}.contacts.{index}"
    return customers


def _customer(
    key: str,
    value: Any,
    plans: dict[str, PlanTerms],
    products: dict[str, Product],
    eligibility: Eligibility,
    problems: Problems,
) -> Customer:
    where: KeyPath = ("customers", key)
    value = problems.mapping(
        value,
        where,
        allowed=("name", "language", "plan", "billing", "packages", "sites", "contacts"),
        required=("name", "plan"),
    )
    sites = _sites(value.get("sites"), where + ("sites",), problems)
    contacts = tuple(
        _reference_person(item, where + ("contacts", index), sites, problems)
        for index, item in enumerate(_list(value.get("contacts"), where + ("contacts",), problems))
    )
    customer = Customer(
        key=key,
        name=problems.get(key, reader.text, value.get("name"), where + ("name",)),
        language=problems.get("en", reader.choice, value.get("language", "en"), where + ("language",), LANGUAGES),
        plan=problems.get("", reader.choice, value.get("plan"), where + ("plan",), list(plans))
        if "plan" in value
        else "",
        billing=problems.get(
            "invoice", reader.choice, value.get("billing", "invoice"), where + ("billing",), BILLING_MODES
        ),
        packages=_packages(value.get("packages"), where + ("packages",), products, problems),
        sites=sites,
        contacts=contacts,
    )
    _check_reference_persons(customer, where, eligibility, problems)
    terms = plans.get(customer.plan)
    if customer.billing == "sla-hours" and terms is not None and terms.included_minutes is None:
        problems.add(
            where + ("billing",),
            f"sla-hours billing counts work against the plan's included hours, "
            f"but plans.{customer.plan} has no included_hours",
        )
    return customer


def _sites(value: Any, where: KeyPath, problems: Problems) -> dict[str, Site]:
    sites = {}
    for site, entry in problems.mapping(value if value is not None else {}, where).items():
        at = where + (site,)
        if isinstance(site, int) and not SITE_PATTERN.fullmatch(str(site)):
            problems.add(at, f'site ID must be 4 digits in quotes, e.g. "0420" (YAML read the number {site})')
            continue
        if not SITE_PATTERN.fullmatch(str(site)):
            problems.add(at, f"site ID '{site}' must be 4 digits")
            continue
        if isinstance(entry, dict):
            entry = problems.mapping(entry, at, allowed=("name", "campus"), required=("name",))
            name = problems.get(str(site), reader.text, entry.get("name"), at + ("name",))
            campus = problems.get(None, reader.text, entry.get("campus"), at + ("campus",), optional=True)
        else:
            name, campus = problems.get(str(site), reader.text, entry, at), None
        sites[str(site)] = Site(str(site), name, campus)
    return sites


def _packages(value: Any, where: KeyPath, products: dict[str, Product], problems: Problems) -> tuple[Package, ...]:
    packages: list[Package] = []
    for index, item in enumerate(_list(value, where, problems)):
        at = where + (index,)
        item = problems.mapping(
            item, at, allowed=("product", "maintenance_until"), required=("product", "maintenance_until")
        )
        product = problems.get(None, reader.choice, item.get("product"), at + ("product",), list(products))
        until = problems.get(None, reader.day, item.get("maintenance_until"), at + ("maintenance_until",))
        if product is not None and any(package.product == product for package in packages):
            problems.add(at + ("product",), f"'{product}' is listed twice")
        elif product is not None and until is not None:
            packages.append(Package(product, until))
    return tuple(packages)


def _reference_person(value: Any, where: KeyPath, sites: dict[str, Site], problems: Problems) -> ReferencePerson:
    value = problems.mapping(
        value,
        where,
        allowed=("name", "email", "phone", "role", "campus", "sites"),
        required=("name", "email", "role"),
    )
    role = (
        problems.get("", reader.choice, value.get("role"), where + ("role",), CONTACT_ROLES) if "role" in value else ""
    )
    campus = problems.get(None, reader.text, value.get("campus"), where + ("campus",), optional=True)
    campuses = sorted({site.campus for site in sites.values() if site.campus})
    if role == "campus" and campus is None:
        problems.add(where + ("campus",), "a campus reference person names the campus")
    elif campus is not None and campus not in campuses:
        hint = reader.one_of(campus, campuses) if campuses else " (no site of this customer names a campus)"
        problems.add(where + ("campus",), f"unknown campus '{campus}'{hint}")
    edits = _names(
        [str(site) for site in value["sites"]] if isinstance(value.get("sites"), list) else value.get("sites"),
        where + ("sites",),
        list(sites),
        problems,
    )
    return ReferencePerson(
        name=problems.get("", reader.text, value.get("name"), where + ("name",)),
        email=problems.get("", reader.email, value.get("email"), where + ("email",)),
        phone=problems.get(None, reader.text, value.get("phone"), where + ("phone",), optional=True),
        role=role,
        campus=campus,
        sites=edits,
    )


def _check_reference_persons(customer: Customer, where: KeyPath, eligibility: Eligibility, problems: Problems) -> None:
    """Seeds 003 and 004: a general and a technical contact, one per campus, at most three editors a site."""
    roles = {person.role for person in customer.contacts}
    for role in ("general", "technical"):
        if role not in roles:
            problems.add(where + ("contacts",), f"{customer.key} needs a {role} reference person (role: {role})")
    campuses = {site.campus for site in customer.sites.values() if site.campus}
    covered = {person.campus for person in customer.contacts if person.role == "campus"}
    for campus in sorted(campuses - covered):
        problems.add(
            where + ("contacts",), f"campus {campus} needs a reference person (role: campus, campus: {campus})"
        )
    limit = eligibility.max_editors_per_site
    for site in customer.sites:
        editors = [person.name for person in customer.contacts if site in person.sites]
        if len(editors) > limit:
            names = ", ".join(editors)
            problems.add(
                where + ("sites", site),
                f"site {site} has {len(editors)} editors ({names}); at most {limit} may edit a site",
            )
