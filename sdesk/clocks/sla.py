"""SLA clocks of a ticket: response and resolution, due dates, pauses and breaches.

Everything here is derived from the ticket's history and the desk's rules;
nothing is stored but the targets themselves (``sla:`` in the ticket file,
fixed when the ticket opens and when its priority changes). Pure: the caller
passes ``now``. What does not depend on ``now`` (:class:`Facts`: the cycles,
budgets, unpaused due moments, open time up to each status change) is worked
out apart, so the index can keep it beside the ticket under the rules' key and
a listing of old open tickets does not walk their calendars again.

The fine points (README, "SLA clocks"):

* the first response is the first public comment by an agent, or an agent's
  move out of the initial status (closing included); internal notes and the
  requester's own messages do not count;
* time in a status with ``pauses_clock`` does not count; while paused, the
  due date shown is the one the clock would have if it resumed now;
* a priority change recomputes both targets from the clock's start;
* reopening restarts the resolution clock from zero (the response clock is
  not restarted: the customer has had an answer);
* a clock is overdue only after its due moment, on the wall clock: at the
  due moment itself it is still on time, half an hour after a 17:00 due
  moment it is overdue although no open time has passed since.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import msgspec
from msgspec import Struct

from sdesk.calendar import businesstime, durations
from sdesk.calendar.businesstime import Calendar, Target, micro
from sdesk.policy.rules import Rules
from sdesk.tickets.model import CLOCK_NAMES, SLA_KEYS, Change, Event, Ticket

T = TypeVar("T")


class Terms(Struct, frozen=True):
    """The targets a ticket runs on: its plan, calendar and the target of each clock."""

    plan: str
    calendar: str
    response: Target | None
    resolution: Target | None
    callback: Target | None = None

    def target(self, clock: str) -> Target | None:
        found: Target | None = getattr(self, clock)
        return found

    def as_fields(self) -> dict[str, str | None]:
        """The ticket fields that record these terms (sla_plan, sla_calendar, …)."""
        values = {key: getattr(self, key) for key in SLA_KEYS}  # the attributes are named as the file's keys
        return {f"sla_{key}": str(value) if value else None for key, value in values.items()}


class Pause(Struct, frozen=True):
    start: datetime
    end: datetime  # clipped to the end of what the clock looks at
    status: str
    ongoing: bool  # the ticket is still in the pausing status


class Clock(Struct, frozen=True):
    name: str  # response or resolution
    target: Target
    calendar: Calendar
    start: datetime  # when the clock started: creation, or the reopening for a new resolution cycle
    start_reason: str
    budget: timedelta  # the open time the target gives
    due: datetime
    stopped: datetime | None  # first response / resolution
    stop_reason: str | None
    elapsed: timedelta  # open time counted, up to the stop or now
    pauses: tuple[Pause, ...]
    now: datetime

    @property
    def left(self) -> timedelta:
        """Open time left; negative when overdue."""
        return self.budget - self.elapsed

    @property
    def paused(self) -> bool:
        return self.stopped is None and any(pause.ongoing for pause in self.pauses)

    @property
    def late(self) -> bool:
        """Stopped or still running after the due moment (at the due moment itself it is on time).

        Compared on the wall clock, not in open time: a clock due at 17:00 is
        overdue at 17:30 although the desk has been closed since.
        """
        if self.paused:  # late if it was already past due when the pause began
            return any(pause.ongoing and pause.start > self.due for pause in self.pauses)
        return (self.stopped or self.now) > self.due

    @property
    def open_time_late(self) -> timedelta:
        """How much open time has passed since the due moment (zero while the desk has been closed since)."""
        return max(self.elapsed - self.budget, timedelta())

    @property
    def state(self) -> str:
        """met, breached (stopped late), overdue, paused or running."""
        if self.stopped is not None:
            return "breached" if self.late else "met"
        if self.late:
            return "overdue"
        return "paused" if self.paused else "running"


def moment_left(clock: Clock, window: timedelta) -> datetime:
    """When the clock has ``window`` of open time left (its pauses so far skipped, as for the due moment)."""
    budget = max(clock.budget - window, timedelta())
    meter = _Meter(clock.calendar, clock.calendar.local(clock.start).year, {})  # pauses start at the start or later
    return _due(clock.calendar, clock.start, budget, list(clock.pauses), False, meter)


def needs_attention(clock: Clock, window: timedelta | None) -> bool:
    """Running and overdue, or running (not paused) with at most ``window`` of open time left."""
    if clock.stopped is not None:
        return False
    return clock.late or (window is not None and not clock.paused and clock.left <= window)


# --- the terms ----------------------------------------------------------------------------


def terms_from_rules(rules: Rules, customer: str, level: str, ticket_type: str | None = None) -> Terms | None:
    """The targets the customer's plan gives a ticket of this priority, or None (no clocks); a ticket type
    with targets of its own (a complaint) runs on those, under the customer's plan."""
    known = rules.customers.get(customer)
    plan = rules.service.plans.get(known.plan) if known else None
    own = rules.service.type_targets.get(ticket_type or "")
    level_targets = plan.targets.get(level) if plan else None
    targets = own or level_targets
    if plan is None or targets is None or targets.calendar not in rules.service.calendars:
        return None
    # a call-back is the plan's service whatever the ticket's type: a complaint without one of its own has it too
    callback = targets.callback or (level_targets.callback if level_targets else None)
    return Terms(plan.key, targets.calendar, targets.response, targets.resolution, callback)


