"""Reading a desk's files as the untrusted input they are.

Whatever is in a desk may come from a colleague's clone, a pull request or a
stranger's mail, and CI runs sdesk on it. So sdesk reads only regular files,
follows a symbolic link only when it ends inside the desk, never blocks on a
FIFO or reads a device, and never reads more than :data:`MAX_BYTES` of one
file. A refusal names the file at fault and never what a link points to, so
an error in a CI log cannot disclose a private key.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from sdesk.errors import InvalidData, NotFound, SdeskError

MAX_BYTES = 16 * 1024 * 1024  # far above any real ticket or policy, far below what hurts
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def read_text(path: Path, desk_root: Path | None = None, limit: int = MAX_BYTES) -> str:
    """A desk file's text (UTF-8, line ends kept as written)."""
    return decode(read_bytes(path, desk_root, limit), path)


def decode(data: bytes, path: Path) -> str:
    """A desk file's bytes as text; not UTF-8 is an error naming the file and the byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidData(f"not UTF-8 text (byte {exc.start})", path) from None


def read_bytes(path: Path, desk_root: Path | None = None, limit: int = MAX_BYTES) -> bytes:
    """A regular file's bytes, at most ``limit`` of them; ``desk_root`` is where a symbolic link may lead."""
    fd = _open(path, desk_root)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidData(f"is {kind(info.st_mode)}, not a regular file: sdesk reads only plain files", path)
        if info.st_size > limit:
            raise InvalidData(f"is {info.st_size:,} bytes, more than sdesk reads ({limit:,})", path)
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while we read it
                raise InvalidData(f"is more than {limit:,} bytes, more than sdesk reads", path)
        return b"".join(chunks)
    except OSError as error:
        raise SdeskError(f"cannot read: {error.strerror}", path) from None
    finally:
        os.close(fd)


def scan(folder: Path, desk_root: Path) -> AbstractContextManager[Iterator[os.DirEntry[str]]]:
    """The entries of a desk folder; a folder that is missing, a file, unreadable or outside the desk is one line."""
    require_inside(folder, desk_root)
    try:
        return os.scandir(folder)
    except FileNotFoundError:
        raise NotFound("is missing", folder) from None
    except NotADirectoryError:
        raise InvalidData("is a file, not a folder", folder) from None
    except OSError as error:
        raise SdeskError(f"cannot read the folder: {error.strerror}", folder) from None


def kind(mode: int) -> str:
    """What a file system entry is, in words: "a directory", "a FIFO" …"""
    for test, words in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def inside(path: Path | str, desk_root: Path) -> bool:
    """Is ``path``'s real place (every link followed) inside the desk?"""
    real, root = os.path.realpath(path), os.path.realpath(desk_root)
    return os.path.commonpath([real, root]) == root


def require_inside(folder: Path, desk_root: Path) -> None:
    """Refuses a desk folder that a symbolic link (``tickets``, ``templates/html/inc`` …) takes out of the desk."""
    try:
        found = os.stat(folder)
        identity = (found.st_dev, found.st_ino)
    except OSError:
        identity = (0, 0)
    if not _folder_inside(os.fspath(folder), os.fspath(desk_root), identity):
        raise InvalidData("is a folder that a symbolic link takes outside the desk: refused", folder)


@functools.lru_cache(maxsize=256)
def _folder_inside(folder: str, desk_root: str, identity: tuple[int, int]) -> bool:
    """Once per folder as it is: a desk of 100,000 tickets has them all in one folder, and a folder a pull
    swaps for a link (in a long-running runner) is another folder, judged anew."""
    return inside(folder, Path(desk_root))


def _open(path: Path, desk_root: Path | None) -> int:
    if desk_root is not None:
        require_inside(path.parent, desk_root)  # O_NOFOLLOW guards the last part of the path only
    try:
        return os.open(path, _FLAGS)
    except FileNotFoundError:
        raise NotFound("file not found", path) from None
    except OSError as error:
        if error.errno != errno.ELOOP:
            raise SdeskError(f"cannot read: {error.strerror}", path) from None
    # The last part is a symbolic link: followed only when it stays inside the desk.
    if desk_root is None:
        raise InvalidData("is a symbolic link, which sdesk does not follow here: refused", path)
    if not inside(path, desk_root):
        raise InvalidData("is a symbolic link that leads outside the desk: refused", path)
    try:
        return os.open(os.path.realpath(path), _FLAGS)
    except FileNotFoundError:
        raise NotFound("is a symbolic link to a file that does not exist", path) from None
    except OSError as error:
        raise SdeskError(f"cannot read: {error.strerror}", path) from None
