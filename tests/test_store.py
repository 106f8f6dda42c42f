"""The desk on disk (sdesk.storage.store): files a user reads, diffs, breaks and shares.

Most tests go through the CLI, because that is where a user sees the store;
a few call ``sdesk.storage.store`` directly where the CLI cannot reach (a colliding
number draw, a crash in the middle of a write).
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from sdesk.actions import workflow
from sdesk.calendar.clock import parse_timestamp
from sdesk.errors import SdeskError
from sdesk.storage import store
from sdesk.tickets import ids, model
from sdesk.tickets.model import Ticket
from tests.conftest import AGENT, NOW, Run, held_by_another_process, owed_mail

NewTicket = Callable[..., dict[str, Any]]

DUTCH_TITLE = "storing bij één gebruiker"
DUTCH_DESCRIPTION = (
    "Sinds vanochtend kan één gebruiker op de afdeling geriatrie niet inloggen.\n"
    "De foutmelding verschijnt meteen na het ingeven van het wachtwoord.\n"
    "\n"
    "Collega's op dezelfde werkpost hebben geen probleem; zij werken in het zorgdossier.\n"
    "  Stappen: aanmelden → zorgdossier → cliënt zoeken.\n"
    "Contact: mevrouw Geneviève Maës, café-uitbater naast de ingang."
)
COMMENT_TEXT = "ë, ï, €, 日本"


# --- helpers --------------------------------------------------------------------------------


def ticket_path(desk: Path, ticket_id: str) -> Path:
    return desk / "tickets" / f"{ticket_id}.yaml"


def show_json(run: Run, ref: str) -> dict[str, Any]:
    result = run("show", ref, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def assert_one_line_error(result: Any, *fragments: str) -> str:
    """Exit 1, exactly one `Error: …` line on stderr, nothing on stdout, never a traceback."""
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return str(lines[0])


def temp_files(desk: Path) -> list[str]:
    return sorted(entry.name for entry in (desk / "tickets").iterdir() if entry.name.endswith(".tmp"))


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) below root."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        found[str(path.relative_to(root))] = path.read_bytes() if path.is_file() else None
    return found


def line_of(text: str, prefix: str) -> int:
    """1-based number of the first line starting with prefix."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(prefix):
            return number
    raise AssertionError(f"no line starts with {prefix!r}")


def bits(symbols: str) -> int:
    """The random bits that give the random part ``symbols``."""
    value = 0
    for symbol in symbols:
        value = value * 32 + ids.ALPHABET.index(symbol)
    return value


def make_ticket(desk_root: Path, random_part: str, now: str = NOW, **values: str) -> Ticket:
    """A ticket with a chosen number, saved through the store like `sdesk new` does."""
    desk = store.Desk(desk_root)
    fields = {
        "title": "Zorgdossier opent niet",
        "type": "incident",
        "customer": "zonnebloem",
        "requester": "els.vermeulen@zonnebloem.example",
        "product": "care-dossier",
        "site": "2101",
        "description": "Het zorgdossier van bewoner 1182 opent niet meer.",
        **values,
    }
    moment = parse_timestamp(now).astimezone(desk.rules.timezone)
    plan = workflow.plan_new(desk.rules, fields, moment)
    return desk.add(lambda: workflow.create(desk.rules, plan, AGENT, moment, random_bits=bits(random_part)))


