"""The ticket index, reading on every core, and lazy command loading."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest

from sdesk.cli import COMMANDS, main
from sdesk.storage import parallel
from sdesk.storage.index import INDEX_FILE, Index
from sdesk.storage.store import BrokenFile, read_ticket
from sdesk.tickets import query


def listing(run, *args: str) -> list[dict]:
    result = run("list", "--all", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def cache_file(desk: Path) -> Path:
    return desk / ".sdesk" / "cache" / INDEX_FILE


# --- the index follows the files ----------------------------------------------------------


def test_list_builds_the_index_and_answers_the_same_from_it(desk, run, new_ticket):
    first, second = new_ticket(title="Eerste"), new_ticket(title="Tweede")
    cold = listing(run)
    assert cache_file(desk).is_file()
    assert [row["id"] for row in cold] == sorted([first["id"], second["id"]])  # same second: by number
    assert listing(run) == cold


def test_a_file_edited_by_hand_is_read_again(desk, run, new_ticket):
    ticket = new_ticket(title="Oude titel")
    listing(run)
    path = desk / "tickets" / f"{ticket['id']}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Oude titel", "Nieuwe titel"), encoding="utf-8")
    assert [row["title"] for row in listing(run)] == ["Nieuwe titel"]


def test_a_same_size_rewrite_within_the_clock_resolution_is_still_seen(desk, run, new_ticket):
    """Same size, same modification time, same inode: only the recent-change rule catches it."""
    ticket = new_ticket(title="Titel AAAA")
    path = desk / "tickets" / f"{ticket['id']}.yaml"
    stat = path.stat()
    listing(run)  # the file was written just now: its row is not trusted next time
    with open(path, "r+", encoding="utf-8") as handle:  # in place, as some editors save
        text = handle.read().replace("Titel AAAA", "Titel BBBB")
        handle.seek(0)
        handle.write(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_ino == stat.st_ino
    assert [row["title"] for row in listing(run)] == ["Titel BBBB"]


def test_new_and_deleted_files_show_up_and_disappear(desk, run, new_ticket):
    kept, dropped = new_ticket(title="Blijft"), new_ticket(title="Weg")
    listing(run)
    (desk / "tickets" / f"{dropped['id']}.yaml").unlink()
    added = new_ticket(title="Nieuw")
    assert [row["id"] for row in listing(run)] == sorted([kept["id"], added["id"]])


def test_a_broken_file_is_skipped_with_a_warning_every_time_and_not_served_from_the_index(desk, run, new_ticket):
    good, bad = new_ticket(title="Goed"), new_ticket(title="Stuk")
    assert len(listing(run)) == 2
    path = desk / "tickets" / f"{bad['id']}.yaml"
    path.write_text("title: [unclosed\n", encoding="utf-8")
    for _ in range(2):
        result = run("list", "--all", "--format", "json")
        assert [row["id"] for row in json.loads(result.stdout)] == [good["id"]]
        assert f"Warning: desk/tickets/{bad['id']}.yaml:1:" in result.stderr


def test_deleting_the_state_folder_loses_nothing(desk, run, new_ticket):
    for title in ("Een", "Twee", "Drie"):
        new_ticket(title=title)
    before = listing(run)
    queue_before = run("queue", "--format", "json").stdout
    shutil.rmtree(desk / ".sdesk")
    assert listing(run) == before
    assert run("queue", "--format", "json").stdout == queue_before


def test_a_damaged_index_is_rebuilt(desk, run, new_ticket):
    ticket = new_ticket()
    listing(run)
    cache_file(desk).write_bytes(b"this is not a database at all" * 100)
    for sidecar in ("-wal", "-shm"):
        Path(str(cache_file(desk)) + sidecar).unlink(missing_ok=True)
    assert [row["id"] for row in listing(run)] == [ticket["id"]]
    assert cache_file(desk).read_bytes().startswith(b"SQLite format 3")


def test_an_index_of_another_format_is_rebuilt(desk, run, new_ticket):
    ticket = new_ticket()
    listing(run)
    with sqlite3.connect(cache_file(desk)) as db:
        db.execute("PRAGMA user_version = 999")
    assert [row["id"] for row in listing(run)] == [ticket["id"]]


def test_an_index_that_cannot_be_written_falls_back_to_the_files(desk, run, new_ticket):
    ticket = new_ticket()
    shutil.rmtree(desk / ".sdesk", ignore_errors=True)
    (desk / ".sdesk").mkdir()
    (desk / ".sdesk" / "cache").write_text("a file where the cache folder should be", encoding="utf-8")
    assert [row["id"] for row in listing(run)] == [ticket["id"]]


def test_rows_from_the_index_rebuild_the_same_tickets(desk, new_ticket, run):
    ticket = new_ticket(title="Ünïcode 🚑 titel", description="Regel 1\nRegel 2")
    run("comment", ticket["id"], "Gebeld, 🙂")
    run("log", ticket["id"], "1h30m", "--note", "Onderzoek")
    index = Index(desk / "tickets", desk / ".sdesk")
    assert index.refresh() == []
    (rebuilt,) = index.tickets()
    assert rebuilt == read_ticket(desk / "tickets" / f"{ticket['id']}.yaml")


@pytest.mark.parametrize("damaged", [b'{"id": 7, "title": [1, 2]', 5])
def test_a_row_that_does_not_decode_is_answered_from_its_file(desk, new_ticket, run, damaged):
    ticket = new_ticket(title="Dossier van bewoner 1182 opent niet")
    listing(run)
    with sqlite3.connect(cache_file(desk)) as db:  # damaged inside, the file's signature still matching
        db.execute("UPDATE tickets SET ticket = ?", (damaged,))
    queue = run("queue", "--format", "json")
    assert queue.exit_code == 0, queue.output
    assert [row["id"] for row in json.loads(queue.stdout)] == [ticket["id"]]


def test_derived_data_is_made_once_per_ticket_and_key_and_again_when_either_changes(desk, new_ticket, monkeypatch):
    monkeypatch.setattr("sdesk.storage.index.RECENT_NS", 0)  # trust the files just written
    first, second = new_ticket(title="Eerste"), new_ticket(title="Tweede")
    made: list[str] = []

    def derive(ticket):
        made.append(ticket.id)
        return ticket.title.encode()

    def derived(key: str) -> dict[str, bytes]:
        index = Index(desk / "tickets", desk / ".sdesk")
        index.refresh()
        return {ticket.id: data for ticket, data in index.tickets_with((), key, derive)}

    assert derived("rules-1") == {first["id"]: b"Eerste", second["id"]: b"Tweede"}
    assert derived("rules-1") == {first["id"]: b"Eerste", second["id"]: b"Tweede"}
    assert sorted(made) == sorted([first["id"], second["id"]])  # the second listing made nothing
    path = desk / "tickets" / f"{first['id']}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Eerste", "Andere"), encoding="utf-8")
    made.clear()
    assert derived("rules-1")[first["id"]] == b"Andere" and made == [first["id"]]
    made.clear()
    derived("rules-2")
    assert sorted(made) == sorted([first["id"], second["id"]])


def test_derived_data_is_kept_a_batch_at_a_time_while_the_listing_goes_on(desk, new_ticket, monkeypatch):
    monkeypatch.setattr("sdesk.storage.index.RECENT_NS", 0)
    monkeypatch.setattr("sdesk.storage.index.BATCH", 2)
    for title in ("Een", "Twee", "Drie", "Vier", "Vijf"):
        new_ticket(title=title)
    index = Index(desk / "tickets", desk / ".sdesk")
    index.refresh()
    listing = index.tickets_with((), "key", lambda ticket: ticket.title.encode())

    def kept() -> int:
        with sqlite3.connect(cache_file(desk)) as db:
            return db.execute("SELECT count(*) FROM tickets WHERE derived_key = 'key'").fetchone()[0]

    first = [next(listing) for _ in range(3)]
    assert kept() == 2  # the first batch is in the index while the listing goes on
    rest = list(listing)
    assert kept() == 5
    assert sorted(data for _, data in first + rest) == sorted([b"Een", b"Twee", b"Drie", b"Vier", b"Vijf"])


def test_derived_data_is_not_kept_for_a_row_whose_file_changed_meanwhile(desk, new_ticket):
    new_ticket(title="Eerste")
    index = Index(desk / "tickets", desk / ".sdesk")
    index.refresh()

    def derive_while_another_command_reads_a_newer_file(ticket):
        with sqlite3.connect(cache_file(desk)) as db:
            db.execute("UPDATE tickets SET inode = inode + 1")
        return b"made from the older file"

    listed = index.tickets_with((), "key", derive_while_another_command_reads_a_newer_file)
    assert [data for _, data in listed] == [b"made from the older file"]
    with sqlite3.connect(cache_file(desk)) as db:
        assert db.execute("SELECT derived_key, derived FROM tickets").fetchall() == [(None, None)]


def test_search_matches_comments_case_insensitively_through_the_index(desk, run, new_ticket):
    quiet, talked = new_ticket(title="Stil"), new_ticket(title="Besproken")
    run("comment", talked["id"], "De PRINTER op de tweede verdieping")
    listing(run)
    result = run("list", "--search", "printer", "--format", "json")
    assert [row["id"] for row in json.loads(result.stdout)] == [talked["id"]]
    assert quiet["id"] not in result.stdout


# --- the selection as SQL (pure) -------------------------------------------------------


def test_sql_filter_for_open_unassigned_or_mine():
    selection = query.Selection(
        final_statuses=frozenset({"closed", "cancelled"}), assignees=("me@x.example", None), text="Wifi"
    )
    where, params = query.sql_filter(selection)
    assert where == ("1 AND status NOT IN (?, ?) AND (assignee IN (?) OR assignee IS NULL) AND instr(search, ?) > 0")
    assert params == ["cancelled", "closed", "me@x.example", "wifi"]


def test_sql_filter_closed_on_a_desk_without_final_statuses_keeps_nothing():
    where, params = query.sql_filter(query.Selection(final_statuses=frozenset(), scope="closed"))
    assert where == "1 AND 0" and params == []


# --- reading on every core -------------------------------------------------------------


def _length(prefix: str, path: Path) -> str:
    return f"{prefix}{path.name}:{os.getpid()}"


def test_map_files_in_workers_gives_the_results_of_one_process_in_order(tmp_path):
    paths = [tmp_path / f"{number:04}.yaml" for number in range(300)]
    serial = list(parallel.map_files(_length, "x", paths, workers=1))
    forked = list(parallel.map_files(_length, "x", paths, workers=2, parallel_from=1))
    assert [line.rsplit(":", 1)[0] for line in forked] == [line.rsplit(":", 1)[0] for line in serial]
    assert {line.rsplit(":", 1)[1] for line in forked} != {str(os.getpid())}  # really other processes


def test_check_on_every_core_reports_located_problems_in_file_order(desk, run, new_ticket, monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 1)
    tickets = [new_ticket(title=f"Ticket {number}")["id"] for number in range(4)]
    for number in (tickets[1], tickets[3]):
        path = desk / "tickets" / f"{number}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("customer: zonnebloem", "customer: nobody"))
    result = run("check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    broken = sorted([tickets[1], tickets[3]])  # created in the same second: in number order
    assert [line.split(":")[0] for line in lines] == [f"desk/tickets/{number}.yaml" for number in broken]
    assert all("unknown customer 'nobody'" in line for line in lines)
    assert "4 ticket files checked, 2 problems" in result.stderr


def test_a_broken_file_read_in_a_worker_keeps_its_location(tmp_path):
    from sdesk.storage.index import _row

    path = tmp_path / "0QH7KD-4M2ZP.yaml"
    path.write_text("id: 0QH7KD-4M2ZP\ntitle: [unclosed\n", encoding="utf-8")
    (result,) = parallel.map_files(_row, None, [path] * 1, workers=2, parallel_from=1)
    assert isinstance(result, BrokenFile)
    assert (result.error.path, result.error.line) == (path, 2)


# --- commands load when they run -------------------------------------------------------


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_shows_each_commands_own_summary(name):
    command = main.get_command(click.Context(main), name)
    assert command is not None
    assert command.get_short_help_str(limit=500) == COMMANDS[name][1]


def test_help_and_start_up_do_not_load_the_domain():
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from sdesk.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = ('yaml', 'sdesk.tickets.model', 'sdesk.policy.rules', 'sdesk.storage.store', 'jinja2', 'flask')\n"
        "loaded = sorted(m for m in heavy if m in sys.modules)\n"
        "result = CliRunner().invoke(main, ['list', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert CliRunner().invoke(main, ['serve', '--help']).exit_code == 0\n"
        "domain = ('yaml', 'sdesk.policy.rules', 'jinja2', 'sdesk.clocks.sla', 'flask', 'waitress')\n"
        "after_list = sorted(m for m in domain if m in sys.modules)\n"
        "print(loaded, after_list)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] []"


def test_an_unknown_command_is_a_usage_error(run):
    result = run("lsit")
    assert result.exit_code == 2
    assert "No such command 'lsit'" in result.stderr


def test_sdesk_now_pins_what_the_index_reads(desk, run, new_ticket, monkeypatch):
    """The index never depends on the clock: the same desk lists the same at any moment."""
    new_ticket()
    at_now = listing(run)
    monkeypatch.setenv("SDESK_NOW", "2027-01-04T09:00:00+01:00")
    assert listing(run) == at_now
