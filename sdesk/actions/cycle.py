"""One cycle of the runner (`sdesk run`): pull, sweep, commit, push, deliver the mail history owes, export.

Agents only record; the runner is the one clone that acts (README, "Running
a desk as a team"). Each step says what it did in one line through ``say``,
the step's name and a colon first (`sdesk run --format json` splits it there);
a step that fails says which and why, leaves the clone clean (no half-merged
tree, no uncommitted sweep) and the next cycle starts over from the shared
branch. Nothing a cycle does is lost when it is killed: the sweep is worked
out again from the history, and mail from the history and the journal.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from msgspec import Struct

from sdesk.actions import clocked, deliver, owing, receive, record
from sdesk.clocks.sla import Clock
from sdesk.errors import Refused, SdeskError
from sdesk.mail import baseline, legacy, notifications, records
from sdesk.mail.mailboxes import Incoming
from sdesk.mail.senders import Senders
from sdesk.mail.smtp import Transport
from sdesk.output import plural
from sdesk.progress import Progress, silent
from sdesk.storage import mergedriver, sync
from sdesk.storage.index import Index
from sdesk.storage.store import Desk, write_atomic
from sdesk.tickets.model import Ticket

MAX_PUSHES = 5  # a busy team pushes often; after this many refusals the next cycle tries again
RUNNER_FILE = "runner"
SWEEP_PLURALS = {"breach": "breaches", "auto-closed": "auto-closed"}


T = TypeVar("T")


class StepFailed(SdeskError):
    """A step of the cycle failed; the message names the step."""


Mailbox = Callable[[], AbstractContextManager[Iterator[Incoming]]]


class Settings(Struct, frozen=True):
    connection: Callable[[], AbstractContextManager[Transport]] | None  # None: mail is not sent this cycle
    export_to: Path | None
    retry: tuple[str, ...] = ()  # waiting mail states an agent asked to try again
    dry_run: bool = False
    mailbox: Mailbox | None = None  # where received mail comes from; None: no mail is received this cycle
    progress: Progress = silent  # hears of the long work: ticket files read, pages made and written


def runner_id(desk: Desk) -> str:
    """This clone's runner name, made once: the host and a random part (a re-clone is another runner)."""
    path = sync.runner_dir(desk.root, desk.state_dir) / RUNNER_FILE
    if path.is_file() and not path.is_symlink():
        name = path.read_text(encoding="utf-8").strip()
        if name:
            return name
    name = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, name + "\n")
    return name


def run(desk: Desk, now: datetime, settings: Settings, say: Callable[[str], None]) -> None:
    """One cycle; raises StepFailed naming the step that failed (the clone is clean again by then)."""
    with exclusive(desk):
        if settings.dry_run:
            _dry_run(desk, now, settings, say)
            return
        runner = runner_id(desk)
        branch = _step("prepare", lambda: _prepare(desk, now, runner, say))
        email = sync.author_email(desk.root)
        if branch is not None:
            _step("pull", lambda: _pull(desk, branch, email, say))
        else:
            say("pull: no remote: this clone is the whole desk")
        _step("baseline", lambda: _baseline(desk, now, branch, say))  # before the sweep: its events owe mail
        unread = _receive_step(desk, now, settings.mailbox, branch, say)
        if unread is None:
            _step("sweep", lambda: _sweep(desk, now, say, settings.progress))
        else:  # a customer's answer may be waiting in the mailbox: no reminder or auto-close until it is read
            say("sweep: skipped: mail may be waiting unread (the next cycle sweeps)")
        if branch is not None:
            _step("push", lambda: _push(branch, say))
        _step("mail", lambda: _mail(desk, now, runner, settings, branch, email, say))
        out = settings.export_to
        if out is not None:
            _step("export", lambda: _export(desk, now, out, say, settings.progress))
        if unread is not None:
            raise unread


def _receive_step(
    desk: Desk, now: datetime, mailbox: Mailbox | None, branch: sync.Branch | None, say: Callable[[str], None]
) -> StepFailed | None:
    """Receive before the sweep (a customer's reply stops its count); a failure is said and returned, so
    the rest of the cycle still pushes and mails, and the cycle ends in it."""
    if mailbox is None:
        return None
    try:
        _step("receive", lambda: _receive(desk, now, mailbox, branch, say))
    except StepFailed as failure:
        say(f"receive: Warning: {failure.message.removeprefix('receive: ')}")
        return failure
    return None


def _step(name: str, action: Callable[[], T]) -> T:
    try:
        return action()
    except StepFailed:
        raise
    except SdeskError as error:
        raise StepFailed(f"{name}: {error}") from None


