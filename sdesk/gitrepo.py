"""The desk's git repository: registering the merge driver, and who changed a ticket in which commit."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sdesk import model, yamlio
from sdesk.errors import SdeskError
from sdesk.model import Event
from sdesk.schema import SchemaError

DRIVER = "sdesk-ticket"
ATTRIBUTES_FILE = ".gitattributes"
ATTRIBUTE_LINE = f"tickets/*.yaml merge={DRIVER}"
_FIELD_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Commit:
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


def setup(desk_root: Path) -> list[str]:
    """Register the ticket merge driver: .gitattributes (committed) and this clone's git config."""
    work_tree(desk_root)
    done = []
    attributes = desk_root / ATTRIBUTES_FILE
    existing = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    if ATTRIBUTE_LINE not in existing.splitlines():
        separator = "\n" if existing and not existing.endswith("\n") else ""
        attributes.write_text(existing + separator + ATTRIBUTE_LINE + "\n", encoding="utf-8")
        done.append(f"{attributes}: ticket files merge with the {DRIVER} driver (commit this file)")
    command = f"{shlex.quote(sys.executable)} -m sdesk merge-ticket %O %A %B %P"
    git(desk_root, "config", f"merge.{DRIVER}.name", "sdesk: ticket histories unioned, the latest change wins")
    git(desk_root, "config", f"merge.{DRIVER}.driver", command)
    done.append(f"git config merge.{DRIVER}.driver: {command}")
    return done


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
        f"--format=%H{_FIELD_SEPARATOR}%an{_FIELD_SEPARATOR}%ae{_FIELD_SEPARATOR}%aI{_FIELD_SEPARATOR}%s",
        "--",
        relative,
    )
    commits = [Commit(*line.split(_FIELD_SEPARATOR, 4)) for line in log.splitlines() if line]
    if not commits:
        return []
    wanted = "".join(f"{commit.sha}:./{relative}\n" for commit in commits).encode()
    try:
        blobs = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=desk_root, input=wanted, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise SdeskError(f"cannot read {relative} from git: {error}") from None
    return list(zip(commits, _histories(blobs, len(commits)), strict=True))


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
