"""The ticket pages of the last export, kept so that an export with little changed renders little.

Making each listed ticket's view and rendering its page is most of an
export's work, and most pages read as they did last time. For each ticket a
portal lists, the clone keeps (``.sdesk/cache/site-<digest>.json``, one
file per folder exported to):

* the digest of what its page is made of: the ticket as read, and what every
  page shares (this sdesk and its code, Jinja2, the rules' key, every file
  of the desk's HTML templates, the portal's language);
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
import stat
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import jinja2
import markupsafe
import msgspec

from sdesk import __version__
from sdesk.errors import SdeskError
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
# JSON keeps each moment's UTC offset, as the view had it (a template may print it).
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(_File).decode


class KeptPages:
    """What the last export to ``out`` made, for this export (at ``now``) to reuse where it still holds."""

    def __init__(self, state_dir: Path, out: Path, customer: str | None, shared: bytes | None, now: datetime):
        try:
            where = str(out.resolve())
        except (OSError, RuntimeError):  # a link loop: the export says what is wrong with OUT
            where = str(out.absolute())
        folder = hashlib.sha256(f"{where}\0{customer or ''}".encode()).hexdigest()[:20]
        self.path = state_dir / CACHE_DIR / f"site-{folder}.json"
        self.shared, self.now = shared, now
        self.before = _load(self.path) if shared is not None else _File({}, {})
        self.tickets: dict[str, _Entry] = {}
        self.reused: set[str] = set()

    def view(self, ticket: Ticket, language: str, make: Callable[[], tuple[PublicTicket, Span]]) -> PublicTicket:
        """The ticket's view as kept, when made of the same and still in its span; else ``make()``."""
        if self.shared is None:
            return make()[0]
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
        quietly not when the cache cannot be written (the site is published: a cache is only a shortcut)."""
        if self.shared is None:
            return
        pages = {name: signature for name, signature in signatures.items() if signature is not None}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.parent.is_symlink():
                write_atomic(self.path, _encode(_File(self.tickets, pages)), durable=False)
        except (OSError, SdeskError):
            pass


def shared_digest(rules_key: str, desk_templates: Path) -> bytes | None:
    """What every page is made of besides its ticket: the rules' key, this sdesk's version and code (a checkout
    changes without a new version), Jinja2 and MarkupSafe, and every file of the desk's own templates (partials
    in subfolders and the files links lead to as well). None when the templates cannot all be told apart so:
    a link to a folder, or an entry that cannot be read; nothing is reused then."""
    code = sorted(
        (str(path), info.st_mtime_ns, info.st_size)
        for pattern in ("**/*.py", "website/templates/*.html")
        for path in _PACKAGE.glob(pattern)
        for info in (path.stat(),)
    )
    desk = _template_files(desk_templates)
    if desk is None:
        return None
    libraries = [(path, os.stat(path).st_mtime_ns) for path in (jinja2.__file__, markupsafe.__file__) if path]
    made_from = (rules_key, __version__, libraries, code, desk)
    return hashlib.sha256(repr(made_from).encode()).digest()


def _template_files(folder: Path) -> list[tuple[str, int, int, int, int]] | None:
    """Path, size, times and inode of every file below the folder, links followed to their file; [] when
    there is no folder, None when a link leads to a folder (its files could change unseen) or anything fails."""
    found = []
    try:
        for parent, folders, files in os.walk(folder, onerror=_raise):
            for name in (*folders, *files):
                path = os.path.join(parent, name)
                info = os.stat(path)  # what a link leads to: the loader reads that
                if stat.S_ISDIR(info.st_mode) and os.path.islink(path):
                    return None
                if not stat.S_ISDIR(info.st_mode):
                    found.append((path, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))
    except FileNotFoundError as error:
        return [] if error.filename == str(folder) else None
    except OSError:
        return None
    return sorted(found)


def _raise(error: OSError) -> None:
    raise error


def _load(path: Path) -> _File:
    """The cache as the last export left it; empty when it is missing, not a plain file, too large, does not
    decode, or holds a moment without its UTC offset (which could not be compared with now)."""
    empty = _File({}, {})
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return empty
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
                return empty
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return empty
    try:
        kept = _decode(data)
    except (msgspec.DecodeError, ValueError, TypeError):
        return empty
    return kept if all(_aware(entry) for entry in kept.tickets.values()) else empty


def _aware(entry: _Entry) -> bool:
    moments = (entry.after, entry.until, entry.view.updated_at, *(event.at for event in entry.view.history))
    return all(moment.tzinfo is not None for moment in moments)
