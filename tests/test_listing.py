"""`sdesk list` as an agent reads it: who has each ticket, when it is due, the columns asked for, and rows
that fit the terminal whatever script their text is in."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import re
import struct
import subprocess
import sys
import termios
import unicodedata
from datetime import datetime

import pytest

from sdesk.clocks import sla
from sdesk.storage.store import Desk
from tests.conftest import REPO, ok
from tests.test_hostile_output import hand_written

P1_AT_VANDIJK = {
    "title": "Wifi valt weg",
    "customer": "vandijk",
    "requester": "j.bakker@vandijk.example",
    "product": "warehouse-network",
    "site": "3001",
    "impact": "company",
    "urgency": "high",
}
COLUMN_NAMES = (
    "id, priority, type, status, customer, requester, team, assignee, category, cooperation_ticket, created, "
    "updated, due, title"
)


def cells_by_id(table: str) -> dict[str, dict[str, str]]:
    """A table of one-word headers as {ID: {header: cell}}: each column starts where its header starts."""
    header, _, *lines = table.splitlines()
    starts = [match.start() for match in re.finditer(r"\S+", header)]
    rows = {}
    for line in lines:
        cells = [line[start:end].strip() for start, end in zip(starts, [*starts[1:], None], strict=True)]
        rows[cells[0]] = dict(zip(header.split(), cells, strict=True))
    return rows


def cells(text: str) -> int:
    """Terminal cells by Unicode's East Asian Width (wide and fullwidth characters take two), measured here
    without the library sdesk measures with."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def test_list_shows_who_has_each_ticket_and_when_its_first_running_clock_is_due(desk, run, new_ticket, at):
    urgent = new_ticket(**P1_AT_VANDIJK)["id"]  # P1 on a 24/7 plan: a response within 30 minutes
    question = new_ticket(title="Vraag over export", type="question")["id"]
    waiting = new_ticket(title="Schermafdruk gevraagd")["id"]
    ok(run("update", urgent, "--assignee", "me"))
    ok(run("update", waiting, "--status", "waiting-for-customer"))
    rows = cells_by_id(ok(run("list", env={"COLUMNS": "120"})))
    assert rows[urgent] == {**rows[urgent], "Assignee": "agent", "Due": "10:30"}  # the name before the @
    assert rows[question]["Assignee"] == "" and rows[question]["Due"] == "Tue 10:00"  # within the week: the day
    at("2026-11-23 11:00")
    rows = cells_by_id(ok(run("list", env={"COLUMNS": "120"})))
    assert (rows[urgent]["Due"], rows[waiting]["Due"]) == ("late 10:30", "paused")  # waiting on the customer
    at("2026-12-03 11:00")
    rows = cells_by_id(ok(run("list", "--all", env={"COLUMNS": "120"})))
    assert rows[question]["Due"] == "late 24 Nov"  # further off: the date
    ok(run("close", question, "--resolution", "Uitgelegd"))
    assert cells_by_id(ok(run("list", "--all", env={"COLUMNS": "120"})))[question]["Due"] == ""


@pytest.mark.parametrize(
    "moment", ["2026-11-23T10:00:00+01:00", "2026-11-30T16:59:00+01:00", "2027-02-01T08:00:00+01:00"]
)
def test_due_is_what_the_clocks_themselves_say(moment):
    """The Due column skips the open time each clock has used (sla.upcoming); it must agree with the
    clocks `queue`, `sla` and `show` work out in full, on every ticket of the example desk."""
    example = Desk(REPO)
    rules, now = example.rules, datetime.fromisoformat(moment)
    for ticket in map(example.read, example.ticket_ids()):
        known = sla.facts(ticket, rules)
        if known is None:
            continue
        clocks = sla.clocks_at(known, rules, now)
        running = [clock.due for clock in clocks if clock.stopped is None and not clock.paused]
        expected = sla.Upcoming(min(running, default=None), any(clock.paused for clock in clocks))
        assert sla.upcoming(known, rules, now) == expected, ticket.id


def test_columns_pick_what_the_table_shows_and_the_fields_of_json_and_csv(desk, run, new_ticket):
    ticket = new_ticket(**P1_AT_VANDIJK)["id"]
    ok(run("update", ticket, "--assignee", "me"))
    table = ok(run("list", "--columns", "id, title,assignee,due,id"))  # spaces and repeats are forgiven
    assert table.splitlines()[0].split() == ["ID", "Title", "Assignee", "Due"]
    assert table.splitlines()[2].split() == [ticket, "Wifi", "valt", "weg", "agent", "10:30"]
    (row,) = json.loads(ok(run("list", "--columns", "id,title,assignee,due", "--format", "json")))
    assert row == {
        "id": ticket,
        "title": "Wifi valt weg",
        "assignee": "agent@caresolutions.example",
        "due": "2026-11-23T10:30:00+01:00",
    }
    (line,) = csv.DictReader(io.StringIO(ok(run("list", "--columns", "due,created", "--format", "csv"))))
    assert line == {"due": "2026-11-23T10:30:00+01:00", "created": "2026-11-23T10:00:00+01:00"}
    wide = cells_by_id(ok(run("list", "--columns", "id,created,updated,team", env={"COLUMNS": "120"})))
    assert wide[ticket] == {"ID": ticket, "Created": "2026-11-23 10:00", "Updated": "2026-11-23 10:00", "Team": "noc"}


