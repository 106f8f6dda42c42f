"""Everything wrong with a desk, located, for people and for CI (`sdesk check`).

rules.yaml, every ticket and announcement file (against the rules too),
every file in their folders that sdesk would not read, the desk's mail and
HTML templates, the editors' JSON Schemas it committed, and in a git
repository what git knows: unmerged files, committed events edited by hand,
whether this clone merges tickets with sdesk's driver. The index is never
trusted here: every file is read, on every core.
"""

from __future__ import annotations

from pathlib import Path

from msgspec import Struct

from sdesk.errors import InvalidData, SdeskError
from sdesk.formats import files
from sdesk.formats.reader import SchemaError, located
from sdesk.policy.checks import ticket_problems
from sdesk.progress import Progress, counted, silent
from sdesk.service.timelog import amends_problems
from sdesk.storage import attachments, gitrepo, mergedriver, parallel, schemas
from sdesk.storage.store import SCHEMAS_DIR, Desk, parse_ticket
from sdesk.tickets import ids
from sdesk.tickets.model import Ticket
from sdesk.words import SCHEMA_KINDS

CHECKING = "Checking ticket files"  # what the check tells its progress


class Checked(Struct, frozen=True):
    problems: list[SdeskError]  # each one located where a file is at fault
    warnings: list[str]  # said, but no reason to fail (a CI clone has no merge driver)
    tickets: int  # ticket files read


def check_desk(
    desk: Desk, since: str | None = None, only_changed: bool = False, progress: Progress = silent
) -> Checked:
    """Every problem of the desk; ``since`` is the commit committed history is compared with (default HEAD).

    ``only_changed`` reads only the ticket files git sees changed since then (a pre-commit hook on a large
    desk), or every ticket when rules.yaml changed (every ticket is read by it); everything else is checked
    as always. ``progress`` hears of each ticket file checked.
    """
    rules = desk.rules  # an invalid rules.yaml stops here, at its first problem
    problems: list[SdeskError] = desk.strays()
    announced = set()
    for number in desk.announcement_ids():
        try:
            desk.read_announcement(number)
            announced.add(number)
        except SdeskError as error:
            problems.append(error)
    if only_changed and not _in_git(desk, since):
        raise SdeskError("--changed needs a git repository: it checks what git sees changed")
    rules_file = desk.rules_path.relative_to(desk.root).as_posix()
    if only_changed and not gitrepo.changed_yaml_files(desk.root, rules_file, since):
        paths = gitrepo.changed_yaml_files(desk.root, desk.tickets_dir.relative_to(desk.root).as_posix(), since)
    else:  # a changed rules.yaml may break any ticket: all are read
        paths = [desk.path_for(number) for number in desk.ticket_ids()]
    for found in counted(
        parallel.map_files(_file_problems, (desk, frozenset(announced)), paths), CHECKING, len(paths), progress
    ):
        problems += found
    from sdesk.mail import compose  # Jinja2 only for commands that need it
    from sdesk.website import pages

    problems += compose.Templates(desk.root, rules.timezone).check()
    problems += pages.Templates(desk.root).check()
    problems += schema_problems(desk)
    problems += delivery_problems(desk)
    problems += mail_in_problems(desk)
    problems += gitrepo.committed_clone_files(desk.root)
    warnings: list[str] = []
    if _in_git(desk, since):
        folder = desk.tickets_dir.relative_to(desk.root).as_posix()
        problems += gitrepo.unmerged(desk.root, folder) + gitrepo.hand_edits(desk.root, folder, since)
        warnings += mergedriver.driver_warnings(desk.root, folder)
    return Checked(problems, warnings, len(paths))


def _attachment_problems(desk: Desk, ticket: Ticket) -> list[SchemaError]:
    found = []
    for index, event in enumerate(ticket.history):
        for name in event.attachments:
            if not attachments.is_stored_name(name):
                found.append(
                    SchemaError(("history", index, "attachments"), f"{name!r} is not a kept attachment's name")
                )
            elif not (attachments.folder(desk.root, ticket.id) / name).is_file():
                where = ("history", index, "attachments")
                found.append(SchemaError(where, f"attachment {name} is missing from attachments/{ticket.id}/"))
    return found


