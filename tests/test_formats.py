"""One declaration per file format: the strict reader and the JSON Schema agree.

rules.yaml, ticket files and announcement files are each declared once
(sdesk.formats.declare); the reader's shape checks and the schema an editor
validates with both come from it. Here every example file passes both,
every shape-level refusal is refused by both (the reader naming the key
path), cross-checks that need the whole file are refused by the reader and,
by design, accepted by the schema, and every shared pattern means the same
in Python's `re`, in the jsonschema package and in ECMA-262 (node, when
installed: editors run the schema's patterns there).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from sdesk.calendar import businesstime
from sdesk.errors import InvalidData
from sdesk.formats import declare, jsonschema, reader, yamlio
from sdesk.formats.patterns import ASCII_SPACE, NOT_SPACE, SPACE, Deferred, anchored
from sdesk.formats.reader import Invalid, SchemaError
from sdesk.policy import checks, portalsettings, rules, servicelevels
from sdesk.service import announcements
from sdesk.storage import scaffold, schemas
from sdesk.tickets import ids, model
from sdesk.words import SCHEMA_KINDS
from tests.conftest import REPO

RULES_TEXT = (REPO / "rules.yaml").read_text(encoding="utf-8")
TICKET_PATH = REPO / "tickets" / "2NCHE8-81RGJ.yaml"
TICKET_TEXT = TICKET_PATH.read_text(encoding="utf-8")
ANNOUNCEMENT_PATH = REPO / "announcements" / "2P9JSM-SEN3J.yaml"
ANNOUNCEMENT_TEXT = ANNOUNCEMENT_PATH.read_text(encoding="utf-8")
EXAMPLES = {"rules": RULES_TEXT, "ticket": TICKET_TEXT, "announcement": ANNOUNCEMENT_TEXT}
ROOTS: dict[str, declare.Node] = {
    "rules": rules.RULES,
    "ticket": model.TICKET,
    "announcement": announcements.ANNOUNCEMENT,
}
VALIDATORS = {
    kind: Draft202012Validator(schemas.schema(kind), format_checker=Draft202012Validator.FORMAT_CHECKER)
    for kind in SCHEMA_KINDS
}

KeyParts = tuple[str, ...]


def as_json(data: Any) -> Any:
    """YAML-loaded data as an editor's JSON sees it: dates as ISO text, every key as text."""
    if isinstance(data, dict):
        return {_json_key(key): as_json(value) for key, value in data.items()}
    if isinstance(data, list):
        return [as_json(item) for item in data]
    if isinstance(data, date):
        return data.isoformat()
    return data


def _json_key(key: Any) -> str:
    if isinstance(key, date):
        return key.isoformat()
    return next(iter(json.loads(json.dumps({key: 0}))))


def _path(parts: Any) -> KeyParts:
    return tuple(_json_key(part) if not isinstance(part, int) else str(part) for part in parts)


def reader_problems(kind: str, text: str) -> list[SchemaError]:
    """What the strict reader refuses: every problem of rules.yaml; the first of a ticket or announcement."""
    data = yamlio.load(text, Path(f"example.{kind}.yaml"))
    try:
        if kind == "rules":
            rules.parse(data)
        elif kind == "ticket":
            model.from_dict(data)
        else:
            announcements.from_dict(data)
    except Invalid as invalid:
        return invalid.problems
    except SchemaError as error:
        return [error]
    return []


def schema_errors(kind: str, text: str) -> list[tuple[KeyParts, str]]:
    data = as_json(yamlio.load(text, Path(f"example.{kind}.yaml")))
    return [(_path(error.absolute_path), error.message) for error in VALIDATORS[kind].iter_errors(data)]


def broken(kind: str, old: str, new: str) -> str:
    text = EXAMPLES[kind]
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the {kind} example"
    return text.replace(old, new, 1)


def on_one_branch(one: KeyParts, other: KeyParts) -> bool:
    """Is one key path inside the other (the schema reports an unknown key at its mapping, the reader at it)?"""
    shorter = min(len(one), len(other))
    return one[:shorter] == other[:shorter]


# --- every example passes both ----------------------------------------------------------------------


def example_files() -> list[Any]:
    found = [pytest.param("rules", REPO / "rules.yaml", id="rules.yaml")]
    found += [
        pytest.param("ticket", path, id=f"tickets/{path.name}") for path in sorted((REPO / "tickets").glob("*.yaml"))
    ]
    found += [
        pytest.param("announcement", path, id=f"announcements/{path.name}")
        for path in sorted((REPO / "announcements").glob("*.yaml"))
    ]
    return found


