"""The mail history owes, the delivery records and the sweep's identical events: the pure parts of issue 17."""

from __future__ import annotations

import copy
from pathlib import Path

import msgspec
import pytest

from sdesk.actions import workflow
from sdesk.clocks import sweep
from sdesk.formats import yamlio
from sdesk.mail import owed, records
from sdesk.mail.records import Record
from sdesk.policy import rules
from sdesk.storage import merge
from tests.conftest import REPO
from tests.test_sla import AGENT, at, close, make, move, say

BO = "bo.peeters@caresolutions.example"


@pytest.fixture(scope="module")
def example_rules() -> rules.Rules:
    return rules.parse(yamlio.load((REPO / "rules.yaml").read_text(encoding="utf-8"), REPO / "rules.yaml"))


def kinds(letters: list) -> list[tuple[str, str]]:
    return [(letter.kind, letter.to[0].addr_spec) for letter in letters]


def test_a_history_owes_each_mail_once_composed_from_the_ticket_as_it_stood_then(example_rules) -> None:
    ticket = make(example_rules, "2026-11-23 09:00", "P3")
    move(ticket, example_rules, "waiting-for-customer", "2026-11-23 10:00")
    say(ticket, example_rules, "2026-11-23 11:00", by=ticket.requester, from_customer=True)
    close(ticket, example_rules, "2026-11-24 09:00")
    letters = owed.letters(ticket, example_rules)
    requester = ticket.requester
    assert kinds(letters) == [
        ("created", requester),
        ("info-requested", requester),
        ("closed", requester),
        ("survey", requester),
    ]
    info = letters[1]
    # composed from the ticket just after its event: still waiting then, though closed now
    assert info.values["ticket"]["status"] == "waiting-for-customer"
    assert letters[2].values["ticket"]["status"] == "closed"


def test_mail_identity_follows_the_event_not_its_place_in_the_history(example_rules) -> None:
    ticket = make(example_rules, "2026-11-23 09:00", "P3")
    say(ticket, example_rules, "2026-11-23 10:00")
    keys = {letter.kind: letter for letter in owed.letters(ticket, example_rules)}
    # another clone's internal note merged in before the comment shifts its place, not its identity
    note = workflow.comment(ticket, example_rules, "Intern.", BO, at("2026-11-23 09:30"), internal=True)
    shifted = msgspec.structs.replace(ticket, history=[ticket.history[0], note, ticket.history[1]])
    again = {letter.kind: letter for letter in owed.letters(shifted, example_rules)}
    assert again["comment"].message_id == keys["comment"].message_id
    assert again["comment"].message_id.startswith(f"<{ticket.id}.") and ".comment@" in again["comment"].message_id
    assert keys["created"].message_id == f"<{ticket.id}.1.created@{keys['created'].domain}>"
    assert again["comment"].thread_id == keys["created"].message_id


def test_events_in_the_baseline_owe_nothing(example_rules) -> None:
    from sdesk.mail.notifications import event_digest

    ticket = make(example_rules, "2026-11-23 09:00", "P3")
    say(ticket, example_rules, "2026-11-23 10:00")
    before = {event_digest(ticket.history[0])}
    assert [letter.kind for letter in owed.letters(ticket, example_rules, before)] == ["comment"]


def test_agents_hear_of_an_assignment_a_reaction_and_a_breach(example_rules) -> None:
    ticket = make(example_rules, "2026-11-23 10:00", "P1")
    ticket.apply(workflow.update(ticket, example_rules, {"assignee": BO}, AGENT, at("2026-11-23 10:05")))
    ticket.apply(workflow.update(ticket, example_rules, {"assignee": AGENT}, AGENT, at("2026-11-23 10:06")))
    say(ticket, example_rules, "2026-11-23 10:10", by=ticket.requester, from_customer=True)
    breach = sweep.next_event(ticket, example_rules, at("2026-11-23 11:30"))
    assert breach is not None and breach.kind == "breach"
    ticket.apply(breach)
    agent_mail = [pair for pair in kinds(owed.letters(ticket, example_rules)) if pair[0] != "created"]
    # taking it yourself mails nobody; the reaction and the breach go to whoever owns it now
    assert agent_mail == [("assigned", BO), ("reaction", AGENT), ("breach", AGENT)]
    assert {letter.language for letter in owed.letters(ticket, example_rules) if letter.kind == "breach"} == {
        example_rules.language
    }


def test_a_breach_of_an_unassigned_ticket_goes_to_the_team(example_rules) -> None:
    ticket = make(example_rules, "2026-11-23 10:00", "P1")
    ticket.apply(sweep.next_event(ticket, example_rules, at("2026-11-23 11:30")))
    team = example_rules.teams[ticket.team].email or example_rules.desk_email
    assert ("breach", team) in kinds(owed.letters(ticket, example_rules))


def warned(example_rules: rules.Rules, within: str) -> rules.Rules:
    service = msgspec.structs.replace(
        example_rules.service,
        sweep=msgspec.structs.replace(example_rules.service.sweep, warn_within=_target(within)),
    )
    return msgspec.structs.replace(example_rules, service=service)


def _target(text: str):  # noqa: ANN202
    from sdesk.calendar.businesstime import parse_target

    return parse_target(text)


