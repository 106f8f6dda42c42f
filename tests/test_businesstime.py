"""Business-time arithmetic for the SLA clocks (sdesk.calendar.businesstime).

Every expected moment below was worked out by hand, the way a support lead would
with a wall calendar: the office is open Mon-Fri 09:00-12:00 and 13:00-17:00
(7 business hours a day), public holidays of the calendar's country are closed,
and the 24/7 calendar counts real elapsed time. Expected moments are written as
ISO strings with their UTC offset so that a wrong DST offset shows up.

2026 dates used: Fri 03-27 / Sun 03-29 (spring forward), Thu 04-02, Fri 04-03
(Good Friday: a holiday for NL in the `holidays` library, not for BE), Mon 04-06
(Easter Monday), Fri 04-24, Mon 04-27 (Koningsdag NL), Mon 07-20, Tue 07-21
(Belgian national day), Fri 10-23 / Sun 10-25 (fall back), Tue 11-10, Wed 11-11
(Armistice Day BE), Fri 11-20, Mon 11-23, Thu 12-24, Fri 12-25 (Christmas
BE+NL), Sat 12-26 (second Christmas day NL only), Mon 12-28.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdesk.calendar.businesstime import (
    Calendar,
    NeverOpen,
    Target,
    add,
    days_later,
    measure,
    next_opening,
    parse_target,
    supported_country,
)

BRUSSELS = "Europe/Brussels"
AMSTERDAM = "Europe/Amsterdam"
LUNCH_BREAK = ((9 * 60, 12 * 60), (13 * 60, 17 * 60))  # 09:00-12:00 and 13:00-17:00
OFFICE_HOURS = {weekday: LUNCH_BREAK for weekday in range(5)}  # Monday to Friday
SATURDAY_MORNING = ((10 * 60, 14 * 60),)  # 10:00-14:00

CALENDARS = {
    "BE": Calendar("office BE", BRUSSELS, OFFICE_HOURS, country="BE"),
    "NL": Calendar("office NL", AMSTERDAM, OFFICE_HOURS, country="NL"),
    "24/7": Calendar("24/7", BRUSSELS, always_open=True),
    # the desk's own closing days on top of the Belgian holidays
    "BE+closed": Calendar(
        "desk BE",
        BRUSSELS,
        OFFICE_HOURS,
        country="BE",
        closed={date(2026, 12, 24): "Christmas Eve", date(2026, 12, 31): ""},
    ),
    # also open on Saturday 10:00-14:00, to see the second Christmas day (a Saturday in 2026)
    "BE-sat": Calendar("shop BE", BRUSSELS, {**OFFICE_HOURS, 5: SATURDAY_MORNING}, country="BE"),
    "NL-sat": Calendar("shop NL", AMSTERDAM, {**OFFICE_HOURS, 5: SATURDAY_MORNING}, country="NL"),
}
OFFICE = CALENDARS["BE"]
ALWAYS = CALENDARS["24/7"]
NEVER = Calendar("never", BRUSSELS, {})


def at(text: str, calendar: Calendar) -> datetime:
    """A moment: wall time in the calendar's zone, unless the text carries its own offset."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=calendar.zone)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def hours(h: int, m: int = 0) -> timedelta:
    return timedelta(hours=h, minutes=m)


# --- when the clock starts -------------------------------------------------------------------

