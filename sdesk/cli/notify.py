"""`sdesk notify list|send|migrate`: the mail history owes, what went out, and delivering it."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import click
from msgspec import Struct

from sdesk.cli import context
from sdesk.cli.options import desk_options, format_option
from sdesk.cli.pager import paged
from sdesk.errors import SdeskError
from sdesk.output import Column, plural, render_rows

if TYPE_CHECKING:
    from sdesk.actions.deliver import Delivery
    from sdesk.mail.smtp import Transport

PASSWORD_VARIABLE = "SDESK_SMTP_PASSWORD"
SMTP_TIMEOUT_SECONDS = 30  # a slow but healthy server answers well within this
LIST_COLUMNS = (
    Column("state", "State"),
    Column("ticket_id", "Ticket"),
    Column("kind", "Mail"),
    Column("to_first", "To"),
    Column("subject", "Subject", fill=True),
)
LIST_FIELDS = ("state", "ticket_id", "kind", "to", "subject", "at", "detail", "id")
SENT_COLUMNS = (
    Column("state", "State"),
    Column("id", "Mail"),
    Column("detail", "Detail", fill=True),
)
SENT_FIELDS = ("id", "ticket_id", "state", "detail")
RETRY_STATES = {"parked": "parked", "interrupted": "unconfirmed", "claimed": "claimed"}


@click.group()
def notify() -> None:
    """Mail to customers and agents: what history owes, what went out, delivering it."""


@notify.command("list")
@click.option("--pending", "only_pending", is_flag=True, help="Only mail not sent yet.")
@format_option
@desk_options()
@paged
def list_mail(only_pending: bool, fmt: str) -> None:
    """The mail history owes since the mail baseline, oldest first: owed, sent, parked or unconfirmed.

    Works in any clone: what is owed follows from the committed history, what
    went out from the delivery records the runner commits (pull to see them).
    """
    from sdesk.actions.owing import history_mail
    from sdesk.mail import baseline, compose

    desk = context.desk()
    if baseline.commit(desk.root) is None:
        click.echo(
            "No mail baseline yet: mail owed by history begins with the runner's first cycle (sdesk run).", err=True
        )
    items, problems = history_mail(desk)
    templates = compose.Templates(desk.root, desk.rules.timezone)
    rows = []
    for item in items:
        if only_pending and item.state == "sent":
            continue
        standing = item.standing
        to = [address.addr_spec for address in (*item.letter.to, *item.letter.cc)]
        if standing is not None and standing.subject:
            subject = standing.subject
        else:
            try:
                subject = templates.render(item.letter)[0]
            except SdeskError as error:
                subject = f"(cannot be composed: {error.message})"
        first = to[0] if to else ""
        rows.append(
            {
                "state": "interrupted" if item.state == "unconfirmed" else item.state,
                "ticket_id": item.letter.ticket,
                "kind": item.letter.kind,
                "to": to,
                "to_first": f"{first} +{len(to) - 1}" if len(to) > 1 else first,
                "subject": subject,
                "at": standing.at if standing is not None else item.letter.at.isoformat(),
                "detail": (standing.detail or None) if standing is not None else None,
                "id": item.letter.key,
            }
        )
    click.echo(render_rows(rows, LIST_COLUMNS, fmt, LIST_FIELDS), nl=False)
    for problem in problems:
        click.echo(f"Warning: {problem}", err=True)
    if fmt == "table":
        for row in rows:  # the table has no room for why; these need an agent
            if row["state"] in ("parked", "interrupted", "failed"):
                click.echo(f"{row['ticket_id']} {row['kind']}: {row['state']}: {row['detail'] or ''}", err=True)
        owed = sum(row["state"] in ("owed", "failed", "retry", "claimed") for row in rows)
        click.echo(f"{plural(len(rows), 'mail')}, {owed} not sent yet." if rows else "No mail owed.", err=True)


class MailServer(Struct, frozen=True):
    """How to reach the mail server (None: not given) and which waiting mail to try again."""

    connection: Callable[[], AbstractContextManager[Transport]] | None
    retry: tuple[str, ...]


def smtp_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say how to reach the mail server and which waiting mail to try again, handed to
    ``command`` as one ``mail`` (MailServer)."""

    @functools.wraps(command)
    def with_server(*args: Any, connection: Any, retry: tuple[str, ...], **kwargs: Any) -> Any:
        mail = MailServer(connection, tuple(RETRY_STATES[name] for name in retry))
        return command(*args, mail=mail, **kwargs)

    retry_option = click.option(
        "--retry",
        "retry",
        multiple=True,
        type=click.Choice(sorted(RETRY_STATES)),
        help="Also try mail in this state again: parked (fix the cause first), interrupted (it may have "
        "arrived), claimed (by a runner that is gone). Repeatable.",
    )
    return smtp_connection_options(retry_option(with_server))