def terms(ticket: Ticket, rules: Rules) -> Terms | None:
    """The targets recorded on the ticket; a ticket from before SLA clocks takes today's rules."""
    if ticket.sla_plan is None:
        return terms_from_rules(rules, ticket.customer, ticket.priority, ticket.type)
    calendar = ticket.sla_calendar or ""
    if calendar not in rules.service.calendars:
        calendar = rules.service.desk_calendar  # the calendar was removed from rules.yaml since
    if calendar not in rules.service.calendars:
        return None
    targets = (_target(ticket.sla_response), _target(ticket.sla_resolution), _target(ticket.sla_callback))
    return Terms(ticket.sla_plan, calendar, *targets)


def _target(text: str | None) -> Target | None:
    if text is None:
        return None
    try:
        return businesstime.parse_target(text)
    except ValueError:
        return None  # `sdesk check` reports it


def term_changes(ticket: Ticket, rules: Rules, level: str, ticket_type: str | None = None) -> list[Change]:
    """The recorded targets a move to ``level`` (and ``ticket_type``) changes: a change of priority or type
    recomputes them."""
    new = terms_from_rules(rules, ticket.customer, level, ticket_type or ticket.type)
    fields: dict[str, str | None] = new.as_fields() if new else {f"sla_{key}": None for key in SLA_KEYS}
    if fields["sla_callback"] is None and pending_callback(ticket) is not None:
        fields["sla_callback"] = ticket.sla_callback  # a pending call-back keeps the target it was asked on
    return [Change(name, ticket.value(name), value) for name, value in fields.items() if ticket.value(name) != value]


# --- the clocks ---------------------------------------------------------------------------


TABLE_YEARS = 10  # how far past a ticket's first clock start its facts keep open time


class ClockFacts(Struct, frozen=True, array_like=True):
    """One clock as far as it does not depend on when it is looked at."""

    name: str
    target: Target
    start: datetime
    start_reason: str
    stopped: datetime | None
    stop_reason: str | None
    budget_us: int  # the open time the target gives (µs)
    due_unpaused: datetime  # the due moment while the clock has not been paused, in UTC (kept JSON has no
    # offsets of seconds, which some zones had before 1972)


