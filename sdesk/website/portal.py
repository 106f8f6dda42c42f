"""What a customer's portal may show: their own tickets, the public part of each, their announcements. Pure.

A portal is published where the customer can read it, so its data is built
from scratch out of what the customer is entitled to see, and the templates
get nothing else: another customer's tickets, internal notes, time entries,
breaches, priority reasons, merge records and agents' addresses never reach
a page, whatever a template does.

An event is public when it mailed the customer (see :mod:`sdesk.mail.notifications`)
or came from the customer: the ticket's registration, status changes and
their note, public comments, reminders, closing and reopening.

A ticket moved from another customer shows only what happened since the
move: the earlier history, and what the first customer reported (the
description, error message, URL, site, their own ticket number), belong to
that customer and reach the new portal only if they were set again since.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from msgspec import Struct

from sdesk.calendar.spoken import moment
from sdesk.clocks import sla
from sdesk.policy.rules import Rules
from sdesk.service.announcements import Announcement
from sdesk.storage import attachments
from sdesk.tickets.model import CLOSING_KINDS, Event, Ticket
from sdesk.website.phrases import phrases

RECENT_DAYS = 30  # closed tickets, and ended announcements, stay on the portal this long
Words = Mapping[str, str]
Speak = Callable[[datetime], str]  # a moment in the reader's words
View = Callable[[Ticket, str], "PublicTicket"]  # a ticket as a customer speaking this language reads it


FILES = "files"  # the folder beside a portal's pages with the files customers sent


class PublicEvent(Struct, frozen=True):
    at: datetime
    when: str  # at, in words
    author: str  # the customer's own person, or the desk's team: never an agent's address
    what: str
    text: str | None
    attachments: tuple[str, ...] = ()  # files the customer sent with it, as kept under attachments/<ticket>/


class PublicTicket(Struct, frozen=True):
    id: str
    title: str
    type: str
    status: str
    final: bool
    priority: str
    product: str | None
    site: str | None
    requester: str
    opened: str
    last_update: str
    updated_at: datetime  # for ordering
    closed: str | None
    reference: str | None  # the customer's own ticket number (cooperation incidents)
    description: str | None
    error_message: str | None
    url: str | None
    outside_contract: tuple[str, ...]
    resolution: str | None
    next_step: str
    clocks: tuple[str, ...]
    history: tuple[PublicEvent, ...]


@dataclass(frozen=True)
class PublicAnnouncement:
    id: str
    kind: str
    state: str
    title: str
    when: str
    service: str | None
    resolution: str | None
    current: bool


@dataclass(frozen=True)
class Portal:
    customer: str
    name: str
    language: str
    desk_name: str
    desk_email: str | None
    updated: str
    recent_days: int
    open: tuple[PublicTicket, ...]
    recently_closed: tuple[PublicTicket, ...]
    announcements: tuple[PublicAnnouncement, ...]

    @property
    def heading(self) -> PortalHeading:
        return PortalHeading(self.customer, self.name, self.language, self.desk_name, self.desk_email)


@dataclass(frozen=True)
class PortalHeading:
    """What a ticket's page knows of its portal: whose it is. Not its lists or when it was made, which change
    with every other ticket and every export, while the ticket's page is kept until the ticket changes."""

    customer: str
    name: str
    language: str
    desk_name: str
    desk_email: str | None


