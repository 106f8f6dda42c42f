"""`sdesk rules check`: every problem of rules.yaml at once, each at its line and column.

The example rules.yaml is broken on purpose, one str.replace at a time, and
the check must name the place a user has to look at (`FILE:LINE:COL`), the
key path and a message that says what is wrong. Line numbers are found in
the broken text (not hard-coded), so the tests survive edits of the example.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from sdesk.storage import scaffold
from tests.conftest import REPO, TICKET_DEFAULTS, Run, example_rules_text

EXAMPLE = (REPO / "rules.yaml").read_text(encoding="utf-8")

Where = str | tuple[str, ...]


def broken(old: str, new: str, text: str = EXAMPLE) -> str:
    """``text`` with ``old`` replaced by ``new``; ``old`` must name exactly one place."""
    assert old in text, f"the example no longer contains {old!r}"
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times: the breakage would be ambiguous"
    return text.replace(old, new, 1)


def line_of(text: str, where: Where) -> int:
    """1-based number of the line holding the last marker of ``where``.

    Each marker is searched for after the line of the previous one, so
    ("  vandijk:", "    contacts:") is Van Dijk's contacts line. Comment
    lines never match.
    """
    markers = (where,) if isinstance(where, str) else where
    lines = text.splitlines()
    start, found = 0, -1
    for marker in markers:
        found = next(
            (
                number
                for number in range(start, len(lines))
                if marker in lines[number] and not lines[number].lstrip().startswith("#")
            ),
            -1,
        )
        assert found >= 0, f"no line contains {marker!r} (searching from line {start + 1})"
        start = found + 1
    return found + 1


def position(text: str, where: Where, column: int | str) -> str:
    """``LINE:COL``; a string column is the 1-based position of that token on the line."""
    line = line_of(text, where)
    if isinstance(column, str):
        content = text.splitlines()[line - 1]
        assert column in content, f"{column!r} is not on line {line}: {content!r}"
        column = content.index(column) + 1
    return f"{line}:{column}"


@pytest.fixture
def in_desk(desk: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The desk, as the working directory: problems are shown as rules.yaml:LINE:COL."""
    monkeypatch.chdir(desk)
    return desk


def write_rules(desk: Path, text: str) -> None:
    (desk / "rules.yaml").write_text(text, encoding="utf-8")


AGENTS = EXAMPLE[EXAMPLE.index("\nagents:\n") : EXAMPLE.index("\nundeclared_agents:")]  # the whole list
FOURTH_EDITOR = """\
        campus: Brugge
        sites: ["2101"]
      - name: Bart Wouters
        email: bart.wouters@zonnebloem.example
        role: technical
        sites: ["2101"]
"""

