"""The mail a ticket change owes, held in the outbox while the change is saved.

A change composes its mails before it is saved (a broken template stops the
change) and writes them to ``outbox/held/``; once the change is saved they
move to ``pending/``, and if it is not they are dropped. A command killed in
between leaves a held mail, never a saved change without its mail:
:func:`settle` later looks at the ticket and releases or drops it. Nothing
here prints: callers say what happened with the words it returns.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sdesk.errors import NotFound, SdeskError
from sdesk.mail import notifications
from sdesk.mail.notifications import Letter
from sdesk.mail.outbox import HELD, Outbox, held_event
from sdesk.storage.store import Desk
from sdesk.tickets.model import Event, Ticket

GRACE_SECONDS = 60  # a younger held mail may belong to a command that is still saving


@dataclass
class Held:
    """The mails held for one change (or a few), and what could not be mailed."""

    mails: list[tuple[Letter, Path]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def letters(self) -> list[Letter]:
        return [letter for letter, _ in self.mails]


def hold(desk: Desk, ticket: Ticket, event: Event, now: datetime, held: Held) -> None:
    """Write the mails ``event`` owes to held/ (``ticket`` as changed); a broken template raises."""
    rules = desk.rules
    letters = notifications.letters(ticket, event, rules, now)
    if not letters:
        if notifications.kinds_for(ticket, event, rules):
            held.warnings.append(
                f"no mail for {ticket.id}: rules.yaml gives team {ticket.team} no email and no desk.email"
            )
        return
    from sdesk.mail import compose  # Jinja2 is loaded only when there is mail to write

    templates = compose.Templates(desk.root, rules.timezone)
    outbox = Outbox(desk.root)
    for letter in letters:
        held.mails.append((letter, outbox.add(letter, compose.message(letter, templates), HELD)))


def drop(held: Held) -> None:
    """Mails held for a change that will not be saved."""
    for _, path in held.mails:
        path.unlink(missing_ok=True)
    held.mails.clear()
    held.warnings.clear()


@contextmanager
def holding(desk: Desk) -> Iterator[Held]:
    """Collect the mails held while a change is saved: released when it is, dropped when it fails."""
    held = Held()
    try:
        yield held
    except BaseException:
        drop(held)
        raise
    outbox = Outbox(desk.root)
    for _, path in held.mails:
        outbox.release(path)


def settle(desk: Desk, now: datetime) -> list[str]:
    """Held mail a killed command left: released when its ticket has the event, dropped when not; what was done."""
    outbox = Outbox(desk.root)
    said = []
    for path in outbox.held():
        if time.time() - path.lstat().st_mtime < GRACE_SECONDS:
            continue
        about = held_event(path)
        if about is None:  # not a name sdesk gives: no ticket can say whether to send it
            outbox.park(path, now, "held, but its name says no ticket change: not a mail sdesk wrote")
            said.append(f"Held mail {path.name} parked: its name says no ticket change")
            continue
        ticket_id, number, at = about
        with desk.locked(ticket_id):
            try:
                history = desk.read(ticket_id).history
            except NotFound:
                history = []
            except SdeskError as error:  # a broken ticket file: decide once it is mended
                said.append(f"Warning: held mail {path.name} stays held: {error}")
                continue
            saved = len(history) >= number and history[number - 1].at.replace(microsecond=0) == at
            if saved:
                outbox.release(path)
            else:
                path.unlink()
        what = "queued: its change was saved" if saved else "dropped: its change was never saved"
        said.append(f"Held mail {path.name} {what}")
    return said
