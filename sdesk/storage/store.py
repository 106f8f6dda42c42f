"""The desk on disk: finding it, reading and writing ticket files safely.

Guarantees (README, "Storage"):

* a write goes to a temporary file in the same folder, is fsynced and renamed
  into place, so a crash leaves the old file or the new one, never a torn one;
* a new ticket is linked into place exclusively, so it never overwrites one;
* read-modify-write holds a per-ticket lock, so concurrent changes queue up
  instead of losing each other;
* a file that does not parse is never rewritten;
* a ticket reference is validated before it touches the file system.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from msgspec import Struct

from sdesk.errors import InvalidData, NotFound, Refused, SdeskError, excerpt
from sdesk.formats import files, yamlio
from sdesk.formats.reader import Invalid, SchemaError, first_located, located
from sdesk.policy import rules
from sdesk.service import announcements
from sdesk.service.announcements import Announcement
from sdesk.tickets import ids, model
from sdesk.tickets.model import Event, Ticket

if TYPE_CHECKING:
    from sdesk.storage.locks import Held

RULES_FILE = "rules.yaml"
TICKETS_DIR = "tickets"
ANNOUNCEMENTS_DIR = "announcements"
SCHEMAS_DIR = "schemas"
# Lets editors with yaml-language-server check a ticket, or an announcement, while it is edited by hand.
SCHEMA_COMMENT = f"# yaml-language-server: $schema=../{SCHEMAS_DIR}/ticket.schema.json\n"
ANNOUNCEMENT_SCHEMA_COMMENT = f"# yaml-language-server: $schema=../{SCHEMAS_DIR}/announcement.schema.json\n"
STATE_DIR = ".sdesk"  # derived, git-ignored: locks and the ticket index
OUTBOX_DIR = "outbox"  # a clone's mail before the runner (sdesk 0.8), git-ignored: sdesk.mail.legacy moves it
LOCK_TIMEOUT_SECONDS = 10
AMBIGUOUS_SHOWN = 10
KEPT_NAMES = frozenset({".gitkeep"})  # what `sdesk init` puts in an empty tickets/


def find_desk(explicit: Path | None, start: Path) -> Desk:
    """The desk named by --desk/SDESK_DIR, else the nearest one at or above ``start``."""
    if explicit is not None:
        if not (explicit / RULES_FILE).is_file():
            raise NotFound(f"no desk at {explicit}: {RULES_FILE} is missing (create one with: sdesk init {explicit})")
        return Desk(explicit)
    for folder in (start, *start.parents):
        if (folder / RULES_FILE).is_file() and (folder / TICKETS_DIR).is_dir():
            return Desk(folder)
    raise NotFound(
        f"no desk here: no {RULES_FILE} and {TICKETS_DIR}/ in {start} or above "
        "(use --desk DIR, SDESK_DIR, or create one with: sdesk init DIR)"
    )


class BrokenFile(Struct):
    """A ticket file that could not be read, with the error that says why."""

    path: Path
    error: SdeskError


class Desk:
    def __init__(self, root: Path):
        self.root = root
        self.rules_path = root / RULES_FILE
        self.tickets_dir = root / TICKETS_DIR
        self.announcements_dir = root / ANNOUNCEMENTS_DIR
        self.state_dir = root / STATE_DIR

    @cached_property
    def rules(self) -> rules.Rules:
        """The desk's policy; an invalid rules.yaml stops every command at its first problem.

        Checked once and kept in the clone's cache for as long as the file stays the same (rulescache).
        """
        from sdesk.storage import rulescache

        source = files.read_bytes(self.rules_path, self.root)
        made_from = self.__dict__["rules_key"] = rulescache.fingerprint(source)  # of these very bytes
        cached = rulescache.load(self.state_dir, made_from)
        if cached is not None:
            return cached
        text = files.decode(source, self.rules_path)
        try:
            parsed = rules.parse(yamlio.load(text, self.rules_path))
        except Invalid as invalid:
            raise first_located(invalid, self.rules_path, text, "sdesk rules check") from None
        rulescache.save(self.state_dir, made_from, parsed, date.today())
        return parsed

    @cached_property
    def rules_key(self) -> str:
        """What the rules were made from (rules.yaml's bytes, this sdesk, Python, the holiday library, the
        time-zone database), as one string: what is derived from the rules is kept under it."""
        self.rules  # noqa: B018 - reading the rules sets the key of the same bytes
        return str(self.__dict__["rules_key"])

    def reload(self) -> None:
        """Read rules.yaml again when next asked (a pull may have changed it)."""
        self.__dict__.pop("rules", None)
        self.__dict__.pop("rules_key", None)

    # --- finding tickets ---------------------------------------------------------------

    def ticket_ids(self) -> list[str]:
        """Every ticket number on disk, in creation order, from file names alone."""
        return _numbers_in(self.tickets_dir, self.root)

    def path_for(self, ticket_id: str) -> Path:
        if not ids.is_ticket_id(ticket_id):
            raise InvalidData(f"{excerpt(ticket_id)} is not a ticket number")
        return self.tickets_dir / f"{ticket_id}.yaml"

    def resolve(self, ref: str) -> str:
        """The one ticket a full number, unique prefix or short form names."""
        return _resolve(ref, self.tickets_dir, self.root, "ticket")

    # --- reading -------------------------------------------------------------------------

    def read(self, ticket_id: str) -> Ticket:
        return read_ticket(self.path_for(ticket_id), self.root)

    # --- writing -------------------------------------------------------------------------

    def add(self, make_ticket: Callable[[], Ticket], attempts: int = 5) -> Ticket:
        """Save a new ticket under a number no other file has; draws again on a clash."""
        files.require_inside(self.tickets_dir, self.root)
        for _ in range(attempts):
            ticket = make_ticket()
            try:
                write_atomic(self.path_for(ticket.id), render(ticket), exclusive=True)
                return ticket
            except FileExistsError:
                continue
        raise SdeskError(f"could not find a free ticket number in {attempts} attempts")

    def put(self, ticket: Ticket) -> bool:
        """Save a ticket under its own number (an import): never over another file. False when that very
        file is there already (a re-run); a different ticket under the number is refused."""
        files.require_inside(self.tickets_dir, self.root)
        path = self.path_for(ticket.id)
        text = render(ticket)
        try:
            write_atomic(path, text, exclusive=True)
            return True
        except FileExistsError:
            pass
        if files.read_bytes(path, self.root) != text.encode("utf-8"):
            raise Refused(f"a different ticket {ticket.id} is in the desk: not overwritten", path)
        return False

    def change(
        self,
        ticket_id: str,
        decide: Callable[[Ticket], Event],
        before_write: Callable[[Ticket, Event], None] | None = None,
    ) -> tuple[Ticket, Event]:
        """Read, decide and write one ticket under its lock, so no change is lost.

        ``before_write`` sees the changed ticket before it is saved; raising there saves nothing.
        """
        path = self.path_for(ticket_id)
        with self.locked(ticket_id) as lock:
            text = files.read_text(path, self.root)
            ticket = parse_ticket(text, path)
            refuse_rewrite(path, text, SCHEMA_COMMENT)
            event = decide(ticket)
            ticket.apply(event)
            if before_write is not None:
                before_write(ticket, event)
            _still_held(lock, ticket_id)
            write_atomic(path, render(ticket))
        return ticket, event

    # --- announcements -------------------------------------------------------------------

    def find_announcement(self, ref: str) -> Announcement:
        """The one announcement a full number, unique prefix or short form names."""
        return self.read_announcement(_resolve(ref, self.announcements_dir, self.root, "announcement"))

    def read_announcement(self, announcement_id: str) -> Announcement:
        path = self.announcements_dir / f"{announcement_id}.yaml"
        text = files.read_text(path, self.root)
        try:
            announcement = announcements.from_dict(yamlio.load(text, path))
            if announcement.id != path.stem:
                raise SchemaError(("id",), f"'{announcement.id}' does not match the file name")
        except SchemaError as error:
            raise located(error, path, text)[0] from None
        return announcement

    def announcement_ids(self) -> list[str]:
        return _numbers_in(self.announcements_dir, self.root) if self.announcements_dir.is_dir() else []

    def announcements(self) -> list[Announcement]:
        """Every announcement, oldest first; a broken file stops the listing with its location."""
        return [self.read_announcement(number) for number in self.announcement_ids()]

    def add_announcement(self, make: Callable[[], Announcement], attempts: int = 5) -> Announcement:
        files.require_inside(self.announcements_dir, self.root)
        try:
            self.announcements_dir.mkdir(exist_ok=True)
        except OSError as error:
            raise SdeskError(f"cannot make the folder: {error.strerror}", self.announcements_dir) from None
        for _ in range(attempts):
            announcement = make()
            try:
                write_atomic(self._announcement_path(announcement), _render_announcement(announcement), exclusive=True)
                return announcement
            except FileExistsError:
                continue
        raise SdeskError(f"could not find a free announcement number in {attempts} attempts")

    def change_announcement(self, announcement_id: str, decide: Callable[[Announcement], None]) -> Announcement:
        with self.locked(announcement_id) as lock:
            announcement = self.read_announcement(announcement_id)
            path = self._announcement_path(announcement)
            refuse_rewrite(path, files.read_text(path, self.root), ANNOUNCEMENT_SCHEMA_COMMENT)
            decide(announcement)
            _still_held(lock, announcement_id)
            write_atomic(self._announcement_path(announcement), _render_announcement(announcement))
        return announcement

    def _announcement_path(self, announcement: Announcement) -> Path:
        return self.announcements_dir / f"{announcement.id}.yaml"

    def strays(self) -> list[SdeskError]:
        """Every entry under tickets/ and announcements/ that sdesk does not read, saying why.

        A ticket renamed to lower case, saved as .yml or moved into a
        subfolder would silently drop out of every listing; `sdesk check` names it.
        """
        found = []
        for folder in (self.tickets_dir, self.announcements_dir):
            if folder.is_dir():
                found += _strays_in(folder, self.root)
        return found

    @contextmanager
    def locked(self, ticket_id: str) -> Iterator[Held]:
        """Hold one ticket's lock: whatever is read and written under it, no other sdesk changes in between."""
        from sdesk.storage.locks import LockTimeout, held

        lock_dir = self.state_dir / "locks"
        files.require_inside(lock_dir, self.root)
        with ExitStack() as stack:
            try:
                lock_dir.mkdir(parents=True, exist_ok=True)
                lock = stack.enter_context(held(lock_dir / f"{ticket_id}.lock", LOCK_TIMEOUT_SECONDS))
            except LockTimeout:
                raise Refused(f"{ticket_id} is being changed by another sdesk process; try again") from None
            except OSError as error:
                raise SdeskError(f"cannot lock {ticket_id}: {error.strerror}", error.filename or lock_dir) from None
            yield lock


