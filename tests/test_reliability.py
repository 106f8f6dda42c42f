"""Reliability: many agents at once, and processes killed in the middle of a write (README, "Storage guarantees").

Every test here uses real OS processes. To stay fast they are forked from the
test (no new interpreter per command) and run the CLI in-process through
click's CliRunner; one test kills freshly started interpreters as well. Counts
are fixed and every wait is bounded, so the file runs in seconds.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import itertools
import json
import multiprocessing
import os
import queue
import random
import secrets
import select
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from sdesk.cli import main
from sdesk.storage import store
from sdesk.storage.store import read_ticket
from sdesk.tickets import ids
from tests.conftest import TICKET_DEFAULTS, owed_mail

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks processes and kills them (Linux)")

FORK = multiprocessing.get_context("fork")
PROCESSES = 8
EACH = 15  # commands per process: 120 at once on one ticket or desk, enough to lose one if a lock leaked
PUBLIC_EVERY = 5
WAIT_SECONDS = 120  # an upper bound for a stuck child, never a performance target

# (process, k, exit code, stdout, stderr and any traceback) of one command run by a child
Outcome = tuple[int, int, int, str, str]
MakeArgs = Callable[[int, int], Sequence[str]]


# --- helpers -------------------------------------------------------------------------------


def new_args(title: str, *extra: str) -> list[str]:
    values = {**TICKET_DEFAULTS, "--title": title}
    return ["new", *[part for pair in values.items() for part in pair], *extra]


def _work(process: int, each: int, make_args: MakeArgs, start: Any, results: Any) -> None:
    """A child: wait for the others, then run `each` commands in-process and report every outcome."""
    runner = CliRunner()
    start.wait(timeout=WAIT_SECONDS)
    outcomes: list[Outcome] = []
    for k in range(each):
        result = runner.invoke(main, list(make_args(process, k)))
        problem = result.stderr
        if result.exc_info is not None and not isinstance(result.exception, SystemExit):
            problem += "".join(traceback.format_exception(*result.exc_info))
        outcomes.append((process, k, result.exit_code, result.stdout, problem))
    results.put(outcomes)


def in_processes(make_args: MakeArgs, processes: int = PROCESSES, each: int = EACH) -> list[Outcome]:
    """Run make_args(process, k) for k < each in `processes` forked processes that start together."""
    start = FORK.Barrier(processes)
    results = FORK.Queue()
    children = [FORK.Process(target=_work, args=(p, each, make_args, start, results)) for p in range(processes)]
    for child in children:
        child.start()
    outcomes: list[Outcome] = []
    reported = 0
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while reported < processes and time.monotonic() < deadline:
            try:
                outcomes += results.get(timeout=0.2)
                reported += 1
            except queue.Empty:
                if not any(child.is_alive() for child in children) and results.empty():
                    break
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
                child.join()
    assert [child.exitcode for child in children] == [0] * processes
    assert reported == processes
    failed = [outcome for outcome in outcomes if outcome[2] != 0]
    assert not failed, failed[:3]
    return outcomes


def ticket_data(desk: Path, ticket_id: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((desk / "tickets" / f"{ticket_id}.yaml").read_text(encoding="utf-8"))
    return data


def texts(history: list[dict[str, Any]], event: str = "comment") -> list[str]:
    return [entry["text"] for entry in history if entry["event"] == event]


def events(history: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What an event says, the same whether read from the file (YAML) or from `show --format json`."""
    return [(entry["event"], entry.get("text"), entry.get("changes"), entry["by"]) for entry in history]


def pending_mail(desk: Path) -> dict[str, email.message.EmailMessage]:
    """The mail history owes, by key (TICKET.EVENT.KIND)."""
    return owed_mail(desk)