NEXT_OPENING = [
    pytest.param("BE", "2026-11-24 03:00", "2026-11-24T09:00+01:00", id="night-starts-same-morning"),
    pytest.param("BE", "2026-11-24 08:15", "2026-11-24T09:00+01:00", id="before-opening"),
    pytest.param("BE", "2026-11-23 18:30", "2026-11-24T09:00+01:00", id="evening-starts-next-morning"),
    pytest.param("BE", "2026-11-23 12:30", "2026-11-23T13:00+01:00", id="lunch-starts-at-13"),
    pytest.param("BE", "2026-11-23 10:15", "2026-11-23T10:15+01:00", id="open-starts-immediately"),
    pytest.param("BE", "2026-11-23 09:00", "2026-11-23T09:00+01:00", id="exactly-09:00-is-open"),
    pytest.param("BE", "2026-11-23 12:00", "2026-11-23T13:00+01:00", id="exactly-12:00-waits-for-13:00"),
    pytest.param("BE", "2026-11-23 13:00", "2026-11-23T13:00+01:00", id="exactly-13:00-is-open"),
    pytest.param("BE", "2026-11-23 17:00", "2026-11-24T09:00+01:00", id="exactly-17:00-waits-for-tomorrow"),
    pytest.param("BE", "2026-11-20 17:00", "2026-11-23T09:00+01:00", id="friday-17:00-waits-for-monday"),
    pytest.param("BE", "2026-11-21 10:00", "2026-11-23T09:00+01:00", id="saturday"),
    pytest.param("BE", "2026-11-22 23:59", "2026-11-23T09:00+01:00", id="sunday-late"),
    pytest.param("BE", "2026-12-25 10:00", "2026-12-28T09:00+01:00", id="christmas-BE-then-weekend"),
    pytest.param("BE", "2026-07-21 08:00", "2026-07-22T09:00+02:00", id="national-day-BE"),
    pytest.param("BE", "2026-04-06 11:00", "2026-04-07T09:00+02:00", id="easter-monday-BE"),
    pytest.param("NL", "2026-04-27 11:00", "2026-04-28T09:00+02:00", id="koningsdag-NL"),
    pytest.param("BE", "2026-04-27 11:00", "2026-04-27T11:00+02:00", id="koningsdag-is-a-workday-in-BE"),
    pytest.param("NL", "2026-07-21 11:00", "2026-07-21T11:00+02:00", id="belgian-national-day-is-a-workday-in-NL"),
    pytest.param("BE+closed", "2026-12-24 10:00", "2026-12-28T09:00+01:00", id="closing-day-then-christmas"),
    pytest.param("BE", "2026-03-29 02:30+01:00", "2026-03-30T09:00+02:00", id="dst-sunday-spring"),
    pytest.param("BE", "2026-11-20 15:30+00:00", "2026-11-20T16:30+01:00", id="start-given-in-utc"),
    pytest.param("24/7", "2026-12-25 03:00", "2026-12-25T03:00+01:00", id="24/7-open-on-christmas-night"),
    pytest.param("24/7", "2026-11-23 00:00", "2026-11-23T00:00+01:00", id="24/7-midnight"),
]


@pytest.mark.parametrize(("calendar", "start", "expected"), NEXT_OPENING)
def test_next_opening(calendar: str, start: str, expected: str) -> None:
    cal = CALENDARS[calendar]
    opening = next_opening(cal, at(start, cal))
    assert iso(opening) == expected
    assert str(opening.tzinfo) == cal.timezone


# --- add: when a target is due -----------------------------------------------------------------