# (id, old, new, where the problem is: line marker(s), column (int, or a token on that line), message)
BREAKAGES = [
    (
        "typo-in-top-level-key",
        "\nrouting:\n",
        "\nroutng:\n",
        "routng:",
        1,
        "routng: unknown key (did you mean 'routing'?)",
    ),
    (
        "typo-in-nested-key",
        "    waiting_on_customer: true\n    pauses_clock: true\n    next: [in-progress, closed]\n  on-hold:",
        "    waiting_on_cust: true\n    pauses_clock: true\n    next: [in-progress, closed]\n  on-hold:",
        "waiting_on_cust:",
        5,
        "statuses.waiting-for-customer.waiting_on_cust: unknown key (did you mean 'waiting_on_customer'?)",
    ),
    (
        "string-where-a-list-is-expected",
        "    required: [product, site]\n",
        "    required: product\n",
        "required: product",
        5,
        "types.service-request.required: expected a list, got 'product'",
    ),
    (
        "wrong-type-for-a-flag",
        "  web-platform: {name: Web Content Platform}",
        "  web-platform: {name: Web Content Platform, business_critical: 'yes'}",
        "  web-platform: {",
        "business_critical",
        "products.web-platform.business_critical: expected true or false, got 'yes'",
    ),
    (
        "matrix-cell-missing",
        "department: {high: P2, medium: P3, low: P4}",
        "department: {high: P2, medium: P3}",
        "    department:",
        5,
        "priority.matrix.department.low: is missing: the matrix needs a level for department impact with low urgency",
    ),
    (
        "matrix-level-that-is-not-a-level",
        "individual: {high: P3, medium: P4, low: P4}",
        "individual: {high: P3, medium: P5, low: P4}",
        "    individual:",
        "medium",
        "priority.matrix.individual.medium: 'P5' is not valid (expected one of: P1, P2, P3, P4)",
    ),
    (
        "adjustment-to-an-unknown-level",
        "      at_least: P2\n",
        "      at_least: P0\n",
        "at_least: P0",
        7,
        "priority.adjustments.0.at_least: 'P0' is not valid (expected one of: P1, P2, P3, P4)",
    ),
    (
        "next-names-an-unknown-status",
        "    next: [open]",
        "    next: [opne]",
        "next: [opne]",
        "opne",
        "statuses.closed.next.0: 'opne' is not valid (did you mean 'open'?)",
    ),
    (
        "unreachable-status",
        "  closed:\n    label: {en: Closed, nl: Gesloten, fr: Clôturé, de: Geschlossen}\n",
        "  archived:\n    label: {en: Archived, nl: Gearchiveerd}\n    next: [closed]\n"
        "  closed:\n    label: {en: Closed, nl: Gesloten, fr: Clôturé, de: Geschlossen}\n",
        "  archived:",
        3,
        "statuses.archived: is unreachable: no path of 'next' leads to it from 'open'",
    ),
    (
        "two-initial-statuses",
        "  # action on the desk\n    next: [waiting-for-customer,",
        "  # action on the desk\n    initial: true\n    next: [waiting-for-customer,",
        "  in-progress:",
        3,
        "statuses.in-progress: mark exactly one status 'initial: true' (new tickets start there)",
    ),
    (
        "no-final-status",
        "    final: true\n",
        "",
        "statuses:",
        1,
        "statuses: mark at least one status 'final: true' (closed tickets end there)",
    ),
    (
        "dead-end-status",
        "# paused until further notice\n    pauses_clock: true\n    next: [in-progress, closed]\n",
        "# paused until further notice\n    pauses_clock: true\n",
        "  on-hold:",
        3,
        "statuses.on-hold: is a dead end: list its 'next' statuses or mark it 'final: true'",
    ),
    (
        "bad-regex-in-an-exclusion",
        r"wiederherstell\w*)\b'",
        r"wiederherstell\w*\b'",
        "terugzetten",
        "matches",
        r"exclusions.1.when.any.1.text.matches: bad regular expression /\b(back-?ups?|restore|terugzetten|"
        r"sauvegardes?|restauration|datensicherung|wied…/: "
        "missing )",
    ),
    (
        "unknown-field-in-a-condition",
        "when: {plan: managed-services}\n      raise: 1",
        "when: {plann: managed-services}\n      raise: 1",
        "when: {plann",
        "plann",
        "priority.adjustments.1.when.plann: unknown field (did you mean 'plan'?)",
    ),
    (
        "empty-in-list",
        "category: {in: [operating-system, network]}",
        "category: {in: []}",
        "category: {in: []}",
        "in:",
        "exclusions.3.when.all.0.any.0.category.in: 'in' takes a list of values, got an empty list",
    ),
    (
        "unknown-category-in-routing",
        "        - category: network\n",
        "        - category: netwerk\n",
        "category: netwerk",
        11,
        "routing.1.when.any.0.category: unknown category 'netwerk' (did you mean 'network'?)",
    ),
    (
        "unknown-type-in-routing",
        "    when: {type: complaint}",
        "    when: {type: complain}",
        "when: {type: complain}",
        "type",
        "routing.0.when.type: unknown type 'complain' (did you mean 'complaint'?)",
    ),
    (
        "unknown-team-in-routing",
        "    team: noc\n",
        "    team: nocc\n",
        "team: nocc",
        5,
        "routing.1.team: 'nocc' is not valid (did you mean 'noc'?)",
    ),
    (
        "unknown-default-team",
        "  default_team: servicedesk",
        "  default_team: servicedsk",
        "default_team: servicedsk",
        3,
        "desk.default_team: 'servicedsk' is not valid (did you mean 'servicedesk'?)",
    ),
    (
        "duplicate-rule-name",
        "  - name: user-error\n",
        "  - name: training\n",
        ("  - name: customisation", "  - name: training"),
        5,
        "exclusions.6.name: 'training' is already the name of exclusions.4",
    ),
    (
        "unknown-field-in-types-required",
        "    required: [product, site, description]\n",
        "    required: [product, site, descripton]\n",
        "descripton",
        "descripton",
        "types.change.required.2: 'descripton' is not valid (did you mean 'description'?)",
    ),
    (
        "customer-plan-that-does-not-exist",
        "    plan: 24x7\n",
        "    plan: 24x5\n",
        "plan: 24x5",
        5,
        "customers.vandijk.plan: '24x5' is not valid (did you mean '24x7'?)",
    ),
    (
        "package-product-that-does-not-exist",
        "      - product: web-platform\n",
        "      - product: web-portal\n",
        "product: web-portal",
        9,
        "customers.fod-digitaal.packages.0.product: 'web-portal' is not valid (did you mean 'web-platform'?)",
    ),
    (
        "same-product-in-two-packages",
        "      - product: warehouse-network\n        maintenance_until",
        "      - product: fleet-telemetry\n        maintenance_until",
        ("  vandijk:", "product: fleet-telemetry", "product: fleet-telemetry"),
        9,
        "customers.vandijk.packages.1.product: 'fleet-telemetry' is listed twice",
    ),
    (
        "maintenance-date-that-does-not-parse",
        "        maintenance_until: 2028-01-31",
        "        maintenance_until: 31-12-2027",
        "31-12-2027",
        9,
        "customers.fod-digitaal.packages.0.maintenance_until: expected a date such as 2027-06-30, got '31-12-2027'",
    ),
    (
        "customer-without-technical-reference-person",
        '        role: technical\n        sites: ["3001", "3002"]',
        '        role: general\n        sites: ["3001", "3002"]',
        ("  vandijk:", "    contacts:"),
        5,
        "customers.vandijk.contacts: vandijk needs a technical reference person (role: technical)",
    ),
    (
        "campus-without-reference-person",
        "        role: campus\n        campus: Brussel Noord\n",
        "        role: general\n",
        ("  fod-digitaal:", "    contacts:"),
        5,
        "customers.fod-digitaal.contacts: campus Brussel Noord needs a reference person "
        "(role: campus, campus: Brussel Noord)",
    ),
    (
        "reference-person-of-an-unknown-campus",
        "        campus: Oostende\n",
        "        campus: Ostend\n",
        "campus: Ostend",
        9,
        "customers.zonnebloem.contacts.2.campus: unknown campus 'Ostend' (did you mean 'Oostende'?)",
    ),
    (
        "fourth-editor-on-a-site",
        '        campus: Brugge\n        sites: ["2101"]\n',
        FOURTH_EDITOR,
        '"2101": {name: Campus Brugge',
        7,
        "customers.zonnebloem.sites.2101: site 2101 has 4 editors "
        "(Els Vermeulen, Tom Claeys, Wim De Smet, Bart Wouters); at most 3 may edit a site",
    ),
    (
        "reference-person-editing-an-unknown-site",
        '        sites: ["4711"]\n',
        '        sites: ["4713"]\n',
        'sites: ["4713"]',
        '"4713"',
        "customers.fod-digitaal.contacts.1.sites.0: '4713' is not valid (did you mean '4712'?)",
    ),
    (
        "same-email-twice-in-one-customer",
        "        email: sam.patel@brightwave.example",
        "        email: olivia.hughes@brightwave.example",
        ("name: Sam Patel", "email:"),
        9,
        "customers.brightwave.contacts.1.email: olivia.hughes@brightwave.example is listed twice "
        "(first at customers.brightwave.contacts.0)",
    ),
    (
        "same-email-in-two-customers",
        "        email: j.bakker@vandijk.example",
        "        email: tom.claeys@zonnebloem.example",
        ("name: Joost Bakker", "email:"),
        9,
        "customers.vandijk.contacts.1.email: tom.claeys@zonnebloem.example is listed twice "
        "(first at customers.zonnebloem.contacts.1)",
    ),
    (
        "bad-email",
        "        email: nadia.elamrani@fod-dt.example",
        "        email: nadia.elamrani-at-fod-dt.example",
        "nadia.elamrani-at-",
        9,
        "customers.fod-digitaal.contacts.1.email: 'nadia.elamrani-at-fod-dt.example' is not an email address",
    ),
    (
        "same-agent-email-twice-in-another-case",
        "{email: lien.jacobs@caresolutions.example",
        "{email: AN.Wouters@caresolutions.example",
        "AN.Wouters@",
        "email:",
        "agents.1.email: 'AN.Wouters@caresolutions.example' is listed twice (first at agents.0)",
    ),
    (
        "same-agent-name-twice",
        "name: Lien Jacobs,",
        "name: an wouters,",
        "name: an wouters",
        "name:",
        "agents.1.name: 'an wouters' is listed twice (first at agents.0)",
    ),
    (
        "agent-in-an-unknown-team",
        "name: Jef Vandenbroeck, teams: [noc]}",
        "name: Jef Vandenbroeck, teams: [nok]}",
        "name: Jef Vandenbroeck",
        "nok",
        "agents.4.teams.0: 'nok' is not valid (did you mean 'noc'?)",
    ),
    (
        "agent-without-an-email-address",
        "{email: karel.peeters@caresolutions.example,",
        "{email: karel.peeters,",
        "{email: karel.peeters,",
        "email:",
        "agents.5.email: 'karel.peeters' is not an email address",
    ),
    (
        "agent-called-by-a-word-of-assignee",
        "name: Service Manager,",
        "name: Me,",
        "name: Me,",
        "name:",
        "agents.6.name: 'Me' is a word of --assignee (me, none): give the agent's full name",
    ),
    (
        "agent-called-by-an-email-address",
        "name: Service Manager,",
        "name: boss@caresolutions.example,",
        "name: boss@",
        "name:",
        "agents.6.name: 'boss@caresolutions.example' is an email address: --assignee boss@caresolutions.example "
        "would assign servicemanager@caresolutions.example; give the agent's full name",
    ),
    (
        "read-only-without-agents",
        AGENTS,
        "\nagents: []",
        "undeclared_agents: read-only",
        1,
        "undeclared_agents: read-only, but no agents are declared: nobody could change a ticket (declare agents:)",
    ),
    (
        "typo-in-undeclared-agents",
        "undeclared_agents: read-only",
        "undeclared_agents: readonly",
        "undeclared_agents: readonly",
        1,
        "undeclared_agents: 'readonly' is not valid (did you mean 'read-only'?)",
    ),
    (
        "exclusion-message-without-english",
        "      en: Backups are not part of the contract; restoring one is billed separately.\n",
        "",
        ("  - name: backup", "    message:"),
        5,
        "exclusions.1.message.en: is required: the other languages fall back to English",
    ),
    (
        "exclusion-message-in-an-unknown-language",
        "      nl: Back-ups vallen",
        "      es: Back-ups vallen",
        "es: Back-ups vallen",
        7,
        "exclusions.1.message.es: unknown key (expected one of: en, nl, fr, de)",
    ),
    (
        "site-id-not-4-digits",
        '      "5001": London office',
        '      "501": London office',
        '"501": London office',
        7,
        "customers.brightwave.sites.501: site ID '501' must be 4 digits",
    ),
]


