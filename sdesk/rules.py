"""The desk's policy from rules.yaml, read strictly into typed objects.

Parsing happens once and validates everything, so later code can rely on the
objects (a known plan, a known team, a complete priority matrix) instead of
re-checking mid-command. Pure: the caller reads the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sdesk import schema
from sdesk.model import IMPACTS, STATUSES, TYPES, URGENCIES
from sdesk.schema import KeyPath, SchemaError

LANGUAGES = ("en", "nl")
BILLING_MODES = ("invoice", "sla-hours", "included")
CONTACT_ROLES = ("general", "technical", "campus")
SITE_PATTERN = re.compile(r"^\d{4}$")
TOP_KEYS = ("desk", "statuses", "types", "teams", "plans", "priority", "customers")


@dataclass(frozen=True)
class Team:
    key: str
    name: str
    email: str | None


@dataclass(frozen=True)
class Package:
    product: str
    maintenance_until: date


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
    sites: dict[str, str]
    contacts: tuple[ReferencePerson, ...]

    def contact(self, email: str) -> ReferencePerson | None:
        wanted = email.lower()
        return next((person for person in self.contacts if person.email.lower() == wanted), None)


@dataclass(frozen=True)
class Rules:
    desk_name: str
    timezone: ZoneInfo
    language: str
    default_team: str
    status_labels: dict[str, dict[str, str]]
    type_labels: dict[str, dict[str, str]]
    teams: dict[str, Team]
    plans: dict[str, str]
    priority_levels: tuple[str, ...]
    default_priority: str
    priority_matrix: dict[str, dict[str, str]]
    customers: dict[str, Customer]

    def priority_for(self, impact: str | None, urgency: str | None) -> str:
        """Impact × urgency from the matrix; the default level when either is unknown."""
        if impact is None or urgency is None:
            return self.default_priority
        return self.priority_matrix[impact][urgency]


def parse(data: Any) -> Rules:
    """Validate rules.yaml's plain data; raises SchemaError naming the key path."""
    data = schema.mapping(data, (), allowed=TOP_KEYS, required=("desk", "teams", "priority"))
    teams = _teams(data["teams"])
    plans = _plans(data.get("plans"))
    levels, default_priority, matrix = _priority(data["priority"])
    desk = schema.mapping(
        data["desk"],
        ("desk",),
        allowed=("name", "timezone", "language", "default_team"),
        required=("name", "timezone", "default_team"),
    )
    default_team = schema.choice(desk["default_team"], ("desk", "default_team"), list(teams))
    return Rules(
        desk_name=schema.text(desk["name"], ("desk", "name")),
        timezone=_zone(desk["timezone"], ("desk", "timezone")),
        language=schema.choice(desk.get("language", "en"), ("desk", "language"), LANGUAGES),
        default_team=default_team,
        status_labels=_labels(data.get("statuses"), ("statuses",), STATUSES),
        type_labels=_labels(data.get("types"), ("types",), TYPES),
        teams=teams,
        plans=plans,
        priority_levels=levels,
        default_priority=default_priority,
        priority_matrix=matrix,
        customers={
            key: _customer(key, value, plans)
            for key, value in schema.mapping(data.get("customers") or {}, ("customers",)).items()
        },
    )


def _zone(value: Any, keypath: KeyPath) -> ZoneInfo:
    name = schema.text(value, keypath)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SchemaError(keypath, f"unknown time zone '{name}' (e.g. Europe/Brussels)") from None


