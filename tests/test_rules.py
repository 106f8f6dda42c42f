"""rules.yaml is validated strictly, with the key path, line and a suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdesk import rules, scaffold, yamlio
from sdesk.errors import InvalidData
from sdesk.schema import SchemaError, located
from tests.conftest import REPO

EXAMPLE = (REPO / "rules.yaml").read_text(encoding="utf-8")


def parse(text: str) -> rules.Rules:
    return rules.parse(yamlio.load(text, Path("rules.yaml")))


def problem(text: str) -> InvalidData:
    with pytest.raises(SchemaError) as caught:
        parse(text)
    return located(caught.value, Path("rules.yaml"), text)


def test_example_desk_and_starter_rules_are_valid():
    example = parse(EXAMPLE)
    assert set(example.customers) == {"zonnebloem", "fod-digitaal", "vandijk", "brightwave"}
    assert example.priority_for("company", "high") == "P1"
    assert example.priority_for(None, "high") == "P3"
    assert example.customers["zonnebloem"].contact("ELS.VERMEULEN@zonnebloem.example").role == "general"
    starter = parse(scaffold.starter_rules("Helpdesk Noord"))
    assert starter.desk_name == "Helpdesk Noord" and list(starter.customers) == ["example"]


@pytest.mark.parametrize(
    ("old", "new", "message", "reported_line"),
    [
        (
            "  timezone: Europe/Brussels",
            "  timezone: Europe/Brussel",
            "desk.timezone: unknown time zone 'Europe/Brussel' (e.g. Europe/Brussels)",
            "timezone: Europe/Brussel",
        ),
        (
            "  default_team: servicedesk",
            "  default_team: helpdesk",
            "desk.default_team: 'helpdesk' is not valid (expected one of: servicedesk, noc, iot, service-management)",
            "default_team: helpdesk",
        ),
        (
            "        maintenance_until: 2027-06-30",
            "        maintenance_untill: 2027-06-30",
            "customers.zonnebloem.packages.0.maintenance_untill: unknown key (did you mean 'maintenance_until'?)",
            "maintenance_untill: 2027-06-30",
        ),
        (
            '      "3001": DC Tilburg',
            "      301: DC Tilburg",
            "customers.vandijk.sites.301: site ID '301' must be 4 digits (quote it: \"0420\")",
            "301: DC Tilburg",
        ),
        (
            "        role: campus\n        campus: Oostende",
            "        role: campus",
            "customers.zonnebloem.contacts.2.campus: a campus reference person names the campus",
            "- name: Sofie Peeters",
        ),
        (
            '        sites: ["2102"]',
            '        sites: ["2103"]',
            "customers.zonnebloem.contacts.2.sites.0: '2103' is not valid (did you mean '2102'?)",
            'sites: ["2103"]',
        ),
        (
            "        email: j.bakker@vandijk.example",
            "        email: j.bakker",
            "customers.vandijk.contacts.1.email: 'j.bakker' is not an email address",
            "email: j.bakker",
        ),
        (
            "    individual: {high: P3, medium: P4, low: P4}",
            "    individual: {high: P3, medium: P4}",
            "priority.matrix.individual.low: is required",
            "individual: {high: P3, medium: P4}",
        ),
        (
            "    company:    {high: P1,",
            "    company:    {high: P0,",
            "priority.matrix.company.high: 'P0' is not valid (expected one of: P1, P2, P3, P4)",
            "company:    {high: P0",
        ),
        (
            "  closed: {en: Closed, nl: Gesloten}",
            "  finished: {en: Closed, nl: Gesloten}",
            "statuses.finished: unknown key (expected one of: open, in-progress, waiting-for-customer, on-hold, "
            "scheduled, awaiting-acceptance, closed)",
            "finished:",
        ),
        ("teams:", "team:", "team: unknown key (did you mean 'teams'?)", "team:"),
    ],
)
def test_invalid_rules_name_the_key_the_line_and_a_fix(old, new, message, reported_line):
    assert old in EXAMPLE
    broken = EXAMPLE.replace(old, new, 1)
    error = problem(broken)
    assert error.message == message
    assert broken.splitlines()[error.line - 1].strip().startswith(reported_line)


def test_missing_status_label_is_reported():
    broken = EXAMPLE.replace(
        "  on-hold: {en: On hold, nl: In de wacht}                      # paused until further notice\n", ""
    )
    assert problem(broken).message.startswith("statuses.on-hold: is missing")


def test_yaml_syntax_error_names_the_line_where_the_unclosed_bracket_opens():
    with pytest.raises(InvalidData) as caught:
        yamlio.load("desk:\n  name: [unclosed\nteams: {}\n", Path("rules.yaml"))
    assert str(caught.value).startswith("rules.yaml:2: invalid YAML")
