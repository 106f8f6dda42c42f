"""YAML in and out: safe loading with located errors, deterministic dumping.

Loading uses libyaml's C parser when present. Errors carry the file and the
line, so a user can open the file at the right place. Dumping owns the
formatting (literal blocks for multi-line text, ISO timestamps, no line
wrapping), so rewriting an unchanged value always yields the same line and a
``git diff`` shows only what changed.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from sdesk.errors import InvalidData

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

# Constructs that are opened and can run on unclosed to the end of the file:
# their start is where the user must look, not where the parser gave up.
_OPENED_CONSTRUCTS = ("while parsing a flow", "while scanning a quoted", "while scanning a block scalar")


class Loader(_BaseLoader):
    """Safe loading with libyaml's parser, stricter than YAML's defaults.

    A duplicated key (say two ``status:`` lines after a hand edit) would make
    PyYAML keep the last value and silently drop the other; here it is a
    located error. An impossible date is kept as text for validation to report.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise ConstructorError(None, None, f"duplicate key '{key_node.value}'", key_node.start_mark)
                seen.add(key_node.value)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


class ImpossibleDate(str):
    """A date-shaped scalar that is no real date (2027-02-30): kept as its text.

    Where a date is expected, validation reports it at its key, alongside
    every other problem of the file; where text is expected, it is text.
    """

    reason: str


# PyYAML adds an offset's minutes to its hours (+05:75 is +06:15); reader.TIMESTAMP_PATTERN refuses them.
_OFFSET_MINUTES = re.compile(r".*[-+][0-9][0-9]?:([0-9][0-9])", re.DOTALL)


def _construct_timestamp(loader: Loader, node: yaml.ScalarNode) -> Any:
    try:
        offset = _OFFSET_MINUTES.fullmatch(node.value)
        if offset and int(offset.group(1)) > 59:
            raise ValueError("UTC offset minute must be in 0..59")
        return SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        impossible = ImpossibleDate(node.value)
        impossible.reason = str(exc)
        return impossible


MAX_NUMBER_CHARS = 40  # far beyond any count, minute or score in a desk file


def _construct_int(loader: Loader, node: yaml.ScalarNode) -> Any:
    """A whole number of at most MAX_NUMBER_CHARS characters; a longer one is a located error.

    Thousands of digits (in any base YAML reads: 0x…, 0b…, 1:59:59…) would make Python refuse the
    conversion or, for base 60, spend minutes on it.
    """
    if len(node.value) > MAX_NUMBER_CHARS:
        message = f"a number of {len(node.value):,} characters is too long"
        raise ConstructorError(None, None, message, node.start_mark)
    return SafeConstructor.construct_yaml_int(loader, node)


Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class _Dumper(yaml.SafeDumper):
    """Block style, literal blocks for multi-line text, ISO-8601 timestamps, no aliases.

    The pure-Python emitter on purpose: libyaml's escapes characters beyond the
    Basic Multilingual Plane (emoji) even with allow_unicode. One ticket at a
    time, its speed does not matter.
    """

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: _Dumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _represent_datetime(dumper: _Dumper, moment: datetime) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", moment.isoformat())


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(datetime, _represent_datetime)


def dump(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 30,
        indent=2,
    )


def load(text: str, path: Path) -> Any:
    """Parse YAML text; a syntax error names the file and the line to look at.

    Anchors and aliases are refused: sdesk never writes them, and a few
    hundred bytes of nested aliases expand to gigabytes (a "billion laughs").
    """
    if "&" in text or "*" in text:
        _refuse_aliases(text, path)
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        raise InvalidData(f"invalid YAML: {_explain(exc)}", path, *_place_to_look_at(exc)) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow in a file, such as DEL or U+FFFE
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise InvalidData(f"invalid YAML: {exc.reason} (U+{character:04X})", path, line, column) from None
    except yaml.YAMLError as exc:
        raise InvalidData(f"invalid YAML: {' '.join(str(exc).split())}", path) from None