@dataclass(frozen=True)
class Span:
    """The moments ``t`` with ``after < t <= until``, in which a ticket's view reads as it does at one moment.

    Of everything the view says, only three things move with the time: a running clock turns overdue just
    after its due moment; the clocks see the history up to the moment, so an event at or after it (a
    pause that starts then) is a boundary; and a moment's year is written out once the current year is
    another.
    """

    after: datetime
    until: datetime

    @classmethod
    def around(cls, now: datetime, ticket: Ticket, clocks: Iterable[sla.Clock], zone: ZoneInfo) -> Span:
        year = now.astimezone(zone).year
        after = datetime(year, 1, 1, tzinfo=zone) - _INSTANT
        until = datetime(year + 1, 1, 1, tzinfo=zone) - _INSTANT
        for clock in clocks:
            if clock.stopped is None:  # on time up to its due moment itself
                if clock.due < now:
                    after = max(after, clock.due)
                else:
                    until = min(until, clock.due)
            if any(pause.end >= now and not pause.ongoing for pause in clock.pauses):
                return cls(now - _INSTANT, now)  # a pause the history ends later (a clock ahead): due moves with now
        for event in (ticket.created, *(event.at for event in ticket.history)):
            if event < now:  # seen from just after it (at its very moment, a pause it starts has no length)
                after = max(after, event)
            elif event == now:
                after, until = max(after, now - _INSTANT), now
            else:
                until = min(until, event - _INSTANT)
        return cls(after, until)

    def holds(self, moment: datetime) -> bool:
        return self.after < moment <= self.until


_INSTANT = timedelta(microseconds=1)


def shown(ticket: Ticket, rules: Rules, now: datetime, recent_days: int = RECENT_DAYS) -> bool:
    """Open, or closed within the last ``recent_days``: the tickets a portal lists."""
    closed = closed_at(ticket, rules)
    return closed is None or now - closed <= timedelta(days=recent_days)


def closed_at(ticket: Ticket, rules: Rules) -> datetime | None:
    """When an closed ticket was closed (its last closing event); None while it is open."""
    if not rules.is_final(ticket.status):
        return None
    closings = [event.at for event in ticket.history if event.kind in CLOSING_KINDS]
    return closings[-1] if closings else ticket.updated


def build(
    customer_key: str,
    tickets: Iterable[Ticket],
    announcements: Iterable[Announcement],
    rules: Rules,
    now: datetime,
    recent_days: int = RECENT_DAYS,
    clocks: sla.ClockSource | None = None,
    view: View | None = None,
) -> Portal:
    """The portal of one customer; tickets of other customers passed in are left out.

    ``view`` makes the customer's view of a ticket (:func:`public_ticket` with ``clocks`` by default).
    """
    customer = rules.customers.get(customer_key)
    language = rules.customer_language(customer_key)
    view = view or (lambda ticket, language: public_ticket(ticket, rules, language, now, clocks))
    mine = [
        view(ticket, language)
        for ticket in tickets
        if ticket.customer == customer_key and shown(ticket, rules, now, recent_days)
    ]
    by_news = sorted(mine, key=lambda ticket: (ticket.updated_at, ticket.id), reverse=True)
    concerning = [
        public_announcement(announcement, rules, language, now)
        for announcement in announcements
        if announcement.concerns(customer_key, rules) and _recent(announcement, now, recent_days)
    ]
    return Portal(
        customer=customer_key,
        name=customer.name if customer is not None else customer_key,
        language=language,
        desk_name=rules.desk_name,
        desk_email=rules.desk_email,
        updated=moment(now, language, rules.timezone),
        recent_days=recent_days,
        open=tuple(ticket for ticket in by_news if not ticket.final),
        recently_closed=tuple(ticket for ticket in by_news if ticket.final),
        announcements=tuple(sorted(concerning, key=lambda item: (not item.current, item.id))),
    )


def public_ticket(
    ticket: Ticket, rules: Rules, language: str, now: datetime, clocks: sla.ClockSource | None = None
) -> PublicTicket:
    """The customer's view of one ticket (``clocks``: where its clocks come from; worked out by default)."""
    return public_ticket_and_span(ticket, rules, language, now, clocks)[0]


