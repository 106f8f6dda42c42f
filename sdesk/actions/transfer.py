"""A whole desk's tickets out (`sdesk export json|csv`) and in (`sdesk import`).

The export streams every ticket, open and closed, with its whole history,
from the index: a desk of 100,000 tickets is never held whole. A ticket file
that does not read stops it before the first byte, as the site's export does:
a backup without that ticket would say it never existed.

The import reads its file twice. The first pass checks every ticket (as
`sdesk check` would, against this desk's rules.yaml) and writes nothing; the
second writes, each ticket through the store (exclusively: a file is never
overwritten), unless the first refused any and the caller did not ask to
import the others anyway. A ticket that is in the desk already, the same, is
left as it is, so a re-run is harmless. Where the tickets come from is a
:data:`Source`: `sdesk export`'s own files (here) or another helpdesk's CSV
(:mod:`sdesk.actions.movein`).
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

from msgspec import Struct
from msgspec.structs import replace

from sdesk.actions.check import ticket_checks
from sdesk.errors import InvalidData, Refused, SdeskError
from sdesk.formats import csvfile, files, jsonlist
from sdesk.formats.reader import SchemaError
from sdesk.mail import baseline, records
from sdesk.progress import UNKNOWN, Progress, counted, silent
from sdesk.storage import store
from sdesk.storage.store import Desk, render
from sdesk.tickets import ids, model, transfer
from sdesk.tickets.model import Ticket

# One exported ticket as JSON or CSV: what a ticket file may hold, with room for the escapes.
MAX_TICKET_CHARS = 2 * files.MAX_BYTES
CSV_BOUNDS = csvfile.Bounds(cell=MAX_TICKET_CHARS, columns=len(transfer.CSV_COLUMNS))
LOCK = "sdesk-import"  # one import at a time in a clone: two would both take a row for new


# --- export ------------------------------------------------------------------------------------------


def every_ticket(desk: Desk, progress: Progress = silent) -> Iterator[Ticket]:
    """Every ticket, open and closed, oldest first; a file that does not read stops this before the first."""
    from sdesk.storage.index import Index

    index = Index(desk.tickets_dir, desk.state_dir)
    broken = index.refresh(progress)
    if broken:
        more = f" (and {len(broken) - 1} more: sdesk check lists them)" if len(broken) > 1 else ""
        raise SdeskError(f"{broken[0].error}{more}; nothing exported")
    total = 0 if progress is silent else index.count(())
    return counted(index.tickets(), "Exporting tickets", total, progress)


def export(tickets: Iterable[Ticket], fmt: str) -> Iterator[str]:
    """The export's text, a piece at a time."""
    return transfer.json_list(tickets) if fmt == "json" else transfer.csv_lines(tickets)


# --- import ------------------------------------------------------------------------------------------


class Candidate(Struct):
    """One ticket of the file, as read: the ticket, or why there is none."""

    where: SdeskError  # the file and line, said before every refusal (its message is the ticket's name)
    key: str | None  # what tells two of the file's tickets apart: the ticket number, or their number
    ticket: Ticket | None
    reasons: list[str]
    renumber: bool = False  # a ticket new to sdesk: any free number will do
    known_as: str | None = None  # a ticket this desk has already (from an earlier import of the same file)


Source = Callable[[], Iterator[Candidate]]  # the file's tickets, read anew on each call (each pass)


class FileProblems(InvalidData):
    """Everything wrong with a file the import depends on (a mapping, and their CSV's header), each located."""

    def __init__(self, problems: list[InvalidData], path: Path) -> None:
        super().__init__(f"{len(problems)} problem{'s' if len(problems) > 1 else ''}", path)
        self.problems = problems


class Outcome(Struct, frozen=True):
    """What became of one ticket of the file."""

    state: str  # checked (first pass), refused, imported, unchanged
    where: SdeskError
    ticket_id: str | None = None
    reason: str = ""

    def refusal(self) -> str:
        """One line: where, whose, why."""
        return f"{self.where}: {self.reason}"