@pytest.mark.parametrize(("kind", "path"), example_files())
def test_every_example_file_passes_the_reader_and_the_schema(kind: str, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert reader_problems(kind, text) == []
    assert schema_errors(kind, text) == []


def test_the_starter_rules_pass_the_reader_and_the_schema() -> None:
    text = scaffold.starter_rules("Helpdesk Noord")
    assert reader_problems("rules", text) == []
    assert schema_errors("rules", text) == []


def test_the_example_desk_has_files_of_every_kind() -> None:
    kinds = {param.values[0] for param in example_files()}
    assert kinds == set(SCHEMA_KINDS)
    assert len(example_files()) > len(SCHEMA_KINDS)


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_every_schema_is_a_valid_draft_2020_12_schema_of_its_own_title(kind: str) -> None:
    printed = schemas.schema(kind)
    Draft202012Validator.check_schema(printed)
    assert printed["$schema"] == jsonschema.DRAFT
    assert printed["title"].startswith("sdesk ")
    assert json.loads(schemas.text(kind)) == printed
    assert set(schemas.DECLARED) == set(SCHEMA_KINDS)


# --- the same shape: refused by both, the reader naming the key path ---------------------------------

# (kind, id, old, new, the reader's key path, a word of its message). Values the reader accepts appear below.
SHAPE_REFUSALS = [
    # rules.yaml
    ("rules", "unknown-top-level-key", "\nrouting:\n", "\nroutng:\n", "routng", "did you mean 'routing'"),
    (
        "rules",
        "unknown-nested-key",
        "    waiting_on_customer: true\n    pauses_clock: true\n    next: [in-progress, closed]\n  on-hold:",
        "    waiting_on_cust: true\n    pauses_clock: true\n    next: [in-progress, closed]\n  on-hold:",
        "statuses.waiting-for-customer.waiting_on_cust",
        "did you mean 'waiting_on_customer'",
    ),
    (
        "rules",
        "text-where-a-list-goes",
        "    required: [product, site]\n",
        "    required: product\n",
        "types.service-request.required",
        "expected a list",
    ),
    (
        "rules",
        "text-where-a-flag-goes",
        "  web-platform: {name: Web Content Platform}",
        "  web-platform: {name: Web Content Platform, business_critical: 'yes'}",
        "products.web-platform.business_critical",
        "expected true or false",
    ),
    (
        "rules",
        "a-list-where-text-goes",
        "  name: Care Solutions Service Desk",
        "  name: [Care, Solutions]",
        "desk.name",
        "expected text",
    ),
    ("rules", "blank-text", "  name: Care Solutions Service Desk", "  name: '   '", "desk.name", "must not be empty"),
    ("rules", "missing-required-key", "  timezone: Europe/Brussels\n", "", "desk.timezone", "is required"),
    ("rules", "missing-team-name", "    name: Network Operations Center\n", "", "teams.noc.name", "is required"),
    (
        "rules",
        "wrong-language",
        "  language: nl\n  default_team",
        "  language: es\n  default_team",
        "desk.language",
        "'es' is not valid",
    ),
    (
        "rules",
        "wrong-role",
        '        role: technical\n        sites: ["5001"]',
        '        role: technicus\n        sites: ["5001"]',
        "customers.brightwave.contacts.1.role",
        "did you mean 'technical'",
    ),
    (
        "rules",
        "wrong-billing",
        "    billing: sla-hours\n    packages:\n      - product: web-platform",
        "    billing: gratis\n    packages:\n      - product: web-platform",
        "customers.fod-digitaal.billing",
        "gratis",
    ),
    (
        "rules",
        "wrong-requirable-field",
        "    required: [product, site, description]\n",
        "    required: [product, site, descripton]\n",
        "types.change.required.2",
        "did you mean 'description'",
    ),
    (
        "rules",
        "field-required-twice",
        "    required: [product, site, description]\n",
        "    required: [product, site, site]\n",
        "types.change.required.2",
        "listed twice",
    ),
    (
        "rules",
        "bad-target",
        "P2: {response: 4h, resolution: 2 business days",
        "P2: {response: 4 weken, resolution: 2 business days",
        "plans.standard.targets.P2.response",
        "is not a target",
    ),
    (
        "rules",
        "zero-target",
        "P1: {response: 30m, resolution: 4h",
        "P1: {response: 0m, resolution: 4h",
        "plans.managed-services.targets.P1.response",
        "more than zero",
    ),
    (
        "rules",
        "a-number-for-a-target",
        "P1: {response: 30m, resolution: 4h",
        "P1: {response: 30, resolution: 4h",
        "plans.managed-services.targets.P1.response",
        "'30' is not a target",
    ),
    (
        "rules",
        "targets-without-a-target",
        "P1: {response: 30m, resolution: 4h, callback: 30m}",
        "P1: {calendar: always}",
        "plans.managed-services.targets.P1",
        "give a response, resolution and/or callback target",
    ),
    (
        "rules",
        "window-past-midnight",
        "mon-fri: [09:00-12:00, 13:00-17:00]",
        "mon-fri: [09:00-12:00, 13:00-25:00]",
        "calendars.office.hours.mon-fri.1",
        "is not an opening window",
    ),
    (
        "rules",
        "window-without-minutes",
        "mon-fri: [09:00-12:00, 13:00-17:00]",
        "mon-fri: [9-12, 13:00-17:00]",
        "calendars.office.hours.mon-fri.0",
        "is not an opening window",
    ),
    (
        "rules",
        "weekdays-backwards",
        "mon-fri: [09:00-12:00, 13:00-17:00]",
        "fri-mon: [09:00-12:00, 13:00-17:00]",
        "calendars.office.hours.fri-mon",
        "is not a day or range of days",
    ),
    (
        "rules",
        "site-id-of-three-digits",
        '      "5001": London office',
        '      "501": London office',
        "customers.brightwave.sites.501",
        "must be 4 digits",
    ),
    (
        "rules",
        "site-id-that-yaml-read-as-a-number",
        '      "5001": London office',
        "      0420: London office",
        "customers.brightwave.sites.272",
        "in quotes",
    ),
    (
        "rules",
        "bad-email",
        "        email: nadia.elamrani@fod-dt.example",
        "        email: nadia.elamrani-at-fod-dt.example",
        "customers.fod-digitaal.contacts.1.email",
        "is not an email address",
    ),
    (
        "rules",
        "two-mailboxes",
        "    email: noc@caresolutions.example",
        "    email: noc@caresolutions.example,ceo@caresolutions.example",
        "teams.noc.email",
        "is not an email address",
    ),
    (
        "rules",
        "date-not-iso",
        "        maintenance_until: 2028-01-31",
        "        maintenance_until: 31-01-2028",
        "customers.fod-digitaal.packages.0.maintenance_until",
        "expected a date",
    ),
    (
        "rules",
        "impossible-date",
        "        maintenance_until: 2028-01-31",
        "        maintenance_until: 2027-02-29",
        "customers.fod-digitaal.packages.0.maintenance_until",
        "is not a real date",
    ),
    (
        "rules",
        "date-before-1970",
        "        maintenance_until: 2028-01-31",
        "        maintenance_until: 1969-12-31",
        "customers.fod-digitaal.packages.0.maintenance_until",
        "is not a date sdesk works with",
    ),
    (
        "rules",
        "closing-day-that-is-no-date",
        "      2026-12-24: Christmas Eve, the desk closes",
        "      christmas: Christmas Eve, the desk closes",
        "calendars.office.closed.christmas",
        "expected a date",
    ),
    (
        "rules",
        "team-name-not-a-slug",
        "  noc:\n    name: Network",
        "  NOC:\n    name: Network",
        "teams.NOC",
        "must be lowercase letters, digits and dashes",
    ),
    (
        "rules",
        "category-not-a-slug",
        "[application, interface,",
        "[Application, interface,",
        "categories.0",
        "must be lowercase letters, digits and dashes",
    ),
    (
        "rules",
        "matrix-cell-missing",
        "department: {high: P2, medium: P3, low: P4}",
        "department: {high: P2, medium: P3}",
        "priority.matrix.department.low",
        "is missing: the matrix needs a level",
    ),
    (
        "rules",
        "matrix-row-missing",
        "    individual: {high: P3, medium: P4, low: P4}\n",
        "",
        "priority.matrix.individual",
        "is missing: the matrix needs a row",
    ),
    (
        "rules",
        "levels-twice",
        "  levels: [P1, P2, P3, P4]",
        "  levels: [P1, P2, P2, P4]",
        "priority.levels",
        "list each priority level once",
    ),
    (
        "rules",
        "adjustment-with-two-actions",
        "      raise: 1\n",
        "      raise: 1\n      at_least: P2\n",
        "priority.adjustments.1",
        "give exactly one of",
    ),
    (
        "rules",
        "adjustment-raising-by-zero",
        "      raise: 1\n",
        "      raise: 0\n",
        "priority.adjustments.1.raise",
        "takes a number of levels",
    ),
    (
        "rules",
        "included-hours-below-zero",
        "    included_hours: 16\n",
        "    included_hours: -1\n",
        "plans.managed-services.included_hours",
        "expected hours a month",
    ),
    (
        "rules",
        "no-editors-per-site",
        "  max_editors_per_site: 3",
        "  max_editors_per_site: 0",
        "eligibility.max_editors_per_site",
        "1 or more",
    ),
    (
        "rules",
        "reminder-after-zero-days",
        "  reminders: [2, 4]",
        "  reminders: [0, 4]",
        "sweep.reminders.0",
        "1 to 250 working days",
    ),
    (
        "rules",
        "holidays-as-a-number",
        "    holidays: BE",
        "    holidays: 32",
        "calendars.office.holidays",
        "expected a mapping",
    ),
    (
        "rules",
        "unknown-condition-field",
        "when: {plan: managed-services}\n      raise: 1",
        "when: {plann: managed-services}\n      raise: 1",
        "priority.adjustments.1.when.plann",
        "did you mean 'plan'",
    ),
    (
        "rules",
        "combinator-beside-a-field",
        "    when: {type: complaint}",
        "    when: {type: complaint, any: [{category: network}]}",
        "routing.0.when.any",
        "stands alone",
    ),
    (
        "rules",
        "in-without-a-list",
        "category: {in: [operating-system, network]}",
        "category: {in: network}",
        "exclusions.3.when.all.0.any.0.category.in",
        "takes a list of values",
    ),
    (
        "rules",
        "text-tested-without-a-pattern",
        r"- text: {matches: '\b(back-?ups?|restore|terugzetten|sauvegardes?|restauration|"
        r"datensicherung|wiederherstell\w*)\b'}",
        "- text: backup",
        "exclusions.1.when.any.1.text",
        "is tested with matches",
    ),
    (
        "rules",
        "flag-compared-with-text",
        "when: {business_critical: true, urgency: high}",
        "when: {business_critical: 'true', urgency: high}",
        "priority.adjustments.0.when.business_critical",
        "use true or false",
    ),
    (
        "rules",
        "urgency-that-is-no-urgency",
        "when: {business_critical: true, urgency: high}",
        "when: {business_critical: true, urgency: extreme}",
        "priority.adjustments.0.when.urgency",
        "unknown urgency 'extreme'",
    ),
    # a ticket file
    ("ticket", "unknown-key", "impact: individual\n", "impact: individual\nsevrity: high\n", "sevrity", "unknown key"),
    ("ticket", "bad-ticket-number", "id: 2NCHE8-81RGJ", "id: 2NCHE8-81RGU", "id", "is not a ticket number"),
    (
        "ticket",
        "bad-requester",
        "requester: sofie.peeters@zonnebloem.example",
        "requester: Sofie Peeters",
        "requester",
        "is not an email address",
    ),
    ("ticket", "missing-created", "created: 2026-11-02T09:14:00+01:00\n", "", "created", "is required"),
    ("ticket", "wrong-urgency", "urgency: high", "urgency: extreme", "urgency", "'extreme' is not valid"),
    (
        "ticket",
        "timestamp-without-offset",
        "created: 2026-11-02T09:14:00+01:00",
        "created: 2026-11-02T09:14:00",
        "created",
        "no UTC offset",
    ),
    (
        "ticket",
        "timestamp-that-is-no-time",
        "created: 2026-11-02T09:14:00+01:00",
        "created: yesterday",
        "created",
        "expected an ISO-8601 timestamp",
    ),
    (
        "ticket",
        "contact-with-unknown-key",
        "  phone: +32 59 33 80 01\n",
        "  phone: +32 59 33 80 01\n  fax: none\n",
        "contact.fax",
        "unknown key",
    ),
    (
        "ticket",
        "cooperation-with-a-bad-email",
        "sla:\n",
        "cooperation:\n  email: desk at zonnebloem\nsla:\n",
        "cooperation.email",
        "is not an email address",
    ),
    (
        "ticket",
        "event-of-unknown-kind",
        "  event: created\n",
        "  event: opened\n",
        "history.0.event",
        "'opened' is not valid",
    ),
    (
        "ticket",
        "change-of-unknown-field",
        "  - field: assignee\n",
        "  - field: assigned\n",
        "history.1.changes.1.field",
        "did you mean 'assignee'",
    ),
    (
        "ticket",
        "flag-as-text",
        "  event: created\n",
        "  event: created\n  from_customer: 'yes'\n",
        "history.0.from_customer",
        "expected true or false",
    ),
    (
        "ticket",
        "exclusions-as-text",
        "impact: individual\n",
        "exclusions: hardware\nimpact: individual\n",
        "exclusions",
        "expected a list",
    ),
    # an announcement file
    (
        "announcement",
        "unknown-key",
        "kind: maintenance\n",
        "kind: maintenance\npriority: P1\n",
        "priority",
        "unknown key",
    ),
    ("announcement", "bad-number", "id: 2P9JSM-SEN3J", "id: 2P9JSM-SEN3", "id", "is not an announcement number"),
    ("announcement", "wrong-kind", "kind: maintenance", "kind: party", "kind", "'party' is not valid"),
    (
        "announcement",
        "missing-title",
        "title: 'Medicatiemodule: koppeling met het nieuwe apotheeksysteem'\n",
        "",
        "title",
        "is required",
    ),
    (
        "announcement",
        "customers-neither-all-nor-a-list",
        "customers:\n- zonnebloem\n",
        "customers: alle\n",
        "customers",
        "expected a list",
    ),
    (
        "announcement",
        "start-without-offset",
        "start: 2026-12-12T20:00:00+01:00",
        "start: 2026-12-12T20:00:00",
        "start",
        "no UTC offset",
    ),
]


@pytest.mark.parametrize(
    ("kind", "old", "new", "where", "words"),
    [
        pytest.param(kind, old, new, where, words, id=f"{kind}-{name}")
        for kind, name, old, new, where, words in SHAPE_REFUSALS
    ],
)
def test_a_shape_refusal_is_refused_by_the_reader_and_by_the_schema(
    kind: str, old: str, new: str, where: str, words: str
) -> None:
    text = broken(kind, old, new)
    wanted = tuple(where.split("."))
    found = [problem for problem in reader_problems(kind, text) if _path(problem.keypath) == wanted]
    assert found, [str(problem) for problem in reader_problems(kind, text)]
    assert any(words in problem.message for problem in found), [str(problem) for problem in found]
    refused = schema_errors(kind, text)
    assert any(on_one_branch(path, wanted) for path, _ in refused), refused


# Values the reader's grammar accepts: the schema must accept them too.
SHAPE_ACCEPTANCES = [
    ("rules", "target-in-words", "P2: {response: 4h,", "P2: {response: 30 mins,"),
    ("rules", "target-in-capitals", "P2: {response: 4h,", "P2: {response: 1 Business Day,"),
    ("rules", "target-hours-and-minutes", "P2: {response: 4h,", "P2: {response: 1 hour 30 minutes,"),
    ("rules", "window-with-blanks-and-one-digit", "mon-fri: [09:00-12:00,", "mon-fri: [' 9:00 - 12:00 ',"),
    ("rules", "window-to-midnight", "13:00-17:00]", "13:00-24:00]"),
    ("rules", "weekdays-in-capitals", "mon-fri: [", "Mon - Fri: ["),
    ("rules", "quoted-date", "        maintenance_until: 2028-01-31", "        maintenance_until: '2028-01-31'"),
    ("rules", "leap-day", "        maintenance_until: 2028-01-31", "        maintenance_until: 2028-02-29"),
    ("rules", "site-id-as-a-number", '      "5001": London office', "      5001: London office"),
    ("rules", "optional-key-left-empty", "  email: servicedesk@caresolutions.example   #", "  email:   #"),
    ("rules", "holidays-with-a-subdivision", "    holidays: BE", "    holidays: {country: DE, subdivision: BY}"),
    (
        "rules",
        "closing-days-as-a-list",
        "      2026-12-24: Christmas Eve, the desk closes\n      2026-12-31: New Year's Eve, the desk closes\n",
        "      - 2026-12-24\n      - 2026-12-31\n",
    ),
    ("ticket", "quoted-timestamp", "created: 2026-11-02T09:14:00+01:00", "created: '2026-11-02T09:14:00+01:00'"),
    ("ticket", "yaml-timestamp-with-a-space", "created: 2026-11-02T09:14:00+01:00", "created: 2026-11-02 09:14:00 +1"),
    ("ticket", "product-left-empty", "product: care-dossier", "product: ''"),
    ("announcement", "customers-all", "customers:\n- zonnebloem\n", "customers: all\n"),
]


@pytest.mark.parametrize(
    ("kind", "old", "new"),
    [pytest.param(kind, old, new, id=f"{kind}-{name}") for kind, name, old, new in SHAPE_ACCEPTANCES],
)
def test_what_the_reader_accepts_the_schema_accepts(kind: str, old: str, new: str) -> None:
    text = broken(kind, old, new)
    assert [str(problem) for problem in reader_problems(kind, text)] == []
    assert schema_errors(kind, text) == []


MUTATIONS = ["~", "''", "' '", "x", "1", "-1", "1.5", "[a]", "[]", "{a: 1}", "true", "2027-02-30", "Foo Bar", "30 mins"]
VALUE_LINE = re.compile(r"^(\s*(?:- )?[^:#\[{]+:\s)(.*?)(\s+#.*)?$")


def accepted_by_sdesk(kind: str, text: str) -> bool:
    """Does sdesk take the file: its reader, and for a ticket also `sdesk check` against the example rules?"""
    if reader_problems(kind, text):
        return False
    if kind != "ticket":
        return True
    ticket = model.from_dict(yamlio.load(text, Path("ticket.yaml")))
    return not checks.ticket_problems(ticket, rules.parse(yamlio.load(RULES_TEXT, Path("rules.yaml"))))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_whatever_sdesk_takes_of_an_edited_example_the_schema_takes(data: st.DataObject) -> None:
    """A hand edit of any line (another value, or the line gone): the schema never refuses what sdesk takes."""
    kind = data.draw(st.sampled_from(SCHEMA_KINDS))
    lines = EXAMPLES[kind].splitlines(keepends=True)
    index = data.draw(st.sampled_from([i for i, line in enumerate(lines) if line.strip() and line.strip()[0] != "#"]))
    edit = data.draw(st.sampled_from([None, *MUTATIONS]))
    found = VALUE_LINE.match(lines[index].rstrip("\n"))
    if edit is None or found is None:
        lines[index] = ""
    else:
        lines[index] = f"{found.group(1)}{edit}\n"
    text = "".join(lines)
    try:
        taken = accepted_by_sdesk(kind, text)
    except InvalidData:
        return  # not YAML: no schema is asked
    if taken:
        assert schema_errors(kind, text) == [], text


def test_a_target_of_30_mins_is_a_target() -> None:
    """The reader always read "30 mins"; the hand-written schema refused it. The grammar says yes, once."""
    assert businesstime.parse_target("30 mins").minutes == 30
    assert businesstime.TARGET_PATTERN.fullmatch("30 mins")


# --- cross-checks: the reader refuses, the schema by design cannot ------------------------------------

CROSS_CHECKS = [
    ("rules", "team-not-declared", "    team: noc\n", "    team: nocc\n", "routing.1.team", "did you mean 'noc'"),
    ("rules", "plan-not-declared", "    plan: 24x7\n", "    plan: 24x5\n", "customers.vandijk.plan", "not valid"),
    (
        "rules",
        "level-that-is-no-level",
        "individual: {high: P3, medium: P4, low: P4}",
        "individual: {high: P3, medium: P5, low: P4}",
        "priority.matrix.individual.medium",
        "'P5' is not valid",
    ),
    (
        "rules",
        "unreachable-status",
        "  closed:\n    label: {en: Closed, nl: Gesloten, fr: Clôturé, de: Geschlossen}\n",
        "  archived:\n    label: {en: Archived}\n    next: [closed]\n"
        "  closed:\n    label: {en: Closed, nl: Gesloten, fr: Clôturé, de: Geschlossen}\n",
        "statuses.archived",
        "is unreachable",
    ),
    (
        "rules",
        "category-not-declared",
        "        - category: network\n",
        "        - category: netwerk\n",
        "routing.1.when.any.0.category",
        "unknown category 'netwerk'",
    ),
    (
        "rules",
        "regular-expression-re2-refuses",
        r"wiederherstell\w*)\b'",
        r"wiederherstell\w*\b'",
        "exclusions.1.when.any.1.text.matches",
        "bad regular expression",
    ),
    (
        "rules",
        "customer-without-technical-person",
        '        role: technical\n        sites: ["3001", "3002"]',
        '        role: general\n        sites: ["3001", "3002"]',
        "customers.vandijk.contacts",
        "technical reference person",
    ),
    (
        "rules",
        "unknown-campus",
        "        campus: Oostende\n",
        "        campus: Ostend\n",
        "customers.zonnebloem.contacts.2.campus",
        "unknown campus",
    ),
    (
        "rules",
        "site-not-the-customers",
        '        sites: ["4711"]\n',
        '        sites: ["4713"]\n',
        "customers.fod-digitaal.contacts.1.sites.0",
        "'4713' is not valid",
    ),
    (
        "rules",
        "duplicate-rule-name",
        "  - name: user-error\n",
        "  - name: training\n",
        "exclusions.6.name",
        "is already the name of",
    ),
    (
        "rules",
        "unknown-time-zone",
        "  timezone: Europe/Brussels",
        "  timezone: Europe/Brussel",
        "desk.timezone",
        "unknown time zone",
    ),
    (
        "rules",
        "country-without-holidays",
        "    holidays: BE",
        "    holidays: XX",
        "calendars.office.holidays",
        "no public holidays known",
    ),
    (
        "rules",
        "window-that-ends-before-it-starts",
        "mon-fri: [09:00-12:00, 13:00-17:00]",
        "mon-fri: [09:00-12:00, 17:00-13:00]",
        "calendars.office.hours.mon-fri.1",
        "is not an opening window",
    ),
    (
        "rules",
        "overlapping-windows",
        "mon-fri: [09:00-12:00, 13:00-17:00]",
        "mon-fri: [09:00-12:00, 11:00-17:00]",
        "calendars.office.hours.mon-fri.1",
        "overlaps",
    ),
    (
        "rules",
        "reminders-out-of-order",
        "  reminders: [2, 4]",
        "  reminders: [4, 2]",
        "sweep.reminders.1",
        "increasing order",
    ),
    (
        "rules",
        "included-hours-not-whole-minutes",
        "    included_hours: 16\n",
        "    included_hours: 7.51\n",
        "plans.managed-services.included_hours",
        "whole number of minutes",
    ),
    (
        "rules",
        "always-open-with-hours",
        "  always:\n    always_open: true\n",
        "  always:\n    always_open: true\n    hours: {mon: [09:00-17:00]}\n",
        "calendars.always.hours",
        "an always-open calendar has no hours",
    ),
    (
        "rules",
        "calendar-without-hours",
        "  always:\n    always_open: true\n",
        "  always:\n    timezone: UTC\n",
        "calendars.always",
        "give opening 'hours'",
    ),
    (
        "ticket",
        "zero-minutes-that-correct-nothing",
        "  event: created\n",
        "  event: created\n  minutes: 0\n",
        "history.0.minutes",
        "0 is out of range (1 to 1440)",
    ),
    (
        "announcement",
        "end-before-start",
        "end: 2026-12-12T23:00:00+01:00",
        "end: 2026-12-12T19:00:00+01:00",
        "end",
        "ends before it starts",
    ),
]


@pytest.mark.parametrize(
    ("kind", "old", "new", "where", "words"),
    [
        pytest.param(kind, old, new, where, words, id=f"{kind}-{name}")
        for kind, name, old, new, where, words in CROSS_CHECKS
    ],
)
def test_a_cross_check_is_the_readers_alone(kind: str, old: str, new: str, where: str, words: str) -> None:
    text = broken(kind, old, new)
    found = [problem for problem in reader_problems(kind, text) if _path(problem.keypath) == tuple(where.split("."))]
    assert any(words in problem.message for problem in found), [str(p) for p in reader_problems(kind, text)]
    assert schema_errors(kind, text) == []


# --- the patterns both sides share ------------------------------------------------------------------


def shared_patterns() -> dict[str, re.Pattern[str]]:
    """Every pattern a declaration matches whole (the reader) and writes into its schema, by name."""
    found: dict[str, re.Pattern[str]] = {}
    for root in ROOTS.values():
        for node in declare.walk(root):
            pattern = getattr(node, "pattern", None) or getattr(node, "form", None)
            if pattern is not None:  # a grammar compiled when first used is judged as what it compiles to
                compiled = pattern.compiled() if isinstance(pattern, Deferred) else pattern
                found.setdefault(_pattern_name(pattern), compiled)
    return found


def _pattern_name(pattern: re.Pattern[str] | Deferred) -> str:
    names = {
        id(businesstime.TARGET_PATTERN): "target",
        id(servicelevels.WINDOW_PATTERN): "window",
        id(servicelevels.WEEKDAYS_PATTERN): "weekdays",
        id(rules.SLUG_PATTERN): "slug",
        id(rules.SITE_PATTERN): "site",
        id(ids.ID_PATTERN): "ticket-number",
        id(reader.EMAIL_PATTERN): "email",
        id(reader.DATE_PATTERN): "date",
        id(reader.TIMESTAMP_PATTERN): "timestamp",
        id(portalsettings.EXTENSION_PATTERN): "file-extension",
    }
    return names[id(pattern)]


# Constructs that mean something else in ECMA-262 (or nothing), outside a character class.
_NOT_PORTABLE = re.compile(r"\\[dDwWsSbBAZzG]|\(\?[PiLmsux<]|(?<!\\)\.|(?<!\\)\$")


def test_the_shared_patterns_are_every_pattern_the_declarations_use() -> None:
    assert set(shared_patterns()) == {
        "date",
        "timestamp",
        "email",
        "target",
        "window",
        "weekdays",
        "slug",
        "site",
        "ticket-number",
        "file-extension",
    }


@pytest.mark.parametrize("name", sorted(shared_patterns()))
def test_a_shared_pattern_is_written_in_the_portable_subset(name: str) -> None:
    pattern = shared_patterns()[name]
    assert pattern.flags == re.UNICODE, "flags do not carry over to JSON Schema"
    outside_classes = re.sub(r"\[(?:\\.|[^\]\\])*\]", "[]", pattern.pattern)
    assert not _NOT_PORTABLE.search(outside_classes), outside_classes


# Strings around each pattern's edge: what it must take, what it must not.
EDGES: dict[str, list[str]] = {
    "target": [
        "30m",
        "30 mins",
        "4h",
        "1h30m",
        "1 hour 30 minutes",
        "8 HRS",
        "1 business day",
        "2 Working  Days",
        "1d",
        "\u00a030m\u3000",
        "0h5m",
        "0m",
        "0 days",
        "30",
        "1.5h",
        "30 minuten",
        "1u30",
        "1,5 uur",
        "1:30",
        "1:60",
        "0:00",
        "2 werkdagen",
        "1 uur en 15 min",
        "1.5 days",
        "1 businessday",
        "m",
        "30m\n",
        "\u0663\u0660m",
        "1 \u212aday",
    ],
    "window": [
        "09:00-12:00",
        "9:00 - 17:00",
        " 13:00-24:00\u2003",
        "00:00-23:59",
        "24:00-24:00",
        "09:00-25:00",
        "09:60-10:00",
        "9-17",
        "09:00\u00a0-10:00",
        "09:00-10:00\n",
        "\uff10\uff19:00-10:00",
        "09:00-24:01",
    ],
    "weekdays": [
        "mon",
        "Mon - Fri",
        "sat-sun",
        "mon-mon",
        "MON-FRI",
        "fri-mon",
        "mo",
        "mon -",
        "monday",
        "mon\u00a0-\u2009fri",
        "\u212amon",
        "mon\n",
    ],
    "slug": ["noc", "24x7", "service-management", "a", "-noc", "Noc", "no c", "nöc", "noc\n", ""],
    "site": ["0420", "2101", "420", "04200", "\u0660\u0664\u0662\u0660", "2101\n", "21 01"],
    "ticket-number": ["2NCHE8-81RGJ", "2NCHE8-81RGU", "2nche8-81rgj", "2NCHE881RGJ", "2NCHE8-81RGJ\n", "0QH7KD-4M2ZP"],
    "email": [
        "a@b.example",
        "first.last+tag@sub.example.org",
        "a@b",
        "a b@c.example",
        "a@b.example,c@d.example",
        "élan@b.example",
        "a@b.example\n",
        "a@-.x",
        "@b.example",
    ],
    "date": [
        "2027-06-30",
        "2028-02-29",
        "2027-02-29",
        "2000-02-29",
        "2100-02-29",
        "1970-01-01",
        "1969-12-31",
        "2999-12-31",
        "3000-01-01",
        "2027-6-30",
        "2027-04-31",
        "2027-06-30\n",
        "\u0662027-06-30",
    ],
    "timestamp": [
        "2026-11-02T09:14:00+01:00",
        "2026-11-02 09:14:00 +1",
        "2026-11-2t9:14:00.5Z",
        "2026-11-02T09:14:00",
        "2026-11-02T24:00:00Z",
        "2026-11-02T09:14:60Z",
        "2026-11-02T09:14:00+05:75",
        "2026-02-29T09:14:00Z",
        "2028-02-29T09:14:00-00:30",
        "2026-11-02T09:14:00Z\n",
    ],
}


def _schema_matches(pattern: re.Pattern[str], text: str) -> bool:
    return Draft202012Validator({"type": "string", "pattern": anchored(pattern)}).is_valid(text)


@pytest.mark.parametrize("name", sorted(EDGES))
def test_a_shared_pattern_takes_the_same_strings_in_python_and_in_json_schema(name: str) -> None:
    pattern = shared_patterns()[name]
    takes = [text for text in EDGES[name] if pattern.fullmatch(text)]
    assert takes and len(takes) < len(EDGES[name]), "each edge list holds strings on both sides"
    for text in EDGES[name]:
        assert bool(pattern.fullmatch(text)) == _schema_matches(pattern, text), repr(text)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_strings_a_shared_pattern_generates_match_in_json_schema_too(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(EDGES)))
    pattern = shared_patterns()[name]
    text = data.draw(st.from_regex(pattern, fullmatch=True))
    assert _schema_matches(pattern, text), repr(text)
    mutated = data.draw(st.sampled_from([text + "\n", " " + text, text[:-1], text + "x", text.upper(), text.lower()]))
    assert bool(pattern.fullmatch(mutated)) == _schema_matches(pattern, mutated), repr(mutated)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: no ECMA-262 engine to compare with")
