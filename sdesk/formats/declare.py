"""One declaration of a file format, from which its strict reader and its JSON Schema both come.

A format (rules.yaml, a ticket file, an announcement) is declared once, as a
tree of nodes, next to the code that owns it. Every node can

* read a value strictly at its key path, recording each problem in a
  :class:`~sdesk.formats.reader.Problems` with the messages users know
  (did-you-mean included), and hand back the value made plain for the code
  that builds typed objects from it; and
* describe itself as a JSON Schema fragment, which
  :mod:`sdesk.formats.jsonschema` assembles for editors.

So the shape an editor underlines and the shape ``sdesk rules check``
refuses cannot drift apart (tests/test_formats.py holds every example and
every refusal to both). What the declaration cannot say (a team that routing
names must be declared, a status must be reachable) is code that runs after
this shape pass; the schema accepts those, by design.

What a read hands back: a record leaves out the keys that failed or hold
nothing (``~``, or "" where text goes), and fills in declared defaults; a
list left as ``~`` is empty. Lists and mappings keep their places, with None
where a value failed; a mapping leaves out an entry whose name failed,
unless told to keep it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar, Final

from msgspec import Struct

from sdesk.errors import excerpt, shortened
from sdesk.formats import reader
from sdesk.formats.patterns import NOT_SPACE, Grammar, anchored
from sdesk.formats.reader import KeyPath, Problems, SchemaError, describe

Schema = dict[str, Any]
Definitions = dict[str, Schema]  # the schema's $defs, filled in as nodes are described


class _Failed:
    def __repr__(self) -> str:
        return "FAILED"


FAILED: Final = _Failed()  # what a scalar node reads when it recorded a problem instead


class Node(ABC):
    """A value's declared shape."""

    # An optional key holding "" is as if it were absent (text of any kind); elsewhere "" is a value to judge.
    blank_is_absent: ClassVar[bool] = False

    @abstractmethod
    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        """The value, made plain; FAILED (or, for a container, what could be read) after recording why."""

    def read_optional(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        """The value of an optional key that holds something."""
        return self.read(value, keypath, problems)

    def nothing(self) -> Any:
        """What an optional key holding nothing (~) reads as: FAILED, as if it were absent (its default applies)."""
        return FAILED

    @abstractmethod
    def claims(self, value: Any) -> bool:
        """Is ``value`` of this node's kind (text, a number, a mapping, a list …)? :class:`OneOf` picks by it."""

    @abstractmethod
    def schema(self, defs: Definitions) -> Schema:
        """The JSON Schema of a value this node reads."""

    def optional_schema(self, defs: Definitions) -> Schema:
        """The JSON Schema of an optional key's value, which may be null."""
        return nullable(self.schema(defs))

    def key_schema(self, defs: Definitions) -> Schema:
        """The JSON Schema of a mapping key this node reads (keys are always text in JSON)."""
        return {key: value for key, value in self.schema(defs).items() if key != "type"}

    def children(self) -> Iterable[Node]:
        return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of a declaration once, the root first."""
    seen: set[int] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if id(current) not in seen:
            seen.add(id(current))
            yield current
            pending.extend(reversed(list(current.children())))


def nullable(schema: Schema) -> Schema:
    """``schema``, or null."""
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}
    if isinstance(schema.get("type"), list):
        return {**schema, "type": [*schema["type"], "null"]}
    if list(schema) == ["anyOf"]:
        return {"anyOf": [*schema["anyOf"], {"type": "null"}]}
    return {"anyOf": [schema, {"type": "null"}]}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- scalars ---------------------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


class Text(Node):
    """Text, not blank; YAML's numbers count as the text they were written as (a product named 2024).

    As an optional key's value any text is kept, blank or not, as sdesk always did.
    """

    blank_is_absent = True

    def __init__(self, *, numbers: bool = True) -> None:
        self.numbers = numbers

    def claims(self, value: Any) -> bool:
        return isinstance(value, str) or (self.numbers and _is_number(value))

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        text = self.read_optional(value, keypath, problems)
        if text is not FAILED and not text.strip():
            problems.add(keypath, "must not be empty")
            return FAILED
        return text

    def read_optional(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        if type(value) is str:
            surrogate = None if value.isascii() else _SURROGATE.search(value)
            if surrogate:  # JSON's \ud800 (an import): a file written with it would not read back
                problems.add(
                    keypath,
                    f"holds a lone surrogate ({surrogate[0].encode('unicode_escape').decode()}): no file holds it",
                )
                return FAILED
            return value
        if not self.claims(value):
            problems.add(keypath, f"expected text, got {describe(value)}")
            return FAILED
        return str(value)

    def _types(self) -> list[str]:
        return ["string", "number"] if self.numbers else ["string"]

    def schema(self, defs: Definitions) -> Schema:
        return {"type": self._types(), "pattern": NOT_SPACE}

    def optional_schema(self, defs: Definitions) -> Schema:
        return {"type": [*self._types(), "null"]}


class Wording(Text):
    """Text that is never blank, under an optional key too: a translation left blank would be shown blank,
    where one left out reads the English."""

    blank_is_absent = False

    def read_optional(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        text = super().read_optional(value, keypath, problems)
        if text is not FAILED and not text.strip():
            problems.add(keypath, "must not be empty (leave the language out to read the English)")
            return FAILED
        return text

    def optional_schema(self, defs: Definitions) -> Schema:
        return {"type": [*self._types(), "null"], "pattern": NOT_SPACE}


class Name(Text):
    """Text that names something declared elsewhere in the desk: a team, a plan, a site, a priority level.

    The shape pass reads it as text; whether it names something declared is a
    cross-check once the whole file is read. The schema checks what every such
    name looks like (``form``: a slug, four digits), which the cross-check implies.
    """

    def __init__(self, form: re.Pattern[str] | None = None) -> None:
        super().__init__()
        self.form = form

    def schema(self, defs: Definitions) -> Schema:
        return {"type": self._types(), "pattern": anchored(self.form) if self.form else NOT_SPACE}

    def optional_schema(self, defs: Definitions) -> Schema:
        if self.form is None:
            return super().optional_schema(defs)
        return {"type": [*self._types(), "null"], "pattern": _or_empty(self.form)}

    def key_schema(self, defs: Definitions) -> Schema:
        return {"pattern": anchored(self.form) if self.form else NOT_SPACE}


def _or_empty(pattern: Grammar) -> str:
    return rf"^(?:{pattern.pattern})?(?![\s\S])"


class Pattern(Node):
    """Text of a fixed form, matched whole: a target (4h), an opening window, a site ID, a ticket number.

    ``refusal`` says what is wrong, with ``{value}`` (the value's start, as written)
    or ``{shown}`` (it quoted and shortened). YAML reads 2101 as a number:
    ``numbers`` is the range of whole numbers taken as their digits (None:
    no upper bound), and ``number_refusal`` what to say of another number.
    """

    blank_is_absent = True

    def __init__(
        self,
        pattern: Grammar,
        refusal: str,
        *,
        numbers: tuple[int, int | None] | None = None,
        number_refusal: str | None = None,
    ) -> None:
        self.pattern = pattern
        self.refusal = refusal
        self.numbers = numbers
        self.number_refusal = number_refusal or refusal

    def claims(self, value: Any) -> bool:
        return isinstance(value, str)

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        if isinstance(value, str):
            if self.pattern.fullmatch(value):
                return value
            problems.add(keypath, self.refusal.format(value=shortened(value), shown=excerpt(value)))
        elif _is_number(value):
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # 2101.0 is the whole number JSON Schema sees
            digits = str(value)
            if self._counts(value) and self.pattern.fullmatch(digits):
                return digits
            problems.add(keypath, self.number_refusal.format(value=shortened(digits), shown=excerpt(digits)))
        else:
            problems.add(keypath, f"expected text, got {describe(value)}")
        return FAILED

    def _counts(self, value: int | float) -> bool:
        """Is ``value`` a whole number this node takes as its digits?"""
        if self.numbers is None or not isinstance(value, int):
            return False
        low, high = self.numbers
        return low <= value and (high is None or value <= high)

    def _with_numbers(self, text: Schema) -> Schema:
        if self.numbers is None:
            return text
        low, high = self.numbers
        number = {"type": "integer", "minimum": low} | ({"maximum": high} if high is not None else {})
        return {"anyOf": [text, number]}

    def schema(self, defs: Definitions) -> Schema:
        return self._with_numbers({"type": "string", "pattern": anchored(self.pattern)})

    def optional_schema(self, defs: Definitions) -> Schema:
        return self._with_numbers({"type": ["string", "null"], "pattern": _or_empty(self.pattern)})

    def key_schema(self, defs: Definitions) -> Schema:
        return {"pattern": anchored(self.pattern)}


class Email(Pattern):
    """One plain ASCII mailbox (reader.EMAIL_PATTERN); numbers are read as text and are never one."""

    def __init__(self) -> None:
        super().__init__(reader.EMAIL_PATTERN, "{shown} is not an email address")


class Words(Node):
    """One word of a fixed vocabulary; a near miss is answered with a suggestion."""

    def __init__(self, options: Sequence[str]) -> None:
        self.options = tuple(options)

    def claims(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.options

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        if value in self.options:
            return str(value)
        if isinstance(value, bool):  # YAML 1.1 reads no, yes, on, off unquoted as false or true
            read = f"YAML reads this as {str(value).lower()} (unquoted yes, no, on, off are true or false)"
            problems.add(keypath, f"{read}: expected one of {', '.join(self.options)}")
            return FAILED
        problems.add(keypath, f"{excerpt(value)} is not valid{reader.one_of(value, self.options)}")
        return FAILED

    def schema(self, defs: Definitions) -> Schema:
        return {"enum": list(self.options)}


class Flag(Node):
    """true or false."""

    def claims(self, value: Any) -> bool:
        return isinstance(value, bool)

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        if isinstance(value, bool):
            return value
        problems.add(keypath, f"expected true or false, got {describe(value)}")
        return FAILED

    def schema(self, defs: Definitions) -> Schema:
        return {"type": "boolean"}


class Integer(Node):
    """A whole number from ``low`` to ``high`` (YAML's true and false are not numbers).

    ``refusal`` replaces both standard messages, with ``{got}`` for the value described.
    """

    def __init__(self, low: int, high: int | None = None, *, refusal: str | None = None) -> None:
        self.low = low
        self.high = high
        self.refusal = refusal

    def claims(self, value: Any) -> bool:
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        """A whole number; 30.0 is 30, as JSON Schema's "integer" counts it."""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if self.claims(value) and self.low <= value and (self.high is None or value <= self.high):
            return value
        if self.refusal is not None:
            problems.add(keypath, self.refusal.format(got=describe(value)))
        elif not self.claims(value):
            problems.add(keypath, f"expected a whole number, got {describe(value)}")
        else:
            problems.add(keypath, f"{shortened(value)} is out of range ({self.low} to {self.high})")
        return FAILED

    def schema(self, defs: Definitions) -> Schema:
        bounds = {"minimum": self.low} | ({"maximum": self.high} if self.high is not None else {})
        return {"type": "integer", **bounds}


class Number(Node):
    """A number from ``low`` to ``high``, whole or not; ``refusal`` says what to write, with ``{got}``."""

    def __init__(self, low: float, high: float, *, refusal: str) -> None:
        self.low = low
        self.high = high
        self.refusal = refusal

    def claims(self, value: Any) -> bool:
        return _is_number(value)

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        if _is_number(value) and self.low <= value <= self.high:
            return value
        problems.add(keypath, self.refusal.format(got=describe(value)))
        return FAILED

    def schema(self, defs: Definitions) -> Schema:
        return {"type": "number", "minimum": self.low, "maximum": self.high}


class _Calendrical(Node):
    """A date or a moment: YAML's own value, or the same text in quotes, as ``read`` takes it.

    Its schema is written once under ``$defs``, by ``name``.
    """

    def __init__(self, name: str, read: Callable[[Any, KeyPath], Any], pattern: re.Pattern[str], **schema: Any):
        self.name = name
        self._read = read
        self.pattern = pattern
        self._schema = {"type": "string", **schema, "pattern": anchored(pattern)}

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        try:
            return self._read(value, keypath)
        except SchemaError as error:
            problems.add(error.keypath, error.message)
            return FAILED

    def schema(self, defs: Definitions) -> Schema:
        defs.setdefault(self.name, self._schema)
        return {"$ref": f"#/$defs/{self.name}"}

    def key_schema(self, defs: Definitions) -> Schema:
        return {"pattern": anchored(self.pattern)}


class Day(_Calendrical):
    """A date such as 2027-06-30 (reader.DATE_PATTERN)."""

    def __init__(self) -> None:
        super().__init__("date", reader.day, reader.DATE_PATTERN, format="date")

    def claims(self, value: Any) -> bool:
        return isinstance(value, str | date) and not isinstance(value, datetime)


class Timestamp(_Calendrical):
    """A moment with its UTC offset (reader.TIMESTAMP_PATTERN)."""

    def __init__(self) -> None:
        super().__init__("timestamp", reader.timestamp, reader.TIMESTAMP_PATTERN)

    def claims(self, value: Any) -> bool:
        return isinstance(value, str | datetime)


# --- containers ------------------------------------------------------------------------------------


class List(Node):
    """A list of ``item``: each at most once with ``unique``, at least one with ``nonempty``.

    ``refusal`` is said of the whole list when it breaks either rule (else a
    repeated item is "listed twice" at its place).
    """

    def __init__(self, item: Node, *, unique: bool = False, nonempty: bool = False, refusal: str | None = None):
        self.item = item
        self.unique = unique
        self.nonempty = nonempty
        self.refusal = refusal

    def claims(self, value: Any) -> bool:
        return isinstance(value, list)

    def nothing(self) -> Any:
        """A list left empty is an empty list (``reminders:`` sends none), not the default."""
        return []

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        if not isinstance(value, list):
            problems.add(keypath, f"expected a list, got {describe(value)}")
            return []
        items = [self.item.read(item, keypath + (index,), problems) for index, item in enumerate(value)]
        items = [None if item is FAILED else item for item in items]
        repeated = False
        if self.unique:
            seen: set[Any] = set()
            for index, item in enumerate(items):
                if item is None:
                    continue
                if item in seen:
                    repeated = True
                    items[index] = None
                    if self.refusal is None:
                        problems.add(keypath + (index,), f"{excerpt(item)} is listed twice")
                seen.add(item)
        if (repeated and self.refusal is not None) or (self.nonempty and not value):
            problems.add(keypath, self.refusal or "expected a list of at least one, got an empty list")
        return items

    def schema(self, defs: Definitions) -> Schema:
        rules: Schema = {"uniqueItems": True} if self.unique else {}
        if self.nonempty:
            rules["minItems"] = 1
        return {"type": "array", "items": self.item.schema(defs), **rules}

    def children(self) -> Iterable[Node]:
        return (self.item,)


class _Mapping(Node):
    """A node whose values are YAML mappings; anything else is refused as it is read."""

    def claims(self, value: Any) -> bool:
        return isinstance(value, dict)

    def _refuses(self, value: Any, keypath: KeyPath, problems: Problems) -> bool:
        refused = not self.claims(value)
        if refused:
            problems.add(keypath, f"expected a mapping, got {describe(value)}")
        return refused


class MappingOf(_Mapping):
    """A mapping of names, each read by ``key`` (any text when None), to ``value``s.

    With ``keep_bad_names`` an entry whose name is refused is still read and
    handed on, so what refers to it is not refused as well. ``nonempty`` is
    what to say of a mapping without entries, when it needs one.
    """

    def __init__(
        self, value: Node, *, key: Node | None = None, keep_bad_names: bool = False, nonempty: str | None = None
    ) -> None:
        self.value = value
        self.key = key
        self.keep_bad_names = keep_bad_names
        self.nonempty = nonempty

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        if self._refuses(value, keypath, problems):
            return {}
        entries = {}
        for name, item in value.items():
            at = keypath + (name,)
            key = str(name) if self.key is None else self.key.read(name, at, problems)
            if key is FAILED:
                if not self.keep_bad_names:
                    continue
                key = str(name)
            read = self.value.read(item, at, problems)
            entries[key] = None if read is FAILED else read
        if self.nonempty is not None and not value:
            problems.add(keypath, self.nonempty)
        return entries

    def schema(self, defs: Definitions) -> Schema:
        names = {"propertyNames": self.key.key_schema(defs)} if self.key is not None else {}
        least = {"minProperties": 1} if self.nonempty is not None else {}
        return {"type": "object", **names, "additionalProperties": self.value.schema(defs), **least}

    def children(self) -> Iterable[Node]:
        return (self.value,) if self.key is None else (self.key, self.value)


class Among(Struct, frozen=True):
    """Keys of a record of which exactly one (or, with ``several``, at least one) must hold a value.

    ``message`` is said of the record otherwise, with ``{found}`` for how many do.
    """

    keys: tuple[str, ...]
    message: str
    several: bool = False


class Record(_Mapping):
    """A mapping with known keys, in this order: unknown keys are refused with a suggestion.

    ``missing`` replaces "is required" for a required key left out, with ``{key}`` for its name.
    """

    def __init__(
        self,
        fields: Mapping[str, Node],
        *,
        required: Sequence[str] = (),
        defaults: Mapping[str, Any] | None = None,
        among: Among | None = None,
        missing: str = "is required",
    ) -> None:
        self.fields = dict(fields)
        self.names = tuple(self.fields)
        self.required = tuple(required)
        self.defaults = dict(defaults or {})
        # How each key's value is read, and whether "" there is nothing (always, for a required key).
        self._readers = {
            key: (node.read, True) if key in self.required else (_optional_reader(node), node.blank_is_absent)
            for key, node in self.fields.items()
        }
        # A section left out reads as an empty one: its own defaults.
        for key, node in self.fields.items():
            if isinstance(node, Record) and node.defaults and key not in self.required:
                self.defaults.setdefault(key, node.defaults)
        self.among = among
        self.missing = missing

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        if self._refuses(value, keypath, problems):
            return dict(self.defaults)
        fields, readers = self.fields, self._readers  # a listing reads thousands of tickets: kept quick
        read = {}
        for key, item in value.items():
            reader_ = readers.get(key)
            if reader_ is None:
                problems.unknown_key(keypath, key, self.names)
                continue
            read_value, blank_is_absent = reader_
            if item is None:  # ~: absent, or an empty list (a required key is reported below)
                got = fields[key].nothing()
            elif not item and blank_is_absent and item == "":
                continue  # "" where text goes: absent (likewise)
            else:
                got = read_value(item, keypath + (key,), problems)
            if got is not FAILED:
                read[key] = got
        for key in self.required:
            if value.get(key) in (None, ""):
                problems.missing(keypath + (key,), self.missing.format(key=key))
        if self.among is not None:
            self._check_among(self.among, value, keypath, problems)
        for key, default in self.defaults.items():
            if key not in read:
                read[key] = dict(default) if isinstance(default, dict) else default
        return read

    def _check_among(self, among: Among, value: dict[Any, Any], keypath: KeyPath, problems: Problems) -> None:
        found = sum(1 for key in among.keys if self._holds(value, key))
        if found == 1 or (among.several and found):
            return
        if not found and any(problems.suggested(keypath + (key,)) for key in among.keys):
            return  # a misspelt key was pointed out already
        problems.add(keypath, among.message.format(found=found))

    def _holds(self, value: dict[Any, Any], key: str) -> bool:
        item = value.get(key)
        return item is not None and not (item == "" and self.fields[key].blank_is_absent)

    def schema(self, defs: Definitions) -> Schema:
        properties = {}
        for key, node in self.fields.items():
            if key in self.required:
                properties[key] = node.schema(defs)
            else:
                properties[key] = node.optional_schema(defs)
                if key in self.defaults:
                    properties[key]["default"] = self.defaults[key]
        schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if self.required:
            schema["required"] = list(self.required)
        if self.among is not None:
            holding = [self._holding_schema(key) for key in self.among.keys]
            schema["anyOf" if self.among.several else "oneOf"] = holding
        return schema

    def _holding_schema(self, key: str) -> Schema:
        nothing: list[Any] = [None, ""] if self.fields[key].blank_is_absent else [None]
        return {"required": [key], "properties": {key: {"not": {"enum": nothing}}}}

    def children(self) -> Iterable[Node]:
        return self.fields.values()


def _optional_reader(node: Node) -> Callable[[Any, KeyPath, Problems], Any]:
    """How an optional key's value is read: as any other, unless the node says otherwise (a call saved)."""
    return node.read_optional if type(node).read_optional is not Node.read_optional else node.read


class OneOf(Node):
    """One of several kinds of value, told apart by kind: a country code or {country, subdivision}.

    A value no alternative claims is read by the last, which says what it expected.
    """

    def __init__(self, *alternatives: Node) -> None:
        self.alternatives = alternatives

    def claims(self, value: Any) -> bool:
        return any(alternative.claims(value) for alternative in self.alternatives)

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        chosen = next((node for node in self.alternatives if node.claims(value)), self.alternatives[-1])
        return chosen.read(value, keypath, problems)

    def schema(self, defs: Definitions) -> Schema:
        return {"anyOf": [alternative.schema(defs) for alternative in self.alternatives]}

    def children(self) -> Iterable[Node]:
        return self.alternatives


class Definition(Node):
    """A node the schema writes once under ``$defs`` and refers to by name: a label, a condition in a condition."""

    def __init__(self, name: str, node: Node | None = None) -> None:
        self.name = name
        self.node = node

    def define(self, node: Node) -> None:
        """Give the node later, when it refers to this definition itself."""
        self.node = node

    @property
    def ref(self) -> Schema:
        return {"$ref": f"#/$defs/{self.name}"}

    def _defined(self) -> Node:
        if self.node is None:
            raise TypeError(f"definition {self.name} has no node")
        return self.node

    def claims(self, value: Any) -> bool:
        return self._defined().claims(value)

    def read(self, value: Any, keypath: KeyPath, problems: Problems) -> Any:
        return self._defined().read(value, keypath, problems)

    def schema(self, defs: Definitions) -> Schema:
        if self.name not in defs:
            defs[self.name] = {}  # a reference to itself inside finds it
            defs[self.name] = self._defined().schema(defs)
        return self.ref

    def children(self) -> Iterable[Node]:
        return (self._defined(),)
