"""Working in several clones, with real git repositories: ticket numbers, the merge driver, show --history.

Every test builds its own bare "origin" and clones in tmp_path; git runs as a
subprocess, so a merge runs the driver as git does: the `sdesk` found on PATH
(this virtualenv's, put first on PATH), with git's line merge when it cannot
run. Ticket commands run in-process through the `run` fixture, in the clone
named by SDESK_DIR.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from msgspec.structs import replace

from sdesk.formats import yamlio
from sdesk.storage import merge
from sdesk.storage.store import read_ticket, render
from sdesk.tickets.model import Change, Event, Ticket
from tests.conftest import REPO, TICKET_DEFAULTS, Run, example_rules_text, isolate_git, needs_git_checkout

AN = "an.wouters@caresolutions.example"
BO = "bo.peeters@caresolutions.example"
DAY = "2026-11-23"  # a Monday
ATTRIBUTE_LINE = "tickets/*.yaml merge=sdesk-ticket"
TICKET_ARGS = [part for pair in TICKET_DEFAULTS.items() for part in pair]


@pytest.fixture(autouse=True)
def outside_any_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git never looks above tmp_path and reads no user's config, wherever the tests run."""
    isolate_git(tmp_path, monkeypatch)


# --- helpers -------------------------------------------------------------------------------


def at(clock: str) -> str:
    """SDESK_NOW for a time of day on DAY: "10:30" or "10:30:15"."""
    return f"{DAY}T{clock if clock.count(':') == 2 else clock + ':00'}+01:00"


