"""The mail a ticket's history owes, worked out from the committed events alone. Pure.

Any clone computes the same list from the same history, so no clone needs a
private outbox: the runner delivers what the history owes and the delivery
records do not show as done (:mod:`sdesk.mail.records`). Each mail is
composed from the ticket as it stood just after its event, so a mail sent
late says what was true then.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from msgspec.structs import replace

from sdesk.mail import notifications
from sdesk.mail.notifications import Letter
from sdesk.policy.rules import Rules
from sdesk.tickets.model import Ticket, field_value


def letters(
    ticket: Ticket, rules: Rules, before: Collection[str] = (), skip: Callable[[str], bool] = lambda key: False
) -> list[Letter]:
    """Every mail the history owes, oldest event first; events whose digest is in ``before`` owe none, and a
    mail whose key ``skip`` names (one sent long ago) is not composed at all.

    ``before`` holds the events of the desk's mail baseline: what the outboxes of
    old (before the runner) mailed or were to mail.
    """
    owed: list[list[Letter]] = []
    current = replace(ticket, history=list(ticket.history))
    for index in range(len(ticket.history) - 1, -1, -1):  # latest first: each event's changes undone after it
        event = ticket.history[index]
        kinds = notifications.kinds_for(current, event, rules)
        digest = notifications.event_digest(event) if kinds else ""
        wanted = [kind for kind in kinds if not skip(f"{ticket.id}.{digest}.{kind}")]
        if wanted and digest not in before:
            # the ticket as it stood just after the event, history and all (copied only for mail)
            just_after = replace(current, history=ticket.history[: index + 1])
            owed.append(notifications.letters(just_after, event, rules, wanted))
        for change in reversed(event.changes):
            setattr(current, change.field, field_value(change.field, change.old))
    return [letter for letters in reversed(owed) for letter in letters]
