"""What Tab completes from the desk: ticket numbers with their titles, and the names rules.yaml declares.

Completion runs on every Tab, in the middle of the user's command line, so a
completer answers fast (from the ticket index, never from every file: when
more files changed than it can read at once, the index answers as it stands
and the unread numbers come without a title), prints nothing, and offers
nothing at all when the desk is missing or broken. Only words a shell takes
back as they are (no space, quote, glob or expansion character) are offered,
and what a help text quotes from the desk is shown on one line, so no title or
hostile value can break the shell's completion protocol or the command line.

Each completer is given to an option or argument as ``shell_complete=``; the
desk is the one the command would use (``--desk`` given earlier, $SDESK_DIR,
or the nearest desk above).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

from sdesk import terminal

if TYPE_CHECKING:
    from sdesk.policy.rules import Customer, Rules
    from sdesk.service.announcements import Announcement
    from sdesk.storage.index import Index
    from sdesk.storage.store import Desk
    from sdesk.tickets.model import Ticket

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem[str]]]
Offer = Iterable[tuple[str, str | None]]  # (value, help shown beside it by zsh and fish)
MOST_TICKETS = 200  # ticket numbers offered at once: typing a character or two narrows them down
MOST_UNREAD = 100  # changed ticket files read before answering (a few ms each); more, and the index answers as it is
HELP_WIDTH = 60
_PLAIN = re.compile(r"\w[\w.@+,-]*")  # a word every shell takes back unquoted


def _completer(offer: Callable[[click.Context, str], Offer]) -> Completer:
    """Click's completer from ``offer(ctx, typed)``: never an error or a word a shell cannot take back."""

    def complete(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem[str]]:
        try:
            return [
                CompletionItem(value, help=_one_line(help_text))
                for value, help_text in offer(ctx, incomplete)
                if _PLAIN.fullmatch(value)
            ]
        except Exception:  # a missing or broken desk, whatever breaks: no completions, not a traceback mid-line
            return []

    return complete


def _one_line(text: str | None) -> str | None:
    """A help text on one short line, its control characters shown (sdesk.terminal), never sent."""
    if not text:
        return None
    shown = terminal.visible(" ".join(text.split()))
    return shown if len(shown) <= HELP_WIDTH else shown[: HELP_WIDTH - 1] + "…"


def _starting(typed: str, offer: Offer) -> list[tuple[str, str | None]]:
    """What begins with what was typed, whatever its case (P1 for p)."""
    return [(value, help_text) for value, help_text in offer if value.casefold().startswith(typed.casefold())]


def _desk(ctx: click.Context) -> Desk:
    """The desk the command would act on, found as the command would find it."""
    from sdesk.cli import context

    with ctx.scope(cleanup=False):
        return context.desk()


# --- tickets ------------------------------------------------------------------------------


def _tickets(which: str) -> Completer:
    def offer(ctx: click.Context, typed: str) -> Offer:
        return _ticket_choices(_desk(ctx), typed, which)

    return _completer(offer)


def _ticket_choices(desk: Desk, typed: str, which: str = "any") -> list[tuple[str, str | None]]:
    """The numbers a prefix of the number or of its random part matches (as sdesk resolves a reference), with
    status and title: open tickets first, then closed ones, each most recently changed first; ``which`` (open,
    closed or any) is what the command takes. A ticket the index has not read yet comes first, untitled."""
    final = set(desk.rules.final_statuses)
    index = _index(desk)
    statuses = _statuses(desk, index)
    numbers = [number for number, _ in _numbered(typed, ((number, None) for number in statuses))]
    open_ones = [number for number in numbers if statuses[number] not in final]
    closed_ones = [number for number in numbers if statuses[number] in final]
    chosen = {"open": open_ones, "closed": closed_ones, "any": open_ones + closed_ones}[which][:MOST_TICKETS]
    titles = index.titles(chosen)
    return [(number, f"{statuses[number]}: {titles[number]}" if number in titles else None) for number in chosen]


def _numbered(typed: str, offer: Offer) -> list[tuple[str, str | None]]:
    """The ticket or announcement numbers a prefix of the number or of its random part names, as sdesk
    resolves a reference (any case, with or without the dash)."""
    from sdesk.tickets import ids

    compact = ids.normalize_ref(typed) if typed.strip() else ""
    return [(number, help_text) for number, help_text in offer if ids.ref_matches(compact, number)]


