"""Jinja2 templates a desk can override: sandboxed, bounded, every mistake reported by file and line.

Mail and the static site ship their templates in the package; a desk puts
its own version of any of them at the same name under its ``templates/``
folder. A desk's template arrives by ``git pull`` like any other file, so it
is data, not code: it renders in Jinja2's sandbox (no Python internals such
as ``cycler.__init__.__globals__``, no changing the values it is given),
its arithmetic cannot build giant strings or numbers, a render that runs
longer than :data:`RENDER_SECONDS` is stopped, and it is read as a desk file
(no symbolic link out of the desk). A syntax error, a missing variable, a
failing filter or a forbidden construct becomes one located error, never a
traceback; ``sdesk check`` reports forbidden constructs before anyone renders.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import (
    UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    UNSAFE_COROUTINE_ATTRIBUTES,
    UNSAFE_FUNCTION_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
    UNSAFE_METHOD_ATTRIBUTES,
    ImmutableSandboxedEnvironment,
)

from sdesk import deadline
from sdesk.errors import InvalidData, SdeskError, excerpt
from sdesk.formats import files

RENDER_SECONDS = 20  # a page or mail takes milliseconds; only a runaway loop takes this long
MAX_OUTPUT = 20_000_000  # characters one page or mail may have
MAX_PRODUCT = 1_000_000  # characters or items that `text * n` may make
MAX_EXPONENT = 1_000
MAX_WIDTH = 10_000  # of a line that center, indent or wordwrap make
_UNSAFE_NAMES = frozenset(
    {
        "mro",
        *UNSAFE_FUNCTION_ATTRIBUTES,
        *UNSAFE_METHOD_ATTRIBUTES,
        *UNSAFE_GENERATOR_ATTRIBUTES,
        *UNSAFE_COROUTINE_ATTRIBUTES,
        *UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    }
)


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox, with multiplication, powers and widths kept to sizes a page or mail could need.

    The sandbox keeps templates from Python's internals; it does not bound the work they do. These
    limits, the output cap and the time limit bound the common ways; a template can still be made
    slow within them, so template changes deserve a review like code.
    """

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)  # paragraphs of filler on demand: nothing a desk needs
        for name in ("center", "indent", "wordwrap"):
            self.filters[name] = _bounded_width(self.filters[name])

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """A declared field of one of sdesk's value classes (msgspec Structs, dataclasses) holds data: safe
        without the general checks, which took half the time of rendering a page. The rest is checked as ever."""
        if not isinstance(obj, type) and not attr.startswith("_"):  # an instance, not a class
            kind = type(obj)
            fields: Iterable[str] = (
                getattr(kind, "__struct_fields__", None) or getattr(kind, "__dataclass_fields__", None) or ()
            )
            if attr in fields:
                return True
        return bool(super().is_safe_attribute(obj, attr, value))

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"a power of {right} is too large for a template")
        if operator == "*":
            for times, thing in ((left, right), (right, left)):
                if isinstance(times, int) and hasattr(thing, "__len__") and times * len(thing) > MAX_PRODUCT:
                    raise SecurityError(f"repeating a value {times} times is too much for a template")
        return super().call_binop(context, operator, left, right)


