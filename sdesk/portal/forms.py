"""The new-ticket form, built from rules.yaml for one contact, and what its answers become. Pure.

The form offers the desk's types, the products the customer has a package of, and the sites the contact
may speak for; every field a type may require is on it, marked with the types that need it (the pages
run no script, so the form cannot change with the type). What comes back is untrusted: a choice not on
the form is refused as such, and the values go through the same checks and rules as `sdesk new`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from msgspec import Struct

from sdesk.actions import workflow
from sdesk.errors import SdeskError
from sdesk.policy.rules import Rules
from sdesk.portal.access import Viewer
from sdesk.words import IMPACTS, URGENCIES

# The fields a customer may fill in, in the form's order; those always on it, the rest when a type needs them.
FIELDS = (
    "product",
    "site",
    "impact",
    "urgency",
    "category",
    "description",
    "error_message",
    "url",
    "contact_name",
    "contact_phone",
    "contact_email",
    "external_ref",
)
ALWAYS = frozenset({"product", "site", "impact", "urgency", "description", "error_message", "url", "contact_phone"})
LONG_TEXT = frozenset({"description", "error_message"})
MAX_CHARS = {"title": 200, "long": 20_000, "short": 500}
_ERROR_WORDS = {"site": "bad_site", "url": "bad_url", "contact_email": "bad_email"}

Words = Mapping[str, str]


class Field(Struct, frozen=True):
    name: str
    kind: str  # select, textarea, text, url, tel, email
    label: str
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) for a select
    needed_for: tuple[str, ...] = ()  # the labels of the types that require it


class Answers(Struct):
    """What the customer filled in, and what is wrong with it, field by field."""

    values: dict[str, str]
    errors: dict[str, str]
    problems: list[str]  # what is wrong with the ticket as a whole (not eligible)
    costs: list[str]  # what may cost extra, in the customer's language: to accept before it opens
    plan: workflow.NewTicket | None = None


def form_fields(rules: Rules, viewer: Viewer, words: Words) -> list[Field]:
    """The form's fields for this contact, the type first."""
    language = viewer.language
    customer = rules.customers[viewer.customer]
    needed: dict[str, list[str]] = {}
    for ticket_type in rules.types.values():
        for name in ticket_type.required:
            needed.setdefault(name, []).append(ticket_type.labels.get(language, ticket_type.key))
    choices: dict[str, tuple[tuple[str, str], ...]] = {
        "type": tuple((key, kind.labels.get(language, key)) for key, kind in rules.types.items()),
        "product": tuple(
            (
                package.product,
                rules.products[package.product].name if package.product in rules.products else package.product,
            )
            for package in customer.packages
        ),
        "site": tuple(
            (site, f"{customer.sites[site].name} ({site})" if site in customer.sites else site) for site in viewer.sites
        ),
        "impact": tuple((value, words[f"impact_{value}"]) for value in IMPACTS),
        "urgency": tuple((value, words[f"urgency_{value}"]) for value in URGENCIES),
        "category": tuple((value, value.replace("-", " ")) for value in rules.categories),
    }
    found = [Field("type", "select", words["field_type"], choices["type"])]
    found.append(Field("title", "text", words["field_title"]))
    for name in FIELDS:
        if name not in ALWAYS and name not in needed:
            continue
        if name == "category" and not rules.categories:
            continue
        kind = "select" if name in choices else "textarea" if name in LONG_TEXT else _INPUTS.get(name, "text")
        found.append(Field(name, kind, words[f"field_{name}"], choices.get(name, ()), tuple(needed.get(name, ()))))
    return found


_INPUTS = {"url": "url", "contact_phone": "tel", "contact_email": "email"}


def prefilled(rules: Rules, viewer: Viewer) -> dict[str, str]:
    """What a new form already holds: the contact's phone as rules.yaml knows it, their one site."""
    person = rules.customers[viewer.customer].contact(viewer.address)
    values = {"contact_phone": person.phone or ""} if person is not None else {}
    if len(viewer.sites) == 1:
        values["site"] = viewer.sites[0]
    return values


def read(rules: Rules, viewer: Viewer, posted: Mapping[str, str], now: datetime, words: Words) -> Answers:
    """The posted form checked field by field, then planned as `sdesk new` plans it."""
    fields = {field.name: field for field in form_fields(rules, viewer, words)}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, field in fields.items():
        limit = MAX_CHARS["title" if name == "title" else "long" if name in LONG_TEXT else "short"]
        value = str(posted.get(name, ""))[:limit]
        value = value.replace("\r\n", "\n").strip() if name in LONG_TEXT else " ".join(value.split())
        values[name] = value
        if not value:
            continue
        if field.kind == "select" and value not in (choice for choice, _ in field.choices):
            errors[name] = words["not_a_choice"]
            continue
        try:
            workflow.check_value(rules, name, value)
        except SdeskError as error:
            errors[name] = words[_ERROR_WORDS[name]] if name in _ERROR_WORDS else words["bad_value"].format(why=error)
    for name in ("type", "title"):
        if not values.get(name) and name not in errors:
            errors[name] = words["missing_field"]
    answers = Answers(values, errors, [], [])
    if errors:
        return answers
    given: dict[str, str | None] = {name: value or None for name, value in values.items()}
    given.update(customer=viewer.customer, requester=viewer.address)
    try:
        plan = workflow.plan_new(rules, given, now)
    except SdeskError as error:
        answers.problems.append(words["bad_value"].format(why=error))
        return answers
    for name in plan.assessment.missing:
        answers.errors[name if name in fields else "type"] = words["missing_field"]
    answers.problems += [words["not_eligible"].format(why=check.detail) for check in plan.assessment.failed_eligibility]
    answers.costs = [rules.exclusion_message(match.rule, viewer.language) for match in plan.assessment.excluded]
    answers.plan = plan
    return answers
