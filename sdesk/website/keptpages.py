"""The ticket pages of the last export, kept so that an export with little changed renders little.

Making each listed ticket's view and rendering its page is most of an
export's work, and most pages read as they did last time. For each ticket a
portal lists, the clone keeps (``.sdesk/cache/site-<digest>.msgpack``, one
file per folder exported to):

* the digest of what its page is made of: the ticket as read, and what every
  page shares (this sdesk and its code, the rules' key, the desk's HTML
  templates, the portal's language);
* the span of time in which its view reads the same (:class:`sdesk.website.portal.Span`):
  a running clock turning overdue, or a new year, ends it;
* the view itself, which the portal's own page lists.

Beside them it keeps each page file's signature as last written (size,
modification and status-change times, inode). A kept ticket whose page file
still has its signature is neither viewed nor rendered again; anything else
is made again, and the page compared with the file before it is written. A
file of this cache is decoded into these types alone (no code runs), and one
that does not decode is an empty cache.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import msgspec

from sdesk import __version__
from sdesk.storage.store import write_atomic
from sdesk.tickets.model import Ticket
from sdesk.website.portal import PublicTicket, Span
from sdesk.website.publish import Signature

CACHE_DIR = "cache"  # under the desk's state folder
MAX_BYTES = 512 * 1024 * 1024  # a cache larger than any export writes is not read
_PACKAGE = Path(__file__).resolve().parent.parent


class _Entry(msgspec.Struct, frozen=True, array_like=True):
    digest: bytes
    after: datetime
    until: datetime
    view: PublicTicket


class _File(msgspec.Struct, array_like=True):
    tickets: dict[str, _Entry]
    pages: dict[str, Signature]


_encode_ticket = msgspec.json.Encoder().encode
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_File).decode


class KeptPages:
    """What the last export to ``out`` made, for this export (at ``now``) to reuse where it still holds."""

    def __init__(self, state_dir: Path, out: Path, customer: str | None, shared: bytes, now: datetime):
        folder = hashlib.sha256(f"{out.resolve()}\0{customer or ''}".encode()).hexdigest()[:20]
        self.path = state_dir / CACHE_DIR / f"site-{folder}.msgpack"
        self.shared, self.now = shared, now
        self.before = _load(self.path)
        self.tickets: dict[str, _Entry] = {}
        self.reused: set[str] = set()

    def view(self, ticket: Ticket, language: str, make: Callable[[], tuple[PublicTicket, Span]]) -> PublicTicket:
        """The ticket's view as kept, when made of the same and still in its span; else ``make()``."""
        digest = hashlib.blake2b(_encode_ticket(ticket) + b"\0" + language.encode() + self.shared).digest()
        kept = self.before.tickets.get(ticket.id)
        if kept is not None and kept.digest == digest and kept.after < self.now <= kept.until:
            self.reused.add(ticket.id)
        else:
            view, span = make()
            kept = _Entry(digest, span.after, span.until, view)
        self.tickets[ticket.id] = kept
        return kept.view

    def signature(self, ticket_id: str, name: str) -> Signature | None:
        """The signature the ticket's page file was left with, when its view was reused (else None: rendered)."""
        return self.before.pages.get(name) if ticket_id in self.reused else None

    def save(self, signatures: Mapping[str, Signature | None]) -> None:
        """Keep this export's views and the pages' signatures (None: not to be trusted, e.g. written just now);
        quietly not when the cache cannot be written."""
        pages = {name: signature for name, signature in signatures.items() if signature is not None}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.parent.is_symlink():
                write_atomic(self.path, _encode(_File(self.tickets, pages)), durable=False)
        except OSError:
            pass


def shared_digest(rules_key: str, desk_templates: Path) -> bytes:
    """What every page is made of besides its ticket: the rules' key, this sdesk's version and code (a checkout
    changes without a new version), and the desk's own templates, by their files' signatures."""
    code = sorted(
        (str(path), path.stat().st_mtime_ns, path.stat().st_size)
        for pattern in ("**/*.py", "website/templates/*.html")
        for path in _PACKAGE.glob(pattern)
    )
    return hashlib.sha256(repr((rules_key, __version__, code, _signatures(desk_templates))).encode()).digest()


def _signatures(folder: Path) -> list[tuple[str, int, int, int, int]]:
    """Name, size, times and inode of each entry in the folder (links as links); none when there is none."""
    try:
        with os.scandir(folder) as entries:
            found = []
            for entry in entries:
                info = entry.stat(follow_symlinks=False)
                found.append((entry.name, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))
    except OSError:
        return []
    return sorted(found)


def _load(path: Path) -> _File:
    empty = _File({}, {})
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return empty
    try:
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return empty
    if len(data) > MAX_BYTES:
        return empty
    try:
        return _decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError):
        return empty