def git(desk: Path, *args: str) -> str:
    result = subprocess.run(
        [
            "git",
            "-c",
            "user.email=tester@caresolutions.example",
            "-c",
            "user.name=Tester",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "core.autocrlf=false",
            *args,
        ],
        cwd=desk,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def diff_lines(diff: str) -> tuple[list[str], list[str]]:
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def sdesk_process(args: list[str], gate: Path | None = None) -> subprocess.Popen[str]:
    """A real `python -m sdesk ARGS` process; with a gate, it starts work only once the gate file exists."""
    if gate is None:
        command = [sys.executable, "-m", "sdesk", *args]
    else:
        # Import everything first, then wait for the gate, so all processes hit the desk at the same moment.
        script = (
            "import os, runpy, sys, time\n"
            "import sdesk.cli\n"
            f"while not os.path.exists({str(gate)!r}): time.sleep(0.001)\n"
            f"sys.argv = ['sdesk', *{args!r}]\n"
            "runpy.run_module('sdesk', run_name='__main__', alter_sys=True)\n"
        )
        command = [sys.executable, "-c", script]
    return subprocess.Popen(
        command, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    )


@pytest.fixture
def in_desk(desk: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work from inside the desk, so messages name tickets/<id>.yaml exactly as a user sees them."""
    monkeypatch.chdir(desk)
    return desk


# --- UTF-8 -----------------------------------------------------------------------------------


def test_utf8_text_is_stored_literally_and_read_back_identical(desk: Path, run: Run, new_ticket: NewTicket) -> None:
    ticket = new_ticket(title=DUTCH_TITLE, description=DUTCH_DESCRIPTION)
    raw = ticket_path(desk, ticket["id"]).read_bytes()

    assert DUTCH_TITLE.encode("utf-8") in raw
    for line in DUTCH_DESCRIPTION.splitlines():
        assert line.encode("utf-8") in raw, line
    assert b"\\u" not in raw and b"\\x" not in raw and b"\\U" not in raw
    raw.decode("utf-8")  # the whole file is valid UTF-8

    shown = show_json(run, ticket["id"])
    assert shown["title"] == DUTCH_TITLE
    assert shown["description"] == DUTCH_DESCRIPTION


def test_utf8_comment_survives_byte_for_byte(desk: Path, run: Run, new_ticket: NewTicket) -> None:
    ticket = new_ticket(title=DUTCH_TITLE)

    result = run("comment", ticket["id"], COMMENT_TEXT)
    assert result.exit_code == 0, result.output

    raw = ticket_path(desk, ticket["id"]).read_bytes()
    assert f"text: {COMMENT_TEXT}\n".encode() in raw
    shown = show_json(run, ticket["id"])
    assert shown["history"][-1]["text"].encode("utf-8") == COMMENT_TEXT.encode("utf-8")
    assert shown["title"] == DUTCH_TITLE


def test_multi_line_utf8_comment_survives(desk: Path, run: Run, new_ticket: NewTicket) -> None:
    ticket = new_ticket()
    text = f"Beste Geneviève,\n\nDe storing is verholpen: {COMMENT_TEXT}.\nMet vriendelijke groeten"

    assert run("comment", ticket["id"], text).exit_code == 0

    raw = ticket_path(desk, ticket["id"]).read_bytes()
    for line in text.splitlines():
        assert line.encode("utf-8") in raw, line
    assert show_json(run, ticket["id"])["history"][-1]["text"] == text


def test_text_beyond_the_basic_plane_is_stored_literally(desk: Path, run: Run, new_ticket: NewTicket) -> None:
    """Emoji pasted from a customer's chat belong in the file as UTF-8, readable in `git diff`."""
    ticket = new_ticket("--accept-costs", title="Printer kapot 🖨️ op 2de verdieping")  # hardware: may cost extra
    assert run("comment", ticket["id"], "Opgelost 👍").exit_code == 0

    raw = ticket_path(desk, ticket["id"]).read_bytes()
    assert show_json(run, ticket["id"])["title"] == "Printer kapot 🖨️ op 2de verdieping"  # round trip is fine
    assert "Printer kapot 🖨️ op 2de verdieping".encode() in raw, raw.decode("utf-8")
    assert "Opgelost 👍".encode() in raw, raw.decode("utf-8")


# --- key order ---------------------------------------------------------------------------------


def test_a_fresh_file_has_its_keys_in_the_documented_order(desk: Path, run: Run, new_ticket: NewTicket) -> None:
    ticket = new_ticket(
        "--accept-costs",  # network falls outside the contract: the file lists the exclusion
        team="noc",
        assignee="agent@caresolutions.example",
        category="network",
        impact="department",
        urgency="high",
        site="2101",
        url="https://zorgdossier.example/login",
        error_message="ERR-4031: sessie verlopen",
        description="Regel één\nRegel twee",
        contact_name="Tom Claeys",
        contact_phone="+32 50 44 12 19",
        contact_email="tom.claeys@zonnebloem.example",
        external_ref="ZB-2026-118",
    )
    path = ticket_path(desk, ticket["id"])
    text = path.read_text(encoding="utf-8")
    assert ticket["product"] == "care-dossier" and ticket["exclusions"] == ["operating-system-or-network"]

    top_level = [match.group(1) for match in re.finditer(r"^([a-z_]+):", text, flags=re.MULTILINE)]
    assert top_level == [
        key for key in model.TICKET_KEYS if key not in ("cooperation", "outage", "watchers", "resolution")
    ]
    data = yaml.safe_load(text)
    assert list(data["contact"]) == list(model.CONTACT_KEYS)
    assert list(data["history"][0]) == ["at", "by", "event", "text"]  # the text records the accepted costs

    # Closing adds the resolution in its own place, not at the end.
    assert run("close", ticket["id"], "--resolution", "Sessie-instelling hersteld").exit_code == 0
    text = path.read_text(encoding="utf-8")
    top_level = [match.group(1) for match in re.finditer(r"^([a-z_]+):", text, flags=re.MULTILINE)]
    assert top_level == [key for key in model.TICKET_KEYS if key not in ("cooperation", "outage", "watchers")]
    for event in yaml.safe_load(text)["history"]:
        keys = list(event)
        assert keys == [key for key in model.EVENT_KEYS if key in keys]
        for change in event.get("changes", []):
            assert list(change) == list(model.CHANGE_KEYS)


# --- minimal diffs with real git ---------------------------------------------------------------


@pytest.fixture
def committed_ticket(desk: Path, new_ticket: NewTicket) -> dict[str, Any]:
    ticket = new_ticket(description="Eerste regel\nTweede regel")
    git(desk, "init", "-q")
    git(desk, "add", "rules.yaml", "tickets")
    git(desk, "commit", "-q", "-m", "ticket")
    return ticket


def test_status_change_diff_is_one_line_plus_one_appended_event(
    desk: Path, run: Run, committed_ticket: dict[str, Any]
) -> None:
    path = ticket_path(desk, committed_ticket["id"])
    old_lines = path.read_text(encoding="utf-8").splitlines()

    assert run("update", committed_ticket["id"], "--status", "in-progress").exit_code == 0

    diff = git(desk, "diff", "-U0", "--", f"tickets/{committed_ticket['id']}.yaml")
    removed, added = diff_lines(diff)
    assert removed == ["status: open"], diff
    assert added[0] == "status: in-progress", diff
    event_lines = added[1:]
    # The rest is one history event at the very end of the file.
    new_lines = path.read_text(encoding="utf-8").splitlines()
    expected_head = ["status: in-progress" if line == "status: open" else line for line in old_lines]
    assert new_lines == expected_head + event_lines
    assert event_lines[0].startswith("- at: ")
    assert yaml.safe_load("\n".join(event_lines)) == [
        {
            "at": datetime.fromisoformat(NOW),
            "by": AGENT,
            "event": "updated",
            "changes": [{"field": "status", "from": "open", "to": "in-progress"}],
        }
    ]


def test_comment_diff_only_adds_lines_at_the_end(desk: Path, run: Run, committed_ticket: dict[str, Any]) -> None:
    path = ticket_path(desk, committed_ticket["id"])
    old_lines = path.read_text(encoding="utf-8").splitlines()

    assert run("comment", committed_ticket["id"], "Gebeld met Els: probleem bevestigd.").exit_code == 0

    diff = git(desk, "diff", "-U0", "--", f"tickets/{committed_ticket['id']}.yaml")
    removed, added = diff_lines(diff)
    assert removed == [], diff
    assert added, diff
    assert path.read_text(encoding="utf-8").splitlines() == old_lines + added
    assert yaml.safe_load("\n".join(added)) == [
        {
            "at": datetime.fromisoformat(NOW),
            "by": AGENT,
            "event": "comment",
            "visibility": "public",
            "text": "Gebeld met Els: probleem bevestigd.",
        }
    ]


def test_rewriting_without_a_change_leaves_git_clean(desk: Path, run: Run, committed_ticket: dict[str, Any]) -> None:
    """Reading and re-rendering an unchanged ticket gives the committed bytes back."""
    desk_obj = store.Desk(desk)
    ticket = desk_obj.read(committed_ticket["id"])

    assert store.render(ticket) == ticket_path(desk, ticket.id).read_text(encoding="utf-8")
    assert git(desk, "status", "--porcelain", "--", "tickets") == ""


# --- concurrency with real processes ---------------------------------------------------------


def test_concurrent_comments_from_real_processes_are_all_kept(
    desk: Path, new_ticket: NewTicket, tmp_path: Path
) -> None:
    ticket_id = new_ticket()["id"]
    gate = tmp_path / "go"
    processes = [sdesk_process(["comment", ticket_id, f"comment {n}"], gate) for n in range(8)]
    time.sleep(0.3)  # let them import; correctness does not depend on this, only the amount of contention
    gate.touch()
    outcomes = [(*process.communicate(timeout=60), process.returncode) for process in processes]

    for out, err, code in outcomes:
        assert "Traceback" not in err, err
        assert code == 0, err
        assert out == f"{ticket_id}: public comment added\n"
    ticket = store.read_ticket(ticket_path(desk, ticket_id))  # the file still parses
    comments = sorted(event.text or "" for event in ticket.history if event.kind == "comment")
    assert comments == sorted(f"comment {n}" for n in range(8))
    assert [event.kind for event in ticket.history][0] == "created"
    assert len(ticket.history) == 9
    assert temp_files(desk) == []


def test_concurrent_new_tickets_from_real_processes_get_distinct_files(desk: Path, tmp_path: Path) -> None:
    gate = tmp_path / "go"
    processes = [
        sdesk_process(
            [
                "new",
                "--title",
                f"melding {n}",
                "--type",
                "incident",
                "--customer",
                "zonnebloem",
                "--requester",
                "els.vermeulen@zonnebloem.example",
                "--product",
                "care-dossier",
                "--site",
                "2101",
                "--description",
                f"Melding {n} van vandaag.",
                "--format",
                "json",
            ],
            gate,
        )
        for n in range(8)
    ]
    time.sleep(0.3)
    gate.touch()
    outcomes = [(*process.communicate(timeout=60), process.returncode) for process in processes]

    numbers = []
    for out, err, code in outcomes:
        assert "Traceback" not in err, err
        assert code == 0, err
        numbers.append(json.loads(out)["id"])
    assert len(set(numbers)) == 8
    assert sorted(path.stem for path in (desk / "tickets").glob("*.yaml")) == sorted(numbers)
    titles = {store.read_ticket(ticket_path(desk, number)).title for number in numbers}
    assert titles == {f"melding {n}" for n in range(8)}


# --- atomic writes --------------------------------------------------------------------------------


def test_many_updates_leave_no_temporary_files(desk: Path, run: Run, new_ticket: NewTicket) -> None:
    ticket_id = new_ticket()["id"]
    # Only moves rules.yaml allows: out to each waiting status and back to in-progress.
    statuses = [
        "in-progress",
        "waiting-for-customer",
        "in-progress",
        "on-hold",
        "in-progress",
        "scheduled",
        "in-progress",
        "awaiting-acceptance",
    ]
    for round_ in range(3):
        for status in statuses:
            assert run("update", ticket_id, "--status", status).exit_code == 0
        assert run("comment", ticket_id, f"ronde {round_}").exit_code == 0

    assert temp_files(desk) == []
    assert sorted(entry.name for entry in (desk / "tickets").iterdir()) == [f"{ticket_id}.yaml"]
    ticket = store.read_ticket(ticket_path(desk, ticket_id))
    assert len(ticket.history) == 1 + 3 * (len(statuses) + 1)
    assert ticket.status == "awaiting-acceptance"


def _failing(name: str, exc: BaseException) -> Callable[..., None]:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise exc

    fail.__name__ = name
    return fail


@pytest.mark.parametrize("step", ["replace", "fsync"])
def test_a_failed_write_keeps_the_old_file_and_reports_one_line(
    in_desk: Path, run: Run, new_ticket: NewTicket, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    ticket_id = new_ticket()["id"]
    path = ticket_path(in_desk, ticket_id)
    before = path.read_bytes()
    with monkeypatch.context() as patched:
        patched.setattr(store.os, step, _failing(step, OSError(errno.ENOSPC, "No space left on device")))
        result = run("comment", ticket_id, "Interne notitie", "--internal")  # no mail
        mailing = run("update", ticket_id, "--status", "in-progress")  # its mail is owed by the history alone

    assert_one_line_error(result, f"tickets/{ticket_id}.yaml", "cannot write", "No space left on device")
    assert_one_line_error(mailing, f"tickets/{ticket_id}.yaml", "cannot write", "No space left on device")
    assert path.read_bytes() == before
    assert temp_files(in_desk) == []
    assert [key.rsplit(".", 1)[1] for key in owed_mail(in_desk)] == ["created"]  # no mail for a change not saved


@pytest.mark.parametrize("step", ["replace", "fsync"])
def test_an_interrupted_write_keeps_the_old_file(
    desk: Path, new_ticket: NewTicket, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """Ctrl-C in the middle of a write (store API): the interruption propagates, nothing is torn or left behind."""
    ticket_id = new_ticket()["id"]
    path = ticket_path(desk, ticket_id)
    before = path.read_bytes()
    desk_obj = store.Desk(desk)
    moment = parse_timestamp(NOW)
    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(store.os, step, _failing(step, KeyboardInterrupt()))
        desk_obj.change(ticket_id, lambda ticket: workflow.comment(ticket, desk_obj.rules, "half", AGENT, moment))

    assert path.read_bytes() == before
    assert temp_files(desk) == []
    # The lock was released: the next change goes through.
    desk_obj.change(ticket_id, lambda ticket: workflow.comment(ticket, desk_obj.rules, "heel", AGENT, moment))
    assert store.read_ticket(path).history[-1].text == "heel"


# --- exclusive create --------------------------------------------------------------------------------


def test_add_draws_again_when_the_number_exists(desk: Path) -> None:
    existing = make_ticket(desk, "N1D28", title="Eerste ticket")
    before = ticket_path(desk, existing.id).read_bytes()
    desk_obj = store.Desk(desk)
    moment = parse_timestamp(NOW).astimezone(desk_obj.rules.timezone)
    draws = iter([bits("N1D28"), bits("QE2Q7")])
    values = {
        "title": "Tweede ticket",
        "type": "question",
        "customer": "zonnebloem",
        "requester": "els.vermeulen@zonnebloem.example",
        "product": "care-dossier",
    }
    plan = workflow.plan_new(desk_obj.rules, values, moment)
    calls = []

    def factory() -> Ticket:
        calls.append(1)
        return workflow.create(desk_obj.rules, plan, AGENT, moment, random_bits=next(draws))

    added = desk_obj.add(factory)

    assert len(calls) == 2
    assert added.id.endswith("-QE2Q7") and added.id != existing.id
    assert ticket_path(desk, existing.id).read_bytes() == before
    assert store.read_ticket(ticket_path(desk, added.id)).title == "Tweede ticket"
    assert temp_files(desk) == []


def test_add_gives_up_when_every_draw_collides(desk: Path) -> None:
    existing = make_ticket(desk, "N1D28")
    before = ticket_path(desk, existing.id).read_bytes()
    desk_obj = store.Desk(desk)
    values = {
        "title": "Botsing",
        "type": "question",
        "customer": "zonnebloem",
        "requester": "els.vermeulen@zonnebloem.example",
        "product": "care-dossier",
    }
    plan = workflow.plan_new(desk_obj.rules, values, existing.created)
    calls = []

    def factory() -> Ticket:
        calls.append(1)
        ticket = workflow.create(desk_obj.rules, plan, AGENT, existing.created, random_bits=bits("N1D28"))
        assert ticket.id == existing.id
        return ticket

    with pytest.raises(SdeskError, match="free ticket number"):
        desk_obj.add(factory, attempts=4)

    assert len(calls) == 4
    assert ticket_path(desk, existing.id).read_bytes() == before
    assert sorted(entry.name for entry in (desk / "tickets").iterdir()) == [f"{existing.id}.yaml"]


# --- broken files -------------------------------------------------------------------------------------

BROKEN_ID = "2Q3ZZZ-BR0KN"  # sorts before tickets created at NOW


def write_broken(desk: Path, text: str | bytes, ticket_id: str = BROKEN_ID) -> Path:
    path = ticket_path(desk, ticket_id)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def good_text(desk: Path, ticket_id: str) -> str:
    return ticket_path(desk, ticket_id).read_text(encoding="utf-8")


def test_invalid_yaml_is_skipped_by_list_and_refused_by_the_rest(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    good = [new_ticket(title=f"Ticket {n}")["id"] for n in range(3)]
    text = good_text(in_desk, good[0]).replace(f"id: {good[0]}", f"id: {BROKEN_ID}")
    text = re.sub(r"^title: .*$", "title: [unclosed", text, count=1, flags=re.MULTILINE)
    path = write_broken(in_desk, text)
    before = path.read_bytes()
    where = re.compile(rf"tickets/{BROKEN_ID}\.yaml:(\d+:\d+): invalid YAML")

    listed = run("list", "--all", "--format", "json")
    assert "Traceback" not in listed.output
    assert listed.exit_code == 0, listed.output
    assert sorted(row["id"] for row in json.loads(listed.stdout)) == sorted(good)
    warnings = [line for line in listed.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1, listed.stderr
    found = where.search(warnings[0])
    assert found, warnings[0]
    place = found.group(1)  # line:column

    for args in (
        ["show", BROKEN_ID],
        ["update", BROKEN_ID, "--title", "Hersteld"],
        ["update", BROKEN_ID, "--status", "in-progress"],
        ["comment", BROKEN_ID, "nog een opmerking"],
        ["close", BROKEN_ID, "--resolution", "x"],
    ):
        message = assert_one_line_error(run(*args), f"Error: tickets/{BROKEN_ID}.yaml:{place}: invalid YAML")
        assert where.search(message), message
        assert path.read_bytes() == before, args

    checked = run("check")
    assert "Traceback" not in checked.output
    assert checked.exit_code == 1
    assert f"tickets/{BROKEN_ID}.yaml:{place}: invalid YAML" in checked.output
    assert path.read_bytes() == before
    assert temp_files(in_desk) == []


def test_invalid_yaml_names_the_line_with_the_mistake(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    """The unclosed '[' is on the title line; the file:line:column a user opens should be that '['."""
    good = new_ticket()["id"]
    text = good_text(in_desk, good).replace(f"id: {good}", f"id: {BROKEN_ID}")
    text = re.sub(r"^title: .*$", "title: [unclosed", text, count=1, flags=re.MULTILINE)
    write_broken(in_desk, text)
    line = line_of(text, "title:")
    column = text.splitlines()[line - 1].index("[") + 1

    assert_one_line_error(run("show", BROKEN_ID), f"tickets/{BROKEN_ID}.yaml:{line}:{column}: ")


def test_valid_yaml_but_invalid_ticket_names_the_line_and_suggests(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    """Statuses are the desk's own (rules.yaml): a file still reads, and `sdesk check` names the typo."""
    good = new_ticket()["id"]
    text = good_text(in_desk, good).replace(f"id: {good}", f"id: {BROKEN_ID}").replace("status: open", "status: opne")
    path = write_broken(in_desk, text)
    before = path.read_bytes()
    expected = (
        f"tickets/{BROKEN_ID}.yaml:{line_of(text, 'status:')}:1: status: unknown status 'opne' (did you mean 'open'?)"
    )

    listed = run("list")
    assert listed.exit_code == 0, listed.output
    assert good in listed.stdout and BROKEN_ID in listed.stdout
    assert "Warning" not in listed.stderr
    assert show_json(run, BROKEN_ID)["status"] == "opne"
    assert path.read_bytes() == before

    checked = run("check")
    assert "Traceback" not in checked.output
    assert checked.exit_code == 1
    assert checked.stdout.splitlines() == [expected]
    assert checked.stderr == "Error: 2 ticket files checked, 1 problem\n"
    assert path.read_bytes() == before


def test_a_hand_typed_impossible_date_is_reported_not_crashed_on(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    good = new_ticket()["id"]
    text = good_text(in_desk, good).replace(f"id: {good}", f"id: {BROKEN_ID}")
    text = re.sub(r"^created: .*$", "created: 2026-02-30T10:00:00+01:00", text, count=1, flags=re.MULTILINE)
    path = write_broken(in_desk, text)
    before = path.read_bytes()

    listed = run("list")  # run() re-raises anything the CLI does not turn into an error message
    assert listed.exit_code == 0, listed.output
    assert good in listed.stdout
    assert f"tickets/{BROKEN_ID}.yaml" in listed.stderr
    assert_one_line_error(run("show", BROKEN_ID), f"tickets/{BROKEN_ID}.yaml")
    assert path.read_bytes() == before


def test_a_non_utf8_file_is_reported_not_crashed_on(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    good = new_ticket()["id"]
    text = good_text(in_desk, good).replace(f"id: {good}", f"id: {BROKEN_ID}")
    raw = text.replace("Zorgdossier opent niet", "Caf\udce9 opent niet").encode("utf-8", "surrogateescape")
    path = write_broken(in_desk, raw)  # Latin-1 'é' (byte 0xE9) in an otherwise UTF-8 file

    listed = run("list")
    assert listed.exit_code == 0, listed.output
    assert good in listed.stdout
    warnings = [line for line in listed.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and f"tickets/{BROKEN_ID}.yaml" in warnings[0] and "UTF-8" in warnings[0], warnings

    assert_one_line_error(run("show", BROKEN_ID), f"tickets/{BROKEN_ID}.yaml", "not UTF-8")
    assert_one_line_error(run("comment", BROKEN_ID, "hallo"), f"tickets/{BROKEN_ID}.yaml", "not UTF-8")
    assert path.read_bytes() == raw
    checked = run("check")
    assert checked.exit_code == 1 and f"tickets/{BROKEN_ID}.yaml" in checked.stdout


def test_a_file_whose_id_differs_from_its_name_is_reported(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    good = new_ticket()["id"]
    text = good_text(in_desk, good)  # still says id: <good>
    path = write_broken(in_desk, text)
    expected = f"tickets/{BROKEN_ID}.yaml:{line_of(text, 'id:')}:1: id: '{good}' does not match the file name"

    listed = run("list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert [row["id"] for row in json.loads(listed.stdout)] == [good]  # listed once, not twice
    assert [line for line in listed.stderr.splitlines() if line.startswith("Warning:")] == [
        f"Warning: {expected} (skipped)"
    ]
    assert assert_one_line_error(run("show", BROKEN_ID)) == f"Error: {expected}"
    assert assert_one_line_error(run("comment", BROKEN_ID, "x")) == f"Error: {expected}"
    assert path.read_bytes() == text.encode("utf-8")
    checked = run("check")
    assert checked.exit_code == 1 and expected in checked.stdout


# --- path tricks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["show", "../x"],
        ["show", "/etc/passwd"],
        ["show", "../rules"],
        ["update", "../../rules", "--title", "x"],
        ["update", "../rules", "--status", "in-progress"],
        ["comment", "..%2f", "x"],
        ["comment", "../tickets/x", "x"],
        ["close", "/tmp/x", "--resolution", "x"],
        ["reopen", "..", "--reason", "x"],
    ],
)
def test_path_tricks_are_refused_and_touch_nothing(
    in_desk: Path, run: Run, new_ticket: NewTicket, tmp_path: Path, args: list[str]
) -> None:
    new_ticket()
    (tmp_path / "x").write_text("buiten de desk\n")
    before = tree(tmp_path)

    result = run(*args)

    assert_one_line_error(result, "is not a ticket number")
    assert tree(tmp_path) == before


def test_files_not_named_like_tickets_are_not_listed_but_check_names_each(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    good = new_ticket()["id"]
    tickets = in_desk / "tickets"
    (tickets / "notes.yaml").write_text("title: [not a ticket\n")
    (tickets / ".gitkeep").write_text("")
    (tickets / "README.md").write_text("# tickets\n")
    (tickets / f".{good}.yaml.k3j4x.tmp").write_text("half written")
    (tickets / f"{good}.yaml.orig").write_text("id: oud\n")
    (tickets / "2Q3ZZZ-BR0KN.yml").write_text("title: [wrong extension\n")

    listed = run("list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert [row["id"] for row in json.loads(listed.stdout)] == [good]
    assert "Warning" not in listed.stderr

    checked = run("check")
    assert checked.exit_code == 1, checked.output
    reported = checked.stdout.splitlines()
    assert reported == [
        "tickets/2Q3ZZZ-BR0KN.yml: not a name sdesk reads, so it is never listed (did you mean 2Q3ZZZ-BR0KN.yaml?)",
        f"tickets/{good}.yaml.orig: not a name sdesk reads, so it is never listed (expected tickets/<NUMBER>.yaml)",
        "tickets/README.md: not a name sdesk reads, so it is never listed (expected tickets/<NUMBER>.yaml)",
        "tickets/notes.yaml: not a name sdesk reads, so it is never listed (expected tickets/<NUMBER>.yaml)",
    ]
    assert "1 ticket file checked, 4 problems" in checked.stderr


# --- prefix resolution -----------------------------------------------------------------------------------


@pytest.fixture
def numbered(desk: Path) -> dict[str, str]:
    """Three tickets with known numbers: two in the same second, one a day later."""
    a = make_ticket(desk, "N1D28", title="Eerste")
    b = make_ticket(desk, "QE2Q7", title="Tweede")
    c = make_ticket(desk, "7YJK2", now="2026-11-24T10:00:00+01:00", title="Derde")
    assert a.id[:6] == b.id[:6] != c.id[:6]
    return {"a": a.id, "b": b.id, "c": c.id}


def test_references_resolve_to_the_one_ticket(run: Run, numbered: dict[str, str]) -> None:
    a, c = numbered["a"], numbered["c"]
    compact_a = a.replace("-", "")
    references = {
        a: a,
        compact_a: a,
        a.lower(): a,
        compact_a.lower(): a,
        a[:8]: a,  # unique prefix spanning the dash
        compact_a[:7]: a,
        c[:6]: c,  # the only ticket of its second
        c[:4]: c,
        "N1D28": a,  # random part, the short form on the phone
        "n1d": a,
        "nld28": a,  # l read as 1
        a.lower().replace("0", "o"): a,  # o read as 0
        "7YJ": c,
    }
    for ref, expected in references.items():
        assert show_json(run, ref)["id"] == expected, ref


def test_an_ambiguous_prefix_lists_the_candidates(run: Run, numbered: dict[str, str]) -> None:
    a, b, c = numbered["a"], numbered["b"], numbered["c"]

    message = assert_one_line_error(run("show", a[:6]), "ambiguous")
    assert a in message and b in message and c not in message

    message = assert_one_line_error(run("comment", a[:2].lower(), "x"), "ambiguous")
    assert a in message and b in message and c in message


def test_an_unknown_reference_says_no_ticket_matches(run: Run, numbered: dict[str, str]) -> None:
    assert_one_line_error(run("show", "ZZZZ"), "no ticket matches 'ZZZZ'")
    full_unknown = numbered["a"][:7] + "ZZZZZ"
    assert_one_line_error(run("show", full_unknown), f"no ticket matches '{full_unknown}'")
    assert_one_line_error(run("update", "1D28", "--status", "in-progress"), "no ticket matches")


# --- never a traceback, as a real process ------------------------------------------------------------------


def test_error_cases_never_print_a_traceback(in_desk: Path, new_ticket: NewTicket) -> None:
    good = new_ticket()["id"]
    text = good_text(in_desk, good)
    write_broken(
        in_desk,
        re.sub(r"^title: .*$", "title: [unclosed", text.replace(good, "2Q3ZZZ-AAAAA"), flags=re.MULTILINE),
        "2Q3ZZZ-AAAAA",
    )
    write_broken(
        in_desk, text.replace(good, "2Q3ZZZ-BBBBB").replace("event: created", "event: craeted"), "2Q3ZZZ-BBBBB"
    )
    write_broken(in_desk, b"id: 2Q3ZZZ-CCCCC\ntitle: caf\xe9\n", "2Q3ZZZ-CCCCC")
    write_broken(in_desk, text, "2Q3ZZZ-DDDDD")
    before = tree(in_desk / "tickets")
    cases = [
        (["show", "../x"], 1),
        (["show", "/etc/passwd"], 1),
        (["update", "../../rules", "--title", "x"], 1),
        (["comment", "..%2f", "x"], 1),
        (["show", "2Q3ZZZ"], 1),
        (["show", "ZZZZ"], 1),
        (["show", "2Q3ZZZ-AAAAA"], 1),
        (["update", "2Q3ZZZ-BBBBB", "--status", "in-progress"], 1),
        (["comment", "2Q3ZZZ-CCCCC", "x"], 1),
        (["show", "2Q3ZZZ-DDDDD"], 1),
        (["check"], 1),
        (["list"], 0),
    ]
    processes = [(args, code, sdesk_process(args)) for args, code in cases]

    for args, code, process in processes:
        out, err = process.communicate(timeout=60)
        assert "Traceback" not in err + out, (args, err)
        assert process.returncode == code, (args, err)
        if code == 1:
            assert err.splitlines()[-1].startswith("Error: "), (args, err)
    assert tree(in_desk / "tickets") == before


def test_a_duplicated_key_is_reported_not_silently_dropped(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    """Two status lines (a hand edit gone wrong) must not quietly keep one of them."""
    good = new_ticket()["id"]
    text = good_text(in_desk, good).replace(f"id: {good}", f"id: {BROKEN_ID}")
    text = text.replace("status: open\n", "status: open\nstatus: closed\n")
    path = write_broken(in_desk, text)
    before = path.read_bytes()
    line = text.splitlines().index("status: closed") + 1
    assert_one_line_error(
        run("show", BROKEN_ID), f"tickets/{BROKEN_ID}.yaml:{line}:1: invalid YAML: duplicate key 'status'"
    )
    assert run("check").exit_code == 1
    assert path.read_bytes() == before


def test_a_lock_file_that_is_a_symbolic_link_is_an_error_not_followed(
    desk: Path, run: Run, new_ticket: NewTicket, tmp_path: Path
) -> None:
    from sdesk.storage import store

    ticket_id = new_ticket()["id"]
    lock_dir = desk / store.STATE_DIR / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    elsewhere = tmp_path / "elsewhere"
    (lock_dir / f"{ticket_id}.lock").symlink_to(elsewhere)
    assert_one_line_error(run("comment", ticket_id, "hallo"), f"cannot lock {ticket_id}")
    assert not elsewhere.exists()


def test_a_change_whose_lock_file_is_removed_meanwhile_saves_nothing(desk: Path, new_ticket: NewTicket) -> None:
    """`rm -r .sdesk` while a change is being made: another sdesk could have changed the ticket under a new lock."""
    import shutil

    from sdesk.errors import Refused

    ticket_id = new_ticket()["id"]
    before = ticket_path(desk, ticket_id).read_bytes()
    desk_obj = store.Desk(desk)
    moment = parse_timestamp(NOW)

    def decide_while_the_state_folder_goes(ticket: Ticket) -> Any:
        shutil.rmtree(desk / store.STATE_DIR)
        return workflow.comment(ticket, desk_obj.rules, "half", AGENT, moment)

    with pytest.raises(Refused, match="its lock file was removed during the change; nothing saved"):
        desk_obj.change(ticket_id, decide_while_the_state_folder_goes)
    assert ticket_path(desk, ticket_id).read_bytes() == before
    desk_obj.change(ticket_id, lambda ticket: workflow.comment(ticket, desk_obj.rules, "heel", AGENT, moment))
    assert "heel" in ticket_path(desk, ticket_id).read_text(encoding="utf-8")


def test_a_ticket_locked_by_another_process_is_refused_not_overwritten(
    desk: Path, run: Run, new_ticket: NewTicket, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sdesk.storage import store

    ticket_id = new_ticket()["id"]
    before = ticket_path(desk, ticket_id).read_bytes()
    monkeypatch.setattr(store, "LOCK_TIMEOUT_SECONDS", 0.2)
    lock_dir = desk / store.STATE_DIR / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with held_by_another_process(lock_dir / f"{ticket_id}.lock"):
        assert_one_line_error(run("comment", ticket_id, "hallo"), f"{ticket_id} is being changed by another sdesk")
    assert ticket_path(desk, ticket_id).read_bytes() == before
