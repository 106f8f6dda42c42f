"""A deadline for a piece of work that reads nothing but may wait or loop: a template's render, an SMTP session."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def within(seconds: float, overdue: Callable[[], BaseException]) -> Iterator[None]:
    """Raise ``overdue()`` in the block once it has run ``seconds``.

    Only where a timer can be set (the main thread, no other timer running): elsewhere the block
    runs unbounded, and each caller's own bounds (a socket's timeout) still hold.
    """
    usable = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if not usable or signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0):
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise overdue()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