def git(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def identify(clone: Path, name: str, email: str) -> None:
    git(clone, "config", "user.name", name)
    git(clone, "config", "user.email", email)


def commit(clone: Path, message: str) -> str:
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", message)
    return git(clone, "rev-parse", "HEAD").stdout.strip()


def pull(clone: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return git(clone, "pull", "--no-rebase", "--no-edit", "origin", "main", check=check)


def push(clone: Path) -> None:
    git(clone, "push", "-q", "origin", "main")


def status(clone: Path) -> str:
    return git(clone, "status", "--porcelain").stdout


def sdesk(run: Run, clone: Path, clock: str, *args: str, user: str = AN) -> Result:
    """One sdesk command in ``clone`` at ``clock`` on DAY, as ``user``; it must succeed."""
    result = run(*args, env={"SDESK_DIR": str(clone), "SDESK_NOW": at(clock), "SDESK_USER": user})
    assert result.exit_code == 0, result.output
    return result


def shown(run: Run, clone: Path, ticket_id: str, *extra: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sdesk(run, clone, "18:00", "show", ticket_id, "--format", "json", *extra).stdout)
    return data


def ticket_files(clone: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((clone / "tickets").glob("*.yaml"))}


@dataclass
class Clones:
    origin: Path
    a: Path  # An's clone: made the desk
    b: Path  # Bo's clone: cloned it


def path_without_sdesk() -> str:
    """PATH as it is, less every folder that holds an `sdesk` (git and sh stay)."""
    folders = os.environ["PATH"].split(os.pathsep)
    return os.pathsep.join(folder for folder in folders if not (Path(folder) / "sdesk").exists())


@pytest.fixture
def clones(tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Clones:
    """A bare origin with a desk on main (the example desk's rules), cloned by An (a) and Bo (b).

    This virtualenv's `sdesk` is on PATH, as it is for an agent who installed sdesk, so git finds the driver.
    """
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{path_without_sdesk()}")
    origin, a, b = tmp_path / "origin.git", tmp_path / "a", tmp_path / "b"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(origin))
    git(tmp_path, "init", "-q", "--initial-branch=main", str(a))
    identify(a, "An Wouters", AN)
    result = run("init", str(a), "--name", "Test desk")
    assert result.exit_code == 0, result.output
    (a / "rules.yaml").write_text(example_rules_text(), encoding="utf-8")
    commit(a, "A new desk")
    git(a, "remote", "add", "origin", str(origin))
    git(a, "push", "-q", "-u", "origin", "main")
    git(tmp_path, "clone", "-q", "--branch", "main", str(origin), str(b))
    identify(b, "Bo Peeters", BO)
    sdesk(run, b, "09:00", "git", "setup", user=BO)
    assert status(b) == ""  # .gitattributes came with the clone: setup changes nothing committed
    return Clones(origin, a, b)


def new(run: Run, clone: Path, clock: str, *extra: str, user: str = AN) -> str:
    result = sdesk(run, clone, clock, "new", "--format", "json", *TICKET_ARGS, *extra, user=user)
    ticket_id: str = json.loads(result.stdout)["id"]
    return ticket_id


@pytest.fixture
def shared(clones: Clones, run: Run) -> str:
    """A ticket An opened at 10:00 and pushed; Bo has pulled it."""
    ticket_id = new(run, clones.a, "10:00")
    commit(clones.a, f"New ticket {ticket_id}")
    push(clones.a)
    pull(clones.b)
    return ticket_id


def events(ticket: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [event for event in ticket["history"] if event["event"] == kind]


# --- ticket numbers: 200 + 200 tickets in two clones -----------------------------------------


def test_two_clones_each_create_200_tickets_offline_and_share_all_400_without_conflict(clones, run):
    start = datetime.fromisoformat(at("09:00"))
    made: dict[Path, list[str]] = {}
    for clone, user in ((clones.a, AN), (clones.b, BO)):
        ids = []
        for n in range(200):  # one a second, the two clones in the very same seconds
            moment = (start + timedelta(seconds=n)).strftime("%H:%M:%S")
            ids.append(new(run, clone, moment, "--title", f"Ticket {n} of {user}", user=user))
        commit(clone, f"200 tickets by {user}")
        made[clone] = ids

    push(clones.a)
    pulled = pull(clones.b)
    assert "CONFLICT" not in pulled.stdout + pulled.stderr
    push(clones.b)
    pull(clones.a)

    every_id = made[clones.a] + made[clones.b]
    assert len(set(every_id)) == 400
    expected = {f"{ticket_id}.yaml" for ticket_id in every_id}
    assert set(ticket_files(clones.a)) == expected
    assert ticket_files(clones.a) == ticket_files(clones.b)
    for clone in (clones.a, clones.b):
        assert status(clone) == ""
    assert git(clones.a, "rev-parse", "HEAD").stdout == git(clones.b, "rev-parse", "HEAD").stdout

    check = subprocess.run(
        [sys.executable, "-m", "sdesk", "check"],
        cwd=clones.a,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "400 ticket files checked, 0 problems" in check.stderr
    listed = json.loads(sdesk(run, clones.b, "18:00", "list", "--all", "--format", "json").stdout)
    assert sorted(row["id"] for row in listed) == sorted(every_id)


# --- the same ticket changed in both clones ------------------------------------------------


def test_concurrent_work_on_one_ticket_merges_every_event_without_conflict(clones, run, shared):
    a, b, ticket_id = clones.a, clones.b, shared
    sdesk(run, a, "10:10", "comment", ticket_id, "An: heeft u de app al herstart?")
    sdesk(run, a, "10:12", "update", ticket_id, "--category", "application")
    sdesk(run, a, "10:20", "log", ticket_id, "45m", "--note", "An: logboeken nagekeken")
    sdesk(run, a, "10:30", "update", ticket_id, "--status", "in-progress", "--note", "An neemt het op")
    sdesk(run, a, "10:45", "comment", ticket_id, "--internal", "An: vermoedelijk een verlopen certificaat")
    commit(a, "An works on the ticket")

    sdesk(run, b, "10:05", "comment", ticket_id, "Bo: we bekijken het", user=BO)
    sdesk(run, b, "10:15", "update", ticket_id, "--assignee", BO, user=BO)
    sdesk(run, b, "10:25", "log", ticket_id, "1h30m", "--note", "Bo: certificaat vernieuwd", user=BO)
    sdesk(run, b, "10:40", "update", ticket_id, "--status", "waiting-for-customer", "--note", "Bo vraagt", user=BO)
    sdesk(run, b, "10:50", "comment", ticket_id, "Bo: werkt het nu?", user=BO)
    commit(b, "Bo works on the ticket")
    push(b)

    pulled = pull(a)
    decision = (
        f"sdesk merge-ticket: tickets/{ticket_id}.yaml: Changed in two clones at once: kept status "
        f"'waiting-for-customer' of {BO} at {at('10:40')}, the later change, over 'in-progress'."
    )
    assert decision in pulled.stderr
    text = (a / "tickets" / f"{ticket_id}.yaml").read_text(encoding="utf-8")
    assert "<<<<<<<" not in text and ">>>>>>>" not in text
    assert status(a) == ""
    sdesk(run, a, "18:00", "check")

    ticket = shown(run, a, ticket_id)
    comments = Counter(event["text"] for event in events(ticket, "comment"))
    assert comments == {
        "An: heeft u de app al herstart?": 1,
        "An: vermoedelijk een verlopen certificaat": 1,
        "Bo: we bekijken het": 1,
        "Bo: werkt het nu?": 1,
    }
    entries = Counter((event["by"], event["minutes"], event["text"]) for event in events(ticket, "time"))
    assert entries == {(AN, 45, "An: logboeken nagekeken"): 1, (BO, 90, "Bo: certificaat vernieuwd"): 1}
    moments = [datetime.fromisoformat(event["at"]) for event in ticket["history"]]
    assert moments == sorted(moments)
    assert len(ticket["history"]) == 1 + 5 + 5 + 1  # created, An's five, Bo's five, the decision

    assert ticket["category"] == "application"  # only An changed it
    assert ticket["assignee"] == BO  # only Bo changed it
    assert ticket["status"] == "waiting-for-customer"  # both: Bo's change at 10:40 is later than An's at 10:30
    [merged] = events(ticket, "merged")
    assert merged["by"] == "sdesk merge-ticket"
    assert merged["visibility"] == "internal"
    assert merged["changes"] == [{"field": "status", "from": "in-progress", "to": "waiting-for-customer"}]
    assert "in-progress" in merged["text"] and "waiting-for-customer" in merged["text"]

    push(a)
    pull(b)  # a fast-forward: Bo gets the same merged ticket
    assert ticket_files(b) == ticket_files(a)


def test_the_clone_whose_change_is_later_keeps_its_value_when_it_merges(clones, run, shared):
    """The README's example, merged from the other side: Bo (10:30) pulls An's later change (10:40)."""
    a, b, ticket_id = clones.a, clones.b, shared
    sdesk(run, a, "10:40", "update", ticket_id, "--status", "waiting-for-customer", "--note", "An")
    commit(a, "An")
    push(a)
    sdesk(run, b, "10:30", "update", ticket_id, "--status", "in-progress", "--note", "Bo", user=BO)
    commit(b, "Bo")

    pulled = pull(b)
    assert f"kept status 'waiting-for-customer' of {AN} at {at('10:40')}" in pulled.stderr
    ticket = shown(run, b, ticket_id)
    assert ticket["status"] == "waiting-for-customer"
    assert [event["text"] for event in events(ticket, "updated")] == ["Bo", "An"]
    [merged] = events(ticket, "merged")
    assert merged["changes"] == [{"field": "status", "from": "in-progress", "to": "waiting-for-customer"}]


def test_same_moment_edits_merge_the_same_in_both_clones_and_the_decision_is_kept_once(clones, run, shared):
    a, b, ticket_id = clones.a, clones.b, shared
    sdesk(run, a, "11:00", "update", ticket_id, "--assignee", AN, "--note", "mine")
    sdesk(run, b, "11:00", "update", ticket_id, "--assignee", BO, "--note", "mine", user=BO)
    sdesk(run, a, "11:00", "comment", ticket_id, "Zelfde moment, van An")
    sdesk(run, b, "11:00", "comment", ticket_id, "Zelfde moment, van Bo", user=BO)
    commit(a, "An takes it")
    commit(b, "Bo takes it")
    git(a, "remote", "add", "bo", str(b))
    git(b, "remote", "add", "an", str(a))

    # Each clone merges the other's commit on its own: B into A, and A into B.
    git(a, "fetch", "-q", "bo")
    git(b, "fetch", "-q", "an")
    into_a = git(a, "merge", "--no-edit", "bo/main")
    into_b = git(b, "merge", "--no-edit", "an/main")
    assert ticket_files(a) == ticket_files(b)  # byte for byte
    kept = shown(run, a, ticket_id)["assignee"]
    assert kept in (AN, BO)
    assert shown(run, b, ticket_id)["assignee"] == kept
    for merged in (into_a, into_b):
        assert f"kept assignee '{kept}'" in merged.stderr
    [decision] = events(shown(run, a, ticket_id), "merged")
    dropped = BO if kept == AN else AN
    assert decision["changes"] == [{"field": "assignee", "from": dropped, "to": kept}]

    # Then they merge each other's merge: the decision is there once, nothing else changes.
    push(a)
    pull(b)
    push(b)
    pull(a)
    for clone in (a, b):
        ticket = shown(run, clone, ticket_id)
        assert len(events(ticket, "merged")) == 1
        assert len(events(ticket, "updated")) == 2
        assert sorted(event["text"] for event in events(ticket, "comment")) == [
            "Zelfde moment, van An",
            "Zelfde moment, van Bo",
        ]
        assert ticket["assignee"] == kept
        assert status(clone) == ""
        sdesk(run, clone, "18:00", "check")
    assert ticket_files(a) == ticket_files(b)


def test_a_later_pull_after_a_merge_keeps_the_decision_and_adds_new_work(clones, run, shared):
    a, b, ticket_id = clones.a, clones.b, shared
    sdesk(run, a, "10:30", "update", ticket_id, "--status", "in-progress")
    sdesk(run, b, "10:40", "update", ticket_id, "--status", "on-hold", user=BO)
    commit(a, "An")
    commit(b, "Bo")
    push(b)
    pull(a)
    push(a)
    sdesk(run, b, "11:00", "comment", ticket_id, "Bo: nog iets", user=BO)
    commit(b, "Bo again")
    pull(b)  # An's merge commit into Bo's new work
    ticket = shown(run, b, ticket_id)
    assert ticket["status"] == "on-hold"
    assert len(events(ticket, "merged")) == 1
    assert [event["text"] for event in events(ticket, "comment")] == ["Bo: nog iets"]


def test_pull_with_rebase_replays_each_commit_through_the_driver(clones, run, shared):
    a, b, ticket_id = clones.a, clones.b, shared
    sdesk(run, a, "10:30", "update", ticket_id, "--status", "in-progress", "--note", "An 1")
    commit(a, "An 1")
    sdesk(run, a, "10:35", "comment", ticket_id, "An 2")
    commit(a, "An 2")
    sdesk(run, b, "10:40", "update", ticket_id, "--status", "waiting-for-customer", "--note", "Bo", user=BO)
    commit(b, "Bo")
    push(b)

    pulled = git(a, "pull", "--rebase", "origin", "main")
    assert "kept status 'waiting-for-customer'" in pulled.stderr
    assert status(a) == ""
    ticket = shown(run, a, ticket_id)
    assert ticket["status"] == "waiting-for-customer"
    assert [event.get("text") for event in ticket["history"]][1:4] == ["An 1", "An 2", "Bo"]
    assert len(events(ticket, "merged")) == 1
    sdesk(run, a, "18:00", "check")


def test_an_entry_corrected_and_a_comment_removed_in_one_clone_stay_so_after_a_merge(clones, run, shared):
    """Bo's unrelated work must not bring back what An corrected or removed (the base says what changed)."""
    a, b, ticket_id = clones.a, clones.b, shared
    sdesk(run, a, "10:10", "log", ticket_id, "1h", "--note", "An: analyse")
    sdesk(run, a, "10:20", "comment", ticket_id, "An: oeps, dit hoort bij een ander ticket")
    commit(a, "An works")
    push(a)
    pull(b)
    path = a / "tickets" / f"{ticket_id}.yaml"
    ticket = read_ticket(path)
    created, logged, _ = ticket.history
    path.write_text(render(replace(ticket, history=[created, replace(logged, minutes=30)])), encoding="utf-8")
    commit(a, "An corrects the entry and removes the comment by hand")
    sdesk(run, b, "10:30", "comment", ticket_id, "Bo: we bekijken het", user=BO)
    commit(b, "Bo comments")
    push(b)

    pull(a)
    assert status(a) == ""
    ticket_data = shown(run, a, ticket_id)
    assert [(event["event"], event.get("minutes"), event.get("text")) for event in ticket_data["history"]] == [
        ("created", None, None),
        ("time", 30, "An: analyse"),
        ("comment", None, "Bo: we bekijken het"),
    ]
    push(a)
    pull(b)
    assert ticket_files(b) == ticket_files(a)


def test_a_hand_written_comment_survives_a_merge_the_driver_leaves_to_git(clones, run, shared):
    """The driver writes a ticket from its data, which has no place for `# comments`: git's line merge keeps them."""
    a, b, ticket_id = clones.a, clones.b, shared
    path = a / "tickets" / f"{ticket_id}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\ntype: ", "\n# belt vrijdag terug\ntype: ", 1), encoding="utf-8")
    commit(a, "An notes something in the file")
    push(a)
    sdesk(run, b, "10:30", "comment", ticket_id, "Bo: we bekijken het", user=BO)
    commit(b, "Bo comments")
    pulled = pull(b)
    assert "holds hand-written comments; left to git's line merge" in pulled.stderr
    text = (b / "tickets" / f"{ticket_id}.yaml").read_text(encoding="utf-8")
    assert "# belt vrijdag terug" in text and "Bo: we bekijken het" in text
    assert status(b) == ""


# --- what the driver cannot decide: git's own conflict -----------------------------------------


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        pytest.param("status: [in-progress", "invalid YAML", id="invalid-yaml"),
        pytest.param("status:", "status: is required", id="invalid-field"),
    ],
)
def test_a_broken_ticket_file_is_a_normal_conflict_and_nothing_is_dropped(clones, run, shared, broken, why):
    a, b, ticket_id = clones.a, clones.b, shared
    path = a / "tickets" / f"{ticket_id}.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\nstatus: open\n" in text
    path.write_text(text.replace("\nstatus: open\n", f"\n{broken}\n"), encoding="utf-8")
    commit(a, "An edits the file by hand")
    sdesk(run, b, "10:30", "update", ticket_id, "--status", "in-progress", "--note", "Bo neemt het op", user=BO)
    commit(b, "Bo")
    push(b)

    pulled = pull(a, check=False)
    assert pulled.returncode != 0
    assert "CONFLICT" in pulled.stdout
    assert why in pulled.stderr
    assert f"sdesk merge-ticket: tickets/{ticket_id}.yaml:" in pulled.stderr
    assert "left to git's line merge" in pulled.stderr
    assert f"UU tickets/{ticket_id}.yaml" in status(a).splitlines()
    merged = path.read_text(encoding="utf-8")
    assert "<<<<<<<" in merged and "=======" in merged and ">>>>>>>" in merged
    assert f"\n{broken}\n" in merged  # An's line
    assert "\nstatus: in-progress\n" in merged  # Bo's line
    assert "Bo neemt het op" in merged  # Bo's event
    result = run("check", env={"SDESK_DIR": str(a)})
    assert result.exit_code == 1