class Facts(Struct, frozen=True, array_like=True):
    """A ticket's clocks whatever the time: what the index keeps beside an open ticket for `queue`, `sla`,
    the sweep and the site's export.

    Made from the ticket and the rules alone (the index keys them by the rules), so a clock
    looked at later costs a few lookups, not a walk through its calendar.
    """

    calendar: str
    statuses: tuple[tuple[datetime, str], ...]  # status_timeline
    counted_from: int  # the local year open time is counted from: that of the first clock start
    open_at: tuple[tuple[datetime, int], ...]  # open time (µs) up to each start, stop and status change
    clocks: tuple[ClockFacts, ...]


def clocks(ticket: Ticket, rules: Rules, now: datetime) -> list[Clock]:
    """The ticket's response and resolution clocks (those its plan has targets for)."""
    known = facts(ticket, rules)
    return clocks_at(known, rules, now) if known else []


def facts(ticket: Ticket, rules: Rules) -> Facts | None:
    """Everything the ticket's clocks are made of that does not depend on the time; None: no clocks."""
    agreed = terms(ticket, rules)
    if agreed is None:
        return None
    calendar = rules.service.calendars[agreed.calendar]
    statuses = status_timeline(ticket, rules)
    found = []
    for name in CLOCK_NAMES:
        target = agreed.target(name)
        if target is None:
            continue
        if name == "response":
            start, start_reason = ticket.created, "ticket created"
            stopped, stop_reason = first_response(ticket, rules)
        elif name == "resolution":
            start, start_reason, stopped, stop_reason = resolution_cycle(ticket, rules, statuses)
        else:
            asked = callback_cycle(ticket)
            if asked is None:
                continue  # nobody asked to be called back
            start, start_reason, stopped, stop_reason = asked
        budget = target.duration(calendar, start)
        due = businesstime.add(calendar, start, budget, at_opening=bool(target.days)).astimezone(UTC)
        found.append(ClockFacts(name, target, start, start_reason, stopped, stop_reason, micro(budget), due))
    if not found:
        return Facts(agreed.calendar, tuple(statuses), 0, (), ())
    # Open time up to the moments the clocks measure from or to: none before the first start (they are
    # clipped to it) and none years ahead (a mistyped year would build centuries of tables); the meter
    # works out any other moment, now included, when asked.
    first = min(clock.start for clock in found)
    horizon = first + timedelta(days=366 * TABLE_YEARS)
    moments = {since for since, _ in statuses} | {c.start for c in found} | {c.stopped for c in found if c.stopped}
    since_year = calendar.local(first).year
    used = sorted(moment for moment in moments if first <= moment <= horizon)
    open_at = tuple((moment, calendar.open_time(moment, since_year)) for moment in used)
    return Facts(agreed.calendar, tuple(statuses), since_year, open_at, tuple(found))


ClockSource = Callable[[Ticket], list[Clock]]  # where a listing's clocks come from


def from_scratch(rules: Rules, now: datetime) -> ClockSource:
    """Each ticket's clocks at ``now``, worked out from the ticket."""
    return lambda ticket: clocks(ticket, rules, now)


def kept(ticket: Ticket, rules: Rules) -> bytes:
    """The ticket's facts as the index keeps them (JSON: every moment keeps its UTC offset)."""
    return _encode_facts(facts(ticket, rules))


def clocks_from_kept(data: bytes | None, ticket: Ticket, rules: Rules, now: datetime) -> list[Clock]:
    """The clocks at ``now`` from kept facts (:func:`from_kept`)."""
    return from_kept(data, ticket, rules, lambda known: clocks_at(known, rules, now), [])


def from_kept(data: bytes | None, ticket: Ticket, rules: Rules, use: Callable[[Facts], T], no_clocks: T) -> T:
    """What ``use`` makes of the ticket's kept facts. The index is a cache: facts that are missing, do not
    read, do not fit the rules or say "no clocks" of a ticket that has them are made again from the ticket."""
    if data is not None:
        try:
            known = _decode_facts(data)
            if known is not None:
                return use(known)
            if terms(ticket, rules) is None:
                return no_clocks
        except (msgspec.DecodeError, TypeError, ValueError, OverflowError, KeyError, IndexError):
            pass  # damaged: worked out again below
    worked_out = facts(ticket, rules)
    return use(worked_out) if worked_out else no_clocks


