"""Jinja2 templates a desk can override, with every mistake in them reported by file and line.

Mail and the static site ship their templates in the package; a desk puts
its own version of any of them at the same name under its ``templates/``
folder. A template is code a desk writes, so a syntax error, a missing
variable or a failing filter becomes one located error, never a traceback.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2

from sdesk.errors import InvalidData


def environment(desk_folder: Path, package_folder: Path, autoescape: bool) -> jinja2.Environment:
    """Templates looked up in the desk's folder first, then in the package's."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(desk_folder), str(package_folder)]),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
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
    """Turns an error while rendering into InvalidData naming the template line that raised it."""
    try:
        try:
            yield
        except Exception:
            env.handle_exception()  # re-raises with the template's own lines in the traceback
    except Exception as error:
        filename, line = _template_frame(error, Path(name).suffix)
        raise InvalidData(f"{what} template {name}: {error}", filename, line) from None


def compile_problems(
    env: jinja2.Environment, desk_folder: Path, pattern: str, used: Callable[[str], bool], names: str, what: str
) -> list[InvalidData]:
    """Every desk override (``pattern`` under the desk folder) that sdesk would not use or that does not compile."""
    problems = []
    for path in sorted(desk_folder.glob(pattern)) if desk_folder.is_dir() else []:
        name = path.relative_to(desk_folder).as_posix()
        if not used(name):
            problems.append(InvalidData(f"{what} template sdesk never uses: the names are {names}", path))
            continue
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as error:
            problems.append(InvalidData(f"{what} template: {error.message}", path, error.lineno))
    return problems


def _template_frame(error: Exception, suffix: str) -> tuple[Path | None, int | None]:
    """Where in a template a rendering error happened (Jinja2 puts template lines in the traceback)."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(suffix):
            return Path(frame.filename), frame.lineno
    return None, None
