"""The runner (`sdesk run`) with real parts: a bare origin, agents' clones, server clones, an SMTP server.

Agents record in their own clones (in-process, through the `run` fixture) and
share through git, the ticket merge driver on (this virtualenv's `sdesk` first
on PATH). The runner is what cron starts: a real `sdesk run --smtp` process
in a clone of its own. Mail goes to a real aiosmtpd server on 127.0.0.1, one
per test module, that keeps each message's envelope and Message-ID. Crashes
are real SIGKILLs at precise moments, without hooks in sdesk: the SMTP server
kills the runner while it waits for a reply, or a git hook does when the
runner commits, merges or pushes a given commit.
"""

from __future__ import annotations

import email
import email.message
import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.clones import (
    RUNNER,
    SDESK,
    agent_clone,
    commit,
    git,
    head,
    identify,
    pull,
    run_cycle,
    runner_clone,
    runner_env,
    share,
    shared_desk,
    this_sdesk_first,
)
from tests.conftest import TICKET_DEFAULTS, Run
from tests.mailserver import Arrival, Recorder, recording_server

AN = "an.wouters@caresolutions.example"
BO = "bo.peeters@caresolutions.example"
CY = "cy.jacobs@caresolutions.example"
ELS = TICKET_DEFAULTS["--requester"]
TICKET_ARGS = [part for pair in TICKET_DEFAULTS.items() for part in pair]
AGENT_KINDS = {"assigned", "reaction", "warning", "breach"}
SLA_KINDS = {"warning", "breach"}  # the sweep's SLA mails: when they fall due is the SLA module's business
MON, WED, FRI, NEXT_MON = "2026-11-23", "2026-11-25", "2026-11-27", "2026-11-30"  # no Belgian holiday between


def moment(day: str, clock: str) -> str:
    return f"{day}T{clock}:00+01:00"


# --- git -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def outside_any_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    this_sdesk_first(tmp_path, monkeypatch)


def assert_clean(clone: Path, synced: bool = True) -> None:
    """No change left in the work tree, no merge half done; with ``synced``, HEAD is what origin has."""
    assert git(clone, "status", "--porcelain", "--untracked-files=all").stdout == ""
    assert not (clone / ".git" / "MERGE_HEAD").exists()
    assert not (clone / ".git" / "index.lock").exists()
    if synced:
        git(clone, "fetch", "-q", "origin")
        assert head(clone) == head(clone, "origin/main")


def hook(clone_or_bare: Path, name: str, body: str) -> None:
    hooks = clone_or_bare / "hooks" if clone_or_bare.suffix == ".git" else clone_or_bare / ".git" / "hooks"
    path = hooks / name
    path.write_text("#!/bin/sh\nunset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_PREFIX\n" + body, encoding="utf-8")
    path.chmod(0o755)


# --- the desk: an origin, three agents, a runner ---------------------------------------------


@dataclass
class Desk:
    root: Path
    origin: Path
    a: Path  # An's clone: made the desk
    b: Path  # Bo's
    c: Path  # Cy's
    server: Path  # the runner's clone
    run: Run

    def sdesk(self, clone: Path, when: str, *args: str, user: str = AN) -> str:
        result = self.run(*args, env={"SDESK_DIR": str(clone), "SDESK_NOW": when, "SDESK_USER": user})
        assert result.exit_code == 0, result.output
        return str(result.stdout)

    def new(self, clone: Path, when: str, *extra: str, user: str = AN) -> str:
        ticket_id: str = json.loads(
            self.sdesk(clone, when, "new", "--format", "json", *TICKET_ARGS, *extra, user=user)
        )["id"]
        return ticket_id

    def history(self, clone: Path, ticket_id: str) -> list[str]:
        shown = json.loads(self.sdesk(clone, moment(NEXT_MON, "18:00"), "show", ticket_id, "--format", "json"))
        return [event["event"] for event in shown["history"]]

    def mail(self, clone: Path) -> list[dict[str, Any]]:
        """`sdesk notify list` in a clone: every mail history owes, with its state in the delivery records."""
        listed: list[dict[str, Any]] = json.loads(
            self.sdesk(clone, moment(NEXT_MON, "18:00"), "notify", "list", "--format", "json")
        )
        return listed

    def server_clone(self, name: str) -> Path:
        return runner_clone(self.origin, self.root / name)


@pytest.fixture
def desk(tmp_path: Path, run: Run) -> Desk:
    origin, a = shared_desk(tmp_path, run, AN)
    b, c = (agent_clone(origin, tmp_path / name, who, run) for name, who in (("b", BO), ("c", CY)))
    made = Desk(tmp_path, origin, a, b, c, tmp_path / "server", run)
    made.server_clone("server")
    return made


# --- the SMTP server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    with recording_server() as started:
        yield started


