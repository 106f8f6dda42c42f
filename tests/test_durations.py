"""One duration grammar for every duration sdesk reads, and how durations are printed (sdesk.calendar.durations).

`sdesk log`, `sdesk sla --within` and rules.yaml's targets read the same text as
the same minutes, in English and Dutch; tables print hours:minutes, sentences
words, and both read back as what they show.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdesk.calendar.durations import MAX_HOURS, hours_minutes, parse_minutes, words
from tests.conftest import ok

EXAMPLES = "write e.g. 45m, 1h30m, 1u30, 1,5 uur, 90 min or 1:30"


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("45m", 45),
        ("45 min", 45),
        ("10 mins", 10),
        ("1 minute", 1),
        ("90 minutes", 90),
        ("90 minuten", 90),
        ("1 minuut", 1),
        ("2 h", 120),
        ("2 hours", 120),
        ("1 hr", 60),
        ("8 HRS", 480),
        ("2 uur", 120),
        ("2 uren", 120),
        ("1h30m", 90),
        ("1h 30m", 90),
        ("1H30M", 90),
        ("1u30", 90),  # Dutch: bare minutes after the hours
        ("1h30", 90),
        ("1 uur 30", 90),
        ("1u 30m", 90),
        ("1 uur 15 min", 75),
        ("1 uur en 15 minuten", 75),
        ("1 hour and 30 minutes", 90),
        ("1h 90m", 150),  # minutes with their word may run past the hour
        ("1.5h", 90),
        ("1,5u", 90),
        ("1,5 uur", 90),
        ("1.25h", 75),
        ("0.1h", 6),
        ("0h5m", 5),
        ("1:30", 90),
        ("0:45", 45),
        ("100:00", 6000),
        ("24h", 1440),
        ("  90m  ", 90),
        ("\u00a01u30\u3000", 90),  # any white space Python's str.split() knows
    ],
)
def test_parse_minutes_reads_every_way_of_writing_a_duration_in_english_and_dutch(text: str, minutes: int) -> None:
    assert parse_minutes(text) == minutes


@pytest.mark.parametrize(("text", "expected"), [("4.1h", 246), ("8.2h", 492), ("16,1u", 966), ("2.05h", 123)])
def test_decimal_hours_are_exact_not_rounded_through_floats(text: str, expected: int) -> None:
    assert parse_minutes(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("soon", f"'soon' is not a duration: {EXAMPLES}"),
        ("", f"'' is not a duration: {EXAMPLES}"),
        ("90", f"'90' is not a duration: {EXAMPLES}"),  # minutes or hours? a unit says
        ("-1h", f"'-1h' is not a duration: {EXAMPLES}"),
        ("1.5m", f"'1.5m' is not a duration: {EXAMPLES}"),
        ("1h5", f"'1h5' is not a duration: {EXAMPLES}"),  # bare minutes are two digits, as on a clock
        ("1:60", f"'1:60' is not a duration: {EXAMPLES}"),
        ("2 days", f"'2 days' is not a duration: {EXAMPLES}"),  # days are business days, for targets only
        ("1h 30m 10s", f"'1h 30m 10s' is not a duration: {EXAMPLES}"),
        ("\u0661h", f"'\u0661h' is not a duration: {EXAMPLES}"),  # digits are 0-9 only
        ("1.33h", f"'1.33h' is not a whole number of minutes: {EXAMPLES}"),  # 79.8 minutes
        ("0.01h", f"'0.01h' is not a whole number of minutes: {EXAMPLES}"),
        ("0.01666666666666666666666666666666666666h", "is not a whole number of minutes"),  # no rounding
        ("0m", "'0m' is no time at all: give more than zero minutes"),
        ("0:00", "'0:00' is no time at all: give more than zero minutes"),
        ("0h 0m", "'0h 0m' is no time at all: give more than zero minutes"),
        ("1000000000h", "'1000000000h' is too long: at most 10,000 hours"),
        ("10000:01", "'10000:01' is too long: at most 10,000 hours"),
        ("9" * 99 + "h", "is too long: at most 10,000 hours"),
        ("1" * 10**6 + "m", f"a duration of 1,000,001 characters is too long: {EXAMPLES}"),
    ],
)
def test_parse_minutes_refuses_what_is_no_whole_positive_bounded_duration(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_minutes(text)
    assert message in str(refused.value)
    assert len(str(refused.value)) < 200, "the message quotes no unbounded input"


def test_a_caller_may_bound_a_duration_tighter() -> None:
    assert parse_minutes("2000h", most_hours=2000) == 120_000
    with pytest.raises(ValueError, match="'2000h 1m' is too long: at most 2,000 hours"):
        parse_minutes("2000h 1m", most_hours=2000)


@pytest.mark.parametrize(
    ("minutes", "shown"), [(0, "0:00"), (5, "0:05"), (60, "1:00"), (725, "12:05"), (1440, "24:00"), (-90, "-1:30")]
)
def test_tables_show_hours_and_minutes(minutes: int, shown: str) -> None:
    assert hours_minutes(minutes) == shown


@pytest.mark.parametrize(
    ("duration", "said"),
    [
        (timedelta(hours=3, minutes=30), "3h 30m"),
        (timedelta(minutes=45), "45m"),
        (timedelta(0), "0m"),
        (timedelta(hours=4), "4h 00m"),
        (timedelta(hours=3, minutes=5), "3h 05m"),
        (timedelta(hours=25), "25h 00m"),  # no days: a day of open time is no 24 hours
        (timedelta(minutes=7, seconds=59), "7m"),
        (timedelta(minutes=-70), "-1h 10m"),
    ],
)
def test_sentences_say_hours_and_minutes_in_words(duration: timedelta, said: str) -> None:
    assert words(duration) == said


@given(st.integers(min_value=1, max_value=MAX_HOURS * 60))
def test_what_a_table_or_a_sentence_prints_reads_back_as_the_same_minutes(minutes: int) -> None:
    assert parse_minutes(hours_minutes(minutes)) == minutes
    assert parse_minutes(words(timedelta(minutes=minutes))) == minutes


# --- through the CLI: one text, one time, wherever it is read ------------------------------------------


def test_one_text_is_one_time_in_a_rules_yaml_target_sla_within_and_log(desk: Path, run, new_ticket) -> None:
    rules = desk / "rules.yaml"
    standard_p1 = "P1: {response: 1h, resolution: 1 business day, callback: 1h}"
    text = rules.read_text(encoding="utf-8")
    assert text.count(standard_p1) == 1
    # in a YAML flow mapping a comma separates: a decimal comma is quoted
    dutch = "P1: {response: '1,5 uur', resolution: 2 werkdagen, callback: 1u30}"
    rules.write_text(text.replace(standard_p1, dutch), encoding="utf-8")
    ok(run("rules", "check"))
    ticket = new_ticket(impact="company", urgency="high")["id"]  # P1 on Monday 23 November 10:00
    clocks = {clock["clock"]: clock for clock in json.loads(ok(run("show", ticket, "--format", "json")))["clocks"]}
    assert (clocks["response"]["target"], clocks["response"]["due"]) == ("1,5 uur", "2026-11-23T11:30:00+01:00")
    assert clocks["resolution"]["due"] == "2026-11-25T10:00:00+01:00"  # two business days, Dutch words
    listed = json.loads(run("sla", "--within", "1u30", "--format", "json").stdout)
    assert [(row["clock"], row["left_minutes"]) for row in listed] == [("response", 90)]
    assert run("sla", "--within", "89 minuten").exit_code == 0
    queued = ok(run("queue")).splitlines()[2]
    assert "1:30 left" in queued and "14:00 left" in queued  # two business days of 7 open hours
    assert ok(run("log", ticket, "1,5 uur", "--note", "Herstart")) == f"{ticket}: logged 1:30 on 2026-11-23, covered\n"


@pytest.mark.parametrize(
    ("args", "hint", "problem"),
    [
        (["log", "{ticket}", "anderhalf uur", "--note", "Werk"], "DURATION", "'anderhalf uur' is not a duration"),
        (["log", "{ticket}", "1,33u", "--note", "Werk"], "DURATION", "'1,33u' is not a whole number of minutes"),
        (["sla", "--within", "1000000000h"], "--within", "'1000000000h' is too long: at most 10,000 hours"),
        (["sla", "--within", "0 min"], "--within", "'0 min' is no time at all"),
    ],
)
def test_a_duration_option_that_is_no_duration_is_a_usage_error_naming_the_option(
    desk: Path, run, new_ticket, args: list[str], hint: str, problem: str
) -> None:
    ticket = new_ticket()["id"]
    result = run(*(arg.format(ticket=ticket) for arg in args))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"Invalid value for {hint}: {problem}" in result.stderr
    assert EXAMPLES in result.stderr or "too long" in problem or "no time" in problem


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("'1,01 uur'", f"'1,01 uur' is not a whole number of minutes: {EXAMPLES}"),
        ("3000h", "'3000h' is too long: at most 2,000 hours"),
        ("anderhalf uur", "'anderhalf uur' is not a target: write e.g. 30m, 4h, 1h30m, 1u30, 1,5 uur or 2 business"),
        (
            "1:30",
            "'90' is not a target: write e.g. 30m, 4h, 1h30m, 1u30, 1,5 uur or 2 business days (2 werkdagen), "
            "more than zero (quote a time such as '1:30': YAML reads it unquoted as a number)",
        ),
    ],
)
def test_rules_check_names_a_target_that_is_no_duration_at_its_line(
    desk: Path, run, written: str, problem: str
) -> None:
    rules = desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    standard_p1 = "P1: {response: 1h, resolution: 1 business day"
    assert text.count(standard_p1) == 1
    rules.write_text(text.replace(standard_p1, f"P1: {{response: {written}, resolution: 1 business day"), "utf-8")
    line = next(number for number, found in enumerate(text.splitlines(), 1) if standard_p1 in found)
    result = run("rules", "check")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"desk/rules.yaml:{line}:" in result.stdout
    assert f"plans.standard.targets.P1.response: {problem}" in result.stdout
