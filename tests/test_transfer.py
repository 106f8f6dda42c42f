"""Export and import: `sdesk export json|csv` gives every ticket back byte for byte through `sdesk import`,
and another helpdesk's CSV moves in through a mapping, each refused row named by its line."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdesk.formats import jsonlist
from sdesk.output import FORMULA_STARTS
from sdesk.terminal import visible_lines
from sdesk.tickets import transfer
from tests.conftest import REPO, Run, held_by_another_process, ok
from tests.test_store import assert_one_line_error, write_broken

NewTicket = Callable[..., dict[str, Any]]
HOSTILE = "\x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c \x7f \x85 \u2028"


def ticket_files(desk: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((desk / "tickets").glob("*.yaml"))}


def empty_desk(tmp_path: Path, name: str) -> Path:
    """A new desk with the example's rules, as sdesk init and a copied rules.yaml leave it."""
    root = tmp_path / name
    (root / "tickets").mkdir(parents=True)
    shutil.copy(REPO / "rules.yaml", root / "rules.yaml")
    (root / "deliveries").mkdir()
    (root / "deliveries" / "baseline.yaml").write_text("commit: none\n", encoding="utf-8")
    return root


@pytest.fixture
def varied(desk: Path, run: Run, new_ticket: NewTicket, at: Callable[[str], None]) -> Path:
    """A desk whose tickets use what a file can hold: comments, unicode, control characters, line breaks,
    formula-like text, closed and reopened, time (on site, corrected), a survey, a cooperation incident."""
    at("2026-11-16 09:00")
    first = new_ticket(
        title='=HYPERLINK("http://evil.example","klik") \'quoted\' -2+3 🙂',
        description=f"Regel één\nRegel twee\twith a tab\r\nand CRLF {HOSTILE}\n  indented\n\\u001b is not ESC",
        error_message="+32 50 44 12 10 @ 'Fout'",
        url="https://dossier.zonnebloem.example/?a=1,b=2",
    )["id"]
    at("2026-11-16 09:30")
    ok(run("comment", first, f"Publiek antwoord met 'quotes', \"dubbele\" en {HOSTILE}"))
    ok(run("comment", first, "--internal", "--", "-intern: =1+1\n@mention"))
    ok(run("update", first, "--status", "in-progress", "--assignee", "me", "--note", "Opgepakt"))
    ok(run("log", first, "1h30m", "--note", "Ter plaatse", "--on-site", "--billable"))
    at("2026-11-16 11:00")
    ok(run("close", first, "--resolution", "Opgelost,\nmet een komma en een regelbreuk"))
    ok(run("survey", first, "4", "--comment", "Goed"))
    at("2026-11-17 10:00")
    ok(run("reopen", first, "--reason", "Komt terug"))
    ok(run("close", first, "--resolution", "Nu echt"))
    at("2026-11-18 10:00")
    cooperation = ("--cooperation", "--their-ticket", "FOD-SD-2026-1187", "--their-email", "ict@zonnebloem.example")
    new_ticket(*cooperation, title="Koppeling", external_ref="'0042", contact_phone="+32 2 212 96 00")
    at("2026-11-18 10:05")
    new_ticket(
        type="question",
        customer="brightwave",
        requester="olivia.hughes@brightwave.example",
        site="5001",
        title="Tab\tx",
    )
    return desk


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_into_an_empty_desk_gives_the_same_files_byte_for_byte(
    varied: Path, run: Run, tmp_path: Path, fmt: str
) -> None:
    exported = tmp_path / f"desk.{fmt}"
    result = run("export", fmt, "--output", str(exported))
    assert result.exit_code == 0 and result.stderr == f"Exported 3 tickets to {exported}.\n"
    assert exported.read_text(encoding="utf-8") == ok(run("export", fmt))  # stdout carries the same text
    target = empty_desk(tmp_path, "target")

    result = run("--desk", str(target), "import", str(exported))
    assert ok(result) == "Imported 3 tickets.\n"
    assert ticket_files(target) == ticket_files(varied)
    assert "the imported history owes no mail" in result.stderr
    assert not (target / "deliveries" / "baseline.yaml").exists()

    again = run("--desk", str(target), "import", str(exported))
    assert ok(again) == "Imported 0 tickets; 3 tickets already in the desk.\n"
    assert ticket_files(target) == ticket_files(varied)
    assert ok(run("--desk", str(target), "check", "--format", "json")) == "[]\n"