def test_a_field_both_clones_edited_by_hand_is_a_normal_conflict(clones, run, shared):
    a, b, ticket_id = clones.a, clones.b, shared
    for clone, title in ((a, "Zorgdossier opent traag"), (b, "Zorgdossier opent nooit")):
        path = clone / "tickets" / f"{ticket_id}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("Zorgdossier opent niet", title), encoding="utf-8")
        commit(clone, "title by hand")
    sdesk(run, b, "10:30", "comment", ticket_id, "Bo: titel verduidelijkt", user=BO)
    commit(b, "Bo comments")
    push(b)

    pulled = pull(a, check=False)
    assert pulled.returncode != 0
    assert (
        "both sides changed title, at least one without a recorded event; left to git's line merge, as a conflict"
        in pulled.stderr
    )
    path = a / "tickets" / f"{ticket_id}.yaml"
    merged = path.read_text(encoding="utf-8")
    assert "Zorgdossier opent traag" in merged and "Zorgdossier opent nooit" in merged
    assert "<<<<<<<" in merged
    assert "Bo: titel verduidelijkt" in merged

    # sdesk check (CI) refuses the file until the conflict is resolved and git add-ed
    markers = f"tickets/{ticket_id}.yaml:{merged.splitlines().index('<<<<<<< ours') + 1}:1: conflict markers"
    unmerged = f"tickets/{ticket_id}.yaml: git still has this file as unmerged"
    result = run("check", env={"SDESK_DIR": str(a)})
    assert result.exit_code == 1
    assert markers in result.stdout and unmerged in result.stdout
    git(a, "add", "-A")  # recorded as resolved with the markers still in it
    result = run("check", env={"SDESK_DIR": str(a)})
    assert result.exit_code == 1
    assert markers in result.stdout and unmerged not in result.stdout
    path.write_text(keep_theirs(merged), encoding="utf-8")
    assert "<<<<<<<" not in path.read_text(encoding="utf-8")
    git(a, "add", "-A")
    assert "0 problems" in sdesk(run, a, "18:00", "check").stderr


def keep_theirs(text: str) -> str:
    """Resolve every conflict block in favour of the other side."""
    return re.sub(r"<<<<<<< ours\n.*?=======\n(.*?)>>>>>>> theirs\n", r"\1", text, flags=re.DOTALL)


