"""The problems `sdesk check` and `sdesk rules check` found, as people, scripts and CI read them."""

from __future__ import annotations

from collections.abc import Sequence

import click

from sdesk.errors import SdeskError, display_path
from sdesk.output import Column, render_rows

PROBLEM_COLUMNS = (
    Column("file", "File"),
    Column("line", "Line"),
    Column("column", "Col"),
    Column("problem", "Problem", fill=True),
)


def report(problems: Sequence[SdeskError], fmt: str) -> None:
    """One line per problem (table), rows (json, csv), or GitHub Actions annotations that point a pull
    request's reviewer at the file and line (github)."""
    if fmt == "table":
        for problem in problems:
            click.echo(str(problem))
    elif fmt == "github":
        for problem in problems:
            click.echo(annotation(problem))
    else:
        rows = [
            {"file": display_path(p.path) if p.path else None, "line": p.line, "column": p.column, "problem": p.message}
            for p in problems
        ]
        click.echo(render_rows(rows, PROBLEM_COLUMNS, fmt), nl=False)


def annotation(problem: SdeskError) -> str:
    """`::error file=F,line=L,col=C::message`, escaped as GitHub's workflow commands require, so a file name
    or message can neither break the line nor forge another command."""
    place = {"file": display_path(problem.path) if problem.path else None, "line": problem.line, "col": problem.column}
    properties = ",".join(f"{key}={_escape(str(value), True)}" for key, value in place.items() if value is not None)
    message = _escape(problem.message, False)
    return f"::error {properties}::{message}" if properties else f"::error::{message}"


def _escape(text: str, is_property: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if is_property else text