def _labels(value: Any, keypath: KeyPath, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Display labels per language; every built-in name must be there, no others."""
    declared = schema.mapping(value or {}, keypath, allowed=names)
    labels = {}
    for name in names:
        if name not in declared:
            raise SchemaError(keypath + (name,), "is missing: declare a label for every one of " + ", ".join(names))
        entry = schema.mapping(declared[name], keypath + (name,), allowed=LANGUAGES, required=("en",))
        labels[name] = {lang: schema.text(entry.get(lang, entry["en"]), keypath + (name, lang)) for lang in LANGUAGES}
    return labels


def _teams(value: Any) -> dict[str, Team]:
    declared = schema.mapping(value, ("teams",))
    if not declared:
        raise SchemaError(("teams",), "declare at least one team")
    teams = {}
    for key, entry in declared.items():
        where = ("teams", key)
        entry = schema.mapping(entry, where, allowed=("name", "email"), required=("name",))
        teams[key] = Team(
            key,
            schema.text(entry["name"], where + ("name",)),
            schema.email(entry.get("email"), where + ("email",), optional=True),
        )
    return teams


def _plans(value: Any) -> dict[str, str]:
    declared = schema.mapping(value or {}, ("plans",))
    plans = {}
    for key, entry in declared.items():
        entry = schema.mapping(entry, ("plans", key), allowed=("label",), required=("label",))
        plans[key] = schema.text(entry["label"], ("plans", key, "label"))
    return plans


def _priority(value: Any) -> tuple[tuple[str, ...], str, dict[str, dict[str, str]]]:
    where: KeyPath = ("priority",)
    value = schema.mapping(
        value, where, allowed=("levels", "default", "matrix"), required=("levels", "default", "matrix")
    )
    levels = tuple(
        schema.text(level, where + ("levels", index))
        for index, level in enumerate(schema.sequence(value["levels"], where + ("levels",)))
    )
    if len(set(levels)) != len(levels) or not levels:
        raise SchemaError(where + ("levels",), "list each priority level once, most urgent first")
    default = schema.choice(value["default"], where + ("default",), levels)
    rows = schema.mapping(value["matrix"], where + ("matrix",), allowed=IMPACTS, required=IMPACTS)
    matrix = {}
    for impact in IMPACTS:
        row = schema.mapping(rows[impact], where + ("matrix", impact), allowed=URGENCIES, required=URGENCIES)
        matrix[impact] = {
            urgency: schema.choice(row[urgency], where + ("matrix", impact, urgency), levels) for urgency in URGENCIES
        }
    return levels, default, matrix


def _customer(key: str, value: Any, plans: dict[str, str]) -> Customer:
    where: KeyPath = ("customers", key)
    value = schema.mapping(
        value,
        where,
        allowed=("name", "language", "plan", "billing", "packages", "sites", "contacts"),
        required=("name", "plan"),
    )
    sites = {}
    for site, label in schema.mapping(value.get("sites") or {}, where + ("sites",)).items():
        if not SITE_PATTERN.match(str(site)):
            raise SchemaError(where + ("sites", site), f"site ID '{site}' must be 4 digits (quote it: \"0420\")")
        sites[str(site)] = schema.text(label, where + ("sites", site))
    packages = []
    for index, item in enumerate(schema.sequence(value.get("packages"), where + ("packages",))):
        at = where + ("packages", index)
        item = schema.mapping(
            item, at, allowed=("product", "maintenance_until"), required=("product", "maintenance_until")
        )
        packages.append(
            Package(
                schema.text(item["product"], at + ("product",)),
                schema.day(item["maintenance_until"], at + ("maintenance_until",)),
            )
        )
    contacts = tuple(
        _reference_person(item, where + ("contacts", index), sites)
        for index, item in enumerate(schema.sequence(value.get("contacts"), where + ("contacts",)))
    )
    return Customer(
        key=key,
        name=schema.text(value["name"], where + ("name",)),
        language=schema.choice(value.get("language", "en"), where + ("language",), LANGUAGES),
        plan=schema.choice(value["plan"], where + ("plan",), list(plans)),
        billing=schema.choice(value.get("billing", "invoice"), where + ("billing",), BILLING_MODES),
        packages=tuple(packages),
        sites=sites,
        contacts=contacts,
    )


def _reference_person(value: Any, where: KeyPath, sites: dict[str, str]) -> ReferencePerson:
    value = schema.mapping(
        value, where, allowed=("name", "email", "phone", "role", "campus", "sites"), required=("name", "email", "role")
    )
    role = schema.choice(value["role"], where + ("role",), CONTACT_ROLES)
    campus = schema.text(value.get("campus"), where + ("campus",), optional=True)
    if role == "campus" and campus is None:
        raise SchemaError(where + ("campus",), "a campus reference person names the campus")
    edits = tuple(
        schema.choice(str(site), where + ("sites", index), list(sites))
        for index, site in enumerate(schema.sequence(value.get("sites"), where + ("sites",)))
    )
    return ReferencePerson(
        name=schema.text(value["name"], where + ("name",)),
        email=schema.email(value["email"], where + ("email",)),
        phone=schema.text(value.get("phone"), where + ("phone",), optional=True),
        role=role,
        campus=campus,
        sites=edits,
    )