def test_a_shared_pattern_takes_the_same_strings_in_ecma_262_as_editors_run_it() -> None:
    """yaml-language-server compiles a schema's pattern as new RegExp(pattern, "u")."""
    cases = [(anchored(shared_patterns()[name]), text) for name, texts in EDGES.items() for text in texts]
    cases += [(NOT_SPACE, chr(code)) for code in range(0x3001) if not 0xD800 <= code <= 0xDFFF]
    script = (
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(cases.map(([p, s]) => new RegExp(p, 'u').test(s))));"
    )
    result = subprocess.run(
        ["node", "-e", script], input=json.dumps(cases), capture_output=True, text=True, check=True, timeout=60
    )
    ecma = json.loads(result.stdout)
    differ = [
        (pattern, text)
        for (pattern, text), found in zip(cases, ecma, strict=True)
        if bool(re.search(pattern, text)) != found
    ]
    assert differ == []


def test_white_space_means_what_str_isspace_means_in_every_character() -> None:
    for code in range(0x110000):
        char = chr(code)
        assert bool(re.fullmatch(SPACE, char)) == char.isspace(), hex(code)
        assert bool(re.fullmatch(NOT_SPACE, char)) != char.isspace(), hex(code)
    assert re.fullmatch(f"{ASCII_SPACE}*", " \t\n\r\f\v")


