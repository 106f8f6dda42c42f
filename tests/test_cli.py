"""Every ticket command through the CLI, as an agent would use it."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest

from sdesk.cli import context, main
from sdesk.output import Column, stream_rows, to_json
from tests.conftest import AGENT, NOW, REPO, every_command, needs_git_checkout


def ticket_file(desk: Path, ticket_id: str) -> str:
    return (desk / "tickets" / f"{ticket_id}.yaml").read_text(encoding="utf-8")


# --- sdesk new ---------------------------------------------------------------------------


def test_new_prints_the_number_and_writes_the_file(desk, run):
    result = run(
        "new",
        "--title",
        "Wifi valt weg",
        "--type",
        "incident",
        "--customer",
        "vandijk",
        "--requester",
        "j.bakker@vandijk.example",
        "--product",
        "warehouse-network",
        "--site",
        "3001",
        "--description",
        "Handterminals in hal 3 verliezen de verbinding.",
        "--impact",
        "company",
        "--urgency",
        "high",
    )
    assert result.exit_code == 0, result.output
    ticket_id = result.stdout.split()[1]
    assert result.stdout.startswith(f"Created {ticket_id}  P1 incident for vandijk: Wifi valt weg")
    assert f"Quote {ticket_id}" in result.stderr
    assert f"id: {ticket_id}" in ticket_file(desk, ticket_id)


def test_new_accepts_every_field_and_json_prints_the_whole_ticket(desk, new_ticket):
    ticket = new_ticket(
        impact="department",
        urgency="medium",
        site="2101",
        url="https://dossier.example/1",
        error_message="Fout 500",
        description="Regel 1\nRegel 2",
        contact_name="Ine",
        contact_phone="+32 50 00 00 00",
        contact_email="ine@zonnebloem.example",
        external_ref="ZB-991",
        team="noc",
        category="interface",
    )
    assert ticket["status"] == "open" and ticket["priority"] == "P3"
    for key, value in {
        "contact_name": "Ine",
        "contact_phone": "+32 50 00 00 00",
        "contact_email": "ine@zonnebloem.example",
        "site": "2101",
        "url": "https://dossier.example/1",
        "error_message": "Fout 500",
        "description": "Regel 1\nRegel 2",
        "external_ref": "ZB-991",
        "team": "noc",
        "category": "interface",
        "product": "care-dossier",
        "created": NOW,
    }.items():
        assert ticket[key] == value
    assert ticket["history"] == [{"at": NOW, "by": AGENT, "event": "created"}]


def test_new_without_mandatory_fields_in_a_script_is_a_usage_error(desk, run):
    result = run("new", "--title", "x")
    assert result.exit_code == 2
    assert "missing --type, --customer, --requester" in result.stderr
    assert list((desk / "tickets").glob("*.yaml")) == []


def test_new_refuses_unknown_customer_with_a_suggestion(desk, run):
    result = run("new", "--title", "x", "--type", "question", "--customer", "zonebloem", "--requester", "a@b.example")
    assert result.exit_code == 1
    assert result.stderr == "Error: unknown customer 'zonebloem' (did you mean 'zonnebloem'?)\n"
    assert list((desk / "tickets").glob("*.yaml")) == []


def test_new_on_a_terminal_prompts_for_missing_fields(desk, run, monkeypatch):
    monkeypatch.setattr(context, "interactive", lambda: True)
    answers = "\n".join(
        [
            "Zorgdossier op campus Brugge opent niet",
            "incident",
            "zonnebloem",
            "els.vermeulen@zonnebloem.example",
            "care-dossier",  # zonnebloem has two products: asked
            "2101",  # an incident needs a site and a description: asked
            "Sinds 9 uur.",
        ]
    )
    result = run("new", "--format", "json", input=answers + "\n")
    assert result.exit_code == 0, result.output
    ticket = json.loads(result.stdout)
    assert (ticket["title"], ticket["type"], ticket["customer"], ticket["product"], ticket["site"]) == (
        "Zorgdossier op campus Brugge opent niet",
        "incident",
        "zonnebloem",
        "care-dossier",
        "2101",
    )
    assert ticket["description"] == "Sinds 9 uur."
    assert "One subject per ticket" in result.stderr
    assert "Site (2101 Campus Brugge, 2102 Campus Oostende): " in result.stderr


def test_new_edit_opens_the_editor_for_the_description(desk, run, tmp_path, monkeypatch):
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Sinds maandag.\\nAlle gebruikers.\\n# comment\\n" > "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    result = run(
        "new",
        "--format",
        "json",
        "--edit",
        "--title",
        "t",
        "--type",
        "incident",
        "--customer",
        "vandijk",
        "--requester",
        "j.bakker@vandijk.example",
        "--product",
        "fleet-telemetry",
        "--site",
        "3001",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["description"] == "Sinds maandag.\nAlle gebruikers."


def test_bad_choice_is_clicks_usage_error(desk, run):
    result = run("new", "--impact", "everyone")
    assert result.exit_code == 2
    assert "'everyone' is not one of" in result.stderr


def test_an_unknown_type_from_rules_yaml_is_refused_with_a_suggestion(desk, run, new_ticket):
    result = run("new", "--title", "x", "--type", "incidnet", "--customer", "zonnebloem", "--requester", "a@b.example")
    assert result.exit_code == 1
    assert result.stderr == "Error: unknown type 'incidnet' (did you mean 'incident'?)\n"


# --- sdesk list --------------------------------------------------------------------------


@pytest.fixture
def three_tickets(desk, run, new_ticket):
    a = new_ticket(
        title="Wifi valt weg",
        customer="vandijk",
        requester="j.bakker@vandijk.example",
        product="warehouse-network",
        site="3001",
        impact="company",
        urgency="high",
    )
    b = new_ticket(title="Vraag over export", type="question", description="Het PDF-rapport is leeg")
    c = new_ticket(title="Opgelost probleem")
    run("update", a["id"], "--assignee", AGENT)
    run("comment", b["id"], "--internal", "Zoekterm: kwartaalrapport")
    run("close", c["id"], "--resolution", "Done")
    return a["id"], b["id"], c["id"]


def listed(run, *args: str) -> list[str]:
    result = run("list", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return [row["id"] for row in json.loads(result.stdout)]


def test_list_shows_open_tickets_by_default_in_creation_order(three_tickets, run):
    a, b, c = three_tickets
    assert listed(run) == sorted([a, b])
    assert listed(run, "--closed") == [c]
    assert listed(run, "--all") == sorted([a, b, c])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--status", "closed"), "c"),
        (("--type", "question"), "b"),
        (("--priority", "P1"), "a"),
        (("--customer", "vandijk"), "a"),
        (("--team", "noc"), "a"),
        (("--assignee", "me"), "a"),
        (("--assignee", AGENT), "a"),
        (("--assignee", "none"), "b"),
        (("--search", "pdf-RAPPORT"), "b"),
        (("--search", "kwartaalrapport"), "b"),
    ],
)
def test_list_filters(three_tickets, run, args, expected):
    names = dict(zip("abc", three_tickets, strict=True))
    assert listed(run, *args) == [names[expected]]


def test_a_cooperation_incident_is_found_and_listed_by_the_customers_own_number(three_tickets, run, new_ticket):
    their = ("--cooperation", "--their-ticket", "FOD-SD-2026-1187", "--their-email", "ict@zonnebloem.example")
    shared = new_ticket(*their, title="Koppeling met het eHealth-platform valt weg")["id"]
    assert listed(run, "--search", "fod-sd-2026-1187") == [shared]
    line = next(line for line in run("list", env={"COLUMNS": "120"}).stdout.splitlines() if line.startswith(shared))
    assert "  [FOD-SD-2026-1187] Koppeling met" in line  # their number first: a long title is cut
    (row,) = [row for row in json.loads(run("list", "--format", "json").stdout) if row["id"] == shared]
    assert row["cooperation_ticket"] == "FOD-SD-2026-1187" and row["title"].startswith("Koppeling")


def test_list_refuses_an_unknown_filter_value(desk, run):
    result = run("list", "--customer", "acme")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown customer 'acme'")


def test_list_table_fits_80_columns_with_stable_headers(three_tickets, run):
    wide = run("list", "--all", env={"COLUMNS": "120"}).stdout.splitlines()
    assert wide[0].split() == ["ID", "Pri", "Type", "Status", "Customer", "Assignee", "Due", "Title"]
    result = run("list", "--all")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "Pri", "Status", "Customer", "Assignee", "Due", "Title"]  # Type made way
    assert all(len(line) <= 80 for line in lines)
    assert result.stderr == "3 tickets\n"


def test_list_csv_and_json_carry_the_same_stable_fields(three_tickets, run):
    rows = list(csv.DictReader(io.StringIO(run("list", "--all", "--format", "csv").stdout)))
    records = json.loads(run("list", "--all", "--format", "json").stdout)
    fields = [
        "id",
        "title",
        "type",
        "status",
        "priority",
        "customer",
        "requester",
        "team",
        "assignee",
        "category",
        "cooperation_ticket",
        "created",
        "updated",
    ]
    assert list(rows[0]) == fields and list(records[0]) == fields
    assert [row["id"] for row in rows] == [record["id"] for record in records]


def test_list_sorted_by_priority(three_tickets, run):
    a, b, _ = three_tickets
    assert listed(run, "--sort", "priority") == [a, b]


def test_list_sorted_by_last_change_newest_first_in_the_index(three_tickets, run, monkeypatch):
    a, b, c = three_tickets
    monkeypatch.setenv("SDESK_NOW", "2030-01-02T09:00:00+05:00")
    run("comment", b, "--internal", "Nog bezig")
    assert listed(run, "--all", "--sort", "updated") == [b, *sorted([a, c])]  # a, c: same moment, by number
    assert listed(run, "--sort", "updated", "--type", "question") == [b]


def test_streamed_json_is_the_whole_listing_dumped_at_once_and_csv_reads_back():
    rows = [
        {"id": "A1", "title": "Regel\nmet \x1b[31mkleur\x1b[0m", "n": 3, "when": datetime(2026, 1, 2, tzinfo=UTC)},
        {"id": "B2", "title": "=SUM(A1)", "n": None, "when": None},
    ]
    columns = [Column("id", "ID"), Column("title", "Title"), Column("n", "N"), Column("when", "When")]
    for some in (rows, rows[:1], []):
        assert "".join(stream_rows(iter(some), columns, "json")) == to_json(some)
        streamed = "".join(stream_rows(iter(some), columns, "csv"))
        read_back = [  # line breaks kept, the escape shown, the formula made text
            ["A1", "Regel\nmet \\u001b[31mkleur\\u001b[0m", "3", "2026-01-02T00:00:00+00:00"],
            ["B2", "'=SUM(A1)", "", ""],
        ]
        assert list(csv.reader(io.StringIO(streamed))) == [["id", "title", "n", "when"], *read_back[: len(some)]]


# --- show, update, comment, close, reopen -------------------------------------------------


def test_show_has_fields_texts_and_history(desk, run, new_ticket):
    ticket = new_ticket(description="Sinds vanochtend")
    run("update", ticket["id"], "--status", "in-progress", "--note", "Opgepakt")
    run("comment", ticket["id"], "Graag een schermafdruk")
    result = run("show", ticket["id"])
    assert result.exit_code == 0
    text = result.stdout
    for expected in (
        f"{ticket['id']}  Zorgdossier opent niet",
        "Status          in-progress",
        "Description:",
        "  Sinds vanochtend",
        "status: open → in-progress",
        "Opgepakt",
        "public comment",
        "Graag een schermafdruk",
    ):
        assert expected in text


def test_show_json_and_csv_include_the_history(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    run("comment", ticket_id, "Eerste reactie")
    data = json.loads(run("show", ticket_id, "--format", "json").stdout)
    assert [event["event"] for event in data["history"]] == ["created", "comment"]
    assert data["updated"] == NOW
    rows = {
        row["field"]: row["value"]
        for row in csv.DictReader(io.StringIO(run("show", ticket_id, "--format", "csv").stdout))
    }
    assert rows["id"] == ticket_id and rows["history.2.text"] == "Eerste reactie"


def test_update_changes_fields_and_reports_them(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    result = run("update", ticket_id, "--status", "waiting-for-customer", "--assignee", "me", "--title", "Nieuw")
    assert result.exit_code == 0
    assert result.stdout == (
        f"{ticket_id}: status open → waiting-for-customer; title Zorgdossier opent niet → Nieuw; "
        f"assignee (none) → {AGENT}\n"
    )
    data = json.loads(run("show", ticket_id, "--format", "json").stdout)
    assert (data["status"], data["title"], data["assignee"]) == ("waiting-for-customer", "Nieuw", AGENT)


def test_update_without_options_is_a_usage_error(desk, run, new_ticket):
    result = run("update", new_ticket()["id"])
    assert result.exit_code == 2 and "nothing to update" in result.stderr


@pytest.mark.parametrize(
    "args",
    [("update", "{id}", "--title", "x"), ("comment", "{id}", "hallo"), ("close", "{id}", "--resolution", "again")],
)
def test_closed_tickets_refuse_changes_and_stay_untouched(desk, run, new_ticket, args):
    ticket_id = new_ticket()["id"]
    run("close", ticket_id, "--resolution", "Opgelost")
    before = ticket_file(desk, ticket_id)
    result = run(*(arg.format(id=ticket_id) for arg in args))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert ticket_file(desk, ticket_id) == before


def test_close_requires_resolution_and_update_cannot_close(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    assert run("close", ticket_id).exit_code == 2
    assert run("close", ticket_id, "--resolution", " ").exit_code == 1
    result = run("update", ticket_id, "--status", "closed")
    assert result.exit_code == 1
    assert result.stderr == f"Error: close a ticket with: sdesk close {ticket_id} --resolution TEXT\n"


def test_comment_internal_and_from_stdin(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    assert (
        run("comment", ticket_id, "--internal", "Alleen voor de desk").stdout
        == f"{ticket_id}: internal comment added\n"
    )
    assert run("comment", ticket_id, "-", input="Uit een pijp\nmet twee regels\n").exit_code == 0
    history = json.loads(run("show", ticket_id, "--format", "json").stdout)["history"]
    assert [(event.get("visibility"), event.get("text")) for event in history[1:]] == [
        ("internal", "Alleen voor de desk"),
        ("public", "Uit een pijp\nmet twee regels"),
    ]


def test_close_and_reopen_round_trip(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    assert (
        run("close", ticket_id, "--resolution", "Bijlage verwijderd").stdout == f"{ticket_id}: status open → closed\n"
    )
    assert run("reopen", ticket_id, "--reason", "Fout komt terug").stdout == f"{ticket_id}: status closed → open\n"
    assert run("reopen", ticket_id, "--reason", "x").exit_code == 1
    data = json.loads(run("show", ticket_id, "--format", "json").stdout)
    assert data["status"] == "open" and data["resolution"] is None
    assert [event["event"] for event in data["history"]] == ["created", "closed", "reopened"]


def test_modifying_commands_can_print_the_ticket_as_json(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    data = json.loads(run("comment", ticket_id, "hallo", "--format", "json").stdout)
    assert data["history"][-1]["text"] == "hallo"


def test_ambiguous_reference_lists_the_candidates(desk, run, new_ticket):
    first, second = new_ticket()["id"], new_ticket()["id"]
    result = run("show", first[:3])
    assert result.exit_code == 1
    assert first in result.stderr and second in result.stderr and "ambiguous" in result.stderr
    assert run("show", first[7:].lower()).exit_code == 0


# --- desk, identity, time -------------------------------------------------------------------


def test_no_identity_is_refused(desk, run, new_ticket, monkeypatch):
    ticket_id = new_ticket()["id"]
    monkeypatch.delenv("SDESK_USER")
    result = run("comment", ticket_id, "hallo")
    assert result.exit_code == 1
    assert "pass --as EMAIL, set SDESK_USER, or run: git config user.email" in result.stderr


def test_identity_from_as_option_before_or_after_the_command(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    run("--as", "first@desk.example", "comment", ticket_id, "een")
    run("comment", ticket_id, "twee", "--as", "second@desk.example")
    history = json.loads(run("show", ticket_id, "--format", "json").stdout)["history"]
    assert [event["by"] for event in history] == [AGENT, "first@desk.example", "second@desk.example"]


def test_identity_from_git_config(desk, run, new_ticket, monkeypatch):
    ticket_id = new_ticket()["id"]
    subprocess.run(["git", "init", "-q", str(desk)], check=True)
    subprocess.run(["git", "-C", str(desk), "config", "user.email", "git.user@desk.example"], check=True)
    monkeypatch.delenv("SDESK_USER")
    assert run("comment", ticket_id, "via git").exit_code == 0
    assert json.loads(run("show", ticket_id, "--format", "json").stdout)["history"][-1]["by"] == "git.user@desk.example"


def test_sdesk_now_without_offset_is_refused(desk, run, monkeypatch):
    monkeypatch.setenv("SDESK_NOW", "2026-11-23T10:00:00")
    result = run(
        "new", "--title", "t", "--type", "question", "--customer", "vandijk", "--requester", "j.bakker@vandijk.example"
    )
    assert result.exit_code == 1 and "SDESK_NOW '2026-11-23T10:00:00' has no UTC offset" in result.stderr


def test_an_sdesk_now_that_is_no_timestamp_is_named(run, desk, monkeypatch):
    monkeypatch.setenv("SDESK_NOW", "gisteren 10:00")
    result = run("queue")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: SDESK_NOW 'gisteren 10:00' is not an ISO-8601 timestamp (e.g. 2026-11-23T09:30:00+01:00)\n"
    )


def test_desk_is_found_by_walking_up_or_by_option(desk, run, new_ticket, monkeypatch, tmp_path):
    ticket_id = new_ticket()["id"]
    monkeypatch.delenv("SDESK_DIR")
    nested = desk / "tickets"
    monkeypatch.chdir(nested)
    assert ticket_id in run("list").stdout
    monkeypatch.chdir(tmp_path)
    assert run("list").exit_code == 1
    assert "no desk here" in run("list").stderr
    assert ticket_id in run("--desk", str(desk), "list").stdout
    assert ticket_id in run("list", "--desk", str(desk)).stdout


def test_init_creates_a_working_desk_and_refuses_to_overwrite(run, tmp_path, monkeypatch):
    result = run("init", "newdesk", "--name", "Helpdesk: Noord")
    assert result.exit_code == 0, result.output
    root = tmp_path / "newdesk"
    assert (root / "tickets").is_dir() and ".sdesk/" in (root / ".gitignore").read_text()
    assert '"Helpdesk: Noord"' in (root / "rules.yaml").read_text()
    monkeypatch.chdir(root)
    assert "rules.yaml: OK" in run("rules", "check").stdout
    created = run(
        "new", "--title", "t", "--type", "question", "--customer", "example", "--requester", "alex@example.com"
    )
    assert created.exit_code == 0, created.output
    again = run("init", str(root))
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_rules_check_names_file_and_line(desk, run):
    rules = desk / "rules.yaml"
    rules.write_text(rules.read_text().replace("plan: 24x7", "plan: 24x8"))
    line = next(n for n, text in enumerate(rules.read_text().splitlines(), 1) if "plan: 24x8" in text)
    result = run("rules", "check")
    assert result.exit_code == 1
    assert (
        result.stdout
        == f"desk/rules.yaml:{line}:5: customers.vandijk.plan: '24x8' is not valid (did you mean '24x7'?)\n"
    )
    assert result.stderr == "Error: desk/rules.yaml: 1 problem\n"


def test_check_reports_tickets_that_disagree_with_the_rules(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    assert run("check").exit_code == 0
    path = desk / "tickets" / f"{ticket_id}.yaml"
    path.write_text(path.read_text().replace("customer: zonnebloem", "customer: zonneblom"))
    result = run("check")
    assert result.exit_code == 1
    assert "customer: unknown customer 'zonneblom' (did you mean 'zonnebloem'?)" in result.stdout
    assert result.stderr == "Error: 1 ticket file checked, 1 problem\n"


@pytest.mark.parametrize(
    ("path", "command"),
    list(every_command(main)),
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else "",
)
def test_every_command_has_help(run, path, command):
    result = run(*path, "--help")
    assert result.exit_code == 0
    assert command.get_short_help_str().strip()
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help"


def test_installed_console_script_runs_on_the_example_desk(tmp_path):
    """A real process, as a new user runs it after install, from the repository root."""
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path), "SDESK_NOW": "2026-11-23T10:00:00+01:00"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "sdesk"), "list", "--all", "--format", "json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    tickets = json.loads(result.stdout)
    assert len(tickets) >= 12
    assert {ticket["status"] for ticket in tickets} == {
        "open",
        "in-progress",
        "waiting-for-customer",
        "on-hold",
        "scheduled",
        "awaiting-acceptance",
        "closed",
    }
    assert {ticket["type"] for ticket in tickets} == {"incident", "service-request", "change", "question", "complaint"}
    broken = subprocess.run(
        [str(Path(sys.executable).parent / "sdesk"), "show", "../rules"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 1 and broken.stderr.startswith("Error: ") and "Traceback" not in broken.stderr


def test_assignee_me_and_none_work_for_new_and_update(desk, run, new_ticket):
    ticket = new_ticket(assignee="me")
    assert ticket["assignee"] == AGENT
    assert run("update", ticket["id"], "--assignee", "none").stdout == f"{ticket['id']}: assignee {AGENT} → (none)\n"
    assert json.loads(run("show", ticket["id"], "--format", "json").stdout)["assignee"] is None


def test_update_of_a_long_multi_line_field_is_reported_on_one_short_line(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    result = run("update", ticket_id, "--description", "Eerste regel\n" + "lang " * 30)
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith(f"{ticket_id}: description Het zorgdossier van bewoner 1182 opent … → Eerste regel")
    assert result.stdout.endswith("…\n")


def test_git_runs_sdesk_as_a_subcommand(tmp_path):
    """`git sdesk …` as `git bug …`: git finds git-sdesk on PATH (the installed script)."""
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "SDESK_NOW": "2026-11-23T10:00:00+01:00"}
    result = subprocess.run(
        ["git", "sdesk", "list", "--format", "json"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert {ticket["customer"] for ticket in json.loads(result.stdout)} >= {"zonnebloem", "les-tilleuls"}


def test_a_release_is_one_version_its_changelog_entry_and_the_tag_the_readme_names():
    """The version is written once; CHANGELOG's newest release is that version with its date (what is not
    released yet is under "## Unreleased" above it); the README's pre-commit and CI snippets name its tag."""
    from importlib.metadata import version

    import sdesk

    assert version("sdesk") == sdesk.__version__
    newest = next(
        line
        for line in (REPO / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()
        if line[:3] == "## " and line != "## Unreleased"  # what is merged since, above the release
    )
    assert re.fullmatch(rf"## {re.escape(sdesk.__version__)} \(\d{{4}}-\d{{2}}-\d{{2}}\)", newest), newest
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"(?:rev: |sdesk@)(v\d+\.\d+\.\d+)", readme))
    assert named == {f"v{sdesk.__version__}"}
    assert "license-files" in (REPO / "pyproject.toml").read_text(encoding="utf-8") and (REPO / "LICENSE").is_file()