def test_the_export_is_every_ticket_as_its_file_holds_it_and_safe_to_open(varied: Path, run: Run) -> None:
    data = json.loads(ok(run("export", "json")))
    shown = json.loads(ok(run("list", "--all", "--format", "json")))
    assert [ticket["id"] for ticket in data] == [row["id"] for row in shown]
    assert [event["event"] for event in data[0]["history"]] == [
        "created", "comment", "comment", "updated", "time", "closed", "survey", "reopened", "closed"
    ]  # fmt: skip
    assert data[0]["history"][4] == {
        "at": "2026-11-16T09:30:00+01:00",
        "by": "agent@caresolutions.example",
        "event": "time",
        "on": "2026-11-16",
        "minutes": 90,
        "billing": "billable",
        "on_site": True,
        "text": "Ter plaatse",
    }
    text = ok(run("export", "csv"))
    assert visible_lines(text) == text  # nothing a terminal obeys
    rows = list(__import__("csv").reader(io.StringIO(text)))
    assert rows[0] == list(transfer.CSV_COLUMNS)
    for row in rows[1:]:
        assert not any(cell.startswith(FORMULA_STARTS) for cell in row)
    assert rows[1][1] == '\'=HYPERLINK(\\"http://evil.example\\",\\"klik\\") \'quoted\' -2+3 🙂'
    assert rows[2][transfer.CSV_COLUMNS.index("external_ref")] == "''0042"


@given(st.text())
def test_a_csv_cell_reads_back_as_exactly_the_text_and_never_starts_a_formula(text: str) -> None:
    cell = transfer.write_cell(text)
    assert transfer.read_cell(cell) == text
    assert not cell.startswith(FORMULA_STARTS)
    assert visible_lines(cell) == cell


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("Printer", "Printer"),
        ("C:\\temp\\u001b", "C:\\temp\\u001b"),  # a backslash is text: only an escaped cell reads escapes
        ("two\nlines\tand a tab", "two\nlines\tand a tab"),
        ("=1+1", "'=1+1"),
        ("'quoted", "''quoted"),
        ("a\x1bb\rc", "'a\\u001bb\\rc"),
        ("\ttab first", "'\\ttab first"),
    ],
)
def test_csv_cells_as_written(text: str, cell: str) -> None:
    assert transfer.write_cell(text) == cell


def test_a_broken_ticket_file_stops_the_export_before_anything_is_written(
    desk: Path, run: Run, new_ticket: NewTicket, tmp_path: Path
) -> None:
    new_ticket()
    write_broken(desk, "id: [unclosed\n")
    out = tmp_path / "backup.json"
    for args in (["--output", str(out)], []):
        assert_one_line_error(run("export", "json", *args), "invalid YAML", "nothing exported")
    assert not out.exists()


def test_an_empty_desk_exports_an_empty_list_and_a_header(desk: Path, run: Run) -> None:
    assert ok(run("export", "json")) == "[]\n"
    assert ok(run("export", "csv")) == ",".join(transfer.CSV_COLUMNS) + "\n"


def test_the_import_refuses_tickets_that_break_this_desks_rules_or_differ_from_its_own(
    varied: Path, run: Run, tmp_path: Path
) -> None:
    exported = tmp_path / "desk.json"
    ok(run("export", "json", "--output", str(exported)))
    data = json.loads(exported.read_text(encoding="utf-8"))
    target = empty_desk(tmp_path, "target")
    different = dict(data[0], title="Een andere titel")
    (target / "tickets" / f"{data[0]['id']}.yaml").write_text("kept as it is\n", encoding="utf-8")
    data[2]["customer"] = "acme"
    text = json.dumps([different, data[1], data[2], data[1]], indent=2)
    exported.write_text(text, encoding="utf-8")
    starts = [number for number, line in enumerate(text.splitlines(), 1) if line == "  {"]

    result = run("--desk", str(target), "import", str(exported))
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"desk.json:{starts[0]}: ticket {data[0]['id']}: a different ticket with its number is in the desk: "
        "not overwritten"
    )
    assert lines[1].startswith(f"desk.json:{starts[2]}: ticket {data[2]['id']}: customer: unknown customer 'acme'")
    assert (
        lines[2] == f"desk.json:{starts[3]}: ticket {data[1]['id']}: is in the file twice (first at line {starts[1]})"
    )
    assert lines[3:] == [
        "Would import 1 ticket.",
        "Error: 3 of 4 refused: nothing imported (fix them and run it again, or import the others with --skip-refused)",
    ]
    assert sorted(ticket_files(target)) == [f"{data[0]['id']}.yaml"]

    # The desk has a ticket of its own (whose mail may be owed): the history it imports owes mail too.
    result = run("--desk", str(target), "import", str(exported), "--skip-refused", "--owe-mail")
    assert result.exit_code == 1 and result.stdout == "Imported 1 ticket.\n"
    assert result.stderr.splitlines()[-1] == "Error: 3 of 4 refused: the others imported"
    assert (target / "tickets" / f"{data[0]['id']}.yaml").read_text(encoding="utf-8") == "kept as it is\n"
    assert ticket_files(target)[f"{data[1]['id']}.yaml"] == ticket_files(varied)[f"{data[1]['id']}.yaml"]


