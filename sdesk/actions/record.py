"""Recording what agents and the sweep do: a decided event saved under the ticket's lock, with the mail it owes.

This is what a command does between parsing and printing, kept out of the
CLI so the runner, the mail gateway and a portal record changes the same
way: the decision is made on the ticket as it is under its lock, the mails
are composed before anything is saved (a broken template saves nothing)
and queued once it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sdesk.actions import workflow
from sdesk.clocks import sweep
from sdesk.errors import SdeskError
from sdesk.mail.holding import drop, hold, holding
from sdesk.mail.notifications import Letter
from sdesk.service.announcements import Announcement
from sdesk.storage.store import Desk
from sdesk.tickets.model import Event, Ticket

MAX_SWEEP_EVENTS = 4  # per ticket and sweep: two breaches, then a reminder or a close


@dataclass(frozen=True)
class Recorded:
    """A saved change, and the mail it queued (or why it could not mail)."""

    ticket: Ticket
    event: Event
    mails: tuple[Letter, ...] = ()
    warnings: tuple[str, ...] = ()


def open_ticket(desk: Desk, make: Callable[[], Ticket], now: datetime) -> Recorded:
    """Save a new ticket ``make`` builds (again, should its number be taken) with its created mail."""
    with holding(desk) as held:

        def opened() -> Ticket:
            drop(held)  # an earlier attempt's number was taken
            ticket = make()
            hold(desk, ticket, ticket.history[-1], now, held)
            return ticket

        ticket = desk.add(opened)
    return Recorded(ticket, ticket.history[-1], tuple(held.letters), tuple(held.warnings))


def change(desk: Desk, ticket_id: str, decide: Callable[[Ticket], Event], now: datetime) -> Recorded:
    """Decide one event on the ticket as it is under its lock, and save it with its mail."""
    with holding(desk) as held:
        ticket, event = desk.change(ticket_id, decide, lambda changed, event: hold(desk, changed, event, now, held))
    return Recorded(ticket, event, tuple(held.letters), tuple(held.warnings))


def sweep_tickets(
    desk: Desk, tickets: Iterable[Ticket], now: datetime, agent: str, dry_run: bool = False
) -> Iterator[Recorded]:
    """What the sweep owes each ticket, recorded (or, dry, only worked out), one event at a time."""
    rules = desk.rules
    for ticket in tickets:
        for _ in range(MAX_SWEEP_EVENTS):
            # Decided on the ticket as read, so a ticket that owes nothing costs no lock and no second read.
            event = sweep.next_event(ticket, rules, now, agent)
            if event is None:
                break
            if dry_run:
                ticket.apply(event)  # in memory only: the next thing owed follows from it
                yield Recorded(ticket, event)
                continue
            try:  # decided again under the lock: another sweep may have just done it
                recorded = change(desk, ticket.id, lambda current: _owed(current, desk, now, agent), now)
            except _NothingOwed:
                break
            ticket = recorded.ticket
            yield recorded


class _NothingOwed(SdeskError):
    """The ticket owes the sweep nothing (any more): another sweep may have just done it."""


def _owed(ticket: Ticket, desk: Desk, now: datetime, agent: str) -> Event:
    event = sweep.next_event(ticket, desk.rules, now, agent)
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
        yield change(desk, ticket_id, lambda ticket: workflow.close(ticket, rules, resolution, agent, now), now)

    def resolved(current: Announcement) -> None:
        if current.resolved is None:
            current.resolved, current.resolved_by, current.resolution = now, agent, resolution

    desk.change_announcement(announcement.id, resolved)