def test_the_example_rules_are_ok(run: Run, in_desk: Path) -> None:
    write_rules(in_desk, example_rules_text(agents=True))
    result = run("rules", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("rules.yaml: OK (")
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("old", "new", "where", "column", "message"),
    [pytest.param(*row[1:], id=row[0]) for row in BREAKAGES],
)
def test_each_breakage_is_reported_at_its_place(
    run: Run, in_desk: Path, old: str, new: str, where: Where, column: int | str, message: str
) -> None:
    text = broken(old, new)
    write_rules(in_desk, text)
    result = run("rules", "check")
    assert result.exit_code == 1, result.output
    expected = f"rules.yaml:{position(text, where, column)}: {message}"
    assert expected in result.stdout.splitlines(), result.stdout
    assert re.fullmatch(r"Error: rules\.yaml: \d+ problems?\n", result.stderr), result.stderr


# --- all problems at once --------------------------------------------------------------


def test_three_unrelated_problems_are_listed_in_one_run_in_document_order(run: Run, in_desk: Path) -> None:
    # Validation reads teams before statuses and customers last; the listing follows the file.
    text = broken("    plan: 24x7\n", "    plan: 24x5\n")
    text = broken("    email: noc@caresolutions.example", "    email: noc-caresolutions.example", text)
    text = broken("    next: [open]", "    next: [opne]", text)
    write_rules(in_desk, text)
    result = run("rules", "check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"rules.yaml:{position(text, 'next: [opne]', 'opne')}: statuses.closed.next.0: "
        "'opne' is not valid (did you mean 'open'?)",
        f"rules.yaml:{position(text, 'noc-caresolutions', 5)}: teams.noc.email: "
        "'noc-caresolutions.example' is not an email address",
        f"rules.yaml:{position(text, 'plan: 24x5', 5)}: customers.vandijk.plan: '24x5' is not valid "
        "(did you mean '24x7'?)",
    ]
    assert result.stderr == "Error: rules.yaml: 3 problems\n"