class Import:
    """One import: :meth:`run` yields an outcome per ticket and pass; ``checked`` counts the first pass's
    (checked: fit to write, refused, unchanged), ``written`` the second's (imported, unchanged, refused)."""

    def __init__(
        self,
        desk: Desk,
        source: Source,
        skip_refused: bool,
        dry_run: bool,
        owe_mail: bool,
        progress: Progress = silent,
    ) -> None:
        self.desk = desk
        self.progress = progress
        self.source = source
        self.skip_refused = skip_refused
        self.dry_run = dry_run
        self.owe_mail = owe_mail
        self.checked: Counter[str] = Counter()
        self.written: Counter[str] = Counter()
        self.mail_note: str | None = None

    def run(self) -> Iterator[Outcome]:
        with ExitStack() as stack:
            try:
                stack.enter_context(self.desk.locked(LOCK))
            except Refused:
                raise Refused("another sdesk import is running in this desk: try again when it is done") from None
            announced = frozenset(self.desk.announcement_ids())
            had_tickets = bool(self.desk.ticket_ids())
            keys: dict[str, SdeskError] = {}
            for done, candidate in enumerate(self.source(), 1):  # the first pass: every ticket checked, nothing written
                outcome = self._judge(candidate, announced, keys)
                self.checked[outcome.state] += 1
                self.progress("Checking tickets", done, UNKNOWN)
                yield outcome
            self.progress("Checking tickets", self.checked.total(), self.checked.total())
            if not self.checked["checked"] or (self.checked["refused"] and not self.skip_refused):
                return
            forget_baseline = self._owes_no_mail(had_tickets)
            if self.dry_run:
                return
            if forget_baseline:
                (self.desk.root / baseline.FILE).unlink()
                self.mail_note = (
                    f"removed {baseline.FILE} (commit: none): the imported history owes no mail; commit the "
                    "import before the desk's runner starts (its first cycle sets the mail baseline)"
                )
            keys.clear()
            passes = counted(self.source(), "Importing tickets", self.checked.total(), self.progress)
            for candidate in passes:  # the second: what passed, written
                outcome = self._judge(candidate, announced, keys)
                if outcome.state == "refused":
                    continue  # said in the first pass
                if outcome.state == "checked":
                    outcome = self._write(candidate)
                self.written[outcome.state] += 1
                yield outcome

    def _judge(self, candidate: Candidate, announced: frozenset[str], keys: dict[str, SdeskError]) -> Outcome:
        """Refused (with every reason), unchanged (the desk has it), or checked: fit to write."""
        where = candidate.where
        first = where if candidate.key is None else keys.setdefault(candidate.key, where)
        if first is not where:
            return Outcome("refused", where, reason=f"is in the file twice (first at line {first.line})")
        if candidate.known_as is not None:
            return Outcome("unchanged", where, candidate.known_as)
        ticket = candidate.ticket
        if ticket is None or candidate.reasons:
            return Outcome("refused", where, reason="; ".join(candidate.reasons))
        path = self.desk.path_for(ticket.id)
        if not candidate.renumber and (path.exists() or path.is_symlink()):  # there already: the same, or not
            try:
                same = files.read_bytes(path, self.desk.root) == render(ticket).encode("utf-8")
            except SdeskError as error:
                return Outcome("refused", where, reason=str(error))
            if same:
                return Outcome("unchanged", where, ticket.id)
            return Outcome(
                "refused", where, reason="a different ticket with its number is in the desk: not overwritten"
            )
        if store.may_be_too_large(ticket):  # refused now, or the second pass would write the others only
            try:
                render(ticket)
            except Refused as error:
                return Outcome("refused", where, reason=error.message)
        problems = ticket_checks(self.desk, ticket, announced)
        if problems:
            reason = "; ".join(str(problem) for problem in problems)
            if ticket.outage and ticket.outage not in announced:  # the export holds tickets, not announcements
                reason += " (copy announcements/ from the desk the export came from)"
            return Outcome("refused", where, reason=reason)
        return Outcome("checked", where, ticket.id)

    def _write(self, candidate: Candidate) -> Outcome:
        ticket = candidate.ticket
        assert ticket is not None  # checked
        try:
            if candidate.renumber:
                written = self.desk.add(lambda: replace(ticket, id=ids.imported_id(ticket.created)))
                return Outcome("imported", candidate.where, written.id)
            state = "imported" if self.desk.put(ticket) else "unchanged"
        except Refused as error:  # another process wrote it since the first pass
            return Outcome("refused", candidate.where, reason=error.message)
        return Outcome(state, candidate.where, ticket.id)

    def _owes_no_mail(self, had_tickets: bool) -> bool:
        """Whether the mail baseline is to go so that the imported history does not mail its customers as if
        it were new (see README, "Importing an export"); refuses where the desk's mail is under way."""
        root = self.desk.root
        sha = baseline.commit(root)
        if sha is None or self.owe_mail:
            return False  # the runner's first cycle sets the baseline after the import: nothing imported is owed
        if sha == baseline.NONE and not had_tickets and not records.any_records(root):
            return True
        what = "every event's mail" if sha == baseline.NONE else f"the mail of events since commit {sha[:12]}"
        raise Refused(
            f"this desk owes {what} ({baseline.FILE}), so the imported history would mail its customers "
            "as if it were new: import into a new desk (sdesk init) before its runner starts, "
            "or pass --owe-mail to have the runner mail it"
        )


