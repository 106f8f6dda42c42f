"""One line per sign-in event, for whoever looks after the portal: who asked, from where, what came of it.

Appended to a file of the runner's clone (never committed: it holds customers' addresses and their IP
addresses), as one JSON object a line, so a line holds whatever an attacker typed as data, not as
lines of its own.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from sdesk.errors import SdeskError

EVENTS = ("link-sent", "link-failed", "stranger", "signed-in", "link-refused", "signed-out", "limited")


def record(path: Path, at: datetime, event: str, address: str, client: str) -> str:
    """Append the event to ``path`` (made with mode 0600; a symbolic link is refused); returns the line."""
    if event not in EVENTS:
        raise ValueError(f"unknown sign-in event {event!r}")
    line = json.dumps({"at": at.isoformat(), "event": event, "address": address, "client": client}) + "\n"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        raise SdeskError(f"cannot write the sign-in audit: {error.strerror}", path) from None
    try:
        os.write(descriptor, line.encode("utf-8"))  # one write of one line: lines of two threads never mix
    finally:
        os.close(descriptor)
    return line