def test_a_file_outside_any_desk_is_checked_by_path(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SDESK_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    draft = drafts / "policy.yaml"
    draft.write_text(EXAMPLE, encoding="utf-8")
    assert not (tmp_path / "rules.yaml").exists()

    clean = run("rules", "check", "drafts/policy.yaml")
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.startswith("drafts/policy.yaml: OK (")

    text = broken("  default_team: servicedesk", "  default_team: servicedsk")
    draft.write_text(text, encoding="utf-8")
    for given in ("drafts/policy.yaml", str(draft)):  # an absolute path below cwd is shown relative too
        result = run("rules", "check", given)
        assert result.exit_code == 1
        assert result.stdout == (
            f"drafts/policy.yaml:{line_of(text, 'default_team:')}:3: desk.default_team: "
            "'servicedsk' is not valid (did you mean 'servicedesk'?)\n"
        )
        assert result.stderr == "Error: drafts/policy.yaml: 1 problem\n"


def test_a_missing_file_is_one_error(run: Run) -> None:
    result = run("rules", "check", "nowhere.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: nowhere.yaml: file not found\n"


# --- other commands stop at the first problem ------------------------------------------

TWO_PROBLEMS = (
    ("    next: [open]", "    next: [opne]"),
    ("    email: noc@caresolutions.example", "    email: noc-caresolutions.example"),
)


def two_problems(desk: Path) -> str:
    text = EXAMPLE
    for old, new in TWO_PROBLEMS:
        text = broken(old, new, text)
    write_rules(desk, text)
    return text


NEW_TICKET = tuple(part for pair in TICKET_DEFAULTS.items() for part in pair)


@pytest.mark.parametrize("command", [("list",), ("check",), ("new", *NEW_TICKET)], ids=["list", "check", "new"])
def test_other_commands_stop_at_one_problem_and_point_to_rules_check(
    run: Run, in_desk: Path, command: tuple[str, ...]
) -> None:
    two_problems(in_desk)
    listed = run("rules", "check").stdout.splitlines()
    assert len(listed) == 2
    result = run(*command)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    match = re.fullmatch(r"Error: (rules\.yaml:\d+:\d+: .*) \(and 1 more: run sdesk rules check\)", lines[0])
    assert match, lines[0]
    assert match.group(1) in listed


def test_an_exclusion_message_without_english_stops_a_command_with_one_line_naming_its_place(
    run: Run, in_desk: Path
) -> None:
    text = broken("      en: Backups are not part of the contract; restoring one is billed separately.\n", "")
    write_rules(in_desk, text)
    result = run("new", *NEW_TICKET)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"Error: rules.yaml:{position(text, ('  - name: backup', '    message:'), 5)}: "
        "exclusions.1.message.en: is required: the other languages fall back to English\n"
    )


def test_other_commands_report_the_first_problem_that_rules_check_lists(run: Run, in_desk: Path) -> None:
    two_problems(in_desk)
    first = run("rules", "check").stdout.splitlines()[0]
    result = run("list")
    assert result.stderr == f"Error: {first} (and 1 more: run sdesk rules check)\n"


# --- YAML that does not parse ----------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where", "column", "message"),
    [
        pytest.param(
            "  name: Care Solutions Service Desk",
            "  name: [Care Solutions Service Desk",
            "name: [Care",
            "[",
            "invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence)",
            id="unclosed-flow-sequence-points-at-its-start",
        ),
        pytest.param(
            "    plan: 24x7\n",
            "    plan: 24x7\n    plan: standard\n",
            ("  vandijk:", "plan: standard"),
            5,
            "invalid YAML: duplicate key 'plan'",
            id="duplicate-key",
        ),
        pytest.param(
            "  timezone: Europe/Brussels",
            "\ttimezone: Europe/Brussels",
            "\ttimezone",
            1,
            "invalid YAML: found a tab character that violates indentation (while scanning a plain scalar)",
            id="tab-indentation",
        ),
    ],
)
def test_yaml_that_does_not_parse_is_one_located_problem(
    run: Run, in_desk: Path, old: str, new: str, where: Where, column: int | str, message: str
) -> None:
    text = broken(old, new)
    write_rules(in_desk, text)
    result = run("rules", "check")
    assert result.exit_code == 1
    assert result.stdout == f"rules.yaml:{position(text, where, column)}: {message}\n"
    assert result.stderr == "Error: rules.yaml: 1 problem\n"


