"""What the sweep does to one ticket: record breaches and warnings, remind a silent customer, auto-close.

Each call returns the next event the sweep owes a ticket, or None; the
history itself says what was already done, so running the sweep twice
changes nothing twice (README, "The sweep"). Pure: the caller passes ``now``
and saves the event.

An event is decided by what it is about, not by who ran the sweep or when:
it is recorded by :data:`SWEEPER` at the moment it fell due (the due moment
of a breach, the moment a warning's window opened, a reminder's working-day
mark, the auto-close moment), and its text holds nothing else. Two clones, or
a clone and the runner, that sweep the same ticket record the very same event,
and the merge driver keeps it once.
"""

from __future__ import annotations

from datetime import datetime

from sdesk.calendar import businesstime
from sdesk.clocks import sla
from sdesk.policy.rules import Rules
from sdesk.tickets.model import SWEEPER, Change, Event, Ticket


def next_event(ticket: Ticket, rules: Rules, now: datetime, clocks: list[sla.Clock] | None = None) -> Event | None:
    """The one thing the sweep should record on this ticket now, if any (``clocks``: the ticket's clocks at
    ``now`` when the caller has them already)."""
    if rules.is_final(ticket.status):
        return None
    clocks = sla.clocks(ticket, rules, now) if clocks is None else clocks
    return _breach(ticket, clocks) or _warning(ticket, clocks, rules, now) or _waiting(ticket, rules, now)


def _breach(ticket: Ticket, clocks: list[sla.Clock]) -> Event | None:
    """A clock past its due moment, recorded once per clock (and once more per reopened resolution cycle)."""
    for clock in clocks:
        if not clock.late or _recorded(ticket, "breach", clock):
            continue
        text = f"{clock.name.capitalize()} target of {clock.target} missed: due {_local(clock, clock.due)}."
        return Event(clock.due, SWEEPER, "breach", visibility="internal", text=text, clock=clock.name)
    return None


def _warning(ticket: Ticket, clocks: list[sla.Clock], rules: Rules, now: datetime) -> Event | None:
    """A running clock with no more than ``sweep.warn_within`` open time left, warned of once per clock."""
    warn_within = rules.service.sweep.warn_within
    if warn_within is None:
        return None
    for clock in clocks:
        if clock.stopped is not None or clock.paused or clock.late or _recorded(ticket, "warning", clock):
            continue
        window = warn_within.duration(clock.calendar, clock.start)
        opens = sla.moment_left(clock, window)
        if now < opens:
            continue
        text = (
            f"{clock.name.capitalize()} target of {clock.target} due {_local(clock, clock.due)}: "
            f"{warn_within} of open time left."
        )
        return Event(opens, SWEEPER, "warning", visibility="internal", text=text, clock=clock.name)
    return None


def _recorded(ticket: Ticket, kind: str, clock: sla.Clock) -> bool:
    return any(event.kind == kind and event.clock == clock.name and event.at >= clock.start for event in ticket.history)


def _local(clock: sla.Clock, moment: datetime) -> str:
    return f"{clock.calendar.local(moment):%a %Y-%m-%d %H:%M}"


def _waiting(ticket: Ticket, rules: Rules, now: datetime) -> Event | None:
    """Waiting on the customer: a reminder at each declared working-day mark, closing after the last one."""
    status = rules.statuses.get(ticket.status)
    policy = rules.service.sweep
    calendar = rules.service.calendars.get(rules.service.desk_calendar)
    if status is None or not status.waiting_on_customer or calendar is None:
        return None
    since = waiting_since(ticket)
    if any(sla.by_customer(ticket, event) and event.at >= since for event in ticket.history):
        return None  # the customer reacted: the count stops until the desk asks again
    waited = f"waiting for your reaction since {calendar.local(since):%a %Y-%m-%d %H:%M}"
    if policy.auto_close:
        closes = businesstime.open_days_later(calendar, since, policy.auto_close)
        if now >= closes:
            text = (
                f"Closed by the sweep: no reaction in {policy.auto_close} working days ({waited}). "
                "A new ticket can always be opened."
            )
            changes = (
                Change("status", ticket.status, policy.close_status),
                Change("resolution", ticket.resolution, text),
            )
            return Event(closes, SWEEPER, "auto-closed", changes)
    marks = [businesstime.open_days_later(calendar, since, mark) for mark in policy.reminders]
    reached = [(mark, moment) for mark, moment in zip(policy.reminders, marks, strict=True) if now >= moment]
    reminders = [event.at for event in ticket.history if event.kind == "reminder" and event.at >= since]
    # One reminder per mark reached; a sweep that missed a mark sends one (for the latest), not a burst.
    if not reached or (reminders and reminders[-1] >= reached[-1][1]):
        return None
    days, moment = reached[-1]
    text = f"Reminder {len(reminders) + 1}: we are {waited} ({days} working days)."
    if policy.auto_close:
        text += f" Without a reaction the ticket closes on {calendar.local(closes):%a %Y-%m-%d %H:%M}."
    return Event(moment, SWEEPER, "reminder", visibility="public", text=text)


def waiting_since(ticket: Ticket) -> datetime:
    """When the ticket last moved into its current status."""
    since = ticket.created
    for event in ticket.history:
        if any(change.field == "status" and change.new == ticket.status for change in event.changes):
            since = event.at
    return since