def _prepare(desk: Desk, now: datetime, runner: str, say: Callable[[str], None]) -> sync.Branch | None:
    """A clean clone with the merge driver, this sdesk on PATH for git, an outbox of old migrated."""
    own = str(Path(sys.executable).parent)  # cron's PATH may not hold sdesk: git must find the driver
    if own not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([own, os.environ.get("PATH", "")])
    in_git = sync.in_work_tree(desk.root)
    if in_git:
        for line in sync.start_clean(desk.root):
            say(f"prepare: {line}")
        _merging(desk, "prepare", say)
    if legacy.has_outbox(desk.root):
        moved = legacy.migrate(desk, now, runner)
        say(f"prepare: {plural(len(moved.recorded), 'mail')} of this clone's old outbox moved to the records")
    return sync.Branch.of(desk.root) if in_git else None


def _merging(desk: Desk, step: str, say: Callable[[str], None]) -> None:
    """Ticket files merge by sdesk's driver and records by union, whatever a pulled .gitattributes says."""
    if mergedriver.driver_warnings(desk.root, "tickets") or mergedriver.records_merge_warning(desk.root):
        mergedriver.setup(desk.root)
        if sync.commit(desk.root, (".gitattributes",), "sdesk run: merge ticket files and delivery records"):
            say(f"{step}: registered the merge driver and committed .gitattributes")


def _pull(desk: Desk, branch: sync.Branch, email: str, say: Callable[[str], None]) -> None:
    branch.fetch()
    dropped = branch.drop_unpushed(email)
    kept = len(branch.portal_commits()) if dropped else 0
    came = branch.merge()
    desk.reload()  # what follows decides by the rules as pulled
    words = f"merged {plural(came, 'commit')} from {branch.upstream}" if came else f"{branch.upstream}: nothing new"
    if dropped:
        words += f" (dropped {plural(dropped, 'unpushed commit')} of an interrupted cycle: redone below"
        words += f"; kept {plural(kept, 'portal change')})" if kept else ")"
    say(f"pull: {words}")
    _merging(desk, "pull", say)  # again: dropping an unpushed cycle's commits may have dropped its .gitattributes


def receive_now(
    desk: Desk, mailbox: Mailbox, now: datetime, wait_seconds: float, say: Callable[[str], None]
) -> list[receive.Outcome]:
    """Outside a cycle (an MTA pipe, `sdesk mail receive`): the receive step alone, under the run lock;
    what each message became.

    In git it works as the runner's step does, pulled and pushed when there is a remote (so a message is
    recorded once, whichever clone reads it), but it undoes nothing it did not do: a clone with changes
    of someone's is refused, not cleaned. Waits up to ``wait_seconds`` for a running cycle.
    """
    with exclusive(desk, wait_seconds):
        branch = None
        if sync.in_work_tree(desk.root):
            changed = sync.changed_files(desk.root)
            if changed:
                raise SdeskError(
                    f"this clone has uncommitted changes ({', '.join(changed[:3])}): mail is received in a clean "
                    "clone, best the runner's own (commit or stash them first)"
                )
            branch = sync.Branch.of(desk.root)
            if branch is not None:
                _catch_up(desk, branch)
        return _receive(desk, now, mailbox, branch, say)


def _receive(
    desk: Desk, now: datetime, mailbox: Mailbox, branch: sync.Branch | None, say: Callable[[str], None]
) -> list[receive.Outcome]:
    """Record what the mailbox holds, commit and push it, and only then take it out of the mailbox; what
    each message became.

    The push is the lock: when another runner pushed first, this batch is undone and received again on
    top of theirs, so what they recorded is recognised and recorded once. Whatever fails before the
    push undoes the batch (the mailbox still has it) and raises.
    """
    folder = sync.runner_dir(desk.root, desk.state_dir)
    in_git = sync.in_work_tree(desk.root)
    for _ in range(MAX_PUSHES):
        before = sync.head(desk.root) if in_git else None
        senders = Senders(folder, now)
        with mailbox() as messages:
            failure: SdeskError | None = None
            staged = (lambda: sync.stage(desk.root, receive.RECEIVED_PATHS)) if in_git else (lambda: None)
            try:
                done = receive.receive_all(desk, messages, now, senders, staged)
            except receive.PartlyReceived as stopped:  # what came before the failure is kept, the rest put back
                done, failure = stopped.done, stopped.error
                if in_git:
                    sync.discard_unstaged(desk.root, receive.RECEIVED_PATHS)
            try:
                shared = _share_received(desk, done, branch, in_git)
            except SdeskError:
                _undo(desk, before)
                raise
            if not shared:
                _undo(desk, before)
                assert branch is not None
                _catch_up(desk, branch)
                say("receive: another runner pushed first: receiving again on top of theirs")
                continue
            senders.save()
            for _, outcome in done:
                say(f"receive: {outcome.line}")
            for message, _ in done:
                message.done()
            if not done and failure is None:
                say("receive: no new mail")
            if failure is not None:
                raise failure
            return [outcome for _, outcome in done]
    raise SdeskError(f"the shared branch refused {MAX_PUSHES} pushes of received mail; the next cycle tries again")


