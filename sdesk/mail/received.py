"""What the gateway received: one committed record per message, the triage list and the auto-replies owed.

Every message, whatever it became, leaves ``inbox/<xx>/<id>.yaml``: who sent
it, to whom, its subject, its whole text (quotes and signature in: the
ticket keeps what the sender added), its attachments and what it became.
The id comes from the Message-ID (or the content, without one), so the same
message fetched twice, delivered twice or received by two runners is one
file, and the second time is recognised before anything is done.

A message the rules refused waits in triage: ``triage/<id>`` holds the
reason on one line until an agent accepts or dismisses it, and the decision
is written into the record (who, when, why). An auto-reply the gateway owes
(why it was refused, what to do) is a mail like any other: it is delivered
by the runner exactly once, its records under ``deliveries/<id>.jsonl``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from msgspec import Struct, field
from msgspec.structs import asdict

from sdesk.errors import InvalidData, NotFound, SdeskError
from sdesk.formats import files, yamlio
from sdesk.formats.declare import Flag, Integer, List, Record, Text, Timestamp, Words
from sdesk.formats.reader import Problems
from sdesk.storage.store import write_atomic

INBOX = "inbox"
TRIAGE = "triage"
ID_PATTERN = re.compile(r"m-[0-9a-f]{16}")
OUTCOMES = ("created", "comment", "reopened", "survey", "triage", "ignored")
DECISIONS = ("accepted", "dismissed")
MAX_RECORD_BYTES = 2 * 1024 * 1024

_ATTACHMENT = Record(
    {"name": Text(), "file": Text(), "size": Integer(0), "kept": Flag(), "why": Text()},
    required=("name", "size", "kept"),
)
_DECISION = Record(
    {"action": Words(DECISIONS), "by": Text(), "at": Timestamp(), "reason": Text(), "ticket": Text()},
    required=("action", "by", "at"),
)
RECEIVED = Record(
    {
        "id": Text(),
        "key": Text(),
        "digest": Text(),
        "received": Timestamp(),
        "from": Text(),
        "name": Text(),
        "to": List(Text()),
        "cc": List(Text()),
        "subject": Text(),
        "outcome": Words(OUTCOMES),
        "ticket": Text(),
        "reason": Text(),
        "reply": List(Text()),
        "language": Text(),
        "attachments": List(_ATTACHMENT),
        "decision": _DECISION,
        "text": Text(),
    },
    required=("id", "key", "received", "outcome"),
)


class Received(Struct):
    id: str
    key: str
    received: datetime
    outcome: str
    digest: str | None = None  # what the message said (inbound.Inbound.digest)
    sender: str | None = None
    name: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str | None = None
    ticket: str | None = None
    reason: str | None = None  # why it is in triage, or ignored
    reply: list[str] = field(default_factory=list)  # what the auto-reply tells the sender (nothing: no reply)
    language: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    decision: dict[str, Any] | None = None
    text: str | None = None

    @property
    def pending(self) -> bool:
        return self.outcome == "triage" and self.decision is None

    @property
    def reply_digest(self) -> str:
        """Names the auto-reply among the mails: what it says, which never changes once recorded."""
        return hashlib.sha256("\n".join(self.reply).encode("utf-8", "replace")).hexdigest()[:16]


def path(desk_root: Path, record_id: str) -> Path:
    return desk_root / INBOX / record_id[2:4] / f"{record_id}.yaml"


def exists(desk_root: Path, record_id: str) -> bool:
    where = path(desk_root, record_id)
    return where.exists() or where.is_symlink()


def read(desk_root: Path, record_id: str) -> Received:
    if not ID_PATTERN.fullmatch(record_id):
        raise NotFound(f"no received mail {record_id!r} (names look like m-0123456789abcdef)")
    where = path(desk_root, record_id)
    if not exists(desk_root, record_id):
        raise NotFound(f"no received mail {record_id}")
    data = yamlio.load(files.read_text(where, desk_root, MAX_RECORD_BYTES), where)
    problems = Problems()
    values = RECEIVED.read(data, (), problems)
    if problems.found:
        raise InvalidData(problems.found[0].message, where)
    if values.get("id") != record_id:
        raise InvalidData(f"holds id {values.get('id')!r}, not {record_id} as its name says", where)
    values["sender"] = values.pop("from", None)
    return Received(**values)


def write(desk_root: Path, record: Received) -> None:
    data = {"id": record.id, "key": record.key, "received": record.received}
    values = asdict(record)
    values["from"] = values.pop("sender")
    data.update({key: values[key] for key in RECEIVED.names if key not in data and values.get(key) not in (None, [])})
    where = path(desk_root, record.id)
    for folder in (desk_root / INBOX, where.parent, desk_root / TRIAGE):
        if folder.is_symlink():
            raise SdeskError("is a symbolic link: sdesk keeps received mail only in the desk itself", folder)
    pointer = desk_root / TRIAGE / record.id
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(where, yamlio.dump(data))
        if record.pending:
            pointer.parent.mkdir(exist_ok=True)
            write_atomic(pointer, f"{record.reason or 'waiting for an agent'}\n")
        elif pointer.exists() or pointer.is_symlink():
            pointer.unlink()
    except OSError as error:
        raise SdeskError(f"cannot record received mail: {error.strerror}", where) from None


def pending(desk_root: Path) -> Iterator[Received]:
    """The triage list: received mail that waits for an agent's decision, oldest first."""
    folder = desk_root / TRIAGE
    if not folder.is_dir():
        return iter(())
    found = []
    for entry in sorted(folder.iterdir()):
        if not ID_PATTERN.fullmatch(entry.name):
            continue
        try:
            record = read(desk_root, entry.name)
        except SdeskError:
            continue  # check names it
        if record.pending:
            found.append(record)
    return iter(sorted(found, key=lambda record: record.received))


def problems(desk_root: Path) -> list[SdeskError]:
    """For `sdesk check`: every record reads, and every triage entry names a record waiting for a decision."""
    found: list[SdeskError] = []
    inbox = desk_root / INBOX
    if inbox.is_dir():
        for where in sorted(inbox.glob("*/*")):
            if not ID_PATTERN.fullmatch(where.stem) or where.suffix != ".yaml" or where.parent.name != where.stem[2:4]:
                found.append(InvalidData("is not a received mail's record (inbox/xx/m-….yaml)", where))
                continue
            try:
                read(desk_root, where.stem)
            except SdeskError as error:
                found.append(error)
    triage = desk_root / TRIAGE
    if triage.is_dir():
        for where in sorted(triage.iterdir()):
            if not ID_PATTERN.fullmatch(where.name) or not exists(desk_root, where.name):
                found.append(InvalidData("names no received mail: sdesk mail triage ignores it", where))
    return found
