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

from sdesk.calendar import businesstime, spoken
from sdesk.clocks import sla, sweeptexts
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
    calendar = _waiting_calendar(ticket, rules)
    if calendar is None:
        return None
    policy = rules.service.sweep
    since = waiting_since(ticket)
    if any(sla.by_customer(ticket, event) and event.at >= since for event in ticket.history):
        return None  # the customer reacted: the count stops until the desk asks again
    language = rules.customer_language(ticket.customer)
    spoken_since = spoken.moment(since, language, calendar.zone)
    closes = businesstime.working_days_after(calendar, since, policy.auto_close) if policy.auto_close else None
    if closes is not None and now >= closes:
        text = sweeptexts.auto_closed(language, policy.auto_close, spoken_since)
        changes = (
            Change("status", ticket.status, policy.close_status),
            Change("resolution", ticket.resolution, text),
        )
        return Event(closes, SWEEPER, "auto-closed", changes)
    marks = [businesstime.working_days_after(calendar, since, mark) for mark in policy.reminders]
    reached = [(mark, moment) for mark, moment in zip(policy.reminders, marks, strict=True) if now >= moment]
    if not reached:
        return None
    # One reminder per mark reached; a sweep that missed a mark sends one (for the latest), not a burst. The
    # latest mark is reminded of by a reminder at or after its moment, or when every mark reached has had
    # one: a desk swept before working days counted from the next opening (0.12) recorded them earlier.
    reminders = [event.at for event in ticket.history if event.kind == "reminder" and event.at >= since]
    days, moment = reached[-1]
    if (reminders and reminders[-1] >= moment) or len(reminders) >= len(reached):
        return None
    spoken_closes = spoken.moment(closes, language, calendar.zone) if closes is not None else None
    # numbered by its mark, so two clones that remind of the same mark record the very same event
    text = sweeptexts.reminder(language, len(reached), spoken_since, days, spoken_closes)
    return Event(moment, SWEEPER, "reminder", visibility="public", text=text)


def closing_moment(ticket: Ticket, rules: Rules) -> datetime | None:
    """When the sweep will close this ticket if the customer does not react (None: it will not)."""
    calendar = _waiting_calendar(ticket, rules)
    days = rules.service.sweep.auto_close
    if calendar is None or not days:
        return None
    return businesstime.working_days_after(calendar, waiting_since(ticket), days)


def _waiting_calendar(ticket: Ticket, rules: Rules) -> businesstime.Calendar | None:
    """The desk's calendar, which counts the working days, while the ticket waits on the customer."""
    status = rules.statuses.get(ticket.status)
    if status is None or not status.waiting_on_customer:
        return None
    return rules.service.calendars.get(rules.service.desk_calendar)


def waiting_since(ticket: Ticket) -> datetime:
    """When the ticket last moved into its current status."""
    since = ticket.created
    for event in ticket.history:
        if any(change.field == "status" and change.new == ticket.status for change in event.changes):
            since = event.at
    return since
