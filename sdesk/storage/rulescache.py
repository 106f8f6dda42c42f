"""rules.yaml parsed once: the checked policy kept in the clone's cache, for every later command.

Reading and checking rules.yaml (and loading the holiday library to check a
calendar's country) is most of what a one-ticket command costs. The result is
kept in ``.sdesk/cache/rules.pickle`` under a fingerprint of what it was
made from: the file's exact bytes, this sdesk and Python, the holiday library,
the time-zone database and the modules that define the policy's shape
(worked out once per command). Anything different, and the file is read
again; a cache that does not read is rebuilt, never trusted.

A pickle runs code when it is loaded, and ``.sdesk/`` could arrive through a
colleague's ``git add -f``: so the cache is signed with a key that never
leaves this machine (``$XDG_CACHE_HOME/sdesk/cache-key``, made once, 0600),
and a file whose signature does not match is not unpickled at all.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import sys
from datetime import date
from pathlib import Path
from typing import Any

from sdesk import __version__
from sdesk.policy.rules import Rules
from sdesk.storage.store import write_atomic

FILE = Path("cache") / "rules.pickle"  # in the desk's state folder
MAGIC = b"sdesk-rules-1\n"
# Holidays and open-time tables kept with the rules: the years clocks look at.
HOLIDAY_YEARS_BACK, HOLIDAY_YEARS_AHEAD = 10, 3
# The modules whose classes the pickle holds, and those that derive what is kept under the rules' key.
_SHAPE_PACKAGES = ("policy", "calendar", "tickets", "formats", "clocks")


def load(state_dir: Path, made_from: str) -> Rules | None:
    """The rules with this :func:`fingerprint`, when the cache holds them; else None."""
    key = _key()
    path = state_dir / FILE
    if key is None or path.is_symlink() or not path.is_file():
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    signature, payload = data[len(MAGIC) : len(MAGIC) + 32], data[len(MAGIC) + 32 :]
    if not data.startswith(MAGIC) or not hmac.compare_digest(signature, _sign(key, payload)):
        return None  # not ours: never unpickled
    try:
        kept_from, rules = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - a cache of another version of the classes: rebuilt
        return None
    return rules if kept_from == made_from and isinstance(rules, Rules) else None


def save(state_dir: Path, made_from: str, rules: Rules, today: date) -> None:
    """Keep the rules (made as :func:`fingerprint` says) for the next command, with the holidays of the
    years around ``today``; quietly not when the cache cannot be written (a read-only checkout works, only
    slower)."""
    key = _key()
    if key is None:
        return
    for calendar in rules.service.calendars.values():
        calendar.prepare(range(today.year - HOLIDAY_YEARS_BACK, today.year + HOLIDAY_YEARS_AHEAD + 1))
    payload = pickle.dumps((made_from, rules), protocol=pickle.HIGHEST_PROTOCOL)
    path = state_dir / FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.is_symlink():
            return
        write_atomic(path, MAGIC + _sign(key, payload) + payload, durable=False)
    except Exception:  # noqa: BLE001 - a cache is a convenience: a failure to write it is none
        return


def fingerprint(source: bytes) -> str:
    """What rules made from ``source`` (rules.yaml's bytes) depend on, as one digest: the file, this sdesk
    (its code too, in a checkout), Python, the holiday library and the time-zone database. The cache keeps
    the rules under it, and the index what is derived from them."""
    package = Path(__file__).resolve().parent.parent
    shapes = tuple(
        (path.name, path.stat().st_mtime_ns)
        for folder in _SHAPE_PACKAGES
        for path in sorted((package / folder).glob("*.py"))
    )
    made_from = (hashlib.sha256(source).hexdigest(), __version__, sys.version, _holidays_version(), _zones(), shapes)
    return hashlib.sha256(repr(made_from).encode()).hexdigest()


def _zones() -> tuple[Any, ...]:
    """Where time zones come from, and when each source last changed: a tzdata release moves DST rules, and
    with them the open-time tables kept with the rules and the clocks' facts kept in the index."""
    import importlib.util
    import zoneinfo

    found: list[Any] = []
    for folder in zoneinfo.TZPATH:
        marker = Path(folder) / "tzdata.zi"  # the system's database rewrites it with every release
        try:
            stat = (marker if marker.is_file() else Path(folder)).stat()
            found.append((folder, stat.st_mtime_ns, stat.st_size))
        except OSError:
            found.append((folder, None))
    package = importlib.util.find_spec("tzdata")  # where zoneinfo looks when the system has no zone
    if package is not None and package.origin is not None:
        try:
            found.append((package.origin, Path(package.origin).stat().st_mtime_ns))
        except OSError:
            found.append((package.origin, None))
    return tuple(found)


def _holidays_version() -> str | None:
    """The holiday library's version file, by its place and time (importing the library costs what we save)."""
    import importlib.util

    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return None
    version = Path(spec.origin).parent / "version.py"
    try:
        return f"{version}:{version.stat().st_mtime_ns}"
    except OSError:
        return None


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def _key() -> bytes | None:
    """This machine's (this user's) signing key, made once; None when there is nowhere to keep it."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(home) / "sdesk" / "cache-key"
    try:
        if not path.is_symlink() and path.is_file():
            found = path.read_bytes()
            if len(found) == 32:
                return found
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, fresh)
        finally:
            os.close(fd)
        return fresh
    except OSError:
        return None
