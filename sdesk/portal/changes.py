"""What a customer changes on the portal, recorded as an agent's command records it, and committed at once.

The portal runs in the runner's clone, where a cycle starts by putting back whatever is not committed.
So every change holds the runner's lock while it is decided, written and committed ("sdesk portal: …"):
no cycle runs in between, and the next cycle pushes the commit (an interrupted cycle keeps it, see
:mod:`sdesk.storage.sync`). A change that cannot be committed is put back and the customer told, never
left for a cycle to throw away. Each change is decided on the ticket as it is under its lock, and only
when the viewer may still see it (it may have moved to another customer since the page was shown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from msgspec.structs import replace

from sdesk.actions import record, workflow
from sdesk.actions.cycle import exclusive
from sdesk.errors import NotFound, Refused
from sdesk.policy.rules import Rules
from sdesk.portal.access import Viewer, may_see
from sdesk.portal.uploads import Upload
from sdesk.storage import attachments, sync
from sdesk.storage.store import Desk
from sdesk.tickets.model import Event, Ticket
from sdesk.website.portal import closed_at

LOCK_WAIT_SECONDS = 20  # a cycle that sends much mail holds the lock a while; longer, and the customer hears why
BUSY = "the desk is busy with its regular round; please try again in a minute"


class Unseen(NotFound):
    """No ticket this viewer may see has this number: answered exactly as a ticket that does not exist."""


def open_ticket(
    desk: Desk, viewer: Viewer, plan: workflow.NewTicket, costs_accepted: bool, uploads: Sequence[Upload], now: datetime
) -> Ticket:
    """Open the planned ticket with the files; its costs, if any, accepted by the customer on the page."""
    rules = desk.rules
    written: list[Path] = []

    def make() -> Ticket:
        _remove(written)  # a number drawn again: the files go under the new one
        ticket = workflow.create(
            rules, plan, viewer.address, now, accept_costs=costs_accepted, costs_note="accepted on the portal"
        )
        first = ticket.history[-1]
        kept = _keep(desk, ticket.id, uploads, written)
        text = "\n".join(filter(None, [first.text, *attachments.not_kept_notes(kept)])) or None
        ticket.history[-1] = replace(first, attachments=attachments.stored_names(kept), text=text)
        return ticket

    with _committed(desk, lambda ticket: f"opened {ticket}", written) as done:
        opened = record.open_ticket(desk, make).ticket
        done(opened.id)
    return opened


def answer(desk: Desk, viewer: Viewer, ticket_id: str, text: str, uploads: Sequence[Upload], now: datetime) -> Ticket:
    """A public comment from the customer, with files; a ticket waiting on them goes back to the desk."""
    rules = desk.rules
    written: list[Path] = []

    def decide(ticket: Ticket) -> Event:
        _remove(written)
        kept = _keep(desk, ticket.id, uploads, written)
        body = text.strip() or ("(attachments only)" if kept else "")
        notes = attachments.not_kept_notes(kept)
        body = "\n\n".join(filter(None, [body, "\n".join(notes)]))
        event = workflow.comment(ticket, rules, body, viewer.address, now, from_customer=True)
        return replace(event, attachments=attachments.stored_names(kept))

    return _change(desk, viewer, ticket_id, decide, "answered", written)


def accept(desk: Desk, viewer: Viewer, ticket_id: str, remark: str, now: datetime) -> Ticket:
    rules = desk.rules
    return _change(
        desk, viewer, ticket_id, lambda ticket: workflow.accept(ticket, rules, viewer.address, now, remark), "accepted"
    )


def reopen(desk: Desk, viewer: Viewer, ticket_id: str, reason: str, now: datetime) -> Ticket:
    """Reopened by the customer, within the days rules.yaml allows (mail.reopen_within_days) after closing."""
    rules = desk.rules

    def decide(ticket: Ticket) -> Event:
        if not may_reopen(ticket, rules, now):
            raise Refused(f"{ticket.id} was closed more than {rules.mail.reopen_within_days} days ago")
        return replace(workflow.reopen(ticket, rules, reason, viewer.address, now), from_customer=True)

    return _change(desk, viewer, ticket_id, decide, "reopened")


def rate(desk: Desk, viewer: Viewer, ticket_id: str, score: int, remark: str, now: datetime) -> Ticket:
    rules = desk.rules
    return _change(
        desk,
        viewer,
        ticket_id,
        lambda ticket: workflow.survey(ticket, rules, score, remark or None, viewer.address, now),
        "rated",
    )


def reopen_until(ticket: Ticket, rules: Rules) -> datetime | None:
    """Until when the customer may reopen the ticket (the period rules.yaml allows after closing); None while
    it is open."""
    closed = closed_at(ticket, rules)
    return closed + timedelta(days=rules.mail.reopen_within_days) if closed is not None else None


def may_reopen(ticket: Ticket, rules: Rules, now: datetime) -> bool:
    until = reopen_until(ticket, rules)
    return until is not None and now <= until


def _change(
    desk: Desk,
    viewer: Viewer,
    ticket_id: str,
    decide: Callable[[Ticket], Event],
    verb: str,
    written: list[Path] | None = None,
) -> Ticket:
    def seen(ticket: Ticket) -> Event:
        if not may_see(ticket, viewer):
            raise Unseen(f"no ticket {ticket_id}")
        return decide(ticket)

    with _committed(desk, lambda ticket: f"{verb} {ticket}", written or []) as done:
        changed = record.change(desk, ticket_id, seen).ticket
        done(changed.id)
    return changed


@contextmanager
def _committed(desk: Desk, subject: Callable[[str], str], written: list[Path]) -> Iterator[Callable[[str], None]]:
    """Under the runner's lock: the change the block makes, committed with ``subject(ticket)``. A failure
    puts back the files the change kept and, in git, the ticket as the last commit has it."""
    with exclusive(desk, LOCK_WAIT_SECONDS, BUSY):
        made: list[str] = []
        try:
            yield made.append
            if made and sync.in_work_tree(desk.root):
                sync.commit(desk.root, _paths(desk, made[0]), f"{sync.PORTAL_SUBJECT} {subject(made[0])}")
        except BaseException:
            _remove(written)
            if made and sync.in_work_tree(desk.root):
                sync.put_back(desk.root, _paths(desk, made[0]))
            raise


def _paths(desk: Desk, ticket_id: str) -> tuple[str, ...]:
    """What a change of the ticket writes: its file and its attachments' folder (whatever else the clone
    holds, staged or not, is not the customer's and stays out of their commit)."""
    where = (desk.path_for(ticket_id), attachments.folder(desk.root, ticket_id))
    return tuple(str(path.relative_to(desk.root)) for path in where)


def _keep(desk: Desk, ticket_id: str, uploads: Sequence[Upload], written: list[Path]) -> list[attachments.Kept]:
    kept = attachments.keep(desk.root, ticket_id, uploads, desk.rules.portal.max_upload_bytes)
    where = attachments.folder(desk.root, ticket_id)
    written += [where / item.file for item in kept if item.new and item.file]
    return kept


def _remove(written: list[Path]) -> None:
    """Remove files kept for a change that did not happen (a new file only: a reused one is another's)."""
    for path in written:
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
    written.clear()
