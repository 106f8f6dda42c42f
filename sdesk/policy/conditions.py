"""The condition language of rules.yaml: readable in a diff, evaluated without eval.

A condition is a mapping. ``all`` and ``any`` take a list of conditions,
``not`` takes one; every other key names a field and gives its test::

    category: network                         # equals
    category: {in: [network, wan]}            # one of
    text: {matches: '\\b(printer|scanner)\\b'}  # regular expression (RE2), case-insensitive
    site: {set: true}                         # filled in (or, with false, empty)
    business_critical: true                   # a yes/no fact

Patterns run on RE2, whose matching time grows linearly with the text: a
pattern such as ``^(a+)+$`` cannot stall ``sdesk new`` on a crafted title, as
it would with a backtracking engine. RE2 has no backreferences or lookaround
(``rules check`` says so), and its ``\\b`` counts ASCII letters and digits as
word characters.

Several fields in one mapping must all hold. Fields and their values are
checked when rules.yaml is read (a typo is an error with a suggestion, not a
rule that silently never fires), and evaluation returns the facts that
decided the outcome, so every decision can explain itself. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import re2
from msgspec import Struct

from sdesk.errors import excerpt
from sdesk.formats import declare, reader
from sdesk.formats.patterns import anchored
from sdesk.formats.reader import KeyPath, Problems

# `text` searches these three fields, the words a customer uses to describe a problem.
TEXT_SOURCES = ("title", "description", "error_message")
TEXT = "text"
OPERATORS = ("equals", "in", "matches", "set")
COMBINATORS = ("all", "any", "not")
MAX_DEPTH = 32
# Matching costs text length × pattern size: both are bounded, so no rule and no ticket can stall the desk.
MAX_PROGRAM = 2_000  # RE2's size of a compiled pattern; the example desk's largest is under 100
MATCHED_CHARS = 100_000  # of each field a pattern looks at
_PATTERN_OPTIONS = re2.Options()
_PATTERN_OPTIONS.case_sensitive = False
_PATTERN_OPTIONS.log_errors = False  # a bad pattern is reported by rules check, not logged on stderr

Facts = Mapping[str, str | bool | None]
Values = Mapping[str, str | None]  # a ticket's field values, before the facts that follow from them


class Field(Struct, frozen=True):
    """What a condition may say about a field: free text, one of some words, or yes/no."""

    kind: str  # "text", "choice" or "flag"
    values: tuple[str, ...] = ()


class Outcome(Struct, frozen=True):
    passed: bool
    reasons: tuple[str, ...]


class Test(Struct, frozen=True):
    """One field compared with the ``operator``'s operand."""

    field: str
    operator: str
    values: tuple[str | bool, ...] = ()
    pattern: re2._Regexp | None = None

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(TEXT_SOURCES) if self.field == TEXT else frozenset({self.field})

    def evaluate(self, facts: Facts) -> Outcome:
        if self.pattern is not None:
            return self._search(facts, self.pattern)
        value = facts.get(self.field)
        if self.operator == "set":
            filled = value not in (None, "")
            shown = f"{self.field} is set ({_show(value)})" if filled else f"{self.field} is not set"
            return Outcome(filled == self.values[0], (shown,))
        if self.operator == "equals":
            wanted = self.values[0]
            if value == wanted:
                return Outcome(True, (f"{self.field} is {_show(value)}",))
            return Outcome(False, (f"{self.field} is {_show(value)}, not {_show(wanted)}",))
        listed = ", ".join(_show(item) for item in self.values)
        if value in self.values:
            return Outcome(True, (f"{self.field} is {_show(value)}, one of {listed}",))
        return Outcome(False, (f"{self.field} is {_show(value)}, not one of {listed}",))

    def _search(self, facts: Facts, pattern: re2._Regexp) -> Outcome:
        sources = TEXT_SOURCES if self.field == TEXT else (self.field,)
        found = []
        for source in sources:
            value = facts.get(source)
            match = pattern.search(value[:MATCHED_CHARS]) if isinstance(value, str) else None
            if match:
                found.append(f"{source} contains '{match.group(0)}'")
        if found:
            return Outcome(True, tuple(found))
        where = "title, description or error message" if self.field == TEXT else self.field
        return Outcome(False, (f"no match for /{pattern.pattern}/ in {where}",))


class AllOf(Struct, frozen=True):
    parts: tuple[Condition, ...]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset().union(*(part.fields for part in self.parts))

    def evaluate(self, facts: Facts) -> Outcome:
        return _combined([part.evaluate(facts) for part in self.parts], all)


class AnyOf(Struct, frozen=True):
    parts: tuple[Condition, ...]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset().union(*(part.fields for part in self.parts))

    def evaluate(self, facts: Facts) -> Outcome:
        return _combined([part.evaluate(facts) for part in self.parts], any)


