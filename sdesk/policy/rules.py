"""The desk's policy from rules.yaml, read strictly into typed objects.

rules.yaml is declared once, below (:data:`RULES`, with the service-level
sections from :mod:`sdesk.policy.servicelevels` and conditions from
:mod:`sdesk.policy.conditions`): its shape pass checks every key, type,
vocabulary and form, and `sdesk schema rules` prints the same declaration
as JSON Schema. What needs the whole file follows here as code (a plan that
exists, a reachable status, a matrix level that is a level, a customer's
reference persons …). Every problem is recorded before giving up, so
`sdesk rules check` can list them all at once and later code can rely on
the objects instead of re-checking mid-command. What the policy decides
for a ticket is in :mod:`sdesk.policy`. Pure: the caller reads the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import Struct, field

from sdesk import __version__
from sdesk.errors import excerpt
from sdesk.formats import reader
from sdesk.formats.declare import (
    Among,
    Day,
    Definition,
    Email,
    Flag,
    Integer,
    List,
    MappingOf,
    Name,
    Node,
    Number,
    OneOf,
    Pattern,
    Record,
    Text,
    Wording,
    Words,
)
from sdesk.formats.reader import KeyPath, Problems, SchemaError
from sdesk.policy import agents, conditions, mailgateway, portalsettings, servicelevels
from sdesk.policy.agents import Agent
from sdesk.policy.conditions import Condition, Field
from sdesk.policy.mailgateway import MailGateway
from sdesk.policy.portalsettings import PortalSettings
from sdesk.policy.servicelevels import ServiceLevels, Sweep
from sdesk.tickets.model import SITE_PATTERN as SITE_PATTERN  # names and site IDs look alike here and there
from sdesk.tickets.model import SLUG_PATTERN as SLUG_PATTERN
from sdesk.tickets.model import TEXT_FIELDS
from sdesk.words import IMPACTS, URGENCIES

LANGUAGES = ("en", "nl", "fr", "de")
BILLING_MODES = ("invoice", "sla-hours", "included")
# How a plan treats work at the customer's: like remote work, always invoiced, or not at all (remote only).
ON_SITE_TERMS = ("covered", "billable", "remote-only")
CONTACT_ROLES = ("general", "technical", "campus")
# Ticket fields a ticket type may make mandatory: those an agent fills in when opening it.
_NOT_REQUIRABLE = "id title type status priority customer requester team assignee resolution watchers".split()
REQUIRABLE_FIELDS = tuple(
    name
    for name in TEXT_FIELDS
    if name not in _NOT_REQUIRABLE and not name.startswith(("sla_", "cooperation_", "outage"))
)
# What conditions may test: the ticket's fields and facts about its customer and product, each with its
# vocabulary when that is fixed, or none where the desk declares the values (its types, categories …).
CONDITION_KINDS = {
    "type": Field("choice"),
    "category": Field("choice"),
    "product": Field("choice"),
    "business_critical": Field("flag"),
    "impact": Field("choice", IMPACTS),
    "urgency": Field("choice", URGENCIES),
    "customer": Field("choice"),
    "plan": Field("choice"),
    "billing": Field("choice", BILLING_MODES),
    "site": Field("text"),
    "requester": Field("text"),
    "title": Field("text"),
    "description": Field("text"),
    "error_message": Field("text"),
    "url": Field("text"),
}
CONDITION_FIELDS = tuple(CONDITION_KINDS)
# Facts conditions may test that follow from a ticket field.
DERIVED_FROM = {"plan": "customer", "billing": "customer", "business_critical": "product"}
# How a priority adjustment moves the level: by steps, or to a bound.
ADJUSTMENTS = ("raise", "lower", "at_least", "at_most", "set")
DEFAULT_MAX_EDITORS = 3
HOURS_IN_A_MONTH = 31 * 24  # the most a plan can include (and no infinity)

# --- the declaration of rules.yaml ----------------------------------------------------------------------

NAME = Name(SLUG_PATTERN)  # a team, plan, status, product or customer declared elsewhere in the file
LEVEL = Name()  # a priority level: any text priority.levels lists
CONDITION = Definition("condition")
CONDITION.define(conditions.Language(CONDITION, CONDITION_KINDS, SLUG_PATTERN))
# A text per language (a status's label, an exclusion's message): English is what a language left out reads.
LABEL = Definition(
    "label",
    Record(
        {language: Wording() for language in LANGUAGES},
        required=("en",),
        missing="is required: the other languages fall back to English",
    ),
)


def _named(what: str, entry: Node, nonempty: str | None = None) -> MappingOf:
    """Entries named by slugs (lowercase letters, digits, dashes): rules.yaml and tickets refer to them by name."""
    name = Pattern(
        SLUG_PATTERN, f"{what} name '{{value}}' must be lowercase letters, digits and dashes", numbers=(0, None)
    )
    return MappingOf(entry, key=name, keep_bad_names=True, nonempty=nonempty)


def _rule(fields: dict[str, Node], required: tuple[str, ...], among: Among | None = None) -> List:
    """A list of named rules (exclusions, routing, adjustments), applied in their order."""
    return List(Record({"name": Text(), **fields}, required=("name", *required), among=among))


_SITE_ID = Pattern(
    SITE_PATTERN,
    "site ID '{value}' must be 4 digits",
    numbers=(1000, 9999),
    number_refusal='site ID must be 4 digits in quotes, e.g. "0420" (YAML read the number {value})',
)
_CONTACT = Record(
    {
        "name": Text(),
        "email": Email(),
        "phone": Text(),
        "role": Words(CONTACT_ROLES),
        "campus": Text(),
        "sites": List(Name(SITE_PATTERN), unique=True),
        "portal": Words(portalsettings.VISIBILITY),
    },
    required=("name", "email", "role"),
    defaults={"portal": "all"},
)
_CUSTOMER = Record(
    {
        "name": Text(),
        "language": Words(LANGUAGES),
        "plan": NAME,
        "billing": Words(BILLING_MODES),
        "packages": List(
            Record({"product": NAME, "maintenance_until": Day()}, required=("product", "maintenance_until"))
        ),
        "sites": MappingOf(OneOf(Record({"name": Text(), "campus": Text()}, required=("name",)), Text()), key=_SITE_ID),
        "contacts": List(_CONTACT),
    },
    required=("name", "plan"),
    defaults={"language": "en", "billing": "invoice"},
)
_MATRIX = Record(
    {
        impact: Record(
            {urgency: LEVEL for urgency in URGENCIES},
            required=URGENCIES,
            missing=f"is missing: the matrix needs a level for {impact} impact with {{key}} urgency",
        )
        for impact in IMPACTS
    },
    required=IMPACTS,
    missing="is missing: the matrix needs a row for {key} impact",
)
_STEPS = {
    action: Integer(1, refusal=f"'{action}' takes a number of levels (1 or more), got {{got}}")
    for action in ("raise", "lower")
}
_PRIORITY = Record(
    {
        "levels": List(Text(), unique=True, nonempty=True, refusal="list each priority level once, most urgent first"),
        "default": LEVEL,
        "phone": List(LEVEL, unique=True),
        "matrix": _MATRIX,
        "adjustments": _rule(
            {"description": Text(), "when": CONDITION, **_STEPS, "at_least": LEVEL, "at_most": LEVEL, "set": LEVEL},
            ("when",),
            Among(ADJUSTMENTS, f"give exactly one of {', '.join(ADJUSTMENTS)} (found {{found}})"),
        ),
    },
    required=("levels", "default", "matrix"),
)
_FLAGS = ("initial", "final", "waiting_on_customer", "pauses_clock", "acceptance")
_SERVICE = servicelevels.sections(CONDITION, NAME)
RULES = Record(
    {
        "sdesk": Text(),  # the sdesk versions this desk needs, e.g. ">=0.12" (checked first, by required_sdesk)
        "desk": Record(
            {
                "name": Text(),
                "email": Email(),
                "timezone": Text(),
                "language": Words(LANGUAGES),
                "default_team": NAME,
                "calendar": Name(),
            },
            required=("name", "timezone", "default_team"),
            defaults={"language": "en"},
        ),
        "statuses": _named(
            "status",
            Record(
                {"label": LABEL, "short": Text(), **{flag: Flag() for flag in _FLAGS}, "next": List(NAME, unique=True)},
                required=("label",),
                defaults={flag: False for flag in _FLAGS},
            ),
        ),
        "types": _named(
            "type",
            Record(
                {
                    "label": LABEL,
                    "code": Text(),
                    "required": List(Words(REQUIRABLE_FIELDS), unique=True),
                    "about_the_desk": Flag(),
                    "targets": servicelevels.TARGETS,
                },
                required=("label",),
                defaults={"about_the_desk": False},
            ),
            "declare at least one ticket type",
        ),
        "categories": List(
            Pattern(SLUG_PATTERN, "category '{value}' must be lowercase letters, digits and dashes", numbers=(0, None)),
            unique=True,
        ),
        "products": _named(
            "product",
            Record(
                {"name": Text(), "business_critical": Flag()}, required=("name",), defaults={"business_critical": False}
            ),
        ),
        "teams": _named(
            "team", Record({"name": Text(), "email": Email()}, required=("name",)), "declare at least one team"
        ),
        **agents.section(NAME),
        "plans": _named(
            "plan",
            Record(
                {
                    "label": Text(),
                    **servicelevels.PLAN_FIELDS,
                    "included_hours": Number(
                        0, HOURS_IN_A_MONTH, refusal="expected hours a month such as 20 or 7.5, got {got}"
                    ),
                    "on_site": Words(ON_SITE_TERMS),
                },
                required=("label",),
                defaults={"on_site": "covered"},
            ),
        ),
        "calendars": _SERVICE["calendars"],
        "priority": _PRIORITY,
        "eligibility": Record(
            {
                "reference_persons_only": Flag(),
                "maintenance_required": Flag(),
                "max_editors_per_site": Integer(1, refusal="expected a number of 1 or more, got {got}"),
            },
            defaults={
                "reference_persons_only": True,
                "maintenance_required": True,
                "max_editors_per_site": DEFAULT_MAX_EDITORS,
            },
        ),
        "exclusions": _rule({"message": OneOf(LABEL, Text()), "when": CONDITION}, ("message", "when")),
        "routing": _rule({"when": CONDITION, "team": NAME}, ("when", "team")),
        "queue": _SERVICE["queue"],
        "sweep": _SERVICE["sweep"],
        "mail": mailgateway.section(CONDITION),
        "portal": portalsettings.SECTION,
        "customers": _named("customer", _CUSTOMER),
    },
    required=("desk", "statuses", "types", "teams", "priority"),
)


class Status(Struct, frozen=True):
    key: str
    labels: dict[str, str]
    short: str
    initial: bool
    final: bool
    waiting_on_customer: bool
    pauses_clock: bool  # time in this status does not count towards the SLA clocks
    next: tuple[str, ...]
    acceptance: bool = False  # a solution awaits the customer's approval: the portal offers to accept it


class TicketType(Struct, frozen=True):
    key: str
    labels: dict[str, str]
    code: str
    required: tuple[str, ...]
    about_the_desk: bool = False  # a complaint: no product or paid maintenance needed (seeds 003, 004)


class Product(Struct, frozen=True):
    key: str
    name: str
    business_critical: bool


class Team(Struct, frozen=True):
    key: str
    name: str
    email: str | None


class PlanTerms(Struct, frozen=True):
    """A service plan's contract terms; its SLA targets live in ServiceLevels."""

    key: str
    label: str
    included_minutes: int | None  # work covered each calendar month before it becomes billable surplus
    on_site: str = "covered"  # work at the customer's: covered like remote work, billable, or remote-only


