"""Files customers upload, and how the portal hands kept files back. Pure.

An upload is taken only when its type is one rules.yaml lists (never a page or script a browser would
run), it is not empty and not over the limit; a form with a file that is not taken is refused as a whole,
so the customer knows at once. A kept file is served for download as bytes, except an image whose bytes
really are that image, which the browser may show; nothing is ever served as a page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sdesk.policy.portalsettings import PortalSettings

# An image is shown as what its first bytes say it is, whatever its name says.
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
DOWNLOAD = "application/octet-stream"

Upload = tuple[str, bytes]  # a file's name as the browser gave it, and its bytes


def refusals(files: Sequence[Upload], settings: PortalSettings, words: Mapping[str, str]) -> list[str]:
    """Why the files cannot be taken (nothing: all are fine)."""
    found = []
    if len(files) > settings.max_files:
        found.append(words["too_many_files"].format(files=settings.max_files))
    megabytes = settings.max_upload_bytes // 2**20
    for name, data in files:
        shown = " ".join(name.split())[:100] or "?"
        if not settings.accepts(name):
            found.append(words["bad_file_type"].format(name=shown))
        elif not data:
            found.append(words["empty_file"].format(name=shown))
        elif len(data) > settings.max_upload_bytes:
            found.append(words["file_too_large"].format(name=shown, mb=megabytes))
    return found


def served_as(data: bytes) -> tuple[str, bool]:
    """The content type to serve a kept file with, and whether the browser may show it in the page."""
    for magic, media_type in _IMAGES:
        if data.startswith(magic):
            return media_type, True
    return DOWNLOAD, False