def test_a_side_that_is_no_ticket_is_a_conflict_even_when_its_lines_do_not_overlap(clones, run, shared):
    """git's line merge would merge these separate lines cleanly into a broken ticket nobody is told about."""
    a, b, ticket_id = clones.a, clones.b, shared
    path = a / "tickets" / f"{ticket_id}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("\ntitle: ", "\ntitle: [", 1), encoding="utf-8")
    commit(a, "An breaks the title by hand")
    ours = path.read_text(encoding="utf-8")
    sdesk(run, b, "10:30", "comment", ticket_id, "Bo: gezien", user=BO)
    commit(b, "Bo")
    push(b)
    theirs = (b / "tickets" / f"{ticket_id}.yaml").read_text(encoding="utf-8")

    pulled = pull(a, check=False)
    assert pulled.returncode != 0
    assert "CONFLICT" in pulled.stdout
    assert "invalid YAML" in pulled.stderr and "left to git's line merge" in pulled.stderr
    assert f"UU tickets/{ticket_id}.yaml" in status(a).splitlines()
    assert path.read_text(encoding="utf-8") == f"<<<<<<< ours\n{ours}=======\n{theirs}>>>>>>> theirs\n"
    result = run("check", env={"SDESK_DIR": str(a)})
    assert result.exit_code == 1
    assert f"{ticket_id}.yaml" in result.output


# --- sdesk git setup and sdesk init ------------------------------------------------------------


def test_git_setup_is_idempotent(clones, run):
    for _ in range(2):
        sdesk(run, clones.b, "09:00", "git", "setup")
    assert (clones.b / ".gitattributes").read_text(encoding="utf-8").splitlines().count(ATTRIBUTE_LINE) == 1
    driver = git(clones.b, "config", "merge.sdesk-ticket.driver").stdout.strip()
    assert driver.startswith("sdesk merge-ticket %O %A %B %P;")  # the sdesk on PATH, not this interpreter
    assert sys.executable not in driver
    assert "git merge-file -L ours -L base -L theirs %A %O %B" in driver
    assert status(clones.b) == ""


def test_git_setup_keeps_other_attributes(tmp_path, run, desk):
    git(tmp_path, "init", "-q", str(desk))
    (desk / ".gitattributes").write_text("*.png binary", encoding="utf-8")  # no newline at the end
    for _ in range(2):
        result = run("git", "setup")
        assert result.exit_code == 0, result.output
    assert (desk / ".gitattributes").read_text(encoding="utf-8") == (
        f"*.png binary\n{ATTRIBUTE_LINE}\ndeliveries/*.jsonl merge=union\n"  # the runner's records: both sides kept
    )
    assert "merge-ticket %O %A %B %P" in git(desk, "config", "merge.sdesk-ticket.driver").stdout


def test_git_setup_outside_a_git_repository_fails_with_one_line(run, desk):
    result = run("git", "setup")
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert str(desk) in result.output
    assert "not in a git repository" in result.output
    assert not (desk / ".gitattributes").exists()


def test_init_inside_a_git_repository_registers_the_driver(tmp_path, run):
    folder = tmp_path / "newdesk"
    git(tmp_path, "init", "-q", str(folder))
    result = run("init", str(folder))
    assert result.exit_code == 0, result.output
    assert ATTRIBUTE_LINE in (folder / ".gitattributes").read_text(encoding="utf-8").splitlines()
    assert "merge-ticket %O %A %B %P" in git(folder, "config", "merge.sdesk-ticket.driver").stdout
    assert "git init" not in result.stderr


def test_init_outside_a_git_repository_says_to_run_git_init_and_git_setup(tmp_path, run):
    folder = tmp_path / "newdesk"
    result = run("init", str(folder))
    assert result.exit_code == 0, result.output
    assert (folder / "rules.yaml").is_file()
    assert not (folder / ".gitattributes").exists()
    assert "git init" in result.stderr and "sdesk git setup" in result.stderr


# --- a merge driver that cannot run ------------------------------------------------------------


def comments_on_both_sides(run: Run, clones: Clones, ticket_id: str) -> None:
    """An (not pushed) and Bo (pushed) each add a comment at the end of the history: overlapping lines."""
    sdesk(run, clones.a, "10:30", "comment", ticket_id, "An: gezien")
    commit(clones.a, "An")
    sdesk(run, clones.b, "10:40", "comment", ticket_id, "Bo: gezien", user=BO)
    commit(clones.b, "Bo")
    push(clones.b)


def test_the_driver_keeps_working_after_the_virtualenv_it_was_registered_from_moved(
    clones, run, shared, monkeypatch, tmp_path
):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "moved-away" / "bin" / "python3"))
    sdesk(run, clones.a, "09:00", "git", "setup")  # run from a virtualenv that is gone by the time git merges
    comments_on_both_sides(run, clones, shared)
    pull(clones.a)
    assert status(clones.a) == ""
    texts = [event["text"] for event in events(shown(run, clones.a, shared), "comment")]
    assert texts == ["An: gezien", "Bo: gezien"]


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(None, id="not-on-path"),
        pytest.param("#!/moved-away/bin/python3\n", id="bad-interpreter"),
        pytest.param("#!/bin/sh\necho 'ImportError: no module named click' >&2\nexit 1\n", id="crashes"),
    ],
)
def test_a_driver_that_cannot_run_leaves_conflict_markers_with_both_sides(
    clones, run, shared, monkeypatch, tmp_path, script
):
    folder = tmp_path / "bin"
    folder.mkdir()
    if script is not None:
        (folder / "sdesk").write_text(script, encoding="utf-8")
        (folder / "sdesk").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{path_without_sdesk()}")
    comments_on_both_sides(run, clones, shared)

    pulled = pull(clones.a, check=False)
    assert pulled.returncode != 0
    assert "CONFLICT" in pulled.stdout
    assert f"UU tickets/{shared}.yaml" in status(clones.a).splitlines()
    merged = (clones.a / "tickets" / f"{shared}.yaml").read_text(encoding="utf-8")
    assert "<<<<<<< ours" in merged and "=======" in merged and ">>>>>>> theirs" in merged
    assert "An: gezien" in merged and "Bo: gezien" in merged


def driver_files(folder: Path, base: Ticket | str, ours: Ticket, theirs: Ticket) -> list[str]:
    """The three files git hands the driver: base, ours (the driver writes the result here), theirs."""
    paths = []
    for name, side in (("base", base), ("ours", ours), ("theirs", theirs)):
        path = folder / f"{name}.yaml"
        path.write_text(side if isinstance(side, str) else render(side), encoding="utf-8")
        paths.append(str(path))
    return paths


def test_an_unexpected_error_in_the_driver_falls_back_to_git_line_merge(tmp_path, run, monkeypatch):
    def broken(*sides: Ticket) -> None:
        raise RuntimeError("a bug in sdesk")

    monkeypatch.setattr(merge, "merge", broken)
    ours = changed(BASE, event("10:30", AN, text="An: gezien"))
    theirs = changed(BASE, event("10:40", BO, text="Bo: gezien"))
    base_file, ours_file, theirs_file = driver_files(tmp_path, BASE, ours, theirs)
    result = run("merge-ticket", base_file, ours_file, theirs_file, "tickets/2Q400G-30YPD.yaml")
    assert result.exit_code == 1
    assert "a bug in sdesk; left to git's line merge" in result.stderr
    merged = Path(ours_file).read_text(encoding="utf-8")
    assert "<<<<<<< ours" in merged and ">>>>>>> theirs" in merged
    assert "An: gezien" in merged and "Bo: gezien" in merged


@pytest.mark.parametrize("base", ["", "title: [\n"], ids=["no-common-version", "base-is-no-ticket"])
def test_the_driver_merges_by_meaning_when_only_the_base_is_no_ticket(tmp_path, run, base):
    ours = changed(BASE, event("10:30", AN, "updated", ("status", "open", "in-progress")), status="in-progress")
    theirs = changed(BASE, event("10:40", BO, text="Bo: gezien"))
    base_file, ours_file, theirs_file = driver_files(tmp_path, base, ours, theirs)
    result = run("merge-ticket", base_file, ours_file, theirs_file)
    assert result.exit_code == 0, result.output
    merged = read_ticket(Path(ours_file), named_after_id=False)
    assert [(event.kind, event.text) for event in merged.history] == [
        ("created", None),
        ("updated", None),
        ("comment", "Bo: gezien"),
    ]
    assert merged.status == "in-progress"


# --- sdesk check in a clone ------------------------------------------------------------------