ADD = [
    # the clock starts at the next opening
    pytest.param("BE", "2026-11-24 03:00", hours(0, 30), "2026-11-24T09:30+01:00", id="night"),
    pytest.param("BE", "2026-11-24 08:15", hours(2), "2026-11-24T11:00+01:00", id="before-opening"),
    pytest.param("BE", "2026-11-23 18:30", hours(1), "2026-11-24T10:00+01:00", id="evening"),
    pytest.param("BE", "2026-11-23 12:30", hours(1), "2026-11-23T14:00+01:00", id="during-lunch"),
    pytest.param("BE", "2026-11-21 10:00", hours(4), "2026-11-23T14:00+01:00", id="saturday-4h-over-lunch"),
    pytest.param("BE", "2026-12-25 10:00", hours(1), "2026-12-28T10:00+01:00", id="created-on-christmas"),
    pytest.param("NL", "2026-04-27 11:00", hours(2), "2026-04-28T11:00+02:00", id="created-on-koningsdag"),
    # the example from the brief: 30m on Friday, 3h Monday morning, lunch skipped, 30m after lunch
    pytest.param("BE", "2026-11-20 16:30", hours(4), "2026-11-23T13:30+01:00", id="friday-16:30-plus-4h"),
    pytest.param("BE", "2026-11-20 15:30+00:00", hours(4), "2026-11-23T13:30+01:00", id="friday-start-given-in-utc"),
    pytest.param("BE", "2026-11-23 10:00", hours(21), "2026-11-26T10:00+01:00", id="three-days-of-work"),
    # holidays in the middle of a target
    pytest.param("NL", "2026-04-24 15:00", hours(8), "2026-04-28T16:00+02:00", id="over-koningsdag-NL"),
    pytest.param("BE", "2026-04-24 15:00", hours(8), "2026-04-27T16:00+02:00", id="koningsdag-open-in-BE"),
    pytest.param("BE", "2026-04-03 14:00", hours(8), "2026-04-07T15:00+02:00", id="over-easter-monday-BE"),
    pytest.param("BE", "2026-04-02 16:00", hours(8), "2026-04-03T17:00+02:00", id="good-friday-open-in-BE"),
    # the holidays library lists Good Friday for NL: Thu 1h, Good Friday, weekend, Easter Monday, Tue 3h
    pytest.param("NL", "2026-04-02 16:00", hours(4), "2026-04-07T12:00+02:00", id="good-friday-and-easter-NL"),
    pytest.param("BE", "2026-12-24 16:00", hours(4), "2026-12-28T12:00+01:00", id="over-christmas-BE"),
    pytest.param("NL", "2026-12-24 16:00", hours(4), "2026-12-28T12:00+01:00", id="over-christmas-NL"),
    pytest.param("BE-sat", "2026-12-24 16:00", hours(4), "2026-12-26T13:00+01:00", id="BE-open-on-26-december"),
    pytest.param("NL-sat", "2026-12-24 16:00", hours(4), "2026-12-28T12:00+01:00", id="NL-closed-on-26-december"),
    pytest.param("BE", "2026-07-20 15:00", hours(6), "2026-07-22T14:00+02:00", id="over-national-day-BE"),
    pytest.param("NL", "2026-07-20 15:00", hours(6), "2026-07-21T14:00+02:00", id="national-day-open-in-NL"),
    pytest.param("BE", "2026-11-10 14:00", hours(7), "2026-11-12T14:00+01:00", id="over-armistice-day-BE"),
    pytest.param("NL", "2026-11-10 14:00", hours(7), "2026-11-11T14:00+01:00", id="armistice-day-open-in-NL"),
    # the desk's own closing days
    pytest.param("BE", "2026-12-23 15:00", hours(4), "2026-12-24T11:00+01:00", id="christmas-eve-open"),
    pytest.param("BE+closed", "2026-12-23 15:00", hours(4), "2026-12-28T11:00+01:00", id="christmas-eve-closed"),
    pytest.param("BE+closed", "2026-12-30 16:00", hours(2), "2027-01-04T10:00+01:00", id="new-year-closed"),
    # DST weekends: office hours stay 09:00-17:00 local, only the offset changes
    pytest.param("BE", "2026-03-27 16:00", hours(4), "2026-03-30T12:00+02:00", id="office-over-spring-forward"),
    pytest.param("BE", "2026-03-27 10:00", hours(14), "2026-03-31T10:00+02:00", id="office-2-days-spring"),
    pytest.param("BE", "2026-10-23 16:00", hours(4), "2026-10-26T12:00+01:00", id="office-over-fall-back"),
    pytest.param("NL", "2026-10-23 16:00", hours(4), "2026-10-26T12:00+01:00", id="office-NL-over-fall-back"),
    # 24/7: real elapsed time
    pytest.param("24/7", "2026-03-28 12:00", hours(24), "2026-03-29T13:00+02:00", id="24/7-24h-over-spring-forward"),
    pytest.param("24/7", "2026-10-24 12:00", hours(24), "2026-10-25T11:00+01:00", id="24/7-24h-over-fall-back"),
    pytest.param("24/7", "2026-03-29 01:30", hours(1), "2026-03-29T03:30+02:00", id="24/7-through-the-gap"),
    pytest.param("24/7", "2026-10-25 01:30", hours(2), "2026-10-25T02:30+01:00", id="24/7-second-02:30"),
    pytest.param("24/7", "2026-10-25 01:30", hours(1), "2026-10-25T02:30+02:00", id="24/7-first-02:30"),
    pytest.param("24/7", "2026-11-23 23:30", hours(1), "2026-11-24T00:30+01:00", id="24/7-across-midnight"),
    pytest.param("24/7", "2026-12-31 23:00", hours(1, 30), "2027-01-01T00:30+01:00", id="24/7-across-new-year"),
    pytest.param("24/7", "2026-11-21 10:00", hours(4), "2026-11-21T14:00+01:00", id="24/7-weekend"),
    # exact boundaries: window starts and ends are inclusive
    pytest.param("BE", "2026-11-23 09:00", hours(1), "2026-11-23T10:00+01:00", id="start-09:00-sharp"),
    pytest.param("BE", "2026-11-23 09:00", hours(3), "2026-11-23T12:00+01:00", id="ends-exactly-12:00"),
    pytest.param("BE", "2026-11-23 11:00", hours(1), "2026-11-23T12:00+01:00", id="ends-12:00-not-13:00"),
    pytest.param("BE", "2026-11-23 11:00", hours(1, 1), "2026-11-23T13:01+01:00", id="one-minute-past-12:00"),
    pytest.param("BE", "2026-11-23 12:00", hours(1), "2026-11-23T14:00+01:00", id="start-12:00-sharp"),
    pytest.param("BE", "2026-11-23 09:00", hours(7), "2026-11-23T17:00+01:00", id="full-day-ends-17:00"),
    pytest.param("BE", "2026-11-23 16:00", hours(1), "2026-11-23T17:00+01:00", id="ends-17:00-not-tomorrow"),
    pytest.param("BE", "2026-11-23 16:59", hours(0, 1), "2026-11-23T17:00+01:00", id="last-minute"),
    pytest.param("BE", "2026-11-23 17:00", hours(0, 1), "2026-11-24T09:01+01:00", id="start-17:00-sharp"),
    pytest.param("BE", "2026-11-20 17:00", hours(7), "2026-11-23T17:00+01:00", id="friday-17:00-plus-7h"),
]