class Package(Struct, frozen=True):
    product: str
    maintenance_until: date


class Site(Struct, frozen=True):
    id: str
    name: str
    campus: str | None


class ReferencePerson(Struct, frozen=True):
    """A person the customer designated to raise tickets (seed 004)."""

    name: str
    email: str
    phone: str | None
    role: str
    campus: str | None
    sites: tuple[str, ...]
    portal: str = "all"  # on the live portal: all the customer's tickets, only their sites' (sites), or none


class Customer(Struct, frozen=True):
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


class Adjustment(Struct, frozen=True):
    """A named priority rule: when ``when`` holds, move the level (see ADJUSTMENTS)."""

    name: str
    description: str | None
    when: Condition
    action: str
    operand: int | str


class Priority(Struct, frozen=True):
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


class Eligibility(Struct, frozen=True):
    reference_persons_only: bool
    maintenance_required: bool
    max_editors_per_site: int


class Exclusion(Struct, frozen=True):
    """Work outside the contract that may cost extra; ``messages`` say so to the agent and the customer,
    each in their own language (see :func:`_per_language`)."""

    name: str
    messages: dict[str, str]
    when: Condition


class Route(Struct, frozen=True):
    name: str
    when: Condition
    team: str


class Rules(Struct, frozen=True):
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
    mail: MailGateway = MailGateway()
    portal: PortalSettings = PortalSettings()
    agents: dict[str, Agent] = field(default_factory=dict)  # by email in lower case (policy/agents.py)
    undeclared_agents: str = "allowed"  # what an identity agents: does not list may do: read-only or allowed

    @property
    def initial_status(self) -> str:
        return next(status.key for status in self.statuses.values() if status.initial)

    @property
    def final_statuses(self) -> tuple[str, ...]:
        return tuple(status.key for status in self.statuses.values() if status.final)

    def is_final(self, status: str) -> bool:
        known = self.statuses.get(status)
        return known is not None and known.final

    def customer_language(self, customer: str) -> str:
        """The language a customer is spoken to in: its own, else the desk's."""
        known = self.customers.get(customer)
        return known.language if known is not None else self.language

    def exclusion_message(self, name: str, language: str) -> str:
        """What an exclusion a ticket is flagged with says in ``language``; its name once rules.yaml dropped it."""
        found = next((exclusion for exclusion in self.exclusions if exclusion.name == name), None)
        return found.messages[language] if found is not None else name


