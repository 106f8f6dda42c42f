"""What a runner remembers of senders: how often each wrote lately, and when each was last auto-replied.

Kept in the runner's own folder, not committed: it only limits floods and
auto-replies (RFC 3834 asks for no more than one answer a day), so a
forgotten or torn file at worst lets one more mail through.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sdesk.storage.store import write_atomic

FILE = "mail-senders.json"
REPLY_EVERY = timedelta(hours=24)


class Senders:
    """How often each sender wrote lately, and when each was last auto-replied: this runner's own memory."""

    def __init__(self, folder: Path, now: datetime):
        self.path = folder / FILE
        self.now = now
        self.seen: dict[str, list[str]] = {}
        self.replied: dict[str, str] = {}
        if self.path.is_file() and not self.path.is_symlink():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.seen = {str(k): [str(t) for t in v][-1000:] for k, v in dict(data.get("seen", {})).items()}
                self.replied = {str(k): str(v) for k, v in dict(data.get("replied", {})).items()}
            except (ValueError, TypeError, AttributeError, RecursionError):
                pass  # a torn file forgets: at worst one more mail is taken from a flood

    def count(self, sender: str) -> int:
        """Messages from ``sender`` in the last hour, this one included."""
        hour_ago, who = self.now - timedelta(hours=1), _who(sender)
        recent = [moment for moment in self.seen.get(who, []) if _moment(moment) > hour_ago]
        self.seen[who] = [*recent, self.now.isoformat()]
        return len(recent) + 1

    def may_reply(self, about: str) -> bool:
        """May ``about`` (a sender, or a sender and a reason) be answered again, a day after the last time?"""
        who, _, reason = about.partition("#")
        key = f"{_who(who)}#{reason}" if reason else _who(who)
        last = self.replied.get(key)
        if last is not None and self.now - _moment(last) < REPLY_EVERY:
            return False
        self.replied[key] = self.now.isoformat()
        return True

    def save(self) -> None:
        hour_ago = self.now - timedelta(hours=1)
        day_ago = self.now - REPLY_EVERY
        data = {
            "seen": {k: v for k, v in self.seen.items() if v and _moment(v[-1]) > hour_ago},
            "replied": {k: v for k, v in self.replied.items() if _moment(v) > day_ago},
        }
        self.path.parent.mkdir(exist_ok=True)
        write_atomic(self.path, json.dumps(data) + "\n", durable=False)


def _who(sender: str) -> str:
    """One mailbox however it is tagged: x+1@… and X+2@… are the same sender to a flood limit."""
    local, _, domain = sender.lower().partition("@")
    return f"{local.split('+')[0]}@{domain}"


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
