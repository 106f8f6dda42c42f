"""Moving in: another helpdesk's CSV export becomes tickets through a mapping file (`sdesk import --mapping`),
each refused row named by its line, the mapping's mistakes by theirs, and a second run adds only what is new."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, Run, ok
from tests.test_store import assert_one_line_error
from tests.test_transfer import ticket_files

EXAMPLES = REPO / "examples" / "import"
MAPPING = EXAMPLES / "freshdesk-mapping.yaml"
THEIRS = EXAMPLES / "freshdesk-tickets.csv"


REFUSED = [
    "freshdesk-tickets.csv:10: their ticket '1045': customer 'Acme Corp' is not in the mapping's values.customer",
    "freshdesk-tickets.csv:11: their ticket '1046': created '2026-02-30 10:00:00' is not a date as the mapping's "
    "dates.format says (%Y-%m-%d %H:%M:%S); updated '2026-02-30 10:00:00' is not a date as the mapping's "
    "dates.format says (%Y-%m-%d %H:%M:%S)",
    "freshdesk-tickets.csv:12: their ticket '1047': status 'Waiting on Third Party' is not in the mapping's "
    "values.status",
    "freshdesk-tickets.csv:13: their ticket '1048': type: site is missing: an incident needs site "
    "(rules.yaml: types.incident.required)",
    "freshdesk-tickets.csv:15: their ticket '1050': requester 'wim.desmet at zonnebloem.example' is not an email "
    "address",
]


@pytest.fixture
def in_examples(desk: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(EXAMPLES)
    monkeypatch.setenv("SDESK_USER", "migration@caresolutions.example")
    return desk


def test_another_helpdesks_csv_moves_in_with_each_refused_row_named_by_its_line(in_examples: Path, run: Run) -> None:
    result = run("import", "--mapping", MAPPING.name, THEIRS.name)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        *REFUSED,
        "Would import 5 tickets.",
        "Error: 5 of 10 refused: nothing imported "
        "(fix them and run it again, or import the others with --skip-refused)",
    ]
    assert ticket_files(in_examples) == {}

    result = run("import", "--mapping", MAPPING.name, THEIRS.name, "--skip-refused")
    assert result.exit_code == 1 and result.stdout == "Imported 5 tickets.\n"
    assert result.stderr.splitlines()[-1] == "Error: 5 of 10 refused: the others imported"
    rows = json.loads(ok(run("list", "--all", "--format", "json")))
    assert [(row["title"][:20], row["status"], row["priority"], row["team"]) for row in rows] == [
        ("Accès au dossier pou", "closed", "P4", "servicedesk"),  # 2023: numbered from sdesk's first second
        ("How do we add a team", "closed", "P4", "servicedesk"),
        ("Scanners in hal 3 ve", "in-progress", "P2", "noc"),
        ("Redacteursaccount vo", "waiting-for-customer", "P3", "servicedesk"),
        ("Medicatielijst toont", "open", "P1", "servicedesk"),
    ]
    assert rows[0]["id"].startswith("000000-")
    shown = json.loads(ok(run("show", rows[2]["id"], "--format", "json")))
    assert shown["assignee"] == "bram.de.smet@caresolutions.example" and shown["contact_name"] == "Joost Bakker"
    assert shown["sla_plan"] == "24x7" and shown["created"] == "2026-11-16T08:12:40+01:00"
    assert [(event["at"], event["event"], event.get("text")) for event in shown["history"]] == [
        (
            "2026-11-16T08:12:40+01:00",
            "created",
            "Imported from Freshdesk: their ticket 1041.\n(freshdesk-tickets.csv line 2)",
        ),
        ("2026-11-16T09:30:02+01:00", "updated", "Status in Freshdesk: Pending"),
    ]
    medication = json.loads(ok(run("show", rows[4]["id"], "--format", "json")))
    assert medication["description"].startswith("Op afdeling 2B:\n- ochtendronde")
    assert ok(run("check", "--format", "json")) == "[]\n"
    assert "No mail owed." in run("notify", "list").stderr

    again = run("import", "--mapping", MAPPING.name, THEIRS.name, "--skip-refused")
    assert again.stdout == "Imported 0 tickets; 5 tickets already in the desk.\n"
    assert len(ticket_files(in_examples)) == 5


def test_their_rows_fixed_later_come_in_on_a_second_run_and_twice_one_number_is_refused(
    in_examples: Path, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = THEIRS.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    theirs = tmp_path / "theirs.csv"
    theirs.write_text(
        "".join([lines[0], lines[1], lines[2], lines[1].replace("Scanners", "Scanner")]), encoding="utf-8"
    )
    result = run("import", "--mapping", str(MAPPING), theirs.name)
    assert result.stderr.splitlines()[0] == "theirs.csv:4: their ticket '1041': is in the file twice (first at line 2)"
    theirs.write_text("".join([lines[0], lines[1]]), encoding="utf-8")
    assert ok(run("import", "--mapping", str(MAPPING), theirs.name)) == "Imported 1 ticket.\n"
    theirs.write_text("".join([lines[0], lines[1], lines[2]]), encoding="utf-8")
    assert (
        ok(run("import", "--mapping", str(MAPPING), theirs.name))
        == "Imported 1 ticket; 1 ticket already in the desk.\n"
    )
    assert len(ticket_files(in_examples)) == 2


def test_a_row_from_the_future_is_refused(in_examples: Path, run: Run, at: Callable[[str], None]) -> None:
    at("2026-11-19 12:00")
    result = run("import", "--mapping", MAPPING.name, THEIRS.name, "--dry-run")
    assert "freshdesk-tickets.csv:5: their ticket '1044': created 2026-11-20 07:45 is later than now" in result.stderr


MAPPING_ERRORS = [
    ("  title: Subject\n", "  titel: Subject\n", "map.yaml:10:3: columns.titel: unknown key (did you mean 'title'?)"),
    ("    Pending: in-progress ", "    Pending: in-progres ",
     "map.yaml:27:5: values.status.Pending: unknown status 'in-progres' (did you mean 'in-progress'?)"),
    ("    Closed: closed\n", "    Closed: closed\n    closed: open\n",
     "map.yaml:31:5: values.status.closed: means what 'Closed' means (case and spaces do not count)"),
    ("Europe/Brussels", "Europe/Brusels", "map.yaml:62:3: dates.timezone: unknown time zone 'Europe/Brusels'"),
    ('"%Y-%m-%d %H:%M:%S"', '"%H:%M"', "map.yaml:61:3: dates.format: '%H:%M' does not say the day"),
    ("  type: question\n", "  type: &t question\n", "Error: map.yaml:65:9: YAML anchors and aliases (&name, *name)"),
    ("  title: Subject\n", "  title: Subjct\n",
     "map.yaml:10:3: columns.title: their CSV has no column 'Subjct' (did you mean 'Subject'?)"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "error"), MAPPING_ERRORS)
def test_a_mapping_error_names_the_file_and_line(
    in_examples: Path, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, error: str
) -> None:
    text = MAPPING.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "map.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("import", "--mapping", "map.yaml", str(THEIRS))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(error), result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: map.yaml")
    assert ticket_files(in_examples) == {}


HEADER = THEIRS.read_bytes().splitlines()[0].removeprefix(b"\xef\xbb\xbf") + b"\n"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (HEADER + b"1,a\x00b\n", "theirs.csv:2: holds a NUL character: not a text CSV file"),
        (HEADER + b"1,caf\xe9\n", "theirs.csv:2: not UTF-8 text (byte 6 of the line): save it as UTF-8"),
        (HEADER.decode().encode("utf-16"), "theirs.csv: is UTF-16 text, not UTF-8: save it as UTF-8"),
        (HEADER + b"1," + b"x" * (3 << 20) + b"\n", "theirs.csv:2: a line of more than 2,097,152 bytes"),
        (HEADER + b'1,"' + b"x\n" * ((1 << 19) + 1) + b'"\n', "theirs.csv:2: not CSV as sdesk reads it: a cell of"),
        (HEADER + b"a," * 1001 + b"\n", "theirs.csv:2: more than 1,000 columns: more than sdesk reads"),
        (HEADER + b'1,"unclosed\n2,b\n', "theirs.csv:2: not CSV as sdesk reads it: unexpected end of data"),
    ],
    ids=["nul", "latin-1", "utf-16", "long-line", "huge-cell", "columns", "unclosed-quote"],
)
def test_a_hostile_csv_is_one_line_naming_the_file_and_line(
    in_examples: Path, run: Run, tmp_path: Path, content: bytes, error: str
) -> None:
    (tmp_path / "theirs.csv").write_bytes(content)
    assert_one_line_error(run("import", "--mapping", MAPPING.name, str(tmp_path / "theirs.csv")), error)
