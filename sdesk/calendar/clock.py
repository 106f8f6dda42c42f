"""The one place sdesk reads the clock, so SDESK_NOW can replay any moment."""

from __future__ import annotations

import os
from datetime import datetime, tzinfo

from sdesk.errors import SdeskError


def parse_timestamp(text: str, what: str = "timestamp") -> datetime:
    """Parse an ISO-8601 timestamp that carries its UTC offset.

    Python reads the usual forms itself; dateutil (slower to import) reads the rarer ones.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _isoparse(text, what)
    if moment.tzinfo is None:
        raise SdeskError(f"{what} '{text}' has no UTC offset (e.g. 2026-11-23T09:30:00+01:00)")
    return moment


def _isoparse(text: str, what: str) -> datetime:
    from dateutil.parser import isoparse

    try:
        return isoparse(text)
    except (ValueError, OverflowError):
        raise SdeskError(f"{what} '{text}' is not an ISO-8601 timestamp (e.g. 2026-11-23T09:30:00+01:00)") from None


def now(zone: tzinfo | None = None) -> datetime:
    """The current moment, to the second, in the desk's time zone.

    ``SDESK_NOW`` overrides the system clock so scenarios can be replayed.
    """
    pinned = os.environ.get("SDESK_NOW")
    moment = parse_timestamp(pinned, "SDESK_NOW") if pinned else datetime.now().astimezone()
    if zone is not None:
        moment = moment.astimezone(zone)
    return moment.replace(microsecond=0)