def required_sdesk(data: Any) -> None:
    """A desk that needs another sdesk says so, in one line, before the problems the difference would cause
    (keys this sdesk does not know, words it has not learnt)."""
    wanted = data.get("sdesk") if isinstance(data, dict) else None
    if wanted is None:
        return
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # only when rules.yaml is read, not cached

    try:
        needed = SpecifierSet(str(wanted))
    except InvalidSpecifier:
        refusal = f"{excerpt(wanted)} is not a version requirement: write e.g. '>=0.12'"
        raise reader.Invalid([SchemaError(("sdesk",), refusal)]) from None
    if not needed.contains(__version__, prereleases=True):
        message = f"this desk needs sdesk {needed} and this is sdesk {__version__}: install one that fits"
        raise reader.Invalid([SchemaError(("sdesk",), f"{message} (pip install 'sdesk{needed}')")])


def parse(data: Any) -> Rules:
    """Validate rules.yaml's plain data; raises :class:`reader.Invalid` listing every problem."""
    required_sdesk(data)
    problems = Problems()
    data = RULES.read(data, (), problems)  # the shape: what follows may rely on it
    teams = _teams(data.get("teams", {}))
    declared = agents.parse(data.get("agents", []), data.get("undeclared_agents"), teams, problems)
    plans = _plans(data.get("plans", {}), problems)
    statuses = _statuses(data.get("statuses", {}), problems)
    categories = tuple(name for name in data.get("categories", ()) if name is not None)
    products = _products(data.get("products", {}))
    types = _types(data.get("types", {}))
    eligibility = Eligibility(**data["eligibility"])
    customers = _customers(data.get("customers", {}), plans, products, eligibility, problems)
    fields = _condition_fields(types, categories, products, customers, plans)
    desk = data.get("desk", {})
    timezone = ZoneInfo("UTC")
    if "timezone" in desk:
        timezone = problems.get(timezone, _zone, desk["timezone"], ("desk", "timezone"))
    priority = _priority(data.get("priority", {}), fields, problems)
    service = servicelevels.parse(
        data,
        problems,
        timezone=str(timezone),
        language=desk["language"],
        levels=priority.levels,
        pausing=frozenset(status.key for status in statuses.values() if status.pauses_clock),
        final_statuses=tuple(status.key for status in statuses.values() if status.final),
        fields=fields,
    )
    _check_auto_close(statuses, service.sweep, problems)
    rules = Rules(
        desk_name=desk.get("name", ""),
        desk_email=desk.get("email"),
        timezone=timezone,
        language=desk["language"],
        default_team=_declared(desk, "default_team", ("desk",), list(teams), problems) or "",
        statuses=statuses,
        types=types,
        categories=categories,
        products=products,
        teams=teams,
        plans=plans,
        priority=priority,
        eligibility=eligibility,
        exclusions=_exclusions(data.get("exclusions", []), fields, problems),
        routing=_routing(data.get("routing", []), fields, teams, problems),
        customers=customers,
        service=service,
        mail=_mail(data.get("mail", {}), fields, types, categories, products, problems),
        portal=portalsettings.parse(data.get("portal", {}), problems),
        agents=declared,
        undeclared_agents=agents.undeclared_policy(data.get("undeclared_agents"), declared),
    )
    problems.check()
    return rules


