"""rules.yaml is validated strictly, with the key path, line and a suggestion."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sdesk.errors import InvalidData
from sdesk.formats import yamlio
from sdesk.formats.reader import Invalid, located
from sdesk.policy import rules
from sdesk.storage import scaffold
from tests.conftest import REPO

EXAMPLE = (REPO / "rules.yaml").read_text(encoding="utf-8")


def parse(text: str) -> rules.Rules:
    return rules.parse(yamlio.load(text, Path("rules.yaml")))


def problems(text: str) -> list[InvalidData]:
    """Every problem in ``text``, located, in document order."""
    with pytest.raises(Invalid) as caught:
        parse(text)
    return located(caught.value.problems, Path("rules.yaml"), text)


def test_example_desk_and_starter_rules_are_valid():
    example = parse(EXAMPLE)
    assert set(example.customers) == {"zonnebloem", "fod-digitaal", "vandijk", "brightwave", "les-tilleuls", "st-josef"}
    assert {customer.language for customer in example.customers.values()} == set(rules.LANGUAGES)
    assert example.priority.matrix["company"]["high"] == "P1"
    assert (example.priority.default, example.initial_status, example.final_statuses) == ("P3", "open", ("closed",))
    assert example.customers["zonnebloem"].contact("ELS.VERMEULEN@zonnebloem.example").role == "general"
    starter = parse(scaffold.starter_rules("Helpdesk Noord"))
    assert starter.desk_name == "Helpdesk Noord" and list(starter.customers) == ["example"]


def test_a_label_left_out_in_a_language_reads_the_english_one():
    text = re.sub(r"label: \{en: Scheduled[^}]*\}", "label: {en: Scheduled, nl: Ingepland, de: Eingeplant}", EXAMPLE)
    text = re.sub(r"label: \{en: Question[^}]*\}", "label: {en: Question}", text)
    parsed = parse(text)
    assert parsed.statuses["scheduled"].labels == {
        "en": "Scheduled",
        "nl": "Ingepland",
        "fr": "Scheduled",
        "de": "Eingeplant",
    }
    assert parsed.types["question"].labels == dict.fromkeys(rules.LANGUAGES, "Question")


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
            'customers.vandijk.sites.301: site ID must be 4 digits in quotes, e.g. "0420" (YAML read the number 301)',
            "301: DC Tilburg",
        ),
        (
            "        role: campus\n        campus: Oostende",
            "        role: campus\n        campus: Oostend",
            "customers.zonnebloem.contacts.2.campus: unknown campus 'Oostend' (did you mean 'Oostende'?)",
            "campus: Oostend",
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
            "priority.matrix.individual.low: is missing: "
            "the matrix needs a level for individual impact with low urgency",
            "individual: {high: P3, medium: P4}",
        ),
        (
            "    company:    {high: P1,",
            "    company:    {high: P0,",
            "priority.matrix.company.high: 'P0' is not valid (expected one of: P1, P2, P3, P4)",
            "company:    {high: P0",
        ),
        (
            "    next: [open]",
            "    next: [opne]",
            "statuses.closed.next.0: 'opne' is not valid (did you mean 'open'?)",
            "next: [opne]",
        ),
        ("teams:", "team:", "team: unknown key (did you mean 'teams'?)", "team:"),
        (
            "  - name: hardware",
            "  - name: Hardware, printers",
            "exclusions.0.name: exclusion name 'Hardware, printers' must be lowercase letters, digits and dashes",
            "- name: Hardware, printers",
        ),
    ],
)
def test_invalid_rules_name_the_key_the_line_and_a_fix(old, new, message, reported_line):
    assert old in EXAMPLE
    broken = EXAMPLE.replace(old, new, 1)
    found = problems(broken)
    error = next((error for error in found if error.message == message), None)
    assert error is not None, [str(error) for error in found]
    assert broken.splitlines()[error.line - 1].strip().startswith(reported_line)


def test_every_problem_is_reported_not_only_the_first():
    broken = EXAMPLE.replace("  timezone: Europe/Brussels", "  timezone: Mars/Olympus").replace(
        "    plan: standard\n", "    plan: gold\n", 1
    )
    with pytest.raises(Invalid) as caught:
        parse(broken)
    assert [str(problem) for problem in caught.value.problems] == [
        "customers.zonnebloem.plan: 'gold' is not valid (expected one of: standard, 24x7, managed-services)",
        "desk.timezone: unknown time zone 'Mars/Olympus' (e.g. Europe/Brussels)",
    ]


def test_yaml_syntax_error_names_the_line_where_the_unclosed_bracket_opens():
    with pytest.raises(InvalidData) as caught:
        yamlio.load("desk:\n  name: [unclosed\nteams: {}\n", Path("rules.yaml"))
    assert str(caught.value).startswith("rules.yaml:2:9: invalid YAML")


def test_a_misspelt_adjustment_is_one_problem_with_a_suggestion():
    broken = EXAMPLE.replace("      at_least: P2", "      at_leest: P2", 1)
    assert [error.message for error in problems(broken)] == [
        "priority.adjustments.0.at_leest: unknown key (did you mean 'at_least'?)"
    ]


def test_an_adjustment_without_any_action_says_so_even_next_to_an_unrelated_unknown_key():
    broken = EXAMPLE.replace("      at_least: P2", "      colour: red", 1)
    assert [error.message for error in problems(broken)] == [
        "priority.adjustments.0: give exactly one of raise, lower, at_least, at_most, set (found 0)",
        "priority.adjustments.0.colour: unknown key "
        "(expected one of: name, description, when, raise, lower, at_least, at_most, set)",
    ]
