"""Ticket numbers: short, sortable by creation, collision-free without coordination.

A number is ``TTTTTT-RRRRR`` in Crockford base32 (digits and capitals without
I, L, O, U, so it reads well over the phone):

* ``TTTTTT`` is the creation second since 2024-01-01 UTC (30 bits, good until
  2058), so numbers sort in creation order;
* ``RRRRR`` is 25 random bits.

Two clones can only collide when they create a ticket in the same second *and*
draw the same 25 random bits: odds of 1 in 33,554,432 for each such pair.
Within one clone the store creates files exclusively and draws again, so a
collision there is impossible. See README, "Ticket numbers".
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from sdesk.errors import SdeskError, excerpt

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TIME_CHARS = 6
RANDOM_CHARS = 5
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

_SYMBOL = "[0-9A-HJKMNP-TV-Z]"
ID_PATTERN = re.compile(rf"{_SYMBOL}{{{TIME_CHARS}}}-{_SYMBOL}{{{RANDOM_CHARS}}}")
# Crockford's decoding rule: letters that look like digits mean those digits.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _encode(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    if value:
        raise SdeskError(f"value does not fit in {width} base32 symbols")
    return "".join(reversed(chars))


def new_id(now: datetime, random_bits: int | None = None) -> str:
    """A fresh ticket number for a ticket created at ``now``."""
    seconds = (now - EPOCH) // timedelta(seconds=1)  # floor: a fraction before the epoch is before it
    if seconds < 0:
        raise SdeskError(f"cannot number a ticket created before {EPOCH.date()}")
    if random_bits is None:
        random_bits = secrets.randbits(5 * RANDOM_CHARS)
    return f"{_encode(seconds, TIME_CHARS)}-{_encode(random_bits, RANDOM_CHARS)}"


def imported_id(created: datetime) -> str:
    """A fresh number for a ticket another helpdesk opened at ``created``; one from before the epoch gets
    the epoch's first second (``000000-…``), so it sorts before every ticket sdesk opened."""
    return new_id(max(created, EPOCH))


def is_ticket_id(text: str) -> bool:
    return bool(ID_PATTERN.fullmatch(text))


def normalize_ref(ref: str) -> str:
    """Canonical compact form of what a user typed: upper case, no dashes.

    Raises for anything that cannot be part of a ticket number, so a reference
    such as ``../x`` never reaches the file system.
    """
    compact = ref.strip().upper().replace("-", "").translate(_LOOKALIKES)
    if not compact or len(compact) > TIME_CHARS + RANDOM_CHARS or not re.fullmatch(f"{_SYMBOL}+", compact):
        raise SdeskError(f"{excerpt(ref)} is not a ticket number (expected something like 0QH7KD-4M2ZP)")
    return compact


def ref_matches(compact_ref: str, ticket_id: str) -> bool:
    """A reference names a ticket by a prefix of its number or of its random part."""
    compact_id = ticket_id.replace("-", "")
    return compact_id.startswith(compact_ref) or compact_id[TIME_CHARS:].startswith(compact_ref)