def _mail(
    entry: dict[str, Any],
    fields: dict[str, Field],
    types: dict[str, TicketType],
    categories: tuple[str, ...],
    products: dict[str, Product],
    problems: Problems,
) -> MailGateway:
    choices = {"type": list(types), "product": list(products), "impact": list(IMPACTS), "urgency": list(URGENCIES)}
    if categories:
        choices["category"] = list(categories)
    return mailgateway.parse(entry, fields, choices, problems)


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
    """Each of CONDITION_KINDS with the values this desk allows for it."""
    declared = {
        "type": tuple(types),
        "category": categories,
        "product": tuple(products),
        "customer": tuple(customers),
        "plan": tuple(plans),
    }
    return {
        name: Field("choice", declared[name]) if kind.kind == "choice" and not kind.values else kind
        for name, kind in CONDITION_KINDS.items()
    }


def _zone(value: Any, keypath: KeyPath) -> ZoneInfo:
    return ZoneInfo(reader.timezone_name(value, keypath))


def _declared(entry: dict[str, Any], key: str, at: KeyPath, options: Sequence[str], problems: Problems) -> str | None:
    """The name ``entry`` holds at ``key`` when it is one of ``options``, those declared; else None."""
    if key not in entry:
        return None
    name: str | None = problems.get(None, reader.choice, entry[key], at + (key,), options)
    return name