def _still_held(lock: Held, name: str) -> None:
    """Refuse to write when the lock file was removed meanwhile: another sdesk may have changed the file
    under a new one (``rm -r .sdesk`` during a change)."""
    if lock.lost():
        raise Refused(f"{name}: its lock file was removed during the change; nothing saved, try again")


def _numbers_in(folder: Path, desk_root: Path) -> list[str]:
    """The numbers of the files in a folder, in creation order, from file names alone."""
    with files.scan(folder, desk_root) as entries:
        names = [entry.name[:-5] for entry in entries if entry.name.endswith(".yaml")]
    return sorted(name for name in names if ids.is_ticket_id(name))


def _strays_in(folder: Path, desk_root: Path) -> list[SdeskError]:
    found: list[SdeskError] = []
    with files.scan(folder, desk_root) as entries:
        for entry in sorted(entries, key=lambda entry: entry.name):
            name, ext = os.path.splitext(entry.name)
            if (entry.name in KEPT_NAMES or (name.startswith(".") and ext == ".tmp")) and entry.is_file(
                follow_symlinks=False
            ):
                continue  # a placeholder, or an interrupted write's temporary file (git-ignored)
            if entry.is_dir(follow_symlinks=False):  # the directory entry says so: no system call per file
                found.append(
                    InvalidData(f"a folder: sdesk reads only the files directly in {folder.name}/", Path(entry.path))
                )
            elif not (ext == ".yaml" and ids.is_ticket_id(name)):
                meant = _meant(name)
                hint = f" (did you mean {meant}.yaml?)" if meant else f" (expected {folder.name}/<NUMBER>.yaml)"
                message = f"not a name sdesk reads, so it is never listed{hint}"
                found.append(InvalidData(message, Path(entry.path)))
    return found