def test_a_clock_about_to_breach_is_warned_of_once_at_the_moment_its_window_opened(example_rules) -> None:
    policy = warned(example_rules, "30m")
    ticket = make(policy, "2026-11-23 10:00", "P1")  # response due 11:00
    assert sweep.next_event(ticket, policy, at("2026-11-23 10:29")) is None
    early, late = (sweep.next_event(ticket, policy, at(now)) for now in ("2026-11-23 10:31", "2026-11-23 10:59"))
    assert early == late and early is not None
    assert (early.kind, early.clock, early.by, early.at) == (
        "warning",
        "response",
        "sdesk sweep",
        at("2026-11-23 10:30"),
    )
    ticket.apply(early)
    assert sweep.next_event(ticket, policy, at("2026-11-23 10:59")) is None
    assert sweep.next_event(ticket, policy, at("2026-11-23 11:01")).kind == "breach"


def test_two_clones_sweeping_at_different_times_merge_to_one_reminder(example_rules) -> None:
    base = make(example_rules, "2026-11-23 09:00", "P4")
    move(base, example_rules, "waiting-for-customer", "2026-11-23 10:00")
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    say(theirs, example_rules, "2026-11-25 11:00", internal=True)  # other work in one clone
    for clone, now in ((ours, "2026-11-25 10:05"), (theirs, "2026-11-25 16:40")):
        event = sweep.next_event(clone, example_rules, at(now))
        assert event is not None and event.kind == "reminder"
        clone.apply(event)
    merged, decisions = merge.merge(base, ours, theirs)
    assert [event.kind for event in merged.history].count("reminder") == 1
    assert decisions == []


def test_records_keep_sent_for_good_and_otherwise_the_latest_word(tmp_path: Path) -> None:
    key = "2Q3WG0-RS8EC.0123456789abcdef.created"
    lines = [
        Record(key, records.CLAIMED, "2026-11-23T10:00:00+01:00", "a"),
        Record(key, records.FAILED, "2026-11-23T10:00:01+01:00", "a", detail="451 try later"),
        Record(key, records.SENT, "2026-11-23T10:05:00+01:00", "a"),
        Record(key, records.CLAIMED, "2026-11-23T10:06:00+01:00", "b"),  # a second runner's late claim
    ]
    assert records.states(lines)[key].state == records.SENT
    assert records.states(lines[:2])[key].state == records.FAILED


@pytest.mark.parametrize(
    "garbage",
    [
        "not json",
        "[1, 2]",
        '{"mail": "x", "state": "exploded"}',
        '{"mail": 7, "state": "sent"}',
        "{" * 5000,
        "[" * 1000,
    ],
)
def test_a_records_line_sdesk_never_writes_is_skipped(tmp_path: Path, garbage: str) -> None:
    ticket_id = "2Q3WG0-RS8EC"
    good = Record(f"{ticket_id}.0123456789abcdef.created", records.SENT, "2026-11-23T10:00:00+01:00", "a")
    (tmp_path / "deliveries").mkdir()
    records.path(tmp_path, ticket_id).write_text(f"{garbage}\n{good.line()}", encoding="utf-8")
    assert records.read(tmp_path, ticket_id) == [good]
    records.append(tmp_path, ticket_id, [good])
    assert records.read(tmp_path, ticket_id) == [good, good]


def test_a_journal_keeps_each_mails_last_step_and_is_compacted_once_it_grows(tmp_path: Path) -> None:
    from sdesk.actions.deliver import COMPACT_SLACK, Journal

    journal = Journal(tmp_path)
    for round_ in range(COMPACT_SLACK):
        journal.write(f"mail-{round_ % 10}", "start")
        journal.write(f"mail-{round_ % 10}", "sent", f"round {round_}")
    steps = journal.last()
    assert len(steps) == 10 and steps["mail-9"] == ("sent", f"round {COMPACT_SLACK - 1}")
    assert len(journal.path.read_text(encoding="utf-8").splitlines()) == 10
    assert journal.last() == steps


def test_what_changed_since_a_settled_commit_names_tickets_and_records_and_all_after_a_rules_change(
    tmp_path: Path,
) -> None:
    import subprocess

    from sdesk.mail import baseline

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    for folder in ("tickets", "deliveries"):
        (tmp_path / folder).mkdir()
    (tmp_path / "rules.yaml").write_text("desk: {}\n")
    (tmp_path / "tickets" / "2Q3WG0-AAAAA.yaml").write_text("a\n")
    git("init", "-q")
    git("add", "-A")
    git("-c", "user.email=a@b.example", "-c", "user.name=A", "commit", "-q", "-m", "x")
    settled = git("rev-parse", "HEAD")
    assert baseline.touched_since(tmp_path, settled) == set()
    (tmp_path / "tickets" / "2Q3WG0-AAAAA.yaml").write_text("changed\n")
    (tmp_path / "deliveries" / "2Q3WG0-BBBBB.jsonl").write_text("{}\n")  # another runner's records, not committed
    assert baseline.touched_since(tmp_path, settled) == {"2Q3WG0-AAAAA", "2Q3WG0-BBBBB"}
    (tmp_path / "deliveries" / "baseline.yaml").write_text("commit: none\n")
    assert baseline.touched_since(tmp_path, settled) is None  # the mail owed may change: look at everything
    (tmp_path / "deliveries" / "baseline.yaml").unlink()
    (tmp_path / "rules.yaml").write_text("desk: {name: X}\n")
    assert baseline.touched_since(tmp_path, settled) is None
    assert baseline.touched_since(tmp_path, "0" * 40) is None  # a commit gone (a force-push, gc)
