"""The ``portal:`` section of rules.yaml: how the live customer portal (`sdesk serve`) behaves.

Where customers reach it (the address sign-in links point to), how long a
sign-in link and a session last, what a customer may upload, and how many
tickets one contact may open in an hour. Which contacts may sign in, and
whether they see all their customer's tickets or only their sites', is said
per contact (``customers.*.contacts[].portal``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from msgspec import Struct

from sdesk.formats.declare import Integer, List, Pattern, Record, Text
from sdesk.formats.reader import Problems

VISIBILITY = ("all", "sites", "none")  # a contact sees all the customer's tickets, their sites' only, or no portal
DEFAULT_UPLOAD_TYPES = ("png", "jpg", "jpeg", "gif", "webp", "pdf", "txt", "log", "csv", "zip", "docx", "xlsx", "odt")
EXTENSION_PATTERN = re.compile(r"[a-z0-9]{1,10}")
# Types a browser would run or render as a page: never accepted, whatever rules.yaml lists.
NEVER_UPLOADED = frozenset({"html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "xsl", "js", "mjs", "css", "swf"})
SECTION = Record(
    {
        "url": Text(),
        "link_minutes": Integer(5, 1440, refusal="expected minutes from 5 to 1440, got {got}"),
        "session_hours": Integer(1, 720, refusal="expected hours from 1 to 720, got {got}"),
        "idle_minutes": Integer(5, 1440, refusal="expected minutes from 5 to 1440, got {got}"),
        "max_upload_mb": Integer(1, 100, refusal="expected megabytes from 1 to 100, got {got}"),
        "max_files": Integer(1, 20, refusal="expected a number of files from 1 to 20, got {got}"),
        "upload_types": List(
            Pattern(EXTENSION_PATTERN, "'{value}' is not a file extension (letters and digits, e.g. png)"), unique=True
        ),
        "new_tickets_per_hour": Integer(1, 1000, refusal="expected a number of tickets (1 or more), got {got}"),
        "upload_mb_per_day": Integer(1, 100_000, refusal="expected megabytes (1 or more), got {got}"),
    },
    defaults={
        "link_minutes": 15,
        "session_hours": 12,
        "idle_minutes": 60,
        "max_upload_mb": 10,
        "max_files": 5,
        "upload_types": list(DEFAULT_UPLOAD_TYPES),
        "new_tickets_per_hour": 10,
        "upload_mb_per_day": 200,
    },
)


class PortalSettings(Struct, frozen=True):
    url: str | None = None  # the address customers reach the portal at (https://…), for sign-in links
    link_minutes: int = 15
    session_hours: int = 12  # a session ends this long after sign-in, however busy
    idle_minutes: int = 60  # and sooner when unused this long
    max_upload_bytes: int = 10 * 1024 * 1024
    max_files: int = 5  # per form
    upload_types: tuple[str, ...] = DEFAULT_UPLOAD_TYPES
    new_tickets_per_hour: int = 10  # per contact
    upload_bytes_per_day: int = 200 * 1024 * 1024  # per contact: what they send stays in the desk's history

    def accepts(self, filename: str) -> bool:
        """Whether a file of this name may be uploaded: its extension listed, never one a browser runs."""
        extension = filename.rpartition(".")[2].lower() if "." in filename else ""
        return extension in self.upload_types and extension not in NEVER_UPLOADED


def parse(entry: dict[str, Any], problems: Problems) -> PortalSettings:
    url = entry.get("url")
    if url is not None:
        problem = url_problem(url)
        if problem:
            problems.add(("portal", "url"), problem)
    refused = sorted(set(entry["upload_types"]) & NEVER_UPLOADED)
    if refused:
        problems.add(
            ("portal", "upload_types"), f"{', '.join(refused)}: a browser would run such a file; never accepted"
        )
    return PortalSettings(
        url=url.rstrip("/") if url else None,
        link_minutes=entry["link_minutes"],
        session_hours=entry["session_hours"],
        idle_minutes=entry["idle_minutes"],
        max_upload_bytes=entry["max_upload_mb"] * 1024 * 1024,
        max_files=entry["max_files"],
        upload_types=tuple(entry["upload_types"]),
        new_tickets_per_hour=entry["new_tickets_per_hour"],
        upload_bytes_per_day=entry["upload_mb_per_day"] * 1024 * 1024,
    )


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the portal's public address (https, or http on this machine only), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"'{url}' is not a web address: write e.g. https://support.example.com"
    if parts.query or parts.fragment or parts.username or parts.password:
        return f"'{url}': the portal's address has no query, fragment or user name"
    try:
        _ = parts.port  # reading it checks it
    except ValueError:
        return f"'{url}': the port is a number from 1 to 65535"
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return f"'{url}': customers sign in over https (plain http only on this machine, to try it out)"
    return None
