"""The live portal's commits in the runner's clone: the next cycle pushes them, and a cycle that drops the
unpushed commits of an interrupted one never drops the portal's.

Real git as in tests/test_runner.py (its origin, clones and helpers): the portal's change is made as the
portal makes it, through the store under the runner's lock, committed at once (`sdesk portal: …`) and not
pushed. The cycles run in-process, without --smtp (no mail is sent); one is a real process, killed.
"""

from __future__ import annotations

import json
import signal
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

from sdesk.actions import cycle, record, workflow
from sdesk.storage import attachments, store, sync
from tests import test_runner
from tests.test_runner import (
    BO,
    ELS,
    MON,
    SDESK,
    WED,
    Desk,
    assert_clean,
    git,
    head,
    hook,
    moment,
    pull,
    runner_env,
    settle,
    share,
    step,
    waiting_tickets,
)

# test_runner's fixtures: a bare origin, three agents' clones and the runner's; git kept out of the user's way.
desk = test_runner.desk
outside_any_repository = test_runner.outside_any_repository


def run_cycle(desk: Desk, when: str, status: int = 0) -> list[str]:
    """`sdesk run` in the runner's clone: its lines, the error last when it fails."""
    result = desk.run("run", env={"SDESK_DIR": str(desk.server), "SDESK_NOW": when})
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output
    return result.output.splitlines()


def portal_comment(clone: Path, ticket_id: str, text: str, when: str) -> str:
    """What the portal does with a customer's comment: the store under the runner's lock, a commit at once."""
    found = store.Desk(clone)
    now = datetime.fromisoformat(when)
    with cycle.exclusive(found):
        record.change(
            found, ticket_id, lambda ticket: workflow.comment(ticket, found.rules, text, ELS, now, from_customer=True)
        )
        sha = sync.commit(clone, ("tickets", "attachments"), f"sdesk portal: comment on {ticket_id}")
    assert sha is not None
    return sha


def interrupted_cycle(desk: Desk, when: str) -> list[str]:
    """A cycle that sweeps and commits, then cannot push (the network is down): its commits stay unpushed."""
    hook(desk.server, "pre-push", "exit 1\n")
    lines = run_cycle(desk, when, status=1)
    assert lines[-1].startswith("Error: the cycle stopped at push: git push failed"), lines
    (desk.server / ".git" / "hooks" / "pre-push").unlink()
    return lines


def shown(desk: Desk, clone: Path, ticket_id: str) -> dict[str, Any]:
    ticket: dict[str, Any] = json.loads(desk.sdesk(clone, moment(WED, "18:00"), "show", ticket_id, "--format", "json"))
    return ticket


def customer_comments(desk: Desk, clone: Path, ticket_id: str) -> list[str]:
    history = shown(desk, clone, ticket_id)["history"]
    return [event["text"] for event in history if event["event"] == "comment" and event["by"] == ELS]


def subjects(clone: Path, ref: str = "origin/main") -> list[str]:
    """The commits' subjects, newest first, along the first parents (the clone's own line of history)."""
    git(clone, "fetch", "-q", "origin")
    return git(clone, "log", "--first-parent", "--format=%s", ref).stdout.splitlines()


def test_a_portal_commit_between_cycles_is_pushed_by_the_next_cycle_as_it_is(desk):
    (ticket_id,) = waiting_tickets(desk, 1)
    run_cycle(desk, moment(MON, "10:00"))
    sha = portal_comment(desk.server, ticket_id, "Het werkt weer, dank u.", moment(MON, "10:02"))

    lines = run_cycle(desk, moment(MON, "10:05"))
    assert step(lines, "pull") == "pull: origin/main: nothing new"
    assert step(lines, "push") == "push: pushed to origin/main"
    assert head(desk.server, "origin/main") == sha  # the portal's own commit, not a copy
    pull(desk.b)
    assert customer_comments(desk, desk.b, ticket_id) == ["Het werkt weer, dank u."]
    assert shown(desk, desk.b, ticket_id)["status"] != "waiting-for-customer"  # the ball is back with the desk
    assert_clean(desk.server)


