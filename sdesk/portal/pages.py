"""What a signed-in contact reads: their tickets, one ticket, and what they may do on it.

Built from the same views as the static portal (:mod:`sdesk.website.portal`), so the live pages show what
an export would, from tickets the viewer may see and nothing else. One gate, :func:`visible`, answers a
ticket of another customer exactly as a ticket that does not exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from msgspec import Struct

from sdesk.calendar.spoken import moment
from sdesk.errors import SdeskError
from sdesk.portal.access import Viewer, may_see
from sdesk.portal.changes import Unseen, reopen_until
from sdesk.service import satisfaction
from sdesk.storage.index import Index
from sdesk.storage.store import Desk
from sdesk.tickets import ids, query
from sdesk.tickets.model import Ticket
from sdesk.website import portal
from sdesk.website.export import KeptClocks


class Actions(Struct, frozen=True):
    """What the viewer may do on a ticket now."""

    answer: bool  # open: a message, with files
    waiting: bool  # the desk waits for their answer
    accept: bool  # a solution awaits their approval
    reopen_until: str | None  # closed, reopenable until then (in words)
    rate: bool  # closed by an agent, the survey not answered yet
    rated: int | None  # the score they gave


def home(desk: Desk, viewer: Viewer, now: datetime) -> portal.Portal:
    """The viewer's portal: their open tickets and those closed lately, with their announcements."""
    rules = desk.rules
    index = Index(desk.tickets_dir, desk.state_dir)
    index.refresh()  # a broken file is left out here; `sdesk check` names it to the agents
    clocks = KeptClocks(rules, now)
    mine = query.Selection(frozenset(rules.final_statuses), scope="all", customers=(viewer.customer,))
    quiet = (tuple(rules.final_statuses), now - timedelta(days=portal.RECENT_DAYS + 2))
    rows = index.tickets_with((), desk.rules_key, clocks.derive, quiet, mine)
    seen = [ticket for ticket in clocks.tickets(rows) if may_see(ticket, viewer)]
    return portal.build(viewer.customer, seen, desk.announcements(), rules, now, clocks=clocks)


def visible(desk: Desk, viewer: Viewer, ticket_id: str) -> Ticket:
    """The ticket, when the viewer may see it; otherwise Unseen, the same for every reason."""
    if not ids.is_ticket_id(ticket_id):
        raise Unseen(f"no ticket {ticket_id[:40]}")
    try:
        ticket = desk.read(ticket_id)
    except SdeskError:
        raise Unseen(f"no ticket {ticket_id}") from None
    if not may_see(ticket, viewer):
        raise Unseen(f"no ticket {ticket_id}")
    return ticket


def actions(desk: Desk, ticket: Ticket, now: datetime) -> Actions:
    rules = desk.rules
    status = rules.statuses.get(ticket.status)
    final = rules.is_final(ticket.status)
    until = reopen_until(ticket, rules)
    reopenable = until is not None and now <= until
    language = rules.customer_language(ticket.customer)
    answered = satisfaction.answer(ticket)
    return Actions(
        answer=not final,
        waiting=status is not None and status.waiting_on_customer,
        accept=status is not None and status.acceptance,
        reopen_until=moment(until, language, rules.timezone, now) if reopenable and until is not None else None,
        rate=final and satisfaction.survey_request(ticket) is not None and answered is None,
        rated=answered.score if answered is not None else None,
    )
