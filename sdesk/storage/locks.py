"""Advisory locks on files (POSIX flock), as filelock takes them on Unix: without its import of asyncio,
which cost every changing command 10 ms. A lock held by a process ends with it, however it ends."""

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


@contextmanager
def held(path: Path, timeout: float) -> Iterator[None]:
    """Hold the lock of ``path`` (made when missing, never through a symbolic link); raises LockTimeout
    after ``timeout`` seconds, OSError when the file cannot be opened."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(str(path)) from None
                time.sleep(POLL_SECONDS)
        yield
    finally:
        os.close(fd)  # closing the file lets the lock go