def _bounded_width(jinja_filter: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose width arguments may not exceed MAX_WIDTH: `""|center(10**9)` would fill memory in C."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WIDTH:
                raise SecurityError(f"a width of {value} is too large for a template")
        return jinja_filter(*args, **kwargs)

    return bounded


def collect(chunks: Iterable[str]) -> str:
    """A rendering's pieces joined, stopping at MAX_OUTPUT characters (a loop could make gigabytes)."""
    pieces, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise SecurityError(f"the output grew past {MAX_OUTPUT:,} characters")
        pieces.append(chunk)
    return "".join(pieces)


class _DeskLoader(jinja2.BaseLoader):
    """The desk's folder first, read as untrusted desk files, then the package's own templates."""

    def __init__(self, desk_folder: Path, package_folder: Path, desk_root: Path):
        self.desk_folder, self.package_folder, self.desk_root = desk_folder, package_folder, desk_root

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses "..": a name cannot leave the folder
        for folder, root in ((self.desk_folder, self.desk_root), (self.package_folder, None)):
            path = folder.joinpath(*pieces)
            if path.is_symlink() or path.exists():
                return files.read_text(path, root), str(path), lambda: False
        raise jinja2.TemplateNotFound(template)


def environment(desk_root: Path, desk_folder: Path, package_folder: Path, autoescape: bool) -> jinja2.Environment:
    """Templates looked up in the desk's folder first, then in the package's; rendered in the sandbox."""
    return _Sandbox(
        loader=_DeskLoader(desk_folder, package_folder, desk_root),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Compiled once per command: the loader says no file is ever up to date (it reads each as untrusted,
        # afresh), which with auto_reload compiled every page's template again, 2,000 times in an export.
        auto_reload=False,
    )


def load(env: jinja2.Environment, name: str, what: str, desk_folder: Path) -> jinja2.Template:
    """The template ``name``; a located InvalidData when it does not compile or does not exist."""
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as error:
        raise InvalidData(f"{what} template: {error.message}", error.filename, error.lineno) from None
    except jinja2.TemplateNotFound:
        raise InvalidData(f"no {what} template {name} (in {desk_folder} or the package)") from None


@contextmanager
def reported(env: jinja2.Environment, what: str, name: str) -> Iterator[None]:
    """Renders within the time limit; an error while rendering is InvalidData naming the template line."""
    try:
        try:
            with deadline.within(
                RENDER_SECONDS, lambda: SecurityError(f"rendering took longer than {RENDER_SECONDS} s")
            ):
                yield
        except Exception:
            env.handle_exception()  # re-raises with the template's own lines in the traceback
    except SecurityError as error:
        filename, line = _template_frame(error, Path(name).suffix)
        raise InvalidData(f"{what} template {name}: not allowed in a desk template: {error}", filename, line) from None
    except MemoryError:
        raise InvalidData(f"{what} template {name}: needs more memory than a template may have") from None
    except Exception as error:
        filename, line = _template_frame(error, Path(name).suffix)
        raise InvalidData(f"{what} template {name}: {str(error) or type(error).__name__}", filename, line) from None


def compile_problems(
    env: jinja2.Environment,
    desk_root: Path,
    desk_folder: Path,
    pattern: str,
    used: Callable[[str], bool],
    names: str,
    what: str,
) -> list[SdeskError]:
    """Every desk override (``pattern`` under the desk folder) that sdesk would not use, and every file
    there (partials in subfolders too) that does not compile, uses what the sandbox forbids or is a
    link out of the desk."""
    problems: list[SdeskError] = []
    overrides = set(desk_folder.glob(pattern)) if desk_folder.is_dir() else set()
    for path in sorted(desk_folder.rglob("*")) if desk_folder.is_dir() else []:
        if path.is_symlink() and not files.inside(path, desk_root):
            problems.append(InvalidData("is a symbolic link that leads outside the desk: refused", path))
            continue
        if path.is_dir():
            continue
        name = path.relative_to(desk_folder).as_posix()
        if path in overrides and not used(name):
            problems.append(InvalidData(f"{what} template sdesk never uses: the names are {names}", path))
            continue
        try:
            source = env.loader.get_source(env, name)[0] if env.loader is not None else ""
            problems += [
                InvalidData(f"{what} template: {message}", path, line) for line, message in forbidden(env, source)
            ]
        except jinja2.TemplateSyntaxError as error:
            problems.append(InvalidData(f"{what} template: {error.message}", path, error.lineno))
        except SdeskError as error:
            problems.append(error)
    return problems


# Methods that change a list, dict or set in place: the immutable sandbox refuses them at render time.
_CHANGING = frozenset(
    {
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "popitem",
        "clear",
        "sort",
        "reverse",
        "update",
        "setdefault",
        "add",
        "discard",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
    }
)


def forbidden(env: jinja2.Environment, source: str) -> list[tuple[int, str]]:
    """What in a template's source the sandbox would stop at render time, as far as reading it can tell.

    Python's internals by name (an attribute, an item, any text holding ``__`` that a filter such as
    ``attr`` or ``map(attribute=…)`` could use), ``attr`` with a computed name, and changing a value.
    The sandbox still guards what reading cannot see.
    """
    found: dict[tuple[int, str], str] = {}  # (line, what) -> why: one report per thing per line
    for node in env.parse(source).find_all((nodes.Getattr, nodes.Getitem, nodes.Const, nodes.Filter, nodes.Call)):
        if isinstance(node, nodes.Getattr) and _internal(node.attr):
            found.setdefault((node.lineno, node.attr), "is Python's internals, which desk templates may not use")
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and _internal(node.arg.value):
            found.setdefault((node.lineno, node.arg.value), "is Python's internals, which desk templates may not use")
        elif isinstance(node, nodes.Const) and isinstance(node.value, str) and "__" in node.value:
            found.setdefault((node.lineno, node.value), "names Python's internals, which desk templates may not use")
        elif (
            isinstance(node, nodes.Filter)
            and node.name == "attr"
            and not all(isinstance(argument, nodes.Const) for argument in node.args)
        ):
            found.setdefault((node.lineno, "attr"), "with a computed name: name the attribute as it is")
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and node.node.attr in _CHANGING:
            found.setdefault((node.lineno, node.node.attr), "changes a value, which desk templates may not do")
    return [(line, f"{excerpt(what)} {why}") for (line, what), why in sorted(found.items())]


def _internal(name: object) -> bool:
    return isinstance(name, str) and (name.startswith("_") or name in _UNSAFE_NAMES)


def _template_frame(error: Exception, suffix: str) -> tuple[Path | None, int | None]:
    """Where in a template a rendering error happened (Jinja2 puts template lines in the traceback)."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(suffix):
            return Path(frame.filename), frame.lineno
    return None, None
