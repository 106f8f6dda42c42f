"""What every command needs from its invocation: the desk, the agent, the time, the tickets.

The domain is imported when a command asks for it, so start-up and --help stay light.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sdesk.errors import SdeskError

PROGRESS = "sdesk.progress"  # the invocation's meter, in the context's meta

if TYPE_CHECKING:
    from sdesk.clocks.sla import Clock
    from sdesk.progress import Progress
    from sdesk.storage.index import Index
    from sdesk.storage.store import Desk
    from sdesk.storage.timers import Timer
    from sdesk.tickets.model import Ticket


def desk() -> Desk:
    from sdesk.storage.store import find_desk

    ctx = click.get_current_context()
    if "sdesk.desk_obj" not in ctx.meta:
        ctx.meta["sdesk.desk_obj"] = find_desk(ctx.meta.get("sdesk.desk"), Path.cwd())
    found: Desk = ctx.meta["sdesk.desk_obj"]
    return found


def identity(current: Desk) -> tuple[str, str]:
    """Who says they act, and where that came from: --as or $SDESK_USER, else git config user.email."""
    from sdesk.formats import reader

    ctx = click.get_current_context()
    given = ctx.meta.get("sdesk.actor")
    if given:
        email, source = given, ctx.meta["sdesk.actor_source"]
    else:
        email, source = _git_config(current.root, "user.email"), "git config user.email"
    if not email:
        raise SdeskError("who are you? pass --as EMAIL, set SDESK_USER, or run: git config user.email you@example.com")
    if not reader.EMAIL_PATTERN.fullmatch(email):
        raise SdeskError(f"agent '{email}' is not an email address")
    return str(email), source


def actor(current: Desk) -> str:
    """The agent who changes tickets: the identity, checked against the agents rules.yaml declares (when it
    declares any). Reading commands never ask, so anyone may read."""
    from sdesk.policy import agents

    ctx = click.get_current_context()
    if "sdesk.acting" not in ctx.meta:
        ctx.meta["sdesk.acting"] = agents.acting(current.rules, *identity(current))
    acting: str = ctx.meta["sdesk.acting"]
    return acting


def assignee(current: Desk, value: str) -> str | None:
    """Whom a ticket is assigned to: 'me' is the acting agent, 'none' (or '') nobody, else a declared agent
    by email or name (any email while rules.yaml declares none)."""
    from sdesk.policy import agents

    if value in ("none", ""):
        return None
    return agents.assignee(current.rules, actor(current) if value == "me" else value)


def wanted_assignee(current: Desk, value: str) -> str | None:
    """An --assignee filter of a listing: 'me' is whoever asks (declared or not), a declared agent's name
    or email in any case is their email, any other email is taken as given (a former colleague's tickets)."""
    from sdesk.policy import agents

    if value in ("none", ""):
        return None
    wanted = identity(current)[0] if value == "me" else value
    agent = agents.find(current.rules.agents, wanted)
    return agent.email if agent is not None else wanted


def now(current: Desk) -> datetime:
    from sdesk.calendar import clock

    return clock.now(current.rules.timezone)


def timer(current: Desk) -> Timer | None:
    """The acting agent's running timer in this clone, for `show` and `queue`: none while nobody says who acts."""
    from sdesk.storage import timers

    if not timers.kept_any(current):
        return None
    try:
        return timers.running(current, actor(current))
    except SdeskError:
        return None


def founder(folder: Path) -> tuple[str, str] | None:
    """Who makes a new desk in ``folder``, as its first agent (email, name): the identity that would act
    (--as, $SDESK_USER, git's user.email) and git's user.name (else the email's local part); None when
    there is no such email."""
    from sdesk.formats import reader

    where = next((place for place in (folder, *folder.absolute().parents) if place.is_dir()), Path.cwd())
    email = click.get_current_context().meta.get("sdesk.actor") or _git_config(where, "user.email")
    if not email or not reader.EMAIL_PATTERN.fullmatch(email):
        return None
    name = _git_config(where, "user.name") or ""
    return email, name if name.isprintable() and name.strip() else email.partition("@")[0]


def _git_config(folder: Path, key: str) -> str | None:
    try:
        result = subprocess.run(["git", "config", key], cwd=folder, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return result.stdout.strip() or None


def progress() -> Progress:
    """This command's progress line (sdesk.progress.Meter) while stderr is a terminal, else silent; erased when
    the command ends, before any Error: line."""
    from sdesk.progress import Meter, silent
    from sdesk.terminal import EscapingStream

    ctx = click.get_current_context()
    # Beneath the escaping net, which would show the carriage returns the meter draws over its line with.
    stream = sys.stderr.stream if isinstance(sys.stderr, EscapingStream) else None
    if stream is None or not stream.isatty():
        return silent
    if PROGRESS not in ctx.meta:
        ctx.meta[PROGRESS] = Meter(stream)
        ctx.find_root().call_on_close(ctx.meta[PROGRESS].close)
    meter: Meter = ctx.meta[PROGRESS]
    return meter


def clear_progress() -> None:
    """The progress line erased so that a line can be printed; the next step of the work draws it again."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and PROGRESS in ctx.meta:
        ctx.meta[PROGRESS].clear()


def stop_progress() -> None:
    """The progress line erased for good, and none drawn from now on: a pager takes the screen."""
    from sdesk.progress import Meter

    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta.setdefault(PROGRESS, Meter(None)).close()


def index(current: Desk) -> Index:
    """The desk's ticket index, brought up to date; each file that does not read is named once on stderr."""
    from sdesk.storage.index import Index

    fresh = Index(current.tickets_dir, current.state_dir)
    for broken in fresh.refresh(progress()):
        click.echo(f"Warning: {broken.error} (skipped)", err=True)
    return fresh


def tickets(current: Desk, open_only: bool = False) -> Iterator[Ticket]:
    """Every ticket that reads (or every open one), oldest first, a batch at a time."""
    return index(current).tickets(current.rules.final_statuses if open_only else ())


def open_tickets_with_clocks(current: Desk) -> Iterator[tuple[Ticket, list[Clock]]]:
    """Every open ticket with its clocks now: their facts come from the index, made again only for tickets
    or rules that changed."""
    from sdesk.actions import clocked

    return clocked.open_with_clocks(current, index(current), now(current))


def interactive() -> bool:
    """Prompt only when a person is at the terminal, never in scripts or CI."""
    return sys.stdin.isatty() and sys.stdout.isatty()
