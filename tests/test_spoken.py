"""Dates, moments and durations in words, as mail and the portals say them to customers and agents."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sdesk.calendar.spoken import day, duration, moment

BRUSSELS = ZoneInfo("Europe/Brussels")
MONDAY = datetime(2026, 11, 23, 13, 30, tzinfo=BRUSSELS)


@pytest.mark.parametrize(
    ("language", "with_year", "this_year"),
    [
        ("en", "Monday 23 November 2026 at 13:30", "Monday 23 November at 13:30"),
        ("nl", "maandag 23 november 2026 om 13:30", "maandag 23 november om 13:30"),
        ("fr", "lundi 23 novembre 2026 à 13:30", "lundi 23 novembre à 13:30"),
        ("de", "Montag, 23. November 2026 um 13:30", "Montag, 23. November um 13:30"),
        ("xx", "Monday 23 November 2026 at 13:30", "Monday 23 November at 13:30"),  # unknown: English
    ],
)
def test_a_moment_in_each_language(language: str, with_year: str, this_year: str) -> None:
    assert moment(MONDAY, language, BRUSSELS) == with_year
    assert moment(MONDAY, language, BRUSSELS, now=MONDAY) == this_year


def test_a_moment_is_spoken_in_the_desks_time_zone() -> None:
    utc = datetime(2026, 11, 23, 12, 30, tzinfo=ZoneInfo("UTC"))
    assert moment(utc, "de", BRUSSELS) == "Montag, 23. November 2026 um 13:30"


@pytest.mark.parametrize(
    ("language", "first", "spring"),
    [
        ("en", "Tuesday 1 December 2026", "Friday 20 March 2026"),
        ("nl", "dinsdag 1 december 2026", "vrijdag 20 maart 2026"),
        ("fr", "mardi 1er décembre 2026", "vendredi 20 mars 2026"),  # the first of the month is an ordinal
        ("de", "Dienstag, 1. Dezember 2026", "Freitag, 20. März 2026"),
    ],
)
def test_a_day_in_each_language(language: str, first: str, spring: str) -> None:
    assert day(date(2026, 12, 1), language) == first
    assert day(date(2026, 3, 20), language) == spring


@pytest.mark.parametrize(
    ("language", "hours", "minutes", "late"),
    [
        ("en", "3h 05m", "45m", "-1h 10m"),
        ("nl", "3u 05m", "45m", "-1u 10m"),
        ("fr", "3 h 05", "45 min", "-1 h 10"),
        ("de", "3 Std. 05 Min.", "45 Min.", "-1 Std. 10 Min."),
    ],
)
def test_a_duration_in_each_language(language: str, hours: str, minutes: str, late: str) -> None:
    assert duration(timedelta(hours=3, minutes=5, seconds=59), language) == hours  # to the minute
    assert duration(timedelta(minutes=45), language) == minutes
    assert duration(-timedelta(hours=1, minutes=10), language) == late