def test_an_impossible_date_is_reported_with_the_other_problems(run: Run, in_desk: Path) -> None:
    text = broken("        maintenance_until: 2028-01-31", "        maintenance_until: 2028-02-30")
    text = text.replace("    plan: 24x7\n", "    plan: 24x8\n", 1)
    write_rules(in_desk, text)
    result = run("rules", "check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"rules.yaml:{line_of(text, 'maintenance_until: 2028-02-30')}:9: customers.fod-digitaal.packages.0."
        "maintenance_until: '2028-02-30' is not a real date: day is out of range for month",
        f"rules.yaml:{line_of(text, 'plan: 24x8')}:5: customers.vandijk.plan: '24x8' is not valid "
        "(did you mean '24x7'?)",
    ]


# --- problems found in review (fixed) --------------------------------------


def test_an_unquoted_site_id_is_located_at_its_key(run: Run, in_desk: Path) -> None:
    text = broken('      "5001": London office', "      0420: London office")
    write_rules(in_desk, text)
    result = run("rules", "check")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(f"rules.yaml:{line_of(text, '0420: London')}:7: ")


def test_a_missing_matrix_row_is_one_problem(run: Run, in_desk: Path) -> None:
    write_rules(in_desk, broken("    individual: {high: P3, medium: P4, low: P4}\n", ""))
    result = run("rules", "check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"rules.yaml:{line_of(EXAMPLE, '  matrix:')}:3: priority.matrix.individual: "
        "is missing: the matrix needs a row for individual impact"
    ]
    assert result.stderr == "Error: rules.yaml: 1 problem\n"


