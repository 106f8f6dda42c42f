"""Ticket numbers (sdesk.tickets.ids): format, creation order, references a user types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sdesk.errors import SdeskError
from sdesk.tickets import ids

UTC = UTC
BRUSSELS_WINTER = timezone(timedelta(hours=1))
MOMENT = datetime(2026, 11, 23, 10, 0, 0, tzinfo=BRUSSELS_WINTER)


def _value(symbols: str) -> int:
    """Decode Crockford base32 (the test's own decoder, independent of sdesk)."""
    value = 0
    for symbol in symbols:
        value = value * 32 + ids.ALPHABET.index(symbol)
    return value


# --- new_id ------------------------------------------------------------------------------


def test_new_id_has_the_documented_format() -> None:
    number = ids.new_id(MOMENT)

    assert ids.ID_PATTERN.match(number), number
    assert ids.is_ticket_id(number)
    time_part, random_part = number.split("-")
    assert len(time_part) == 6 and len(random_part) == 5
    # Crockford: no I, L, O, U anywhere, upper case only.
    assert not set(number) & set("ILOUilou")
    assert number == number.upper()


def test_time_part_is_the_second_since_2024_01_01_utc() -> None:
    number = ids.new_id(MOMENT, random_bits=0)

    expected_seconds = int((MOMENT - datetime(2024, 1, 1, tzinfo=UTC)).total_seconds())
    assert _value(number[:6]) == expected_seconds
    assert number.endswith("-00000")
    # The same instant in another zone gets the same time part.
    assert ids.new_id(MOMENT.astimezone(UTC), random_bits=0) == number


@pytest.mark.parametrize(
    "moments",
    [
        pytest.param(
            [datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC) + timedelta(seconds=s) for s in range(40)],
            id="consecutive-seconds",
        ),
        pytest.param(
            [datetime(2026, 11, 23, 9, 59, 59, 999999, tzinfo=UTC), datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)],
            id="across-a-second-boundary",
        ),
        pytest.param(
            [
                datetime(2024, 1, 1, tzinfo=UTC),
                datetime(2024, 1, 1, 0, 0, 31, tzinfo=UTC),
                datetime(2024, 1, 1, 0, 0, 32, tzinfo=UTC),
                datetime(2024, 1, 1, 0, 17, 4, tzinfo=UTC),
                datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC),
                datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
                datetime(2031, 2, 1, tzinfo=UTC),
                datetime(2057, 12, 31, 23, 59, 59, tzinfo=UTC),
            ],
            id="years-apart",
        ),
    ],
)
def test_numbers_sort_in_creation_order(moments: list[datetime]) -> None:
    # The random part works against the order: later tickets draw smaller random bits.
    numbers = [ids.new_id(moment, random_bits=(2**25 - 1) - index) for index, moment in enumerate(moments)]

    assert sorted(numbers) == numbers
    assert len({number[:6] for number in numbers}) == len(numbers), "each second gets its own time part"


def test_same_second_shares_the_time_part() -> None:
    a = ids.new_id(datetime(2026, 11, 23, 10, 0, 0, 1000, tzinfo=UTC), random_bits=1)
    b = ids.new_id(datetime(2026, 11, 23, 10, 0, 0, 998000, tzinfo=UTC), random_bits=2)

    assert a[:6] == b[:6]
    assert a != b


def test_random_part_comes_from_random_bits_deterministically() -> None:
    assert ids.new_id(MOMENT, random_bits=0).endswith("-00000")
    assert ids.new_id(MOMENT, random_bits=31).endswith("-0000Z")
    assert ids.new_id(MOMENT, random_bits=32).endswith("-00010")
    assert ids.new_id(MOMENT, random_bits=2**25 - 1).endswith("-ZZZZZ")
    bits = _value("N1D28")
    assert ids.new_id(MOMENT, random_bits=bits) == ids.new_id(MOMENT, random_bits=bits)
    assert ids.new_id(MOMENT, random_bits=bits).endswith("-N1D28")


def test_random_bits_that_do_not_fit_are_refused() -> None:
    with pytest.raises(SdeskError):
        ids.new_id(MOMENT, random_bits=2**25)


def test_without_random_bits_numbers_differ() -> None:
    numbers = {ids.new_id(MOMENT) for _ in range(50)}
    # 50 draws of 25 bits: a repeat has odds of about 1 in 27,000.
    assert len(numbers) >= 49
    assert len({number[:6] for number in numbers}) == 1