@pytest.mark.parametrize(("calendar", "start", "duration", "expected"), ADD)
def test_add(calendar: str, start: str, duration: timedelta, expected: str) -> None:
    cal = CALENDARS[calendar]
    due = add(cal, at(start, cal), duration)
    assert iso(due) == expected
    assert str(due.tzinfo) == cal.timezone
    # and the open time between start and due is the duration asked for
    assert measure(cal, at(start, cal), due) == duration


# --- business days ---------------------------------------------------------------------------

BUSINESS_DAYS = [
    pytest.param("BE", "2026-11-23 10:00", "1 business day", hours(7), "2026-11-24T10:00+01:00", id="monday-10:00"),
    pytest.param("BE", "2026-11-20 10:00", "1 business day", hours(7), "2026-11-23T10:00+01:00", id="over-weekend"),
    pytest.param("BE", "2026-11-23 10:00", "2 business days", hours(14), "2026-11-25T10:00+01:00", id="two-days"),
    pytest.param("BE", "2026-11-23 10:00", "2 days", hours(14), "2026-11-25T10:00+01:00", id="two-days-short"),
    pytest.param("BE", "2026-11-23 14:30", "1d", hours(7), "2026-11-24T14:30+01:00", id="afternoon"),
    pytest.param("BE", "2026-12-24 10:00", "1 business day", hours(7), "2026-12-28T10:00+01:00", id="over-christmas"),
    pytest.param(
        "BE+closed", "2026-12-23 10:00", "1 business day", hours(7), "2026-12-28T10:00+01:00", id="over-closing-day"
    ),
    pytest.param("NL", "2026-04-24 10:00", "1 business day", hours(7), "2026-04-28T10:00+02:00", id="koningsdag"),
    pytest.param("BE", "2026-07-20 10:00", "2 business days", hours(14), "2026-07-23T10:00+02:00", id="national-day"),
    pytest.param("BE", "2026-03-27 10:00", "1 business day", hours(7), "2026-03-30T10:00+02:00", id="dst-spring"),
    # a clock that starts outside hours starts at the next opening: a whole business day from
    # Monday 09:00 is used up at Monday 17:00, the earliest moment (not Tuesday 09:00)
    pytest.param("BE", "2026-11-21 10:00", "1 business day", hours(7), "2026-11-23T17:00+01:00", id="from-saturday"),
    pytest.param("BE", "2026-11-23 17:00", "1 business day", hours(7), "2026-11-24T17:00+01:00", id="from-17:00"),
    # from 12:00 sharp the clock starts at 13:00; the 7h run out at Tuesday 12:00 (lunch adds nothing)
    pytest.param("BE", "2026-11-23 12:00", "1 business day", hours(7), "2026-11-24T12:00+01:00", id="from-12:00"),
    # on 24/7 a day is up to the same wall-clock time: 23h and 25h over the DST weekends
    pytest.param("24/7", "2026-03-28 12:00", "1 day", hours(23), "2026-03-29T12:00+02:00", id="24/7-spring-23h"),
    pytest.param("24/7", "2026-10-24 12:00", "1 day", hours(25), "2026-10-25T12:00+01:00", id="24/7-fall-25h"),
    pytest.param("24/7", "2026-11-23 12:00", "2 days", hours(48), "2026-11-25T12:00+01:00", id="24/7-two-days"),
]


@pytest.mark.parametrize(("calendar", "start", "text", "business_time", "expected"), BUSINESS_DAYS)
def test_business_days(calendar: str, start: str, text: str, business_time: timedelta, expected: str) -> None:
    cal = CALENDARS[calendar]
    target = parse_target(text)
    duration = target.duration(cal, at(start, cal))
    assert duration == business_time
    assert days_later(cal, at(start, cal), target.days) == business_time
    assert iso(add(cal, at(start, cal), duration)) == expected


def test_minute_target_duration_does_not_depend_on_calendar() -> None:
    target = parse_target("4h")
    assert target.duration(OFFICE, at("2026-11-21 10:00", OFFICE)) == hours(4)
    assert target.duration(ALWAYS, at("2026-11-21 10:00", ALWAYS)) == hours(4)


# --- measure ---------------------------------------------------------------------------------