def line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def test_check_flags_committed_events_edited_or_removed_by_hand(clones, run, shared):
    a, ticket_id = clones.a, shared
    sdesk(run, a, "10:10", "log", ticket_id, "1h", "--note", "An: analyse")
    sdesk(run, a, "10:20", "comment", ticket_id, "An: verkeerd ticket")
    commit(a, "An works")
    push(a)
    path = a / "tickets" / f"{ticket_id}.yaml"
    ticket = read_ticket(path)
    created, logged, _ = ticket.history
    path.write_text(render(replace(ticket, history=[created, replace(logged, minutes=30)])), encoding="utf-8")
    logged_line = line_of(path, f"- at: {at('10:10')}")
    edited = (
        f"a/tickets/{ticket_id}.yaml:{logged_line}:3: "
        f"history.1: a committed event was edited by hand (time entry of {AN} at {at('10:10')}): "
        f"record a correction instead (sdesk log {ticket_id} DURATION --correct 1 --note WHY)"
    )
    removed = (
        f"a/tickets/{ticket_id}.yaml:{line_of(path, 'history:')}:1: history: a committed event was removed by hand "
        f"(public comment of {AN} at {at('10:20')}): history is append-only: put it back (git diff HEAD shows it)"
    )
    result = run("check", env={"SDESK_DIR": str(a)})
    assert result.exit_code == 1
    assert edited in result.stdout.splitlines() and removed in result.stdout.splitlines()

    commit(a, "An edits the history by hand")
    assert "0 problems" in sdesk(run, a, "18:00", "check").stderr  # nothing differs from the last commit
    result = run("check", "--since", "origin/main", env={"SDESK_DIR": str(a)})  # what CI runs on a push
    assert result.exit_code == 1
    assert edited in result.stdout.splitlines()
    assert removed.replace("git diff HEAD", "git diff origin/main") in result.stdout.splitlines()

    result = run("check", "--since", "no-such-branch", env={"SDESK_DIR": str(a)})
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "no-such-branch" in result.stderr


def test_check_outside_git_or_before_the_first_commit_has_nothing_to_compare(tmp_path, run, desk, new_ticket):
    new_ticket()
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr
    git(tmp_path, "init", "-q", "--initial-branch=main", str(desk))
    result = run("check")
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if line.startswith("Warning")] == [
        "Warning: ticket files merge by line, not by sdesk's driver: run sdesk git setup and commit .gitattributes"
    ]


def test_check_warns_when_this_clones_merge_driver_is_missing_or_cannot_run(clones, run, monkeypatch, tmp_path):
    b = clones.b

    def warnings() -> list[str]:
        result = run("check", env={"SDESK_DIR": str(b)})
        assert result.exit_code == 0, result.output  # a warning, not a problem: CI clones have no driver
        return [line for line in result.stderr.splitlines() if line.startswith("Warning")]

    assert warnings() == []
    git(b, "config", "--unset", "merge.sdesk-ticket.driver")  # a fresh clone, as in CI
    assert warnings() == [
        "Warning: this clone has no merge driver for ticket files, so git merges them by line: run sdesk git setup"
    ]
    moved = tmp_path / "moved-away" / "bin" / "python3"
    git(b, "config", "merge.sdesk-ticket.driver", f"{moved} -m sdesk merge-ticket %O %A %B %P")
    assert warnings() == [
        f"Warning: this clone's merge driver runs {moved}, which no longer exists, so git would leave "
        "ticket conflicts without markers: run sdesk git setup"
    ]
    git(b, "config", "merge.sdesk-ticket.driver", f"{sys.executable} -m sdesk merge-ticket %O %A %B %P")
    assert warnings() == ["Warning: this clone's merge driver is registered in an old form: run sdesk git setup"]
    sdesk(run, b, "09:00", "git", "setup")
    assert warnings() == []
    monkeypatch.setenv("PATH", path_without_sdesk())
    assert warnings() == [
        "Warning: sdesk is not on PATH, so git cannot run the merge driver and merges ticket files by line: "
        "put sdesk on PATH"
    ]


# --- sdesk show --history ------------------------------------------------------------------


def test_show_history_names_the_commit_and_author_of_every_event(clones, run, shared):
    a, b, ticket_id = clones.a, clones.b, shared
    opened = git(a, "rev-parse", "HEAD").stdout.strip()
    sdesk(run, b, "10:30", "comment", ticket_id, "Bo: we bekijken het", user=BO)
    answered = commit(b, "Bo answers")
    push(b)
    pull(a)
    sdesk(run, a, "10:45", "comment", ticket_id, "An: nog niet gecommit")

    table = sdesk(run, a, "18:00", "show", ticket_id, "--history").stdout
    blocks: list[tuple[str, list[str]]] = []  # each commit's line, then the lines of the events it brought
    for line in table[table.index("In git (the commit that brought each event):") :].splitlines()[1:]:
        if line.startswith("      "):
            blocks[-1][1].append(line.strip())
        else:
            blocks.append((line.strip(), []))
    [(first, created), (second, commented), (last, uncommitted)] = blocks
    assert first.startswith(opened[:10]) and f"An Wouters <{AN}>  New ticket {ticket_id}" in first
    assert second.startswith(answered[:10]) and f"Bo Peeters <{BO}>  Bo answers" in second
    assert last == "not committed yet"
    assert [line.split()[-1] for line in created] == ["created"]
    assert len(commented) == 1 and commented[0].endswith(f"{BO}  public comment")
    assert len(uncommitted) == 1 and uncommitted[0].endswith(f"{AN}  public comment")

    data = shown(run, a, ticket_id, "--history")
    summary = [
        (entry["commit"], entry["author"], [event.get("text") or event["event"] for event in entry["events"]])
        for entry in data["commits"]
    ]
    assert summary == [
        (opened, "An Wouters", ["created"]),
        (answered, "Bo Peeters", ["Bo: we bekijken het"]),
        (None, None, ["An: nog niet gecommit"]),
    ]
    assert "commits" not in shown(run, a, ticket_id)


def test_show_history_of_a_ticket_never_committed_says_so(clones, run):
    ticket_id = new(run, clones.a, "10:00")
    data = shown(run, clones.a, ticket_id, "--history")
    assert [(entry["commit"], len(entry["events"])) for entry in data["commits"]] == [(None, 1)]
    table = sdesk(run, clones.a, "18:00", "show", ticket_id, "--history").stdout
    last, event_line = table.splitlines()[-2:]
    assert last == "  not committed yet"
    assert AN in event_line and event_line.endswith("created")


def test_show_history_in_a_repository_without_commits_says_not_committed_yet(tmp_path, run, desk, new_ticket):
    git(tmp_path, "init", "-q", "--initial-branch=main", str(desk))
    ticket_id = new_ticket()["id"]
    result = run("show", ticket_id, "--history")
    assert result.exit_code == 0, result.output
    assert "not committed yet" in result.stdout


def test_show_history_outside_a_git_repository_fails_with_one_line(run, desk, new_ticket):
    ticket_id = new_ticket()["id"]
    result = run("show", ticket_id, "--history")
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "not in a git repository" in result.output
    assert run("show", ticket_id).exit_code == 0  # without --history git is not needed


def test_show_history_as_csv_is_a_usage_error(run, desk, new_ticket):
    ticket_id = new_ticket()["id"]
    result = run("show", ticket_id, "--history", "--format", "csv")
    assert result.exit_code == 2
    assert "--history" in result.output


# --- derived state stays out of git ------------------------------------------------------------


def test_the_index_and_locks_are_ignored_by_git_and_rebuilt_the_same(clones, run):
    a = clones.a
    for n in range(3):
        new(run, a, f"10:0{n}", "--title", f"Ticket {n}")
    commit(a, "three tickets")
    before = sdesk(run, a, "12:00", "list", "--all", "--format", "json").stdout
    sdesk(run, a, "12:00", "queue")
    assert (a / ".sdesk" / "cache" / "index.sqlite3").is_file()
    assert status(a) == ""
    assert git(a, "check-ignore", ".sdesk/cache/index.sqlite3").returncode == 0

    shutil.rmtree(a / ".sdesk")
    assert sdesk(run, a, "12:00", "list", "--all", "--format", "json").stdout == before
    assert status(a) == ""