def body(message: email.message.EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def assert_desk_is_sound(desk: Path, run: Any) -> list[dict[str, Any]]:
    """What a user checks after trouble: every file reads, `check` passes, `list` shows every ticket."""
    files = sorted((desk / "tickets").glob("*.yaml"))
    for path in files:
        read_ticket(path)  # raises, naming the file and line, on a torn or invalid file
    checked = run("check")
    assert checked.exit_code == 0, checked.output
    listed = run("list", "--all", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert "Warning" not in listed.stderr
    rows: list[dict[str, Any]] = json.loads(listed.stdout)
    assert sorted(row["id"] for row in rows) == [path.stem for path in files]
    mail = run("notify", "list", "--format", "json")
    assert mail.exit_code == 0, mail.output
    return rows


# --- many agents at once -------------------------------------------------------------------


def test_eight_processes_commenting_on_one_ticket_lose_no_comment_and_no_mail(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    expected = [f"proc {p} comment {k}" for p in range(PROCESSES) for k in range(EACH)]

    def make_args(p: int, k: int) -> list[str]:
        visibility = [] if k % PUBLIC_EVERY == 0 else ["--internal"]  # rendering mail is slow: a fifth are public
        return ["comment", ticket_id, *visibility, f"proc {p} comment {k}"]

    in_processes(make_args)

    shown = run("show", ticket_id, "--format", "json")
    assert shown.exit_code == 0, shown.output
    history = json.loads(shown.stdout)["history"]
    on_disk = ticket_data(desk, ticket_id)["history"]
    assert events(on_disk) == events(history)
    assert len(history) == 1 + len(expected)
    assert Counter(texts(history)) == Counter(expected)  # every comment exactly once
    for p in range(PROCESSES):  # and each agent's own comments in the order they were made
        mine = [text for text in texts(history) if text.startswith(f"proc {p} ")]
        assert mine == [f"proc {p} comment {k}" for k in range(EACH)]

    # One mail owed per public comment, each carrying its own comment.
    public = [entry["text"] for entry in history if entry.get("visibility") == "public"]
    assert len(public) == PROCESSES * len(range(0, EACH, PUBLIC_EVERY))
    mails = pending_mail(desk)
    comment_mails = {name: message for name, message in mails.items() if name.endswith(".comment")}
    assert len(mails) == len(comment_mails) + 1  # and the `created` mail
    assert len(comment_mails) == len(public)
    for message in comment_mails.values():
        assert message["X-Sdesk-Ticket"] == ticket_id
    assert sorted(next(text for text in public if text in body(message)) for message in comment_mails.values()) == (
        sorted(public)
    )


def test_eight_processes_opening_tickets_at_once_get_distinct_numbers(desk, run):
    outcomes = in_processes(lambda p, k: new_args(f"proc {p} ticket {k}", "--format", "json"))

    reported = [json.loads(stdout)["id"] for _, _, _, stdout, _ in outcomes]
    files = sorted((desk / "tickets").glob("*.yaml"))
    assert len(files) == PROCESSES * EACH
    assert len(set(reported)) == PROCESSES * EACH
    assert sorted(reported) == [path.stem for path in files]
    titles = Counter(read_ticket(path).title for path in files)
    assert titles == Counter(f"proc {p} ticket {k}" for p in range(PROCESSES) for k in range(EACH))
    rows = assert_desk_is_sound(desk, run)
    assert len(rows) == PROCESSES * EACH
    assert sum(name.endswith(".created") for name in pending_mail(desk)) == PROCESSES * EACH


class _ClashingDraws:
    """Stands in for `secrets` in sdesk.tickets.ids: each process's k-th ticket first draws k, like every other."""

    def __init__(self) -> None:
        self.forced: int | None = None

    def randbits(self, bits: int) -> int:
        if self.forced is not None:
            value, self.forced = self.forced, None
            return value
        return secrets.randbits(bits)


def test_numbers_that_clash_are_drawn_again_never_overwritten(desk, run, monkeypatch):
    """Same second (SDESK_NOW) and the same first draw in all 8 processes: 7 of every 8 first tries clash."""
    each = 10
    draws = _ClashingDraws()
    monkeypatch.setattr(ids, "secrets", draws)  # inherited by the forked children

    def make_args(p: int, k: int) -> list[str]:
        draws.forced = k  # runs in the child, before its k-th `new`
        return new_args(f"proc {p} ticket {k}", "--format", "json")

    outcomes = in_processes(make_args, each=each)

    reported = [json.loads(stdout)["id"] for _, _, _, stdout, _ in outcomes]
    files = sorted((desk / "tickets").glob("*.yaml"))
    assert sorted(reported) == [path.stem for path in files]
    assert len(set(reported)) == PROCESSES * each
    first_tries = {ids.new_id(ids.EPOCH, k).split("-")[1] for k in range(each)}
    kept = [number for number in reported if number.split("-")[1] in first_tries]
    assert len(kept) == each  # each clashing number was taken once; the other 7 processes drew again
    titles = Counter(read_ticket(path).title for path in files)
    assert titles == Counter(f"proc {p} ticket {k}" for p in range(PROCESSES) for k in range(each))
    assert_desk_is_sound(desk, run)


def test_mixed_work_on_one_ticket_while_others_open_tickets_and_read(desk, run, new_ticket):
    """Status changes, comments, new tickets and readers all at once: every change kept, no reader sees a torn file."""
    ticket_id = new_ticket()["id"]
    assert run("update", ticket_id, "--status", "in-progress").exit_code == 0
    each = 15
    statuses = ["on-hold" if k % 2 == 0 else "in-progress" for k in range(each)]

    def make_args(p: int, k: int) -> list[str]:
        if p == 0:
            return ["update", ticket_id, "--status", statuses[k]]
        if p in (1, 2, 3):
            return ["comment", ticket_id, *(["--internal"] if k % 2 else []), f"proc {p} comment {k}"]
        if p in (4, 5, 6):
            return new_args(f"proc {p} ticket {k}")
        return ["show", ticket_id, "--format", "json"] if k % 2 == 0 else ["list", "--all", "--format", "json"]

    outcomes = in_processes(make_args, each=each)

    history = ticket_data(desk, ticket_id)["history"]
    moves = [entry["changes"] for entry in history if entry["event"] == "updated"][1:]
    assert moves == [
        [{"field": "status", "from": "in-progress" if k % 2 == 0 else "on-hold", "to": statuses[k]}]
        for k in range(each)
    ]
    assert ticket_data(desk, ticket_id)["status"] == statuses[-1]
    assert Counter(texts(history)) == Counter(f"proc {p} comment {k}" for p in (1, 2, 3) for k in range(each))
    titles = Counter(read_ticket(path).title for path in (desk / "tickets").glob("*.yaml"))
    assert titles == Counter(
        [TICKET_DEFAULTS["--title"], *(f"proc {p} ticket {k}" for p in (4, 5, 6) for k in range(each))]
    )
    # The reader saw the ticket grow, never shrink, and never a file it could not read.
    seen = []
    for _, k, _, stdout, problem in sorted(outcome for outcome in outcomes if outcome[0] == 7):
        assert "Warning" not in problem
        if k % 2 == 0:
            seen.append(json.loads(stdout)["history"])
        else:
            assert ticket_id in {row["id"] for row in json.loads(stdout)}
    for earlier, later in itertools.pairwise(seen):
        assert later[: len(earlier)] == earlier
    assert events(history[: len(seen[-1])]) == events(seen[-1])
    assert_desk_is_sound(desk, run)


# --- processes killed while they write -----------------------------------------------------


def kill_loop_command(ticket_id: str, prefix: str, round_: int, k: int) -> list[str]:
    """The k-th command of a child that is going to be killed: comments (public, internal), listings, new tickets."""
    if k % 4 == 0:
        return ["comment", ticket_id, f"{prefix} {round_} comment {k}."]
    if k % 4 == 1:
        return ["list", "--all", "--search", f"{prefix} {round_}", "--format", "json"]  # refreshes the index
    if k % 4 == 2:
        return ["comment", ticket_id, "--internal", f"{prefix} {round_} comment {k}."]
    return new_args(f"{prefix} {round_} ticket {k}.")


def _write_until_killed(progress: int, ticket_id: str, round_: int) -> None:
    """A child: run kill_loop_command until it is killed, saying which command it starts ("K")
    and when it starts writing a ticket file ("w")."""
    real_write = store.write_atomic

    def announced(*args: Any, **kwargs: Any) -> None:
        os.write(progress, b"w\n")
        real_write(*args, **kwargs)

    store.write_atomic = announced  # type: ignore[assignment]  # in this forked child only
    runner = CliRunner()
    for k in itertools.count():
        os.write(progress, f"{k}\n".encode())
        result = runner.invoke(main, kill_loop_command(ticket_id, "round", round_, k))
        if result.exit_code != 0:
            os.write(progress, f"failed: {result.output} {result.exception!r}\n".encode())
            os._exit(3)


def _read_until(reader: int, writes: int) -> bytes:
    """What the child said until it started its `writes`-th ticket write (or died, or took far too long)."""
    said = b""
    deadline = time.monotonic() + WAIT_SECONDS
    while said.count(b"w\n") < writes and time.monotonic() < deadline:
        ready, _, _ = select.select([reader], [], [], 1)
        if ready:
            chunk = os.read(reader, 4096)
            if not chunk:
                break
            said += chunk
    return said


def _snapshot(desk: Path) -> dict[str, bytes]:
    return {path.stem: path.read_bytes() for path in (desk / "tickets").glob("*.yaml")}


def _check_old_or_new(
    desk: Path, run: Any, ticket_id: str, before: dict[str, bytes], round_: int, last: int, prefix: str = "round"
) -> None:
    """After a kill during command `last`: all before it kept, `last` whole or absent, no other file touched."""
    after = _snapshot(desk)
    old_history = yaml.safe_load(before[ticket_id])["history"]
    history = ticket_data(desk, ticket_id)["history"]
    assert history[: len(old_history)] == old_history  # never shorter, never rewritten
    comment = f"{prefix} {round_} comment {{}}."
    done = [comment.format(k) for k in range(last) if k % 4 in (0, 2)]
    maybe = [comment.format(last)] if last >= 0 and last % 4 in (0, 2) else []
    assert texts(history[len(old_history) :]) in (done, done + maybe), (round_, last)
    new_files = after.keys() - before.keys()
    created = {number: read_ticket(desk / "tickets" / f"{number}.yaml").title for number in new_files}
    titles = sorted(created.values())
    ticket_title = f"{prefix} {round_} ticket {{}}."
    done_titles = sorted(ticket_title.format(k) for k in range(last) if k % 4 == 3)
    maybe_title = [ticket_title.format(last)] if last >= 0 and last % 4 == 3 else []
    assert titles in (done_titles, sorted(done_titles + maybe_title)), (round_, last)
    assert before.keys() <= after.keys()
    for number, content in before.items():
        if number != ticket_id:
            assert after[number] == content  # tickets nobody wrote to are untouched
    # Searching finds what the files say, whatever the killed command left in the index.
    for text in [*done[-1:], *maybe, *done_titles[-1:], *maybe_title]:
        found = run("list", "--all", "--search", text, "--format", "json")
        assert found.exit_code == 0, found.output
        expected = [ticket_id] if text in texts(history) else [n for n, title in created.items() if title == text]
        assert [row["id"] for row in json.loads(found.stdout)] == expected, text


def test_processes_killed_at_random_moments_leave_every_ticket_old_or_new(desk, run, new_ticket):
    """32 children killed with SIGKILL (seeded): half after a random delay, half a few milliseconds into a write."""
    rng = random.Random(20261123)
    ticket_id = new_ticket()["id"]
    deadline = time.monotonic() + 20  # bounds the run on a very slow machine; never asserted on
    rounds = 0
    for round_ in range(32):
        if round_ >= 10 and time.monotonic() > deadline:
            break
        before = _snapshot(desk)
        reader, writer = os.pipe()
        child = FORK.Process(target=_write_until_killed, args=(writer, ticket_id, round_))
        child.start()
        os.close(writer)
        said = b""
        if round_ % 2:
            said = _read_until(reader, writes=rng.randint(1, 3))
            time.sleep(rng.uniform(0.0, 0.003))
        else:
            time.sleep(rng.uniform(0.0, 0.08))
        os.kill(child.pid, signal.SIGKILL)
        child.join(timeout=WAIT_SECONDS)
        with os.fdopen(reader, "rb") as progress:
            said += progress.read()
        assert child.exitcode == -signal.SIGKILL, said
        started = [int(word) for word in said.split() if word.isdigit()]
        last = started[-1] if started else -1

        _check_old_or_new(desk, run, ticket_id, before, round_, last)
        assert_desk_is_sound(desk, run)  # leftover tickets/.*.tmp files do not count as tickets
        for message in pending_mail(desk).values():  # the mail owed composes whole too
            assert message["X-Sdesk-Ticket"] and body(message).strip()
        # The child may have died holding the ticket's lock: the next agent is not blocked by it.
        after_kill = run("comment", ticket_id, "--internal", f"after kill {round_}")
        assert after_kill.exit_code == 0, after_kill.output
        rounds += 1
    assert rounds >= 10
    history = ticket_data(desk, ticket_id)["history"]
    assert texts(history)[-1] == f"after kill {rounds - 1}"


KILLED_INTERPRETER = """
import itertools, sys
from click.testing import CliRunner
from sdesk.cli import main

ticket_id, round_ = sys.argv[1], sys.argv[2]
runner = CliRunner()
for k in itertools.count():
    print(k, flush=True)
    args = [  # as kill_loop_command
        ["comment", ticket_id, f"interpreter {round_} comment {k}."],
        ["list", "--all", "--search", f"interpreter {round_}", "--format", "json"],
        ["comment", ticket_id, "--internal", f"interpreter {round_} comment {k}."],
        ["new", *sys.argv[3:], "--title", f"interpreter {round_} ticket {k}."],
    ][k % 4]
    result = runner.invoke(main, args)
    if result.exit_code:
        print("failed", result.output, result.exception, flush=True)
        sys.exit(3)
"""


def test_fresh_interpreters_killed_while_writing_leave_every_ticket_old_or_new(desk, run, new_ticket):
    """The same with a new `python -c` each time: nothing inherited from the test process."""
    rng = random.Random(42)
    ticket_id = new_ticket()["id"]
    defaults = [part for pair in TICKET_DEFAULTS.items() if pair[0] != "--title" for part in pair]
    for round_ in range(5):
        before = _snapshot(desk)
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED_INTERPRETER, ticket_id, str(round_), *defaults],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        first = child.stdout.readline()  # imports done: the first write starts now
        assert first == "0\n", first
        time.sleep(rng.uniform(0.0, 0.1))
        child.send_signal(signal.SIGKILL)
        said = first + child.stdout.read()
        assert child.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL, said
        child.stdout.close()

        _check_old_or_new(desk, run, ticket_id, before, round_, int(said.split()[-1]), prefix="interpreter")
        assert_desk_is_sound(desk, run)
        after_kill = run("comment", ticket_id, "--internal", f"after kill {round_}")
        assert after_kill.exit_code == 0, after_kill.output


# --- a crash at each step of a write -------------------------------------------------------


def _path_of(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def _crash_at(point: str, args: list[str]) -> None:
    """A child: run one command and SIGKILL itself at `point` of the ticket's write."""
    real_fsync, real_replace, real_link = os.fsync, os.replace, os.link

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def is_ticket(path: Any) -> bool:
        return Path(path).parent.name == "tickets" and str(path).endswith(".yaml")

    def fsync(fd: int) -> None:
        if point == "before-fsync" and "/tickets/." in _path_of(fd):
            die()
        real_fsync(fd)

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        if point == "before-rename" and is_ticket(dst):
            die()
        real_replace(src, dst, **kwargs)
        if point == "after-rename" and is_ticket(dst):
            die()

    def link(src: Any, dst: Any, **kwargs: Any) -> None:
        if point == "before-link" and is_ticket(dst):
            die()
        real_link(src, dst, **kwargs)
        if point == "after-link" and is_ticket(dst):
            die()

    os.fsync, os.replace, os.link = fsync, replace, link  # only in this forked child
    result = CliRunner().invoke(main, args)
    print(f"not killed at {point}: exit {result.exit_code} {result.output}", file=sys.stderr)
    os._exit(3)


def crash(point: str, args: list[str]) -> None:
    child = FORK.Process(target=_crash_at, args=(point, args))
    child.start()
    child.join(timeout=WAIT_SECONDS)
    assert child.exitcode == -signal.SIGKILL, f"the command never reached {point}"


def leftovers(desk: Path) -> list[Path]:
    return sorted((desk / "tickets").glob(".*.tmp"))


@pytest.mark.parametrize(
    ("point", "kept"),
    [("before-fsync", "old"), ("before-rename", "old"), ("after-rename", "new")],
)
def test_a_comment_killed_at_each_step_of_its_write_leaves_the_old_or_the_new_file(desk, run, new_ticket, point, kept):
    ticket_id = new_ticket()["id"]
    old = (desk / "tickets" / f"{ticket_id}.yaml").read_bytes()

    crash(point, ["comment", ticket_id, "--internal", "Half geschreven?"])  # killed holding the lock

    history = ticket_data(desk, ticket_id)["history"]
    if kept == "old":
        assert (desk / "tickets" / f"{ticket_id}.yaml").read_bytes() == old
        assert len(leftovers(desk)) == 1  # the temporary file stays behind, harmlessly
    else:
        assert texts(history) == ["Half geschreven?"]
    assert_desk_is_sound(desk, run)
    again = run("comment", ticket_id, "--internal", "Opnieuw")  # the lock died with the process
    assert again.exit_code == 0, again.output
    assert texts(ticket_data(desk, ticket_id)["history"])[-1] == "Opnieuw"
    assert_desk_is_sound(desk, run)


@pytest.mark.parametrize(("point", "created"), [("before-fsync", False), ("before-link", False), ("after-link", True)])
def test_a_new_ticket_killed_at_each_step_of_its_write_is_there_whole_or_not_at_all(desk, run, point, created):
    crash(point, new_args("Half aangemaakt?"))

    files = sorted((desk / "tickets").glob("*.yaml"))
    assert len(files) == (1 if created else 0)
    if created:
        assert read_ticket(files[0]).title == "Half aangemaakt?"
    assert len(leftovers(desk)) == 1  # after-link: a second name of the same, complete file
    assert_desk_is_sound(desk, run)
    again = run(*new_args("Tweede poging"))
    assert again.exit_code == 0, again.output
    assert len(assert_desk_is_sound(desk, run)) == (2 if created else 1)


def test_a_public_comment_killed_right_after_it_is_saved_still_has_its_mail(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]

    crash("after-rename", ["comment", ticket_id, "Het access point is vervangen."])

    history = ticket_data(desk, ticket_id)["history"]
    assert texts(history) == ["Het access point is vervangen."]  # saved: the customer can see it in the desk
    comment_mails = [message for name, message in pending_mail(desk).items() if name.endswith(".comment")]
    assert [body(message).count("Het access point is vervangen.") for message in comment_mails] == [1]
    listed = run("notify", "list", "--format", "json")
    assert [row["kind"] for row in json.loads(listed.stdout) if row["state"] == "owed"] == ["created", "comment"]


def test_a_public_comment_killed_before_it_is_saved_leaves_no_mail(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]

    crash("before-rename", ["comment", ticket_id, "Dit is nooit opgeslagen."])

    assert texts(ticket_data(desk, ticket_id)["history"]) == []
    assert not [name for name in pending_mail(desk) if name.endswith(".comment")]