def test_a_desk_whose_runner_already_mails_takes_an_import_only_with_owe_mail(
    varied: Path, run: Run, tmp_path: Path
) -> None:
    exported = tmp_path / "desk.csv"
    ok(run("export", "csv", "--output", str(exported)))
    target = empty_desk(tmp_path, "target")
    (target / "deliveries" / "baseline.yaml").write_text(f"commit: {'a' * 40}\n", encoding="utf-8")
    for dry_run in ([], ["--dry-run"]):
        assert_one_line_error(
            run("--desk", str(target), "import", str(exported), *dry_run),
            "this desk owes the mail of events since commit aaaaaaaaaaaa (deliveries/baseline.yaml)",
            "or pass --owe-mail",
        )
    assert ticket_files(target) == {}
    assert ok(run("--desk", str(target), "import", str(exported), "--owe-mail")) == "Imported 3 tickets.\n"
    assert (target / "deliveries" / "baseline.yaml").exists()


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "csv.csv:1: not a CSV that sdesk export csv wrote"),
        (b"[{]", "json.json:1: invalid JSON: Expecting property name enclosed in double quotes"),
        (b'[{"id": "2Q3XN5-V4T3T", "id": "x"}]', "json.json:1: invalid JSON: the key 'id' is written twice"),
        (b"[" * 100_000, "json.json:1: invalid JSON: nested too deeply"),
        (b"[]\n{}", "json.json:2: more after the end of the list"),
        (b'\n\n[{"title": "caf\xe9"}]', "json.json: not UTF-8 text (byte 17)"),
        (b'{"tickets": []}', "json.json:1: not a JSON list: it should start with ["),
    ],
    ids=["empty", "broken", "duplicate-key", "deep", "trailing", "latin-1", "object"],
)
def test_a_file_that_is_not_an_export_is_one_line_naming_it(
    desk: Path, run: Run, tmp_path: Path, content: bytes, error: str
) -> None:
    name = "json.json" if content.strip().startswith((b"[", b"{")) else "csv.csv"
    (tmp_path / name).write_bytes(content)
    assert_one_line_error(run("import", str(tmp_path / name)), error)


def test_the_json_reader_gives_each_item_with_its_line_whatever_the_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [{"id": n, "text": "één\nregel " * n, "nested": [{"a": [n]}]} for n in range(6)]
    text = json.dumps(items, indent=2, ensure_ascii=False)
    starts = [number for number, line in enumerate(text.splitlines(), 1) if line == "  {"]
    monkeypatch.setattr(jsonlist, "CHUNK", 7)
    read = list(jsonlist.items(io.BytesIO(b"\xef\xbb\xbf" + text.encode()), Path("x.json"), 10_000))
    assert read == list(zip(starts, items, strict=True))