def test_epoch_itself_is_number_zero() -> None:
    assert ids.new_id(datetime(2024, 1, 1, tzinfo=UTC), random_bits=0) == "000000-00000"


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC), id="one-second-before"),
        pytest.param(datetime(2000, 1, 1, tzinfo=UTC), id="years-before"),
        # 00:30 in Brussels on 1 January 2024 is still 2023 in UTC.
        pytest.param(datetime(2024, 1, 1, 0, 30, tzinfo=BRUSSELS_WINTER), id="before-in-utc-only"),
        # Half a second before the epoch is before the epoch too: it must not get number 000000,
        # which belongs to the epoch's own second.
        pytest.param(datetime(2023, 12, 31, 23, 59, 59, 500000, tzinfo=UTC), id="fraction-of-a-second-before"),
    ],
)
def test_a_time_before_the_epoch_is_refused(moment: datetime) -> None:
    with pytest.raises(SdeskError, match="before 2024-01-01"):
        ids.new_id(moment, random_bits=0)


def test_a_time_past_the_30_bit_range_is_refused_not_wrapped() -> None:
    with pytest.raises(SdeskError):
        ids.new_id(datetime(2060, 1, 1, tzinfo=UTC), random_bits=0)


# --- normalize_ref -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "compact"),
    [
        ("2Q400G-N1D28", "2Q400GN1D28"),
        ("2q400g-n1d28", "2Q400GN1D28"),
        ("2Q400GN1D28", "2Q400GN1D28"),
        ("2q400gn1d28", "2Q400GN1D28"),
        ("2Q4-00G-N1D-28", "2Q400GN1D28"),
        ("  2q400g-n1d28 ", "2Q400GN1D28"),
        ("2Q4", "2Q4"),
        ("n1d28", "N1D28"),
        # Crockford lookalikes: O means 0, I and L mean 1.
        ("2q4oog-nld28", "2Q400GN1D28"),
        ("2Q4OOG-NID28", "2Q400GN1D28"),
        ("o", "0"),
        ("i", "1"),
        ("L", "1"),
    ],
)
def test_normalize_ref_accepts_what_people_type(typed: str, compact: str) -> None:
    assert ids.normalize_ref(typed) == compact


@pytest.mark.parametrize(
    "typed",
    [
        "../x",
        "/etc/passwd",
        "..",
        "../../rules",
        "..%2f",
        "x/../y",
        "2Q400G-N1D28.yaml",
        "2Q400G N1D28",
        "",
        "   ",
        "-",
        "---",
        "2Q400GN1D28X",  # 12 symbols: one too many
        "2Q400G-N1D28-0",
        "0" * 100,
        "UUUU",  # U is not a Crockford symbol
        "2Q40*",
        "2Q4\x00",
        "２Q4",  # full-width digit
    ],
)
def test_normalize_ref_refuses_anything_that_is_not_a_ticket_number(typed: str) -> None:
    with pytest.raises(SdeskError, match="is not a ticket number"):
        ids.normalize_ref(typed)


# --- ref_matches --------------------------------------------------------------------------

TICKET = "2Q400G-N1D28"


@pytest.mark.parametrize("compact", ["2", "2Q", "2Q400G", "2Q400GN", "2Q400GN1D2", "2Q400GN1D28"])
def test_a_prefix_of_the_full_number_matches(compact: str) -> None:
    assert ids.ref_matches(compact, TICKET)


@pytest.mark.parametrize("compact", ["N", "N1", "N1D", "N1D28"])
def test_a_prefix_of_the_random_part_matches(compact: str) -> None:
    assert ids.ref_matches(compact, TICKET)


@pytest.mark.parametrize(
    "compact",
    [
        "1D28",  # inside the random part, not at its start
        "D28",
        "8",
        "400G",  # inside the time part
        "0GN1",
        "2Q401",
        "2Q400GN1D29",
        "2Q400GN1D281",  # longer than the number
        "N1D280",  # longer than the random part
        "N1D29",
        "Z",
    ],
)
def test_other_strings_do_not_match(compact: str) -> None:
    assert not ids.ref_matches(compact, TICKET)


def test_normalized_refs_match_through_ref_matches() -> None:
    for typed in ("2q4oog", "nld", "2Q400G-N1", "n1d-28"):
        assert ids.ref_matches(ids.normalize_ref(typed), TICKET), typed