def _combined(outcomes: list[Outcome], rule: Callable[[Iterable[bool]], bool]) -> Outcome:
    """The reasons that decided: for a pass the facts that held, for a fail the ones that did not."""
    passed = rule(outcome.passed for outcome in outcomes)
    deciding = [outcome for outcome in outcomes if outcome.passed == passed]
    return Outcome(passed, tuple(reason for outcome in deciding for reason in outcome.reasons))


class Not(Struct, frozen=True):
    part: Condition

    @property
    def fields(self) -> frozenset[str]:
        return self.part.fields

    def evaluate(self, facts: Facts) -> Outcome:
        inner = self.part.evaluate(facts)
        return Outcome(not inner.passed, inner.reasons)


Condition = Test | AllOf | AnyOf | Not


def parse(data: Any, keypath: KeyPath, fields: Mapping[str, Field], problems: Problems) -> Condition | None:
    """Read a condition, recording every problem; None when it does not validate."""
    count = len(problems.found)
    condition = _condition(data, keypath, fields, problems)
    return condition if len(problems.found) == count else None


def _condition(
    data: Any, keypath: KeyPath, fields: Mapping[str, Field], problems: Problems, depth: int = 0
) -> Condition | None:
    if depth > MAX_DEPTH:  # a policy never needs this; a hostile one would exhaust the stack
        problems.add(keypath, f"nested more than {MAX_DEPTH} levels deep: simplify the condition")
        return None
    if not isinstance(data, dict) or not data:
        problems.add(
            keypath, f"expected a condition (a mapping such as {{category: network}}), got {reader.describe(data)}"
        )
        return None
    combinators = [key for key in data if key in COMBINATORS]
    if combinators and len(data) > 1:
        problems.add(
            keypath + (combinators[0],),
            f"'{combinators[0]}' stands alone in its mapping: put the other tests inside it",
        )
        return None
    if combinators:
        key = combinators[0]
        value = data[key]
        if key == "not":
            inner = _condition(value, keypath + ("not",), fields, problems, depth + 1)
            return Not(inner) if inner is not None else None
        if not isinstance(value, list) or not value:
            problems.add(keypath + (key,), f"'{key}' takes a list of conditions, got {reader.describe(value)}")
            return None
        parts = [
            _condition(item, keypath + (key, index), fields, problems, depth + 1) for index, item in enumerate(value)
        ]
        kept = tuple(part for part in parts if part is not None)
        return (AllOf(kept) if key == "all" else AnyOf(kept)) if len(kept) == len(parts) else None
    tests = [_test(str(name), value, keypath + (name,), fields, problems) for name, value in data.items()]
    kept_tests = tuple(test for test in tests if test is not None)
    if len(kept_tests) != len(tests):
        return None
    return kept_tests[0] if len(kept_tests) == 1 else AllOf(kept_tests)


def _test(name: str, value: Any, keypath: KeyPath, fields: Mapping[str, Field], problems: Problems) -> Test | None:
    known = [*fields, TEXT, *COMBINATORS]
    if name not in fields and name != TEXT:
        problems.add(keypath, f"unknown field{reader.one_of(name, known)}")
        return None
    field = fields.get(name, Field("text"))
    if isinstance(value, dict):
        if len(value) != 1:
            operators = ", ".join(OPERATORS)
            problems.add(keypath, f"give one test: a value, or a mapping with one of {operators}")
            return None
        if next(iter(value)) not in OPERATORS:
            operator = next(iter(value))
            problems.add(keypath + (operator,), f"unknown test{reader.one_of(operator, OPERATORS)}")
            return None
        operator, operand = next(iter(value.items()))
        keypath = keypath + (operator,)
    else:
        operator, operand = "equals", value
    if name == TEXT and operator != "matches":
        problems.add(keypath, "'text' (title, description and error message) is tested with matches: REGEX")
        return None
    if operator == "matches":
        return _pattern(name, operand, keypath, field, problems)
    if operator == "set":
        if not isinstance(operand, bool):
            problems.add(keypath, f"'set' takes true or false, got {reader.describe(operand)}")
            return None
        return Test(name, "set", (operand,))
    operands = operand if operator == "in" else [operand]
    if operator == "in" and (not isinstance(operand, list) or not operand):
        problems.add(keypath, f"'in' takes a list of values, got {reader.describe(operand)}")
        return None
    values = [
        _value(item, keypath + ((index,) if operator == "in" else ()), name, field, problems)
        for index, item in enumerate(operands)
    ]
    kept = tuple(item for item in values if item is not None)
    return Test(name, operator, kept) if len(kept) == len(values) else None


