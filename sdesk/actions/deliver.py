"""Delivering the mail that committed history owes, exactly once, from whichever clone runs it.

A mail is owed when the history has its event (after the mail baseline) and
no record says it went out (:mod:`sdesk.mail.records`). A runner first
*claims* what it will send, in a commit it pushes: the push is the lock, so
of two runners only one gets a mail (the other's push is refused and it
starts again from what won). Then it sends, writing each step to a journal
on its own disk first (``.git/sdesk-runner/mail-journal.jsonl``), and commits the
outcomes. A runner killed at any moment finds its claims on the next cycle
and settles them from the journal: a mail never begun is sent, one killed
before its final dot is sent (the server threw it away), one killed after
it may have arrived and is recorded ``unconfirmed``, never sent twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct, field

from sdesk.actions.owing import Owed, history_mail
from sdesk.errors import SdeskError
from sdesk.mail import baseline, records
from sdesk.mail.records import Record
from sdesk.output import plural
from sdesk.storage import sync
from sdesk.storage.store import Desk, write_atomic

if TYPE_CHECKING:
    from sdesk.mail.compose import Templates
    from sdesk.mail.smtp import Transport

JOURNAL = "mail-journal.jsonl"
START, ENDING = "start", "ending"  # the journal's steps before an outcome
CLAIM = "sdesk run: claim"  # how a claim commit's message begins
STALE_AFTER = timedelta(days=7)  # mail about an older event is parked, not sent on its own
SETTLED = "settled"  # the commit at which every mail history owed was settled, in the runner's folder
COMPACT_SLACK = 1000  # journal lines beyond two per mail before it is compacted


class Delivery(Struct):
    """What one mail step did, by mail key."""

    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    parked: list[tuple[str, str]] = field(default_factory=list)
    unconfirmed: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # sent, but some recipients were refused
    settled: list[str] = field(default_factory=list)  # a killed cycle's mail, recorded from the journal
    waiting: list[Owed] = field(default_factory=list)  # parked, unconfirmed or claimed elsewhere: for an agent
    problems: list[str] = field(default_factory=list)  # tickets whose mail cannot be worked out

    @property
    def done(self) -> int:
        return len(self.sent) + len(self.failed) + len(self.parked) + len(self.unconfirmed)


class Journal:
    """This runner's own account of each delivery, on its disk before anything is said to the server."""

    def __init__(self, folder: Path):
        self.path = folder / JOURNAL

    def write(self, key: str, step: str, detail: str = "") -> None:
        self.path.parent.mkdir(exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.path, flags, 0o600)
        try:
            os.write(fd, (json.dumps({"mail": key, "step": step, "detail": detail}) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def last(self) -> dict[str, tuple[str, str]]:
        """Each mail's last step and its detail; a journal grown to more than twice that is written anew."""
        steps: dict[str, tuple[str, str]] = {}
        if not self.path.is_file() or self.path.is_symlink():
            return steps
        lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        for line in lines:
            try:
                entry = json.loads(line)
                steps[str(entry["mail"])] = (str(entry["step"]), str(entry.get("detail", "")))
            except (ValueError, KeyError, TypeError, RecursionError):
                continue  # a line torn by a crash: that step did not happen
        if len(lines) > 2 * len(steps) + COMPACT_SLACK:
            kept = "".join(
                json.dumps({"mail": key, "step": step, "detail": detail}) + "\n"
                for key, (step, detail) in steps.items()
            )
            write_atomic(self.path, kept)
        return steps


def deliver(
    desk: Desk,
    connection: Callable[[], AbstractContextManager[Transport]],
    now: datetime,
    runner: str,
    share: Callable[[str], bool],
    retry: tuple[str, ...] = (),
) -> Delivery:
    """Claim, send and record what history owes, committing the records (in git); ``share(message)`` pushes them.

    ``share`` returns False when another runner got there first (its push was refused): nothing is
    sent then, and the caller pulls and calls again. ``retry`` names the waiting states
    (parked, unconfirmed, claimed) whose mail an agent asked to try again.
    """
    from sdesk.mail import compose  # Jinja2 only when there is mail to write

    done = Delivery()
    folder = sync.runner_dir(desk.root, desk.state_dir)
    settled_at = folder / SETTLED
    since = None if retry or not settled_at.is_file() else settled_at.read_text(encoding="utf-8").strip() or None
    # What this delivery looks at: the commit as it is now, if the tree holds nothing else that owes mail.
    examined = sync.head(desk.root) if sync.unchanged(desk.root, baseline.MAIL_SOURCES) else None
    items, done.problems = history_mail(desk, include_sent=False, since=since)
    journal = Journal(folder)
    steps = journal.last()
    mine, claims, decided = [], [], []  # decided: recorded without a send (from the journal, or too old)
    for item in items:
        state, key = item.state, item.letter.key
        mine_before = state == records.CLAIMED and item.standing is not None and item.standing.runner == runner
        step, detail = steps.get(key, (START, ""))
        if mine_before or (state in records.TO_SEND and step in (ENDING, records.SENT, records.UNCONFIRMED)):
            # this runner had it in hand (a record lost to a kill, a force-push or a deleted file says nothing)
            if step == ENDING:  # killed after the final dot: the server may have it
                step, detail = records.UNCONFIRMED, "interrupted after the message went out"
            if step in (records.SENT, records.PARKED, records.UNCONFIRMED):
                decided.append(_record(item, step, now, runner, detail))
                done.settled.append(key)
                if step == records.UNCONFIRMED:
                    done.unconfirmed.append((key, detail))
            else:
                mine.append(item)
        elif state in records.TO_SEND and now - item.letter.at > STALE_AFTER:
            # a flood of old news (a runner down for weeks, an address added to rules.yaml) waits for an agent
            why = (
                f"not sent: its event is from {item.letter.at:%Y-%m-%d %H:%M}, over {STALE_AFTER.days} days "
                "before this delivery (--retry parked sends it)"
            )
            decided.append(_record(item, records.PARKED, now, runner, why))
            done.parked.append((key, why))
        elif state in records.TO_SEND or state in retry:
            claims.append(item)
        else:
            done.waiting.append(item)
    outcomes = list(decided)
    if claims or mine:
        templates = compose.Templates(desk.root, desk.rules.timezone)
        # Connected before anything is claimed: a server that cannot be reached leaves the mail owed.
        with connection() as transport:
            if claims:
                _append(desk, [_record(item, records.CLAIMED, now, runner) for item in claims])
                claim = f"{CLAIM} {plural(len(claims), 'mail')}"
                sync.commit(desk.root, (records.FOLDER,), claim)
                if not share(claim):
                    return done
                mine.extend(claims)
            for item in mine:
                outcomes.append(_send(item, templates, transport, journal, now, runner, done))
    if outcomes:
        _append(desk, outcomes)
        summary = f"sdesk run: {_summary(done)}"
        recorded = sync.commit(desk.root, (records.FOLDER,), summary)
        share(summary)
        # Settled at this runner's own records (a refused push may merge others' work on top: not examined).
        examined = recorded if examined is not None and recorded is not None else examined
    if examined is not None and not done.failed and not done.problems:  # all done, or waiting for an agent
        write_atomic(settled_at, examined + "\n")  # the next delivery looks only at what changed since
    return done


def _send(
    item: Owed, templates: Templates, transport: Transport, journal: Journal, now: datetime, runner: str, done: Delivery
) -> Record:
    from sdesk.mail import compose
    from sdesk.mail.smtp import DeliveryFailed, DeliveryRefused, DeliveryUncertain  # ssl and email: only to send

    letter, key = item.letter, item.letter.key
    try:
        message = compose.message(letter, templates)
    except SdeskError as error:  # a template broken since the change was recorded
        done.parked.append((key, error.message))
        return _record(item, records.PARKED, now, runner, error.message)
    raw = message.as_bytes()
    recipients = [address.addr_spec for address in (*letter.to, *letter.cc)]
    journal.write(key, START)
    try:
        refused = transport.deliver(raw, letter.sender.addr_spec, recipients, lambda: journal.write(key, ENDING))
    except DeliveryFailed as failure:
        journal.write(key, records.FAILED, failure.message)
        done.failed.append((key, failure.message))
        return _record(item, records.FAILED, now, runner, failure.message)
    except DeliveryRefused as refusal:
        journal.write(key, records.PARKED, refusal.message)
        done.parked.append((key, refusal.message))
        return _record(item, records.PARKED, now, runner, refusal.message)
    except DeliveryUncertain as doubt:
        journal.write(key, records.UNCONFIRMED, doubt.message)
        done.unconfirmed.append((key, doubt.message))
        return _record(item, records.UNCONFIRMED, now, runner, doubt.message)
    detail = "; ".join(f"refused {address}: {reason}" for address, reason in refused.items())
    journal.write(key, records.SENT, detail)
    done.sent.append(key)
    if refused:
        done.refused.append((key, detail))
    return _record(item, records.SENT, now, runner, detail, str(message["Subject"]))


def _record(item: Owed, state: str, now: datetime, runner: str, detail: str = "", subject: str = "") -> Record:
    to = ", ".join(address.addr_spec for address in (*item.letter.to, *item.letter.cc))
    return Record(item.letter.key, state, now.isoformat(), runner, to, subject, detail)


def _append(desk: Desk, new: list[Record]) -> None:
    by_ticket: dict[str, list[Record]] = {}
    for record in new:
        by_ticket.setdefault(record.mail.split(".", 1)[0], []).append(record)
    for ticket_id, found in by_ticket.items():
        records.append(desk.root, ticket_id, found)


def _summary(done: Delivery) -> str:
    parts = [f"sent {plural(len(done.sent), 'mail')}"]
    for words, found in (("kept", done.failed), ("parked", done.parked), ("unconfirmed", done.unconfirmed)):
        if found:
            parts.append(f"{len(found)} {words}")
    if done.settled:
        parts.append(f"{len(done.settled)} settled from the journal")
    return ", ".join(parts)
