"""Long output through a pager and long work with a progress line, on a terminal only.

The terminal is a real pseudo-terminal (pty) in front of a real sdesk
process: what a user sees, a fake pager program records what it was given.
Short work shows no progress, so those tests lower the meter's wait
(sdesk.progress.AFTER) instead of building a desk of thousands of tickets.
"""

from __future__ import annotations

import io
import os
import pty
import select
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from sdesk.actions import cycle, transfer
from sdesk.actions.check import check_desk
from sdesk.cli.pager import Pager, program
from sdesk.progress import UNKNOWN, Meter
from sdesk.storage.index import Index
from sdesk.storage.store import Desk
from sdesk.website.export import export
from tests.conftest import NOW, REPO, ok

# sdesk as its console script runs it, with the meter's wait (seconds) given first.
BOOT = "import sys, sdesk.progress; sdesk.progress.AFTER = float(sys.argv.pop(1)); from sdesk.cli import main; main()"
RECORDING_PAGER = '#!/bin/sh\necho "LESS=$LESS" > "$0.got"\ncat >> "$0.got"\n'
QUITTING_PAGER = "#!/bin/sh\nexit 0\n"  # as a user who presses q at once


def on_terminal(
    *args: str, env: dict[str, str] | None = None, after: float = 0.5, stdout: Path | None = None
) -> tuple[int, str]:
    """Run sdesk with its stderr (and its stdout, unless it goes to the file ``stdout``) on a pseudo-terminal:
    the exit code and what the terminal showed."""
    controller, terminal = pty.openpty()
    out = stdout.open("wb") if stdout else None
    process = subprocess.Popen(
        [sys.executable, "-c", BOOT, str(after), *args],
        stdin=subprocess.DEVNULL,
        stdout=out or terminal,
        stderr=terminal,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )
    os.close(terminal)
    if out:
        out.close()
    shown = b""
    try:
        while select.select([controller], [], [], 30)[0]:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the other end closed: the process has ended
                break
            if not chunk:
                break
            shown += chunk
        else:
            process.kill()
    finally:
        os.close(controller)
    return process.wait(timeout=30), shown.decode().replace("\r\n", "\n")


def pager_script(tmp_path: Path, text: str) -> Path:
    script = tmp_path / "pager"
    script.write_text(text, encoding="utf-8")
    script.chmod(0o755)
    return script


def got(pager: Path) -> str | None:
    """What the recording pager was given (None: it never ran)."""
    record = pager.with_name(pager.name + ".got")
    return record.read_text(encoding="utf-8") if record.exists() else None


@pytest.fixture
def two_tickets(desk: Path, new_ticket) -> list[str]:
    return [new_ticket(title=title)["id"] for title in ("Eerste melding", "Scherm \x1b[2J leeg")]


# --- the pager ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ("less", "")),
        ({"PAGER": "more -d"}, ("more -d", "PAGER")),
        ({"SDESK_PAGER": "most", "PAGER": "more"}, ("most", "SDESK_PAGER")),
        ({"PAGER": "cat"}, None),
        ({"PAGER": ""}, None),
        ({"SDESK_PAGER": " ", "PAGER": "more"}, None),  # sdesk's own variable wins, even to say none
        ({"SDESK_PAGER": "cat", "PAGER": "more"}, None),
    ],
)
def test_the_pager_is_sdesk_pager_else_pager_else_less_and_cat_or_empty_means_none(environ, expected):
    assert program(environ) == expected


def test_a_listing_on_a_terminal_goes_through_the_pager_and_its_summary_follows(tmp_path, two_tickets):
    pager = pager_script(tmp_path, RECORDING_PAGER)
    code, shown = on_terminal("list", env={"PAGER": str(pager), "COLUMNS": "120"})  # room for whole titles
    assert code == 0
    paged = got(pager)
    assert paged is not None and paged.startswith("LESS=FRX\nID ")  # less quits at once when the output fits
    assert all(number in paged for number in two_tickets)
    assert "Scherm \\u001b[2J leeg" in paged and "\x1b" not in paged  # the escaping net is in front of the pager
    assert shown == "2 tickets\n"  # stderr held until the pager was done: after the listing, not above it


