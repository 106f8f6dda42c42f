"""The condition language of rules.yaml: what each test says, how it combines, how it fails to parse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sdesk.formats import yamlio
from sdesk.formats.reader import Problems
from sdesk.policy import conditions
from sdesk.policy.conditions import Field

# A small desk of our own, so these tests do not move when the example rules.yaml does.
FIELDS = {
    "category": Field("choice", ("network", "hardware", "backup")),
    "urgency": Field("choice", ("high", "medium", "low")),
    "business_critical": Field("flag"),
    "site": Field("text"),
    "title": Field("text"),
    "description": Field("text"),
    "error_message": Field("text"),
}
WHERE = ("exclusions", 0, "when")
A_CONDITION = "expected a condition (a mapping such as {category: network})"


def parse(data: Any) -> conditions.Condition:
    problems = Problems()
    condition = conditions.parse(data, WHERE, FIELDS, problems)
    assert [str(problem) for problem in problems.found] == []
    assert condition is not None
    return condition


def problems_of(data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    problems = Problems()
    condition = conditions.parse(data, WHERE, FIELDS, problems)
    assert condition is None, "a condition with problems must not be returned"
    return [(problem.keypath, problem.message) for problem in problems.found]


# --- each test, passing and failing, with the reasons an agent reads -----------------------


@pytest.mark.parametrize(
    ("data", "facts", "passed", "reasons"),
    [
        pytest.param({"category": "network"}, {"category": "network"}, True, ["category is 'network'"], id="equals"),
        pytest.param(
            {"category": "network"},
            {"category": "hardware"},
            False,
            ["category is 'hardware', not 'network'"],
            id="equals-other-value",
        ),
        pytest.param(
            {"category": "network"}, {}, False, ["category is not set, not 'network'"], id="equals-field-not-set"
        ),
        pytest.param(
            {"category": {"equals": "network"}},
            {"category": "network"},
            True,
            ["category is 'network'"],
            id="equals-spelled-out",
        ),
        pytest.param(
            {"category": {"in": ["network", "backup"]}},
            {"category": "backup"},
            True,
            ["category is 'backup', one of 'network', 'backup'"],
            id="in",
        ),
        pytest.param(
            {"category": {"in": ["network", "backup"]}},
            {"category": "hardware"},
            False,
            ["category is 'hardware', not one of 'network', 'backup'"],
            id="in-other-value",
        ),
        pytest.param(
            {"category": {"in": ["network", "backup"]}},
            {"category": None},
            False,
            ["category is not set, not one of 'network', 'backup'"],
            id="in-field-not-set",
        ),
        pytest.param({"site": {"set": True}}, {"site": "2101"}, True, ["site is set ('2101')"], id="set-true"),
        pytest.param({"site": {"set": True}}, {"site": None}, False, ["site is not set"], id="set-true-missing"),
        pytest.param({"site": {"set": True}}, {"site": ""}, False, ["site is not set"], id="set-true-empty-text"),
        pytest.param({"site": {"set": False}}, {}, True, ["site is not set"], id="set-false"),
        pytest.param(
            {"site": {"set": False}}, {"site": "2101"}, False, ["site is set ('2101')"], id="set-false-filled"
        ),
        pytest.param(
            {"business_critical": True}, {"business_critical": True}, True, ["business_critical is true"], id="flag"
        ),
        pytest.param(
            {"business_critical": True},
            {"business_critical": False},
            False,
            ["business_critical is false, not true"],
            id="flag-other-value",
        ),
        pytest.param(
            {"business_critical": True},
            {"business_critical": None},
            False,
            ["business_critical is not set, not true"],
            id="flag-not-known",
        ),
        pytest.param(
            {"business_critical": False},
            {"business_critical": False},
            True,
            ["business_critical is false"],
            id="flag-false",
        ),
        pytest.param(
            {"title": {"matches": "print(er)?"}},
            {"title": "Printer op 2B drukt niet af"},
            True,
            ["title contains 'Printer'"],
            id="matches-one-field",
        ),
        pytest.param(
            {"title": {"matches": "printer"}},
            {"title": "Zorgdossier traag", "description": "de printer is ok"},
            False,
            ["no match for /printer/ in title"],
            id="matches-one-field-only-looks-there",
        ),
        pytest.param(
            {"category": {"matches": "^net"}},
            {"category": "network"},
            True,
            ["category contains 'net'"],
            id="matches-on-a-choice-field",
        ),
    ],
)
def test_each_test_passes_or_fails_with_the_facts_that_decided(data, facts, passed, reasons):
    outcome = parse(data).evaluate(facts)
    assert outcome == conditions.Outcome(passed, tuple(reasons))


HARDWARE = r"\b(printer|scanner)\b"


@pytest.mark.parametrize(
    ("facts", "passed", "reasons"),
    [
        pytest.param({"title": "De printer drukt niet af"}, True, ["title contains 'printer'"], id="title"),
        pytest.param(
            {"title": "Storing", "description": "Sinds vanmorgen scant de scanner niet meer"},
            True,
            ["description contains 'scanner'"],
            id="description",
        ),
        pytest.param(
            {"title": "Foutmelding", "error_message": "E1042: printer offline"},
            True,
            ["error_message contains 'printer'"],
            id="error-message",
        ),
        pytest.param(
            {"title": "Printer", "description": "ook de scanner", "error_message": "printer offline"},
            True,
            ["title contains 'Printer'", "description contains 'scanner'", "error_message contains 'printer'"],
            id="every-field-that-matched",
        ),
        pytest.param(
            {"title": "Zorgdossier opent niet", "description": "Foutmelding bij openen"},
            False,
            [rf"no match for /{HARDWARE}/ in title, description or error message"],
            id="no-match",
        ),
        pytest.param(
            {"title": "Zorgdossier opent niet", "site": "printer", "url": "https://printer.example/"},
            False,
            [rf"no match for /{HARDWARE}/ in title, description or error message"],
            id="other-fields-are-not-searched",
        ),
        pytest.param(
            {"title": "De printers staan uit"},
            False,
            [rf"no match for /{HARDWARE}/ in title, description or error message"],
            id="word-boundaries-hold",
        ),
    ],
)
def test_text_searches_title_description_and_error_message(facts, passed, reasons):
    outcome = parse({"text": {"matches": HARDWARE}}).evaluate(facts)
    assert outcome == conditions.Outcome(passed, tuple(reasons))


@pytest.mark.parametrize(
    ("pattern", "title", "found"),
    [
        ("PRINTER", "de printer is stuk", "printer"),
        ("printer", "DE PRINTER IS STUK", "PRINTER"),
        ("[a-z]+ offline", "Printer OFFLINE", "Printer OFFLINE"),
        ("één scherm", "ÉÉN SCHERM blijft zwart", "ÉÉN SCHERM"),
    ],
)
def test_regular_expressions_ignore_case_and_report_the_text_as_written(pattern, title, found):
    outcome = parse({"title": {"matches": pattern}}).evaluate({"title": title})
    assert outcome == conditions.Outcome(True, (f"title contains '{found}'",))


def test_a_pattern_read_from_yaml_keeps_its_backslashes():
    data = yamlio.load(r"text: {matches: '\b(printer|scanner)\b'}", Path("rules.yaml"))
    condition = parse(data)
    assert condition.evaluate({"title": "scanner hapert"}).passed
    assert not condition.evaluate({"title": "bscanners"}).passed


# --- all, any, not: the outcome and which reasons are kept ----------------------------------

NETWORK_AND_HIGH = {"all": [{"category": "network"}, {"urgency": "high"}]}
NETWORK_OR_HIGH = {"any": [{"category": "network"}, {"urgency": "high"}]}


@pytest.mark.parametrize(
    ("data", "facts", "passed", "reasons"),
    [
        pytest.param(
            NETWORK_AND_HIGH,
            {"category": "network", "urgency": "high"},
            True,
            ["category is 'network'", "urgency is 'high'"],
            id="all-holds-every-fact-counts",
        ),
        pytest.param(
            NETWORK_AND_HIGH,
            {"category": "network", "urgency": "low"},
            False,
            ["urgency is 'low', not 'high'"],
            id="all-fails-only-the-failing-fact",
        ),
        pytest.param(
            NETWORK_AND_HIGH,
            {"category": "backup", "urgency": "low"},
            False,
            ["category is 'backup', not 'network'", "urgency is 'low', not 'high'"],
            id="all-fails-every-failing-fact",
        ),
        pytest.param(
            {"category": "network", "urgency": "high"},
            {"category": "network", "urgency": "low"},
            False,
            ["urgency is 'low', not 'high'"],
            id="several-fields-in-one-mapping-are-all",
        ),
        pytest.param(
            {"category": "network", "urgency": "high"},
            {"category": "network", "urgency": "high"},
            True,
            ["category is 'network'", "urgency is 'high'"],
            id="several-fields-in-one-mapping-hold",
        ),
        pytest.param(
            NETWORK_OR_HIGH,
            {"category": "hardware", "urgency": "high"},
            True,
            ["urgency is 'high'"],
            id="any-holds-only-the-fact-that-held",
        ),
        pytest.param(
            NETWORK_OR_HIGH,
            {"category": "network", "urgency": "high"},
            True,
            ["category is 'network'", "urgency is 'high'"],
            id="any-holds-every-fact-that-held",
        ),
        pytest.param(
            NETWORK_OR_HIGH,
            {"category": "hardware", "urgency": "low"},
            False,
            ["category is 'hardware', not 'network'", "urgency is 'low', not 'high'"],
            id="any-fails-every-fact",
        ),
        pytest.param(
            {"not": {"category": "network"}},
            {"category": "hardware"},
            True,
            ["category is 'hardware', not 'network'"],
            id="not-holds",
        ),
        pytest.param(
            {"not": {"category": "network"}},
            {"category": "network"},
            False,
            ["category is 'network'"],
            id="not-fails",
        ),
        pytest.param(
            {"not": {"text": {"matches": "printer"}}},
            {"title": "printer stuk"},
            False,
            ["title contains 'printer'"],
            id="not-of-a-match",
        ),
        pytest.param(
            {"not": NETWORK_OR_HIGH},
            {"category": "hardware", "urgency": "low"},
            True,
            ["category is 'hardware', not 'network'", "urgency is 'low', not 'high'"],
            id="not-of-any",
        ),
        pytest.param(
            {
                "all": [
                    {"any": [{"category": "network"}, {"text": {"matches": "wifi"}}]},
                    {"not": {"business_critical": True}},
                ]
            },
            {"category": "hardware", "title": "Wifi valt weg", "business_critical": False},
            True,
            ["title contains 'Wifi'", "business_critical is false, not true"],
            id="nested",
        ),
        pytest.param(
            {
                "all": [
                    {"any": [{"category": "network"}, {"text": {"matches": "wifi"}}]},
                    {"not": {"business_critical": True}},
                ]
            },
            {"category": "network", "title": "Wifi valt weg", "business_critical": True},
            False,
            ["business_critical is true"],
            id="nested-fails-on-the-not",
        ),
    ],
)
def test_all_any_and_not(data, facts, passed, reasons):
    outcome = parse(data).evaluate(facts)
    assert outcome == conditions.Outcome(passed, tuple(reasons))


# --- the inputs a condition reads --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"category": "network"}, {"category"}),
        ({"site": {"set": True}}, {"site"}),
        ({"title": {"matches": "x"}}, {"title"}),
        ({"text": {"matches": "x"}}, {"title", "description", "error_message"}),
        ({"category": "network", "urgency": "high"}, {"category", "urgency"}),
        ({"not": {"business_critical": True}}, {"business_critical"}),
        (
            {"any": [{"text": {"matches": "x"}}, {"all": [{"site": {"set": True}}, {"not": {"urgency": "low"}}]}]},
            {"title", "description", "error_message", "site", "urgency"},
        ),
    ],
)
def test_fields_are_the_inputs_a_condition_reads(data, fields):
    assert parse(data).fields == frozenset(fields)


# --- parse errors: the key path and a message that says what to write ---------------------------


@pytest.mark.parametrize(
    ("data", "keypath", "message"),
    [
        pytest.param(
            {"categroy": "network"}, ("categroy",), "unknown field (did you mean 'category'?)", id="field-typo"
        ),
        pytest.param(
            {"colour": "red"},
            ("colour",),
            "unknown field (expected one of: category, urgency, business_critical, site, title, description,"
            " error_message, text, all, any, not)",
            id="field-unknown",
        ),
        pytest.param({"nto": {"category": "network"}}, ("nto",), "unknown field (did you mean 'not'?)", id="not-typo"),
        pytest.param(
            {"category": "netwrok"}, ("category",), "unknown category 'netwrok' (did you mean 'network'?)", id="value"
        ),
        pytest.param(
            {"category": {"in": ["network", "hardwear"]}},
            ("category", "in", 1),
            "unknown category 'hardwear' (did you mean 'hardware'?)",
            id="value-in-list",
        ),
        pytest.param(
            {"urgency": "critical"},
            ("urgency",),
            "unknown urgency 'critical' (expected one of: high, medium, low)",
            id="value-unknown",
        ),
        pytest.param(
            {"text": {"matches": "(printer|scanner"}},
            ("text", "matches"),
            "bad regular expression /(printer|scanner/: missing )",
            id="regex-unclosed-group",
        ),
        pytest.param(
            {"title": {"matches": "printer["}},
            ("title", "matches"),
            "bad regular expression /printer[/: missing ] at position 7",
            id="regex-unclosed-set",
        ),
        pytest.param(
            {"title": {"matches": ""}},
            ("title", "matches"),
            "'matches' takes a regular expression, got ''",
            id="regex-empty",
        ),
        pytest.param(
            {"category": {"in": "network"}},
            ("category", "in"),
            "'in' takes a list of values, got 'network'",
            id="in-not-a-list",
        ),
        pytest.param(
            {"site": {"set": "yes"}}, ("site", "set"), "'set' takes true or false, got 'yes'", id="set-not-a-bool"
        ),
        pytest.param(
            {"business_critical": "true"},
            ("business_critical",),
            "'business_critical' is yes or no: use true or false, got 'true'",
            id="flag-with-a-string",
        ),
        pytest.param(
            {"business_critical": {"in": [True, "no"]}},
            ("business_critical", "in", 1),
            "'business_critical' is yes or no: use true or false, got 'no'",
            id="flag-in-list-with-a-string",
        ),
        pytest.param(
            {"business_critical": {"matches": "true"}},
            ("business_critical", "matches"),
            "'business_critical' is yes or no: compare it with true or false, not a pattern",
            id="flag-with-a-pattern",
        ),
        pytest.param(
            {"all": [{"category": "network"}], "urgency": "high"},
            ("all",),
            "'all' stands alone in its mapping: put the other tests inside it",
            id="all-beside-a-field",
        ),
        pytest.param(
            {"urgency": "high", "not": {"category": "network"}},
            ("not",),
            "'not' stands alone in its mapping: put the other tests inside it",
            id="not-beside-a-field",
        ),
        pytest.param(
            {"all": {"category": "network"}},
            ("all",),
            "'all' takes a list of conditions, got a mapping",
            id="all-with-a-mapping",
        ),
        pytest.param({"any": ["network"]}, ("any", 0), f"{A_CONDITION}, got 'network'", id="any-with-a-bare-value"),
        pytest.param({"not": [{"category": "network"}]}, ("not",), f"{A_CONDITION}, got a list", id="not-with-a-list"),
        pytest.param("category: network", (), f"{A_CONDITION}, got 'category: network'", id="not-a-mapping"),
        pytest.param(None, (), f"{A_CONDITION}, got nothing", id="nothing"),
        pytest.param(
            {"text": "printer"},
            ("text",),
            "'text' (title, description and error message) is tested with matches: REGEX",
            id="text-with-a-value",
        ),
        pytest.param(
            {"text": {"equals": "printer"}},
            ("text", "equals"),
            "'text' (title, description and error message) is tested with matches: REGEX",
            id="text-with-equals",
        ),
        pytest.param(
            {"category": {"contains": "net"}},
            ("category", "contains"),
            "unknown test (expected one of: equals, in, matches, set)",
            id="unknown-operator",
        ),
        pytest.param(
            {"category": {"inn": ["network"]}},
            ("category", "inn"),
            "unknown test (did you mean 'in'?)",
            id="misspelt-operator",
        ),
        pytest.param(
            {"category": {"equals": "network", "in": ["backup"]}},
            ("category",),
            "give one test: a value, or a mapping with one of equals, in, matches, set",
            id="two-operators",
        ),
        pytest.param(
            {"category": None}, ("category",), "expected a value for 'category', got nothing", id="value-missing"
        ),
        pytest.param(
            {"category": ["network", "backup"]},
            ("category",),
            "expected a value for 'category', got a list",
            id="list-without-in",
        ),
    ],
)
def test_parse_error_names_the_key_path_and_says_what_to_write(data, keypath, message):
    assert problems_of(data) == [(WHERE + keypath, message)]


def test_an_empty_mapping_is_not_a_condition():
    [(keypath, message)] = problems_of({})
    assert keypath == WHERE
    assert message.startswith(A_CONDITION)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="empty-condition"),
        pytest.param({"all": []}, id="empty-all"),
        pytest.param({"category": {"in": []}}, id="empty-in"),
    ],
)
def test_an_empty_mapping_or_list_is_called_empty(data):
    [(_, message)] = problems_of(data)
    assert not message.endswith(("got a mapping", "got a list")), message


def test_parse_records_every_problem_of_one_condition():
    assert problems_of({"categroy": "network", "urgancy": "high"}) == [
        (WHERE + ("categroy",), "unknown field (did you mean 'category'?)"),
        (WHERE + ("urgancy",), "unknown field (did you mean 'urgency'?)"),
    ]


def test_parse_records_every_problem_inside_combinators_in_document_order():
    data = {
        "all": [
            {"category": {"in": ["netwrok", "backup", "hardwear"]}},
            {"any": [{"text": {"matches": "(printer"}}, {"urgency": "high"}]},
            {"not": {"business_critical": "yes"}},
        ]
    }
    assert problems_of(data) == [
        (WHERE + ("all", 0, "category", "in", 0), "unknown category 'netwrok' (did you mean 'network'?)"),
        (WHERE + ("all", 0, "category", "in", 2), "unknown category 'hardwear' (did you mean 'hardware'?)"),
        (
            WHERE + ("all", 1, "any", 0, "text", "matches"),
            "bad regular expression /(printer/: missing )",
        ),
        (
            WHERE + ("all", 2, "not", "business_critical"),
            "'business_critical' is yes or no: use true or false, got 'yes'",
        ),
    ]


def test_earlier_problems_in_the_document_do_not_reject_a_valid_condition():
    problems = Problems()
    problems.add(("desk", "name"), "must not be empty")
    condition = conditions.parse({"category": "network"}, WHERE, FIELDS, problems)
    assert condition is not None and condition.evaluate({"category": "network"}).passed
    assert len(problems.found) == 1
