"""Where the mail that history owes begins: the desk's mail baseline, ``deliveries/baseline.yaml``.

Before the runner, each clone mailed from its own outbox; events up to the
baseline commit were mailed (or are owed) that way, and the history owes
mail only for the events a ticket did not have at that commit. The runner's
first cycle writes the baseline at the commit it starts from; ``sdesk init``
writes ``commit: none`` (a new desk: every event's mail is owed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sdesk.errors import InvalidData, SdeskError
from sdesk.formats import files, yamlio
from sdesk.mail import notifications
from sdesk.storage.gitrepo import committed_histories, git
from sdesk.storage.store import write_atomic

FILE = Path("deliveries") / "baseline.yaml"
_POLICY = ("rules.yaml", "templates/")  # what else decides which mail is owed, and what it says
MAIL_SOURCES = ("tickets", *_POLICY, str(FILE))  # every file the mail history owes follows from
NONE = "none"
_COMMIT = re.compile(r"[0-9a-f]{40}")


def commit(desk_root: Path) -> str | None:
    """The baseline commit, :data:`NONE` (every event owes its mail), or None when no baseline is set yet."""
    path = desk_root / FILE
    if not path.exists() and not path.is_symlink():
        return None
    text = files.read_text(path, desk_root)
    data = yamlio.load(text, path)
    found = data.get("commit") if isinstance(data, dict) else None
    if found != NONE and not (isinstance(found, str) and _COMMIT.fullmatch(found)):
        line, column = yamlio.locator(text)(("commit",)) or (None, None)
        raise InvalidData("commit: expected a 40-character commit id, or none", path, line, column)
    return str(found)


def write(desk_root: Path, sha: str, now: datetime) -> None:
    text = (
        "# Mail owed by history begins here: events a ticket had at this commit were mailed by the\n"
        "# outboxes of old (sdesk 0.8 and before); sdesk run delivers the mail of every later event.\n"
        f"commit: {sha}\nsince: {now.isoformat()}\n"
    )
    path = desk_root / FILE
    if path.parent.is_symlink():
        raise InvalidData("is a symbolic link: sdesk keeps the mail baseline only in the desk itself", path.parent)
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, text)


def known(desk_root: Path, sha: str, ticket_ids: Iterable[str]) -> dict[str, frozenset[str]]:
    """The event digests each ticket had at the baseline commit (none for a ticket born since)."""
    wanted = list(ticket_ids)
    if sha == NONE or not wanted:
        return {ticket_id: frozenset() for ticket_id in wanted}
    objects = [f"{sha}:./tickets/{ticket_id}.yaml" for ticket_id in wanted]
    histories = committed_histories(desk_root, objects, f"the mail baseline {sha[:12]}")
    return {
        ticket_id: frozenset(notifications.event_digest(event) for event in history or ())
        for ticket_id, history in zip(wanted, histories, strict=True)
    }


def changed_since(desk_root: Path, sha: str, only: Iterable[str] | None = None) -> set[str] | None:
    """The tickets (of ``only``, else all) whose file changed since the baseline, committed or not;
    None: every ticket may owe mail."""
    if sha == NONE:
        return None
    try:
        git(desk_root, "cat-file", "-e", f"{sha}^{{commit}}")
    except SdeskError:  # read as "no events then", every old event would owe its mail again
        raise InvalidData(
            f"commit: {sha[:12]} is not in this clone (a shallow clone?): fetch the whole history "
            "(git fetch --unshallow) before mail is worked out",
            desk_root / FILE,
        ) from None
    paths = [f"tickets/{ticket_id}.yaml" for ticket_id in only] if only is not None else ["tickets/"]
    names = git(desk_root, "diff", "--name-only", "-z", sha, "--", *paths)
    names += git(desk_root, "ls-files", "--others", "--exclude-standard", "-z", "--", *paths)
    return {Path(name).stem for name in names.split("\0") if name.endswith(".yaml")}


def touched_since(desk_root: Path, commit: str) -> set[str] | None:
    """The tickets whose file or delivery records changed since ``commit`` (committed or not); None when
    that cannot be said (the commit is gone) or rules.yaml, the templates or the baseline changed (so may
    the mail owed)."""
    try:
        names = git(desk_root, "diff", "--name-only", "-z", commit, "--", "tickets/", "deliveries/", *_POLICY)
        names += git(
            desk_root, "ls-files", "--others", "--exclude-standard", "-z", "--", "tickets/", "deliveries/", *_POLICY
        )
    except SdeskError:
        return None
    paths = [Path(name) for name in names.split("\0") if name]
    if any(path.name in ("rules.yaml", FILE.name) or "templates" in path.parts for path in paths):
        return None
    return {
        path.stem
        for path in paths
        if (path.parent.name, path.suffix) in (("tickets", ".yaml"), ("deliveries", ".jsonl"))
    }
