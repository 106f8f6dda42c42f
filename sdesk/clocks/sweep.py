"""What `sdesk sweep` does to one ticket: record breaches, remind a silent customer, auto-close.

Each call returns the next event the sweep owes a ticket, or None; the
history itself says what was already done, so running the sweep twice
changes nothing twice (README, "The sweep"). Pure: the caller passes ``now``
and saves the event.
"""

from __future__ import annotations

from datetime import datetime

from sdesk.calendar import businesstime
from sdesk.clocks import sla
from sdesk.clocks.slaviews import lateness
from sdesk.policy.rules import Rules
from sdesk.tickets.model import Change, Event, Ticket


def next_event(ticket: Ticket, rules: Rules, now: datetime, actor: str) -> Event | None:
    """The one thing the sweep should record on this ticket now, if any."""
    if rules.is_final(ticket.status):
        return None
    return _breach(ticket, rules, now, actor) or _waiting(ticket, rules, now, actor)


def _breach(ticket: Ticket, rules: Rules, now: datetime, actor: str) -> Event | None:
    """A clock past its due moment, recorded once per clock (and once more per reopened resolution cycle)."""
    for clock in sla.clocks(ticket, rules, now):
        if not clock.late or _breach_recorded(ticket, clock):
            continue
        due = f"{clock.calendar.local(clock.due):%a %Y-%m-%d %H:%M}"
        if clock.stopped is not None:
            how = f"{clock.stop_reason}, {lateness(clock)}"
        else:
            how = f"still open when the sweep saw it: {lateness(clock)}"
        text = f"{clock.name.capitalize()} target of {clock.target} missed: due {due}; {how}."
        return Event(now, actor, "breach", visibility="internal", text=text, clock=clock.name)
    return None


def _breach_recorded(ticket: Ticket, clock: sla.Clock) -> bool:
    return any(
        event.kind == "breach" and event.clock == clock.name and event.at >= clock.start for event in ticket.history
    )


def _waiting(ticket: Ticket, rules: Rules, now: datetime, actor: str) -> Event | None:
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
    if policy.auto_close and now >= businesstime.open_days_later(calendar, since, policy.auto_close):
        text = (
            f"Closed by the sweep: no reaction in {policy.auto_close} working days ({waited}). "
            "A new ticket can always be opened."
        )
        changes = (Change("status", ticket.status, policy.close_status), Change("resolution", ticket.resolution, text))
        return Event(now, actor, "auto-closed", changes)
    marks = [businesstime.open_days_later(calendar, since, mark) for mark in policy.reminders]
    reached = [mark for mark, moment in zip(policy.reminders, marks, strict=True) if now >= moment]
    reminders = [event.at for event in ticket.history if event.kind == "reminder" and event.at >= since]
    # One reminder per mark reached; a sweep that missed a mark sends one, not a burst.
    if not reached or (reminders and reminders[-1] >= marks[len(reached) - 1]):
        return None
    text = f"Reminder {len(reminders) + 1}: we are {waited} ({reached[-1]} working days)."
    if policy.auto_close:
        closes = businesstime.open_days_later(calendar, since, policy.auto_close)
        text += f" Without a reaction the ticket closes on {calendar.local(closes):%a %Y-%m-%d %H:%M}."
    return Event(now, actor, "reminder", visibility="public", text=text)


def waiting_since(ticket: Ticket) -> datetime:
    """When the ticket last moved into its current status."""
    since = ticket.created
    for event in ticket.history:
        if any(change.field == "status" and change.new == ticket.status for change in event.changes):
            since = event.at
    return since