# --- the grammars hold what the reader always took ------------------------------------------------


def _old_target(text: str) -> int | None:
    """parse_target before the declaration: minutes, or days as negative, or None."""
    cleaned = " ".join(text.split())
    days = re.fullmatch(r"(\d+)\s*(?:d|days?|business\s+days?|working\s+days?)", cleaned, re.IGNORECASE | re.ASCII)
    if days and int(days.group(1)):
        return -int(days.group(1))
    clock = re.fullmatch(
        r"(?:(\d+)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*m(?:ins?|inutes?)?)?", cleaned, re.IGNORECASE | re.ASCII
    )
    if clock and any(clock.groups()):
        minutes = int(clock.group(1) or 0) * 60 + int(clock.group(2) or 0)
        return minutes or None
    return None


TARGET_WORDS = [
    "0",
    "1",
    "30",
    "05",
    "h",
    "H",
    "hr",
    "hrs",
    "hour",
    "hours",
    "m",
    "min",
    "mins",
    "minute",
    "minutes",
    "d",
    "day",
    "days",
    "DAYS",
    "business",
    "working",
    " ",
    "  ",
    "\t",
    "\u00a0",
    "\u3000",
    "\n",
    "x",
    "\u212a",
    "\u0663",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(TARGET_WORDS), max_size=7).map("".join))