def mail_in_problems(desk: Desk) -> list[SdeskError]:
    """Received mail's records read, triage names them, and each kept attachment is the one its ticket names."""
    from sdesk.mail import received

    found = received.problems(desk.root)
    top = desk.root / attachments.FOLDER
    referenced: dict[str, set[str]] = {}
    for folder in sorted(top.iterdir()) if top.is_dir() and not top.is_symlink() else ():
        try:
            if ids.is_ticket_id(folder.name):
                ticket = desk.read(folder.name)
                referenced[folder.name] = {name for event in ticket.history for name in event.attachments}
            elif received.ID_PATTERN.fullmatch(folder.name):
                held = received.read(desk.root, folder.name)
                if held.pending:
                    referenced[folder.name] = {entry["file"] for entry in held.attachments if entry.get("file")}
        except SdeskError:
            continue  # no such ticket or record: attachments.problems says the folder belongs to nothing
    return found + attachments.problems(desk.root, referenced)


def delivery_problems(desk: Desk) -> list[SdeskError]:
    """The mail baseline must read, and deliveries/ hold nothing but it and one records file per ticket."""
    from sdesk.mail import baseline, records

    found: list[SdeskError] = []
    try:
        baseline.commit(desk.root)
    except SdeskError as error:
        found.append(error)
    folder = desk.root / records.FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return found
    for path in sorted(folder.iterdir()):
        if path.name == baseline.FILE.name:
            continue
        if path.suffix != ".jsonl" or not records.is_owner(path.stem):
            found.append(InvalidData("is not a ticket's delivery records (TICKET.jsonl): sdesk never reads it", path))
        elif not path.is_file() or path.is_symlink():
            found.append(InvalidData("is not a plain file: this ticket's mail waits until it is one", path))
    return found


def _in_git(desk: Desk, since: str | None) -> bool:
    """Is there git history to compare with? Outside git, ``--since`` is a mistake; without it, nothing to do."""
    if since is not None and not since.strip():  # an unset variable in CI must not switch the comparison off
        raise SdeskError("--since needs a commit to compare with, such as origin/main")
    try:
        gitrepo.work_tree(desk.root)
    except SdeskError:
        if since is not None:
            raise SdeskError(f"--since {since}: {desk.root} is not in a git repository") from None
        return False
    return True


def schema_problems(desk: Desk) -> list[SdeskError]:
    """The editors' schemas in schemas/ must be what this sdesk makes: an edited or emptied one would mislead."""
    folder = desk.root / SCHEMAS_DIR
    if not folder.is_dir():
        return []  # a desk without editor support
    found: list[SdeskError] = []
    for kind in SCHEMA_KINDS:
        path = folder / f"{kind}.schema.json"
        fix = f"write it anew: sdesk schema {kind} > {SCHEMAS_DIR}/{path.name}"
        try:
            committed = files.read_text(path, desk.root)
        except SdeskError as error:
            found.append(InvalidData(f"{error.message}; {fix}", path))
            continue
        # The very text (line ends aside, for a checkout with autocrlf): a true swapped for 1 still parses alike.
        if committed.replace("\r\n", "\n") != schemas.text(kind):
            found.append(InvalidData(f"is not the schema this sdesk makes for {kind} files: {fix}", path))
    return found


def _file_problems(checking: tuple[Desk, frozenset[str]], path: Path) -> list[SdeskError]:
    """Everything wrong with one ticket file, located; runs in worker processes on a large desk."""
    desk, announced = checking
    try:
        text = files.read_text(path, desk.root)
        ticket = parse_ticket(text, path)
    except SdeskError as error:
        return [gitrepo.unresolved_conflict(path, desk.root) or error]
    found = ticket_checks(desk, ticket, announced)
    return list(located(found, path, text)) if found else []


def ticket_checks(desk: Desk, ticket: Ticket, announced: frozenset[str]) -> list[SchemaError]:
    """What `sdesk check` finds wrong with a well-formed ticket in this desk (``announced``: its announcements'
    numbers): the rules, time corrections, the attachments and outage it names. An import holds tickets to it."""
    found = ticket_problems(ticket, desk.rules) + amends_problems(ticket.history)
    found += _attachment_problems(desk, ticket)
    if ticket.outage and ticket.outage not in announced:
        found.append(SchemaError(("outage",), f"no announcement {ticket.outage} in {desk.announcements_dir.name}/"))
    return found