def test_an_interrupted_cycles_sweep_is_dropped_and_redone_and_the_portals_comment_after_it_kept(desk):
    answered, other = waiting_tickets(desk, 2)
    swept = interrupted_cycle(desk, moment(WED, "10:00"))
    assert "2 reminders on 2 tickets" in step(swept, "sweep"), swept
    # The customer answers on the portal on the ticket the unpushed sweep had just reminded them of.
    portal_comment(desk.server, answered, "Ik was afwezig; het probleem is er nog.", moment(WED, "10:02"))

    lines = run_cycle(desk, moment(WED, "10:05"))
    assert step(lines, "pull") == (
        "pull: origin/main: nothing new "
        "(dropped 1 unpushed commit of an interrupted cycle: redone below; kept 1 portal change)"
    )
    assert step(lines, "sweep").startswith("sweep: 1 reminder on 1 ticket, committed ")  # answered: none owed
    assert step(lines, "push") == "push: pushed to origin/main"
    assert_clean(desk.server)
    pull(desk.b)
    assert customer_comments(desk, desk.b, answered) == ["Ik was afwezig; het probleem is er nog."]
    assert desk.history(desk.b, answered).count("reminder") == 0  # the dropped sweep's, never pushed nor mailed
    assert desk.history(desk.b, other).count("reminder") == 1
    shared = subjects(desk.b)
    assert shared.count(f"sdesk portal: comment on {answered}") == 1
    assert [subject for subject in shared if subject.startswith("sdesk sweep")] == [
        "sdesk sweep: 1 reminder on 1 ticket"
    ]


def test_portal_commits_before_and_after_an_interrupted_cycles_merge_are_kept_with_what_came_since(desk):
    answered, other = waiting_tickets(desk, 2)
    run_cycle(desk, moment(MON, "10:00"))
    portal_comment(desk.server, answered, "Graag vandaag nog.", moment(WED, "09:20"))
    pull(desk.b)
    desk.sdesk(desk.b, moment(WED, "09:30"), "comment", answered, "Wij kijken mee.", user=BO)
    share(desk.b, "A comment")
    interrupted_cycle(desk, moment(WED, "10:00"))  # merged Bo's comment into the portal's, swept, never pushed
    assert subjects(desk.server, "HEAD")[:3] == [
        "sdesk sweep: 1 reminder on 1 ticket",
        "sdesk run: merge origin/main",
        f"sdesk portal: comment on {answered}",
    ]
    portal_comment(desk.server, answered, "Nog steeds stuk.", moment(WED, "10:02"))
    desk.sdesk(desk.b, moment(WED, "10:03"), "comment", answered, "Morgen om 9u.", user=BO)
    share(desk.b, "Another comment")  # the shared branch moved on since

    lines = run_cycle(desk, moment(WED, "10:05"))
    assert step(lines, "pull") == (
        "pull: origin/main: nothing new "  # the portal's commits were put back on it as it is now
        "(dropped 2 unpushed commits of an interrupted cycle: redone below; kept 2 portal changes)"
    )
    assert step(lines, "sweep").startswith("sweep: 1 reminder on 1 ticket, committed ")
    assert_clean(desk.server)
    pull(desk.c)
    history = shown(desk, desk.c, answered)["history"]
    assert [event["text"] for event in history if event["event"] == "comment"] == [
        "Graag vandaag nog.",
        "Wij kijken mee.",
        "Nog steeds stuk.",
        "Morgen om 9u.",
    ]
    assert desk.history(desk.c, other).count("reminder") == 1


def test_a_commit_of_another_author_still_stops_the_cycle_and_nothing_is_dropped(desk):
    (ticket_id,) = waiting_tickets(desk, 1)
    run_cycle(desk, moment(MON, "10:00"))
    portal_comment(desk.server, ticket_id, "Nog nieuws?", moment(MON, "10:01"))
    notes = desk.server / "NOTES"
    notes.write_text("a person's work\n", encoding="utf-8")
    git(desk.server, "add", "NOTES")
    git(desk.server, "-c", "user.email=someone@caresolutions.example", "commit", "-q", "-m", "Notes")
    before = head(desk.server)

    lines = run_cycle(desk, moment(MON, "10:05"), status=1)
    assert "this clone has 1 commit(s) that are not the runner's and not on origin/main" in lines[-1], lines
    assert head(desk.server) == before
    assert subjects(desk.server, "HEAD")[:2] == ["Notes", f"sdesk portal: comment on {ticket_id}"]


