"""Timers: `sdesk log ID --start`, then `--stop --note TEXT` logs the time it ran as one ordinary entry.

Tickets are opened at the pinned clock, Monday 2026-11-23 10:00 in Brussels
(+01:00); the example desk's zonnebloem has its work covered by default, a
ticket that matched an exclusion (a printer) is billable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AGENT, REPO, ok
from tests.test_timelog import PRINTER, bad_usage, events, refused

OTHER_AGENT = "bram@caresolutions.example"


def timer_files(desk: Path) -> list[Path]:
    return sorted((desk / ".sdesk" / "timers").glob("*"))


def timer_line(run, ticket_id: str, *options: str, **kwargs: Any) -> str | None:
    """The `Timer` line of `sdesk show`, if any."""
    shown = ok(run("show", ticket_id, *options, **kwargs))
    lines = [line for line in shown.splitlines() if line.startswith("Timer ")]
    return lines[0] if lines else None


def stop(run, ticket_id: str, *options: str) -> dict[str, Any]:
    """Stop the timer through the CLI and return the time event it recorded."""
    shown = json.loads(ok(run("log", ticket_id, "--stop", "--note", "Werk", *options, "--format", "json")))
    entry: dict[str, Any] = shown["history"][-1]
    assert entry["event"] == "time"
    return entry


# --- start and stop ------------------------------------------------------------------------


def test_stop_logs_the_time_it_ran_rounded_up_to_the_minute_as_log_would(desk, run, at, new_ticket):
    ticket_id = new_ticket()["id"]
    at("2026-11-23T10:05:00+01:00")
    assert ok(run("log", ticket_id, "--start")) == (
        f"{ticket_id}: timer started Mon 23 Nov 10:05; stop it with sdesk log {ticket_id} --stop --note …\n"
    )
    at("2026-11-23T11:25:10+01:00")  # 1h 20m 10s: 81 minutes, rounded up
    assert ok(run("log", ticket_id, "--stop", "--note", "Dossier hersteld")) == (
        f"{ticket_id}: logged 1:21 on 2026-11-23, covered\n"
    )
    by_hand = json.loads(ok(run("log", ticket_id, "1:21", "--note", "Dossier hersteld", "--format", "json")))
    timed, typed = events(run, ticket_id, "time")
    assert timed == typed == by_hand["history"][-1]  # the very same entry, the same moment too (pinned clock)
    assert timer_files(desk) == []  # stopped: the timer is gone
    refused(run("log", ticket_id, "--stop", "--note", "Twee keer"))  # and cannot be logged twice


@pytest.mark.parametrize(
    ("stopped", "minutes"),
    [("10:05:00", 1), ("10:05:20", 1), ("10:06:00", 1), ("10:06:01", 2), ("11:05:00", 60)],
)
def test_the_minutes_are_whole_ones_rounded_up_and_at_least_one(desk, run, at, new_ticket, stopped, minutes):
    ticket_id = new_ticket()["id"]
    at("2026-11-23T10:05:00+01:00")
    ok(run("log", ticket_id, "--start"))
    at(f"2026-11-23T{stopped}+01:00")
    assert stop(run, ticket_id)["minutes"] == minutes


def test_work_past_midnight_is_logged_on_the_day_the_timer_started(desk, run, at, new_ticket):
    ticket_id = new_ticket()["id"]
    at("2026-11-23T23:50:00+01:00")
    ok(run("log", ticket_id, "--start"))
    at("2026-11-24T00:20:00+01:00")
    entry = stop(run, ticket_id)
    assert (entry["on"], entry["minutes"]) == ("2026-11-23", 30)


def test_stop_bills_as_the_contract_says_unless_told(desk, run, at, new_ticket):
    excluded = new_ticket("--accept-costs", **PRINTER)["id"]
    for option, billing in (((), "billable"), (("--covered",), "covered")):
        ok(run("log", excluded, "--start"))
        at("2026-11-23T10:30:00+01:00")
        assert stop(run, excluded, *option)["billing"] == billing


def test_start_and_discard_print_the_timer_for_scripts(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    started = json.loads(ok(run("log", ticket_id, "--start", "--format", "json")))
    assert started == {"ticket_id": ticket_id, "by": AGENT, "started": "2026-11-23T10:00:00+01:00", "state": "running"}
    dropped = ok(run("log", ticket_id, "--discard", "--format", "csv"))
    assert dropped == f"ticket_id,by,started,state\n{ticket_id},{AGENT},2026-11-23T10:00:00+01:00,discarded\n"


# --- one timer per agent ---------------------------------------------------------------------


def test_a_second_start_is_refused_naming_the_running_timer(desk, run, at, new_ticket):
    first, second = new_ticket()["id"], new_ticket()["id"]
    at("2026-11-23T10:05:00+01:00")
    ok(run("log", first, "--start"))
    at("2026-11-23T10:30:00+01:00")
    for ticket_id in (first, second):
        assert refused(run("log", ticket_id, "--start")) == (
            f"Error: a timer is already running on {first} since Mon 23 Nov 10:05: "
            f"stop it first (sdesk log {first} --stop --note …)"
        )
    assert stop(run, first)["minutes"] == 25  # the first start still counts
    ok(run("log", second, "--start", "--as", OTHER_AGENT))  # another agent has a timer of their own
    ok(run("log", second, "--start"))


def test_stop_or_discard_without_a_timer_is_refused(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    assert refused(run("log", ticket_id, "--stop", "--note", "Werk")) == (
        f"Error: no timer is running for you: nothing to stop (start one with sdesk log {ticket_id} --start)"
    )
    assert "nothing to discard" in refused(run("log", ticket_id, "--discard"))
    ok(run("log", ticket_id, "--start", "--as", OTHER_AGENT))
    assert "no timer is running for you" in refused(run("log", ticket_id, "--stop", "--note", "Werk"))
    assert events(run, ticket_id, "time") == []


def test_stop_or_discard_on_another_ticket_is_refused_and_the_timer_keeps_running(desk, run, at, new_ticket):
    running, other = new_ticket()["id"], new_ticket()["id"]
    at("2026-11-23T10:05:00+01:00")
    ok(run("log", running, "--start"))
    assert refused(run("log", other, "--stop", "--note", "Werk")) == (
        f"Error: your timer runs on {running} since Mon 23 Nov 10:05, not on {other}: "
        f"stop it there (sdesk log {running} --stop --note …)"
    )
    assert f"discard it there (sdesk log {running} --discard)" in refused(run("log", other, "--discard"))
    assert events(run, other, "time") == []
    assert timer_line(run, running) is not None


def test_discard_drops_the_timer_and_logs_nothing(desk, run, at, new_ticket):
    ticket_id = new_ticket()["id"]
    at("2026-11-23T10:05:00+01:00")
    ok(run("log", ticket_id, "--start"))
    at("2026-11-23T10:50:00+01:00")
    assert ok(run("log", ticket_id, "--discard")) == (
        f"{ticket_id}: timer since Mon 23 Nov 10:05 (45m) discarded; nothing logged\n"
    )
    assert events(run, ticket_id, "time") == []
    assert timer_line(run, ticket_id) is None
    ok(run("log", ticket_id, "--start"))  # a new one may start


def test_a_timer_that_ran_more_than_a_day_is_refused_at_stop(desk, run, at, new_ticket):
    ticket_id = new_ticket()["id"]
    at("2026-11-23T10:05:00+01:00")
    ok(run("log", ticket_id, "--start"))
    at("2026-11-24T10:05:01+01:00")  # a day and a second: 1441 minutes
    assert refused(run("log", ticket_id, "--stop", "--note", "Vergeten")) == (
        f"Error: your timer on {ticket_id} has run since Mon 23 Nov 10:05, more than a day: "
        f"log each day's work by hand (sdesk log {ticket_id} DURATION --on DATE --note …), "
        f"then drop the timer (sdesk log {ticket_id} --discard)"
    )
    assert events(run, ticket_id, "time") == []
    ok(run("log", ticket_id, "--discard"))
    assert timer_files(desk) == []


def test_a_timer_of_exactly_a_day_is_logged(desk, run, at, new_ticket):
    ticket_id = new_ticket()["id"]
    ok(run("log", ticket_id, "--start"))
    at("2026-11-24T10:00:00+01:00")
    assert stop(run, ticket_id)["minutes"] == 24 * 60


# --- kept in the clone -------------------------------------------------------------------------


def test_the_timer_survives_the_process_that_started_it(desk, run, at, new_ticket):
    ticket_id = new_ticket()["id"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "SDESK_NOW": "2026-11-23T10:05:00+01:00"}
    started = subprocess.run(
        [sys.executable, "-m", "sdesk", "log", ticket_id, "--start"], env=env, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    (kept,) = timer_files(desk)
    assert AGENT not in kept.name and AGENT.split("@")[0] not in kept.name  # named by a digest
    at("2026-11-23T10:35:00+01:00")
    assert stop(run, ticket_id)["minutes"] == 30


# --- shown -------------------------------------------------------------------------------------


def test_show_prints_the_acting_agents_timer_on_that_ticket(desk, run, at, new_ticket):
    running, other = new_ticket()["id"], new_ticket()["id"]
    at("2026-11-23T10:05:00+01:00")
    ok(run("log", running, "--start"))
    at("2026-11-23T11:25:00+01:00")
    assert timer_line(run, running) == f"Timer           running since Mon 23 Nov 10:05 ({AGENT}, 1h 20m so far)"
    assert timer_line(run, other) is None
    assert timer_line(run, running, "--as", OTHER_AGENT) is None  # only your own timer
    assert timer_line(run, running, env={"SDESK_USER": None}) is None  # nobody acting: show still works


def test_queue_marks_the_ticket_the_timer_runs_on_in_the_table_only(desk, run, new_ticket):
    running, other = new_ticket()["id"], new_ticket()["id"]
    before = ok(run("queue", "--format", "json"))
    ok(run("log", running, "--start"))
    rows = {line.split()[1]: line for line in ok(run("queue")).splitlines()[2:]}
    assert "[timer] Zorg" in rows[running]  # before the title, which the table cuts to fit
    assert "[timer]" not in rows[other]
    assert "[timer]" not in ok(run("queue", "--as", OTHER_AGENT))
    assert ok(run("queue", "--format", "json")) == before  # scripts see the desk, not this clone's timer


# --- a timer file is untrusted input -----------------------------------------------------------


def started_file(run, ticket_id: str, desk: Path) -> Path:
    """Start a timer and return its file, to be tampered with."""
    ok(run("log", ticket_id, "--start"))
    (path,) = timer_files(desk)
    return path


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda path, valid: path.write_bytes(b"\x00\xff garbage {"), id="garbage"),
        pytest.param(lambda path, valid: path.write_text("[1, 2, 3]"), id="json-not-a-timer"),
        pytest.param(lambda path, valid: path.write_text(valid + " " * 10_000), id="huge"),
        pytest.param(lambda path, valid: path.write_text(valid.replace(AGENT, OTHER_AGENT)), id="another-agents-timer"),
        pytest.param(
            lambda path, valid: path.write_text(json.dumps({**json.loads(valid), "ticket": "2Q3XN5-V4T3T"})),
            id="a-ticket-that-is-gone",
        ),
        pytest.param(lambda path, valid: path.write_text(valid.replace("+01:00", "")), id="no-time-zone"),
    ],
)
def test_a_timer_file_that_is_no_timer_of_yours_counts_as_none(desk, run, new_ticket, tamper):
    ticket_id = new_ticket()["id"]
    path = started_file(run, ticket_id, desk)
    tamper(path, path.read_text())
    assert timer_line(run, ticket_id) is None
    assert "[timer]" not in ok(run("queue"))
    assert "no timer is running for you" in refused(run("log", ticket_id, "--stop", "--note", "Werk"))
    ok(run("log", ticket_id, "--start"))  # a new start replaces it
    assert timer_line(run, ticket_id) is not None


def test_a_timer_file_that_is_a_link_is_never_followed(desk, run, new_ticket, tmp_path):
    ticket_id = new_ticket()["id"]
    path = started_file(run, ticket_id, desk)
    outside = tmp_path / "elsewhere.json"
    planted = path.read_text().replace("10:00:00", "09:00:00")  # a valid timer, but not where sdesk keeps it
    outside.write_text(planted)
    path.unlink()
    path.symlink_to(outside)
    assert timer_line(run, ticket_id) is None
    assert "no timer is running for you" in refused(run("log", ticket_id, "--discard"))
    ok(run("log", ticket_id, "--start"))
    assert not path.is_symlink() and "10:00:00" in path.read_text()  # the link replaced, not written through
    assert outside.read_text() == planted


def test_a_timers_folder_linked_out_of_the_desk_or_a_folder_in_place_of_the_file_is_one_line(
    desk, run, new_ticket, tmp_path
):
    ticket_id = new_ticket()["id"]
    path = started_file(run, ticket_id, desk)
    path.unlink()
    path.mkdir()
    assert "cannot write" in refused(run("log", ticket_id, "--start"))
    path.rmdir()
    folder = desk / ".sdesk" / "timers"
    (tmp_path / "outside").mkdir()  # before the rmdir: a folder made after it could reuse its inode number
    folder.rmdir()
    folder.symlink_to(tmp_path / "outside")
    assert "outside the desk" in refused(run("log", ticket_id, "--start"))
    assert list((tmp_path / "outside").iterdir()) == []
    assert timer_line(run, ticket_id) is None


# --- usage -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--start", "--stop"), "--start and --stop do not go together"),
        (("--stop", "--discard", "--note", "x"), "--stop and --discard do not go together"),
        ((), "Missing argument 'DURATION'"),
        (("1h",), "Missing option '--note'"),
        (("--stop",), "Missing option '--note'"),
        (("1h", "--stop", "--note", "x"), "--stop takes no DURATION"),
        (("--stop", "--note", "x", "--on", "2026-11-23"), "--stop takes no --on or --correct"),
        (("--stop", "--note", "x", "--correct", "1"), "--stop takes no --on or --correct"),
        (("--start", "--note", "x"), "--start takes no --note, --billable/--covered or --on-site"),
        (("--discard", "--billable"), "--discard takes no --note, --billable/--covered or --on-site"),
    ],
)
def test_wrong_combinations_are_usage_errors(desk, run, new_ticket, args, said):
    ticket_id = new_ticket()["id"]
    assert said in bad_usage(run("log", ticket_id, *args))
    assert timer_files(desk) == []
