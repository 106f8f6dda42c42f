"""The desk's git repository: who changed a ticket in which commit, and what `sdesk check` finds in git
(unmerged files, committed events edited by hand, a clone's own files committed).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from msgspec import Struct

from sdesk.errors import InvalidData, SdeskError
from sdesk.formats import files, yamlio
from sdesk.formats.reader import SchemaError, located
from sdesk.storage import merge
from sdesk.storage.store import OUTBOX_DIR, STATE_DIR
from sdesk.tickets import model
from sdesk.tickets.model import Event

_FIELD_SEPARATOR = "\x00"  # git keeps NUL out of names, addresses and subjects
_MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)


class Commit(Struct, frozen=True):
    sha: str
    author: str
    email: str
    date: str  # ISO-8601, as git gives it
    subject: str


def git(folder: Path, *args: str, stdin: str | None = None) -> str:
    """Run git in ``folder``; a failure is a one-line SdeskError with git's own words."""
    try:
        done = subprocess.run(["git", *args], cwd=folder, input=stdin, capture_output=True, text=True, check=False)
    except OSError as error:
        raise SdeskError(f"cannot run git: {error.strerror}") from None
    if done.returncode != 0:
        raise SdeskError(f"git {args[0]} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def work_tree(folder: Path) -> Path:
    """The root of the git work tree ``folder`` is in."""
    try:
        return Path(git(folder, "rev-parse", "--show-toplevel").strip())
    except SdeskError:
        raise SdeskError(f"{folder} is not in a git repository (run: git init)") from None


def ticket_versions(desk_root: Path, path: Path) -> list[tuple[Commit, list[Event] | None]]:
    """Every commit that changed a ticket file, oldest first, with the history it had then (None: unreadable)."""
    relative = str(path.relative_to(desk_root))
    try:
        git(desk_root, "rev-parse", "--verify", "--quiet", "HEAD")
    except SdeskError:
        return []  # a repository without commits yet
    log = git(
        desk_root,
        "log",
        "--date-order",
        "--reverse",
        "--format=%H%x00%an%x00%ae%x00%aI%x00%s",
        "--",
        relative,
    )
    commits = [Commit(*line.split(_FIELD_SEPARATOR, 4)) for line in log.split("\n") if line]
    if not commits:
        return []
    histories = committed_histories(desk_root, [f"{commit.sha}:./{relative}" for commit in commits], relative)
    return list(zip(commits, histories, strict=True))


def committed_histories(desk_root: Path, objects: Sequence[str], what: str) -> list[list[Event] | None]:
    """The histories of ticket files as git has them (``COMMIT:./PATH`` each), read in one `git cat-file`."""
    wanted = "".join(f"{name}\n" for name in objects).encode()
    try:
        blobs = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=desk_root, input=wanted, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise SdeskError(f"cannot read {what} from git: {error}") from None
    return _histories(blobs, len(objects))


def _histories(data: bytes, count: int) -> list[list[Event] | None]:
    """Parse `git cat-file --batch` output: a header line, then that many bytes, per object."""
    histories: list[list[Event] | None] = []
    position = 0
    for _ in range(count):
        end = data.index(b"\n", position)
        header = data[position:end].split()
        position = end + 1
        if header[-1] == b"missing":  # the file was deleted in that commit
            histories.append(None)
            continue
        size = int(header[2])
        histories.append(_history(data[position : position + size].decode("utf-8", errors="replace")))
        position += size + 1
    return histories


def _history(text: str) -> list[Event] | None:
    try:
        return model.from_dict(yamlio.load(text, Path("ticket"))).history
    except (SdeskError, SchemaError):
        return None


def attribute(
    versions: Sequence[tuple[Commit, list[Event] | None]], current: Sequence[Event]
) -> list[tuple[Commit | None, list[Event]]]:
    """The commit that first had each event of the current history (None: not committed yet), oldest first."""
    unseen = Counter(current)
    found: list[tuple[Commit | None, list[Event]]] = []
    for commit, history in versions:
        added = []
        for event in history or ():
            if unseen[event] > 0:
                unseen[event] -= 1
                added.append(event)
        if added:
            found.append((commit, added))
    rest = []
    for event in current:
        if unseen[event] > 0:
            unseen[event] -= 1
            rest.append(event)
    if rest:
        found.append((None, rest))
    return found


# --- what sdesk check finds in git ------------------------------------------------------------


CLONE_FOLDERS = (STATE_DIR, OUTBOX_DIR)  # each clone's own: git-ignored, so never shared unless forced


def committed_clone_files(desk_root: Path) -> list[SdeskError]:
    """Files of a clone's own folders that git tracks anyway (`git add -f`): a pull would plant them in every clone.

    A planted journal could tell the runner mail went out that never did, a planted index could lie to listings.
    """
    try:
        listed = git(desk_root, "ls-files", "-z", "--", *CLONE_FOLDERS)
    except SdeskError:
        return []  # not a git work tree
    message = "is committed to git, but belongs to one clone: git rm --cached it, and commit"
    return [InvalidData(message, desk_root / name) for name in listed.split("\0") if name]


def unresolved_conflict(path: Path, desk_root: Path) -> SdeskError | None:
    """A ticket file that does not parse because it holds a merge's conflict markers: say that, at the first."""
    try:
        text = files.read_text(path, desk_root)
    except SdeskError:
        return None
    found = _MARKER.search(text)
    if found is None:
        return None
    return InvalidData(
        "conflict markers of a merge git could not finish: keep what both sides did, remove the markers "
        "(<<<<<<<, =======, >>>>>>>), then git add the file",
        path,
        text.count("\n", 0, found.start()) + 1,
        1,
    )


def unmerged(desk_root: Path, folder: str) -> list[SdeskError]:
    """Ticket files git still has as unmerged (a conflict not yet resolved and added)."""
    listed = git(desk_root, "ls-files", "--unmerged", "-z", "--", folder)
    names = sorted({entry.split("\t", 1)[1] for entry in listed.split("\0") if "\t" in entry})
    message = "git still has this file as unmerged: resolve the conflict, then git add the file"
    return [SdeskError(message, desk_root / name) for name in names]


def changed_yaml_files(desk_root: Path, folder: str, since: str | None) -> list[Path]:
    """The YAML files under ``folder`` (or the file itself) the work tree changed since ``since`` (default
    HEAD): edited, staged or new."""
    reference = since or "HEAD"
    try:
        commit = git(desk_root, "rev-parse", "--verify", "--quiet", f"{reference}^{{commit}}").strip()
    except SdeskError:
        if since is not None:
            raise SdeskError(f"--since {since}: git knows no such commit") from None
        commit = None  # no commit yet: every file is new
    listed = git(desk_root, "ls-files", "-z", "--others", "--exclude-standard", "--", folder).split("\0")
    if commit is None:
        listed += git(desk_root, "ls-files", "-z", "--", folder).split("\0")
    else:
        listed += git(desk_root, "diff", "--name-only", "--relative", "--no-renames", "-z", commit, "--", folder).split(
            "\0"
        )
    return sorted({desk_root / name for name in listed if name.endswith(".yaml") and os.path.lexists(desk_root / name)})


def hand_edits(desk_root: Path, folder: str, since: str | None) -> list[SdeskError]:
    """Committed events that a ticket file in the work tree no longer has as committed; only files git sees changed."""
    reference = since or "HEAD"
    try:
        commit = git(desk_root, "rev-parse", "--verify", "--quiet", f"{reference}^{{commit}}").strip()
    except SdeskError:
        if since is None:
            return []  # no commit yet
        raise SdeskError(f"--since {since}: git knows no such commit") from None
    changed = git(desk_root, "diff", "--name-only", "--relative", "--no-renames", "-z", commit, "--", folder)
    named = [desk_root / name for name in changed.split("\0") if name.endswith(".yaml")]
    # In the commit and changed, but not in the work tree: deleted.
    removed: list[SdeskError] = [
        SdeskError(
            f"a committed ticket was deleted: history is append-only (git checkout {reference} -- restores it)", path
        )
        for path in named
        if not os.path.lexists(path)
    ]
    paths = [path for path in named if path.is_file()]
    if not paths:
        return removed
    objects = [f"{commit}:./{path.relative_to(desk_root).as_posix()}" for path in paths]
    problems: list[SdeskError] = removed
    for path, committed in zip(paths, committed_histories(desk_root, objects, f"{folder} at {reference}"), strict=True):
        try:
            text = files.read_text(path, desk_root)
        except SdeskError:
            continue  # reported by the file's own check
        current = _history(text)
        if committed is not None and current is not None:
            edits = _edits(committed, current, path.stem, reference)
            problems += located(edits, path, text) if edits else []
    return problems


def _edits(committed: Sequence[Event], current: Sequence[Event], ticket_id: str, reference: str) -> list[SchemaError]:
    """Each committed event that is now changed (located at it) or missing (at ``history``), by event identity."""
    before, now = merge.identities(committed), merge.identities(current, committed)
    position = {key: index for index, key in enumerate(now)}
    numbers = {key: number for number, key in enumerate((key for key in before if key[2] == "time"), start=1)}
    found = []
    for key, event in before.items():
        if now.get(key) == event:
            continue
        where = ("history", position[key]) if key in now else ("history",)
        if key in numbers:
            duration = "DURATION" if key in now else "0"
            fix = f"record a correction instead (sdesk log {ticket_id} {duration} --correct {numbers[key]} --note WHY)"
        else:
            fix = f"history is append-only: put it back (git diff {reference} shows it)"
        done = "edited" if key in now else "removed"
        found.append(SchemaError(where, f"a committed event was {done} by hand ({_described(event)}): {fix}"))
    return found


def _described(event: Event) -> str:
    what = {"time": "time entry", "comment": f"{event.visibility} comment"}.get(event.kind, f"'{event.kind}' event")
    return f"{what} of {event.by} at {event.at.isoformat()}"