def test_a_portal_commit_that_does_not_apply_leaves_the_clone_as_it_was_and_is_named(desk):
    (ticket_id,) = waiting_tickets(desk, 1)
    interrupted_cycle(desk, moment(WED, "10:00"))
    sha = portal_comment(desk.server, ticket_id, "Het probleem is er nog.", moment(WED, "10:02"))
    pull(desk.b)  # Bo breaks the ticket file by hand upstream: the driver cannot merge the portal's comment into it
    path = desk.b / "tickets" / f"{ticket_id}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("history:", "history: [broken", 1), encoding="utf-8")
    share(desk.b, "Broken by hand")

    lines = run_cycle(desk, moment(WED, "10:05"), status=1)
    assert lines[-1] == (
        f"Error: the cycle stopped at pull: the portal's commit {sha[:10]} 'sdesk portal: comment on {ticket_id}' "
        f"does not apply on origin/main (conflict in tickets/{ticket_id}.yaml): the clone is as it was, nothing "
        "dropped; merge origin/main here by hand (git merge origin/main), settle it and push; "
        "the next cycle starts over"
    )
    assert head(desk.server) == sha
    assert subjects(desk.server, "HEAD")[1].startswith("sdesk sweep: 1 reminder")
    assert_clean(desk.server, synced=False)
    assert git(desk.server, "worktree", "list", "--porcelain").stdout.count("worktree ") == 1


def test_a_cycle_killed_while_it_puts_the_portals_commits_back_loses_none(desk, tmp_path):
    answered, other = waiting_tickets(desk, 2)
    interrupted_cycle(desk, moment(WED, "10:00"))
    portal_comment(desk.server, answered, "Eerste antwoord.", moment(WED, "10:01"))
    last = portal_comment(desk.server, other, "Tweede antwoord.", moment(WED, "10:02"))
    pidfile = tmp_path / "runner.pid"
    hook(
        desk.server,
        "post-commit",
        f'case "$(git log -1 --format=%s)" in "sdesk portal:"*) kill -9 "$(cat {pidfile})";; esac\n',
    )
    process = subprocess.Popen(
        [SDESK, "run"],
        cwd=desk.server,
        env=runner_env(moment(WED, "10:04")),
        text=True,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pidfile.write_text(str(process.pid))
    out, err = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, out + err  # killed after the first was put back, not the second
    settle(process.pid)
    (desk.server / ".git" / "hooks" / "post-commit").unlink()
    assert head(desk.server) == last  # the clone is as the killed cycle found it

    lines = run_cycle(desk, moment(WED, "10:05"))
    assert "prepare: removed the work tree where a killed cycle was putting the portal's commits back" in lines
    assert "kept 2 portal changes" in step(lines, "pull"), lines
    assert_clean(desk.server)
    assert git(desk.server, "worktree", "list", "--porcelain").stdout.count("worktree ") == 1
    pull(desk.b)
    assert customer_comments(desk, desk.b, answered) == ["Eerste antwoord."]
    assert customer_comments(desk, desk.b, other) == ["Tweede antwoord."]


def test_a_portal_change_killed_before_its_commit_is_put_back_whole_before_the_cycle_mails(desk):
    """`sdesk serve` killed between staging a new ticket and committing it (the customer never heard it was
    saved). Before, the cycle unstaged the ticket and its file but left them in the clone: it owed the
    ticket's confirmation, the next portal change committed it, or the cycle after that threw it away."""
    run_cycle(desk, moment(MON, "10:00"))
    orphan = desk.new(desk.server, moment(MON, "10:01"))
    attachments.keep(desk.server, orphan, [("screen.png", b"\x89PNG a screenshot")], 2**20)
    git(desk.server, "add", "tickets", "attachments")

    lines = run_cycle(desk, moment(MON, "10:05"))
    assert "prepare: put back 2 file(s) a killed cycle or portal left half-done" in lines
    assert_clean(desk.server)
    assert not (desk.server / "tickets" / f"{orphan}.yaml").exists()
    assert not (desk.server / "attachments" / orphan).exists()
    assert [item for item in desk.mail(desk.server) if item["ticket_id"] == orphan] == []
