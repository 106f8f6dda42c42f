"""An agent's decision on mail the gateway held: accept it (a ticket, or a comment on the ticket it named) or
dismiss it. The decision is written into the mail's record, so nothing leaves triage unaccounted for.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import datetime

from msgspec.structs import replace

from sdesk.actions import record, workflow
from sdesk.actions.receive import Gateway
from sdesk.errors import Refused
from sdesk.mail import quoting, received
from sdesk.mail.inbound import Attachment, Inbound
from sdesk.mail.received import Received
from sdesk.mail.senders import Senders
from sdesk.storage import attachments
from sdesk.storage.store import Desk
from sdesk.tickets.model import Ticket


def waiting(desk: Desk, record_id: str) -> Received:
    """A held mail still waiting for a decision (the id may be shortened to a unique prefix)."""
    matches = [item for item in received.pending(desk.root) if item.id.startswith(record_id.lower())]
    if not matches:
        raise Refused(f"no mail waiting in triage is {record_id} (sdesk mail triage lists them)")
    if len(matches) > 1:
        raise Refused(f"{record_id} could be {', '.join(item.id for item in matches[:5])}: give more of it")
    return matches[0]


def accept(
    desk: Desk,
    held: Received,
    agent: str,
    now: datetime,
    values: Mapping[str, str | None],
    override: str | None,
    accept_costs: bool,
) -> tuple[str, str]:
    """Open a ticket from the held mail (the rules applied, ``override`` lifting eligibility), or add it to
    the ticket it named. Returns what it became and the ticket."""
    message = _as_inbound(desk, held)
    gateway = Gateway(desk, message, replace(held, attachments=[]), now, Senders(desk.state_dir, now))
    given = {name: value for name, value in values.items() if value}
    if held.ticket is not None and not given:
        ticket = desk.read(held.ticket)
        event = record.change(
            desk, ticket.id, lambda current: gateway.comment_event(current, quoting.new_text(held.text or ""))
        )
        outcome, ticket_id = "comment", event.ticket.id
    else:
        customer = desk.rules.customers.get(str(given.get("customer") or ""))
        if customer is None:
            found = gateway.customer_of(str(held.sender), None)
            if isinstance(found, str):
                raise Refused(f"{found}: name the customer with --customer KEY")
            customer = found
        planned = {**gateway.ticket_values(customer, None), **given, "customer": customer.key}
        plan = workflow.plan_new(desk.rules, planned, now)

        def make() -> Ticket:
            note = f"From mail {held.id} ({held.sender}), held in triage: {held.reason}"
            return gateway.opened(workflow.create(desk.rules, plan, agent, now, override, accept_costs), note)

        opened = record.open_ticket(desk, make)
        outcome, ticket_id = "created", opened.ticket.id
    decision = {"action": "accepted", "by": agent, "at": now, "ticket": ticket_id}
    if override:
        decision["reason"] = override
    received.write(
        desk.root, replace(held, attachments=gateway.base.attachments or held.attachments, decision=decision)
    )
    _drop_held_files(desk, held.id)
    return outcome, ticket_id


def dismiss(desk: Desk, held: Received, agent: str, now: datetime, reason: str) -> None:
    """Close the held mail without a ticket, saying why; its attachments go (git history keeps them)."""
    if not reason.strip():
        raise Refused("dismissing needs a reason (--reason TEXT): it is kept with the mail")
    decision = {"action": "dismissed", "by": agent, "at": now, "reason": " ".join(reason.split())}
    received.write(desk.root, replace(held, decision=decision))
    _drop_held_files(desk, held.id)


def _as_inbound(desk: Desk, held: Received) -> Inbound:
    """The held mail as the gateway read it, its attachments from where triage kept them."""
    found = []
    for entry in held.attachments:
        data = attachments.read(desk.root, held.id, str(entry.get("file", "")))
        if data is not None:  # a file that is not what triage kept is left out: check names it
            found.append(Attachment(str(entry.get("name", "attachment")), "application/octet-stream", data))
    return Inbound(
        key=held.key,
        message_id=held.key if held.key.startswith("<") else None,
        sender=held.sender,
        sender_name=held.name or "",
        to=tuple(held.to),
        cc=tuple(held.cc),
        subject=held.subject or "",
        answers=(),
        text=held.text or "",
        attachments=tuple(found),
        automatic=None,
        authentication=(),
        problems=(),
        size=0,
    )


def _drop_held_files(desk: Desk, record_id: str) -> None:
    folder = attachments.folder(desk.root, record_id)
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)