@needs_git_checkout
def test_the_sdist_carries_every_tracked_file_and_runs_its_own_tests(tmp_path):
    """A packager builds the sdist, unpacks it and runs its tests: conftest, the example desk and schemas are in it.

    Built from a copy of the tracked files, as a release is built from a tag; the sdist then runs a test file of
    its own with its own sources on the path.
    """
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True)
    source = tmp_path / "checkout"
    for name in filter(None, tracked.stdout.split("\0")):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    build = subprocess.run(
        [sys.executable, "-c", f"from setuptools import build_meta; print(build_meta.build_sdist({str(tmp_path)!r}))"],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    archive = tmp_path / build.stdout.split()[-1]
    with tarfile.open(archive) as sdist:
        sdist.extractall(tmp_path / "unpacked", filter="data")
        packed = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert set(filter(None, tracked.stdout.split("\0"))) <= packed
    unpacked = next((tmp_path / "unpacked").iterdir())
    own_test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "tests/test_layout.py"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=False,
    )
    assert own_test.returncode == 0, own_test.stdout[-2000:]  # 0: tests were collected, and all passed


@pytest.mark.parametrize("command", [["export", "json"], ["list", "--all", "--format", "csv"]])
def test_a_reader_that_closes_the_pipe_stops_sdesk_quietly_as_git(command, tmp_path):
    """`sdesk export csv | head`: the reader is gone before sdesk writes; no traceback, no error, exit 141."""
    reader, writer = os.pipe()
    os.close(reader)
    env = {"PATH": str(Path(sys.executable).parent), "SDESK_NOW": NOW, "HOME": str(tmp_path)}
    try:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "sdesk"), *command],
            cwd=REPO,
            stdout=writer,
            capture_output=False,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
        )
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (141, b"")