def smtp_connection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say how to reach the mail server, handed to ``command`` as ``connection`` (how to open
    a session; None without --smtp)."""

    @functools.wraps(command)
    def with_connection(
        *args: Any,
        server: str | None,
        starttls: bool,
        tls: bool,
        user: str | None,
        insecure_login: bool,
        timeout: float,
        **kwargs: Any,
    ) -> Any:
        return command(*args, connection=connection(server, starttls, tls, user, insecure_login, timeout), **kwargs)

    options = [
        click.option("--smtp", "server", metavar="HOST:PORT", help="The mail server to hand the mail to."),
        click.option(
            "--starttls",
            is_flag=True,
            help="Encrypt with STARTTLS before anything else (port 587); the certificate is verified.",
        ),
        click.option(
            "--tls", is_flag=True, help="Speak TLS from the start (SMTPS, port 465); the certificate is verified."
        ),
        click.option(
            "--user",
            metavar="NAME",
            help=f"Log in as NAME; the password comes from ${PASSWORD_VARIABLE}. Needs --starttls or --tls.",
        ),
        click.option(
            "--insecure-login",
            is_flag=True,
            help="Allow --user without TLS: anyone on the network path can read the password (and the mail). "
            "Only for a server on this machine.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=SMTP_TIMEOUT_SECONDS,
            show_default=True,
            metavar="SECONDS",
            help="How long to wait for the server at each step.",
        ),
    ]
    decorated: Callable[..., Any] = with_connection
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def connection(
    server: str | None, starttls: bool, tls: bool, user: str | None, insecure_login: bool, timeout: float
) -> Callable[[], AbstractContextManager[Transport]] | None:
    """How to open the SMTP session, checked before anything else happens; None without --smtp."""
    if server is None:
        for flag, given in (("--starttls", starttls), ("--tls", tls), ("--user", user)):
            if given:
                raise click.UsageError(f"{flag} needs --smtp HOST:PORT")
        return None
    host, _, port_text = server.rpartition(":")
    if not host or not port_text.isdigit():
        raise click.BadParameter(f"'{server}' is not HOST:PORT, e.g. mail.example.com:587", param_hint="--smtp")
    if starttls and tls:
        raise click.UsageError("--starttls and --tls exclude each other: STARTTLS for port 587, --tls for port 465")
    password = os.environ.get(PASSWORD_VARIABLE)
    if user is not None and not password:
        raise SdeskError(f"--user {user} needs the password in ${PASSWORD_VARIABLE}")
    from sdesk.mail.smtp import PLAIN, STARTTLS, TLS, Smtp

    security = TLS if tls else STARTTLS if starttls else PLAIN
    Smtp(host, int(port_text), security, user, password, timeout, insecure_login)  # refuses a clear-text login now
    return lambda: Smtp(host, int(port_text), security, user, password, timeout, insecure_login)


@notify.command("send")
@smtp_options
@format_option
@desk_options()
def send(mail: MailServer, fmt: str) -> None:
    """Deliver the mail history owes from this clone, each once; records it in deliveries/ (committed in git).

    For a desk one clone runs; a team's runner uses `sdesk run`, which also
    pulls, sweeps and pushes. A mail the server refuses for good (5xx) is
    parked with the reason (see notify list). Exits 1 when a mail could not
    be delivered.
    """
    from sdesk.actions import deliver
    from sdesk.actions.cycle import runner_id
    from sdesk.mail import baseline
    from sdesk.storage import sync

    if mail.connection is None:
        raise click.UsageError("Missing option '--smtp'.")
    desk = context.desk()
    now = context.now(desk)
    if baseline.commit(desk.root) is None:
        baseline.write(desk.root, sync.head(desk.root) or baseline.NONE, now)
    # The records are committed, not pushed: this clone shares them when its agent pushes.
    report(deliver.deliver(desk, mail.connection, now, runner_id(desk), lambda message: True, mail.retry), fmt)


def report(done: Delivery, fmt: str) -> None:
    """What a delivery did, a line (or a row) per mail; exit 1 when a mail was not delivered or not confirmed."""
    if fmt == "table":
        for key in done.sent:
            click.echo(f"sent {key}")
        for key, reason in done.failed:
            click.echo(f"kept {key}: {reason}")
        for key, reason in done.parked:
            click.echo(f"parked {key}: {reason}")
    else:
        click.echo(render_rows(_delivered(done), SENT_COLUMNS, fmt, SENT_FIELDS), nl=False)
    for key, reasons in done.refused:
        click.echo(f"Warning: {key} was sent, but {reasons}", err=True)
    for key, reason in done.unconfirmed:
        click.echo(
            f"Warning: {key}: {reason}; it may have arrived, so it is not sent again (--retry interrupted)", err=True
        )
    for problem in done.problems:
        click.echo(f"Warning: {problem}", err=True)
    if done.waiting:
        click.echo(
            f"Warning: {plural(len(done.waiting), 'mail')} waiting for an agent (parked, interrupted or claimed "
            "by another runner): sdesk notify list says why; --retry tries again",
            err=True,
        )
    summary = f"Sent {plural(len(done.sent), 'mail')}; {len(done.failed)} kept for the next run"
    summary += f"; {len(done.parked)} parked" if done.parked else ""
    summary += f"; {len(done.unconfirmed)} unconfirmed" if done.unconfirmed else ""
    click.echo(f"{summary}.", err=True)
    problems = []
    if done.failed or done.parked:
        problems.append(f"{plural(len(done.failed) + len(done.parked), 'mail')} not delivered")
    if done.unconfirmed:
        problems.append(f"{plural(len(done.unconfirmed), 'mail')} not confirmed by the server")
    if problems:
        raise SdeskError(", ".join(problems))


def _delivered(done: Delivery) -> list[dict[str, Any]]:
    """A row per mail tried, its state named as `notify list` names it afterwards (a mail kept for the next
    run has failed; one the server did not confirm is interrupted); ``detail`` is the server's answer."""
    refused = dict(done.refused)
    tried = [(key, "sent", refused.get(key)) for key in done.sent]
    for state, found in (("failed", done.failed), ("parked", done.parked), ("interrupted", done.unconfirmed)):
        tried += [(key, state, reason) for key, reason in found]
    # a mail's key is TICKET.EVENT.KIND
    return [
        {"id": key, "ticket_id": key.partition(".")[0], "state": state, "detail": detail or None}
        for key, state, detail in tried
    ]


@notify.command("migrate")
@desk_options()
def migrate() -> None:
    """Move this clone's outbox of old (sdesk 0.8) into the delivery records, once; sends nothing.

    Sent mail is recorded as sent (never sent again), pending mail as owed
    (the runner sends it). Commit and push deliveries/ afterwards.
    """
    from sdesk.actions.cycle import runner_id
    from sdesk.mail import legacy

    desk = context.desk()
    if not legacy.has_outbox(desk.root):
        click.echo("This clone has no outbox of old: nothing to migrate.")
        return
    done = legacy.migrate(desk, context.now(desk), runner_id(desk))
    click.echo(f"Recorded {plural(len(done.recorded), 'mail')} of the old outbox in deliveries/.")
    for name in done.dropped:
        click.echo(f"dropped {name}: held for a change that was never saved", err=True)
    for name, why in done.left:
        click.echo(f"Warning: {name} left in the outbox: {why}", err=True)
    if done.moved_to is not None:
        click.echo(f"The old outbox is kept in {done.moved_to}. Commit and push deliveries/.", err=True)