def public_ticket_and_span(
    ticket: Ticket, rules: Rules, language: str, now: datetime, clocks: sla.ClockSource | None = None
) -> tuple[PublicTicket, Span]:
    """:func:`public_ticket`, and the span of time around ``now`` in which it reads the same (see :class:`Span`),
    so that an export can keep a ticket's page until the ticket changes or its span ends."""
    words = phrases(language)

    def when(at: datetime) -> str:
        return moment(at, language, rules.timezone, now)

    customer = rules.customers.get(ticket.customer)
    product = rules.products.get(ticket.product or "")
    ticket_type = rules.types.get(ticket.type)
    site = customer.sites.get(ticket.site or "") if customer is not None else None
    closed = closed_at(ticket, rules)
    running = (clocks or sla.from_scratch(rules, now))(ticket) if closed is None else []
    move = _last_change(ticket, "customer")
    history = _public_events(ticket, rules, language, when, 0 if move is None else move + 1)
    # The customer's last news, not the desk's: an internal note or a time entry is no update to them.
    updated = history[-1].at if history else ticket.created if move is None else ticket.history[move].at

    def theirs(name: str) -> str | None:
        """A field's value when this customer may read it: always if the ticket never moved, else if set since."""
        last = _last_change(ticket, name)
        return ticket.value(name) if move is None or (last is not None and last >= move) else None

    view = PublicTicket(
        id=ticket.id,
        title=ticket.title,
        type=ticket_type.labels.get(language, ticket.type) if ticket_type else ticket.type,
        status=status_label(ticket.status, rules, language),
        final=closed is not None,
        priority=ticket.priority,
        product=product.name if product else ticket.product,
        site=(f"{site.name} ({ticket.site})" if site else ticket.site) if theirs("site") else None,
        requester=person(ticket, rules),
        opened=when(ticket.created),
        last_update=when(updated),
        updated_at=updated,
        closed=when(closed) if closed is not None else None,
        reference=theirs("cooperation_ticket"),
        description=theirs("description"),
        error_message=theirs("error_message"),
        url=theirs("url"),
        outside_contract=tuple(rules.exclusion_message(name, language) for name in ticket.exclusions),
        resolution=None if _auto_closed(ticket) else ticket.resolution,
        next_step=next_step(ticket, rules, running, closed, words, when),
        clocks=tuple(clock_line(clock, ticket, rules, words, when) for clock in running),
        history=tuple(history),
    )
    return view, Span.around(now, ticket, running, rules.timezone)


def _auto_closed(ticket: Ticket) -> bool:
    """Closed by the sweep for want of a reaction, and not reopened since."""
    closings = [event.kind for event in ticket.history if event.kind in (*CLOSING_KINDS, "reopened")]
    return bool(closings) and closings[-1] == "auto-closed"


def status_label(status: str, rules: Rules, language: str) -> str:
    known = rules.statuses.get(status)
    return known.labels.get(language, status) if known is not None else status


def person(ticket: Ticket, rules: Rules) -> str:
    """The requester by name where the desk knows it (a reference person, or the ticket's contact)."""
    customer = rules.customers.get(ticket.customer)
    known = customer.contact(ticket.requester) if customer is not None else None
    if known is not None:
        return known.name
    return ticket.contact_name or ticket.requester


def next_step(
    ticket: Ticket, rules: Rules, clocks: list[sla.Clock], closed: datetime | None, words: Words, when: Speak
) -> str:
    """Whose move it is and by when, in one sentence."""
    if closed is not None:
        return words["step_closed"].format(when=when(closed))
    status = rules.statuses.get(ticket.status)
    label = status_label(ticket.status, rules, words["lang"])
    if status is not None and status.waiting_on_customer:
        return words["step_your_turn"].format(status=label)
    if status is not None and status.pauses_clock:
        return words["step_paused"].format(status=label)
    running = {clock.name: clock for clock in clocks if clock.stopped is None}
    if "response" in running:
        clock = running["response"]
        return words["step_answer_late" if clock.late else "step_answer_due"].format(when=when(clock.due))
    if "resolution" in running:
        clock = running["resolution"]
        return words["step_solution_late" if clock.late else "step_solution_due"].format(when=when(clock.due))
    return words["step_working"]


