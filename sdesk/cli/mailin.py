"""`sdesk mail receive|triage|accept|dismiss`: the mail gateway, and an agent's decisions on what it held."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sdesk.cli import completers, context
from sdesk.cli.options import desk_options, format_option
from sdesk.cli.pager import paged
from sdesk.errors import SdeskError
from sdesk.output import PAIR_COLUMNS, Column, as_pairs, render_record, render_rows, to_json

if TYPE_CHECKING:
    from sdesk.mail.mailboxes import Incoming
    from sdesk.mail.received import Received

Mailbox = Callable[[], AbstractContextManager[Iterator["Incoming"]]]
EX_TEMPFAIL = 75  # sendmail's "try again later": an MTA keeps the message and delivers it again
LOCK_WAIT_SECONDS = 120
TRIAGE_COLUMNS = (
    Column("id", "Mail"),
    Column("received", "Received"),
    Column("from_shown", "From"),
    Column("subject", "Subject"),
    Column("reason", "Why it waits", fill=True),
)
RECEIVED_COLUMNS = (
    Column("id", "Mail"),
    Column("outcome", "Became"),
    Column("ticket_id", "Ticket"),
    Column("summary", "What happened", fill=True),
)
TRIAGE_FIELDS = ("id", "received", "from", "subject", "reason", "ticket_id", "attachments", "reply_owed")


def mailbox_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--maildir DIR or --imap HOST:PORT (with --imap-user …): where received mail is taken from."""

    @functools.wraps(command)
    def with_mailbox(
        *args: Any,
        maildir: Path | None,
        imap: str | None,
        imap_user: str | None,
        imap_folder: str,
        imap_move_to: str | None,
        imap_cafile: str | None,
        **kwargs: Any,
    ) -> Any:
        return command(
            *args, mailbox=_mailbox(maildir, imap, imap_user, imap_folder, imap_move_to, imap_cafile), **kwargs
        )

    options = [
        click.option(
            "--maildir",
            type=click.Path(file_okay=False, path_type=Path),
            metavar="DIR",
            help="Take the messages in DIR/new (a Maildir, as fetchmail, getmail or an MTA fill it); each "
            "moves to DIR/cur once recorded.",
        ),
        click.option("--imap", metavar="HOST:PORT", help="Take the unread messages of an IMAP mailbox, over TLS."),
        click.option("--imap-user", metavar="NAME", help="The IMAP login; the password is in $SDESK_IMAP_PASSWORD."),
        click.option("--imap-folder", default="INBOX", show_default=True, metavar="FOLDER", help="The folder read."),
        click.option(
            "--imap-move-to",
            metavar="FOLDER",
            help="Move recorded messages to FOLDER (default: flag them \\Seen and $SdeskRecorded where they are).",
        ),
        click.option(
            "--imap-cafile",
            type=click.Path(dir_okay=False, exists=True),
            metavar="FILE",
            help="Trust the server certificate this CA bundle signs (a server with its own certificate authority).",
        ),
    ]
    decorated: Callable[..., Any] = with_mailbox
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def _mailbox(
    maildir: Path | None,
    imap: str | None,
    user: str | None,
    folder: str,
    move_to: str | None,
    cafile: str | None,
) -> Mailbox | None:
    from sdesk.mail import mailboxes

    if maildir is not None and imap is not None:
        raise click.UsageError("--maildir and --imap exclude each other: one mailbox per gateway")
    if maildir is not None:
        found = maildir

        @contextmanager
        def from_maildir() -> Iterator[Iterator[Incoming]]:
            yield mailboxes.maildir(found)

        return from_maildir
    if imap is None:
        if user is not None or move_to is not None or cafile is not None:
            raise click.UsageError("--imap-user, --imap-move-to and --imap-cafile need --imap HOST:PORT")
        return None
    host, _, port = imap.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"'{imap}' is not HOST:PORT, e.g. imap.example.com:993", param_hint="--imap")
    if user is None:
        raise click.UsageError("--imap needs --imap-user NAME (the password goes in $SDESK_IMAP_PASSWORD)")
    account = mailboxes.ImapAccount(host, int(port), user, folder, move_to, cafile)
    account.password()  # refused now, not after the desk was read
    return lambda: mailboxes.imap(account)


@click.group("mail")
def mail() -> None:
    """Mail in: receive customers' mail, and decide on what the gateway held in triage."""