MEASURE = [
    pytest.param("BE", "2026-11-20 16:30", "2026-11-23 13:30", hours(4), id="friday-to-monday"),
    pytest.param("BE", "2026-11-23 08:00", "2026-11-23 18:00", hours(7), id="whole-day-without-lunch"),
    pytest.param("BE", "2026-11-23 11:30", "2026-11-23 13:30", hours(1), id="over-lunch"),
    pytest.param("BE", "2026-11-23 12:10", "2026-11-23 12:50", hours(0), id="inside-lunch"),
    pytest.param("BE", "2026-11-21 10:00", "2026-11-22 18:00", hours(0), id="weekend"),
    pytest.param("BE", "2026-11-20 09:00", "2026-11-30 09:00", hours(42), id="six-open-days"),
    pytest.param("BE", "2026-12-24 09:00", "2026-12-29 09:00", hours(14), id="christmas-BE"),
    pytest.param("NL", "2026-12-24 09:00", "2026-12-29 09:00", hours(14), id="christmas-NL"),
    pytest.param("BE+closed", "2026-12-24 09:00", "2026-12-29 09:00", hours(7), id="christmas-eve-closed"),
    pytest.param("BE", "2026-07-20 09:00", "2026-07-23 09:00", hours(14), id="national-day-BE"),
    pytest.param("NL", "2026-07-20 09:00", "2026-07-23 09:00", hours(21), id="national-day-open-NL"),
    pytest.param("NL", "2026-04-24 12:00", "2026-04-28 12:00", hours(7), id="koningsdag-NL"),
    pytest.param("BE", "2026-04-24 12:00", "2026-04-28 12:00", hours(14), id="koningsdag-open-BE"),
    pytest.param("BE", "2026-04-03 09:00", "2026-04-08 09:00", hours(14), id="easter-monday-BE"),
    pytest.param("BE", "2026-03-27 09:00", "2026-03-30 17:00", hours(14), id="office-dst-spring"),
    pytest.param("BE", "2026-10-23 09:00", "2026-10-26 17:00", hours(14), id="office-dst-fall"),
    pytest.param("BE", "2026-11-23 08:00+00:00", "2026-11-23 16:00+00:00", hours(7), id="given-in-utc"),
    pytest.param("24/7", "2026-03-28 12:00", "2026-03-29 12:00", hours(23), id="24/7-spring-forward"),
    pytest.param("24/7", "2026-10-24 12:00", "2026-10-25 12:00", hours(25), id="24/7-fall-back"),
    pytest.param("24/7", "2026-11-23 23:30", "2026-11-24 00:30", hours(1), id="24/7-across-midnight"),
    pytest.param("24/7", "2026-12-24 00:00", "2026-12-27 00:00", hours(72), id="24/7-over-christmas"),
    pytest.param("BE", "2026-11-23 15:00", "2026-11-23 10:00", hours(0), id="end-before-start"),
    pytest.param("BE", "2026-11-23 10:00", "2026-11-23 10:00", hours(0), id="end-equals-start"),
    pytest.param("24/7", "2026-11-24 10:00", "2026-11-23 10:00", hours(0), id="24/7-end-before-start"),
]


@pytest.mark.parametrize(("calendar", "start", "end", "expected"), MEASURE)
def test_measure(calendar: str, start: str, end: str, expected: timedelta) -> None:
    cal = CALENDARS[calendar]
    assert measure(cal, at(start, cal), at(end, cal)) == expected


# --- closing days and holidays ---------------------------------------------------------------

CLOSURE = [
    pytest.param("BE", date(2026, 12, 25), "Christmas Day (public holiday BE)", id="christmas-BE"),
    pytest.param("NL", date(2026, 12, 26), "Second Day of Christmas (public holiday NL)", id="second-christmas-NL"),
    pytest.param("BE", date(2026, 12, 26), None, id="no-second-christmas-BE"),
    pytest.param("NL", date(2026, 4, 27), "King's Day (public holiday NL)", id="koningsdag-NL"),
    pytest.param("BE", date(2026, 4, 27), None, id="koningsdag-not-in-BE"),
    pytest.param("BE", date(2026, 4, 6), "Easter Monday (public holiday BE)", id="easter-monday-BE"),
    pytest.param("NL", date(2026, 4, 6), "Easter Monday (public holiday NL)", id="easter-monday-NL"),
    pytest.param("BE", date(2026, 7, 21), "National Day (public holiday BE)", id="national-day-BE"),
    pytest.param("NL", date(2026, 7, 21), None, id="national-day-not-in-NL"),
    pytest.param("BE+closed", date(2026, 12, 24), "Christmas Eve", id="closing-day-with-reason"),
    pytest.param("BE+closed", date(2026, 12, 31), "closing day", id="closing-day-without-reason"),
    pytest.param("BE", date(2026, 12, 24), None, id="christmas-eve-is-a-workday"),
    pytest.param("BE", date(2026, 11, 23), None, id="ordinary-monday"),
    pytest.param("BE", date(2026, 11, 21), None, id="weekend-is-no-closure"),
    pytest.param("24/7", date(2026, 12, 25), None, id="24/7-never-closed"),
]