# --- JSON Schemas for editors ----------------------------------------------------------


def as_json(data: Any) -> Any:
    """YAML-loaded data as JSON sees it: dates and timestamps become ISO strings."""
    if isinstance(data, dict):
        return {_json_key(key): as_json(value) for key, value in data.items()}
    if isinstance(data, list):
        return [as_json(item) for item in data]
    return json.loads(json.dumps(data, default=lambda value: value.isoformat()))


def _json_key(key: Any) -> Any:
    return key.isoformat() if hasattr(key, "isoformat") else key


def validator(run: Run, kind: str) -> Draft202012Validator:
    result = run("schema", kind)
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors(check: Draft202012Validator, text: str) -> list[str]:
    return [
        f"{'.'.join(str(part) for part in error.absolute_path)}: {error.message}"
        for error in check.iter_errors(as_json(yaml.safe_load(text)))
    ]


def test_example_and_starter_rules_validate_against_the_rules_schema(run: Run) -> None:
    check = validator(run, "rules")
    assert errors(check, EXAMPLE) == []
    assert errors(check, scaffold.starter_rules("X")) == []


def test_every_example_ticket_validates_against_the_ticket_schema(run: Run) -> None:
    check = validator(run, "ticket")
    tickets = sorted((REPO / "tickets").glob("*.yaml"))
    assert tickets, "the example desk has no tickets"
    for path in tickets:
        assert errors(check, path.read_text(encoding="utf-8")) == [], path.name


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        pytest.param("\nrouting:\n", "\nroutng:\n", "", id="unknown-top-level-key"),
        pytest.param("  levels: [P1, P2, P3, P4]", "  levels: P1", "priority.levels", id="levels-not-a-list"),
        pytest.param(
            "when: {plan: managed-services}\n      raise: 1",
            "when: {plann: managed-services}\n      raise: 1",
            "priority.adjustments.1.when",
            id="unknown-condition-field",
        ),
        pytest.param(
            "        maintenance_until: 2028-01-31",
            "        maintenance_until: 31-12-2027",
            "customers.fod-digitaal.packages.0.maintenance_until",
            id="date-not-iso",
        ),
        pytest.param(
            '      "5001": London office', '      "501": London office', "customers.brightwave.sites", id="site-id"
        ),
        pytest.param(
            "      en: Backups are not part of the contract; restoring one is billed separately.\n",
            "",
            "exclusions.1.message",
            id="exclusion-message-without-english",
        ),
        pytest.param(
            "      nl: Back-ups vallen", "      es: Back-ups vallen", "exclusions.1.message", id="message-in-es"
        ),
    ],
)
def test_broken_rules_fail_the_rules_schema(run: Run, old: str, new: str, where: str) -> None:
    found = errors(validator(run, "rules"), broken(old, new))
    assert any(error.split(": ", 1)[0] == where for error in found), found