@pytest.mark.parametrize("args", [("--no-pager", "list"), ("list", "--no-pager")], ids=["before", "after"])
def test_no_pager_prints_straight_to_the_terminal(tmp_path, two_tickets, args):
    pager = pager_script(tmp_path, RECORDING_PAGER)
    code, shown = on_terminal(*args, env={"PAGER": str(pager)})
    assert code == 0
    assert got(pager) is None
    assert all(number in shown for number in two_tickets)


def test_quitting_the_pager_early_is_no_failure(tmp_path, two_tickets):
    code, shown = on_terminal("list", "--all", env={"SDESK_PAGER": str(pager_script(tmp_path, QUITTING_PAGER))})
    assert code == 0
    assert "Traceback" not in shown and "Error" not in shown


def test_problems_go_through_the_pager_and_the_error_comes_after_it_with_the_exit_code(tmp_path, desk, two_tickets):
    path = desk / "tickets" / f"{two_tickets[0]}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("customer: zonnebloem", "customer: zonneblom"))
    pager = pager_script(tmp_path, RECORDING_PAGER)
    code, shown = on_terminal("check", env={"PAGER": str(pager)})
    assert code == 1
    assert "unknown customer 'zonneblom'" in (got(pager) or "")
    assert shown == "Error: 2 ticket files checked, 1 problem\n"


def test_a_pager_that_quits_before_reading_everything_drops_the_rest_quietly():
    screen, errors = io.StringIO(), io.StringIO()
    pager = Pager(screen, errors, "true", "PAGER", before=lambda: None)
    for _ in range(200):  # far more than a pipe holds: the writes meet the closed pipe
        pager.write("x" * 1000 + "\n")
        pager.held.write("Warning: held until the pager is gone\n")
    pager.flush()
    pager.close()
    assert screen.getvalue() == ""  # it went to the pager, not around it
    assert errors.getvalue().count("Warning: held") == 200


def test_a_pager_that_cannot_run_leaves_the_output_printed_directly():
    screen, errors = io.StringIO(), io.StringIO()
    pager = Pager(screen, errors, "/nonexistent/pager -R", "SDESK_PAGER", before=lambda: None)
    pager.write("2 tickets\n")
    pager.close()
    assert screen.getvalue() == "2 tickets\n"
    assert errors.getvalue() == (
        "Warning: cannot run the pager SDESK_PAGER='/nonexistent/pager -R': No such file or directory\n"
    )


# --- progress -------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_meter_waits_redraws_a_few_times_a_second_and_erases_its_line_when_done():
    stream, clock = io.StringIO(), Clock()
    meter = Meter(stream, after=0.5, clock=clock)
    for done, moment in ((0, 100.0), (1, 100.4), (5, 100.6), (6, 100.65), (7, 100.71)):
        clock.now = moment
        meter("Reading ticket files", done, 10)
    meter("Reading ticket files", 10, 10)
    line = "Reading ticket files: 50% (5/10)"
    assert stream.getvalue() == f"\r{line}\rReading ticket files: 70% (7/10)\r{' ' * len(line)}\r"
    meter("Reading ticket files", 0, 10)  # the same work again: it waits again
    meter.close()
    meter("Making pages", 1, 10)  # nothing after close: a pager has the screen, or the command ended
    assert stream.getvalue().count("Reading") == 2 and stream.getvalue().endswith(" \r")


def test_work_of_unknown_size_shows_its_count_until_it_is_done():
    stream, clock = io.StringIO(), Clock()
    meter = Meter(stream, after=0, clock=clock)
    meter("Checking tickets", 1, UNKNOWN)
    clock.now += 1
    meter("Checking tickets", 1200, UNKNOWN)
    meter("Checking tickets", 1500, 1500)
    assert stream.getvalue() == "\rChecking tickets: 1\rChecking tickets: 1,200\r" + " " * 23 + "\r"