def _catch_up(desk: Desk, branch: sync.Branch) -> None:
    """Fetch and merge the shared branch; what follows decides by the rules as merged."""
    branch.fetch()
    branch.merge()
    desk.reload()


def _share_received(
    desk: Desk, done: list[tuple[Incoming, receive.Outcome]], branch: sync.Branch | None, in_git: bool
) -> bool:
    """Commit the batch and push it; False when another runner pushed first."""
    if not in_git or not any(outcome.recorded for _, outcome in done):
        return True
    if sync.commit(desk.root, receive.RECEIVED_PATHS, receive.commit_message(done)) is None:
        return True
    return branch is None or branch.push()


def _undo(desk: Desk, before: str | None) -> None:
    """Back to ``before``, nothing of the batch left in the work tree (outside git: nothing to undo)."""
    if before is None:
        return
    sync.reset_hard(desk.root, before)
    sync.start_clean(desk.root)


def _sweep(desk: Desk, now: datetime, say: Callable[[str], None], progress: Progress) -> None:
    kinds: dict[str, int] = {}
    touched = set()
    for recorded in record.sweep_tickets(desk, _open_tickets(desk, now, say, progress), now):
        kinds[recorded.event.kind] = kinds.get(recorded.event.kind, 0) + 1
        touched.add(recorded.ticket.id)
    if not kinds:
        say("sweep: nothing to do")
        return
    what = ", ".join(plural(count, kind, SWEEP_PLURALS.get(kind)) for kind, count in sorted(kinds.items()))
    sha = sync.commit(desk.root, ("tickets",), f"sdesk sweep: {what} on {plural(len(touched), 'ticket')}")
    say(f"sweep: {what} on {plural(len(touched), 'ticket')}" + (f", committed {sha[:10]}" if sha else ""))


def _open_tickets(
    desk: Desk, now: datetime, say: Callable[[str], None], progress: Progress
) -> Iterator[tuple[Ticket, list[Clock]]]:
    """Every open ticket that reads, with its clocks; one that does not is named (check tells more) and left
    alone."""
    index = Index(desk.tickets_dir, desk.state_dir)
    for broken in index.refresh(progress):
        say(f"sweep: Warning: {broken.error} (skipped)")
    return clocked.open_with_clocks(desk, index, now)


def _push(branch: sync.Branch, say: Callable[[str], None]) -> None:
    if branch.count(f"{branch.upstream}..HEAD") == 0:
        say("push: nothing to push")
        return
    tries = _publish(branch)
    say(f"push: pushed to {branch.upstream}" + (f" after {plural(tries - 1, 'refusal')}" if tries > 1 else ""))


def _publish(branch: sync.Branch) -> int:
    """Push; a refusal (someone pushed first) pulls with the merge driver and pushes again. How many tries."""
    for attempt in range(1, MAX_PUSHES + 1):
        if branch.push():
            return attempt
        branch.fetch()
        branch.merge()
    raise SdeskError(f"{branch.upstream} refused {MAX_PUSHES} pushes in a row; the next cycle tries again")


def _mail(
    desk: Desk,
    now: datetime,
    runner: str,
    settings: Settings,
    branch: sync.Branch | None,
    email: str,
    say: Callable[[str], None],
) -> None:
    if settings.connection is None:
        owed, _ = owing.history_mail(desk, include_sent=False)
        say(f"mail: {plural(len(owed), 'mail')} owed, none sent (no --smtp given)")
        return

    lost: list[str] = []

    def share(message: str) -> bool:
        if branch is None or branch.count(f"{branch.upstream}..HEAD") == 0:
            return True
        if branch.push():
            return True
        if message.startswith(deliver.CLAIM):  # another runner moved first: drop the claim, start from theirs
            branch.fetch()
            branch.drop_unpushed(email)
            branch.merge()
            lost.append(message)
            return False
        _publish(branch)
        return True

    for _ in range(MAX_PUSHES):
        lost.clear()
        done = deliver.deliver(desk, settings.connection, now, runner, share, settings.retry)
        if not lost:
            break
        say("mail: another runner claimed mail first: looked again at what is left")
    for problem in done.problems:
        say(f"mail: Warning: {problem}")
    words = f"sent {len(done.sent)}"
    for label, found in (("kept for the next cycle", done.failed), ("parked", done.parked)):
        words += f", {len(found)} {label}" if found else ""
    words += f", {len(done.unconfirmed)} unconfirmed" if done.unconfirmed else ""
    words += f" ({len(done.settled)} of an interrupted cycle settled from its journal)" if done.settled else ""
    elsewhere = [item for item in done.waiting if item.state == "claimed"]
    held = len(done.waiting) - len(elsewhere)
    words += f"; {plural(len(elsewhere), 'mail')} already in another runner's hands" if elsewhere else ""
    words += f"; {plural(held, 'mail')} waiting for an agent (notify list)" if held else ""
    say(f"mail: {words}")
    if done.failed or done.parked or done.unconfirmed:
        raise SdeskError(f"{plural(len(done.failed) + len(done.parked) + len(done.unconfirmed), 'mail')} not delivered")