def test_json_and_csv_keep_their_fields_without_columns(desk, run, new_ticket):
    new_ticket()
    (row,) = json.loads(ok(run("list", "--format", "json")))
    assert "due" not in row and "assignee" in row
    assert "due" not in ok(run("list", "--format", "csv")).splitlines()[0].split(",")


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (
            "id,asignee",
            f"--columns: unknown column 'asignee' (did you mean 'assignee'?); the columns are {COLUMN_NAMES}",
        ),
        ("id,owner", f"--columns: unknown column 'owner'; the columns are {COLUMN_NAMES}"),
        (" , ", f"--columns names no column; the columns are {COLUMN_NAMES}"),
        ("x" * 5000, "--columns: unknown column 'xxxxxxxx"),
    ],
)
def test_an_unknown_column_is_refused_in_one_line_that_names_the_columns(desk, run, columns, message):
    result = run("list", "--columns", columns)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {message}") and result.stderr.count("\n") == 1
    assert len(result.stderr) < 400


WIDE_TITLES = (
    "プリンターが印刷しません 😟 第二会議室のプリンター",
    "打印机无法打印 🚑 会议室",
    "Zorgdossier opent traag",
    "café crème",
)


def test_wide_characters_are_measured_in_cells_so_every_row_fits_and_the_columns_align(desk, run, new_ticket):
    first = [new_ticket(title=title)["id"] for title in WIDE_TITLES][0]
    hand_written(desk, first, "customer", "株式会社テスト")  # a hand-written file: a customer named in kanji
    for columns in (56, 60, 80, 100, 160):  # below ~56 the ticket number, priority and due alone run past
        lines = ok(run("list", env={"COLUMNS": str(columns)})).splitlines()
        assert all(cells(line) < columns for line in lines), columns
        title_starts = {cells(line[: line.rindex("  ") + 2]) for line in lines}  # the title is the last column
        assert len(title_starts) == 1, columns
        shown = [line[line.rindex("  ") + 2 :] for line in lines[2:]]
        for cut in shown:  # whole, or cut after a whole character
            assert any(cut == title or cut.endswith("…") and title.startswith(cut[:-1]) for title in WIDE_TITLES)
    assert sorted(shown) == sorted(WIDE_TITLES)  # 160 columns: every title whole
    assert any("  株式会社テスト  " in line for line in lines)


def test_a_listing_piped_to_a_pager_is_as_wide_as_the_terminal_it_is_read_on(desk, new_ticket, monkeypatch):
    """`sdesk list | less`: stdout is a pipe, but stderr still says how wide the terminal is."""
    title = "Labelprinter afdeling Duinroos drukt geen polsbandjes meer af sinds de laatste update"
    new_ticket(title=title)
    monkeypatch.delenv("COLUMNS")
    leader, follower = os.openpty()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))
        listed = subprocess.run(
            [sys.executable, "-m", "sdesk", "list"], stdout=subprocess.PIPE, stderr=follower, text=True, check=True
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert listed.stdout.splitlines()[2].endswith(f"  {title}")


@pytest.mark.parametrize(("columns", "least"), [(80, 24), (100, 28), (120, 28)])
def test_the_title_keeps_room_to_be_read_on_an_80_column_terminal_and_more_on_a_wider_one(
    desk, run, new_ticket, columns, least
):
    """Type and Customer make way, then Status and Assignee are cut, before the title goes below 24 cells."""
    long_title = "Reactietermijn van vier uur opnieuw niet gehaald bij het publieksportaal"
    ticket = new_ticket(title=long_title)["id"]
    ok(run("update", ticket, "--assignee", "servicemanager@caresolutions.example", "--status", "waiting-for-customer"))
    header, _, row = ok(run("list", env={"COLUMNS": str(columns)})).splitlines()
    assert len(header) < columns and len(row) < columns
    shown = row[header.index("Title") :]
    assert len(shown) >= least and shown.endswith("…") and long_title.startswith(shown[:-1])
    assert header.split()[:2] == ["ID", "Pri"] and "Due" in header and "Assignee" in header