def test_short_work_and_a_missing_terminal_show_nothing():
    stream, clock = io.StringIO(), Clock()
    meter = Meter(stream, clock=clock)
    for done in range(11):
        meter("Checking ticket files", done, 10)
    Meter(None, after=0)("Checking ticket files", 5, 10)
    assert stream.getvalue() == ""


def test_a_cold_index_build_shows_progress_on_a_terminal_and_nothing_on_stdout(tmp_path, two_tickets):
    pager = pager_script(tmp_path, RECORDING_PAGER)
    listing = tmp_path / "listing.txt"
    code, shown = on_terminal("list", env={"PAGER": str(pager)}, after=0, stdout=listing)
    assert code == 0
    drawn, _, rest = shown.rpartition("\r")
    assert drawn.startswith("\rReading ticket files: ") and drawn.endswith(" ")  # erased ...
    assert rest == "2 tickets\n"  # ... before the command's own line
    output = listing.read_text(encoding="utf-8")
    assert output.startswith("ID ") and "\r" not in output and "\x1b" not in output
    assert got(pager) is None  # stdout is a file: never paged


def test_piped_stderr_stays_clean(desk, two_tickets, run, monkeypatch):
    monkeypatch.setattr("sdesk.progress.AFTER", 0)
    result = run("list")
    assert result.exit_code == 0
    assert result.stderr == "2 tickets\n"


class Recorder:
    """A Progress callback that keeps what it heard."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, int, int]] = []

    def __call__(self, what: str, done: int, total: int) -> None:
        self.heard.append((what, done, total))

    def finished(self) -> set[tuple[str, int]]:
        """Each piece of work that reached its end, with its total."""
        return {(what, total) for what, done, total in self.heard if done == total and total}


def test_the_long_work_of_the_index_check_export_import_and_cycle_reports_its_progress(
    tmp_path, desk, two_tickets, run, monkeypatch
):
    monkeypatch.setenv("PATH", os.environ["PATH"])  # the cycle puts sdesk's own folder first: undone after
    opened, now = Desk(desk), datetime.fromisoformat(NOW)
    cold = Recorder()
    assert Index(opened.tickets_dir, opened.state_dir).refresh(cold) == []
    assert cold.heard[0] == ("Reading ticket files", 0, 2) and cold.finished() == {("Reading ticket files", 2)}

    checked = Recorder()
    check_desk(opened, progress=checked)
    assert checked.finished() == {("Checking ticket files", 2)}

    exported = Recorder()
    pages = export(opened, tmp_path / "site", None, 30, now, exported).pages
    # (the ticket files are read again too: they were written too recently to be trusted yet)
    assert {("Going through tickets", 2), ("Making pages", pages), ("Writing pages", pages)} <= exported.finished()

    listed = Recorder()
    assert sorted(ticket.id for ticket in transfer.every_ticket(opened, listed)) == sorted(two_tickets)
    assert ("Exporting tickets", 2) in listed.finished()

    (tmp_path / "all.json").write_text(ok(run("export", "json")), encoding="utf-8")
    other = tmp_path / "other"
    (other / "tickets").mkdir(parents=True)
    shutil.copy(desk / "rules.yaml", other / "rules.yaml")
    imported = Recorder()
    job = transfer.Import(Desk(other), transfer.exported(tmp_path / "all.json", "json"), False, False, True, imported)
    assert [outcome.state for outcome in job.run()] == ["checked", "checked", "imported", "imported"]
    assert ("Checking tickets", 1, UNKNOWN) in imported.heard
    assert {("Checking tickets", 2), ("Importing tickets", 2)} <= imported.finished()

    cycled = Recorder()
    cycle.run(opened, now, cycle.Settings(None, tmp_path / "site", progress=cycled), lambda line: None)
    assert {"Going through tickets", "Making pages"} <= {what for what, _ in cycled.finished()}