def _names(
    items: Sequence[str | None], keypath: KeyPath, options: Sequence[str], problems: Problems
) -> tuple[str, ...]:
    """The names of a list that are declared (``options``)."""
    names = []
    for index, item in enumerate(items):
        name = problems.get(None, reader.choice, item, keypath + (index,), options) if item is not None else None
        if name is not None:
            names.append(name)
    return tuple(names)


def _per_language(text: dict[str, str] | str | None, missing: str) -> dict[str, str]:
    """A label or message in every language, so each reader gets their own: a language left out falls
    back to English, a text left out to ``missing``; plain text reads the same in every language."""
    given = {"en": text} if isinstance(text, str) else text or {}
    english = given.get("en", missing)
    return {language: given.get(language, english) for language in LANGUAGES}


# --- vocabulary: teams, plans, statuses, types, products ----------------------------------


def _teams(entries: dict[str, Any]) -> dict[str, Team]:
    return {key: Team(key, entry.get("name", key), entry.get("email")) for key, entry in entries.items()}


def _plans(entries: dict[str, Any], problems: Problems) -> dict[str, PlanTerms]:
    plans = {}
    for key, entry in entries.items():
        hours = entry.get("included_hours")
        minutes = None if hours is None else hours * 60
        if minutes is not None and minutes != int(minutes):
            problems.add(("plans", key, "included_hours"), f"{hours} hours is not a whole number of minutes")
        included = None if minutes is None else int(minutes)
        plans[key] = PlanTerms(key, entry.get("label", key), included, entry["on_site"])
    return plans