@mail.command("receive")
@mailbox_options
@format_option
@desk_options()
def receive(mailbox: Mailbox | None, fmt: str) -> None:
    """Record received mail: one message on stdin (an MTA alias or procmail pipe), or a Maildir or IMAP mailbox.

    A reply becomes a comment on its ticket (a waiting ticket resumes), a
    survey answer is recorded, a reference person's new mail opens a ticket
    with the rules applied as `sdesk new` applies them; what the rules refuse
    waits in triage (sdesk mail triage) and its sender gets an auto-reply that
    the runner sends. The same message received twice is recorded once.

    In git, run it in the runner's clone: it pulls, commits each batch
    ("sdesk mail: received …") and pushes it, and refuses a clone with
    uncommitted changes. A message on stdin that cannot be recorded now (the
    desk is busy, the remote cannot be reached, the desk cannot be written)
    exits 75, so the MTA keeps it and tries again.
    """
    from sdesk.actions import cycle

    desk = context.desk()
    now = context.now(desk)
    say = functools.partial(click.echo, err=fmt != "table")  # for people; scripts read the rows
    if mailbox is None:
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise SdeskError("no message on stdin (or give --maildir DIR or --imap HOST:PORT)")
        try:
            outcomes = cycle.receive_now(desk, _one(raw), now, LOCK_WAIT_SECONDS, say)
        except SdeskError as error:
            click.echo(f"Error: {error} (the message was not recorded: try again later)", err=True)
            sys.exit(EX_TEMPFAIL)
    else:
        outcomes = cycle.receive_now(desk, mailbox, now, LOCK_WAIT_SECONDS, say)
    if fmt != "table":
        rows = [
            {"id": done.record_id, "outcome": done.outcome, "ticket_id": done.ticket, "summary": done.line}
            for done in outcomes
        ]
        click.echo(render_rows(rows, RECEIVED_COLUMNS, fmt), nl=False)


def _one(raw: bytes) -> Mailbox:
    from sdesk.mail.mailboxes import Incoming

    @contextmanager
    def single() -> Iterator[Iterator[Incoming]]:
        yield iter([Incoming(raw, "stdin", lambda: None)])

    return single


@mail.command("triage")
@format_option
@desk_options()
@paged
def triage(fmt: str) -> None:
    """Mail the gateway could not turn into a ticket or comment, with why: each waits for accept or dismiss."""
    from sdesk.mail import received

    desk = context.desk()
    rows = [
        {
            "id": item.id,
            "received": item.received.isoformat(timespec="minutes"),
            "from": item.sender,
            "from_shown": item.sender or "(unreadable)",
            "subject": item.subject,
            "reason": item.reason,
            "ticket_id": item.ticket,
            "attachments": [entry["name"] for entry in item.attachments],
            "reply_owed": bool(item.reply),
        }
        for item in received.pending(desk.root)
    ]
    if fmt == "table" and not rows:
        click.echo("Nothing waits in triage.")
        return
    click.echo(render_rows(rows, TRIAGE_COLUMNS, fmt, TRIAGE_FIELDS), nl=False)


@mail.command("show")
@click.argument("mail_id", metavar="ID", shell_complete=completers.held_mail)
@format_option
@desk_options()
@paged
def show(mail_id: str, fmt: str) -> None:
    """A received mail as the gateway kept it: who, to whom, what it became, its whole text and attachments."""
    from sdesk.mail import received

    desk = context.desk()
    item = received.read(desk.root, mail_id)
    if fmt != "table":
        data = _received_data(item)
        click.echo(to_json(data) if fmt == "json" else render_rows(as_pairs(data), PAIR_COLUMNS, fmt), nl=False)
        return
    facts = [
        ("From", f"{item.name} <{item.sender}>" if item.name else item.sender),
        ("To", ", ".join(item.to)),
        ("Cc", ", ".join(item.cc)),
        ("Subject", item.subject),
        ("Received", item.received.isoformat(timespec="minutes")),
        ("Became", f"{item.outcome} {item.ticket or ''}".strip()),
        ("Why", item.reason),
        ("Decision", _decision(item.decision)),
    ]
    lines = [f"{label + ':':<10}{value}" for label, value in facts if value]
    for entry in item.attachments:
        where = f"kept as {entry['file']}" if entry.get("file") else f"not kept: {entry.get('why', 'held in triage')}"
        lines.append(f"Attached: {entry['name']} ({entry['size']:,} bytes), {where}")
    click.echo("\n".join([*lines, "", item.text or "(no text)"]))


