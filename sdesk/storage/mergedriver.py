"""Git's merge driver for ticket files: registering it, running it, and whether this clone can.

Git calls ``sdesk merge-ticket %O %A %B %P`` for every ticket file both sides
changed (README, "Working in several clones"). The driver merges by meaning
(:mod:`sdesk.storage.merge`) and writes the result into OURS, or leaves the
file to git's own line merge, as a conflict with markers, whenever it cannot
decide: never a marker-free conflict, never a silently combined file.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from sdesk.errors import SdeskError
from sdesk.formats import files, yamlio
from sdesk.storage import merge
from sdesk.storage.gitrepo import git, work_tree
from sdesk.storage.store import SCHEMA_COMMENT, parse_ticket, read_ticket, render, write_atomic

DRIVER = "sdesk-ticket"
ATTRIBUTES_FILE = ".gitattributes"
ATTRIBUTE_LINE = f"tickets/*.yaml merge={DRIVER}"
RECORDS_LINE = "deliveries/*.jsonl merge=union"  # the runner's delivery records: lines from both sides are kept
# The `sdesk` on PATH when git merges, so a reinstalled or moved virtualenv changes nothing. If it cannot run
# (not found, a bad interpreter, a crash that left no conflict markers), git's own line merge runs instead and
# marks the conflict: git would otherwise keep our side alone, and `git add` would drop the other side's work.
LINE_MERGE = "git merge-file -L ours -L base -L theirs %A %O %B"
DRIVER_COMMAND = (
    "sdesk merge-ticket %O %A %B %P; s=$?; [ $s = 0 ] || { [ $s = 1 ] && grep -q '^<<<<<<< ' %A; } || "
    f"{{ {LINE_MERGE}; s=$?; }}; [ $s = 0 ]"
)


def setup(desk_root: Path) -> list[str]:
    """Register the ticket merge driver: .gitattributes (committed) and this clone's git config."""
    work_tree(desk_root)
    done = []
    attributes = desk_root / ATTRIBUTES_FILE
    existing = files.read_text(attributes, desk_root) if os.path.lexists(attributes) else ""
    # A line that is there but overridden further down (`*.jsonl -merge`) counts as missing: written last, it wins.
    missing = [
        line
        for line, probe, wanted in (
            (ATTRIBUTE_LINE, "tickets/x.yaml", DRIVER),
            (RECORDS_LINE, "deliveries/x.jsonl", "union"),
        )
        if line not in existing.splitlines() or _merge_attribute(desk_root, probe) != wanted
    ]
    if missing:
        separator = "\n" if existing and not existing.endswith("\n") else ""
        write_atomic(attributes, existing + separator + "".join(f"{line}\n" for line in missing))
        done.append(
            f"{attributes}: ticket files merge with the {DRIVER} driver, delivery records line by line "
            "from both sides (commit this file)"
        )
    git(desk_root, "config", f"merge.{DRIVER}.name", "sdesk: ticket histories merged event by event")
    git(desk_root, "config", f"merge.{DRIVER}.driver", DRIVER_COMMAND)
    done.append(f"git config merge.{DRIVER}.driver: {DRIVER_COMMAND}")
    if shutil.which("sdesk") is None:
        done.append("sdesk is not on PATH: until it is, git merges ticket files by line, with conflict markers")
    return done


def _merge_attribute(desk_root: Path, path: str) -> str:
    return git(desk_root, "check-attr", "merge", "--", path).rstrip().rpartition(": ")[2]


def records_merge_warning(desk_root: Path) -> bool:
    """Do delivery records no longer merge line by line from both sides (a shared .gitattributes changed)?"""
    return _merge_attribute(desk_root, "deliveries/x.jsonl") != "union"


def line_merge(
    base: Path, ours: Path, theirs: Path, conflict: bool = False, valid: Callable[[Path], bool] | None = None
) -> int:
    """git's own line merge into OURS: 1 with conflict markers, 0 when clean.

    A clean result is not trusted with ``conflict`` (a side is no ticket, or sdesk found the sides
    contradict each other) nor when ``valid`` finds it is no ticket (lines that merged into a
    duplicated key): the file becomes one whole-file conflict block, so nobody commits a broken or
    silently combined ticket believing git merged it.
    """
    mine, other = ours.read_bytes(), theirs.read_bytes()
    command = ["git", "merge-file", "-L", "ours", "-L", "base", "-L", "theirs", str(ours), str(base), str(theirs)]
    try:
        status = subprocess.run(command, check=False).returncode
    except OSError:
        status = -1
    if 0 < status < 128:  # the number of conflicts, each marked
        return 1
    if status == 0 and not conflict and (valid is None or valid(ours)):
        return 0
    ending = b"" if not other or other.endswith(b"\n") else b"\n"
    separator = b"" if not mine or mine.endswith(b"\n") else b"\n"
    ours.write_bytes(b"<<<<<<< ours\n" + mine + separator + b"=======\n" + other + ending + b">>>>>>> theirs\n")
    return 1