def clocks_at(known: Facts, rules: Rules, now: datetime) -> list[Clock]:
    """The clocks as they stand at ``now``."""
    calendar = rules.service.calendars[known.calendar]
    meter = _Meter(calendar, known.counted_from, dict(known.open_at))
    statuses = list(known.statuses)
    return [_clock(clock, calendar, statuses, rules.service.pausing, meter, now) for clock in known.clocks]


class Upcoming(Struct, frozen=True):
    """What a listing shows of a ticket's clocks."""

    due: datetime | None = None  # when the running clock due first is due, in its calendar's time; None: none runs
    paused: bool = False  # a clock that has not stopped waits paused


def upcoming(known: Facts, rules: Rules, now: datetime) -> Upcoming:
    """When the clock due first is due: worked out without the open time each clock has used, which
    :func:`clocks_at` works out too (a desk-wide listing would pay for it)."""
    calendar = rules.service.calendars[known.calendar]
    meter = _Meter(calendar, known.counted_from, dict(known.open_at))
    statuses = list(known.statuses)
    due, paused = [], False
    for clock in known.clocks:
        if clock.stopped is not None:
            continue
        pauses = _clock_pauses(clock, statuses, rules.service.pausing, now)
        if pauses and pauses[-1].ongoing:
            paused = True
        else:
            due.append(_due_moment(clock, calendar, pauses, meter))
    return Upcoming(min(due, default=None), paused)


_encode_facts = msgspec.json.Encoder().encode
_decode_facts = msgspec.json.Decoder(Facts | None).decode