# --- sdesk.storage.merge on hand-built tickets -----------------------------------------------------


def moment(clock: str) -> datetime:
    return datetime.fromisoformat(at(clock))


def event(clock: str, by: str, kind: str = "comment", *changes: tuple[str, str | None, str | None], text=None):
    return Event(
        moment(clock),
        by,
        kind,
        tuple(Change(*change) for change in changes),
        visibility="public" if kind == "comment" else None,
        text=text,
    )


BASE = Ticket(
    id="2Q400G-30YPD",
    title="Zorgdossier opent niet",
    type="incident",
    status="open",
    priority="P3",
    customer="zonnebloem",
    requester="els.vermeulen@zonnebloem.example",
    team="servicedesk",
    created=moment("10:00"),
    history=[event("10:00", AN, "created")],
)


def changed(ticket: Ticket, *added: Event, **values: Any) -> Ticket:
    return replace(ticket, history=[*ticket.history, *added], **values)


def test_histories_keep_shared_events_once_and_interleave_the_rest_by_time():
    shared = [event("10:00", AN, "created"), event("10:05", AN, text="gedeeld")]
    ours = [*shared, event("10:10", AN, text="a1"), event("10:30", AN, text="a2")]
    theirs = [*shared, event("10:20", BO, text="b1"), event("10:40", BO, text="b2")]
    assert [e.text for e in merge.histories(shared, ours, theirs)] == [None, "gedeeld", "a1", "b1", "a2", "b2"]
    assert merge.histories(shared, ours, theirs) == merge.histories(shared, theirs, ours)


def test_histories_keep_an_event_both_sides_got_from_a_third_clone_once():
    third = event("10:15", "cy@caresolutions.example", text="c")
    ours = [event("10:00", AN, "created"), event("10:10", AN, text="a"), third]
    theirs = [event("10:00", AN, "created"), third, event("10:20", BO, text="b")]
    assert [e.text for e in merge.histories(ours[:1], ours, theirs)] == [None, "a", "c", "b"]


def test_an_events_identity_is_when_who_what_and_its_place_among_events_alike():
    twice = [event("10:00", AN, "created"), event("10:10", AN, text="een"), event("10:10", AN, text="twee")]
    assert list(merge.identities(twice)) == [
        (moment("10:00"), AN, "created", 0),
        (moment("10:10"), AN, "comment", 0),
        (moment("10:10"), AN, "comment", 1),
    ]
    edited = [twice[0], replace(twice[1], text="een, verbeterd"), twice[2]]
    assert list(merge.identities(edited)) == list(merge.identities(twice))  # an edit keeps the identity


def test_merge_takes_one_sided_changes_and_the_latest_event_for_a_field_both_changed():
    ours = changed(
        BASE,
        event("10:30", AN, "updated", ("status", "open", "in-progress")),
        event("10:35", AN, "updated", ("category", None, "application")),
        status="in-progress",
        category="application",
    )
    theirs = changed(
        BASE,
        event("10:20", BO, "updated", ("assignee", None, BO)),
        event("10:40", BO, "updated", ("status", "open", "on-hold")),
        status="on-hold",
        assignee=BO,
    )
    result, decisions = merge.merge(BASE, ours, theirs)
    assert (result.status, result.category, result.assignee) == ("on-hold", "application", BO)
    assert [(e.at, e.by, e.kind) for e in result.history] == [
        (moment("10:00"), AN, "created"),
        (moment("10:20"), BO, "updated"),
        (moment("10:30"), AN, "updated"),
        (moment("10:35"), AN, "updated"),
        (moment("10:40"), BO, "updated"),
        (moment("10:40"), merge.MERGER, "merged"),
    ]
    assert decisions == [result.history[-1]]
    [decision] = decisions
    assert decision.visibility == "internal"
    assert decision.changes == (Change("status", "in-progress", "on-hold"),)
    assert "kept status 'on-hold'" in decision.text and "over 'in-progress'" in decision.text
    swapped, _ = merge.merge(BASE, theirs, ours)
    assert swapped == result


def test_merge_of_same_moment_edits_is_the_same_whichever_side_merges():
    ours = changed(BASE, event("11:00", AN, "updated", ("assignee", None, AN)), assignee=AN)
    theirs = changed(BASE, event("11:00", BO, "updated", ("assignee", None, BO)), assignee=BO)
    first, _ = merge.merge(BASE, ours, theirs)
    second, _ = merge.merge(BASE, theirs, ours)
    assert first == second
    assert first.assignee in (AN, BO)
    assert [e.kind for e in first.history].count("merged") == 1
    again, _ = merge.merge(ours, first, second)  # each clone merged, then they merge each other
    assert again == first
    assert [e.kind for e in again.history].count("merged") == 1


def test_merge_with_nothing_new_on_one_side_is_the_other_side():
    theirs = changed(BASE, event("10:30", BO, text="b"))
    assert merge.merge(BASE, BASE, theirs) == (theirs, [])
    assert merge.merge(BASE, theirs, BASE) == (theirs, [])


def test_merge_refuses_what_time_cannot_decide():
    with pytest.raises(merge.Undecidable, match="title"):
        merge.merge(BASE, replace(BASE, title="traag"), replace(BASE, title="nooit"))
    with pytest.raises(merge.Undecidable, match="id"):
        merge.merge(BASE, BASE, replace(BASE, id="2Q400G-AAAAA"))


def time_entry(clock: str, by: str, minutes: int) -> Event:
    return Event(moment(clock), by, "time", on=moment(clock).date(), minutes=minutes, billing="covered", text="Werk")


LOGGED = changed(BASE, time_entry("10:10", AN, 60), event("10:20", AN, text="Verkeerd ticket"))
CORRECTED = replace(LOGGED, history=[LOGGED.history[0], time_entry("10:10", AN, 30), LOGGED.history[2]])
REMOVED = replace(LOGGED, history=LOGGED.history[:2])


@pytest.mark.parametrize("edited", [CORRECTED, REMOVED], ids=["corrected", "removed"])
def test_an_event_one_side_corrected_or_removed_stays_so_beside_the_other_sides_new_work(edited):
    theirs = changed(LOGGED, event("10:30", BO, text="Bo: gezien"))
    result, decisions = merge.merge(LOGGED, edited, theirs)
    assert result.history == [*edited.history, theirs.history[-1]]
    assert decisions == []
    assert merge.merge(LOGGED, theirs, edited)[0] == result


def test_an_event_both_sides_changed_differently_is_undecidable_and_the_same_change_is_kept_once():
    created, _, remark = LOGGED.history
    other_correction = replace(LOGGED, history=[created, time_entry("10:10", AN, 45), remark])
    entry_removed = replace(LOGGED, history=[created, remark])
    for ours, theirs in ((CORRECTED, other_correction), (CORRECTED, entry_removed), (entry_removed, CORRECTED)):
        with pytest.raises(merge.Undecidable, match=re.escape(f"time event of {AN} at {at('10:10')}")):
            merge.merge(LOGGED, ours, theirs)
    for both in (CORRECTED, REMOVED, entry_removed):
        assert merge.merge(LOGGED, both, both) == (both, [])
    assert merge.merge(LOGGED, CORRECTED, REMOVED)[0].history == [created, CORRECTED.history[1]]  # two different events


def test_an_event_added_on_both_sides_is_kept_once_and_two_different_ones_alike_are_undecidable():
    same = changed(BASE, event("10:30", AN, text="Zelfde"))
    assert merge.merge(BASE, same, same) == (same, [])
    with pytest.raises(merge.Undecidable, match=re.escape(f"comment event of {AN} at {at('10:30')}")):
        merge.merge(BASE, same, changed(BASE, event("10:30", AN, text="Anders")))


