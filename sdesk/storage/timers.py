"""Running timers: `sdesk log ID --start` until `--stop` records the time as one ordinary entry.

A timer is this clone's own state, not the desk's: one small JSON file per
agent in ``.sdesk/timers/`` (git-ignored), named by a digest of the agent's
address so a file name never shows who works here, and written atomically so
it survives a crash and a new shell. ``.sdesk/`` can still arrive through a
colleague's ``git add -f``, so the file is read as untrusted input: a link, a
file that is not sdesk's timer (too big, not JSON, another agent's) or one on a
ticket that is gone counts as no timer, and the next ``--start`` replaces it.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from sdesk.errors import Refused, SdeskError
from sdesk.formats import files
from sdesk.storage.store import Desk, write_atomic
from sdesk.tickets import ids
from sdesk.tickets.model import MAX_ENTRY_MINUTES

TIMERS_DIR = "timers"  # in the desk's state folder
MAX_BYTES = 4096  # a timer is about 120 bytes


class Timer(Struct, frozen=True):
    ticket: str
    by: str
    started: Annotated[datetime, Meta(tz=True)]

    def since(self, zone: tzinfo) -> str:
        """When it started, the way agents read it: Mon 23 Nov 10:05 (in the desk's time zone)."""
        return f"{self.started.astimezone(zone):%a %d %b %H:%M}"

    def so_far(self, now: datetime) -> timedelta:
        return max(now - self.started, timedelta(0))


def running(desk: Desk, agent: str) -> Timer | None:
    """The agent's timer in this clone, or None (also for a file that is no timer of theirs)."""
    path = _path(desk, agent)
    try:
        files.require_inside(path.parent, desk.root)
        timer = msgspec.json.decode(files.read_bytes(path, None, MAX_BYTES), type=Timer)
    except (SdeskError, msgspec.DecodeError):  # a ValidationError is a DecodeError too
        return None
    if timer.by.lower() != agent.lower() or not ids.is_ticket_id(timer.ticket):
        return None
    return timer if desk.path_for(timer.ticket).is_file() else None


def kept_any(desk: Desk) -> bool:
    """Does this clone keep any timer? Spares `show` and `queue` asking git who acts when none does."""
    try:
        with os.scandir(desk.state_dir / TIMERS_DIR) as entries:
            return any(True for _ in entries)
    except OSError:
        return False


@contextmanager
def locked(desk: Desk, agent: str) -> Iterator[Timer | None]:
    """The agent's timer, held for a start, stop or discard: two shells stopping it at once record it once."""
    with desk.locked(f"timer-{_digest(agent)}"):
        yield running(desk, agent)


def start(desk: Desk, agent: str, ticket_id: str, now: datetime, current: Timer | None) -> Timer:
    """Start the agent's timer on a ticket; refused while one runs (``current``, as :func:`locked` read it)."""
    if current is not None:
        raise Refused(
            f"a timer is already running on {current.ticket} since {current.since(desk.rules.timezone)}: "
            f"stop it first (sdesk log {current.ticket} --stop --note …)"
        )
    timer = Timer(ticket_id, agent, now)
    path = _path(desk, agent)
    files.require_inside(path.parent, desk.root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SdeskError(f"cannot make the folder: {error.strerror}", path.parent) from None
    write_atomic(path, msgspec.json.encode(timer) + b"\n")
    return timer


def on_ticket(timer: Timer | None, ticket_id: str, zone: tzinfo, verb: str) -> Timer:
    """The agent's timer, when it runs on this ticket; ``verb`` (stop, discard) says what they tried."""
    if timer is None:
        raise Refused(f"no timer is running for you: nothing to {verb} (start one with sdesk log {ticket_id} --start)")
    if timer.ticket != ticket_id:
        option = "--stop --note …" if verb == "stop" else "--discard"
        raise Refused(
            f"your timer runs on {timer.ticket} since {timer.since(zone)}, not on {ticket_id}: "
            f"{verb} it there (sdesk log {timer.ticket} {option})"
        )
    return timer


def minutes_to_log(timer: Timer, now: datetime, zone: tzinfo) -> int:
    """The wall time since the start in whole minutes, rounded up (at least one); at most one entry's day."""
    seconds = (now - timer.started).total_seconds()
    if seconds < 0:
        raise Refused(
            f"your timer on {timer.ticket} starts {timer.since(zone)}, after now: "
            f"drop it (sdesk log {timer.ticket} --discard)"
        )
    minutes = max(1, math.ceil(seconds / 60))
    if minutes > MAX_ENTRY_MINUTES:
        raise Refused(
            f"your timer on {timer.ticket} has run since {timer.since(zone)}, more than a day: "
            f"log each day's work by hand (sdesk log {timer.ticket} DURATION --on DATE --note …), "
            f"then drop the timer (sdesk log {timer.ticket} --discard)"
        )
    return minutes


def drop(desk: Desk, agent: str) -> None:
    """Remove the agent's timer file, whatever it holds (a link is removed, never followed)."""
    path = _path(desk, agent)
    files.require_inside(path.parent, desk.root)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise SdeskError(f"cannot remove the timer: {error.strerror}", path) from None


def _path(desk: Desk, agent: str) -> Path:
    return desk.state_dir / TIMERS_DIR / f"{_digest(agent)}.json"


def _digest(agent: str) -> str:
    """A file name for an agent that does not show who it is; one per address, whatever its case."""
    return hashlib.sha256(agent.lower().encode("utf-8")).hexdigest()[:32]
