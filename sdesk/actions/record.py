"""Recording what agents and the sweep do: a decided event saved under the ticket's lock.

This is what a command does between parsing and printing, kept out of the
CLI so the runner, the mail gateway and a portal record changes the same
way: the decision is made on the ticket as it is under its lock. A change
records its event and nothing else: the mail it owes follows from the
history and the runner sends it (:mod:`sdesk.actions.deliver`). The mail is
still composed before anything is saved, so a broken template or address
stops the change instead of a mail going missing later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from msgspec import Struct

from sdesk.actions import workflow
from sdesk.clocks import sla, sweep
from sdesk.errors import SdeskError
from sdesk.mail import notifications
from sdesk.mail.notifications import Letter
from sdesk.service.announcements import Announcement
from sdesk.storage.store import Desk
from sdesk.tickets.model import Event, Ticket

MAX_SWEEP_EVENTS = 6  # per ticket and sweep: two warnings, two breaches, then a reminder or a close


class Recorded(Struct, frozen=True):
    """A saved change, and the mail it owes (or why it cannot mail)."""

    ticket: Ticket
    event: Event
    mails: tuple[Letter, ...] = ()
    warnings: tuple[str, ...] = ()


def owed_mail(desk: Desk, ticket: Ticket, event: Event) -> tuple[list[Letter], list[str]]:
    """The mails ``event`` owes (``ticket`` as changed), each composed once; a broken template raises."""
    rules = desk.rules
    letters = notifications.letters(ticket, event, rules)
    if not letters:
        if notifications.kinds_for(ticket, event, rules) and notifications.sender(ticket, rules) is None:
            return [], [f"no mail for {ticket.id}: rules.yaml gives team {ticket.team} no email and no desk.email"]
        return [], []
    from sdesk.mail import compose  # Jinja2 is loaded only when there is mail to write

    templates = compose.Templates(desk.root, rules.timezone)
    for letter in letters:
        compose.message(letter, templates)
    return letters, []


def open_ticket(desk: Desk, make: Callable[[], Ticket]) -> Recorded:
    """Save a new ticket ``make`` builds (again, should its number be taken)."""
    owed: list[tuple[list[Letter], list[str]]] = []

    def opened() -> Ticket:
        ticket = make()
        owed[:] = [owed_mail(desk, ticket, ticket.history[-1])]
        return ticket

    ticket = desk.add(opened)
    letters, warnings = owed[0]
    return Recorded(ticket, ticket.history[-1], tuple(letters), tuple(warnings))


def change(desk: Desk, ticket_id: str, decide: Callable[[Ticket], Event]) -> Recorded:
    """Decide one event on the ticket as it is under its lock, and save it."""
    owed: list[tuple[list[Letter], list[str]]] = []

    def composed(changed: Ticket, event: Event) -> None:
        owed[:] = [owed_mail(desk, changed, event)]

    ticket, event = desk.change(ticket_id, decide, composed)
    letters, warnings = owed[0] if owed else ([], [])
    return Recorded(ticket, event, tuple(letters), tuple(warnings))


def sweep_tickets(
    desk: Desk, tickets: Iterable[tuple[Ticket, list[sla.Clock]]], now: datetime, dry_run: bool = False
) -> Iterator[Recorded]:
    """What the sweep owes each ticket (given with its clocks at ``now``), recorded (or, dry, only worked
    out), one event at a time."""
    rules = desk.rules
    for ticket, clocks in tickets:
        known: list[sla.Clock] | None = clocks
        for _ in range(MAX_SWEEP_EVENTS):
            # Decided on the ticket as read, so a ticket that owes nothing costs no lock and no second read.
            event = sweep.next_event(ticket, rules, now, known)
            known = None  # once an event is recorded, the clocks are worked out from the ticket as it is
            if event is None:
                break
            if dry_run:
                ticket.apply(event)  # in memory only: the next thing owed follows from it
                yield Recorded(ticket, event)
                continue
            try:  # decided again under the lock: another sweep may have just done it
                recorded = change(desk, ticket.id, lambda current: _owed(current, desk, now))
            except _NothingOwed:
                break
            ticket = recorded.ticket
            yield recorded


class _NothingOwed(SdeskError):
    """The ticket owes the sweep nothing (any more): another sweep may have just done it."""


def _owed(ticket: Ticket, desk: Desk, now: datetime) -> Event:
    event = sweep.next_event(ticket, desk.rules, now)
    if event is None:
        raise _NothingOwed("nothing owed")
    return event


def resolve_outage(
    desk: Desk, announcement: Announcement, resolution: str, linked: Iterable[str], agent: str, now: datetime
) -> Iterator[Recorded]:
    """Close every open ticket linked to the outage with its resolution, then mark it resolved.

    Run again after an interruption, it closes what is still open.
    """
    rules = desk.rules
    for ticket_id in linked:
        yield change(desk, ticket_id, lambda ticket: workflow.close(ticket, rules, resolution, agent, now))

    def resolved(current: Announcement) -> None:
        if current.resolved is None:
            current.resolved, current.resolved_by, current.resolution = now, agent, resolution

    desk.change_announcement(announcement.id, resolved)