# --- reading sdesk's own export ----------------------------------------------------------------------


def exported(path: Path, fmt: str | None) -> Source:
    """The tickets of a file `sdesk export json|csv` wrote (``fmt`` None: told by its first character)."""
    chosen = fmt or detect(path)

    def read() -> Iterator[Candidate]:
        with open_input(path) as stream:
            yield from (_json(stream, path) if chosen == "json" else _csv(stream, path))

    return read


def detect(path: Path) -> str:
    """json when the file starts with [ or { (after white space and a byte order mark), else csv: a JSON
    object is no export, and the JSON reader says so where the CSV reader would count its columns."""
    with open_input(path) as stream:
        start = stream.read(4096).removeprefix(csvfile.BOM).lstrip()
    return "json" if start.startswith((b"[", b"{")) else "csv"


@contextmanager
def open_input(path: Path) -> Iterator[BinaryIO]:
    """The file to import, which is read twice: a regular file (a pipe is refused, never waited on)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise SdeskError(f"cannot read: {error.strerror}", path) from None
    with os.fdopen(fd, "rb") as stream:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            message = f"is {files.kind(mode)}: sdesk reads the file it imports twice, so save it to a file first"
            raise InvalidData(message, path)
        yield stream


def _json(stream: BinaryIO, path: Path) -> Iterator[Candidate]:
    for line, data in jsonlist.items(stream, path, MAX_TICKET_CHARS):
        yield _candidate(data, SdeskError(_name(data), path, line), [])


def _csv(stream: BinaryIO, path: Path) -> Iterator[Candidate]:
    rows = csvfile.rows(stream, path, CSV_BOUNDS)
    header = next(rows, None)
    if header is None or tuple(header[1]) != transfer.CSV_COLUMNS:
        raise InvalidData(
            "not a CSV that sdesk export csv wrote (its first line names the columns id,title,…,history); "
            "another helpdesk's export needs a mapping: sdesk import --mapping MAP.yaml",
            path,
            1,
        )
    for line, cells in rows:
        data: dict[str, object] = {"id": cells[0]} if cells else {}
        reasons = []
        if len(cells) != len(transfer.CSV_COLUMNS):
            reasons.append(f"{len(cells)} cells, where the header names {len(transfer.CSV_COLUMNS)}")
        else:
            try:
                data = transfer.from_csv_row(cells)
            except ValueError as error:
                reasons.append(str(error))
        yield _candidate(data, SdeskError(_name(data), path, line), reasons)


def _name(data: object) -> str:
    number = data.get("id") if isinstance(data, dict) else None
    return f"ticket {number}" if isinstance(number, str) and ids.is_ticket_id(number) else "a ticket"


def _candidate(data: object, where: SdeskError, reasons: list[str]) -> Candidate:
    key = where.message if where.message != "a ticket" else None  # no number: one of many on a line (jq -c)
    if reasons:
        return Candidate(where, key, None, reasons)
    try:
        return Candidate(where, key, model.from_dict(data), [])
    except SchemaError as error:
        return Candidate(where, key, None, [str(error)])