def _statuses(desk: Desk, index: Index) -> dict[str, str | None]:
    """Every ticket's status from the index, most recently changed first; when too many files changed to read
    them now, the numbers on disk the index does not know come first, their status unknown (None)."""
    fresh = index.refresh_if_few(MOST_UNREAD)
    known: dict[str, str | None] = dict(index.statuses())
    if fresh:
        return known
    on_disk = desk.ticket_ids()
    present = set(on_disk)
    unread: dict[str, str | None] = {number: None for number in reversed(on_disk) if number not in known}
    return unread | {number: status for number, status in known.items() if number in present}


def _index(desk: Desk) -> Index:
    from sdesk.storage.index import Index

    return Index(desk.tickets_dir, desk.state_dir)


def _ticket(ctx: click.Context, desk: Desk) -> Ticket | None:
    """The ticket named earlier on the command line (sdesk update ID …), when it names one."""
    from sdesk.errors import SdeskError

    ref = ctx.params.get("ticket_ref")
    if not isinstance(ref, str):  # while an option waits for its value, Click leaves the arguments unparsed
        ref = ctx.args[0] if ctx.args else None
    if not ref:
        return None
    try:
        return desk.read(desk.resolve(ref))
    except SdeskError:
        return None


any_ticket = _tickets("any")  # show, log, call, rules explain, sla --explain
open_ticket = _tickets("open")  # what a closed ticket refuses: update, comment, priority, close, callback, link
closed_ticket = _tickets("closed")  # reopen, survey


# --- names rules.yaml declares ----------------------------------------------------------


def _label(labels: dict[str, str], rules: Rules) -> str | None:
    return labels.get(rules.language) or labels.get("en")


@_completer
def statuses(ctx: click.Context, typed: str) -> Offer:
    rules = _desk(ctx).rules
    return _starting(typed, ((key, _label(status.labels, rules)) for key, status in rules.statuses.items()))


@_completer
def next_statuses(ctx: click.Context, typed: str) -> Offer:
    """update --status: the moves rules.yaml allows the ticket named earlier (any open status, without one)."""
    desk = _desk(ctx)
    rules = desk.rules
    ticket = _ticket(ctx, desk)
    current = rules.statuses.get(ticket.status) if ticket is not None else None
    keys = current.next if current is not None else tuple(rules.statuses)  # an undeclared status may move anywhere
    moves = [key for key in keys if key in rules.statuses and not rules.is_final(key)]
    return _starting(typed, ((key, _label(rules.statuses[key].labels, rules)) for key in moves))


@_completer
def final_statuses(ctx: click.Context, typed: str) -> Offer:
    rules = _desk(ctx).rules
    return _starting(typed, ((key, _label(rules.statuses[key].labels, rules)) for key in rules.final_statuses))


@_completer
def types(ctx: click.Context, typed: str) -> Offer:
    rules = _desk(ctx).rules
    return _starting(typed, ((key, _label(kind.labels, rules)) for key, kind in rules.types.items()))


@_completer
def priorities(ctx: click.Context, typed: str) -> Offer:
    return _starting(typed, ((level, None) for level in _desk(ctx).rules.priority.levels))


@_completer
def customers(ctx: click.Context, typed: str) -> Offer:
    return _starting(typed, ((key, customer.name) for key, customer in _desk(ctx).rules.customers.items()))


@_completer
def customer_list(ctx: click.Context, typed: str) -> Offer:
    """announce new --customers: all, or keys separated by commas (the one being typed is completed)."""
    done, comma, _ = typed.rpartition(",")
    known = _desk(ctx).rules.customers
    offer = [(f"{done}{comma}{key}", customer.name) for key, customer in known.items() if key not in done.split(",")]
    return _starting(typed, offer if comma else [("all", "every customer (of the service, when given)"), *offer])


@_completer
def teams(ctx: click.Context, typed: str) -> Offer:
    return _starting(typed, ((key, team.name) for key, team in _desk(ctx).rules.teams.items()))


