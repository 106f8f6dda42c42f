"""The ticket index: a git-ignored SQLite cache that keeps listings fast at 100,000 tickets.

It only accelerates; the ticket files always win (README, "Speed and the index"):

* a row is used only while its file still has the size, modification time,
  status-change time and inode the row was read from; any other file is
  parsed again and its row replaced, and rows of deleted files are dropped.
  The status-change time (ctime) is set by the kernel on every write and
  cannot be set back by a program (only by changing the system clock), so an
  edit that keeps the size and restores the modification time is still seen;
* a file changed in the last moments is read, but its row is checked again
  next time: a second write within the clock's resolution could keep the time;
* what a command derives from a ticket (its clocks' facts) is kept beside
  its row under a key (the rules it was derived with) and derived again when
  the row or the key changes;
* deleting ``.sdesk/cache/`` loses nothing, the next command rebuilds it;
* commands share it through SQLite's locking; when it stays locked or is
  damaged, the command works from the files in memory;
* many stale files are parsed on every core (``parallel``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from sdesk.errors import SdeskError
from sdesk.formats.files import inside, scan
from sdesk.progress import Progress, counted, silent
from sdesk.storage import parallel
from sdesk.storage.store import BrokenFile, read_ticket
from sdesk.tickets import ids, query
from sdesk.tickets.model import Ticket

FORMAT = 9  # bump when a row's content changes: older indexes are rebuilt
CACHE_DIR = "cache"  # under the desk's state folder
INDEX_FILE = "index.sqlite3"
RECENT_NS = 2_000_000_000  # a file changed this recently is re-checked next time
LOCK_WAIT_MS = 5000
BATCH = 500  # rows written or fetched at a time
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
READING = "Reading ticket files"  # what a refresh tells its progress

Signature = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
# A row's ticket as msgspec's typed JSON: decoded in C, every value checked against its type (a row is used
# only while its file keeps the signature it was read from, so what it holds was checked when read).
_encode = msgspec.json.Encoder().encode
_decode_ticket = msgspec.json.Decoder(Ticket).decode

_COLUMNS = ("status", "type", "priority", "customer", "team", "assignee")
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    {", ".join(f"{column} TEXT" for column in _COLUMNS)},
    updated_us INTEGER NOT NULL,
    latest_us INTEGER NOT NULL,
    summary TEXT NOT NULL,
    search TEXT NOT NULL,
    ticket BLOB NOT NULL,
    derived_key TEXT,
    derived BLOB
) WITHOUT ROWID;
-- What every command compares with the files, in a b-tree of its own: a scan that skips the tickets' data.
CREATE INDEX IF NOT EXISTS signatures ON tickets (size, mtime_ns, ctime_ns, inode);
"""