def test_the_target_grammar_reads_what_the_reader_always_took_as_it_did(text: str) -> None:
    """The grammar grew (Dutch, decimal hours, 1:30: tests/test_durations.py); what it took it reads the same."""
    try:
        target = businesstime.parse_target(text)
    except ValueError as error:  # bounded since: at most a year's work
        assert _old_target(text) is None or "is too long" in str(error)
    else:
        assert _old_target(text) in (None, -target.days if target.days else target.minutes)


def _old_window(span: str) -> tuple[int, int] | None:
    found = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", span.strip(), re.ASCII)
    if not found:
        return None
    start_h, start_m, end_h, end_m = (int(part) for part in found.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    return None if start_m > 59 or end_m > 59 or end > 24 * 60 or start >= end else (start, end)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(["0", "9", "1", "2", "4", "5", "6", ":", "-", " ", "\u2003", "\t", "x"]), max_size=13).map(
        "".join
    )
)
def test_the_window_grammar_is_the_one_the_reader_always_had(span: str) -> None:
    if servicelevels.WINDOW_PATTERN.fullmatch(span):
        assert _old_window(span) == servicelevels._window(span)
    else:
        assert _old_window(span) is None


def _old_weekdays(text: str) -> list[int] | None:
    found = re.fullmatch(r"([a-z]{3})(?:\s*-\s*([a-z]{3}))?", text.lower())
    days = businesstime.WEEKDAYS
    if not found or found.group(1) not in days or (found.group(2) and found.group(2) not in days):
        return None
    first, last = days.index(found.group(1)), days.index(found.group(2) or found.group(1))
    return list(range(first, last + 1)) if first <= last else None


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(["mon", "Fri", "SAT", "sun", "tue", "-", " ", "\u00a0", "x", "\u212a"]), max_size=5).map(
        "".join
    )
)
def test_the_weekday_grammar_is_the_one_the_reader_always_had(text: str) -> None:
    if servicelevels.WEEKDAYS_PATTERN.fullmatch(text):
        assert _old_weekdays(text) == servicelevels._weekdays(text)
    else:
        assert _old_weekdays(text) is None