@_completer
def categories(ctx: click.Context, typed: str) -> Offer:
    return _starting(typed, ((category, None) for category in _desk(ctx).rules.categories))


def _customer(ctx: click.Context, desk: Desk) -> Customer | None:
    """The customer given earlier on the command line (--customer), else the one of the ticket named earlier."""
    key = ctx.params.get("customer")
    if not isinstance(key, str):
        ticket = _ticket(ctx, desk)
        key = ticket.customer if ticket is not None else None
    return desk.rules.customers.get(key) if key else None


@_completer
def products(ctx: click.Context, typed: str) -> Offer:
    """The chosen customer's products, else every product."""
    desk = _desk(ctx)
    known = desk.rules.products
    customer = _customer(ctx, desk)
    keys = [package.product for package in customer.packages] if customer is not None else list(known)
    return _starting(typed, ((key, known[key].name if key in known else None) for key in keys))


@_completer
def sites(ctx: click.Context, typed: str) -> Offer:
    """The chosen customer's sites, else every customer's."""
    desk = _desk(ctx)
    customer = _customer(ctx, desk)
    if customer is not None:
        return _starting(typed, ((site.id, site.name) for site in customer.sites.values()))
    owners = desk.rules.customers.values()
    return _starting(
        typed, ((site.id, f"{site.name} ({owner.name})") for owner in owners for site in owner.sites.values())
    )


@_completer
def requesters(ctx: click.Context, typed: str) -> Offer:
    """The chosen customer's reference persons."""
    customer = _customer(ctx, _desk(ctx))
    contacts = customer.contacts if customer is not None else ()
    return _starting(typed, ((person.email, f"{person.name}, {person.role}") for person in contacts))


# --- agents -------------------------------------------------------------------------------


def known_agents(desk: Desk) -> list[tuple[str, str | None]]:
    """The agents rules.yaml declares, with their names; on a desk that declares none, whoever a ticket is
    assigned to."""
    declared = desk.rules.agents
    if declared:
        return [(agent.email, agent.name) for agent in declared.values()]
    index = _index(desk)
    index.refresh_if_few(MOST_UNREAD)
    return [(email, None) for email in index.assignees()]


@_completer
def assignees(ctx: click.Context, typed: str) -> Offer:
    agents = known_agents(_desk(ctx))
    return _starting(
        typed, [("me", "yourself (--as, $SDESK_USER or git config user.email)"), ("none", "nobody"), *agents]
    )


# --- announcements --------------------------------------------------------------------------


def _unresolved(desk: Desk) -> list[Announcement]:
    """The announcements not resolved yet, newest first; a file that does not read is left out."""
    from sdesk.errors import SdeskError

    found = []
    for number in reversed(desk.announcement_ids()):
        try:
            announcement = desk.read_announcement(number)
        except SdeskError:
            continue
        if announcement.resolved is None:
            found.append(announcement)
    return found


@_completer
def outages(ctx: click.Context, typed: str) -> Offer:
    """The outages a ticket may still join."""
    found = [item for item in _unresolved(_desk(ctx)) if item.kind == "outage"]
    return _numbered(typed, ((item.id, item.title) for item in found))


@_completer
def announcements(ctx: click.Context, typed: str) -> Offer:
    """What announce resolve ends: maintenance and outages not resolved yet."""
    return _numbered(typed, ((item.id, f"{item.kind}: {item.title}") for item in _unresolved(_desk(ctx))))


# --- mail ------------------------------------------------------------------------------------


@_completer
def held_mail(ctx: click.Context, typed: str) -> Offer:
    """The mail waiting in triage, oldest first, with who sent it and its subject: what an agent accepts,
    dismisses or looks at."""
    from sdesk.mail import received

    held = received.pending(_desk(ctx).root)
    return _starting(typed, ((record.id, f"{record.sender or '?'}: {record.subject or ''}") for record in held))


# The ticket field options of new and update (sdesk.cli.options.FIELD_OPTIONS) that complete from the desk.
FIELDS: dict[str, Completer] = {
    "--type": types,
    "--customer": customers,
    "--product": products,
    "--requester": requesters,
    "--team": teams,
    "--assignee": assignees,
    "--category": categories,
    "--site": sites,
}
