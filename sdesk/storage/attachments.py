"""Files that came with a customer's mail, kept in the desk: ``attachments/<ticket>/<digest>-<name>``.

One file per attachment, named by the start of its SHA-256 and a safe form
of the name the sender gave, so the same screenshot sent twice is kept once
and git stores it once. A name is only ever a file name inside the ticket's
folder: no folders, no leading dots, no control characters, nothing that
could lead out of it (``../``, an absolute path, a drive letter).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from msgspec import Struct

from sdesk.errors import InvalidData, SdeskError
from sdesk.formats import files
from sdesk.storage.store import write_atomic

FOLDER = "attachments"
DIGEST_CHARS = 12
MAX_NAME_BYTES = 120  # in UTF-8: with the digest, far below the 255 bytes a file system allows a name
MAX_PER_MESSAGE = 20
# Kept under a neutral name: a browser opening one from the portal's site would run it there.
ACTIVE_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".xml", ".xsl", ".js", ".mht", ".mhtml")
MAX_BYTES = 100 * 1024 * 1024  # the most rules.yaml's mail.max_attachment_mb allows
_UNSAFE = re.compile(r"[^\w.\- ]+")
_STORED = re.compile(rf"([0-9a-f]{{{DIGEST_CHARS}}})-(.+)")


class Kept(Struct, frozen=True):
    name: str  # as the sender named it, one line
    size: int
    file: str | None  # the stored file's name in the ticket's folder; None: not kept
    why: str | None = None
    new: bool = False  # written now (not the same content kept before)


def safe_name(name: str) -> str:
    """A file name that stays in its folder: the last path part, letters, digits, dot, dash, space.

    At most MAX_NAME_BYTES in UTF-8 (the end kept, with its suffix); a page or script a browser would
    run gets ``.txt`` added.
    """
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[\\/:]", name)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = " ".join(_UNSAFE.sub("_", name).split()).strip(". ")
    if name.lower().endswith(ACTIVE_SUFFIXES):
        name += ".txt"
    while len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = name[1:]
    return name.strip(". ") or "attachment"


def is_stored_name(name: str) -> bool:
    """Is this a name :func:`keep` gives (so it names a file inside the ticket's folder, nothing else)?"""
    found = _STORED.fullmatch(name)
    return found is not None and safe_name(found.group(2)) == found.group(2)


def read(desk_root: Path, owner: str, name: str) -> bytes | None:
    """A kept file's bytes, only when it is what sdesk kept: a name it gives, a plain file in a plain folder
    (no link anywhere on the way: a colleague's commit could point one at .git/config), and the content
    its digest names. None otherwise (`sdesk check` says why)."""
    found = _STORED.fullmatch(name)
    place = folder(desk_root, owner)
    if found is None or not is_stored_name(name) or (desk_root / FOLDER).is_symlink() or place.is_symlink():
        return None
    try:
        data = files.read_bytes(place / name, None, MAX_BYTES)
    except SdeskError:
        return None
    return data if hashlib.sha256(data).hexdigest()[:DIGEST_CHARS] == found.group(1) else None


def folder(desk_root: Path, ticket_id: str) -> Path:
    return desk_root / FOLDER / ticket_id


def keep(desk_root: Path, ticket_id: str, given: Iterable[tuple[str, bytes]], limit: int) -> list[Kept]:
    """Store each (name, data) up to ``limit`` bytes; a file already there with that content is reused."""
    where = folder(desk_root, ticket_id)
    for place in (desk_root / FOLDER, where):
        if place.is_symlink():
            raise SdeskError("is a symbolic link: sdesk keeps attachments only in the desk itself", place)
    kept = []
    for number, (name, data) in enumerate(given):
        shown = " ".join(name.split())[:200]
        if number >= MAX_PER_MESSAGE:
            kept.append(
                Kept(shown, len(data), None, f"only the first {MAX_PER_MESSAGE} attachments of a mail are kept")
            )
            continue
        if len(data) > limit:
            why = f"{_size(len(data))} is over the desk's limit of {_size(limit)}"
            kept.append(Kept(shown, len(data), None, why))
            continue
        digest = hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]
        try:
            where.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SdeskError(f"cannot keep attachments: {error.strerror}", where) from None
        found = sorted(where.glob(f"{digest}-*"))
        existing = next((path.name for path in found if not path.is_symlink() and path.is_file()), None)
        stored = existing or f"{digest}-{safe_name(name)}"
        if existing is None:
            write_atomic(where / stored, data)
        kept.append(Kept(shown, len(data), stored, new=existing is None))
    return kept


def not_kept_notes(kept: Iterable[Kept]) -> list[str]:
    """What the ticket says of each file left out, so the agent and the customer know."""
    return [f"[attachment {item.name} not kept: {item.why}]" for item in kept if item.file is None]


def stored_names(kept: Iterable[Kept]) -> tuple[str, ...]:
    """The stored names of the files kept: what an event's ``attachments`` lists."""
    return tuple(item.file for item in kept if item.file)


def problems(desk_root: Path, referenced: dict[str, set[str]]) -> list[SdeskError]:
    """For `sdesk check`: each kept file is plain, holds what its name says, and belongs to a ticket's event.

    ``referenced`` maps each ticket to the files its history names.
    """
    top = desk_root / FOLDER
    if not top.is_dir():
        return []
    found: list[SdeskError] = []
    for ticket_folder in sorted(top.iterdir()):
        named = referenced.get(ticket_folder.name)
        if named is None or not ticket_folder.is_dir() or ticket_folder.is_symlink():
            found.append(InvalidData("is not the attachments folder of a ticket in tickets/", ticket_folder))
            continue
        for path in sorted(ticket_folder.iterdir()):
            match = _STORED.fullmatch(path.name)
            if match is None or path.name not in named:
                found.append(InvalidData("is not an attachment the ticket's history names", path))
                continue
            try:
                data = files.read_bytes(path, desk_root, MAX_BYTES)
            except SdeskError as error:
                found.append(error)
                continue
            if hashlib.sha256(data).hexdigest()[:DIGEST_CHARS] != match.group(1):
                found.append(InvalidData("does not hold what its name's digest says: it was changed", path))
        for name in sorted(named - {path.name for path in ticket_folder.iterdir()}):
            found.append(InvalidData(f"the history names attachment {name}, which is missing", ticket_folder))
    return found


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{max(1, size // 1024)} KB"