@dataclass
class Mailbox:
    handler: Recorder
    port: int
    since: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def arrived(self) -> list[Arrival]:
        return self.handler.arrived[self.since :]

    def ids(self) -> Counter[str]:
        return Counter(arrival.message_id for arrival in self.arrived)

    def kinds(self) -> Counter[tuple[str, str]]:
        return Counter(arrival.ticket_kind for arrival in self.arrived)

    def assert_each_once(self) -> None:
        twice = {message_id: count for message_id, count in self.ids().items() if count > 1}
        assert not twice, f"mail sent more than once: {twice}"


@pytest.fixture
def smtp(smtp_server: tuple[Recorder, int]) -> Iterator[Mailbox]:
    """The module's SMTP server, seen from this test: what arrived since it began, no crash planned."""
    handler, port = smtp_server
    handler.at_rcpt = handler.at_data = None
    yield Mailbox(handler, port, len(handler.arrived))
    handler.at_rcpt = handler.at_data = None


# --- the runner ------------------------------------------------------------------------------


def cycle(clone: Path, smtp: Mailbox, when: str, *extra: str, status: int = 0) -> list[str]:
    """One `sdesk run --smtp` as cron starts it; its stdout lines (stderr must be empty unless it fails)."""
    return run_cycle(clone, when, "--smtp", smtp.address, *extra, status=status)