def test_a_round_trip_through_real_processes_and_pipes(varied: Path, tmp_path: Path) -> None:
    environment = {**os.environ, "SDESK_DIR": str(varied)}
    exported = subprocess.run(
        [sys.executable, "-m", "sdesk", "export", "csv"], env=environment, capture_output=True, check=True, timeout=60
    )
    (tmp_path / "desk.csv").write_bytes(exported.stdout)
    target = empty_desk(tmp_path, "target")
    imported = subprocess.run(
        [sys.executable, "-m", "sdesk", "--desk", str(target), "import", "--from", "csv", str(tmp_path / "desk.csv")],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert imported.returncode == 0, imported.stderr
    assert ticket_files(target) == ticket_files(varied)


def test_a_pipe_is_refused_rather_than_waited_on(desk: Path, run: Run, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    assert_one_line_error(run("import", str(tmp_path / "pipe")), "is a FIFO (named pipe): sdesk reads the file")


@pytest.mark.parametrize(
    ("fmt", "title", "hostile"), [("json", '"Koppeling"', '"\\ud800"'), ("csv", ",Koppeling,", ",'\\ud800,")]
)
def test_a_lone_surrogate_is_refused_as_text_no_file_can_hold(
    varied: Path, run: Run, tmp_path: Path, fmt: str, title: str, hostile: str
) -> None:
    exported = tmp_path / f"desk.{fmt}"
    ok(run("export", fmt, "--output", str(exported)))
    text = exported.read_text(encoding="utf-8")
    assert title in text
    exported.write_text(text.replace(title, hostile), encoding="utf-8")
    target = empty_desk(tmp_path, "target")
    result = run("--desk", str(target), "import", str(exported))
    assert result.exit_code == 1
    assert "title: holds a lone surrogate (\\ud800): no file holds it" in result.stderr
    assert ticket_files(target) == {}


def test_tickets_without_a_number_on_one_line_are_each_refused_for_what_they_are(
    desk: Path, run: Run, tmp_path: Path
) -> None:
    (tmp_path / "desk.json").write_text('[null, "text", {"title": "x"}]', encoding="utf-8")  # as jq -c writes a list
    result = run("import", str(tmp_path / "desk.json"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:3] == [
        "desk.json:1: a ticket: expected a mapping, got nothing",
        "desk.json:1: a ticket: expected a mapping, got 'text'",
        "desk.json:1: a ticket: id: is required",
    ]


def test_a_second_import_at_once_is_told_another_is_running(
    varied: Path, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sdesk.actions.transfer import LOCK
    from sdesk.storage import store

    exported = tmp_path / "desk.json"
    ok(run("export", "json", "--output", str(exported)))
    target = empty_desk(tmp_path, "target")
    monkeypatch.setattr(store, "LOCK_TIMEOUT_SECONDS", 0.2)
    (target / store.STATE_DIR / "locks").mkdir(parents=True)
    with held_by_another_process(target / store.STATE_DIR / "locks" / f"{LOCK}.lock"):
        assert_one_line_error(
            run("--desk", str(target), "import", str(exported)),
            "another sdesk import is running in this desk: try again when it is done",
        )
    assert ticket_files(target) == {}


def test_a_ticket_whose_file_would_be_more_than_sdesk_reads_is_refused_before_anything_is_written(
    varied: Path, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sdesk.formats import files

    exported = tmp_path / "desk.json"
    ok(run("export", "json", "--output", str(exported)))
    data = json.loads(exported.read_text(encoding="utf-8"))
    data[1]["description"] = "🎉" * 10_000  # 40,000 bytes in the file: 4 for each character the export counts
    exported.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(files, "MAX_BYTES", 30_000)
    target = empty_desk(tmp_path, "target")
    result = run("--desk", str(target), "import", str(exported))
    assert result.exit_code == 1
    assert f"ticket {data[1]['id']}: its file would be 40," in result.stderr
    assert "bytes, more than sdesk reads (30,000)" in result.stderr
    assert ticket_files(target) == {}


def test_a_ticket_of_an_outage_asks_for_the_announcements_and_comes_in_with_them(
    desk: Path, run: Run, new_ticket: NewTicket, tmp_path: Path
) -> None:
    """An export holds tickets, not announcements: the refusal says what to copy, and then the import takes it."""
    outage = ("--kind", "outage", "--title", "Zorgdossier plat", "--start", "2026-11-23T09:00", "--customers", "all")
    announced = json.loads(ok(run("announce", "new", *outage, "--format", "json")))[0]["id"]
    new_ticket(outage=announced)
    exported = tmp_path / "desk.json"
    ok(run("export", "json", "--output", str(exported)))
    target = empty_desk(tmp_path, "target")
    refused = run("--desk", str(target), "import", str(exported))
    assert refused.exit_code == 1
    assert f"no announcement {announced} in announcements/ (copy announcements/ from the desk" in refused.stderr
    shutil.copytree(desk / "announcements", target / "announcements")
    assert ok(run("--desk", str(target), "import", str(exported))) == "Imported 1 ticket.\n"
    assert ticket_files(target) == ticket_files(desk)