class Index:
    """The cached rows of one desk's tickets, brought up to date with the files before use."""

    def __init__(self, tickets_dir: Path, state_dir: Path):
        self.tickets_dir = tickets_dir
        self.path = state_dir / CACHE_DIR / INDEX_FILE
        self.db = _open(self.path) if inside(state_dir, tickets_dir.parent) else _in_memory()

    def refresh(self, progress: Progress = silent) -> list[BrokenFile]:
        """Re-read what changed on disk since the rows were written; returns the files that do not read.

        ``progress`` hears of each file read: a cold build of a large desk takes seconds."""
        try:
            return self._read_again(*self._changes(), progress)
        except sqlite3.Error:
            self.db = _in_memory()  # locked for too long or damaged: serve this command from the files
            return self._read_again(*self._changes(), progress)

    def refresh_if_few(self, most: int) -> bool:
        """Re-read what changed on disk when at most ``most`` files did; False, and nothing read, when more did
        (or the index cannot be written). For shell completion, which answers every Tab and cannot wait for a
        rebuild; after False the rows may be out of date."""
        try:
            started, stale, gone = self._changes()
            if len(stale) > most:
                return False
            self._read_again(started, stale, gone)
        except sqlite3.Error:
            return False
        return True

    def _changes(self) -> tuple[int, list[Path], list[str]]:
        """When the look began, the files whose rows are stale or missing, and the rows whose files are gone."""
        started = time.time_ns()
        on_disk = _signatures(self.tickets_dir, self.tickets_dir.parent)
        known = {
            row[0]: tuple(row[1:]) for row in self.db.execute("SELECT id, size, mtime_ns, ctime_ns, inode FROM tickets")
        }
        stale = [
            self.tickets_dir / f"{number}.yaml"
            for number, signature in on_disk.items()
            if known.get(number) != signature
        ]
        return started, stale, [number for number in known if number not in on_disk]

    def _read_again(
        self, started: int, stale: list[Path], gone: list[str], progress: Progress = silent
    ) -> list[BrokenFile]:
        broken: list[BrokenFile] = []
        rows: list[tuple[Any, ...]] = []
        for result in counted(parallel.map_files(_row, self.tickets_dir.parent, stale), READING, len(stale), progress):
            if isinstance(result, BrokenFile):
                broken.append(result)
                gone.append(result.path.stem)
            else:
                rows.append(_trusted(result, started))
            if len(rows) >= BATCH:  # written as they come: a cold start holds one batch in memory
                self._save(rows, [])
        self._save(rows, gone)
        return broken

    def _save(self, rows: list[tuple[Any, ...]], gone: list[str]) -> None:
        """One transaction per batch, so other commands wait for a batch, not for a whole rebuild."""
        if not rows and not gone:
            return
        with self.db:
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                self.db.executemany(f"INSERT OR REPLACE INTO tickets VALUES ({marks})", rows)
            self.db.executemany("DELETE FROM tickets WHERE id = ?", [(number,) for number in gone])
        rows.clear()

    def summaries(
        self, selection: query.Selection, sort: str = "created", priority_levels: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        """The list fields of the tickets ``selection`` keeps, in the order ``sort`` names (query.sql_order)."""
        where, params = query.sql_filter(selection)
        order, order_params = query.sql_order(sort, priority_levels)
        for (summary,) in self._rows(
            f"SELECT summary FROM tickets WHERE {where} ORDER BY {order}", [*params, *order_params]
        ):
            row = json.loads(summary)
            row["created"] = datetime.fromisoformat(row["created"])
            row["updated"] = datetime.fromisoformat(row["updated"])
            yield row

    def statuses(self) -> dict[str, str]:
        """Every ticket's number and status, most recently changed first (what shell completion picks from)."""
        return dict(self.db.execute("SELECT id, status FROM tickets ORDER BY updated_us DESC, id DESC").fetchall())

    def titles(self, numbers: Sequence[str]) -> dict[str, str]:
        """The titles of these tickets (those the index holds), read from their rows alone."""
        found: dict[str, str] = {}
        for start in range(0, len(numbers), BATCH):
            batch = numbers[start : start + BATCH]
            sql = (
                f"SELECT id, json_extract(summary, '$.title') FROM tickets WHERE id IN ({', '.join('?' * len(batch))})"
            )
            found.update(self.db.execute(sql, batch).fetchall())
        return found

    def assignees(self) -> list[str]:
        """Everyone a ticket is assigned to, in alphabetical order."""
        rows = self.db.execute("SELECT DISTINCT assignee FROM tickets WHERE assignee IS NOT NULL ORDER BY assignee")
        return [assignee for (assignee,) in rows]

    def tickets(self, leave_out_statuses: Sequence[str] = ()) -> Iterator[Ticket]:
        """Every ticket but those in the given statuses, rebuilt from its row, in creation order."""
        marks = ", ".join("?" * len(leave_out_statuses))
        for number, data in self._rows(
            f"SELECT id, ticket FROM tickets WHERE status NOT IN ({marks}) ORDER BY id", leave_out_statuses
        ):
            yield _decoded(data) or self._read(number)

    def tickets_with(
        self,
        leave_out_statuses: Sequence[str],
        key: str,
        derive: Callable[[Ticket], bytes | None],
        quiet: tuple[Sequence[str], datetime] | None = None,
        selection: query.Selection | None = None,
    ) -> Iterator[tuple[Ticket, bytes | None]]:
        """:meth:`tickets`, each with data derived from it, kept beside its row for ``key``.

        What the caller derives from a ticket and whatever ``key`` stands for (the clocks' facts and the
        rules they came from) is made once: again only when the ticket's row or the key changed (None:
        nothing worth keeping, asked again next time). It is written back a batch at a time, and only to
        rows whose file is still the one it was made from. ``quiet`` (statuses, moment) leaves out tickets
        in those statuses that speak of nothing since the moment (:func:`sdesk.tickets.query.latest_moment`);
        ``selection`` keeps only the tickets `sdesk list` would.
        """
        where, params = _leaving_out(leave_out_statuses, quiet)
        if selection is not None:
            chosen, chosen_params = query.sql_filter(selection)
            where, params = f"{where} AND {chosen}", (*params, *chosen_params)
        made: list[tuple[Any, ...]] = []
        for number, *signature, data, derived_key, derived in self._rows(
            f"SELECT id, size, mtime_ns, ctime_ns, inode, ticket, derived_key, derived FROM tickets WHERE {where} "
            "ORDER BY id",
            params,
        ):
            ticket = _decoded(data)
            if ticket is None:  # nothing is kept beside a damaged row
                ticket = self._read(number)
                yield ticket, derive(ticket)
                continue
            if derived_key != key or derived is None:
                derived = derive(ticket)
                if derived is not None:
                    made.append((key, derived, number, *signature))
                if len(made) >= BATCH:  # kept as they come: all open tickets' facts are made after a rules edit
                    self._keep(made)
            yield ticket, derived
        self._keep(made)

    def count(self, leave_out_statuses: Sequence[str], quiet: tuple[Sequence[str], datetime] | None = None) -> int:
        """How many tickets :meth:`tickets_with` gives for the same arguments: the total of its progress."""
        where, params = _leaving_out(leave_out_statuses, quiet)
        found: int = self.db.execute(f"SELECT COUNT(*) FROM tickets WHERE {where}", params).fetchone()[0]
        return found

    def _read(self, number: str) -> Ticket:
        """The ticket from its file, for a row that does not decode."""
        return read_ticket(self.tickets_dir / f"{number}.yaml", self.tickets_dir.parent)

    def _keep(self, made: list[tuple[Any, ...]]) -> None:
        """Derived data written beside the rows it came from (the list is emptied); quietly not when the index
        is busy or read-only."""
        if not made:
            return
        try:
            with self.db:
                self.db.executemany(
                    "UPDATE tickets SET derived_key = ?, derived = ? "
                    "WHERE id = ? AND size = ? AND mtime_ns = ? AND ctime_ns = ? AND inode = ?",
                    made,
                )
        except sqlite3.Error:
            pass
        made.clear()

    def _rows(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """Query results a batch at a time: a listing never holds every ticket at once."""
        cursor = self.db.execute(sql, params)
        while batch := cursor.fetchmany(BATCH):
            yield from batch


def _leaving_out(statuses: Sequence[str], quiet: tuple[Sequence[str], datetime] | None) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause (and its parameters) of the rows not in ``statuses`` and not quiet (see tickets_with)."""
    quiet_statuses, since = quiet or ((), EPOCH)
    marks, quiet_marks = ", ".join("?" * len(statuses)), ", ".join("?" * len(quiet_statuses))
    where = f"status NOT IN ({marks}) AND (status NOT IN ({quiet_marks}) OR latest_us >= ?)"
    return where, (*statuses, *quiet_statuses, _microseconds(since))


def _open(path: Path) -> sqlite3.Connection:
    """The index on disk, (re)created when missing, of an older format, damaged or not sdesk's own; else in memory.

    The index is git-ignored, but a clone may still receive one (`git add -f`): it is used only when it
    holds sdesk's table and nothing else (a trigger could rewrite every row sdesk writes), and never
    through a symbolic link.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return _prepared(_connect(path))
        except sqlite3.DatabaseError:
            path.unlink(missing_ok=True)  # damaged or foreign: it is only a cache, start it again
            return _prepared(_connect(path))
    except (sqlite3.Error, OSError):
        return _in_memory()


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.absolute().as_uri()}?nofollow=1", uri=True, timeout=LOCK_WAIT_MS / 1000)
    db.execute("PRAGMA trusted_schema = OFF")
    objects = db.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    if objects and objects != _in_memory().execute("SELECT type, name, sql FROM sqlite_master").fetchall():
        db.close()
        raise sqlite3.DatabaseError("not sdesk's index")
    return db


def _prepared(db: sqlite3.Connection) -> sqlite3.Connection:
    if db.execute("PRAGMA user_version").fetchone()[0] != FORMAT:
        with db:
            db.execute("DROP TABLE IF EXISTS tickets")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {FORMAT}")
        db.execute("PRAGMA journal_mode = WAL")  # readers go on while another command writes
    db.execute("PRAGMA synchronous = OFF")  # a cache: a crash at worst costs a rebuild
    return db


def _in_memory() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(_SCHEMA)
    return db


def _signatures(folder: Path, desk_root: Path) -> dict[str, Signature]:
    """Size, modification and status-change times and inode of every ticket file, from one directory scan.

    A link is judged by what it leads to; one that leads nowhere gets a
    signature no file has, so it is read, and reported, every time.
    """
    found = {}
    with scan(folder, desk_root) as entries:
        for entry in entries:
            number = entry.name[:-5]
            if entry.name.endswith(".yaml") and ids.is_ticket_id(number):
                try:
                    found[number] = _signature(entry.stat())
                except OSError:
                    found[number] = (-1, -1, -1, -1)
    return found


def _signature(stat: os.stat_result) -> Signature:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def _row(desk_root: Path, path: Path) -> tuple[Any, ...] | BrokenFile:
    """One file read into its index row; the signature is taken first, so a later write shows as stale."""
    try:
        stat = path.stat()
    except OSError:  # gone, or a link to nothing: reading says which
        stat = None
    try:
        ticket = read_ticket(path, desk_root)
    except SdeskError as error:
        return BrokenFile(path, error)
    if stat is None:
        return BrokenFile(path, SdeskError("file changed while it was read", path))
    summary = query.summary_fields(ticket)
    return (
        ticket.id,
        *_signature(stat),
        *(getattr(ticket, column) for column in _COLUMNS),
        _microseconds(ticket.updated),
        _microseconds(query.latest_moment(ticket)),
        json.dumps(summary, default=_iso, ensure_ascii=False),
        query.searchable_text(ticket),
        _encode(ticket),
        None,  # derived_key and derived: made when first asked for (tickets_with)
        None,
    )


def _trusted(row: tuple[Any, ...], started_ns: int) -> tuple[Any, ...]:
    """A row whose file changed just now gets a size no file has, so it is checked again next time."""
    if max(row[2], row[3]) > started_ns - RECENT_NS:
        return (row[0], -1, *row[2:])
    return row


def _decoded(data: Any) -> Ticket | None:
    """The ticket a row holds; None when the row is damaged (not even bytes, or not a ticket)."""
    try:
        return _decode_ticket(data)
    except (msgspec.DecodeError, TypeError):
        return None


def _microseconds(moment: datetime) -> int:
    """A moment as whole microseconds since 1970 (UTC): ordered as the instants are, whatever their offsets."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def _iso(value: Any) -> str:
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    raise TypeError(f"cannot index {type(value).__name__}")
