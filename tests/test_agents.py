"""Agents declared in rules.yaml: who may change tickets and be assigned them, checked as a user meets it.

The shared `desk` fixture declares no agents (any email acts, as before);
here the desk has the example's agents, and An Wouters acts unless a test
says otherwise.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sdesk.storage.store import Desk
from tests.conftest import TICKET_DEFAULTS, Run, example_rules_text, ok

AN = "an.wouters@caresolutions.example"
LIEN = "lien.jacobs@caresolutions.example"
STRANGER = "an@home.example"  # An's private address: the git identity of a fresh laptop
ELS = "els.vermeulen@zonnebloem.example"  # a customer's reference person


def refusal(email: str, source: str, hint: str = "") -> str:
    return (
        f"Error: {email} ({source}) is not a declared agent{hint}: it may read tickets but not change them; "
        "add it to agents: in rules.yaml, or act as one with --as EMAIL\n"
    )


@pytest.fixture
def declared(desk: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (desk / "rules.yaml").write_text(example_rules_text(agents=True), encoding="utf-8")
    monkeypatch.setenv("SDESK_USER", AN)
    return desk


@pytest.fixture
def ticket(declared: Path, new_ticket: Any) -> str:
    ticket_id: str = new_ticket()["id"]
    return ticket_id


@pytest.fixture
def outage(declared: Path, run: Run) -> str:
    outage = ("--kind", "outage", "--title", "Trage dossiers", "--start", "2026-11-23T08:00")
    announced = ok(run("announce", "new", "--format", "json", *outage, "--customers", "zonnebloem"))
    outage_id: str = json.loads(announced)[0]["id"]
    return outage_id


def files(desk: Path) -> dict[str, bytes]:
    return {path.relative_to(desk).as_posix(): path.read_bytes() for path in desk.rglob("*.yaml")}


def assignee_of(desk: Path, ticket_id: str) -> str | None:
    data: dict[str, Any] = yaml.safe_load((desk / "tickets" / f"{ticket_id}.yaml").read_text(encoding="utf-8"))
    return data.get("assignee")


# --- who may change tickets --------------------------------------------------------------------------

CHANGES = [
    ("new", *[part for pair in TICKET_DEFAULTS.items() for part in pair]),
    ("update", "{ticket}", "--status", "in-progress"),
    ("comment", "{ticket}", "Kunt u het opnieuw proberen?"),
    ("priority", "{ticket}", "P1", "--reason", "Heel de campus ligt stil"),
    ("close", "{ticket}", "--resolution", "Opgelost"),
    ("reopen", "{ticket}", "--reason", "Opnieuw"),
    ("log", "{ticket}", "30m", "--note", "Gekeken"),
    ("log", "{ticket}", "--start"),
    ("call", "{ticket}", "--note", "Klant gebeld"),
    ("callback", "{ticket}"),
    ("survey", "{ticket}", "4"),
    ("link", "{ticket}", "--outage", "{outage}"),
    ("announce", "new", "--kind", "outage", "--title", "Storing", "--start", "2026-11-23T08:00"),
    ("announce", "resolve", "{outage}", "--note", "Hersteld"),
]


@pytest.mark.parametrize("command", CHANGES, ids=[" ".join(command[:2]) for command in CHANGES])
def test_an_undeclared_identity_changes_nothing_and_is_told_how_to_fix_it(
    declared: Path, run: Run, ticket: str, outage: str, command: tuple[str, ...]
) -> None:
    before = files(declared)
    result = run("--as", STRANGER, *(part.format(ticket=ticket, outage=outage) for part in command))
    assert result.exit_code == 1, result.output
    assert result.stderr == refusal(STRANGER, "--as")
    assert files(declared) == before


READS = [
    ("new", "--dry-run", *[part for pair in TICKET_DEFAULTS.items() for part in pair]),
    ("list", "--all"),
    ("list", "--assignee", "me"),
    ("show", "{ticket}"),
    ("queue",),
    ("sla",),
    ("rules", "explain", "{ticket}"),
    ("report", "sla", "--from", "2026-11-01", "--to", "2026-11-30"),
    ("report", "time", "--month", "2026-11"),
    ("report", "csat"),
    ("announce", "list"),
    ("notify", "list"),
    ("check",),
    ("export", "html", "site"),
]


@pytest.mark.parametrize("command", READS, ids=[" ".join(command[:2]) for command in READS])
def test_anyone_may_read(declared: Path, run: Run, ticket: str, command: tuple[str, ...]) -> None:
    result = run("--as", STRANGER, *(part.format(ticket=ticket) for part in command))
    assert result.exit_code == 0, result.output
    assert "declared agent" not in result.stderr


def test_an_agents_decision_on_held_mail_is_an_agents(declared: Path, run: Run) -> None:
    stranger = "From: jan@zonnebloem.example\nTo: servicedesk@caresolutions.example\nSubject: Hulp\n\nHelp.\n"
    ok(run("mail", "receive", input=stranger))
    [held] = json.loads(ok(run("mail", "triage", "--format", "json")))
    for decision in (("accept", held["id"], "--customer", "zonnebloem"), ("dismiss", held["id"], "--reason", "spam")):
        result = run("--as", STRANGER, "mail", *decision)
        assert (result.exit_code, result.stderr) == (1, refusal(STRANGER, "--as"))
    ok(run("mail", "dismiss", held["id"], "--reason", "spam"))


def test_a_huge_identity_is_refused_in_one_short_line(declared: Path, run: Run, ticket: str) -> None:
    huge = "a" * 100_000 + "@home.example"
    result = run("--as", huge, "comment", ticket, "hallo")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {'a' * 99}… (--as) is not a declared agent:")
    assert len(result.stderr) < 300


def test_the_refusal_names_where_the_identity_came_from_and_a_close_declared_one(declared: Path, run: Run) -> None:
    typo = "an.woutres@caresolutions.example"
    result = run("comment", "2Q3X", "hallo", env={"SDESK_USER": typo})
    assert result.stderr == refusal(typo, "SDESK_USER", f" (did you mean '{AN}'?)")
    subprocess.run(["git", "config", "--global", "user.email", STRANGER], check=True)
    result = run("comment", "2Q3X", "hallo", env={"SDESK_USER": None})
    assert result.stderr == refusal(STRANGER, "git config user.email")


def test_emails_compare_in_any_case_and_tickets_record_the_declared_spelling(
    declared: Path, run: Run, ticket: str
) -> None:
    shouted = run("--as", AN.upper(), "update", ticket, "--assignee", LIEN.upper(), "--format", "json")
    updated = json.loads(ok(shouted))
    assert updated["assignee"] == LIEN
    assert updated["history"][-1]["by"] == AN


def test_the_runner_needs_no_declared_identity(declared: Path, run: Run, ticket: str) -> None:
    """The sweep records as `sdesk sweep` and the gateway as the customer who wrote, whoever runs them."""
    ok(run("update", ticket, "--status", "waiting-for-customer", "--note", "Screenshot?"))
    swept = run("sweep", env={"SDESK_USER": "runner@desk-server.example", "SDESK_NOW": "2026-11-26T10:00:00+01:00"})
    assert swept.exit_code == 0, swept.output
    events = json.loads(ok(run("show", ticket, "--format", "json")))["history"]
    assert (events[-1]["event"], events[-1]["by"]) == ("reminder", "sdesk sweep")
    message = f"From: {ELS}\nTo: servicedesk@caresolutions.example\nSubject: [{ticket}] Re: dossier\n\nHier is hij.\n"
    received = run("mail", "receive", input=message, env={"SDESK_USER": "runner@desk-server.example"})
    assert received.exit_code == 0, received.output
    events = json.loads(ok(run("show", ticket, "--format", "json")))["history"]
    assert events[-1]["by"] == ELS


def test_a_desk_may_let_undeclared_identities_change_tickets_but_not_be_assigned(
    declared: Path, run: Run, ticket: str
) -> None:
    rules = declared / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("read-only", "allowed", 1), encoding="utf-8")
    ok(run("--as", STRANGER, "comment", ticket, "Ik kijk even mee"))
    result = run("--as", STRANGER, "update", ticket, "--assignee", "me")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: unknown assignee '{STRANGER}'")
    assert assignee_of(declared, ticket) is None


# --- whom tickets are assigned to --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Lien Jacobs", LIEN),
        ("lien jacobs", LIEN),
        ("Lien.Jacobs@CareSolutions.example", LIEN),
        ("me", AN),
        ("none", None),
    ],
)
def test_an_assignee_is_a_declared_agent_by_email_or_name(
    declared: Path, run: Run, ticket: str, given: str, stored: str | None
) -> None:
    ok(run("update", ticket, "--assignee", "bram.de.smet@caresolutions.example"))
    ok(run("update", ticket, "--assignee", given))
    assert assignee_of(declared, ticket) == stored


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("lien.jakobs@caresolutions.example", f" (did you mean '{LIEN}'?)"),
        ("Lien Jakobs", " (did you mean 'Lien Jacobs'?)"),
        ("zzz@elsewhere.example", ""),
    ],
)
@pytest.mark.parametrize("command", ["new", "update"])
def test_a_typod_assignee_is_refused_with_a_did_you_mean(
    declared: Path, run: Run, ticket: str, command: str, given: str, hint: str
) -> None:
    before = files(declared)
    args = [part for pair in TICKET_DEFAULTS.items() for part in pair] if command == "new" else [ticket]
    result = run(command, *args, "--assignee", given)
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"Error: unknown assignee '{given}'{hint}: assign an agent rules.yaml declares (email or name), me or none\n"
    )
    assert files(declared) == before


def test_a_listing_finds_an_agents_tickets_by_name_and_anyone_may_ask_for_their_own(
    declared: Path, run: Run, ticket: str
) -> None:
    ok(run("update", ticket, "--assignee", LIEN))
    by_name = json.loads(ok(run("--as", STRANGER, "list", "--assignee", "lien jacobs", "--format", "json")))
    assert [row["id"] for row in by_name] == [ticket]
    mine = json.loads(ok(run("--as", LIEN.upper(), "queue", "--assignee", "me", "--format", "json")))
    assert [row["id"] for row in mine] == [ticket]


def test_check_reports_an_open_ticket_assigned_to_someone_undeclared_at_its_line(
    declared: Path, run: Run, ticket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(run("update", ticket, "--assignee", LIEN))
    path = declared / "tickets" / f"{ticket}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"assignee: {LIEN}", "assignee: lien.jakobs@caresolutions.example"), encoding="utf-8")
    monkeypatch.chdir(declared)
    line = 1 + path.read_text(encoding="utf-8").splitlines().index("assignee: lien.jakobs@caresolutions.example")
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout == (
        f"tickets/{ticket}.yaml:{line}:1: assignee: lien.jakobs@caresolutions.example is not a declared agent "
        f"(did you mean '{LIEN}'?): an open ticket is assigned to one of rules.yaml's agents\n"
    )
    ok(run("close", ticket, "--resolution", "Opgelost"))  # who worked a closed ticket may since have left
    assert run("check").exit_code == 0


# --- rules.yaml ---------------------------------------------------------------------------------------


def test_rules_check_counts_the_agents_or_says_that_declaring_them_turns_the_checks_on(desk: Path, run: Run) -> None:
    quiet = run("rules", "check")
    assert quiet.exit_code == 0 and "agent" not in quiet.stdout
    assert quiet.stderr == (
        "Note: no agents declared: any email may change tickets and be assigned them; declare agents: in "
        "rules.yaml to check --as, SDESK_USER, git's user.email and --assignee against them\n"
    )
    (desk / "rules.yaml").write_text(example_rules_text(agents=True), encoding="utf-8")
    counted = run("rules", "check")
    assert ", 4 teams, 7 agents, " in counted.stdout and counted.stderr == ""


def test_init_declares_whoever_makes_the_desk(run: Run, tmp_path: Path) -> None:
    subprocess.run(["git", "config", "--global", "user.name", "Els Jans"], check=True)
    ok(run("--as", "els.jans@desk.example", "init", "new-desk"))
    agents = Desk(tmp_path / "new-desk").rules.agents
    assert [(agent.email, agent.name, agent.teams) for agent in agents.values()] == [
        ("els.jans@desk.example", "Els Jans", ("servicedesk",))
    ]


def test_init_without_an_identity_declares_none_and_shows_how(run: Run, tmp_path: Path) -> None:
    result = run("init", "new-desk", env={"SDESK_USER": None})
    assert result.exit_code == 0, result.output
    assert "No agents declared" in result.stderr
    assert Desk(tmp_path / "new-desk").rules.agents == {}
    rules = (tmp_path / "new-desk" / "rules.yaml").read_text(encoding="utf-8")
    assert "# agents:\n#   - {email: you@example.com, name: Your Name, teams: [servicedesk]}\n" in rules
