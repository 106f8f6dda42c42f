"""The runner's clone and the shared branch: pull, commit, push, and starting clean after a crash.

The runner's clone is its own: everything it commits (the sweep, delivery
records) can be worked out again from the shared branch and the runner's
journal. So a cycle starts from the shared branch itself: a merge a killed
cycle left is aborted, files it left half-done are put back, and commits of
its that never reached the remote are dropped (they are redone). The live
portal's commits are customers' work, made in this clone between cycles:
they are never dropped but put back on the shared branch, and pushed. Work
that is not the runner's (another author's commit, a changed rules.yaml) is
never thrown away: the cycle stops and says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from msgspec import Struct

from sdesk.errors import SdeskError, excerpt
from sdesk.storage.gitrepo import git
from sdesk.storage.store import write_atomic

# What a cycle writes and may put back (received mail too: the mailbox keeps it until it is pushed).
RUNNER_PATHS = ("tickets", "deliveries", "inbox", "triage", "attachments", ".gitattributes")
CLONE_PATHS = (".sdesk", "outbox")  # each clone's own, never committed: a cycle neither cleans nor merges them
STALE_LOCK_SECONDS = 60  # git's own index.lock older than this, while the runner holds its lock, is a dead git's
RUNNER_SUBJECT = "sdesk "  # every commit a cycle makes starts so
PORTAL_SUBJECT = "sdesk portal:"  # a customer's change on the live portal: the runner's, but never redone
SCRATCH = "sdesk-runner/put-back"  # in .git/: the work tree where the portal's commits are put back
# What git says when another push got there first (a pushed ref's compare-and-swap lost, on any remote).
_RACE_SIGNS = ("fetch first", "non-fast-forward", "failed to update ref", "cannot lock ref", "but expected")
RECEIVED_SUBJECT = "sdesk mail: received"  # a batch of received mail


class Branch(Struct, frozen=True):
    """This clone's branch and the remote branch it shares work through."""

    root: Path
    remote: str
    name: str

    @property
    def upstream(self) -> str:
        return f"{self.remote}/{self.name}"

    @classmethod
    def of(cls, root: Path) -> Branch | None:
        """The current branch and its upstream; None when the clone shares with no remote."""
        name = git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
        remote = _quiet(root, "config", f"branch.{name}.remote")
        if remote is None:
            remotes = git(root, "remote").split()
            if not remotes:
                return None
            remote = "origin" if "origin" in remotes else remotes[0]
        return cls(root, remote, name)

    def fetch(self) -> None:
        git(self.root, "fetch", "--quiet", self.remote, self.name)

    def count(self, spec: str) -> int:
        return int(git(self.root, "rev-list", "--count", spec).strip() or 0)

    def merge(self) -> int:
        """Merge the fetched shared branch (ticket files by sdesk's driver); how many commits came in.

        A conflict aborts the merge, so the clone is left as it was.
        """
        incoming = self.count(f"HEAD..{self.upstream}")
        if incoming == 0:
            return 0
        planted = git(self.root, "diff", "--name-only", f"HEAD...{self.upstream}", "--", *CLONE_PATHS).split()
        if planted:  # a merge would overwrite this clone's own files (git treats ignored files as expendable)
            raise SdeskError(
                f"{self.upstream} commits {planted[0]}, a file of one clone's own: not merged until it is "
                "removed from git (git rm --cached) and pushed"
            )
        done = subprocess.run(
            ["git", "merge", "--quiet", "-m", f"{RUNNER_SUBJECT}run: merge {self.upstream}", self.upstream],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            conflicted = git(self.root, "diff", "--name-only", "--diff-filter=U").split()
            _quiet(self.root, "merge", "--abort")
            if not conflicted:
                said = (done.stderr.strip().splitlines() or ["?"])[-1]
                raise SdeskError(f"git merge {self.upstream} failed: {said}")
            where = ", ".join(conflicted[:3])
            raise SdeskError(f"{self.upstream} does not merge: conflict in {where}; resolve it in a clone and push")
        return incoming

    def push(self) -> bool:
        """Push HEAD to the shared branch; False when it was refused because the branch moved on."""
        done = subprocess.run(
            ["git", "push", "--quiet", self.remote, f"HEAD:{self.name}"],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return True
        words = done.stderr.strip()
        raced = any(sign in words for sign in _RACE_SIGNS)
        if "remote rejected" in words and not raced:  # a hook or a protected branch: pushing again will not help
            raise SdeskError(f"{self.remote} refused the push: {' '.join(words.split())[-300:]}")
        if "rejected" in words or raced:
            return False
        raise SdeskError(f"git push failed: {' '.join(words.split()) or done.returncode}")

    def drop_unpushed(self, runner_email: str) -> int:
        """Drop this runner's cycle commits the remote never got (a killed cycle's: they are redone) and keep
        the portal's, on top of the shared branch in their order; others' stop the cycle. How many were dropped.
        """
        ahead = git(self.root, "log", "--format=%ae%x00%s", f"{self.upstream}..HEAD").splitlines()
        foreign = [line for line in ahead if not _is_runners(line, runner_email)]
        if foreign:
            raise SdeskError(
                f"this clone has {len(foreign)} commit(s) that are not the runner's and not on {self.upstream}: "
                "the runner's clone must be its own (push them from here, or reset the clone)"
            )
        kept = self.portal_commits()
        if len(kept) == len(ahead):  # nothing of a cycle's to redo: HEAD stays as it is
            return 0
        git(self.root, "reset", "--quiet", "--hard", self._put_back(kept) if kept else self.upstream)
        return len(ahead) - len(kept)

    def portal_commits(self) -> list[tuple[str, str]]:
        """The portal's commits the remote has not got yet, oldest first: each one's id and subject."""
        listed = git(self.root, "log", "--reverse", "--no-merges", "--format=%H%x00%s", f"{self.upstream}..HEAD")
        commits = [line.split("\x00", 1) for line in listed.splitlines()]
        return [(sha, subject) for sha, subject in commits if subject.startswith(PORTAL_SUBJECT)]

    def _put_back(self, commits: list[tuple[str, str]]) -> str:
        """The shared branch with ``commits`` re-applied on it (ticket files merged by sdesk's driver): the new
        HEAD. Made in a scratch work tree, so this clone stays as it was until every one applied: neither a
        commit that does not apply nor a cycle killed on the way loses any."""
        with _scratch(self.root, self.upstream) as scratch:
            for sha, subject in commits:
                done = subprocess.run(
                    ["git", "cherry-pick", "--keep-redundant-commits", sha],  # one the remote has too stays, empty
                    cwd=scratch,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    conflicted = git(scratch, "diff", "--name-only", "--diff-filter=U").split()
                    said = (done.stderr.strip().splitlines() or ["?"])[-1]
                    why = f"conflict in {', '.join(conflicted[:3])}" if conflicted else said
                    raise SdeskError(
                        f"the portal's commit {sha[:10]} {excerpt(subject, 60)} does not apply on {self.upstream} "
                        f"({why}): the clone is as it was, nothing dropped; merge {self.upstream} here by hand "
                        f"(git merge {self.upstream}), settle it and push"
                    )
            return git(scratch, "rev-parse", "HEAD").strip()


@contextmanager
def _scratch(root: Path, commit: str) -> Iterator[Path]:
    """A work tree of ``commit`` in .git/, removed after (one a killed cycle left, before)."""
    path = (root / git(root, "rev-parse", "--git-path", SCRATCH).strip()).absolute()  # git runs it from root
    _remove_scratch(root, path)
    git(root, "worktree", "add", "--quiet", "--detach", str(path), commit)
    try:
        yield path
    finally:
        _remove_scratch(root, path)


def _remove_scratch(root: Path, path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    git(root, "worktree", "prune")


def _is_runners(line: str, runner_email: str) -> bool:
    email, _, subject = line.partition("\x00")
    return email == runner_email and subject.startswith(RUNNER_SUBJECT)


def stage(root: Path, paths: tuple[str, ...]) -> None:
    """Add what changed under ``paths`` to git's index (a commit later takes it, and nothing else)."""
    present = [path for path in paths if os.path.lexists(root / path)]
    if present:
        git(root, "add", "--all", "--", *present)


def discard_unstaged(root: Path, paths: tuple[str, ...]) -> None:
    """Put back what changed under ``paths`` since it was staged: a half-done piece of work leaves nothing."""
    present = [path for path in paths if os.path.lexists(root / path)]
    if not present:
        return
    modified = git(root, "ls-files", "-z", "--modified", "--", *present).split("\0")
    if any(modified):
        git(root, "checkout", "--quiet", "--", *[path for path in modified if path])
    for path in git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", *present).split("\0"):
        if path:  # one by one: `git clean` given a folder that is wholly new removes the folder (tickets/ too)
            (root / path).unlink(missing_ok=True)


def changed_files(root: Path) -> list[str]:
    """What the work tree changed that git would commit, from the desk's folder (a clone's own folders aside)."""
    return [path for _, path in _changes(root)]


def _changes(root: Path) -> list[tuple[str, str]]:
    """Each change git's status shows, its two-letter code and its path from the desk's folder."""
    prefix = git(root, "rev-parse", "--show-prefix").strip()  # the desk may be a folder of a larger repository
    listed = git(root, "status", "--porcelain", "-z", "--untracked-files=all").split("\0")
    changed = [(entry[:2], _within_desk(entry[3:], prefix)) for entry in listed if len(entry) > 3]
    return [(code, path) for code, path in changed if path.split("/", 1)[0] not in CLONE_PATHS]


def reset_hard(root: Path, commit: str) -> None:
    """Undo this clone's commits after ``commit`` and what the work tree changed since (its own, refused)."""
    git(root, "reset", "--quiet", "--hard", commit)


def start_clean(root: Path) -> list[str]:
    """Undo what a killed cycle left in the work tree; refuse to touch what a person changed."""
    said = _stale_index_lock(root)
    if _quiet(root, "rev-parse", "-q", "--verify", "MERGE_HEAD") is not None:
        _quiet(root, "merge", "--abort")
        said.append("aborted a merge a killed cycle left")
    scratch = _quiet(root, "rev-parse", "--git-path", SCRATCH)
    if scratch and (root / scratch).exists():
        _remove_scratch(root, root / scratch)
        said.append("removed the work tree where a killed cycle was putting the portal's commits back")
    _exclude_clone_paths(root)
    changed = _changes(root)
    theirs = [path for _, path in changed if path.split("/", 1)[0] not in RUNNER_PATHS]
    if theirs:
        raise SdeskError(
            f"the runner's clone has changes a cycle did not make ({', '.join(theirs[:3])}): "
            "commit and push them from a clone of your own, then undo them here (git checkout -- PATH)"
        )
    tracked = [path for code, path in changed if code != "??"]
    untracked = [path for code, path in changed if code == "??"]
    if tracked:
        git(root, "reset", "--quiet", "HEAD", "--", *tracked)
        known = [path for path in tracked if _in_head(root, path)]
        if known:
            git(root, "checkout", "--quiet", "HEAD", "--", *known)
        untracked += [path for path in tracked if path not in known]  # staged new files: untracked once unstaged
    if untracked:
        git(root, "clean", "--quiet", "-f", "--", *untracked)
        _remove_emptied_folders(root, untracked)
    if changed:
        said.append(f"put back {len(changed)} file(s) a killed cycle or portal left half-done")
    return said


def _remove_emptied_folders(root: Path, paths: list[str]) -> None:
    """A folder the removed files leave empty goes too (a ticket's attachments folder: `sdesk check` names an
    empty one); the desk's own top folders stay."""
    for path in paths:
        folder = (root / path).parent
        while len(folder.relative_to(root).parts) > 1 and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _within_desk(path: str, prefix: str) -> str:
    """A path git gives from the repository's top, from the desk's folder (outside it: as it is, so foreign)."""
    return path[len(prefix) :] if prefix and path.startswith(prefix) else (path if not prefix else f"../{path}")


def _stale_index_lock(root: Path) -> list[str]:
    """git's index.lock left by a git that died with the cycle (a power cut, the OOM killer) blocks every cycle."""
    found = _quiet(root, "rev-parse", "--git-path", "index.lock")
    lock = root / found if found else None
    if lock is None or not lock.is_file():
        return []
    if time.time() - lock.stat().st_mtime < STALE_LOCK_SECONDS:
        raise SdeskError(f"git is working in this clone ({lock} exists): the next cycle tries again")
    lock.unlink()
    return [f"removed {lock.name}, left by a git that died over a minute ago"]


def _exclude_clone_paths(root: Path) -> None:
    """This clone's own folders stay out of git's view whatever the shared .gitignore says."""
    found = _quiet(root, "rev-parse", "--git-path", "info/exclude")
    if not found:
        return
    exclude = root / found
    text = exclude.read_text(encoding="utf-8", errors="replace") if exclude.is_file() else ""
    missing = [f"/{path}/" for path in CLONE_PATHS if f"/{path}/" not in text.splitlines()]
    if missing:
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8") as handle:
            handle.write(("" if not text or text.endswith("\n") else "\n") + "".join(f"{line}\n" for line in missing))


def _in_head(root: Path, path: str) -> bool:
    return _quiet(root, "cat-file", "-e", f"HEAD:./{path}") is not None  # ./: from the desk's folder


def put_back(root: Path, paths: tuple[str, ...]) -> None:
    """Unstage ``paths`` (from the desk's folder) and put each file back as the last commit has it, or remove it
    when the commit has none: a change that was not committed leaves nothing, whatever else the clone holds.
    Even while another git holds the index (what was staged then stays so, and the next commit of these paths
    takes the work tree as it is). A folder is the caller's to clear."""
    _quiet(root, "reset", "--quiet", "HEAD", "--", *paths)
    for path in paths:
        committed = subprocess.run(["git", "cat-file", "blob", f"HEAD:./{path}"], cwd=root, capture_output=True)
        if committed.returncode == 0:
            write_atomic(root / path, committed.stdout)
        elif not (root / path).is_dir():
            (root / path).unlink(missing_ok=True)


def in_work_tree(root: Path) -> bool:
    return _quiet(root, "rev-parse", "--is-inside-work-tree") == "true"


def commit(root: Path, paths: tuple[str, ...], message: str) -> str | None:
    """Commit the changes under ``paths``, and nothing else staged; the new commit's id, or None when nothing
    changed (or no git)."""
    present = [path for path in paths if os.path.lexists(root / path)]
    if not present or not in_work_tree(root):
        return None
    git(root, "add", "--all", "--", *present)
    changed = [path for path in present if _quiet(root, "diff", "--cached", "--quiet", "--", path) is None]
    if not changed:
        return None
    git(root, "commit", "--quiet", "-m", message, "--", *changed)
    return git(root, "rev-parse", "HEAD").strip()


def runner_dir(root: Path, state_dir: Path) -> Path:
    """Where a runner keeps its journal, name and lock: inside .git/ (no pull, merge or checkout ever touches
    it, whatever the shared branch commits), or the desk's own state folder outside git."""
    found = _quiet(root, "rev-parse", "--git-path", "sdesk-runner") if in_work_tree(root) else None
    folder = root / found if found else state_dir
    folder.mkdir(parents=True, exist_ok=True)
    if folder.is_symlink():
        raise SdeskError("is a symbolic link: a runner keeps its journal only in its own clone", folder)
    return folder


def unchanged(root: Path, paths: tuple[str, ...]) -> bool:
    """Do these paths in the work tree hold exactly what HEAD has (nothing edited, added or removed)?"""
    if not in_work_tree(root):
        return False
    return _quiet(root, "status", "--porcelain", "--untracked-files=all", "--", *paths) == ""


def head(root: Path) -> str | None:
    return _quiet(root, "rev-parse", "-q", "--verify", "HEAD")


def author_email(root: Path) -> str:
    return _quiet(root, "config", "user.email") or ""


def _quiet(root: Path, *args: str) -> str | None:
    """git's output, or None when it fails (an unset key, no MERGE_HEAD, changes staged)."""
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None