def test_the_date_grammar_takes_exactly_the_real_dates_from_1970_to_2999() -> None:
    for year in (*range(1965, 1975), *range(1995, 2005), 2096, 2100, 2104, 2400, 2800, 2900, *range(2995, 3003)):
        for month in range(0, 14):
            for day in range(0, 33):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    real = 1970 <= date(year, month, day).year <= 2999
                except ValueError:
                    real = False
                assert bool(reader.DATE_PATTERN.fullmatch(text)) == real, text


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(3010, 12, 31)),
    offset=st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
    separator=st.sampled_from(["T", "t", " ", " \t "]),
    fraction=st.sampled_from(["", ".", ".5", ".123456789"]),
    zone=st.sampled_from(["hours and minutes", "hours", "Z", " Z", "none"]),
)
def test_the_timestamp_grammar_takes_what_yaml_and_the_reader_take(
    moment: datetime, offset: int, separator: str, fraction: str, zone: str
) -> None:
    sign, (hours, minutes) = "-" if offset < 0 else "+", divmod(abs(offset), 60)
    written = {
        "hours and minutes": f"{sign}{hours:02d}:{minutes:02d}",
        "hours": f"{sign}{hours}",
        "Z": "Z",
        " Z": " Z",
        "none": "",
    }[zone]
    text = f"{moment:%Y-%m-%d}{separator}{moment:%H:%M:%S}{fraction}{written}"
    loaded = yamlio.load(f"at: {text}\n", Path("x.yaml"))["at"]
    try:
        reader.timestamp(loaded, ("at",))
        accepted = True
    except SchemaError:
        accepted = False
    assert bool(reader.TIMESTAMP_PATTERN.fullmatch(text)) == accepted, text
    if accepted:  # the same text in quotes reads the same
        assert reader.timestamp(text, ("at",)) == loaded