def _baseline(desk: Desk, now: datetime, branch: sync.Branch | None, say: Callable[[str], None]) -> None:
    """The first cycle of a desk that mailed from outboxes before: mail owed by history starts here."""
    if baseline.commit(desk.root) is not None:
        return
    if records.any_records(desk.root):
        raise SdeskError(
            f"{baseline.FILE} is missing while {records.FOLDER}/ holds delivery records: restore it from git "
            "(a new baseline would forget the mail still owed)"
        )
    baseline.write(desk.root, sync.head(desk.root) or baseline.NONE, now)
    if sync.commit(desk.root, ("deliveries",), "sdesk run: mail owed by history begins here") and branch:
        _publish(branch)
    say("baseline: mail owed by history begins at this commit (the outboxes of old mailed what came before)")


def _export(desk: Desk, now: datetime, out: Path, say: Callable[[str], None], progress: Progress) -> None:
    """The site, every cycle: a clock that went overdue since the last one shows on its ticket's page even
    when nothing was committed (the export renders again only the pages that changed)."""
    from sdesk.website.export import export

    result = export(desk, out, None, 30, now, progress).published
    say(f"export: {out}: {result.written} written, {result.unchanged} unchanged, {result.removed} removed")


def _dry_run(desk: Desk, now: datetime, settings: Settings, say: Callable[[str], None]) -> None:
    branch = sync.Branch.of(desk.root) if sync.in_work_tree(desk.root) else None
    if branch is not None:
        branch.fetch()
        came = branch.count(f"HEAD..{branch.upstream}")
        say(f"pull: would merge {plural(came, 'commit')} from {branch.upstream} (what follows is before them)")
    if settings.mailbox is not None:
        say("receive: would record the mailbox's new mail (a dry run neither reads nor takes any)")
    swept_mail, owed_events = [], 0
    for recorded in record.sweep_tickets(desk, _open_tickets(desk, now, say, settings.progress), now, dry_run=True):
        owed_events += 1  # each worked out in turn, so its mail sees the ticket just after it
        say(f"sweep: would record {recorded.event.kind} on {recorded.ticket.id}")
        swept_mail += notifications.letters(recorded.ticket, recorded.event, desk.rules)
    if not owed_events:
        say("sweep: nothing to do")
    waiting, problems = owing.history_mail(desk, include_sent=False)
    for item in waiting:
        to = ", ".join(address.addr_spec for address in item.letter.to)
        say(f"mail: would send {item.letter.kind} about {item.letter.ticket} to {to} ({item.state})")
    for problem in problems:
        say(f"mail: Warning: {problem}")
    for letter in swept_mail:
        to = ", ".join(address.addr_spec for address in letter.to)
        say(f"mail: would send {letter.kind} about {letter.ticket} to {to} (owed by the sweep)")
    if not waiting and not swept_mail:
        say("mail: nothing owed")
    if settings.export_to is not None:
        say(f"export: would export the site to {settings.export_to}")


@contextmanager
def exclusive(
    desk: Desk,
    wait_seconds: float = 0,
    busy: str = "another sdesk run is working in this clone; this cycle leaves it alone",
) -> Iterator[None]:
    """The runner's lock: one cycle at a time in this clone, and nothing else writing while it runs (mail read
    from a pipe, a portal's change). Refused with ``busy`` after ``wait_seconds``."""
    from sdesk.storage.locks import LockTimeout, held

    path = sync.runner_dir(desk.root, desk.state_dir) / "run.lock"
    with ExitStack() as lock:
        try:
            lock.enter_context(held(path, wait_seconds))
        except LockTimeout:
            raise Refused(busy) from None
        except OSError as error:
            raise SdeskError(f"cannot take the runner's lock: {error.strerror}", path) from None
        yield