def test_a_field_set_and_cleared_on_one_side_takes_the_later_clear_over_the_other_sides_value():
    ours = changed(
        BASE,
        event("10:10", AN, "updated", ("assignee", None, AN)),
        event("10:40", AN, "updated", ("assignee", AN, None)),  # back to nobody, as in the base
    )
    theirs = changed(BASE, event("10:20", BO, "updated", ("assignee", None, BO)), assignee=BO)
    result, [decision] = merge.merge(BASE, ours, theirs)
    assert result.assignee is None
    assert decision.changes == (Change("assignee", BO, None),)
    assert "kept assignee (none)" in decision.text and f"over '{BO}'" in decision.text
    assert merge.merge(BASE, theirs, ours)[0] == result
    later = changed(BASE, event("10:50", BO, "updated", ("assignee", None, BO)), assignee=BO)
    assert merge.merge(BASE, ours, later)[0].assignee == BO  # the set is later than the clear


def test_without_a_common_version_a_field_goes_to_the_side_whose_event_changed_it():
    ours = changed(BASE, event("10:30", AN, "updated", ("status", "open", "in-progress")), status="in-progress")
    theirs = changed(BASE, event("10:40", BO, text="Bo: gezien"))
    for first, second in ((ours, theirs), (theirs, ours)):
        result, decisions = merge.merge(None, first, second)
        assert result.status == "in-progress"
        assert [e.text or e.kind for e in result.history] == ["created", "updated", "Bo: gezien"]
        assert decisions == []
    with pytest.raises(merge.Undecidable, match="title"):
        merge.merge(None, replace(BASE, title="traag"), replace(BASE, title="nooit"))


# --- what an attacker or a careless merge tried (issue 15's review) ---------------------------------------


def test_each_clone_removing_one_of_two_alike_events_removes_both():
    """Two comments in the same second: An removes the first, Bo the second; neither may come back."""
    first, second = event("10:30", AN, text="eerste"), event("10:30", AN, text="tweede")
    base = changed(BASE, first, second)
    merged, _ = merge.merge(base, changed(BASE, second), changed(BASE, first))
    assert [e.text for e in merged.history] == [None]


def test_a_field_both_sides_edited_by_hand_is_undecidable_even_when_an_old_event_set_it():
    base = changed(BASE, event("10:10", AN, "updated", ("status", "open", "on-hold")), status="on-hold")
    with pytest.raises(merge.Undecidable, match="both sides changed status, at least one without a recorded event"):
        merge.merge(base, replace(base, status="in-progress"), replace(base, status="open"))


def test_a_move_to_another_customer_and_a_message_to_the_old_one_cannot_be_merged_silently():
    moved = changed(BASE, event("10:10", AN, "updated", ("customer", "zonnebloem", "vandijk")), customer="vandijk")
    spoke = changed(BASE, event("10:30", BO, text="Beste Els, we bekijken het dossier"))
    for ours, theirs in ((moved, spoke), (spoke, moved)):
        with pytest.raises(merge.Undecidable, match="moved the ticket to another customer"):
            merge.merge(BASE, ours, theirs)
    internal = changed(BASE, replace(event("10:30", BO, text="intern"), visibility="internal"))
    assert merge.merge(BASE, moved, internal)[0].customer == "vandijk"  # a note for the desk is no message


def test_one_event_changed_on_two_lines_is_a_conflict_although_the_lines_merge(tmp_path, run):
    entry = Event(moment("10:30"), AN, "time", on=moment("10:30").date(), minutes=60, billing="covered", text="Analyse")
    base = changed(BASE, entry)
    ours = changed(BASE, replace(entry, text="Analyse van de koppeling"))
    theirs = changed(BASE, replace(entry, minutes=90))
    base_file, ours_file, theirs_file = driver_files(tmp_path, base, ours, theirs)
    result = run("merge-ticket", base_file, ours_file, theirs_file)
    assert result.exit_code == 1
    assert "left to git's line merge, as a conflict" in result.stderr
    assert "<<<<<<< ours" in Path(ours_file).read_text(encoding="utf-8")


def test_a_line_merge_that_makes_no_valid_ticket_is_a_conflict(tmp_path, run):
    """Hand-written comments send the merge to git; two url lines that merge cleanly make a key twice."""
    ours = render(changed(BASE, url="https://b.example/")).replace("\ntype: ", "\n# gezien\ntype: ")
    theirs_ticket = changed(BASE, event("10:30", BO, "updated", ("url", None, "https://a.example/")))
    theirs = (
        render(theirs_ticket)
        .replace("\ntitle: ", "\nurl: https://a.example/\ntitle: ")
        .replace("\nurl: https://a.example/\nrequester", "\nrequester")
    )
    base_file, ours_file, theirs_file = driver_files(tmp_path, BASE, BASE, BASE)
    Path(ours_file).write_text(ours, encoding="utf-8")
    Path(theirs_file).write_text(theirs, encoding="utf-8")
    result = run("merge-ticket", base_file, ours_file, theirs_file)
    assert result.exit_code == 1, Path(ours_file).read_text(encoding="utf-8")
    assert "<<<<<<< ours" in Path(ours_file).read_text(encoding="utf-8")


def test_check_flags_a_deleted_ticket_a_planted_clone_file_and_an_empty_since(clones, run, shared):
    a = clones.a
    (a / ".sdesk" / "cache").mkdir(parents=True, exist_ok=True)
    (a / ".sdesk" / "cache" / "index.sqlite3").write_bytes(b"")
    git(a, "add", "-f", ".sdesk/cache/index.sqlite3")
    git(a, "rm", "-q", f"tickets/{shared}.yaml")
    result = run("check", env={"SDESK_DIR": str(a)})
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(f"{shared}.yaml: a committed ticket was deleted: history is append-only" in line for line in lines)
    assert any(".sdesk/cache/index.sqlite3: is committed to git, but belongs to one clone" in line for line in lines)
    empty = run("check", "--since", "", env={"SDESK_DIR": str(a)})
    assert empty.exit_code == 1 and "--since needs a commit" in empty.stderr


def test_a_merge_strategy_that_keeps_one_side_draws_a_warning(clones, run):
    (clones.b / ".gitattributes").write_text("tickets/*.yaml merge=binary\n", encoding="utf-8")
    result = run("check", env={"SDESK_DIR": str(clones.b)})
    assert "Warning: ticket files merge with git's 'binary' strategy, not by sdesk's driver" in result.stderr


def test_git_setup_never_writes_through_a_linked_gitattributes(tmp_path, run, desk):
    git(tmp_path, "init", "-q", "--initial-branch=main", str(desk))
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("mine\n", encoding="utf-8")
    (desk / ".gitattributes").symlink_to(outside)
    result = run("git", "setup")
    assert result.exit_code == 1 and "symbolic link that leads outside the desk" in result.stderr
    assert outside.read_text(encoding="utf-8") == "mine\n"


def test_show_history_reads_an_author_name_with_odd_characters(clones, run, shared):
    b = clones.b
    sdesk(run, b, "10:30", "comment", shared, "Bo: gezien", user=BO)
    git(b, "add", "-A")
    git(b, "-c", "user.name=Evil\x1fnot-an-email\x1fnot-a-date", "commit", "-q", "-m", "odd author")
    history = shown(run, b, shared, "--history")
    assert history["commits"][-1]["author"] == "Evil\x1fnot-an-email\x1fnot-a-date"