def test_an_offset_of_more_than_59_minutes_is_no_moment() -> None:
    loaded = yamlio.load("at: 2026-11-02T09:14:00+05:75\n", Path("x.yaml"))["at"]
    with pytest.raises(SchemaError, match="is not a real date: UTC offset minute must be in 0..59"):
        reader.timestamp(loaded, ("at",))
    assert loaded == "2026-11-02T09:14:00+05:75"
    assert yamlio.load("at: 2026-11-02T09:14:00+05:30\n", Path("x.yaml"))["at"].utcoffset() == timedelta(
        hours=5, minutes=30
    )


# --- the declaration language itself ----------------------------------------------------------------


def test_a_record_reads_what_it_can_and_records_every_problem() -> None:
    node = declare.Record(
        {"name": declare.Text(), "email": declare.Email(), "count": declare.Integer(0, 9), "on": declare.Flag()},
        required=("name",),
        defaults={"on": False},
    )
    problems = reader.Problems()
    read = node.read({"nmae": "x", "email": "", "count": 12}, ("here",), problems)
    assert read == {"on": False}  # "" is nothing in an optional text key; the count failed
    assert [str(problem) for problem in problems.found] == [
        "here.nmae: unknown key (did you mean 'name'?)",
        "here.count: 12 is out of range (0 to 9)",
    ]


def test_lists_and_mappings_keep_their_places_with_none_where_a_value_failed() -> None:
    problems = reader.Problems()
    listed = declare.List(declare.Integer(1)).read([1, "two", 3], ("l",), problems)
    mapped = declare.MappingOf(declare.Integer(1)).read({"a": 1, "b": 0}, ("m",), problems)
    assert (listed, mapped) == ([1, None, 3], {"a": 1, "b": None})
    assert [problem.keypath for problem in problems.found] == [("l", 1), ("m", "b")]