def _refuse_aliases(text: str, path: Path) -> None:
    try:
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                mark = event.start_mark
                raise InvalidData(
                    "YAML anchors and aliases (&name, *name) are not allowed in desk files: write the value out",
                    path,
                    mark.line + 1 if mark else None,
                    mark.column + 1 if mark else None,
                )
    except yaml.YAMLError:
        return  # not YAML at all: loading says where


def _place_to_look_at(exc: yaml.MarkedYAMLError) -> tuple[int | None, int | None]:
    opened = exc.context_mark is not None and (exc.context or "").startswith(_OPENED_CONSTRUCTS)
    mark = exc.context_mark if opened else exc.problem_mark or exc.context_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


def _explain(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "cannot parse"
    if exc.context:
        problem = f"{problem} ({exc.context})"
    return problem


Position = tuple[int, int]
# A '#' after a blank or at a line's start; YAML breaks lines at CR, NEL and U+2028/9 as well as LF.
_COMMENT_START = re.compile(r"(?:^|(?<=[ \t\r\x85\u2028\u2029]))#", re.MULTILINE)


def comments(text: str, skip_first_line: str | None = None) -> list[Position]:
    """Where ``text`` holds YAML comments (line, column): what a rewrite from parsed data would drop.

    A ``#`` starts a comment at a line's start or after a blank, outside any
    value (descriptions often say "ticket #12"). ``skip_first_line`` is a
    first line the writer puts back itself.
    """
    start = len(skip_first_line) if skip_first_line and text.startswith(skip_first_line) else 0
    candidates = [match.start() for match in _COMMENT_START.finditer(text, start)]
    if not candidates:
        return []
    spans = sorted(_scalar_spans(text))
    starts = [span[0] for span in spans]
    found = []
    for offset in candidates:
        index = bisect.bisect_right(starts, offset) - 1
        if index < 0 or offset >= spans[index][1]:
            line = text.count("\n", 0, offset)
            found.append((line + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1))
    return found


def _scalar_spans(text: str) -> list[tuple[int, int]]:
    """The character ranges of every value in a YAML text, quotes and block scalars included."""
    spans = []
    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, yaml.ScalarEvent) and event.start_mark and event.end_mark:
            spans.append((event.start_mark.index, event.end_mark.index))
    return spans


def locator(text: str) -> Callable[[Sequence[str | int]], Position | None]:
    """Find the 1-based (line, column) of key paths in ``text``, composing it once.

    A mapping entry is located at its key, a list item at the item; a path
    that does not exist stops at its nearest existing parent. Only called
    when validation fails, so the fast loader stays fast.
    """
    try:
        root = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError:
        root = None
    entries: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = {}  # each mapping's keys, indexed once

    def position(keypath: Sequence[str | int]) -> Position | None:
        if root is None:
            return None
        node: yaml.Node | None = root
        mark = root.start_mark
        for key in keypath:
            child = None
            if isinstance(node, yaml.MappingNode):
                entry = _entries(node, entries).get(str(key)) or next(
                    ((k, v) for k, v in node.value if isinstance(key, int) and _same_key(k, key)), None
                )
                if entry is not None:
                    child, mark = entry[1], entry[0].start_mark
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                child = node.value[key]
                mark = child.start_mark
            if child is None:
                break
            node = child
        return mark.line + 1, mark.column + 1

    return position


def _entries(
    node: yaml.MappingNode, index: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]]
) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping's entries by key as written (a key written twice: the first), so errors locate in linear time."""
    found = index.get(id(node))
    if found is None:
        found = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                found.setdefault(key_node.value, (key_node, value_node))
        index[id(node)] = found
    return found


def _same_key(node: yaml.Node, key: str | int) -> bool:
    """Does the key as written mean ``key``? An unquoted ``0420`` is the number 272."""
    if node.value == str(key):
        return True
    if isinstance(key, int) and isinstance(node, yaml.ScalarNode) and not node.style:
        try:
            return bool(yaml.load(node.value, Loader=Loader) == key)
        except yaml.YAMLError:
            return False
    return False