def test_check_changed_reads_only_what_git_sees_changed_for_a_pre_commit_hook(clones, run):
    first, second = new(run, clones.a, "10:00"), new(run, clones.a, "10:01")
    commit(clones.a, "Two tickets")
    committed_bad = clones.a / "tickets" / f"{second}.yaml"
    committed_bad.write_text(committed_bad.read_text(encoding="utf-8") + "title: [\n", encoding="utf-8")
    commit(clones.a, "A broken ticket, committed")
    quick = run("check", "--changed", env={"SDESK_DIR": str(clones.a)})
    assert quick.exit_code == 0 and "0 ticket files checked" in quick.output  # nothing changed since HEAD
    sdesk(run, clones.a, "10:05", "comment", first, "Gebeld")  # changed, not committed
    quick = run("check", "--changed", env={"SDESK_DIR": str(clones.a)})
    assert quick.exit_code == 0 and "1 ticket file checked" in quick.output
    since = run("check", "--changed", "--since", "HEAD~1", env={"SDESK_DIR": str(clones.a)})
    assert since.exit_code == 1 and f"{second}.yaml" in since.output  # the broken one changed since then
    full = run("check", env={"SDESK_DIR": str(clones.a)})
    assert full.exit_code == 1 and "2 ticket files checked" in full.output


def test_check_changed_reads_every_ticket_when_rules_yaml_changed(clones, run):
    new(run, clones.a, "10:00")
    new(run, clones.a, "10:01")
    commit(clones.a, "Two tickets")
    rules = clones.a / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    changed = run("check", "--changed", env={"SDESK_DIR": str(clones.a)})
    assert changed.exit_code == 0 and "2 ticket files checked" in changed.output


def test_the_pre_commit_hooks_run_as_pre_commit_runs_them_on_a_desk_in_a_subfolder(tmp_path, run):
    """Each hook of .pre-commit-hooks.yaml, as pre-commit runs it: its entry and a desk's args, from the
    repository's root, when a staged file matches its `files`; a broken announcement stops the commit."""
    listed = REPO / ".pre-commit-hooks.yaml"
    hooks = {hook["id"]: hook for hook in yamlio.load(listed.read_text(encoding="utf-8"), listed)}
    repo = tmp_path / "repo"
    desk = repo / "desk"
    (desk / "tickets").mkdir(parents=True)
    (desk / "rules.yaml").write_text(example_rules_text(), encoding="utf-8")
    git(repo, "init", "-q")
    (desk / "announcements").mkdir()
    (desk / "announcements" / "2Q400G-AAAAA.yaml").write_text("title: [\n", encoding="utf-8")
    git(repo, "add", "-A")
    staged = git(repo, "diff", "--cached", "--name-only").stdout.split()
    outcomes = {}
    for hook_id, hook in hooks.items():
        matched = [name for name in staged if re.search(hook["files"], name)]
        assert matched, (hook_id, staged)
        entry = hook["entry"].split()[1:]  # after the program: the installed sdesk
        outcomes[hook_id] = run(*entry, "--desk", str(desk), env={"SDESK_DIR": ""})
    assert outcomes["sdesk-rules-check"].exit_code == 0, outcomes["sdesk-rules-check"].output
    assert (
        outcomes["sdesk-check"].exit_code == 1 and "announcements/2Q400G-AAAAA.yaml" in outcomes["sdesk-check"].output
    )
    for name in ("desk/templates/html/base.html", "desk/schemas/ticket.schema.json", "desk/tickets/2Q400G-AAAAA.yaml"):
        assert re.search(hooks["sdesk-check"]["files"], name), name


@needs_git_checkout
def test_pre_commit_installs_and_runs_the_hooks_of_this_repository(tmp_path):
    """The README's pre-commit set-up, for real: pre-commit installs sdesk from this repository (at its last
    commit) and runs both hooks on a desk in a subfolder; a broken announcement stops the commit."""
    repo = tmp_path / "repo"
    (repo / "desk" / "tickets").mkdir(parents=True)
    head = git(REPO, "rev-parse", "HEAD").stdout.strip()
    committed = git(REPO, "show", f"{head}:rules.yaml").stdout  # the example desk of the sdesk that installs
    (repo / "desk" / "rules.yaml").write_text(committed, encoding="utf-8")
    git(repo, "init", "-q")
    hooks = "\n".join(
        f"      - id: {hook}\n        args: [--desk, desk]" for hook in ("sdesk-rules-check", "sdesk-check")
    )
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {head}\n    hooks:\n{hooks}\n", encoding="utf-8"
    )
    pre_commit = [str(Path(sys.executable).parent / "pre-commit"), "run"]
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    git(repo, "add", ".pre-commit-config.yaml", "desk/rules.yaml")
    passed = subprocess.run(pre_commit, cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"sdesk rules check\.+Passed", passed.stdout) and re.search(r"sdesk check\.+Passed", passed.stdout)
    (repo / "desk" / "announcements").mkdir()
    (repo / "desk" / "announcements" / "2Q400G-AAAAA.yaml").write_text("title: [\n", encoding="utf-8")
    git(repo, "add", "desk/announcements")
    failed = subprocess.run(pre_commit, cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert failed.returncode == 1 and "desk/announcements/2Q400G-AAAAA.yaml:2:1: invalid YAML" in failed.stdout


def readme_workflow() -> dict[str, Any]:
    """The README's CI workflow, as a desk team copies it."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(block for block in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL) if "jobs:" in block)
    workflow: dict[str, Any] = yaml.safe_load(block)
    return workflow


def run_workflow_steps(steps: list[dict[str, Any]], clone: Path, event: str) -> list[subprocess.CompletedProcess[str]]:
    """The `run:` steps GitHub would run for ``event`` (a pull request into main), in ``clone``; the install step
    is already done (this virtualenv's sdesk is on PATH)."""
    done = []
    for step in steps:
        if "run" not in step or step["run"].startswith("pip install"):
            continue
        if "if" in step and step["if"] != f"github.event_name == '{event}'":
            continue
        command = step["run"].replace("${{ github.base_ref }}", "main")
        done.append(subprocess.run(["bash", "-c", command], cwd=clone, capture_output=True, text=True, check=False))
    return done


def test_the_readmes_ci_workflow_passes_a_clean_push_and_annotates_a_hand_edit_in_a_pull_request(clones, shared):
    """The README's workflow, validated and emulated: it installs this release, and its steps pass on a clean push
    and point a pull request that edits a committed event at the file and line."""
    from packaging.requirements import Requirement

    import sdesk as package

    workflow = readme_workflow()
    assert set(workflow[True] if True in workflow else workflow["on"]) == {"push", "pull_request"}  # YAML 1.1: on
    steps = workflow["jobs"]["check"]["steps"]
    assert steps[0] == {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}}  # --since needs the history
    install = Requirement(next(step["run"] for step in steps if "pip install" in step.get("run", "")).split('"')[1])
    assert install.name == "sdesk" and install.url and install.url.endswith(f"@v{package.__version__}")

    a = clones.a
    assert all(done.returncode == 0 for done in run_workflow_steps(steps, a, "push"))

    git(a, "switch", "-q", "-c", "fix")
    path = a / "tickets" / f"{shared}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(f"by: {AN}", f"by: {BO}", 1), encoding="utf-8")
    commit(a, "An rewrites who opened the ticket")
    done = run_workflow_steps(steps, a, "pull_request")
    assert [result.returncode for result in done] == [0, 1]  # rules check passes, the ticket check fails
    annotation = re.fullmatch(rf"::error file=tickets/{shared}\.yaml,line=(\d+),col=1::history(.*)\n", done[1].stdout)
    assert annotation and "a committed event was removed by hand" in annotation[2], done[1].stdout
    assert path.read_text(encoding="utf-8").splitlines()[int(annotation[1]) - 1] == "history:"