AS_A_CONFLICT = "left to git's line merge, as a conflict"


def merge_files(base: Path, ours: Path, theirs: Path, name: str) -> tuple[int, list[str]]:
    """Merge THEIRS into OURS (BASE their common version): 0 when merged, 1 on a conflict; and what to tell git's user.

    A bug must not cost the other side its work: any unexpected error ends in git's line merge, as a conflict.
    """
    try:
        return _merge_by_meaning(base, ours, theirs, name)
    except Exception as error:
        said = f"{name}: {type(error).__name__}: {error}; left to git's line merge"
        return line_merge(base, ours, theirs, conflict=True), [said]


def _merge_by_meaning(base: Path, ours: Path, theirs: Path, name: str) -> tuple[int, list[str]]:
    try:
        texts = [files.read_text(ours), files.read_text(theirs)]
        mine, other = parse_ticket(texts[0], ours, named_after_id=False), parse_ticket(texts[1], theirs, False)
    except SdeskError as why:  # a side that is no ticket is a conflict, even where its lines merge cleanly
        return line_merge(base, ours, theirs, conflict=True), [f"{name}: {why}; {AS_A_CONFLICT}"]
    if any(yamlio.comments(text, SCHEMA_COMMENT) for text in texts):  # rewriting from data would drop them
        said = f"{name}: holds hand-written comments; left to git's line merge"
        return line_merge(base, ours, theirs, valid=_is_ticket), [said]
    try:
        common = read_ticket(base, named_after_id=False)
    except SdeskError:
        common = None  # no common version (both added the file) or a broken one: the shared events stand in
    try:
        merged, decisions = merge.merge(common, mine, other)
    except merge.Undecidable as why:  # a contradiction stays a conflict even where the lines would merge
        return line_merge(base, ours, theirs, conflict=True), [f"{name}: {why}; {AS_A_CONFLICT}"]
    write_atomic(ours, render(merged))
    return 0, [f"{name}: {decision.text}" for decision in decisions]


def _is_ticket(path: Path) -> bool:
    """Did git's line merge make a valid ticket (and not, say, a file with one key twice)?"""
    try:
        read_ticket(path, named_after_id=False)
    except SdeskError:
        return False
    return True


def driver_warnings(desk_root: Path, folder: str) -> list[str]:
    """Why git would not merge this clone's ticket files by their meaning."""
    attribute = git(desk_root, "check-attr", "merge", "--", f"{folder}/ticket.yaml").rstrip().rpartition(": ")[2]
    if attribute != DRIVER:  # unset, or another strategy (merge=binary keeps one side without markers)
        how = "by line" if attribute in ("unspecified", "set", "unset") else f"with git's '{attribute}' strategy"
        return [f"ticket files merge {how}, not by sdesk's driver: run sdesk git setup and commit .gitattributes"]
    found = []
    command = _config(desk_root, f"merge.{DRIVER}.driver")
    if command is None:
        found.append("this clone has no merge driver for ticket files, so git merges them by line: run sdesk git setup")
    elif command != DRIVER_COMMAND:
        program = _program(command)
        if program is not None and program.is_absolute() and not program.exists():
            found.append(
                f"this clone's merge driver runs {program}, which no longer exists, so git would leave ticket "
                "conflicts without markers: run sdesk git setup"
            )
        else:
            found.append("this clone's merge driver is registered in an old form: run sdesk git setup")
    if shutil.which("sdesk") is None:
        found.append(
            "sdesk is not on PATH, so git cannot run the merge driver and merges ticket files by line: "
            "put sdesk on PATH"
        )
    return found


def _config(folder: Path, key: str) -> str | None:
    done = subprocess.run(["git", "config", "--get", key], cwd=folder, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def _program(command: str) -> Path | None:
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    return Path(words[0]) if words else None
