"""Advisory locks on files (POSIX flock), as filelock takes them on Unix: without its import of asyncio,
which cost every changing command 10 ms. A lock held by a process ends with it, however it ends.

A lock is on a file, not a name: should the lock file be deleted (``rm -r .sdesk``) or replaced while
held, another process could lock a new file of the same name. So a lock is taken only on the file the
path still names, and its holder can ask before writing whether it still is (:meth:`Held.lost`).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.05


class LockTimeout(Exception):
    """Another process held the lock for longer than the caller would wait."""


class Held:
    """A lock being held on the file ``path`` named when it was taken."""

    def __init__(self, path: Path, fd: int):
        self.path, self.fd = path, fd

    def lost(self) -> bool:
        """Does the path no longer name the locked file (deleted or replaced meanwhile)?"""
        try:
            named = os.stat(self.path, follow_symlinks=False)
        except OSError:
            return True
        locked = os.fstat(self.fd)
        return (named.st_dev, named.st_ino) != (locked.st_dev, locked.st_ino)


@contextmanager
def held(path: Path, timeout: float) -> Iterator[Held]:
    """Hold the lock of ``path`` (made when missing, never through a symbolic link); raises LockTimeout
    after ``timeout`` seconds, OSError when the file cannot be opened."""
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            _acquire(fd, path, deadline)
            lock = Held(path, fd)
            if lock.lost():  # deleted or replaced while we waited: lock the file there now
                if time.monotonic() >= deadline:
                    raise LockTimeout(str(path))
                continue
            yield lock
            return
        finally:
            os.close(fd)  # closing the file lets the lock go


def _acquire(fd: int, path: Path, deadline: float) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockTimeout(str(path)) from None
            time.sleep(POLL_SECONDS)
