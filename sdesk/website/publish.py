"""Writing the site into its folder without losing anything that is not ours.

The folder keeps a list of the files the last export wrote (``.sdesk-site``).
A new export writes each page atomically, leaves byte-identical files alone
(so a site kept in git diffs cleanly) and removes only pages it wrote
before that are no longer part of the site: a ticket that moved to another
customer leaves the old customer's portal. A folder with other files in
it and no list is refused rather than mixed into (hidden ones such as
``.git`` aside).

Nothing below the folder is reached through a symbolic link. The folder
itself may be one (the user chose where the site goes, e.g. /srv/portal), but
a link inside it could carry a write or a removal anywhere. Every path is
followed from the folder one real folder at a time (``O_NOFOLLOW``), so a
link on the way to a page is refused even if it appears while sdesk runs, and
a page that is a link is replaced: the link, never what it points to. sdesk
never makes links, so a link is never sdesk's to remove. The list of pages is
read as the untrusted file it is: a plain file of bounded size, each line a
page sdesk could have written, or the export stops at that line.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path

from sdesk.errors import InvalidData, SdeskError
from sdesk.policy.rules import SLUG_PATTERN
from sdesk.progress import Progress, counted, silent
from sdesk.tickets.ids import ID_PATTERN

MANIFEST = ".sdesk-site"
MAX_MANIFEST_BYTES = 32 * 1024 * 1024  # some 800,000 pages; a huge or endless file is never read
# Exactly the pages an export writes, so a planted manifest line can name nothing else (a user's own
# about.html or docs/): the team's pages, and a portal's (in customers/KEY/, or in OUT itself with --customer).
_PORTAL_PAGE = rf"(?:index|{ID_PATTERN.pattern})\.html"
# A file a customer sent, beside their portal's pages (files/TICKET/<digest>-<name>, storage/attachments.py).
_FILE = rf"files/{ID_PATTERN.pattern}/[0-9a-f]{{12}}-[\w.\- ]{{1,80}}"
PAGE = re.compile(
    rf"dashboard\.html|announcements\.html|(?:customers/{SLUG_PATTERN.pattern}/)?(?:{_PORTAL_PAGE}|{_FILE})"
)
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO never blocks the export
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISREG, "a file"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


Signature = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode of a page file
RECENT_NS = 2_000_000_000  # a page file changed this recently may change again unseen within its times
MAKING, WRITING = "Making pages", "Writing pages"  # what publishing tells its progress


@dataclass(frozen=True)
class LazyPage:
    """A page rendered only when it is written or compared, one at a time: never while its file keeps the
    ``signature`` the last export left it with (None: rendered)."""

    render: Callable[[], str]
    signature: Signature | None = None


@dataclass(frozen=True)
class Published:
    written: int
    unchanged: int
    removed: int
    signatures: dict[str, Signature | None]  # of every page now in the folder (None: changed just now)


def publish(out: Path, pages: Mapping[str, str | bytes | LazyPage], progress: Progress = silent) -> Published:
    """Make ``out`` hold exactly ``pages`` (path -> HTML), next to any files sdesk did not write.

    Every page is rendered before anything is written, so a page that fails to render changes nothing;
    the pages to write wait compressed, so a site of 10,000 pages is not held whole in memory. ``progress``
    hears of each page made and written.
    """
    names = sorted(pages)
    for name in names:
        if not PAGE.fullmatch(name):
            raise SdeskError(f"not a page of the site: {name!r}")
    previous = _previous(out)
    gone = sorted(set(previous) - set(names))
    started = time.time_ns()
    to_write, signatures = _changed(out, names, pages, progress)
    written = len(to_write)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SdeskError(f"cannot make the folder: {error.strerror}", out) from None
    with _Folder(out) as folder:
        for name in (*names, *gone):  # everything refused before anything is written
            folder.check(name)
        # Listed before writing: a run cut short leaves no page the next run would not know to remove.
        folder.write(MANIFEST, _listed(sorted(set(previous) | set(names))))
        progress(WRITING, 0, written)
        for name in names:
            if name in to_write:
                folder.write(name, zlib.decompress(to_write.pop(name)))
                progress(WRITING, written - len(to_write), written)
            if name not in signatures:
                signature = folder.signature(name)
                signatures[name] = signature if signature and signature[2] < started - RECENT_NS else None
        for name in gone:
            folder.remove(name)
        folder.write(MANIFEST, _listed(names))
    return Published(written, len(names) - written, len(gone), signatures)


def _changed(
    out: Path, names: Sequence[str], pages: Mapping[str, str | bytes | LazyPage], progress: Progress
) -> tuple[dict[str, bytes], dict[str, Signature | None]]:
    """The pages whose file must be written (compressed), and the signatures of those left alone unseen."""
    to_write: dict[str, bytes] = {}
    left: dict[str, Signature | None] = {}
    with _Folder(out) if out.is_dir() else nullcontext() as folder:
        for name in counted(names, MAKING, len(names), progress):
            page = pages[name]
            if isinstance(page, LazyPage):
                if folder is not None and page.signature is not None and folder.signature(name) == page.signature:
                    left[name] = page.signature
                    continue
                page = page.render()
            content = page.encode("utf-8") if isinstance(page, str) else page
            if folder is None or not folder.holds(name, content):
                to_write[name] = zlib.compress(content, 1)
    return to_write, left


def check_folder(out: Path) -> None:
    """Refuses a folder the export may not write into, before any work is done."""
    _previous(out)


def _previous(out: Path) -> list[str]:
    """The pages the last export wrote; refuses a folder sdesk did not make that has files in it."""
    for place in (out, *out.parents):
        if place.exists() and not place.is_dir():
            raise SdeskError(f"{place} is a file, not a folder")
    if not out.exists():
        return []
    with _Folder(out) as folder:
        data = folder.manifest()
        # Hidden entries alone (.git, .nojekyll) leave a folder empty enough: the site can be kept in git.
        if data is None and any(not name.startswith(".") for name in folder.names()):
            raise SdeskError(f"{out} is not empty and holds no earlier export: choose a new or empty folder")
    if data is None:
        return []
    manifest = out / MANIFEST
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidData("not UTF-8 text", manifest, data[: error.start].count(b"\n") + 1) from None
    names = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not PAGE.fullmatch(line):
            raise InvalidData(f"not a page of the site: {line!r}", manifest, number)
        names.append(line)
    return names


def _listed(names: list[str]) -> bytes:
    return "".join(f"{name}\n" for name in names).encode("utf-8")


class _Folder:
    """OUT, opened once; a path below it is followed one real folder at a time, never through a link."""

    def __init__(self, out: Path) -> None:
        self.out = out
        try:
            self.fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # OUT may be a link the user chose
        except OSError as error:
            raise SdeskError(f"cannot open the folder: {error.strerror}", out) from None

    def __enter__(self) -> _Folder:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def names(self) -> list[str]:
        try:
            return os.listdir(self.fd)
        except OSError as error:
            raise SdeskError(f"cannot read the folder: {error.strerror}", self.out) from None

    def manifest(self) -> bytes | None:
        """The list of pages, None when there is none; only a plain file of bounded size is read."""
        path = self.out / MANIFEST
        try:
            fd = os.open(MANIFEST, _READ, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError as error:
            mode = _mode(self.fd, MANIFEST)  # O_NOFOLLOW refuses a link: say so, never where it leads
            reason = f"is {_kind(mode)}" if stat.S_ISLNK(mode) else f"cannot be read: {error.strerror}"
            raise SdeskError(f"{path} {reason}, not the plain file an export keeps its list of pages in") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                kind = _kind(info.st_mode)
                raise SdeskError(f"{path} is {kind}, not the plain file an export keeps its list of pages in")
            data = _read(fd, MAX_MANIFEST_BYTES + 1)
        except OSError as error:
            raise SdeskError(f"cannot read: {error.strerror}", path) from None
        finally:
            os.close(fd)
        if len(data) > MAX_MANIFEST_BYTES:
            raise SdeskError(f"{path} is larger than any list of pages sdesk writes ({MAX_MANIFEST_BYTES:,} bytes)")
        return data

    def check(self, name: str) -> None:
        """Refuses a link or a file where the page needs a folder, and a folder where the page goes."""
        *parents, page = name.split("/")
        fd = self._open(parents)
        if fd is None:
            return
        try:
            if stat.S_ISDIR(_mode(fd, page)):
                raise SdeskError(f"{self.out / name} is a folder where the site has a page")
        finally:
            os.close(fd)

    def holds(self, name: str, content: bytes) -> bool:
        """Is the page a plain file with these very bytes? A link is no page, whatever it points to."""
        *parents, page = name.split("/")
        fd = self._open(parents)
        if fd is None:
            return False
        try:
            page_fd = os.open(page, _READ, dir_fd=fd)
        except OSError:  # missing, a link, unreadable: written anew
            return False
        finally:
            os.close(fd)
        try:
            info = os.fstat(page_fd)
            same_size = stat.S_ISREG(info.st_mode) and info.st_size == len(content)
            return same_size and _read(page_fd, len(content) + 1) == content
        finally:
            os.close(page_fd)

    def signature(self, name: str) -> Signature | None:
        """The page file's size, times and inode; None when it is not a plain file."""
        *parents, page = name.split("/")
        fd = self._open(parents)
        if fd is None:
            return None
        try:
            info = os.stat(page, dir_fd=fd, follow_symlinks=False)
        except OSError:
            return None
        finally:
            os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)

    def write(self, name: str, content: bytes) -> None:
        """A temporary file renamed over the page: readers see the old page or the new one, and a link is replaced."""
        *parents, page = name.split("/")
        fd = self._open(parents, make=True)
        if fd is None:  # made, then removed by someone else before it could be opened
            raise SdeskError("cannot write: its folder disappeared", self.out / name)
        temporary = f".{page}.{secrets.token_hex(6)}.tmp"
        try:
            with os.fdopen(os.open(temporary, _CREATE, 0o666, dir_fd=fd), "wb") as handle:
                handle.write(content)
            os.replace(temporary, page, src_dir_fd=fd, dst_dir_fd=fd)
        except OSError as error:
            with suppress(OSError):
                os.unlink(temporary, dir_fd=fd)
            raise SdeskError(f"cannot write: {error.strerror}", self.out / name) from None
        finally:
            os.close(fd)

    def remove(self, name: str) -> None:
        """Removes the page (a link itself, never what it points to), then the folders it leaves empty."""
        *parents, page = name.split("/")
        fd = self._open(parents)
        if fd is None:
            return
        try:
            with suppress(FileNotFoundError):
                os.unlink(page, dir_fd=fd)
        except OSError as error:
            raise SdeskError(f"cannot remove: {error.strerror}", self.out / name) from None
        finally:
            os.close(fd)
        for depth in range(len(parents), 0, -1):
            fd = self._open(parents[: depth - 1])
            if fd is None:
                return
            try:
                os.rmdir(parents[depth - 1], dir_fd=fd)
            except OSError:  # not empty, or no longer a folder: it stays
                return
            finally:
                os.close(fd)

    def _open(self, parents: Sequence[str], make: bool = False) -> int | None:
        """A new descriptor of OUT/parents (made if asked); None if it does not exist. Links are refused."""
        fd = os.dup(self.fd)
        for depth, name in enumerate(parents, start=1):
            try:
                if make:
                    with suppress(FileExistsError):
                        os.mkdir(name, dir_fd=fd)
                child = os.open(name, _FOLDER, dir_fd=fd)
            except FileNotFoundError:
                os.close(fd)
                return None
            except OSError as error:
                refusal = self._not_a_folder(self.out.joinpath(*parents[:depth]), _mode(fd, name), error)
                os.close(fd)
                raise refusal from None
            os.close(fd)
            fd = child
        return fd

    def _not_a_folder(self, path: Path, mode: int, error: OSError) -> SdeskError:
        if stat.S_ISLNK(mode):
            where = f"an export writes and removes only in real folders below {self.out}"
            return SdeskError(f"{path} is a symbolic link: {where}")
        if mode and not stat.S_ISDIR(mode):
            return SdeskError(f"{path} is {_kind(mode)}, not a folder")
        return SdeskError(f"cannot open the folder: {error.strerror}", path)


def _mode(folder: int, name: str) -> int:
    """What ``name`` in the open folder is (a link itself, not what it points to); 0 when that cannot be told."""
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
    except OSError:
        return 0


def _kind(mode: int) -> str:
    return next((words for test, words in _KINDS if test(mode)), "a device")


def _read(fd: int, limit: int) -> bytes:
    """At most ``limit`` bytes from an open file."""
    chunks, size = [], 0
    while size < limit and (chunk := os.read(fd, min(1 << 20, limit - size))):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