def test_one_of_reads_a_value_by_its_kind_and_the_last_kind_says_what_it_expected() -> None:
    node = declare.OneOf(declare.Text(numbers=False), declare.Record({"country": declare.Text()}))
    problems = reader.Problems()
    assert node.read("BE", (), problems) == "BE"
    assert node.read({"country": "NL"}, (), problems) == {"country": "NL"}
    assert node.read(32, ("holidays",), problems) == {}
    assert [str(problem) for problem in problems.found] == ["holidays: expected a mapping, got '32'"]


def test_a_definition_is_written_once_and_may_refer_to_itself() -> None:
    tree = declare.Definition("tree")
    tree.define(declare.Record({"name": declare.Text(), "children": declare.List(tree)}))
    defs: declare.Definitions = {}
    assert tree.schema(defs) == {"$ref": "#/$defs/tree"}
    children = defs["tree"]["properties"]["children"]
    assert children["type"] == ["array", "null"] and children["items"] == {"$ref": "#/$defs/tree"}
    problems = reader.Problems()
    read = tree.read({"name": "a", "children": [{"name": "b", "children": [{"nam": "c"}]}]}, (), problems)
    assert read["children"][0]["name"] == "b"
    assert [problem.keypath for problem in problems.found] == [("children", 0, "children", 0, "nam")]


def test_a_condition_is_read_by_the_condition_language_once_the_vocabulary_is_known() -> None:
    """The shape pass hands a condition on; its schema names every field and operator parse() knows."""
    condition = {"categroy": "network"}
    assert rules.CONDITION.read(condition, ("when",), reader.Problems()) is condition
    defs: declare.Definitions = {}
    rules.CONDITION.schema(defs)
    fields = defs["condition"]["anyOf"][3]["properties"]
    assert set(fields) == {*rules.CONDITION_FIELDS, "text"}


# --- the commands -----------------------------------------------------------------------------------


def test_schema_announcement_prints_the_schema_init_writes(run, tmp_path: Path) -> None:
    printed = run("schema", "announcement")
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["title"] == "sdesk announcement file"
    assert run("init", "fresh").exit_code == 0
    written = tmp_path / "fresh" / "schemas" / "announcement.schema.json"
    assert written.read_text(encoding="utf-8") == printed.stdout


def test_an_announcement_file_points_editors_at_its_schema(desk: Path, run) -> None:
    result = run("announce", "new", "--kind", "outage", "--title", "Storing", "--start", "2026-11-23T09:30")
    assert result.exit_code == 0, result.output
    [path] = sorted((desk / "announcements").glob("*.yaml"))
    assert path.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=../schemas/announcement.schema.json\n"
    )
    assert run("announce", "resolve", path.stem, "--note", "Hersteld").exit_code == 0  # rewriting keeps the line
    assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=")


def _committed_schemas(desk: Path) -> Path:
    folder = desk / "schemas"
    folder.mkdir()
    for kind in SCHEMA_KINDS:
        (folder / f"{kind}.schema.json").write_text(schemas.text(kind), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda text: "{}\n", id="emptied"),
        pytest.param(lambda text: text.replace('"uniqueItems": true', '"uniqueItems": 1'), id="true-swapped-for-1"),
        pytest.param(lambda text: '{"a": ' + "[" * 3000 + "]" * 3000 + "}", id="nested-3000-deep"),
        pytest.param(lambda text: text.replace('"type"', '"tpye"', 1), id="a-key-misspelt"),
    ],
)
def test_check_refuses_a_committed_schema_that_is_not_what_sdesk_makes(desk: Path, run, edit) -> None:
    path = _committed_schemas(desk) / "rules.schema.json"
    assert run("check").exit_code == 0
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    result = run("check")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (
        f"{path.relative_to(desk)}: is not the schema this sdesk makes for rules files: "
        "write it anew: sdesk schema rules > schemas/rules.schema.json"
    ) in result.stdout


def test_check_takes_a_committed_schema_checked_out_with_windows_line_ends(desk: Path, run) -> None:
    path = _committed_schemas(desk) / "ticket.schema.json"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert run("check").exit_code == 0


def test_a_whole_number_written_with_a_point_is_that_number_for_the_reader_as_for_the_schema() -> None:
    text = broken("ticket", "  minutes: 75", "  minutes: 75.0")
    assert reader_problems("ticket", text) == [] and schema_errors("ticket", text) == []
    ticket = model.from_dict(yamlio.load(text, Path("ticket.yaml")))
    assert [event.minutes for event in ticket.history if event.kind == "time"][0] == 75
    half = broken("ticket", "  minutes: 75", "  minutes: 75.5")
    assert reader_problems("ticket", half) and schema_errors("ticket", half)


def test_an_unquoted_on_key_is_explained_not_called_true(desk: Path, run) -> None:
    text = TICKET_TEXT.replace("  'on': ", "  on: ", 1)
    assert text != TICKET_TEXT
    (desk / "tickets" / TICKET_PATH.name).write_text(text, encoding="utf-8")
    result = run("show", TICKET_PATH.stem)
    assert result.exit_code == 1
    assert "write the key in quotes ('on':): YAML reads it as True" in result.stderr
    assert ".True" not in result.stderr


def test_a_huge_value_in_a_refusal_is_shown_by_its_start(desk: Path, run) -> None:
    rules_path = desk / "rules.yaml"
    text = rules_path.read_text(encoding="utf-8")
    rules_path.write_text(text.replace("  max_editors_per_site: 3", "  max_editors_per_site: 3.0"), encoding="utf-8")
    assert run("rules", "check").exit_code == 0  # 3.0 is 3
    category = "Y" * 100_000
    assert "categories: [" in text
    rules_path.write_text(text.replace("categories: [", f"categories: [{category}, ", 1), encoding="utf-8")
    result = run("rules", "check")
    assert result.exit_code == 1
    assert max(len(line) for line in result.stderr.splitlines()) < 300


def test_the_sandbox_reads_fields_of_value_classes_and_still_checks_classes_and_internals():
    from sdesk.formats.templating import _Sandbox

    class Value(msgspec.Struct):
        text: str

    sandbox = _Sandbox()
    assert sandbox.from_string("{{ v.text }}").render(v=Value("x")) == "x"
    sandbox.from_string("{{ k.text }}").render(k=Value)  # a class is checked the general way: no TypeError
    with pytest.raises(jinja2.exceptions.SecurityError):
        sandbox.from_string("{{ v.text.format.__self__.__class__.__mro__ }}").render(v=Value("x"))
