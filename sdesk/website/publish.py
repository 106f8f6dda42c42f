"""Writing the site into its folder without losing anything that is not ours.

The folder keeps a list of the files the last export wrote (``.sdesk-site``).
A new export writes each page atomically, leaves byte-identical files alone
(so a site kept in git diffs cleanly) and removes only pages it wrote
before that are no longer part of the site: a ticket that moved to another
customer leaves the old customer's portal. A folder with other files in
it and no list is refused rather than mixed into (hidden ones such as
``.git`` aside).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sdesk.errors import InvalidData, SdeskError
from sdesk.store import write_atomic

MANIFEST = ".sdesk-site"


@dataclass(frozen=True)
class Published:
    written: int
    unchanged: int
    removed: int


def publish(out: Path, pages: dict[str, str]) -> Published:
    """Make ``out`` hold exactly ``pages`` (path -> HTML), next to any files sdesk did not write."""
    previous = _previous(out)
    names = sorted(pages)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SdeskError(f"cannot make the folder: {error.strerror}", out) from None
    # Listed before writing: a run cut short leaves no page the next run would not know to remove.
    _write_manifest(out, sorted(set(previous) | set(names)))
    written = unchanged = 0
    for name in names:
        path = out / name
        content = pages[name].encode("utf-8")
        if path.is_file() and path.read_bytes() == content:
            unchanged += 1
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, content, durable=False)  # the desk can always write it again
        written += 1
    gone = sorted(set(previous) - set(names))
    for name in gone:
        (out / name).unlink(missing_ok=True)
        _remove_empty_folders((out / name).parent, out)
    _write_manifest(out, names)
    return Published(written, unchanged, len(gone))


def check_folder(out: Path) -> None:
    """Refuses a folder the export may not write into, before any work is done."""
    _previous(out)


def _previous(out: Path) -> list[str]:
    """The pages the last export wrote; refuses a folder sdesk did not make that has files in it."""
    for folder in (out, *out.parents):
        if folder.exists() and not folder.is_dir():
            raise SdeskError(f"{folder} is a file, not a folder")
    manifest = out / MANIFEST
    if not manifest.is_file():
        # Hidden entries alone (.git, .nojekyll) leave a folder empty enough: the site can be kept in git.
        if out.is_dir() and any(not entry.name.startswith(".") for entry in out.iterdir()):
            raise SdeskError(f"{out} is not empty and holds no earlier export: choose a new or empty folder")
        return []
    names = []
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        path = PurePosixPath(line)
        if not line or path.is_absolute() or ".." in path.parts:
            raise InvalidData(f"not a page of the site: {line!r}", manifest, number)
        names.append(line)
    return names


def _write_manifest(out: Path, names: list[str]) -> None:
    write_atomic(out / MANIFEST, "".join(f"{name}\n" for name in names))


def _remove_empty_folders(folder: Path, out: Path) -> None:
    while folder != out and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