def _pattern(name: str, operand: Any, keypath: KeyPath, field: Field, problems: Problems) -> Test | None:
    if field.kind == "flag":
        problems.add(keypath, f"'{name}' is yes or no: compare it with true or false, not a pattern")
        return None
    if not isinstance(operand, str) or not operand:
        problems.add(keypath, f"'matches' takes a regular expression, got {reader.describe(operand)}")
        return None
    shown = excerpt(operand, 80)[1:-1]
    try:
        pattern = re2.compile(operand, _PATTERN_OPTIONS)
    except re2.error as error:
        problems.add(keypath, f"bad regular expression /{shown}/: {_reason(error, operand)}")
        return None
    if pattern.programsize > MAX_PROGRAM:
        problems.add(
            keypath,
            f"regular expression /{shown}/ is too complex ({pattern.programsize:,} steps, at most "
            f"{MAX_PROGRAM:,}): every ticket would pay for it; write it simpler",
        )
        return None
    return Test(name, "matches", pattern=pattern)


def _reason(error: re2.error, pattern: str) -> str:
    """RE2's "missing ]: [" as "missing ] at position 7": the part it quotes starts where it went wrong.

    When it quotes the whole pattern ("missing ): (printer") it knows no better place, nor do we.
    """
    message = error.args[0].decode("utf-8", "replace") if error.args else "cannot compile"
    reason, _, fragment = message.partition(": ")
    if fragment == pattern:
        return reason
    position = pattern.rfind(fragment) if fragment else -1
    return f"{reason} at position {position}" if position >= 0 else message


def _value(item: Any, keypath: KeyPath, name: str, field: Field, problems: Problems) -> str | bool | None:
    if field.kind == "flag":
        if isinstance(item, bool):
            return item
        problems.add(keypath, f"'{name}' is yes or no: use true or false, got {reader.describe(item)}")
        return None
    if isinstance(item, (bool, dict, list)) or item is None:
        problems.add(keypath, f"expected a value for '{name}', got {reader.describe(item)}")
        return None
    text = str(item)
    if field.kind == "choice" and text not in field.values:
        problems.add(keypath, reader.unknown(name, text, field.values))
        return None
    return text


def _show(value: str | bool | None) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"'{value}'"


# --- the language in a file's declaration -------------------------------------------------------


class Language(declare.Node):
    """Conditions in the declaration of rules.yaml.

    :func:`parse` reads a condition once the desk's vocabulary is known (the
    categories, products … its tests may name), so the shape pass hands it on
    untouched. The schema comes from the tables parse() reads by: COMBINATORS,
    OPERATORS, TEXT and each field's kind. ``fields`` gives every field's kind
    with its fixed vocabulary, or none where the desk declares the values
    (names of the form ``names``). A condition holds conditions: ``whole``
    is the definition the schema refers back to.
    """

    def __init__(self, whole: declare.Definition, fields: Mapping[str, Field], names: re.Pattern[str]) -> None:
        self.whole = whole
        self.fields = dict(fields)
        self.names = names

    def claims(self, value: Any) -> bool:
        return isinstance(value, dict)

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        return value

    def schema(self, defs: declare.Definitions) -> declare.Schema:
        conditions = {"type": "array", "items": self.whole.ref, "minItems": 1}
        tests = {name: self._test(name, field, defs) for name, field in self.fields.items()}
        tests[TEXT] = _alone("matches", _PATTERN_SCHEMA)
        return {
            "description": "Tests on fields (all must hold), or one of all / any / not.",
            "anyOf": [
                _alone("all", conditions),
                _alone("any", conditions),
                _alone("not", self.whole.ref),
                {"type": "object", "properties": tests, "additionalProperties": False, "minProperties": 1},
            ],
        }

    def _test(self, name: str, field: Field, defs: declare.Definitions) -> declare.Schema:
        """A reference to the test of fields of ``field``'s kind (kept once under $defs)."""
        kind = f"{name}-test" if field.values else f"{field.kind}-test"
        defs.setdefault(kind, self._operators(field))
        return {"$ref": f"#/$defs/{kind}"}

    def _operators(self, field: Field) -> declare.Schema:
        """A value (equals), or a mapping with one operator."""
        value: declare.Schema
        if field.kind == "flag":
            value = {"type": "boolean"}
        elif field.kind == "choice" and field.values:
            value = {"enum": list(field.values)}
        elif field.kind == "choice":
            value = {"type": ["string", "number"], "pattern": anchored(self.names)}
        else:
            value = {"type": ["string", "number"]}
        operands = {
            "equals": value,
            "in": {"type": "array", "items": value, "minItems": 1},
            "matches": _PATTERN_SCHEMA,
            "set": {"type": "boolean"},
        }
        if field.kind == "flag":
            del operands["matches"]
        one = {"type": "object", "properties": operands, "additionalProperties": False}
        return {"anyOf": [value, {**one, "minProperties": 1, "maxProperties": 1}]}


_PATTERN_SCHEMA = {"type": "string", "minLength": 1}  # whether RE2 compiles it is for parse() to say


def _alone(key: str, schema: declare.Schema) -> declare.Schema:
    return {"type": "object", "properties": {key: schema}, "required": [key], "additionalProperties": False}
