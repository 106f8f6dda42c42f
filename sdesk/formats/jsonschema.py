"""JSON Schemas of rules.yaml and of ticket files, for editors (yaml-language-server).

They describe the shape (keys, types, formats) so an editor can complete and
underline while typing; the cross-checks that need the whole desk (a plan
that exists, a reachable status) stay with `sdesk rules check` and
`sdesk check`. Built from the same constants as the readers, so they cannot
drift apart silently (tests validate the example desk against them).
"""

from __future__ import annotations

from typing import Any

from sdesk import words
from sdesk.policy import conditions, rules
from sdesk.tickets import model

DRAFT = "https://json-schema.org/draft/2020-12/schema"

SLUG = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*$"}
TEXT = {"type": "string", "minLength": 1}
EMAIL = {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"}
DATE = {"type": "string", "format": "date"}
TIMESTAMP = {"type": "string", "format": "date-time"}
SITE_ID = r"^\d{4}$"
TARGET = r"^\s*(\d+\s*(h|hours?|m|min|minutes?)\s*)+$|^\s*\d+\s*(d|days?|business days?|working days?)\s*$"
WEEKDAYS = r"^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$"
WINDOW = r"^\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}$"


def schema(kind: str) -> dict[str, Any]:
    return rules_schema() if kind == "rules" else ticket_schema()


def _object(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def _named_entries(entry: dict[str, Any]) -> dict[str, Any]:
    """A mapping of slug names to entries (teams, plans, statuses …)."""
    return {"type": "object", "propertyNames": SLUG, "additionalProperties": entry}


def _named_rules(properties: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "array", "items": _object({"name": TEXT, **properties}, ("name", *required))}


def rules_schema() -> dict[str, Any]:
    labels = _object({language: TEXT for language in rules.LANGUAGES}, ("en",))
    condition_ref = {"$ref": "#/$defs/condition"}
    conditions_list = {"type": "array", "items": condition_ref, "minItems": 1}
    test = {
        "oneOf": [
            {"type": ["string", "number", "boolean"]},
            {
                "type": "object",
                "properties": {
                    "equals": {"type": ["string", "number", "boolean"]},
                    "in": {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 1},
                    "matches": {"type": "string", "format": "regex"},
                    "set": {"type": "boolean"},
                },
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": False,
            },
        ]
    }
    condition = {
        "description": "Tests on fields (all must hold), or one of all / any / not.",
        "type": "object",
        "minProperties": 1,
        "properties": {
            "all": conditions_list,
            "any": conditions_list,
            "not": condition_ref,
            conditions.TEXT: {"$ref": "#/$defs/test"},
            **{name: {"$ref": "#/$defs/test"} for name in rules.CONDITION_FIELDS},
        },
        "additionalProperties": False,
    }
    level = {"type": "string"}
    matrix_row = _object({urgency: level for urgency in words.URGENCIES}, words.URGENCIES)
    adjustment: dict[str, Any] = {name: level for name in ("at_least", "at_most", "set")}
    adjustment.update({name: {"type": "integer", "minimum": 1} for name in ("raise", "lower")})
    contact = _object(
        {
            "name": TEXT,
            "email": EMAIL,
            "phone": TEXT,
            "role": {"enum": list(rules.CONTACT_ROLES)},
            "campus": TEXT,
            "sites": {"type": "array", "items": {"type": "string", "pattern": SITE_ID}},
        },
        ("name", "email", "role"),
    )
    customer = _object(
        {
            "name": TEXT,
            "language": {"enum": list(rules.LANGUAGES)},
            "plan": SLUG,
            "billing": {"enum": list(rules.BILLING_MODES)},
            "packages": {
                "type": "array",
                "items": _object({"product": SLUG, "maintenance_until": DATE}, ("product", "maintenance_until")),
            },
            "sites": {
                "type": "object",
                "patternProperties": {SITE_ID: {"oneOf": [TEXT, _object({"name": TEXT, "campus": TEXT}, ("name",))]}},
                "additionalProperties": False,
            },
            "contacts": {"type": "array", "items": contact},
        },
        ("name", "plan"),
    )
    target = {"type": "string", "pattern": TARGET}
    targets = _object({"response": target, "resolution": target, "calendar": SLUG}, minProperties=1)
    calendar = _object(
        {
            "timezone": TEXT,
            "always_open": {"type": "boolean"},
            "hours": {
                "type": "object",
                "propertyNames": {"pattern": WEEKDAYS},
                "additionalProperties": {"type": "array", "items": {"type": "string", "pattern": WINDOW}},
            },
            "holidays": {"oneOf": [TEXT, _object({"country": TEXT, "subdivision": TEXT}, ("country",))]},
            "closed": {
                "oneOf": [
                    {"type": "array", "items": DATE},
                    {"type": "object", "propertyNames": DATE, "additionalProperties": TEXT},
                ]
            },
        }
    )
    return {
        "$schema": DRAFT,
        "title": "sdesk rules.yaml",
        "$defs": {"condition": condition, "test": test},
        **_object(
            {
                "desk": _object(
                    {
                        "name": TEXT,
                        "email": EMAIL,
                        "timezone": TEXT,
                        "language": {"enum": list(rules.LANGUAGES)},
                        "default_team": SLUG,
                        "calendar": SLUG,
                    },
                    ("name", "timezone", "default_team"),
                ),
                "statuses": _named_entries(
                    _object(
                        {
                            "label": labels,
                            "short": TEXT,
                            "initial": {"type": "boolean"},
                            "final": {"type": "boolean"},
                            "waiting_on_customer": {"type": "boolean"},
                            "pauses_clock": {"type": "boolean"},
                            "next": {"type": "array", "items": SLUG},
                        },
                        ("label",),
                    )
                ),
                "types": _named_entries(
                    _object(
                        {
                            "label": labels,
                            "code": TEXT,
                            "required": {"type": "array", "items": {"enum": list(rules.REQUIRABLE_FIELDS)}},
                        },
                        ("label",),
                    )
                ),
                "categories": {"type": "array", "items": SLUG},
                "products": _named_entries(
                    _object({"name": TEXT, "business_critical": {"type": "boolean"}}, ("name",))
                ),
                "teams": _named_entries(_object({"name": TEXT, "email": EMAIL}, ("name",))),
                "plans": _named_entries(
                    _object(
                        {
                            "label": TEXT,
                            "calendar": SLUG,
                            "targets": {"type": "object", "additionalProperties": targets},
                            "included_hours": {"type": "number", "minimum": 0},
                        },
                        ("label",),
                    )
                ),
                "calendars": _named_entries(calendar),
                "priority": _object(
                    {
                        "levels": {"type": "array", "items": TEXT, "minItems": 1},
                        "default": level,
                        "phone": {"type": "array", "items": level},
                        "matrix": _object({impact: matrix_row for impact in words.IMPACTS}, words.IMPACTS),
                        "adjustments": _named_rules(
                            {"description": TEXT, "when": condition_ref, **adjustment}, ("when",)
                        ),
                    },
                    ("levels", "default", "matrix"),
                ),
                "eligibility": _object(
                    {
                        "reference_persons_only": {"type": "boolean"},
                        "maintenance_required": {"type": "boolean"},
                        "max_editors_per_site": {"type": "integer", "minimum": 1},
                    }
                ),
                "exclusions": _named_rules({"message": TEXT, "when": condition_ref}, ("message", "when")),
                "routing": _named_rules({"when": condition_ref, "team": SLUG}, ("when", "team")),
                "queue": _object({"ahead": _named_rules({"description": TEXT, "when": condition_ref}, ("when",))}),
                "sweep": _object(
                    {
                        "reminders": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                        "auto_close": {"type": "integer", "minimum": 0},
                        "close_status": SLUG,
                    }
                ),
                "customers": _named_entries(customer),
            },
            ("desk", "statuses", "types", "teams", "priority"),
        ),
    }


def ticket_schema() -> dict[str, Any]:
    optional_text = {"type": ["string", "null"]}
    change = _object(
        {"field": {"enum": list(model.FIELD_NAMES)}, "from": optional_text, "to": optional_text}, ("field",)
    )
    event = _object(
        {
            "at": TIMESTAMP,
            "by": TEXT,
            "event": {"enum": list(model.EVENT_KINDS)},
            "from_customer": {"type": "boolean"},
            "clock": {"enum": list(model.CLOCK_NAMES)},
            "visibility": {"enum": list(model.VISIBILITIES)},
            "on": DATE,
            "minutes": {"type": "integer", "minimum": 0, "maximum": model.MAX_ENTRY_MINUTES},  # 0: withdrawn
            "billing": {"enum": list(model.BILLING_CLASSES)},
            "score": {"type": "integer", "minimum": words.SCORES[0], "maximum": words.SCORES[1]},
            "amends": TIMESTAMP,
            "changes": {"type": "array", "items": change},
            "text": {"type": "string"},
        },
        ("at", "by", "event"),
    )
    properties: dict[str, Any] = {key: {"type": "string"} for key in model.TICKET_KEYS}
    properties.update(
        {
            "id": {"type": "string", "pattern": r"^[0-9A-HJKMNP-TV-Z]{6}-[0-9A-HJKMNP-TV-Z]{5}$"},
            "type": SLUG,
            "status": SLUG,
            "requester": EMAIL,
            "assignee": EMAIL,
            "impact": {"enum": list(words.IMPACTS)},
            "urgency": {"enum": list(words.URGENCIES)},
            "site": {"type": "string", "pattern": SITE_ID},
            "exclusions": {"type": "array", "items": TEXT},
            "contact": _object({key: {"type": "string"} for key in model.CONTACT_KEYS}),
            "sla": _object({key: {"type": "string"} for key in model.SLA_KEYS}),
            "cooperation": _object(
                {
                    **{key: {"type": "string"} for key in model.COOPERATION_KEYS},
                    "email": EMAIL,
                    "impact": {"enum": list(words.IMPACTS)},
                    "urgency": {"enum": list(words.URGENCIES)},
                }
            ),
            "created": TIMESTAMP,
            "history": {"type": "array", "items": event, "minItems": 1},
        }
    )
    return {
        "$schema": DRAFT,
        "title": "sdesk ticket file",
        **_object(
            properties, ("id", "title", "type", "status", "priority", "customer", "requester", "team", "created")
        ),
    }