@pytest.mark.parametrize(("calendar", "day", "expected"), CLOSURE)
def test_closure(calendar: str, day: date, expected: str | None) -> None:
    assert CALENDARS[calendar].closure(day) == expected


DAY_WINDOWS = [
    pytest.param("BE", date(2026, 11, 23), ["09:00-12:00", "13:00-17:00"], id="monday"),
    pytest.param("BE", date(2026, 11, 21), [], id="saturday"),
    pytest.param("BE", date(2026, 12, 25), [], id="christmas"),
    pytest.param("BE+closed", date(2026, 12, 24), [], id="closing-day"),
    pytest.param("BE-sat", date(2026, 12, 26), ["10:00-14:00"], id="saturday-shop-BE"),
    pytest.param("NL-sat", date(2026, 12, 26), [], id="saturday-shop-NL-second-christmas"),
    pytest.param("BE", date(2026, 3, 30), ["09:00-12:00", "13:00-17:00"], id="after-spring-forward"),
    pytest.param("24/7", date(2026, 11, 21), ["00:00-00:00"], id="24/7-whole-day"),
]


@pytest.mark.parametrize(("calendar", "day", "expected"), DAY_WINDOWS)
def test_day_windows(calendar: str, day: date, expected: list[str]) -> None:
    cal = CALENDARS[calendar]
    spans = [f"{cal.local(opens):%H:%M}-{cal.local(closes):%H:%M}" for opens, closes in cal.day_windows(day)]
    assert spans == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 3, 29), hours(23), id="spring-forward-sunday-23h"),
        pytest.param(date(2026, 10, 25), hours(25), id="fall-back-sunday-25h"),
        pytest.param(date(2026, 11, 22), hours(24), id="ordinary-sunday-24h"),
    ],
)
def test_24_7_day_length(day: date, expected: timedelta) -> None:
    ((opens, closes),) = ALWAYS.day_windows(day)
    assert closes - opens == expected


@pytest.mark.parametrize(
    ("country", "subdivision", "problem"),
    [
        pytest.param("NL", None, None, id="NL"),
        pytest.param("BE", None, None, id="BE"),
        pytest.param("XX", None, "'XX'", id="unknown-country"),
        pytest.param("BE", "ZZ", "'ZZ'", id="unknown-subdivision"),
    ],
)
def test_supported_country(country: str, subdivision: str | None, problem: str | None) -> None:
    answer = supported_country(country, subdivision)
    if problem is None:
        assert answer is None
    else:
        assert answer is not None and problem in answer


# --- a calendar that never opens -------------------------------------------------------------

ALL_MONDAYS_CLOSED = Calendar(
    "mondays only, all closed",
    BRUSSELS,
    {0: LUNCH_BREAK},
    closed={date(2026, 1, 5) + timedelta(weeks=week): "closed" for week in range(4 * 53)},
)

NEVER_OPEN = [
    pytest.param(NEVER, lambda cal, start: add(cal, start, hours(1)), id="add-no-hours"),
    pytest.param(NEVER, next_opening, id="next-opening-no-hours"),
    pytest.param(NEVER, lambda cal, start: days_later(cal, start, 1), id="days-later-no-hours"),
    pytest.param(
        NEVER, lambda cal, start: parse_target("1 business day").duration(cal, start), id="target-duration-no-hours"
    ),
    pytest.param(Calendar("empty days", BRUSSELS, {0: (), 3: ()}), next_opening, id="weekdays-without-windows"),
    pytest.param(ALL_MONDAYS_CLOSED, lambda cal, start: add(cal, start, hours(1)), id="every-opening-day-closed"),
]


@pytest.mark.parametrize(("calendar", "call"), NEVER_OPEN)
def test_never_open_raises_quickly(calendar: Calendar, call) -> None:
    with pytest.raises(NeverOpen):
        call(calendar, at("2026-01-01 10:00", calendar))
    assert issubclass(NeverOpen, ValueError)


def test_measuring_on_a_calendar_that_never_opens_finds_no_open_time() -> None:
    start = at("2026-01-01 10:00", NEVER)
    assert measure(NEVER, start, start + timedelta(days=3 * 366)) == timedelta(0)