def _meant(name: str) -> str | None:
    """The number of a ticket file saved under the wrong case or extension."""
    return name.upper() if ids.is_ticket_id(name.upper()) else None


def _resolve(ref: str, folder: Path, desk_root: Path, what: str) -> str:
    """The one file number a full number, unique prefix or short form names."""
    compact = ids.normalize_ref(ref)
    if len(compact) == ids.TIME_CHARS + ids.RANDOM_CHARS:
        full = f"{compact[: ids.TIME_CHARS]}-{compact[ids.TIME_CHARS :]}"
        if (folder / f"{full}.yaml").exists():
            return full
    numbers = _numbers_in(folder, desk_root) if folder.is_dir() else []
    matches = [number for number in numbers if ids.ref_matches(compact, number)]
    if not matches:
        raise NotFound(f"no {what} matches {excerpt(ref)}")
    if len(matches) > 1:
        shown = ", ".join(matches[:AMBIGUOUS_SHOWN])
        more = f" and {len(matches) - AMBIGUOUS_SHOWN} more" if len(matches) > AMBIGUOUS_SHOWN else ""
        raise Refused(f"{excerpt(ref)} is ambiguous: it matches {shown}{more}")
    return matches[0]


def _render_announcement(announcement: Announcement) -> str:
    return ANNOUNCEMENT_SCHEMA_COMMENT + yamlio.dump(announcements.to_dict(announcement))


