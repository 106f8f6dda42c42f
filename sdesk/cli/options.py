"""Options shared by several commands, each defined once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from sdesk.cli import completers
from sdesk.words import CHECK_FORMATS, FORMATS, IMPACTS, URGENCIES

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """Store a value in the context chain so options work before or after the command name."""

    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            ctx.meta[key] = value

    return callback


def _remember_actor(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """--as and $SDESK_USER, with which of them said it: a refusal names where the identity came from."""
    if value is not None:
        ctx.meta["sdesk.actor"] = value
        from_env = ctx.get_parameter_source(param.name or "") is click.core.ParameterSource.ENVIRONMENT
        ctx.meta["sdesk.actor_source"] = "SDESK_USER" if from_env else "--as"


def desk_options(envvars: bool = False) -> Decorator:
    """--desk and --as, on the root group (with env vars) and on every command."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--desk",
            type=click.Path(file_okay=False, path_type=Path),
            expose_value=False,
            envvar="SDESK_DIR" if envvars else None,
            callback=_remember("sdesk.desk"),
            is_eager=True,
            help="The desk folder (default: $SDESK_DIR, else the nearest folder above with rules.yaml and tickets/).",
        )(command)
        return click.option(
            "--as",
            "actor",
            metavar="EMAIL",
            expose_value=False,
            envvar="SDESK_USER" if envvars else None,
            callback=_remember_actor,
            is_eager=True,
            help="Act as this agent (default: $SDESK_USER, else git config user.email); "
            "one rules.yaml declares under agents:, when it declares any.",
        )(command)

    return decorate


def _no_pager(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:  # given before or after the command name, it holds: the other place's False does not undo it
        ctx.meta["sdesk.no_pager"] = True


no_pager_option = click.option(
    "--no-pager",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_no_pager,
    help="Print long output straight to the terminal instead of through $SDESK_PAGER, $PAGER or less.",
)


def _format(choices: tuple[str, ...], help_text: str) -> Decorator:
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default="table", show_default=True, help=help_text
    )


format_option = _format(FORMATS, "table for people; json or csv for scripts (stable field names).")
check_format_option = _format(
    CHECK_FORMATS,
    "table for people; json or csv for scripts; github for GitHub Actions annotations on the file and line.",
)

# Filters of listings (list, queue, sla, report time), each declared once, Tab completion with it.
customer_filter = click.option(
    "--customer",
    "customers",
    multiple=True,
    metavar="KEY",
    shell_complete=completers.customers,
    help="Only this customer's tickets (repeatable).",
)
team_filter = click.option(
    "--team",
    "teams",
    multiple=True,
    metavar="TEAM",
    shell_complete=completers.teams,
    help="Only this team's tickets (repeatable).",
)
assignee_filter = click.option(
    "--assignee",
    "assignees",
    multiple=True,
    metavar="EMAIL|me|none",
    shell_complete=completers.assignees,
    help="Only tickets assigned to this agent; 'me' for yourself, 'none' for unassigned (repeatable).",
)

# (option, field, help) for every ticket field an agent can set.
FIELD_OPTIONS: tuple[tuple[str, str, str, Any], ...] = (
    ("--title", "title", "A short summary: one subject per ticket.", None),
    ("--type", "type", "What kind of ticket this is: a type from rules.yaml, e.g. incident.", None),
    ("--customer", "customer", "Customer key from rules.yaml.", None),
    ("--product", "product", "Product concerned (rules.yaml); needed when the customer has several.", None),
    ("--requester", "requester", "Email of the customer's reference person who raised it.", None),
    ("--team", "team", "Team that handles it (default: from the routing rules).", None),
    (
        "--assignee",
        "assignee",
        "The agent working on it: email (or name, when rules.yaml declares agents), or me; none (or '') unassigns.",
        None,
    ),
    ("--category", "category", "Category from rules.yaml, e.g. network or application.", None),
    ("--impact", "impact", "Who is affected.", click.Choice(IMPACTS)),
    ("--urgency", "urgency", "How badly work is blocked.", click.Choice(URGENCIES)),
    ("--site", "site", "Site ID (4 digits).", None),
    ("--url", "url", "Web address concerned.", None),
    ("--error-message", "error_message", "The full error message, as shown.", None),
    ("--description", "description", "What happened, as precisely as possible.", None),
    ("--contact-name", "contact_name", "Contact person's name.", None),
    ("--contact-phone", "contact_phone", "Contact person's phone number.", None),
    ("--contact-email", "contact_email", "Contact person's email.", None),
    ("--external-ref", "external_ref", "The customer's own reference for this ticket.", None),
    (
        "--their-ticket",
        "cooperation_ticket",
        "Cooperation incident: the ticket number at the customer's own desk.",
        None,
    ),
    ("--their-contact", "cooperation_name", "Cooperation incident: the contact person at the customer's desk.", None),
    (
        "--their-email",
        "cooperation_email",
        "Cooperation incident: that contact's email (gets a copy of every mail).",
        None,
    ),
    ("--their-phone", "cooperation_phone", "Cooperation incident: that contact's phone number.", None),
    (
        "--their-impact",
        "cooperation_impact",
        "Cooperation incident: the impact as their desk sees it.",
        click.Choice(IMPACTS),
    ),
    (
        "--their-urgency",
        "cooperation_urgency",
        "Cooperation incident: the urgency as their desk sees it.",
        click.Choice(URGENCIES),
    ),
)


def parse_day(text: str, option: str) -> date:
    """A YYYY-MM-DD option value, or Click's usage error naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a date such as 2026-11-01", param_hint=option) from None


def field_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for flag, name, help_text, kind in reversed(FIELD_OPTIONS):
        complete = completers.FIELDS.get(flag)
        command = click.option(flag, name, type=kind, default=None, help=help_text, shell_complete=complete)(command)
    return command


def field_values(params: dict[str, Any]) -> dict[str, Any]:
    """The ticket fields a user actually passed (an empty string clears a field)."""
    return {name: params[name] for _, name, _, _ in FIELD_OPTIONS if params.get(name) is not None}
