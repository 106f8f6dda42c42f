"""What the portal remembers about who may sign in: one-time sign-in links, sessions, and the counts its
rate limits take.

Kept in one SQLite file in the runner's own clone, never in the desk's history: a link or a session is a
credential, not an event. Only a SHA-256 of each link and session id is stored, so a copy of the file
(a backup, a colleague's look at the runner's disk) signs nobody in. A link is used at most once, by one
atomic update; a session ends when it idles too long, when it is too old, or when its holder signs out.
Moments are epoch seconds the caller passes (``SDESK_NOW`` reaches them through the caller's clock).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from pathlib import Path

from msgspec import Struct

from sdesk.errors import SdeskError

DAY = 86400
TOKEN_BYTES = 32  # 256 bits: a link or a session id nobody guesses
SCHEMA = """
CREATE TABLE IF NOT EXISTS links (hash TEXT PRIMARY KEY, address TEXT NOT NULL, customer TEXT NOT NULL,
    expires REAL NOT NULL, used REAL);
CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, address TEXT NOT NULL, customer TEXT NOT NULL,
    started REAL NOT NULL, seen REAL NOT NULL, ended REAL);
CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL, amount REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_by_key ON hits (key, at);
"""


class Holder(Struct, frozen=True):
    """Who a link or a session is for: a customer's contact, by address."""

    address: str
    customer: str


class Credentials:
    """The portal's credentials file at ``path`` (made with mode 0600; a symbolic link is refused)."""

    def __init__(self, path: Path) -> None:
        if path.is_symlink() or path.parent.is_symlink():
            raise SdeskError("is a symbolic link: the portal keeps its credentials only in its own clone", path)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o600))
        self.db = sqlite3.connect(f"{path.absolute().as_uri()}?nofollow=1", uri=True, timeout=5, isolation_level=None)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- sign-in links ---------------------------------------------------------------------------

    def issue_link(self, holder: Holder, now: float, minutes: int) -> str:
        """A new one-time token for ``holder``, good for ``minutes``; only its hash is kept."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self.db.execute(
            "INSERT INTO links VALUES (?, ?, ?, ?, NULL)",
            (_digest(token), holder.address, holder.customer, now + minutes * 60),
        )
        return token

    def use_link(self, token: str, now: float) -> Holder | None:
        """Whom ``token`` signs in, once: None when it is unknown, expired or used already."""
        digest = _digest(token)
        with self.db:  # one transaction: two requests with the same link cannot both get a row
            self.db.execute("BEGIN IMMEDIATE")
            used = self.db.execute(
                "UPDATE links SET used = ? WHERE hash = ? AND used IS NULL AND expires > ?", (now, digest, now)
            )
            if used.rowcount != 1:
                return None
            address, customer = self.db.execute(
                "SELECT address, customer FROM links WHERE hash = ?", (digest,)
            ).fetchone()
        return Holder(address, customer)

    def peek_link(self, token: str, now: float) -> Holder | None:
        """Whom ``token`` would sign in, without using it up (the page its button signs in on)."""
        row = self.db.execute(
            "SELECT address, customer FROM links WHERE hash = ? AND used IS NULL AND expires > ?", (_digest(token), now)
        ).fetchone()
        return Holder(*row) if row else None

    # --- sessions --------------------------------------------------------------------------------

    def open_session(self, holder: Holder, now: float) -> str:
        """A new session id for ``holder`` (a new one at every sign-in, never one the browser brought)."""
        session = secrets.token_urlsafe(TOKEN_BYTES)
        self.db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, NULL)",
            (_digest(session), holder.address, holder.customer, now, now),
        )
        return session

    def session(self, session: str, now: float, idle_minutes: int, most_hours: int) -> Holder | None:
        """Whose ``session`` this is, its idle time restarted; None when it ended, idled or aged out."""
        digest = _digest(session)
        row = self.db.execute(
            "UPDATE sessions SET seen = ? WHERE hash = ? AND ended IS NULL AND seen > ? AND started > ? "
            "RETURNING address, customer",
            (now, digest, now - idle_minutes * 60, now - most_hours * 3600),
        ).fetchone()
        return Holder(*row) if row else None

    def end_session(self, session: str, now: float) -> None:
        self.db.execute("UPDATE sessions SET ended = ? WHERE hash = ? AND ended IS NULL", (now, _digest(session)))

    def purge(self, now: float) -> None:
        """Forget what can sign nobody in any more: links and sessions a day past their end, old counts."""
        with self.db:
            self.db.execute("DELETE FROM links WHERE expires < ?", (now - DAY,))
            self.db.execute("DELETE FROM sessions WHERE ended < ? OR seen < ?", (now - DAY, now - 31 * DAY))
            self.db.execute("DELETE FROM hits WHERE at < ?", (now - DAY,))

    # --- rate limits -----------------------------------------------------------------------------

    def allow(self, key: str, now: float, most: float, window_seconds: float, amount: float = 1) -> bool:
        """Whether ``amount`` more of what ``key`` counts (one request, or bytes) stays within ``most`` per
        window; counted if so."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM hits WHERE key = ? AND at <= ?", (key, now - window_seconds))
            (used,) = self.db.execute("SELECT TOTAL(amount) FROM hits WHERE key = ?", (key,)).fetchone()
            if used + amount > most:
                return False
            self.db.execute("INSERT INTO hits VALUES (?, ?, ?)", (key, now, amount))
        return True


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