def start_cycle(clone: Path, smtp: Mailbox, when: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SDESK, "run", "--smtp", smtp.address],
        cwd=clone,
        env=runner_env(when),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def settle(session: int, deadline: float = 15.0) -> None:
    """Wait until no live process of a killed runner's session is left (git commands it started, their hooks)."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        alive = False
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[-1].split()
            if fields[0] != "Z" and int(fields[3]) == session:
                alive = True
                break
        if not alive:
            return
        time.sleep(0.05)
    raise AssertionError("processes of the killed runner are still running")


def runner_name(clone: Path) -> str:
    return (clone / ".git" / "sdesk-runner" / "runner").read_text(encoding="utf-8").strip()  # no pull touches it


def step(lines: list[str], name: str) -> str:
    """The one line a step printed."""
    found = [line for line in lines if line.startswith(f"{name}: ")]
    assert len(found) == 1, lines
    return found[0]


def delivered(desk: Desk, clone: Path) -> dict[tuple[str, str], list[str]]:
    """Every mail history owes, by (ticket, kind): its states in the committed delivery records."""
    states: dict[tuple[str, str], list[str]] = {}
    for item in desk.mail(clone):
        states.setdefault((item["ticket_id"], item["kind"]), []).append(item["state"])
    return states


# --- 1. a day of work, then a week --------------------------------------------------------------


def test_a_day_of_work_in_three_clones_then_a_week_of_sweeps_mails_everything_once(desk, smtp, tmp_path):
    site = tmp_path / "site"
    one = desk.new(desk.a, moment(MON, "09:00"), user=AN)
    share(desk.a, f"New ticket {one}")
    two = desk.new(desk.b, moment(MON, "09:05"), "--title", "Medicatielijst leeg", user=BO)
    share(desk.b, f"New ticket {two}")

    lines = cycle(desk.server, smtp, moment(MON, "09:10"))
    assert [line.split(":")[0] for line in lines] == ["pull", "sweep", "push", "mail"], lines  # one line a step
    assert git(desk.server, "config", "merge.sdesk-ticket.driver").stdout.strip()  # the runner registered it
    assert step(lines, "mail") == "mail: sent 2"
    assert sorted(smtp.kinds()) == sorted([(one, "created"), (two, "created")])

    # Cy comments on An's ticket; An, not pulled yet, asks the customer for information: the driver merges both.
    pull(desk.c)
    desk.sdesk(desk.c, moment(MON, "09:30"), "comment", one, "We bekijken het dossier van bewoner 1182.", user=CY)
    desk.sdesk(desk.a, moment(MON, "09:40"), "update", one, "--status", "waiting-for-customer", user=AN)
    share(desk.c, "Comment")
    share(desk.a, "Waiting for Els")
    # Bo assigns his ticket to Cy and waits for the customer too.
    desk.sdesk(desk.b, moment(MON, "09:45"), "update", two, "--assignee", CY, user=BO)
    desk.sdesk(desk.b, moment(MON, "09:46"), "update", two, "--status", "waiting-for-customer", user=BO)
    share(desk.b, "Assigned to Cy")
    assert desk.history(desk.b, one).count("comment") == 1

    lines = cycle(desk.server, smtp, moment(MON, "10:00"))
    assert step(lines, "pull").startswith("pull: merged")
    assert step(lines, "mail") == "mail: sent 4"

    # The customer answers on Bo's ticket (Cy, not pulled since 09:30, records it): Cy is told, Els is not.
    desk.sdesk(desk.c, moment(MON, "11:00"), "comment", two, "--from-customer", "Nog steeds leeg.", user=CY)
    share(desk.c, "Els answered")

    # The week: Els never answers on the first ticket.
    for day in (WED, FRI):
        lines = cycle(desk.server, smtp, moment(day, "10:00"))
        assert "1 reminder" in step(lines, "sweep"), lines
        assert step(lines, "push") == "push: pushed to origin/main"
    lines = cycle(desk.server, smtp, moment(NEXT_MON, "10:00"), "--export", str(site))
    assert "1 auto-closed" in step(lines, "sweep"), lines
    assert step(lines, "export").startswith(f"export: {site}: ")

    expected = Counter(
        {
            (one, "created"): 1,
            (one, "comment"): 1,
            (one, "info-requested"): 1,
            (one, "reminder"): 2,
            (one, "auto-closed"): 1,
            (two, "created"): 1,
            (two, "assigned"): 1,
            (two, "info-requested"): 1,
            (two, "reaction"): 1,
        }
    )
    customer_and_agent = Counter({key: n for key, n in smtp.kinds().items() if key[1] not in SLA_KINDS})
    assert customer_and_agent == expected
    smtp.assert_each_once()
    for arrival in smtp.arrived:
        if arrival.ticket_kind[1] in ("assigned", "reaction"):
            assert arrival.rcpt_tos == (CY,), arrival
        elif arrival.ticket_kind[1] not in AGENT_KINDS:
            assert arrival.rcpt_tos == (ELS,), arrival

    # A cycle with nothing new sends nothing and changes nothing.
    before, count = head(desk.server), len(smtp.arrived)
    lines = cycle(desk.server, smtp, moment(NEXT_MON, "10:05"), "--export", str(site))
    assert step(lines, "sweep") == "sweep: nothing to do"
    assert step(lines, "push") == "push: nothing to push"
    assert step(lines, "mail") == "mail: sent 0"
    assert re.fullmatch(
        rf"export: {re.escape(str(site))}: \d+ written, \d+ unchanged, 0 removed", step(lines, "export")
    )
    assert (len(smtp.arrived), head(desk.server)) == (count, before)
    assert_clean(desk.server)

    # What every clone sees after a pull: one reminder per mark, one auto-close, every mail sent.
    for clone in (desk.a, desk.b, desk.c):
        pull(clone)
        history = desk.history(clone, one)
        assert (history.count("reminder"), history.count("auto-closed")) == (2, 1)
        assert_clean(clone)
    states = delivered(desk, desk.a)
    assert {key for key in states if key[1] not in SLA_KINDS} == set(expected)
    assert all(found == ["sent"] * len(found) for found in states.values()), states
    assert Counter({key: len(found) for key, found in states.items()}) == smtp.kinds()

    assert (site / "index.html").is_file()
    pages = "".join(page.read_text(encoding="utf-8") for page in site.rglob("*.html"))
    assert one in pages and two in pages


# --- 2. two runners by mistake ---------------------------------------------------------------


def waiting_tickets(desk: Desk, count: int) -> list[str]:
    """Tickets An opened on Monday morning and set waiting for the customer, shared."""
    made = []
    for number in range(count):
        ticket_id = desk.new(desk.a, moment(MON, f"09:0{number}"), "--title", f"Ticket {number}")
        desk.sdesk(desk.a, moment(MON, f"09:1{number}"), "update", ticket_id, "--status", "waiting-for-customer")
        made.append(ticket_id)
    share(desk.a, "Tickets waiting for the customer")
    return made


def test_two_runners_started_together_mail_everything_once_and_sweep_once(desk, smtp):
    made = waiting_tickets(desk, 3)
    second = desk.server_clone("server2")
    runners = [start_cycle(clone, smtp, moment(WED, "10:00")) for clone in (desk.server, second)]
    outputs = [process.communicate(timeout=60) for process in runners]
    for process, (out, err) in zip(runners, outputs, strict=True):
        assert process.returncode == 0, out + err
    for clone in (desk.server, second):  # the next cron runs: nothing left to do
        assert step(cycle(clone, smtp, moment(WED, "10:05")), "mail").startswith("mail: sent 0")

    smtp.assert_each_once()
    per_ticket = {(ticket_id, kind): 1 for ticket_id in made for kind in ("created", "info-requested", "reminder")}
    assert Counter({key: n for key, n in smtp.kinds().items() if key[1] not in SLA_KINDS}) == Counter(per_ticket)
    pull(desk.b)
    for ticket_id in made:
        assert desk.history(desk.b, ticket_id).count("reminder") == 1
    states = delivered(desk, desk.b)
    assert all(found == ["sent"] * len(found) for found in states.values()), states
    assert Counter({key: len(found) for key, found in states.items()}) == smtp.kinds()
    for clone in (desk.server, second):
        assert_clean(clone)


# --- 3. an agent sweeps too ------------------------------------------------------------------


def test_an_agent_sweeping_while_the_runner_sweeps_leaves_one_reminder(desk, smtp):
    (ticket_id,) = waiting_tickets(desk, 1)
    for clone in (desk.b, desk.c):
        pull(clone)
    # Bo sweeps on Wednesday morning; his push lands just after the runner committed its own sweep.
    assert "reminder" in desk.sdesk(desk.b, moment(WED, "09:50"), "sweep", user=BO)
    commit(desk.b, "Swept")
    hook(
        desk.server,
        "post-commit",
        f'case "$(git log -1 --format=%s)" in "sdesk sweep"*) git -C {desk.b} push -q origin main;; esac\n',
    )
    # Cy sweeps later, offline, and merges what both pushed.
    assert "reminder" in desk.sdesk(desk.c, moment(WED, "11:00"), "sweep", user=CY)
    commit(desk.c, "Swept too")

    lines = cycle(desk.server, smtp, moment(WED, "10:30"))
    assert step(lines, "push") == "push: pushed to origin/main after 1 refusal"
    pull(desk.c)
    git(desk.c, "push", "-q", "origin", "main")
    pull(desk.b)

    for clone in (desk.b, desk.c, desk.server):
        assert desk.history(clone, ticket_id).count("reminder") == 1
    smtp.assert_each_once()
    assert smtp.kinds()[(ticket_id, "reminder")] == 1
    assert_clean(desk.server, synced=False)  # Cy pushed since: the next cycle merges it


# --- 4. the runner killed at any moment --------------------------------------------------------

KILL = 'kill -9 "$(cat {pidfile})"\n'


def plan_crash(desk: Desk, smtp: Mailbox, where: str, pidfile: Path) -> None:
    """Arrange for the runner whose pid is in ``pidfile`` to be SIGKILLed at ``where``."""
    kill = KILL.format(pidfile=pidfile)

    def killer(after: int) -> Callable[[], None]:
        calls = []

        def maybe_kill() -> None:
            calls.append(1)
            if len(calls) == after:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)

        return maybe_kill

    if where == "smtp: the verdict on the first message":
        smtp.handler.at_data = killer(1)  # the server has the message; the runner never hears so
    elif where == "smtp: the recipient of the second message":
        smtp.handler.at_rcpt = killer(2)  # the first went out, the second never got to its final dot
    elif where == "git: the sweep commit, staged":
        hook(
            desk.server,
            "pre-commit",
            f"git diff --cached --name-only | grep -q '^tickets/' && {{ {kill.strip()}; exit 1; }}\nexit 0\n",
        )
    elif where == "git: the sweep commit, made":
        hook(desk.server, "post-commit", f'case "$(git log -1 --format=%s)" in "sdesk sweep"*) {kill.strip()};; esac\n')
    elif where == "git: the claim commit, made":
        hook(
            desk.server,
            "post-commit",
            f'case "$(git log -1 --format=%s)" in "sdesk run: claim"*) {kill.strip()};; esac\n',
        )
    elif where == "git: the claim, pushed":
        body = 'while read old new ref; do case "$(git log -1 --format=%s $new)" in "sdesk run: claim"*) '
        hook(desk.origin, "post-receive", body + kill.strip() + ";; esac; done\n")
    elif where == "git: the delivery records commit, made":
        hook(
            desk.server,
            "post-commit",
            f'case "$(git log -1 --format=%s)" in "sdesk run: sent"*) {kill.strip()};; esac\n',
        )
    elif where == "git: the merge after a refused push":
        # An agent pushes the moment the runner commits its sweep, so the runner's push is refused and it merges.
        hook(
            desk.server,
            "post-commit",
            f'case "$(git log -1 --format=%s)" in "sdesk sweep"*) git -C {desk.b} push -q origin main;; esac\n',
        )
        hook(desk.server, "post-merge", f"git rev-parse -q --verify HEAD^2 >/dev/null && {kill.strip()}\nexit 0\n")
    else:
        raise AssertionError(where)


CRASHES = [
    "smtp: the verdict on the first message",
    "smtp: the recipient of the second message",
    "git: the sweep commit, staged",
    "git: the sweep commit, made",
    "git: the claim commit, made",
    "git: the claim, pushed",
    "git: the delivery records commit, made",
    "git: the merge after a refused push",
]


@pytest.mark.parametrize("where", CRASHES)
def test_a_runner_killed_at_any_moment_is_repaired_by_the_next_cycle(desk, smtp, tmp_path, where):
    one, two = waiting_tickets(desk, 2)
    pull(desk.b)
    desk.sdesk(desk.b, moment(WED, "09:55"), "comment", two, "Wij zoeken verder.", user=BO)
    commit(desk.b, "A comment")  # pushed by the hook in the merge case, else shared below
    if where != "git: the merge after a refused push":
        pull(desk.b)
        git(desk.b, "push", "-q", "origin", "main")
    pidfile = tmp_path / "runner.pid"
    plan_crash(desk, smtp, where, pidfile)

    process = start_cycle(desk.server, smtp, moment(WED, "10:00"))
    pidfile.write_text(str(process.pid))
    out, err = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, f"not killed at {where}:\n{out}{err}"
    settle(process.pid)
    smtp.handler.at_rcpt = smtp.handler.at_data = None
    for name in ("pre-commit", "post-commit", "post-merge"):
        (desk.server / ".git" / "hooks" / name).unlink(missing_ok=True)
    (desk.origin / "hooks" / "post-receive").unlink(missing_ok=True)

    unconfirmed = where == "smtp: the verdict on the first message"
    # a mail that may have arrived fails the repairing cycle, so someone looks: no later cycle sends it
    lines = cycle(desk.server, smtp, moment(WED, "10:05"), status=1 if unconfirmed else 0)
    if unconfirmed:
        assert "1 unconfirmed (1 of an interrupted cycle settled from its journal)" in step(lines, "mail"), lines
        again = cycle(desk.server, smtp, moment(WED, "10:10"))
        assert step(again, "mail") == "mail: sent 0", again  # settled: the runner looks only at what changed

    smtp.assert_each_once()
    pull(desk.a)
    for ticket_id in (one, two):
        history = desk.history(desk.a, ticket_id)
        assert history.count("reminder") == 1, history
    states = delivered(desk, desk.a)
    assert Counter({key: len(found) for key, found in states.items()}) == smtp.kinds(), (states, lines)
    first = smtp.arrived[0]
    for key, found in states.items():
        if unconfirmed and key == first.ticket_kind:
            assert found == ["interrupted"], (key, found)  # `notify list` says so; the record says unconfirmed
            records = (desk.a / "deliveries" / f"{key[0]}.jsonl").read_text(encoding="utf-8")
            last = [json.loads(line) for line in records.splitlines() if ".created" in line][-1]
            assert (last["state"], last["runner"]) == ("unconfirmed", runner_name(desk.server))
        else:
            assert found == ["sent"] * len(found), (key, found)
    for key in [(one, "reminder"), (two, "reminder"), (two, "comment"), (one, "created"), (two, "info-requested")]:
        assert smtp.kinds()[key] == 1, key
    assert_clean(desk.server)


# --- 5. a dry run --------------------------------------------------------------------------------


def test_a_dry_run_says_what_it_would_do_and_does_nothing(desk, smtp, tmp_path):
    (ticket_id,) = waiting_tickets(desk, 1)
    git(desk.server, "pull", "-q", "origin", "main")
    pull(desk.b)
    other = desk.new(desk.b, moment(WED, "09:00"), "--title", "Nog een", user=BO)
    share(desk.b, "Another ticket")
    before, sent, records = head(desk.server), len(smtp.arrived), sorted((desk.server / "deliveries").iterdir())

    lines = cycle(desk.server, smtp, moment(WED, "10:00"), "--dry-run", "--export", str(tmp_path / "site"))
    assert step(lines, "pull") == "pull: would merge 1 commit from origin/main (what follows is before them)"
    assert step(lines, "sweep") == f"sweep: would record reminder on {ticket_id}"
    assert f"mail: would send created about {ticket_id} to {ELS} (owed)" in lines
    assert f"mail: would send info-requested about {ticket_id} to {ELS} (owed)" in lines
    assert step(lines, "export").startswith("export: would export the site to ")
    assert other not in "\n".join(lines)  # not merged: not known yet
    assert (head(desk.server), len(smtp.arrived)) == (before, sent)
    assert sorted((desk.server / "deliveries").iterdir()) == records
    assert not (tmp_path / "site").exists()
    assert_clean(desk.server, synced=False)
    assert desk.history(desk.server, ticket_id).count("reminder") == 0

    lines = cycle(desk.server, smtp, moment(WED, "10:00"))
    assert step(lines, "mail") == "mail: sent 4"
    assert set(smtp.kinds()) == {
        (ticket_id, "created"),
        (ticket_id, "info-requested"),
        (ticket_id, "reminder"),
        (other, "created"),
    }


# --- 6. a conflict the merge driver cannot solve ------------------------------------------------


def test_a_conflict_the_driver_cannot_solve_stops_the_cycle_clean_and_the_next_one_works(desk, smtp):
    (ticket_id,) = waiting_tickets(desk, 1)
    pull(desk.b)
    # Bo breaks the ticket file by hand; his push lands while the runner has its sweep of that ticket in hand.
    path = desk.b / "tickets" / f"{ticket_id}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("history:", "history: [broken", 1), encoding="utf-8")
    commit(desk.b, "Broken by hand")
    hook(
        desk.server,
        "post-commit",
        f'case "$(git log -1 --format=%s)" in "sdesk sweep"*) git -C {desk.b} push -q origin main;; esac\n',
    )

    lines = cycle(desk.server, smtp, moment(WED, "10:00"), status=1)
    failure = lines[-1]
    assert failure.startswith("Error: the cycle stopped at "), lines
    assert "does not merge" in failure and f"tickets/{ticket_id}.yaml" in failure, failure
    stopped_at = failure.removeprefix("Error: the cycle stopped at ").split(":")[0]
    assert stopped_at == "push", failure  # the runner drops its own commits before it pulls: a pull is a fast-forward
    assert_clean(desk.server, synced=False)
    assert not any(line.startswith("mail:") for line in lines)
    (desk.server / ".git" / "hooks" / "post-commit").unlink()

    # Bo repairs the file upstream; the next cycle starts over from it.
    git(desk.b, "revert", "--no-edit", "HEAD")
    git(desk.b, "push", "-q", "origin", "main")
    lines = cycle(desk.server, smtp, moment(WED, "10:05"))
    assert "1 reminder" in step(lines, "sweep")
    assert step(lines, "mail") == "mail: sent 3"  # created, info-requested and the reminder
    assert smtp.kinds()[(ticket_id, "reminder")] == 1
    smtp.assert_each_once()
    assert_clean(desk.server)


# --- what the outside review found -----------------------------------------------------------------


def test_a_clone_file_pushed_to_the_shared_branch_is_never_merged_over_the_runners_own(desk, smtp):
    (ticket_id,) = waiting_tickets(desk, 1)
    assert step(cycle(desk.server, smtp, moment(MON, "10:00")), "mail") == "mail: sent 2"
    planted = desk.a / ".sdesk" / "mail-journal.jsonl"
    planted.parent.mkdir(exist_ok=True)
    planted.write_text("", encoding="utf-8")
    git(desk.a, "add", "-f", str(planted))
    share(desk.a, "Oops, a clone's own file")
    lines = cycle(desk.server, smtp, moment(MON, "10:05"), status=1)
    assert lines[-1].startswith("Error: the cycle stopped at pull: origin/main commits .sdesk/mail-journal.jsonl")
    assert_clean(desk.server, synced=False)
    git(desk.a, "rm", "-q", "--cached", str(planted))
    share(desk.a, "Not ours to share")
    lines = cycle(desk.server, smtp, moment(WED, "10:05"))
    assert step(lines, "mail") == "mail: sent 1"  # the reminder; nothing sent before goes again
    smtp.assert_each_once()
    assert smtp.kinds()[(ticket_id, "reminder")] == 1


def test_records_lost_upstream_never_make_the_runner_mail_again(desk, smtp):
    waiting_tickets(desk, 1)
    assert step(cycle(desk.server, smtp, moment(MON, "10:00")), "mail") == "mail: sent 2"
    pull(desk.a)
    git(desk.a, "rm", "-q", "-r", "deliveries/")
    git(desk.a, "checkout", "HEAD", "--", "deliveries/baseline.yaml")
    share(desk.a, "Records gone")
    lines = cycle(desk.server, smtp, moment(MON, "10:05"))
    assert step(lines, "mail") == "mail: sent 0 (2 of an interrupted cycle settled from its journal)"
    smtp.assert_each_once()
    assert len(smtp.arrived) == 2


def test_the_first_cycle_of_a_desk_of_old_mails_what_its_own_sweep_records(desk, smtp):
    (ticket_id,) = waiting_tickets(desk, 1)
    git(desk.a, "rm", "-q", "deliveries/baseline.yaml")  # a desk that mailed from outboxes (sdesk 0.8)
    share(desk.a, "A desk of old")
    lines = cycle(desk.server, smtp, moment(WED, "10:05"))
    assert "1 reminder" in step(lines, "sweep")
    assert step(lines, "baseline").startswith("baseline: mail owed by history begins at this commit")
    assert step(lines, "mail") == "mail: sent 1"  # the reminder; the events before the baseline were mailed
    assert [arrival.ticket_kind for arrival in smtp.arrived] == [(ticket_id, "reminder")]


def test_a_missing_baseline_beside_records_stops_the_cycle_instead_of_forgetting_owed_mail(desk, smtp):
    waiting_tickets(desk, 1)
    cycle(desk.server, smtp, moment(MON, "10:00"))
    pull(desk.a)
    git(desk.a, "rm", "-q", "deliveries/baseline.yaml")
    share(desk.a, "Baseline gone")
    lines = cycle(desk.server, smtp, moment(MON, "10:05"), status=1)
    assert "deliveries/baseline.yaml is missing while deliveries/ holds delivery records" in lines[-1]


def test_a_shared_gitignore_without_sdesk_and_a_dead_gits_lock_do_not_stop_the_runner(desk, smtp):
    waiting_tickets(desk, 1)
    ignore = desk.a / ".gitignore"
    ignore.write_text(ignore.read_text(encoding="utf-8").replace(".sdesk/\n", ""), encoding="utf-8")
    git(desk.a, "commit", "-q", "-m", "Tidy the ignore file", "--", ".gitignore")
    git(desk.a, "push", "-q", "origin", "main")
    cycle(desk.server, smtp, moment(MON, "10:00"))
    lock = desk.server / ".git" / "index.lock"
    lock.write_text("", encoding="utf-8")
    old = lock.stat().st_mtime - 120
    os.utime(lock, (old, old))
    lines = cycle(desk.server, smtp, moment(WED, "10:05"))
    assert "prepare: removed index.lock, left by a git that died over a minute ago" in lines
    assert "1 reminder" in step(lines, "sweep")
    assert_clean(desk.server)


def test_a_shared_attributes_file_that_turns_the_union_merge_off_is_set_right_by_the_runner(desk, smtp):
    attributes = desk.a / ".gitattributes"
    attributes.write_text(attributes.read_text(encoding="utf-8") + "*.jsonl -merge\n", encoding="utf-8")
    share(desk.a, "Binary-ish json")
    lines = cycle(desk.server, smtp, moment(MON, "10:00"))
    assert "pull: registered the merge driver and committed .gitattributes" in lines
    assert git(desk.server, "check-attr", "merge", "--", "deliveries/x.jsonl").stdout.strip().endswith(": union")
    assert_clean(desk.server)


def test_a_ticket_merged_while_the_runner_pushes_its_records_is_mailed_by_the_next_cycle(desk, smtp):
    desk.new(desk.a, moment(MON, "09:00"))
    share(desk.a, "First")
    cycle(desk.server, smtp, moment(MON, "09:05"))
    desk.new(desk.a, moment(MON, "09:10"))
    share(desk.a, "Second")
    made: list[str] = []

    def bo_pushes_while_the_runner_sends() -> None:  # the runner's push of its records is refused, so it merges
        if not made:
            made.append(desk.new(desk.b, moment(MON, "09:11"), user=BO))
            share(desk.b, "Third, in between")

    smtp.handler.at_data = bo_pushes_while_the_runner_sends
    cycle(desk.server, smtp, moment(MON, "09:12"))
    smtp.handler.at_data = None
    assert step(cycle(desk.server, smtp, moment(MON, "09:20")), "mail") == "mail: sent 1"
    assert smtp.kinds()[(made[0], "created")] == 1
    smtp.assert_each_once()


def test_a_ticket_missing_from_the_work_tree_while_mail_is_sent_is_mailed_once_it_is_back(desk, smtp, run):
    def send() -> str:
        result = run(
            "notify", "send", "--smtp", smtp.address, env={"SDESK_DIR": str(desk.a), "SDESK_NOW": moment(MON, "10:00")}
        )
        assert result.exit_code == 0, result.output
        return str(result.stdout)

    desk.new(desk.a, moment(MON, "09:00"))
    commit(desk.a, "First")
    send()
    second = desk.new(desk.a, moment(MON, "09:01"))
    commit(desk.a, "Second")
    aside = desk.root / "aside.yaml"
    (desk.a / "tickets" / f"{second}.yaml").rename(aside)  # moved away while someone edits it
    send()
    aside.rename(desk.a / "tickets" / f"{second}.yaml")
    send()
    assert smtp.kinds()[(second, "created")] == 1


def test_a_shallow_clone_without_the_baseline_commit_mails_nothing_and_says_why(desk, smtp, tmp_path):
    waiting_tickets(desk, 1)
    cycle(desk.server, smtp, moment(MON, "10:00"))  # sets nothing: init wrote commit: none
    pull(desk.a)
    sha = head(desk.a)
    (desk.a / "deliveries" / "baseline.yaml").write_text(f"commit: {sha}\n", encoding="utf-8")
    share(desk.a, "Mail owed from here")
    desk.new(desk.a, moment(MON, "11:00"))
    share(desk.a, "A new ticket")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{desk.origin}", str(shallow))
    identify(shallow, RUNNER)
    lines = cycle(shallow, smtp, moment(MON, "11:05"), status=1)
    assert "is not in this clone (a shallow clone?): fetch the whole history" in lines[-1], lines
    assert len(smtp.arrived) == 2  # only what the real runner sent before


def test_a_commit_of_a_person_in_the_runners_clone_is_never_thrown_away(desk, smtp):
    waiting_tickets(desk, 1)
    notes = desk.server / "NOTES"
    notes.write_text("a person's work\n", encoding="utf-8")
    git(desk.server, "add", "NOTES")
    git(desk.server, "-c", "user.email=someone@caresolutions.example", "commit", "-q", "-m", "Notes")
    lines = cycle(desk.server, smtp, moment(MON, "10:00"), status=1)
    assert "this clone has 1 commit(s) that are not the runner's and not on origin/main" in lines[-1], lines
    assert notes.exists() and git(desk.server, "log", "-1", "--format=%s").stdout.strip() == "Notes"


# --- the mail gateway in the runner's cycle -------------------------------------------------------


def maildir(folder: Path, messages: dict[str, bytes]) -> Path:
    for part in ("new", "cur", "tmp"):
        (folder / part).mkdir(parents=True, exist_ok=True)
    for name, raw in messages.items():
        (folder / "new" / name).write_bytes(raw)
    return folder


def customer_mail(sender: str, subject: str, body: str, message_id: str) -> bytes:
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "servicedesk@caresolutions.example", subject
    message["Message-ID"] = message_id
    message.set_content(body)
    return message.as_bytes()


def test_the_runner_receives_before_the_sweep_and_answers_a_stranger_once(desk, smtp, tmp_path):
    [waiting] = waiting_tickets(desk, 1)
    reply = customer_mail(ELS, f"Re: [{waiting}] Ticket 0", "Hier is de informatie.\n", "<r1@zonnebloem.example>")
    question = customer_mail("jan@zonnebloem.example", "Vraag", "Kan ik ook iets melden?\n", "<j1@x.example>")
    box = maildir(tmp_path / "Maildir", {"1.host": reply, "2.host": question})
    lines = cycle(desk.server, smtp, moment(WED, "10:00"), "--maildir", str(box))  # a reminder fell due Wednesday
    received = [line for line in lines if line.startswith("receive: ")]
    assert len(received) == 2 and f"comment {waiting}" in received[0] and "triage" in received[1]
    assert step(lines, "sweep") == "sweep: nothing to do"  # the reply stopped the count: no reminder
    assert sorted(path.name for path in (box / "cur").iterdir()) == ["1.host:2,S", "2.host:2,S"]
    refused = [arrival for arrival in smtp.arrived if arrival.ticket_kind[1] == "refused"]
    assert [arrival.rcpt_tos for arrival in refused] == [("jan@zonnebloem.example",)]

    pull(desk.b)  # what the runner received reached every clone
    assert desk.history(desk.b, waiting)[-1] == "comment"
    held = json.loads(desk.sdesk(desk.b, moment(WED, "10:05"), "mail", "triage", "--format", "json"))
    assert [item["from"] for item in held] == ["jan@zonnebloem.example"]
    lines = cycle(desk.server, smtp, moment(WED, "10:05"), "--maildir", str(box))
    assert step(lines, "receive") == "receive: no new mail" and step(lines, "mail").startswith("mail: sent 0")
    assert_clean(desk.server)


def test_two_runners_given_the_same_mail_record_it_once(desk, smtp, tmp_path):
    body = "Het dossier opent niet.\nProduct: care-dossier\nVestiging: 2101\n"
    message = customer_mail(ELS, "Dossier opent niet", body, "<n1@x.example>")
    second = desk.server_clone("server2")
    boxes = [maildir(tmp_path / name, {"1.host": message}) for name in ("box1", "box2")]
    runners = [
        subprocess.Popen(
            [SDESK, "run", "--smtp", smtp.address, "--maildir", str(box)],
            cwd=clone,
            env=runner_env(moment(MON, "10:00")),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clone, box in zip((desk.server, second), boxes, strict=True)
    ]
    for process in runners:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, out + err
    pull(desk.b)
    assert len(list((desk.b / "tickets").glob("*.yaml"))) == 1
    assert [arrival.ticket_kind[1] for arrival in smtp.arrived] == ["created"]
    for box in boxes:  # each runner took its copy out of its mailbox: recorded (once) by one of them
        assert [path.name for path in (box / "cur").iterdir()] == ["1.host:2,S"]


def test_the_runner_receives_by_the_rules_it_just_pulled(desk, smtp, tmp_path):
    rules = (desk.a / "rules.yaml").read_text(encoding="utf-8")
    rules = rules.replace("  address: servicedesk@", "  verified_by: mx.caresolutions.example\n  address: servicedesk@")
    (desk.a / "rules.yaml").write_text(rules, encoding="utf-8")
    share(desk.a, "Only mail the receiving server vouches for")
    body = "Het dossier opent niet.\nProduct: care-dossier\nVestiging: 2101\n"
    box = maildir(tmp_path / "Maildir", {"1.host": customer_mail(ELS, "Storing", body, "<forged@x.example>")})
    lines = cycle(desk.server, smtp, moment(MON, "10:00"), "--maildir", str(box))
    [received] = [line for line in lines if line.startswith("receive: ")]
    assert "triage" in received and "could not be verified" in received


def test_a_mailbox_that_cannot_be_read_skips_the_sweep_but_not_the_mail(desk, smtp, tmp_path):
    [waiting] = waiting_tickets(desk, 1)
    lines = cycle(desk.server, smtp, moment(WED, "10:00"), "--maildir", str(tmp_path / "gone"), status=1)
    assert "is not a Maildir" in step(lines, "receive")
    assert step(lines, "sweep").startswith("sweep: skipped")  # a reply may be waiting: no reminder yet
    assert step(lines, "mail").startswith("mail: sent 2")  # created and info-requested still went out
    assert lines[-1].startswith("Error: the cycle stopped at receive")
    assert "reminder" not in desk.history(desk.server, waiting)