EMPTY_WINDOWS = [
    pytest.param({0: ((540, 540),)}, next_opening, id="zero-length-window-next-opening"),
    pytest.param({0: ((540, 540),)}, lambda cal, start: add(cal, start, hours(1)), id="zero-length-window-add"),
    pytest.param({0: ((720, 540),)}, next_opening, id="reversed-window-next-opening"),
    pytest.param({0: ((720, 540),)}, lambda cal, start: add(cal, start, hours(1)), id="reversed-window-add"),
]


@pytest.mark.parametrize(("hours_", "call"), EMPTY_WINDOWS)
def test_windows_without_open_time_are_refused_when_the_calendar_is_made(
    hours_: dict[int, tuple[tuple[int, int], ...]], call
) -> None:
    with pytest.raises(ValueError, match="ordered and not overlap"):
        Calendar("empty windows", BRUSSELS, hours_)


@pytest.mark.parametrize(
    "hours_",
    [
        pytest.param({0: ((780, 1020), (540, 720))}, id="afternoon-before-morning"),
        pytest.param({0: ((540, 780), (720, 1020))}, id="overlapping"),
    ],
)
def test_windows_out_of_order_or_overlapping_are_refused(hours_: dict[int, tuple[tuple[int, int], ...]]) -> None:
    with pytest.raises(ValueError, match="ordered and not overlap"):
        Calendar("muddled", BRUSSELS, hours_)


# --- parsing targets -------------------------------------------------------------------------

ACCEPTED_TARGETS = [
    pytest.param("30m", 30, 0, id="30m"),
    pytest.param("4h", 240, 0, id="4h"),
    pytest.param("1h30m", 90, 0, id="1h30m"),
    pytest.param("1h 30m", 90, 0, id="1h-space-30m"),
    pytest.param("0h30m", 30, 0, id="0h30m"),
    pytest.param("8 hours", 480, 0, id="8-hours"),
    pytest.param("1 hour", 60, 0, id="1-hour"),
    pytest.param("90 minutes", 90, 0, id="90-minutes"),
    pytest.param("45 min", 45, 0, id="45-min"),
    pytest.param("4H", 240, 0, id="upper-case"),
    pytest.param("  2h  ", 120, 0, id="surrounding-spaces"),
    pytest.param("1 business day", 0, 1, id="1-business-day"),
    pytest.param("2 business days", 0, 2, id="2-business-days"),
    pytest.param("2 Business  Days", 0, 2, id="case-and-double-space"),
    pytest.param("2 days", 0, 2, id="2-days"),
    pytest.param("1 day", 0, 1, id="1-day"),
    pytest.param("3d", 0, 3, id="3d"),
    pytest.param("1 working day", 0, 1, id="1-working-day"),
    # a target's hours and minutes are any duration sdesk reads (tests/test_durations.py), days in Dutch too
    pytest.param("1.5h", 90, 0, id="decimal-hours"),
    pytest.param("1u30", 90, 0, id="dutch-1u30"),
    pytest.param("1,5 uur", 90, 0, id="dutch-decimal-comma"),
    pytest.param("1:30", 90, 0, id="clock"),
    pytest.param("2 werkdagen", 0, 2, id="2-werkdagen"),
    pytest.param("1 werkdag", 0, 1, id="1-werkdag"),
    pytest.param("3 dagen", 0, 3, id="3-dagen"),
    pytest.param("250 business days", 0, 250, id="most-days"),
    pytest.param("2000h", 2000 * 60, 0, id="most-hours"),
]


@pytest.mark.parametrize(("text", "minutes", "days"), ACCEPTED_TARGETS)
def test_parse_target_accepts(text: str, minutes: int, days: int) -> None:
    target = parse_target(text)
    assert (target.minutes, target.days) == (minutes, days)
    assert str(target) == target.text == " ".join(text.split())