def _statuses(entries: dict[str, Any], problems: Problems) -> dict[str, Status]:
    statuses = {
        key: Status(
            key=key,
            labels=_per_language(entry.get("label"), key),
            short=entry.get("short", key.replace("-", " ")),
            initial=entry["initial"],
            final=entry["final"],
            waiting_on_customer=entry["waiting_on_customer"],
            pauses_clock=entry["pauses_clock"],
            acceptance=entry["acceptance"],
            next=_names(entry.get("next", ()), ("statuses", key, "next"), list(entries), problems),
        )
        for key, entry in entries.items()
    }
    if statuses:
        # A `next` that is already reported is not reported again as a dead end.
        unreadable = {key for key in statuses if problems.reported(("statuses", key, "next"))}
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
        if status.acceptance and not any(statuses[key].final for key in status.next if key in statuses):
            problems.add(
                ("statuses", status.key, "acceptance"),
                "a customer who accepts the solution closes the ticket: list a final status in its 'next'",
            )
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


def _types(entries: dict[str, Any]) -> dict[str, TicketType]:
    return {
        key: TicketType(
            key=key,
            labels=_per_language(entry.get("label"), key),
            code=entry.get("code", key[:3].upper()),
            required=tuple(name for name in entry.get("required", ()) if name is not None),
            about_the_desk=entry["about_the_desk"],
        )
        for key, entry in entries.items()
    }


def _products(entries: dict[str, Any]) -> dict[str, Product]:
    return {key: Product(key, entry.get("name", key), entry["business_critical"]) for key, entry in entries.items()}


# --- priority, exclusions, routing --------------------------------------------------------


def _priority(value: dict[str, Any], fields: dict[str, Field], problems: Problems) -> Priority:
    where: KeyPath = ("priority",)
    levels = tuple(level for level in value.get("levels", ()) if level is not None)
    options = list(levels)
    rows = value.get("matrix", {})
    matrix = {
        impact: {
            urgency: problems.get("", reader.choice, level, where + ("matrix", impact, urgency), options)
            for urgency, level in rows.get(impact, {}).items()
        }
        for impact in IMPACTS
    }
    adjustments = []
    for index, entry in enumerate(value.get("adjustments", [])):
        adjustment = _adjustment(entry, where + ("adjustments", index), options, fields, problems)
        if adjustment is not None:
            adjustments.append(adjustment)
    _unique_names(value.get("adjustments", []), where + ("adjustments",), problems)
    return Priority(
        levels=levels,
        default=_declared(value, "default", where, options, problems) or "",
        matrix=matrix,
        phone=_names(value.get("phone", ()), where + ("phone",), options, problems),
        adjustments=tuple(adjustments),
    )


def _adjustment(
    entry: dict[str, Any], at: KeyPath, levels: list[str], fields: dict[str, Field], problems: Problems
) -> Adjustment | None:
    actions = [key for key in ADJUSTMENTS if key in entry]
    if len(actions) != 1:
        return None  # the shape pass said why
    action = actions[0]
    operand: int | str | None = entry[action]
    if action not in ("raise", "lower"):
        operand = _declared(entry, action, at, levels, problems)
    when = conditions.parse(entry["when"], at + ("when",), fields, problems) if "when" in entry else None
    if when is None or operand is None:
        return None
    return Adjustment(entry.get("name", ""), entry.get("description"), when, action, operand)


def _exclusions(value: list[Any], fields: dict[str, Field], problems: Problems) -> tuple[Exclusion, ...]:
    exclusions = []
    for index, entry in enumerate(value):
        at: KeyPath = ("exclusions", index)
        name = entry.get("name", "")
        if name and not SLUG_PATTERN.fullmatch(name):  # a ticket records its flags by name, in its history too
            problems.add(at + ("name",), f"exclusion name '{name}' must be lowercase letters, digits and dashes")
        when = conditions.parse(entry["when"], at + ("when",), fields, problems) if "when" in entry else None
        if when is not None:
            exclusions.append(Exclusion(name, _per_language(entry.get("message"), ""), when))
    _unique_names(value, ("exclusions",), problems)
    return tuple(exclusions)