def render(ticket: Ticket) -> str:
    """The file's text: the editor's schema comment, then the ticket in fixed key order; refused when sdesk
    could not read it back (an imported ticket, a comment too many): every command would stop at it."""
    text = SCHEMA_COMMENT + yamlio.dump(model.to_dict(ticket))
    if len(text) * 4 > files.MAX_BYTES and (size := len(text.encode("utf-8"))) > files.MAX_BYTES:
        raise Refused(f"its file would be {size:,} bytes, more than sdesk reads ({files.MAX_BYTES:,})")
    return text


def may_be_too_large(ticket: Ticket) -> bool:
    """Whether :func:`render` may refuse the ticket, told in microseconds where rendering takes a millisecond:
    its file takes at most four times the bytes of its JSON (YAML's longest escape, \\U000E0001, 2.5 times)."""
    return len(msgspec.json.encode(ticket)) * 4 > files.MAX_BYTES


def read_ticket(path: Path, desk_root: Path | None = None, named_after_id: bool = True) -> Ticket:
    """Read, parse and validate one ticket file; every failure names the file and line.

    ``desk_root`` is where a symbolic link may lead (None: nowhere). A file in
    tickets/ must be named after its ticket; git's temporary copies for a merge are not.
    """
    return parse_ticket(files.read_text(path, desk_root), path, named_after_id)


def parse_ticket(text: str, path: Path, named_after_id: bool = True) -> Ticket:
    """Parse and validate a ticket file's text, read from ``path``."""
    data = yamlio.load(text, path)
    try:
        ticket = model.from_dict(data)
    except SchemaError as error:
        raise located(error, path, text)[0] from None
    if named_after_id and ticket.id != path.stem:
        raise located(SchemaError(("id",), f"'{ticket.id}' does not match the file name"), path, text)[0]
    return ticket


def rules_problems(path: Path, desk_root: Path | None) -> tuple[rules.Rules | None, list[SdeskError]]:
    """Every problem of a rules file, located, for `sdesk rules check`; the rules when there are none."""
    text = files.read_text(path, desk_root)
    try:
        return rules.parse(yamlio.load(text, path)), []
    except InvalidData as error:
        return None, [error]
    except Invalid as invalid:
        return None, list(located(invalid.problems, path, text))


def refuse_rewrite(path: Path, text: str, first_line: str | None = None) -> None:
    """Refuses to rewrite a file when that would lose what a person put there: comments, or its read-only mode.

    sdesk writes a file from its parsed data, so a hand-written ``# comment``
    would vanish silently; a file made read-only was protected on purpose.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not mode & stat.S_IWUSR:
        raise Refused(f"is read-only ({stat.filemode(mode)}): make it writable (chmod u+w) to change it", path)
    found = yamlio.comments(text, first_line)
    if found:
        line, column = found[0]
        raise Refused(
            "holds a hand-written comment that rewriting the file would lose: "
            "remove it, or keep the note in the history (sdesk comment --internal)",
            path,
            line,
            column,
        )


def write_atomic(
    path: Path, content: str | bytes | Iterable[str], exclusive: bool = False, durable: bool = True
) -> None:
    """Write via a temporary file and a rename (or a no-clobber link); text goes out as UTF-8.

    ``content`` may come in pieces (an export of every ticket), written as they come. A replaced
    file keeps its permissions (a new one gets the umask's). ``durable`` syncs the file and its
    folder to disk first, so a power cut cannot lose it; files that can be made again (an
    exported site) skip that cost.
    """
    pieces = [content] if isinstance(content, str | bytes) else content
    mode = _mode_to_keep(path) if not exclusive else None
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise SdeskError(f"cannot write: {exc.strerror}", path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in pieces:
                handle.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            handle.flush()
            os.fchmod(handle.fileno(), mode if mode is not None else 0o666 & ~_umask())
            if durable:
                os.fsync(handle.fileno())
        if exclusive:
            os.link(temporary, path)
            os.unlink(temporary)
        else:
            os.replace(temporary, path)
        if durable:
            _fsync_dir(path.parent)
    except BaseException as exc:
        if os.path.exists(temporary):
            os.unlink(temporary)
        if isinstance(exc, OSError) and not isinstance(exc, FileExistsError):
            raise SdeskError(f"cannot write: {exc.strerror}", path) from None
        raise


def _mode_to_keep(path: Path) -> int | None:
    """The permission bits of the regular file a write replaces (None: there is none)."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
