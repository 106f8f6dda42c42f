"""Moving a clone's outbox of old (sdesk 0.8 and before) into the delivery records, once.

Before the runner, each clone rendered its mail into a git-ignored
``outbox/`` and sent it itself. :func:`migrate` turns what that outbox knows
into records the runner reads: a mail it sent is ``sent`` (never sent
again), one interrupted while sending ``unconfirmed``, a parked one
``parked``, and one still pending ``owed`` (the runner sends it). The mail is
found by the ticket, moment and kind its file name gives. The old outbox is
then set aside in ``.sdesk/``, not deleted. Nothing here sends anything.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from msgspec import Struct, field

from sdesk.errors import NotFound, SdeskError
from sdesk.mail import notifications, records
from sdesk.mail.records import Record
from sdesk.storage.store import OUTBOX_DIR, STATE_DIR, Desk
from sdesk.tickets import ids

STATES = {
    "sent": records.SENT,
    "sending": records.UNCONFIRMED,
    "parked": records.PARKED,
    "pending": records.OWED,
    "held": records.OWED,
}
_NAME = re.compile(r"(\d{8}T\d{6}Z)-(\w{6}-\w{5})-(\d{3})-([a-z-]+?)(?:-\d+)?\.eml")


class Migration(Struct):
    recorded: list[str] = field(default_factory=list)  # mail keys now in the records
    dropped: list[str] = field(default_factory=list)  # held mail of a change never saved
    left: list[tuple[str, str]] = field(default_factory=list)  # files not understood, with why
    moved_to: Path | None = None


def has_outbox(desk_root: Path) -> bool:
    folder = desk_root / OUTBOX_DIR
    return folder.is_dir() and not folder.is_symlink() and any(folder.glob("*/*.eml"))


def migrate(desk: Desk, now: datetime, runner: str) -> Migration:
    """Record what this clone's old outbox holds, then set the outbox aside (``.sdesk/outbox-of-old-…``)."""
    done = Migration()
    folder = desk.root / OUTBOX_DIR
    if folder.is_symlink():
        raise SdeskError("is a symbolic link: sdesk migrates only the desk's own outbox", folder)
    found: dict[str, list[Record]] = defaultdict(list)
    for state, standing in STATES.items():
        for path in sorted((folder / state).glob("*.eml")) if (folder / state).is_dir() else []:
            try:
                ticket_id, key = _mail_key(desk, path.name)
            except SdeskError as error:
                if state == "held":
                    done.dropped.append(path.name)
                else:
                    done.left.append((f"{state}/{path.name}", error.message))
                continue
            detail = f"outbox of old: {state}/{path.name}"
            found[ticket_id].append(Record(key, standing, now.isoformat(), runner, detail=detail))
            done.recorded.append(key)
    for ticket_id, new in found.items():
        records.append(desk.root, ticket_id, new)
    if not done.left:
        target = desk.root / STATE_DIR / f"outbox-of-old-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        target.parent.mkdir(exist_ok=True)
        os.replace(folder, target)
        done.moved_to = target
    return done


def _mail_key(desk: Desk, name: str) -> tuple[str, str]:
    """The ticket and mail key an outbox file of old is about; SdeskError when its change is not in the history."""
    match = _NAME.fullmatch(name)
    if match is None or not ids.is_ticket_id(match[2]):
        raise SdeskError("its name names no ticket change")
    moment = datetime.strptime(match[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ticket_id, number, kind = match[2], int(match[3]), match[4]
    try:
        ticket = desk.read(ticket_id)
    except NotFound:
        raise SdeskError(f"ticket {ticket_id} is not in this desk") from None
    candidates = [number - 1] + [index for index in range(len(ticket.history)) if index != number - 1]
    for index in candidates:
        if not 0 <= index < len(ticket.history):
            continue
        event = ticket.history[index]
        if event.at.astimezone(UTC).replace(microsecond=0) == moment:
            return ticket_id, f"{ticket_id}.{notifications.event_digest(event)}.{kind}"
    raise SdeskError(f"no event of {ticket_id} at {moment.isoformat()}")