def test_a_broken_ticket_fails_the_ticket_schema(run: Run) -> None:
    check = validator(run, "ticket")
    path = sorted((REPO / "tickets").glob("*.yaml"))[0]
    data = as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert not list(check.iter_errors(data))
    assert list(check.iter_errors({**data, "sevrity": "high"}))
    assert list(check.iter_errors({**data, "urgency": "extreme"}))
    assert list(check.iter_errors({key: value for key, value in data.items() if key != "created"}))


@pytest.mark.parametrize("kind", ["rules", "ticket", "announcement"])
def test_committed_schemas_match_sdesk_schema(run: Run, kind: str) -> None:
    committed = REPO / "schemas" / f"{kind}.schema.json"
    if not committed.exists():
        pytest.skip(f"{committed.relative_to(REPO)} is not committed yet (generate it with: sdesk schema {kind})")
    result = run("schema", kind)
    assert result.exit_code == 0, result.output
    shown = committed.relative_to(REPO)
    assert json.loads(committed.read_text(encoding="utf-8")) == json.loads(result.stdout), (
        f"{shown} is stale: regenerate it with: sdesk schema {kind} > {shown}"
    )


# --- annotations for CI ----------------------------------------------------------------------------


def test_checks_point_a_pull_request_at_the_line_with_github_annotations(desk: Path, run: Run) -> None:
    (desk / "tickets" / "2Q400G-AAAAA.yaml").write_text("id: 2Q400G-AAAAA\ntitle: [\n", encoding="utf-8")
    checked = run("check", "--format", "github")
    assert checked.exit_code == 1
    assert checked.stdout.startswith("::error file=desk/tickets/2Q400G-AAAAA.yaml,line=3,col=1::invalid YAML")
    rules = desk / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("on_site: remote-only", "on_site: no"), "utf-8")
    line = next(n for n, text in enumerate(rules.read_text("utf-8").splitlines(), 1) if "on_site: no" in text)
    result = run("rules", "check", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"::error file=desk/rules.yaml,line={line},col=5::plans.standard.on_site: YAML reads this as false "
        "(unquoted yes, no, on, off are true or false): expected one of covered, billable, remote-only"
    ]
    found = json.loads(run("rules", "check", "--format", "json").stdout)
    assert [(row["file"], row["line"], row["column"]) for row in found] == [("desk/rules.yaml", line, 5)]