def _received_data(item: Received) -> dict[str, Any]:
    """A received mail for scripts: the names of the contract (README, "Data for scripts"), not its file's."""
    decision = item.decision
    decided = None
    if decision is not None:
        decided = {key: decision.get(key) for key in ("action", "by", "at", "reason")}
        decided["ticket_id"] = decision.get("ticket")
    return {
        "id": item.id,
        "received": item.received,
        "from": item.sender,
        "name": item.name,
        "to": item.to,
        "cc": item.cc,
        "subject": item.subject,
        "outcome": item.outcome,
        "ticket_id": item.ticket,
        "reason": item.reason,
        "reply": item.reply,
        "language": item.language,
        "attachments": [
            {
                "name": entry["name"],
                "size_bytes": entry["size"],
                "kept": entry["kept"],
                "file": entry.get("file"),
                "why": entry.get("why"),
            }
            for entry in item.attachments
        ],
        "decision": decided,
        "text": item.text,
    }


def _decision(decision: dict[str, Any] | None) -> str | None:
    if not decision:
        return None
    said = f"{decision['action']} by {decision['by']} on {decision['at']:%Y-%m-%d %H:%M}"
    return said + "".join(f", {key} {decision[key]}" for key in ("ticket", "reason") if decision.get(key))


@mail.command("accept")
@click.argument("mail_id", metavar="ID", shell_complete=completers.held_mail)
@click.option(
    "--customer",
    metavar="KEY",
    shell_complete=completers.customers,
    help="The customer the ticket is for (default: the sender's).",
)
@click.option(
    "--type",
    "ticket_type",
    metavar="TYPE",
    shell_complete=completers.types,
    help="The ticket type (default: as rules.yaml's mail: says).",
)
@click.option("--product", metavar="KEY", shell_complete=completers.products, help="The product concerned.")
@click.option("--site", metavar="ID", shell_complete=completers.sites, help="The site ID (4 digits).")
@click.option("--category", metavar="NAME", shell_complete=completers.categories, help="The category.")
@click.option("--requester", metavar="EMAIL", help="Who the ticket is for (default: the sender).")
@click.option("--override", metavar="REASON", help="Open it although the rules refuse the sender; the reason is kept.")
@click.option("--accept-costs", is_flag=True, help="The customer knows the work may cost extra.")
@format_option
@desk_options()
def accept(
    mail_id: str,
    customer: str | None,
    ticket_type: str | None,
    product: str | None,
    site: str | None,
    category: str | None,
    requester: str | None,
    override: str | None,
    accept_costs: bool,
    fmt: str,
) -> None:
    """Turn a held mail into a ticket (the rules applied; --override REASON lifts eligibility), or add a held
    reply to the ticket it named. The decision is kept with the mail."""
    from sdesk.actions import triage as decisions

    desk = context.desk()
    agent = context.actor(desk)
    held = decisions.waiting(desk, mail_id)
    values = {"customer": customer, "type": ticket_type, "product": product, "site": site}
    values |= {"category": category, "requester": requester}
    outcome, ticket = decisions.accept(desk, held, agent, context.now(desk), values, override, accept_costs)
    if fmt != "table":
        click.echo(render_record({"id": held.id, "outcome": outcome, "ticket_id": ticket}, fmt), nl=False)
        return
    said = "opened ticket" if outcome == "created" else "added as a comment to"
    click.echo(f"Accepted {held.id}: {said} {ticket}")


@mail.command("dismiss")
@click.argument("mail_id", metavar="ID", shell_complete=completers.held_mail)
@click.option("--reason", required=True, metavar="TEXT", help="Why no ticket comes of it (kept with the mail).")
@format_option
@desk_options()
def dismiss(mail_id: str, reason: str, fmt: str) -> None:
    """Settle a held mail without a ticket (spam, a duplicate, sent again by the sender); the reason is kept."""
    from sdesk.actions import triage as decisions

    desk = context.desk()
    held = decisions.waiting(desk, mail_id)
    decisions.dismiss(desk, held, context.actor(desk), context.now(desk), reason)
    if fmt != "table":
        click.echo(render_record({"id": held.id, "from": held.sender, "reason": reason}, fmt), nl=False)
        return
    click.echo(f"Dismissed {held.id} from {held.sender or 'an unknown sender'}: {reason}")
