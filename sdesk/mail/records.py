"""Delivery records: which mail went out, when, and what the server said, committed with the desk.

One JSON line per step in ``deliveries/<TICKET>.jsonl``, written by the
runner alone and merged by git's ``union`` driver (lines from both sides),
so a second runner, a re-clone of the server or a merge never loses a
record. A mail is named by its key (ticket, event digest, kind: see
:mod:`sdesk.mail.notifications`), so the records follow the mail whatever a
merge does to the history's order.

What a mail's records say (:func:`states`): ``sent`` ends it for good;
otherwise the latest of ``claimed`` (a runner has it in hand), ``failed``
(tried, not taken: try again), ``unconfirmed`` (it went out but its verdict
was lost: it may have arrived, so only an agent sends it again), ``parked``
(refused for good: an agent decides) and ``owed`` (a mail of the outboxes of
old, still to go) counts; a runner asked to retry claims a waiting mail anew.
Every file is read as untrusted input: a line that is not a record sdesk
writes is skipped, never trusted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from msgspec import Struct
from msgspec.structs import asdict

from sdesk.errors import SdeskError
from sdesk.formats import files
from sdesk.storage.store import write_atomic
from sdesk.tickets import ids

FOLDER = "deliveries"
REPLY_OWNER = re.compile(r"m-[0-9a-f]{16}")  # a received mail's id (mail/received.py)
SENT, UNCONFIRMED, CLAIMED, FAILED, PARKED, OWED = ("sent", "unconfirmed", "claimed", "failed", "parked", "owed")
TO_SEND = (FAILED, OWED)  # a runner sends these (and a mail without records); the others wait for an agent
STATES = (SENT, UNCONFIRMED, CLAIMED, FAILED, PARKED, OWED)
MAX_RECORDS_BYTES = 4 * 1024 * 1024  # thousands of mails about one ticket
MAX_FIELD_CHARS = 2000


class Record(Struct, frozen=True):
    mail: str  # the mail's key
    state: str
    at: str  # ISO-8601, when the runner wrote it
    runner: str  # which runner (sdesk run) wrote it
    to: str = ""  # the recipients, as sent
    subject: str = ""
    detail: str = ""  # the server's answer, or why

    def line(self) -> str:
        return json.dumps({key: value for key, value in asdict(self).items() if value}, ensure_ascii=False) + "\n"


def path(desk_root: Path, ticket_id: str) -> Path:
    return desk_root / FOLDER / f"{ticket_id}.jsonl"


def read(desk_root: Path, ticket_id: str) -> list[Record]:
    """The records of one ticket's mail, in file order (none when there is no file).

    A file sdesk cannot read (a link out of the desk, a FIFO, too big) raises: its mail
    must wait for an agent, not be sent again as if it had never gone out.
    """
    where = path(desk_root, ticket_id)
    if not where.exists() and not where.is_symlink():
        return []
    text = files.read_bytes(where, desk_root, MAX_RECORDS_BYTES).decode("utf-8", errors="replace")
    return list(_parse(text))


def _parse(text: str) -> Iterator[Record]:
    for line in text.splitlines():
        try:
            data: Any = json.loads(line)
        except (ValueError, RecursionError):
            continue  # a line torn by hand or by a conflict, or nested to exhaust the parser, says nothing
        if not isinstance(data, dict):
            continue
        values = {key: data.get(key, "") for key in ("mail", "state", "at", "runner", "to", "subject", "detail")}
        if not all(isinstance(value, str) and len(value) <= MAX_FIELD_CHARS for value in values.values()):
            continue
        if values["state"] in STATES and values["mail"]:
            yield Record(**values)


def any_records(desk_root: Path) -> bool:
    """Are there records of tickets' mail (the gateway's auto-replies do not depend on the baseline)?"""
    folder = desk_root / FOLDER
    return folder.is_dir() and any(ids.ID_PATTERN.fullmatch(path.stem) for path in folder.glob("*.jsonl"))


def append(desk_root: Path, ticket_id: str, new: Iterable[Record]) -> None:
    """Add records to a ticket's file, whole or not at all (a temporary file renamed into place)."""
    if not is_owner(ticket_id):
        raise SdeskError(f"not a ticket number: {ticket_id!r}")
    where = path(desk_root, ticket_id)
    folder = where.parent
    if folder.is_symlink():
        raise SdeskError("is a symbolic link: sdesk keeps delivery records only in the desk itself", folder)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as error:
        raise SdeskError(f"cannot keep delivery records: {error.strerror}", folder) from None
    old = files.read_bytes(where, desk_root, MAX_RECORDS_BYTES) if where.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    write_atomic(where, old + "".join(record.line() for record in new).encode("utf-8"))


def is_owner(name: str) -> bool:
    """Mail is owed by a ticket, or by a received mail the gateway answers (its id, m-…)."""
    return bool(ids.ID_PATTERN.fullmatch(name) or REPLY_OWNER.fullmatch(name))


def owners_of_replies(desk_root: Path) -> list[str]:
    """The received mails with delivery records: the gateway's auto-replies."""
    folder = desk_root / FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return []
    return sorted(path.stem for path in folder.glob("m-*.jsonl") if REPLY_OWNER.fullmatch(path.stem))


def states(records: Iterable[Record]) -> dict[str, Record]:
    """Each mail's standing record: ``sent`` if there is one, else its latest."""
    standing: dict[str, Record] = {}
    for record in records:
        held = standing.get(record.mail)
        if held is None or held.state != SENT:
            standing[record.mail] = record
    return standing