def clock_line(clock: sla.Clock, ticket: Ticket, rules: Rules, words: Words, when: Speak) -> str:
    """'Answer due Monday 23 November at 13:30', 'Solved Friday …': a clock as the customer reads it."""
    prefix = f"clock_{clock.name}"
    if clock.stopped is not None:
        return words[f"{prefix}_done"].format(when=when(clock.stopped))
    if clock.state == "paused":  # "paused while the ticket is on hold"; German keeps its capitals ({label})
        label = status_label(ticket.status, rules, words["lang"])
        return words[f"{prefix}_paused"].format(status=label.lower(), label=label)
    state = "overdue" if clock.late else "running"
    return words[f"{prefix}_{state}"].format(when=when(clock.due))


def _last_change(ticket: Ticket, name: str) -> int | None:
    """The place in the history of the last event that changed field ``name`` (None: it kept its first value)."""
    changed = [index for index, event in enumerate(ticket.history) if any(c.field == name for c in event.changes)]
    return changed[-1] if changed else None


def _public_events(ticket: Ticket, rules: Rules, language: str, when: Speak, since: int) -> list[PublicEvent]:
    words = phrases(language)
    team = rules.teams.get(ticket.team)
    desk = team.name if team is not None else rules.desk_name
    customer_person = person(ticket, rules)
    found = []
    for event in ticket.history[since:]:
        shown_as = _public_what(event, rules, words)
        if shown_as is None:
            continue
        what, text = shown_as
        author = customer_person if event.from_customer or ticket.is_requester(event.by) else desk
        files = tuple(name for name in event.attachments if attachments.is_stored_name(name))
        found.append(
            PublicEvent(at=event.at, when=when(event.at), author=author, what=what, text=text, attachments=files)
        )
    return found


def _public_what(event: Event, rules: Rules, words: Words) -> tuple[str, str | None] | None:
    """What the customer reads of an event, or None for an event that is the desk's own business.

    The registration's own text records agents' overrides, and the sweep's texts
    (reminders, closing without a reaction) are written for agents: the customer
    gets the phrase alone.
    """
    moved = next((change.new for change in event.changes if change.field == "status"), None)
    resolution = next((change.new for change in event.changes if change.field == "resolution"), None)
    if event.kind in ("created", "reminder"):
        return words[f"event_{event.kind}"], None
    if event.kind == "comment":
        return (words["event_comment"], event.text) if event.visibility == "public" else None
    if event.kind == "closed":
        return words["event_closed"], resolution
    if event.kind == "auto-closed":  # the sweep's resolution is written for agents
        return words["event_auto-closed"], None
    if event.kind == "reopened":
        return words["event_reopened"], event.text
    if event.kind == "updated" and moved is not None:
        return words["event_status"].format(status=status_label(moved, rules, words["lang"])), event.text
    return None


def public_announcement(announcement: Announcement, rules: Rules, language: str, now: datetime) -> PublicAnnouncement:
    """An announcement without who wrote it and without the other customers it concerns."""
    words = phrases(language)

    def when(at: datetime) -> str:
        return moment(at, language, rules.timezone, now)

    state = announcement.state(now)
    resolved = announcement.resolved
    span = (
        words["from_until"].format(start=when(announcement.start), end=when(announcement.end))
        if announcement.end is not None
        else words["since"].format(start=when(announcement.start))
    )
    product = rules.products.get(announcement.service or "")
    return PublicAnnouncement(
        id=announcement.id,
        kind=words[f"kind_{announcement.kind}"],
        state=words["resolved_at"].format(when=when(resolved)) if resolved else words[f"state_{state}"],
        title=announcement.title,
        when=span,
        service=product.name if product is not None else announcement.service,
        resolution=announcement.resolution,
        current=state in ("planned", "active"),
    )


def _recent(announcement: Announcement, now: datetime, recent_days: int) -> bool:
    """Planned or active, or over for less than ``recent_days``."""
    over = announcement.resolved or (announcement.end if announcement.state(now) == "ended" else None)
    return over is None or now - over <= timedelta(days=recent_days)