def test_an_annotation_cannot_be_broken_or_forged_by_a_file_name_or_a_message() -> None:
    from sdesk.cli.problems import annotation
    from sdesk.errors import SdeskError

    problem = SdeskError("bad: 100%\n::error::forged", Path("tickets/a,b:c.yaml"), 3, 7)
    assert annotation(problem) == "::error file=tickets/a%2Cb%3Ac.yaml,line=3,col=7::bad: 100%25%0A::error::forged"


# --- the sdesk a desk needs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("needed", "message"),
    [
        (
            ">=99.0",
            "sdesk: this desk needs sdesk >=99.0 and this is sdesk {version}: install one that fits "
            "(pip install 'sdesk>=99.0')",
        ),
        (
            "<0.1",
            "sdesk: this desk needs sdesk <0.1 and this is sdesk {version}: install one that fits "
            "(pip install 'sdesk<0.1')",
        ),
        ("soon", "sdesk: 'soon' is not a version requirement: write e.g. '>=0.12'"),
    ],
    ids=["newer", "older", "not-a-requirement"],
)
def test_a_desk_that_needs_another_sdesk_says_so_in_one_line(desk: Path, run: Run, needed: str, message: str) -> None:
    import sdesk

    rules = desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert 'sdesk: ">=0.13"' in text  # the example desk says what it needs
    rules.write_text(text.replace('sdesk: ">=0.13"', f'sdesk: "{needed}"'), encoding="utf-8")
    checked = run("rules", "check")
    assert checked.exit_code == 1
    assert checked.stdout.splitlines() == [f"desk/rules.yaml:2:1: {message.format(version=sdesk.__version__)}"]
    listed = run("list")
    assert listed.exit_code == 1 and len(listed.stderr.splitlines()) == 1 and "Traceback" not in listed.output


def test_a_new_desk_needs_the_sdesk_that_made_it_or_a_later_one(run: Run, tmp_path: Path) -> None:
    import sdesk

    assert run("init", str(tmp_path / "new")).exit_code == 0
    major, minor = sdesk.__version__.split(".")[:2]
    assert f'sdesk: ">={major}.{minor}"' in (tmp_path / "new" / "rules.yaml").read_text(encoding="utf-8")