REJECTED_TARGETS = [
    pytest.param("0", id="zero"),
    pytest.param("0m", id="zero-minutes"),
    pytest.param("0h", id="zero-hours"),
    pytest.param("0h0m", id="zero-hours-minutes"),
    pytest.param("0 days", id="zero-days"),
    pytest.param("0 business days", id="zero-business-days"),
    pytest.param("-1h", id="negative-hours"),
    pytest.param("-30m", id="negative-minutes"),
    pytest.param("-1 day", id="negative-days"),
    pytest.param("soon", id="soon"),
    pytest.param("4x", id="4x"),
    pytest.param("30", id="bare-number"),
    pytest.param("1.5 days", id="decimal-days"),
    pytest.param("1.01h", id="not-whole-minutes"),
    pytest.param("0:00", id="zero-clock"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("h", id="unit-only"),
    pytest.param("1d2h", id="days-and-hours"),
    pytest.param("2 weeks", id="weeks"),
    pytest.param("1 business hour", id="business-hour"),
    pytest.param("0 werkdagen", id="zero-werkdagen"),
]


@pytest.mark.parametrize("text", REJECTED_TARGETS)
def test_parse_target_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_target(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("251 days", "'251 days' is too long: at most 250 business days"),
        ("2001h", "'2001h' is too long: at most 2,000 hours"),
        ("1" * 10**6 + "h", "is not a target: write e.g. 30m, 4h, 1h30m, 1u30, 1,5 uur or 2 business days"),
    ],
)
def test_a_target_is_at_most_a_years_work(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_target(text)
    assert message in str(refused.value) and len(str(refused.value)) < 300


# --- properties ------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    # the autouse fixture of conftest.py only pins environment variables: harmless here
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
ZONES = st.sampled_from([ZoneInfo(BRUSSELS), UTC])
any_moment = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31, 23, 59), timezones=ZONES, allow_imaginary=False
)
# moments on the edges of the office windows (and midnight), where off-by-one errors live
edge_moment = st.builds(
    lambda day, wall: datetime.combine(day, wall, ZoneInfo(BRUSSELS)),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    st.sampled_from([time(h, m) for h, m in [(0, 0), (8, 59), (9, 0), (11, 59), (12, 0), (13, 0), (16, 59), (17, 0)]]),
)
starts = st.one_of(any_moment, edge_moment)
durations = st.integers(min_value=1, max_value=60 * 60).map(lambda m: timedelta(minutes=m))
calendars = st.sampled_from([OFFICE, ALWAYS])


def office_open_at(moment: datetime) -> bool:
    """By hand: a weekday, 09:00-12:00 or 13:00-17:00 local, both ends included."""
    local = moment.astimezone(ZoneInfo(BRUSSELS))
    wall = local.time()
    in_hours = time(9) <= wall <= time(12) or time(13) <= wall <= time(17)
    return local.weekday() < 5 and in_hours and OFFICE.closure(local.date()) is None


@PROPERTY_SETTINGS
@given(calendars, starts, durations)
def test_measure_undoes_add(cal: Calendar, start: datetime, duration: timedelta) -> None:
    due = add(cal, start, duration)
    assert measure(cal, start, due) == duration
    # and it is the earliest such moment
    assert measure(cal, start, due - timedelta(microseconds=1)) < duration
    assert due > start


@PROPERTY_SETTINGS
@given(calendars, starts, durations)
def test_due_lies_inside_opening_hours(cal: Calendar, start: datetime, duration: timedelta) -> None:
    due = add(cal, start, duration)
    assert str(due.tzinfo) == cal.timezone
    assert any(opens <= due <= closes for opens, closes in cal.day_windows(due.date()))
    if cal is OFFICE:
        assert office_open_at(due)


@PROPERTY_SETTINGS
@given(calendars, starts, durations, durations)
def test_add_is_monotonic_in_duration(cal: Calendar, start: datetime, first: timedelta, second: timedelta) -> None:
    shorter, longer = sorted([first, second])
    assert add(cal, start, shorter) <= add(cal, start, longer)
    if shorter < longer:
        assert add(cal, start, shorter) < add(cal, start, longer)


@PROPERTY_SETTINGS
@given(calendars, starts, starts, durations)
def test_add_is_monotonic_in_start(cal: Calendar, first: datetime, second: datetime, duration: timedelta) -> None:
    earlier, later = sorted([first, second])
    assert add(cal, earlier, duration) <= add(cal, later, duration)


@PROPERTY_SETTINGS
@given(starts, st.integers(min_value=1, max_value=5))
def test_business_days_on_office_are_seven_hours_each(start: datetime, days: int) -> None:
    # every open day has the same 7 hours, so N business days are 7N hours whatever the start
    target = Target(f"{days} business days", days=days)
    assert target.duration(OFFICE, start) == hours(7 * days)


def test_moments_in_the_hour_the_clocks_go_back_compare_as_instants() -> None:
    # 25 Oct 2026, Brussels: 02:00-03:00 happens twice. One minute after 02:00 summer time is 02:01 (+02:00);
    # an hour after it is 02:00 again, winter time (+01:00): the later instant, although its wall clock is earlier.
    start = datetime(2026, 10, 25, 2, 0, tzinfo=ZoneInfo("Europe/Brussels"))
    soon, later = add(ALWAYS, start, timedelta(minutes=1)), add(ALWAYS, start, timedelta(hours=1))
    assert (soon.isoformat(), later.isoformat()) == ("2026-10-25T02:01:00+02:00", "2026-10-25T02:00:00+01:00")
    assert soon < later
    assert str(later.tzinfo) == "Europe/Brussels"