def _routing(
    value: list[Any], fields: dict[str, Field], teams: dict[str, Team], problems: Problems
) -> tuple[Route, ...]:
    routes = []
    for index, entry in enumerate(value):
        at: KeyPath = ("routing", index)
        team = _declared(entry, "team", at, list(teams), problems)
        when = conditions.parse(entry["when"], at + ("when",), fields, problems) if "when" in entry else None
        if when is not None and team is not None:
            routes.append(Route(entry.get("name", ""), when, team))
    _unique_names(value, ("routing",), problems)
    return tuple(routes)


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
    entries: dict[str, Any],
    plans: dict[str, PlanTerms],
    products: dict[str, Product],
    eligibility: Eligibility,
    problems: Problems,
) -> dict[str, Customer]:
    customers = {key: _customer(key, entry, plans, products, eligibility, problems) for key, entry in entries.items()}
    first_seen: dict[str, str] = {}
    for customer in customers.values():
        for index, person in enumerate(customer.contacts):
            email = person.email.lower()
            if email and email in first_seen:
                problems.add(
                    ("customers", customer.key, "contacts", index, "email"),
                    f"{person.email} is listed twice (first at {first_seen[email]})",
                )
            elif email:
                first_seen[email] = f"customers.{customer.key}.contacts.{index}"
    return customers


def _customer(
    key: str,
    entry: dict[str, Any],
    plans: dict[str, PlanTerms],
    products: dict[str, Product],
    eligibility: Eligibility,
    problems: Problems,
) -> Customer:
    where: KeyPath = ("customers", key)
    sites = {site: _site(site, item) for site, item in entry.get("sites", {}).items()}
    contacts = tuple(
        _reference_person(item, where + ("contacts", index), sites, problems)
        for index, item in enumerate(entry.get("contacts", []))
    )
    customer = Customer(
        key=key,
        name=entry.get("name", key),
        language=entry["language"],
        plan=_declared(entry, "plan", where, list(plans), problems) or "",
        billing=entry["billing"],
        packages=_packages(entry.get("packages", []), where + ("packages",), products, problems),
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


def _site(site: str, entry: dict[str, str] | str | None) -> Site:
    """A site is a name, or a name and the campus it belongs to."""
    if isinstance(entry, dict):
        return Site(site, entry.get("name", site), entry.get("campus"))
    return Site(site, entry or site, None)


def _packages(
    items: list[dict[str, Any]], where: KeyPath, products: dict[str, Product], problems: Problems
) -> tuple[Package, ...]:
    packages: list[Package] = []
    for index, item in enumerate(items):
        at = where + (index,)
        product = _declared(item, "product", at, list(products), problems)
        until = item.get("maintenance_until")
        if product is not None and any(package.product == product for package in packages):
            problems.add(at + ("product",), f"{excerpt(product)} is listed twice")
        elif product is not None and until is not None:
            packages.append(Package(product, until))
    return tuple(packages)


def _reference_person(
    entry: dict[str, Any], where: KeyPath, sites: dict[str, Site], problems: Problems
) -> ReferencePerson:
    role = entry.get("role", "")
    campus = entry.get("campus")
    campuses = sorted({site.campus for site in sites.values() if site.campus})
    if role == "campus" and campus is None and not problems.reported(where + ("campus",)):
        problems.add(where + ("campus",), "a campus reference person names the campus")
    elif campus is not None and campus not in campuses:
        hint = reader.one_of(campus, campuses) if campuses else " (no site of this customer names a campus)"
        problems.add(where + ("campus",), f"unknown campus '{campus}'{hint}")
    return ReferencePerson(
        name=entry.get("name", ""),
        email=entry.get("email", ""),
        phone=entry.get("phone"),
        role=role,
        campus=campus,
        sites=_names(entry.get("sites", ()), where + ("sites",), list(sites), problems),
        portal=entry.get("portal", "all"),
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
