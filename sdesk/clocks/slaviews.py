"""SLA clocks in words and rows: for `sdesk show`, `queue`, `sla`, the Due column of `list`
and the priority command.

Sentences say durations as words (3h 30m of open time left), table cells as hours:minutes (3:30 left), as
every table does (sdesk.calendar.durations).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct

from sdesk.calendar.businesstime import is_open, next_opening
from sdesk.calendar.durations import hours_minutes, whole_minutes, words
from sdesk.clocks.sla import Clock, Upcoming
from sdesk.clocks.workqueue import Place
from sdesk.output import Column, truncate

AHEAD_WIDTH = 12  # the queue rule's name, cut so the table fits 80 columns (json/csv have it whole)
QUEUE_COLUMNS = (
    Column("position", "#"),
    Column("id", "ID"),
    Column("priority", "Pri"),
    Column("ahead_short", "Ahead"),
    Column("response", "Response"),
    Column("resolution", "Resolution"),
    # "[timer] " first on the ticket the acting agent's timer runs on; "[phone] " where a call is owed;
    # "[call 1:30] " (or "[call late 0:10] ") while a call-back the customer asked for is pending
    Column("title_shown", "Title", fill=True),
)
QUEUE_FIELDS = (
    "position",
    "id",
    "priority",
    "ahead",
    "customer",
    "team",
    "assignee",
    "status",
    "created",
    "response_due",
    "response_left_minutes",
    "resolution_due",
    "resolution_left_minutes",
    "title",
    "phone_owed",
    "why",
    "callback_due",
    "callback_left_minutes",
)
SLA_COLUMNS = (
    Column("id", "ID"),
    Column("clock", "Clock"),
    Column("state", "State"),
    Column("due_text", "Due"),
    Column("left_text", "Left"),
    Column("title", "Title", fill=True),
)
SLA_FIELDS = ("id", "clock", "state", "due", "left_minutes", "priority", "customer", "team", "assignee", "title")


def when(clock: Clock, moment: datetime) -> str:
    """A moment in the clock's calendar, the way agents read it: Mon 23 Nov 13:30."""
    return f"{clock.calendar.local(moment):%a %d %b %H:%M}"


def left(clock: Clock) -> str:
    """Open time left, or how far overdue, for the `sla` table: "2:30 left", "overdue 1:10" (of open time),
    or just "overdue" while the desk has been closed since the due moment."""
    if clock.late:
        return f"overdue {_shown(clock.open_time_late)}" if clock.open_time_late else "overdue"
    return f"{_shown(clock.left)} left"


def lateness(clock: Clock) -> str:
    """How late a clock is or was, in words for a sentence."""
    return f"{words(clock.open_time_late)} of open time late"


def clock_words(clock: Clock) -> str:
    """One line per clock for `sdesk show`."""
    due = when(clock, clock.due)
    if clock.state == "met":
        return f"met: {clock.stop_reason}, {when(clock, clock.stopped or clock.due)} (due {due})"
    if clock.state == "breached":
        stopped = when(clock, clock.stopped or clock.due)
        return f"breached: {clock.stop_reason}, {stopped}: {lateness(clock)} (due {due})"
    if clock.state == "overdue":
        return f"overdue since {due}: {lateness(clock)}"
    if clock.state == "paused":
        status = next(pause.status for pause in clock.pauses if pause.ongoing)
        return f"paused ({status}), {words(clock.left)} of open time left: due {due} if it resumes now"
    running = f"due {due}, {words(clock.left)} of open time left"
    if not clock.elapsed and not is_open(clock.calendar, clock.now):  # raised outside business hours
        return f"{running}; it starts counting {when(clock, next_opening(clock.calendar, clock.now))}"
    return running


def clock_data(clock: Clock) -> dict[str, Any]:
    """A clock for JSON: stable keys, ISO times, minutes of open time."""
    return {
        "clock": clock.name,
        "target": str(clock.target),
        "calendar": clock.calendar.name,
        "state": clock.state,
        "started": clock.start,
        "due": clock.due,
        "stopped": clock.stopped,
        "left_minutes": minutes(clock),
    }


def minutes(clock: Clock) -> int:
    return whole_minutes(clock.left)


def queue_row(position: int, place: Place, timed: bool = False) -> dict[str, Any]:
    """A queue row; ``timed`` marks the ticket the acting agent's timer runs on (in the table only: the
    timer is this clone's, the JSON and CSV the desk's)."""
    ticket = place.ticket
    callback = next((clock for clock in place.clocks if clock.name == "callback" and clock.stopped is None), None)
    marks = (
        *(["[timer] "] if timed else []),
        *(["[phone] "] if ticket.phone_owed else []),
        *([f"[call {_cell(callback).removesuffix(' left')}] "] if callback else []),
    )
    row: dict[str, Any] = {
        "position": position,
        "id": ticket.id,
        "priority": ticket.priority,
        "ahead": place.ahead,
        "ahead_short": truncate(place.ahead or "", AHEAD_WIDTH),
        "customer": ticket.customer,
        "team": ticket.team,
        "assignee": ticket.assignee,
        "status": ticket.status,
        "created": ticket.created,
        "title": ticket.title,
        "title_shown": "".join((*marks, ticket.title)),
        "phone_owed": ticket.phone_owed,
        "why": place.why(),
    }
    for clock in place.clocks:
        row[clock.name] = _cell(clock)
        row[f"{clock.name}_due"] = clock.due if clock.stopped is None else None
        row[f"{clock.name}_left_minutes"] = minutes(clock) if clock.stopped is None else None
    return row


def _cell(clock: Clock) -> str:
    """A clock in a narrow table cell: "1:45 left", "late 2:40", "met", "paused"."""
    if clock.stopped is not None or clock.state == "paused":
        return clock.state
    if clock.late:
        return f"late {_shown(clock.open_time_late)}" if clock.open_time_late else "late"
    return f"{_shown(clock.left)} left"


def _shown(duration: timedelta) -> str:
    return hours_minutes(whole_minutes(duration))


class Due(Struct, frozen=True):
    """When a ticket is due, for a listing."""

    at: datetime | None  # the due moment of the running clock due first; None while none runs
    shown: str  # "13:30", "Tue 09:00", "02 Dec", "late Fri 16:00", "paused", or "" (no clock)


def next_due(clocks: Upcoming, now: datetime) -> Due:
    """The running clock due first (response, resolution or call-back): what `sdesk list` shows as Due.

    As short as a narrow column allows, in the clock's calendar: the time today, the day and time within
    a week, the date further off; "late" once the moment has passed, "paused" while every clock that
    still runs waits on the customer.
    """
    due = clocks.due
    if due is None:
        return Due(None, "paused" if clocks.paused else "")
    today = now.astimezone(due.tzinfo).date()
    days = abs((due.date() - today).days)
    if days == 0:
        moment = f"{due:%H:%M}"
    elif days < 7:
        moment = f"{due:%a %H:%M}"
    else:
        moment = f"{due:%d %b}" if due.year == today.year else f"{due:%Y-%m-%d}"
    return Due(due, f"late {moment}" if now > due else moment)


def sla_row(clock: Clock, ticket: Any) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "clock": clock.name,
        "state": clock.state,
        "due": clock.due,
        "due_text": when(clock, clock.due),
        "left_minutes": minutes(clock),
        "left_text": left(clock),
        "priority": ticket.priority,
        "customer": ticket.customer,
        "team": ticket.team,
        "assignee": ticket.assignee,
        "title": ticket.title,
    }