class _Meter:
    """Open time between two moments, from the facts' table where it has them (the calendar's tables else)."""

    def __init__(self, calendar: Calendar, since_year: int, known: dict[datetime, int]):
        self.calendar = calendar
        self.since_year = since_year  # no later than the year of any moment measured from
        self.known = known

    def measure(self, start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return timedelta()
        return timedelta(microseconds=self._open_time(end) - self._open_time(start))

    def _open_time(self, moment: datetime) -> int:
        found = self.known.get(moment)
        return self.calendar.open_time(moment, self.since_year) if found is None else found


# --- cycles, first responses and pauses ---------------------------------------------------


def status_timeline(ticket: Ticket, rules: Rules) -> list[tuple[datetime, str]]:
    """(since, status) for every status the ticket has been in, oldest first."""
    first = next(
        (c.old for e in ticket.history for c in e.changes if c.field == "status" and c.old), rules.initial_status
    )
    timeline = [(ticket.created, first)]
    for event in ticket.history:
        for change in event.changes:
            if change.field == "status" and change.new:
                timeline.append((event.at, change.new))
    return timeline


def by_customer(ticket: Ticket, event: Event) -> bool:
    """The requester's own reaction: marked --from-customer, or recorded under their address."""
    return event.from_customer or ticket.is_requester(event.by)


def first_response(ticket: Ticket, rules: Rules) -> tuple[datetime | None, str | None]:
    """When and how an agent first answered: a public comment, or moving the ticket out of its first status."""
    for event in ticket.history:
        if by_customer(ticket, event):
            continue
        if event.kind == "comment" and event.visibility == "public":
            return event.at, f"first public comment by {event.by}"
        for change in event.changes:
            if change.field == "status" and change.old == rules.initial_status and change.new != change.old:
                return event.at, f"moved to {change.new} by {event.by}"
    return None, None


def resolution_cycle(
    ticket: Ticket, rules: Rules, statuses: list[tuple[datetime, str]]
) -> tuple[datetime, str, datetime | None, str | None]:
    """The current resolution cycle: it starts at creation or the last reopening and stops at the first final
    status after that in the history. Places in the history, not moments, say what came after: a ticket
    closed and reopened within the same second runs a new cycle."""
    start, start_reason, after = ticket.created, "ticket created", 0
    for place, event in enumerate(ticket.history):
        if event.kind == "reopened":
            start, start_reason, after = event.at, f"reopened by {event.by}", place + 1
    first = statuses[0][1]
    if after == 0 and rules.is_final(first):  # registered straight into a final status
        return start, start_reason, ticket.created, f"moved to {first}"
    for event in ticket.history[after:]:
        for change in event.changes:
            if change.field == "status" and change.new and rules.is_final(change.new):
                return start, start_reason, event.at, f"moved to {change.new}"
    return start, start_reason, None, None


def pending_callback(ticket: Ticket) -> datetime | None:
    """When the customer asked for the call-back no call has answered yet (None: none is pending)."""
    asked = callback_cycle(ticket)
    return asked[0] if asked is not None and asked[2] is None else None


def callback_cycle(ticket: Ticket) -> tuple[datetime, str, datetime | None, str | None] | None:
    """The latest call-back the customer asked for (seed 002), or None: it starts at the request (a second
    request while one is pending changes nothing) and stops at the first call to the customer after it.
    Closing the ticket does not stop it: a call-back never made stays missed."""
    cycle: tuple[datetime, str, datetime | None, str | None] | None = None
    asked: tuple[datetime, str] | None = None  # a request not yet answered by a call
    for event in ticket.history:
        if asked is None:
            if event.kind == "callback":
                asked = (event.at, f"call-back asked for, recorded by {event.by}")
                cycle = (*asked, None, None)
            continue
        if event.kind == "call" and not event.from_customer:
            cycle, asked = (*asked, event.at, f"called back by {event.by}"), None
    return cycle


def _clock(
    known: ClockFacts,
    calendar: Calendar,
    statuses: list[tuple[datetime, str]],
    pausing: frozenset[str],
    meter: _Meter,
    now: datetime,
) -> Clock:
    until = known.stopped or now
    pauses = _clock_pauses(known, statuses, pausing, until)
    paused_time = sum((meter.measure(pause.start, pause.end) for pause in pauses), timedelta())
    return Clock(
        name=known.name,
        target=known.target,
        calendar=calendar,
        start=known.start,
        start_reason=known.start_reason,
        budget=timedelta(microseconds=known.budget_us),
        due=_due_moment(known, calendar, pauses, meter),
        stopped=known.stopped,
        stop_reason=known.stop_reason,
        elapsed=meter.measure(known.start, until) - paused_time,
        pauses=tuple(pauses),
        now=now,
    )


def _clock_pauses(
    known: ClockFacts, statuses: list[tuple[datetime, str]], pausing: frozenset[str], until: datetime
) -> list[Pause]:
    """The clock's pauses up to ``until``: a customer waiting for a call waits whatever the ticket's status,
    so the call-back never pauses."""
    return _pauses(statuses, pausing, known.start, until) if known.name != "callback" else []


def _due_moment(known: ClockFacts, calendar: Calendar, pauses: list[Pause], meter: _Meter) -> datetime:
    """When the clock is due: the kept moment while it has not paused, else worked out around its pauses."""
    if not pauses:
        return calendar.local(known.due_unpaused)
    budget = timedelta(microseconds=known.budget_us)
    return _due(calendar, known.start, budget, pauses, bool(known.target.days), meter)


def _pauses(
    statuses: list[tuple[datetime, str]], pausing: frozenset[str], start: datetime, until: datetime
) -> list[Pause]:
    """The stretches between start and until that the ticket spent in a pausing status."""
    pauses = []
    for index, (since, status) in enumerate(statuses):
        if status not in pausing:
            continue
        following = statuses[index + 1][0] if index + 1 < len(statuses) else None
        begin, end = max(since, start), min(following or until, until)
        if begin < end:
            pauses.append(Pause(begin, end, status, ongoing=following is None))
    return pauses


def _due(
    calendar: Calendar,
    start: datetime,
    budget: timedelta,
    pauses: list[Pause],
    at_opening: bool,
    meter: _Meter,
) -> datetime:
    """When the clock's open time runs out, skipping the pauses (an ongoing one as if it ended now).

    Targets in business days fall due at an opening rather than the closing
    before it: by the same time on the next working day.
    """
    moment, used = start, timedelta()
    for pause in pauses:
        running = meter.measure(moment, pause.start)
        if used + running >= budget:
            break
        used += running
        moment = pause.end
    return businesstime.add(calendar, moment, budget - used, at_opening)


# --- timeline for `sdesk sla --explain` ---------------------------------------------------


def timeline(clock: Clock) -> list[str]:
    """How the due date came about: the start, each day's windows used, days skipped, pauses."""
    calendar = clock.calendar

    def at(moment: datetime) -> str:
        return f"{calendar.local(moment):%a %Y-%m-%d %H:%M}"

    entries = [(clock.start, f"{at(clock.start)}  clock starts ({clock.start_reason})")]
    opening = businesstime.next_opening(calendar, clock.start)
    if opening != clock.start:
        entries.append((opening, f"{at(opening)}  the desk opens: the clock runs from here"))
    if clock.target.days:
        entries.append((opening, f"{'':20}  {clock.target} = {durations.words(clock.budget)} of open time"))
    end = clock.stopped or clock.due
    day = calendar.local(clock.start).date()
    used = timedelta()
    while day <= calendar.local(end).date():
        line, used, first_used = _day_line(clock, day, end, used)
        if line:
            entries.append((first_used, line))
        day += timedelta(days=1)
    for pause in clock.pauses:
        lost = businesstime.measure(calendar, pause.start, pause.end)
        until = "now" if pause.ongoing else at(pause.end)
        text = f"paused ({pause.status}) until {until}: {durations.words(lost)} of open time not counted"
        entries.append((pause.start, f"{at(pause.start)}  {text}"))
    entries.append((clock.due, f"{at(clock.due)}  due: {clock.target} of open time used up"))
    if clock.stopped is not None:
        entries.append((clock.stopped, f"{at(clock.stopped)}  stopped: {clock.stop_reason}"))
    entries.sort(key=lambda entry: entry[0])
    return [line for _, line in entries]


def _day_line(clock: Clock, day: date, end: datetime, used: timedelta) -> tuple[str | None, timedelta, datetime]:
    """One day of the timeline, the open time counted up to its end, and where the line sorts."""
    calendar = clock.calendar
    windows = calendar.day_windows(day)
    label = f"{day:%a %Y-%m-%d}"
    midnight = max(datetime.combine(day, datetime.min.time(), calendar.zone), clock.start)
    if not windows:
        closure = calendar.closure(day)
        reason = closure or ("weekend" if day.weekday() >= 5 else "no opening hours")
        return f"{label}        closed: {reason}", used, midnight
    segments = [
        segment for opens, closes in windows for segment in _running(clock, max(opens, clock.start), min(closes, end))
    ]
    if not segments:
        touched = any(max(opens, clock.start) < min(closes, end) for opens, closes in windows)
        return (f"{label}        paused all day: nothing counted" if touched else None), used, midnight
    used += sum((finish - begin for begin, finish in segments), timedelta())
    parts = ", ".join(f"{calendar.local(begin):%H:%M}-{calendar.local(finish):%H:%M}" for begin, finish in segments)
    return f"{label}        counted {parts}: {durations.words(used)} so far", used, segments[0][0]


def _running(clock: Clock, begin: datetime, finish: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of an opening window, clipped to [begin, finish), in which the clock was not paused."""
    segments = [(begin, finish)] if begin < finish else []
    for pause in clock.pauses:
        segments = [
            part
            for start, stop in segments
            for part in ((start, min(stop, pause.start)), (max(start, pause.end), stop))
            if part[0] < part[1]
        ]
    return segments
