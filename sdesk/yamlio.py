"""YAML in and out: safe loading with located errors, deterministic dumping.

Loading uses libyaml's C parser when present. Errors carry the file and the
line, so a user can open the file at the right place. Dumping owns the
formatting (literal blocks for multi-line text, ISO timestamps, no line
wrapping), so rewriting an unchanged value always yields the same line and a
``git diff`` shows only what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from sdesk.errors import InvalidData

try:
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml import SafeLoader as Loader  # type: ignore[assignment]


class _Dumper(_BaseDumper):
    """Block style, literal blocks for multi-line text, ISO-8601 timestamps, no aliases."""

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
    """Parse YAML text; a syntax error names the file and line."""
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{exc.problem} ({exc.context})"
        raise InvalidData(f"invalid YAML: {problem}", path, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise InvalidData(f"invalid YAML: {exc}", path) from None


def line_of(text: str, keypath: Sequence[str | int]) -> int | None:
    """The 1-based line of the node at ``keypath`` (or of its nearest parent).

    Only called when validation fails, so the fast loader stays fast.
    """
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for key in keypath:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(key):
                    child = value_node
                    line = key_node.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
