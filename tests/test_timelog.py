"""Time registration, the monthly time report and satisfaction surveys, against the example desk's rules.yaml.

The example desk: zonnebloem (plan standard, billing invoice), fod-digitaal
(plan managed-services, billing sla-hours, 16 included hours a month = 960
minutes), vandijk (plan 24x7, billing sla-hours, 8 included hours = 480
minutes), brightwave (standard, invoice). Covered work of an sla-hours
customer fills the month's included hours in the order the work was done
(its `on` date, then when it was logged); the rest is surplus. To invoice =
surplus + billable. Every expected figure below is computed by hand in the
comments next to it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sdesk.actions import workflow
from sdesk.errors import Refused
from sdesk.formats import yamlio
from sdesk.policy import rules
from sdesk.service import satisfaction, timelog
from sdesk.tickets.model import Event, Ticket
from sdesk.website import dashboard
from tests.conftest import AGENT, REPO, ok

FOD = {
    "customer": "fod-digitaal",
    "requester": "pieter.janssens@fod-dt.example",
    "product": "web-platform",
    "site": "4711",
}
VANDIJK = {
    "customer": "vandijk",
    "requester": "m.devries@vandijk.example",
    "product": "warehouse-network",  # routed to the noc team
    "site": "3001",
    "title": "Netwerk magazijn Tilburg valt weg",
    "description": "Het netwerk in het magazijn valt om het uur enkele minuten weg.",
}
BRIGHTWAVE = {
    "customer": "brightwave",
    "requester": "olivia.hughes@brightwave.example",
    "product": "care-dossier",
    "site": "5001",
    "title": "Care dossier does not open",
    "description": "The care dossier of resident 12 does not open.",
}
PRINTER = {  # the hardware exclusion: 'printer' in the text; opened with --accept-costs
    "title": "Printer op campus Brugge drukt niet af",
    "description": "De printer in de verpleegpost drukt geen etiketten meer af.",
}
OTHER_AGENT = "bram@caresolutions.example"
ASSIGNEE = "anna@caresolutions.example"


# --- helpers -----------------------------------------------------------------------------


def refused(result) -> str:
    """A refusal: exit 1 and one line `Error: …` on stderr; returns the line."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return str(lines[0])


def bad_usage(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return str(result.stderr)


def show_json(run, ticket_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(run("show", ticket_id, "--format", "json")))
    return data


def events(run, ticket_id: str, kind: str) -> list[dict[str, Any]]:
    return [event for event in show_json(run, ticket_id)["history"] if event["event"] == kind]


def log(run, ticket_id: str, duration: str, *options: str) -> dict[str, Any]:
    """Log time through the CLI (with a note unless given) and return the new time event."""
    if "--note" not in options:
        options = (*options, "--note", "Werk")
    shown = json.loads(ok(run("log", ticket_id, duration, *options, "--format", "json")))
    entry: dict[str, Any] = shown["history"][-1]
    assert entry["event"] == "time"
    return entry


def report_time(run, *args: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(ok(run("report", "time", *args, "--format", "json")))
    return data


def table_rows(table: str) -> list[dict[str, str]]:
    """A printed table as one dict per row, cut at the columns the dashed rule under the header marks."""
    header, rule, *body = table.splitlines()
    spans = [(dashes.start(), dashes.end()) for dashes in re.finditer(r"-+", rule)]
    names = [header[start:end].strip() for start, end in spans]
    return [{name: line[start:end].strip() for name, (start, end) in zip(names, spans, strict=True)} for line in body]


def figures(row: dict[str, Any]) -> dict[str, Any]:
    """The minutes of a report row, named briefly."""
    return {
        "logged": row["logged_minutes"],
        "covered": row["covered_minutes"],
        "budget": row["included_budget_minutes"],
        "included": row["included_minutes"],
        "surplus": row["surplus_minutes"],
        "billable": row["billable_minutes"],
        "invoice": row["invoice_minutes"],
    }


def minutes(logged, covered, budget, included, surplus, billable, invoice) -> dict[str, Any]:
    return {
        "logged": logged,
        "covered": covered,
        "budget": budget,
        "included": included,
        "surplus": surplus,
        "billable": billable,
        "invoice": invoice,
    }


def use_included_billing_for_brightwave(desk: Path) -> None:
    path = desk / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    old = "    language: en\n    plan: standard\n    billing: invoice\n"
    assert text.count(old) == 1
    path.write_text(
        text.replace(old, "    language: en\n    plan: standard\n    billing: included\n"), encoding="utf-8"
    )


# --- pure: the month report --------------------------------------------------------------


@pytest.fixture(scope="module")
def example_rules() -> rules.Rules:
    return rules.parse(yamlio.load((REPO / "rules.yaml").read_text(encoding="utf-8"), REPO / "rules.yaml"))


def ticket(ticket_id: str, customer: str, *entries: tuple[str, str, int, str]) -> Ticket:
    """A ticket with time entries (logged at, on, minutes, billing); 'logged at' is Brussels winter time."""
    made = Ticket(
        id=ticket_id,
        title=f"Ticket {ticket_id}",
        type="incident",
        status="open",
        priority="P3",
        customer=customer,
        requester="someone@example.org",
        team="servicedesk",
        created=datetime.fromisoformat("2026-10-01T09:00:00+02:00"),
    )
    made.history.append(Event(made.created, AGENT, "created"))
    for logged, on, count, billing in entries:
        moment = datetime.fromisoformat(logged if "+" in logged else logged.replace(" ", "T") + ":00+01:00")
        made.history.append(
            Event(moment, AGENT, "time", on=date.fromisoformat(on), minutes=count, billing=billing, text="Werk")
        )
    return made


def month_rows(example_rules, tickets: list[Ticket], month: str, by_ticket: bool = True) -> list[dict[str, Any]]:
    months = timelog.month_report(timelog.entries(tickets), example_rules, month)
    return timelog.rows(months, month, by_ticket)


def by_key(found: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["level"], row["id"] or row["customer"]): figures(row) for row in found}


def test_the_budget_runs_out_inside_one_entry_which_is_split_between_included_and_surplus(example_rules):
    # fod-digitaal: 960 included minutes. A: 600 on 11-02 (600 used); B: 500 on 11-03: 360 still included
    # (960 - 600), 140 surplus (500 - 360); A again: 30 on 11-04, all surplus.
    first = ticket("A", "fod-digitaal", ("2026-11-02 17:00", "2026-11-02", 600, "covered"))
    second = ticket("B", "fod-digitaal", ("2026-11-03 17:00", "2026-11-03", 500, "covered"))
    first.history.append(
        Event(
            datetime.fromisoformat("2026-11-04T17:00:00+01:00"),
            AGENT,
            "time",
            on=date(2026, 11, 4),
            minutes=30,
            billing="covered",
        )
    )
    found = by_key(month_rows(example_rules, [first, second], "2026-11"))
    assert found == {
        # A: 600 + 30 = 630 covered, 600 included, 30 surplus
        ("ticket", "A"): minutes(630, 630, None, 600, 30, 0, 30),
        # B: 500 covered, 360 included, 140 surplus
        ("ticket", "B"): minutes(500, 500, None, 360, 140, 0, 140),
        # 1130 covered = 960 included + 170 surplus (140 + 30)
        ("customer", "fod-digitaal"): minutes(1130, 1130, 960, 960, 170, 0, 170),
        ("total", "total"): minutes(1130, 1130, None, 960, 170, 0, 170),
    }


def test_an_entry_that_exactly_fills_the_budget_leaves_no_surplus_and_the_next_minute_is_surplus(example_rules):
    # vandijk (24x7): 480 included minutes. 420 + 60 = 480 exactly: no surplus. Then 1 minute: surplus.
    exact = ticket(
        "V",
        "vandijk",
        ("2026-11-02 12:00", "2026-11-02", 420, "covered"),
        ("2026-11-02 17:00", "2026-11-02", 60, "covered"),
    )
    found = by_key(month_rows(example_rules, [exact], "2026-11"))
    assert found[("customer", "vandijk")] == minutes(480, 480, 480, 480, 0, 0, 0)
    exact.history.append(
        Event(
            datetime.fromisoformat("2026-11-03T09:00:00+01:00"),
            AGENT,
            "time",
            on=date(2026, 11, 3),
            minutes=1,
            billing="covered",
        )
    )
    found = by_key(month_rows(example_rules, [exact], "2026-11"))
    assert found[("customer", "vandijk")] == minutes(481, 481, 480, 480, 1, 0, 1)


def test_covered_work_fills_the_budget_by_work_date_then_by_when_it_was_logged(example_rules):
    # fod-digitaal, 960 included. Logged in this order: L1 on 11-20 (600, logged 11-20), L2 on 11-10
    # (600, logged 11-23: after the fact), L3 on 11-10 (300, logged 11-10 18:00), L4 on 11-10 (100, logged
    # 11-10 17:00). Work order: 11-10 logged 17:00 (L4, 100) -> 100 used; 11-10 18:00 (L3, 300) -> 400;
    # 11-10 logged 11-23 (L2, 600) -> 560 included, 40 surplus; 11-20 (L1, 600) -> all surplus.
    tickets = [
        ticket("L1", "fod-digitaal", ("2026-11-20 17:00", "2026-11-20", 600, "covered")),
        ticket("L2", "fod-digitaal", ("2026-11-23 09:00", "2026-11-10", 600, "covered")),
        ticket("L3", "fod-digitaal", ("2026-11-10 18:00", "2026-11-10", 300, "covered")),
        ticket("L4", "fod-digitaal", ("2026-11-10 17:00", "2026-11-10", 100, "covered")),
    ]
    found = by_key(month_rows(example_rules, tickets, "2026-11"))
    assert found[("ticket", "L4")]["included"] == 100
    assert found[("ticket", "L3")]["included"] == 300
    assert (found[("ticket", "L2")]["included"], found[("ticket", "L2")]["surplus"]) == (560, 40)
    assert (found[("ticket", "L1")]["included"], found[("ticket", "L1")]["surplus"]) == (0, 600)
    # 1600 covered = 960 included + 640 surplus (40 + 600)
    assert found[("customer", "fod-digitaal")] == minutes(1600, 1600, 960, 960, 640, 0, 640)


def test_billable_work_uses_no_budget_and_other_months_neither_count_nor_use_it(example_rules):
    # fod-digitaal. October: 900 covered on 10-30 (its own month's budget). November: 120 billable on 11-02,
    # 900 covered on 11-03, 100 covered on 11-04 (60 still included, 40 surplus). December: 500 on 12-01.
    work = ticket(
        "F",
        "fod-digitaal",
        ("2026-10-30 17:00", "2026-10-30", 900, "covered"),
        ("2026-11-02 17:00", "2026-11-02", 120, "billable"),
        ("2026-11-03 17:00", "2026-11-03", 900, "covered"),
        ("2026-11-04 17:00", "2026-11-04", 100, "covered"),
        ("2026-12-01 17:00", "2026-12-01", 500, "covered"),
    )
    november = month_rows(example_rules, [work], "2026-11", by_ticket=False)
    # logged 120 + 900 + 100 = 1120; covered 1000; included 960; surplus 40; invoice 40 + 120 = 160
    assert [figures(row) for row in november] == [
        minutes(1120, 1000, 960, 960, 40, 120, 160),
        minutes(1120, 1000, None, 960, 40, 120, 160),
    ]
    assert november[0]["invoice_hours"] == 2.67  # 160 / 60 = 2.666...
    october = month_rows(example_rules, [work], "2026-10", by_ticket=False)
    assert figures(october[0]) == minutes(900, 900, 960, 900, 0, 0, 0)
    december = month_rows(example_rules, [work], "2026-12", by_ticket=False)
    assert figures(december[0]) == minutes(500, 500, 960, 500, 0, 0, 0)
    assert month_rows(example_rules, [work], "2027-01") == []


def test_an_invoice_customer_has_no_budget_and_no_surplus_however_much_is_covered(example_rules):
    # zonnebloem (invoice): 1440 + 1440 covered (48h: far beyond any plan's hours) and 90 billable.
    work = ticket(
        "Z",
        "zonnebloem",
        ("2026-11-02 18:00", "2026-11-02", 1440, "covered"),
        ("2026-11-03 18:00", "2026-11-03", 1440, "covered"),
        ("2026-11-04 18:00", "2026-11-04", 90, "billable"),
    )
    found = month_rows(example_rules, [work], "2026-11")
    # logged 2970 = 2880 covered + 90 billable; invoice = 0 surplus + 90 billable
    assert [(row["level"], figures(row)) for row in found] == [
        ("ticket", minutes(2970, 2880, None, 0, 0, 90, 90)),
        ("customer", minutes(2970, 2880, None, 0, 0, 90, 90)),
        ("total", minutes(2970, 2880, None, 0, 0, 90, 90)),
    ]
    assert found[1]["billing"] == "invoice"
    assert found[1]["invoice_hours"] == 1.5
    assert (found[1]["included"], found[1]["surplus"]) == ("", "")  # nothing to show


def test_rows_per_ticket_add_up_to_their_customer_and_customers_to_the_total(example_rules):
    # zonnebloem Z1 200 covered, Z2 50 billable; fod F1 700 covered, F2 400 covered (budget 960:
    # F1 700 included, F2 260 included + 140 surplus) and F2 30 billable.
    tickets = [
        ticket("Z1", "zonnebloem", ("2026-11-05 10:00", "2026-11-05", 200, "covered")),
        ticket("F1", "fod-digitaal", ("2026-11-02 10:00", "2026-11-02", 700, "covered")),
        ticket(
            "F2",
            "fod-digitaal",
            ("2026-11-03 10:00", "2026-11-03", 400, "covered"),
            ("2026-11-03 11:00", "2026-11-03", 30, "billable"),
        ),
        ticket("Z2", "zonnebloem", ("2026-11-06 10:00", "2026-11-06", 50, "billable")),
    ]
    found = month_rows(example_rules, tickets, "2026-11")
    assert set(timelog.FIELDS) <= set(found[0])
    # customers in rules.yaml order (zonnebloem before fod-digitaal), each after its ticket rows, then the total
    assert [(row["level"], row["customer"], row["id"]) for row in found] == [
        ("ticket", "zonnebloem", "Z1"),
        ("ticket", "zonnebloem", "Z2"),
        ("customer", "zonnebloem", None),
        ("ticket", "fod-digitaal", "F1"),
        ("ticket", "fod-digitaal", "F2"),
        ("customer", "fod-digitaal", None),
        ("total", "total", None),
    ]
    assert [figures(row) for row in found] == [
        minutes(200, 200, None, 0, 0, 0, 0),
        minutes(50, 0, None, 0, 0, 50, 50),
        minutes(250, 200, None, 0, 0, 50, 50),
        minutes(700, 700, None, 700, 0, 0, 0),
        minutes(430, 400, None, 260, 140, 30, 170),
        minutes(1130, 1100, 960, 960, 140, 30, 170),
        # 250 + 1130 = 1380 logged; 200 + 1100 = 1300 covered; 50 + 30 = 80 billable; 0 + 170 = 170 invoice
        minutes(1380, 1300, None, 960, 140, 80, 220),
    ]
    names = ("logged_minutes", "covered_minutes", "included_minutes", "surplus_minutes", "billable_minutes")
    for customer in ("zonnebloem", "fod-digitaal"):
        parts = [row for row in found if row["level"] == "ticket" and row["customer"] == customer]
        whole = next(row for row in found if row["level"] == "customer" and row["customer"] == customer)
        for name in (*names, "invoice_minutes"):
            assert sum(row[name] for row in parts) == whole[name]
    total = found[-1]
    customers = [row for row in found if row["level"] == "customer"]
    for name in (*names, "invoice_minutes"):
        assert sum(row[name] for row in customers) == total[name]
    assert [row["title"] for row in found[:2]] == ["Ticket Z1", "Ticket Z2"]
    assert found[5]["included"] == "16:00/16:00"  # used of the budget, for people


def test_month_report_of_no_entries_has_no_rows(example_rules):
    assert month_rows(example_rules, [], "2026-11") == []


def test_the_budget_follows_the_real_moment_of_logging_across_the_end_of_summer_time(example_rules):
    # fod-digitaal, both entries on 2026-10-24. A: 900 logged at 02:30+02:00 (00:30 UTC) on 25 October;
    # B: 120 logged at 02:10+01:00 (01:10 UTC), 40 minutes later. A comes first: 900 included;
    # B: 60 included (960 - 900), 60 surplus.
    first = ticket("A", "fod-digitaal", ("2026-10-25T02:30:00+02:00", "2026-10-24", 900, "covered"))
    later = ticket("B", "fod-digitaal", ("2026-10-25T02:10:00+01:00", "2026-10-24", 120, "covered"))
    found = by_key(month_rows(example_rules, [first, later], "2026-10"))
    assert found[("ticket", "A")] == minutes(900, 900, None, 900, 0, 0, 0)
    assert found[("ticket", "B")] == minutes(120, 120, None, 60, 60, 0, 60)


def test_default_billing_follows_the_contract_and_the_ticket_exclusions(example_rules):
    covered = ticket("C", "zonnebloem")
    excluded = ticket("X", "zonnebloem")
    excluded.exclusions = ("hardware",)
    zonnebloem = example_rules.customers["zonnebloem"]
    assert timelog.default_billing(covered, zonnebloem)[0] == "covered"
    assert timelog.default_billing(excluded, zonnebloem)[0] == "billable"
    included = msgspec.structs.replace(zonnebloem, billing="included")
    assert timelog.default_billing(excluded, included)[0] == "covered"
    assert timelog.default_billing(covered, included)[0] == "covered"
    plans = example_rules.plans  # on site: remote-only (standard), billable (24x7), covered (managed services)
    assert timelog.default_billing(covered, zonnebloem, plans["standard"], on_site=False)[0] == "covered"
    assert timelog.default_billing(covered, included, plans["24x7"], on_site=True) == (
        "billable",
        "on-site work is billed on plan 24x7 (on_site: billable)",
    )
    assert timelog.default_billing(covered, zonnebloem, plans["managed-services"], on_site=True)[0] == "covered"


def test_log_time_refuses_days_in_the_future_or_before_the_ticket_was_opened(example_rules):
    work = ticket("W", "zonnebloem")  # opened 2026-10-01 09:00 (summer time)
    now = datetime.fromisoformat("2026-11-05T10:00:00+01:00")
    event = workflow.log_time(work, example_rules, 30, "Werk", AGENT, now, date(2026, 10, 1))
    assert (event.kind, event.on, event.minutes, event.billing, event.text) == (
        "time",
        date(2026, 10, 1),
        30,
        "covered",
        "Werk",
    )
    assert workflow.log_time(work, example_rules, 30, "Werk", AGENT, now).on == date(2026, 11, 5)
    with pytest.raises(Refused, match="future"):
        workflow.log_time(work, example_rules, 30, "Werk", AGENT, now, date(2026, 11, 6))
    with pytest.raises(Refused, match="before"):
        workflow.log_time(work, example_rules, 30, "Werk", AGENT, now, date(2026, 9, 30))
    with pytest.raises(Refused, match="note"):
        workflow.log_time(work, example_rules, 30, "  ", AGENT, now)
    # 23:30 UTC on 5 November is already 6 November in Brussels: that day is today, not the future
    late = datetime.fromisoformat("2026-11-05T23:30:00+00:00")
    assert workflow.log_time(work, example_rules, 30, "Werk", AGENT, late, date(2026, 11, 6)).on == date(2026, 11, 6)


# --- sdesk log ---------------------------------------------------------------------------


def test_log_accepts_each_way_of_writing_a_duration(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    written = {"45m": 45, "1h30m": 90, "1.5h": 90, "1,5u": 90, "1:30": 90, "2 h": 120, "24h": 1440}
    for duration, expected in written.items():
        entry = log(run, ticket_id, duration, "--note", f"Werk ({duration})")
        assert (entry["minutes"], entry["text"]) == (expected, f"Werk ({duration})")
        assert isinstance(entry["minutes"], int)
    assert len(events(run, ticket_id, "time")) == len(written)


def test_log_refuses_a_duration_that_is_not_one_with_exit_2(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    problems = {
        "0m": "no time at all",
        "soon": "not a duration",
        "1.33h": "not a whole number of minutes",  # 79.8 minutes
        "24h1m": "more than a day",
        "25h": "more than a day",
        "24:01": "more than a day",
    }
    for duration, problem in problems.items():
        stderr = bad_usage(run("log", ticket_id, duration, "--note", "Werk"))
        assert "DURATION" in stderr and problem in stderr, duration
    assert events(run, ticket_id, "time") == []


def test_a_time_entry_is_a_time_event_with_day_minutes_class_note_and_agent(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]  # opened 2026-11-23 10:00 (the pinned clock)
    result = run("log", ticket_id, "1h30m", "--note", "Cache van het zorgdossier geleegd")
    assert ok(result) == f"{ticket_id}: logged 1:30 on 2026-11-23, covered\n"
    entry = events(run, ticket_id, "time")[-1]
    assert entry == {
        "at": "2026-11-23T10:00:00+01:00",
        "by": AGENT,
        "event": "time",
        "on": "2026-11-23",
        "minutes": 90,
        "billing": "covered",
        "text": "Cache van het zorgdossier geleegd",
    }
    # the ticket file itself carries it
    written = yamlio.load((desk / "tickets" / f"{ticket_id}.yaml").read_text(encoding="utf-8"), "ticket")
    stored = [event for event in written["history"] if event["event"] == "time"]
    assert len(stored) == 1
    assert (str(stored[0]["on"]), stored[0]["minutes"], stored[0]["billing"]) == ("2026-11-23", 90, "covered")


def test_the_note_is_required(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    stderr = bad_usage(run("log", ticket_id, "30m"))
    assert "--note" in stderr
    refused(run("log", ticket_id, "30m", "--note", "   "))
    assert events(run, ticket_id, "time") == []


def test_work_on_a_ticket_outside_the_contract_is_billable_by_default(desk, run, new_ticket):
    excluded = new_ticket("--accept-costs", **PRINTER)
    assert excluded["exclusions"] == ["hardware"]
    plain = new_ticket()
    assert log(run, excluded["id"], "45m")["billing"] == "billable"
    assert log(run, plain["id"], "45m")["billing"] == "covered"
    # the agent says otherwise
    assert log(run, excluded["id"], "15m", "--covered")["billing"] == "covered"
    assert log(run, plain["id"], "15m", "--billable")["billing"] == "billable"


def test_an_included_contract_covers_all_work_by_default_even_outside_the_contract(desk, run, new_ticket):
    use_included_billing_for_brightwave(desk)
    excluded = new_ticket("--accept-costs", **{**BRIGHTWAVE, **PRINTER})
    assert excluded["exclusions"] == ["hardware"]
    assert log(run, excluded["id"], "1h")["billing"] == "covered"
    assert log(run, excluded["id"], "30m", "--billable")["billing"] == "billable"
    # included: no budget and no surplus; only the billable 30 minutes are invoiced
    found = report_time(run, "--customer", "brightwave")
    assert [(row["level"], row["billing"], figures(row)) for row in found] == [
        ("customer", "included", minutes(90, 60, None, 0, 0, 30, 30)),
        ("total", None, minutes(90, 60, None, 0, 0, 30, 30)),
    ]


def test_log_on_a_day_in_the_future_or_before_the_ticket_was_opened_is_refused(desk, run, new_ticket, at):
    at("2026-11-05 10:00")
    ticket_id = new_ticket()["id"]
    at("2026-11-10 10:00")
    line = refused(run("log", ticket_id, "1h", "--note", "Werk", "--on", "2026-11-11"))
    assert "2026-11-11" in line and "future" in line
    line = refused(run("log", ticket_id, "1h", "--note", "Werk", "--on", "2026-11-04"))
    assert "2026-11-04" in line and "before" in line and "2026-11-05" in line
    stderr = bad_usage(run("log", ticket_id, "1h", "--note", "Werk", "--on", "5 november"))
    assert "--on" in stderr
    assert events(run, ticket_id, "time") == []
    # the first and the last allowed days
    assert log(run, ticket_id, "1h", "--on", "2026-11-05")["on"] == "2026-11-05"
    assert log(run, ticket_id, "1h", "--on", "2026-11-10")["on"] == "2026-11-10"
    assert log(run, ticket_id, "1h")["on"] == "2026-11-10"  # default: today


def test_today_is_the_desks_day_in_brussels(desk, run, new_ticket, at):
    at("2026-11-05 10:00")
    ticket_id = new_ticket()["id"]
    at("2026-11-05T23:30:00+00:00")  # 00:30 on 6 November in Brussels
    assert log(run, ticket_id, "30m")["on"] == "2026-11-06"
    assert log(run, ticket_id, "30m", "--on", "2026-11-06")["on"] == "2026-11-06"


def test_time_can_be_logged_on_a_closed_ticket(desk, run, new_ticket, at):
    at("2026-11-05 10:00")
    ticket_id = new_ticket()["id"]
    ok(run("close", ticket_id, "--resolution", "Cache geleegd"))
    at("2026-11-06 09:00")
    entry = log(run, ticket_id, "2h", "--on", "2026-11-05", "--note", "Analyse en oplossing")
    assert (entry["on"], entry["minutes"], entry["billing"]) == ("2026-11-05", 120, "covered")
    assert show_json(run, ticket_id)["status"] == "closed"


# --- corrections: sdesk log --correct ------------------------------------------------------


def test_a_correction_replaces_its_entry_in_show_and_in_every_total(desk, run, new_ticket, at):
    ticket_id = new_ticket()["id"]  # opened 2026-11-23 10:00
    log(run, ticket_id, "1h", "--note", "Analyse")  # entry #1, logged at 10:00
    at("2026-11-23 11:00")
    log(run, ticket_id, "30m", "--note", "Telefoon met de klant")  # #2
    at("2026-11-23 12:00")
    result = run("log", ticket_id, "30m", "--correct", "1", "--note", "De analyse duurde een halfuur")
    assert ok(result) == (
        f"{ticket_id}: time entry logged 2026-11-23 10:00+01:00 corrected to 0:30 on 2026-11-23, covered\n"
    )
    assert events(run, ticket_id, "time")[-1] == {
        "at": "2026-11-23T12:00:00+01:00",
        "by": AGENT,
        "event": "time",
        "on": "2026-11-23",
        "minutes": 30,
        "billing": "covered",
        "amends": "2026-11-23T10:00:00+01:00",
        "text": "De analyse duurde een halfuur",
    }
    written = (desk / "tickets" / f"{ticket_id}.yaml").read_text(encoding="utf-8")
    assert "  billing: covered\n  amends: 2026-11-23T10:00:00+01:00\n  text: De analyse" in written

    def totals() -> tuple[str, str, str, int, str]:
        table = ok(run("show", ticket_id))
        [logged] = re.findall(r"^Time logged +(.*)$", table, flags=re.MULTILINE)
        [customer, _] = report_time(run)
        [csv_row, _] = csv.DictReader(io.StringIO(ok(run("report", "time", "--format", "csv"))))
        return (
            table,
            logged,
            table_rows(ok(run("report", "time")))[0]["Logged"],
            customer["logged_minutes"],
            csv_row["logged_minutes"],
        )

    table, *figures_now = totals()
    assert figures_now == ["1:00 (1:00 covered)", "1:00", 60, "60"]
    assert "time entry #1: logged 1:00 on 2026-11-23, covered" in table
    assert "time entry #2: logged 0:30 on 2026-11-23, covered" in table
    assert "time entry #3: corrects #1: logged 0:30 on 2026-11-23, covered" in table

    at("2026-11-23 13:00")
    log(run, ticket_id, "45m", "--correct", "3", "--note", "Toch drie kwartier")  # #4: a correction corrected
    at("2026-11-23 14:00")
    result = run("log", ticket_id, "0", "--correct", "2", "--note", "Dubbel geboekt")  # #5: withdraws #2
    assert ok(result) == f"{ticket_id}: time entry logged 2026-11-23 11:00+01:00 withdrawn\n"
    table, *figures_now = totals()
    assert figures_now == ["0:45 (0:45 covered)", "0:45", 45, "45"]
    assert "time entry #4: corrects #3: logged 0:45 on 2026-11-23, covered" in table
    assert "time entry #5: withdraws #2" in table
    assert events(run, ticket_id, "time")[-1]["minutes"] == 0
    ok(run("check"))


def test_a_correction_names_one_existing_entry_and_only_a_correction_may_be_zero(desk, run, new_ticket, at):
    ticket_id = new_ticket()["id"]
    log(run, ticket_id, "1h")
    line = refused(run("log", ticket_id, "30m", "--correct", "2", "--note", "Werk"))
    assert f"{ticket_id} has no time entry #2" in line and "#1" in line
    line = refused(run("log", ticket_id, "0", "--note", "Niets"))
    assert "0" in line and "--correct N" in line
    log(run, ticket_id, "15m")  # #2, logged at the very same moment as #1 (the clock is pinned)
    line = refused(run("log", ticket_id, "30m", "--correct", "1", "--note", "Werk"))
    assert "#1" in line and "#2" in line and "same moment" in line
    assert [entry["minutes"] for entry in events(run, ticket_id, "time")] == [60, 15]


def test_a_correction_keeps_the_day_and_class_of_its_entry_unless_told_otherwise(desk, run, new_ticket, at):
    at("2026-11-05 10:00")
    ticket_id = new_ticket()["id"]
    at("2026-11-10 10:00")
    log(run, ticket_id, "2h", "--on", "2026-11-06", "--billable")
    at("2026-11-10 11:00")
    entry = log(run, ticket_id, "1h", "--correct", "1")
    assert (entry["on"], entry["billing"], entry["minutes"]) == ("2026-11-06", "billable", 60)
    at("2026-11-10 12:00")
    entry = log(run, ticket_id, "1h", "--correct", "1", "--on", "2026-11-07", "--covered")
    assert (entry["on"], entry["billing"]) == ("2026-11-07", "covered")
    line = refused(run("log", ticket_id, "1h", "--correct", "1", "--on", "2026-11-04", "--note", "Werk"))
    assert "before" in line


def test_on_site_work_is_recorded_per_entry_and_billed_as_the_plan_says(desk, run, new_ticket, at):
    at("2026-11-23 10:00")
    remote_only = new_ticket()["id"]  # zonnebloem, plan standard: remote only (seed 004)
    call_out = new_ticket(**VANDIJK)["id"]  # plan 24x7: on site when remote fails, billed (seed 002)
    managed = new_ticket(**FOD)["id"]  # plan managed-services: on site is covered
    at("2026-11-23 16:00")
    remote = log(run, remote_only, "30m")
    assert (remote["billing"], "on_site" in remote) == ("covered", False)
    line = refused(run("log", remote_only, "2h", "--on-site", "--note", "Printer vervangen"))
    assert line == (
        "Error: zonnebloem's plan standard is remote only (rules.yaml plans.standard.on_site): "
        "log on-site work agreed as an exception with --billable"
    )
    exception = log(run, remote_only, "2h", "--on-site", "--billable", "--note", "Na overleg ter plaatse")
    assert (exception["on_site"], exception["billing"]) == (True, "billable")
    assert "time entry #2: logged 2:00 on 2026-11-23, on site, billable" in ok(run("show", remote_only))
    visit = log(run, call_out, "1h30m", "--on-site")
    assert (visit["on_site"], visit["billing"]) == (True, "billable")
    at("2026-11-23 16:10")
    assert log(run, call_out, "45m", "--remote")["billing"] == "covered"
    assert log(run, managed, "1h", "--on-site")["billing"] == "covered"
    # a correction keeps its entry's place unless told otherwise
    at("2026-11-23 16:30")
    corrected = log(run, call_out, "2h", "--correct", "1")
    assert (corrected["on_site"], corrected["billing"]) == (True, "billable")
    moved = log(run, call_out, "2h", "--correct", "1", "--remote", "--covered")
    assert ("on_site" in moved, moved["billing"]) == (False, "covered")
    rows = {row["customer"]: row for row in report_time(run, "--month", "2026-11") if row["level"] == "customer"}
    assert (rows["zonnebloem"]["on_site_minutes"], rows["zonnebloem"]["billable_minutes"]) == (120, 120)
    assert (rows["vandijk"]["on_site_minutes"], rows["fod-digitaal"]["on_site_minutes"]) == (0, 60)


def test_a_timer_logs_on_site_work_when_stopped_with_on_site(desk, run, new_ticket, at):
    at("2026-11-23 10:00")
    ticket_id = new_ticket(**VANDIJK)["id"]
    ok(run("log", ticket_id, "--start"))
    at("2026-11-23 11:00")
    ok(run("log", ticket_id, "--stop", "--on-site", "--note", "Access point vervangen"))
    entry = events(run, ticket_id, "time")[-1]
    assert (entry["minutes"], entry["on_site"], entry["billing"]) == (60, True, "billable")


def test_check_reports_an_amends_that_names_no_earlier_time_entry(desk, run, new_ticket, at):
    ticket_id = new_ticket()["id"]
    log(run, ticket_id, "1h")
    at("2026-11-23 11:00")
    log(run, ticket_id, "30m", "--correct", "1")
    path = desk / "tickets" / f"{ticket_id}.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "amends: 2026-11-23T10:00:00+01:00", "amends: 2026-11-23T09:00:00+01:00"
    )
    path.write_text(text, encoding="utf-8")
    result = run("check")
    assert result.exit_code == 1
    line = text.splitlines().index("  amends: 2026-11-23T09:00:00+01:00") + 1
    assert (
        f"tickets/{ticket_id}.yaml:{line}:3: history.2.amends: "
        "names no earlier time entry (none was logged at 2026-11-23T09:00:00+01:00)"
    ) in result.stdout


def test_every_total_counts_the_latest_version_of_each_entry_and_keeps_its_place_in_the_budget(example_rules):
    # fod-digitaal, 960 included minutes. A's 600 (logged 11-02 10:00) is corrected to 700 on 11-04; B's 600
    # (logged 11-02 11:00) keeps its place after A: A 700 included; B 260 included, 340 surplus.
    first = ticket("A", "fod-digitaal", ("2026-11-02 10:00", "2026-11-02", 600, "covered"))
    second = ticket("B", "fod-digitaal", ("2026-11-02 11:00", "2026-11-02", 600, "covered"))
    logged = first.history[1]
    first.history.append(
        msgspec.structs.replace(
            logged, at=datetime.fromisoformat("2026-11-04T09:00:00+01:00"), minutes=700, amends=logged.at
        )
    )
    withdrawn = ticket("C", "fod-digitaal", ("2026-11-02 12:00", "2026-11-02", 60, "covered"))
    withdrawn.history.append(
        msgspec.structs.replace(
            withdrawn.history[1],
            at=datetime.fromisoformat("2026-11-03T09:00:00+01:00"),
            minutes=0,
            amends=withdrawn.history[1].at,
        )
    )
    tickets = [first, second, withdrawn]
    assert [(entry.ticket, entry.minutes) for entry in timelog.entries(tickets)] == [("A", 700), ("B", 600)]
    found = by_key(month_rows(example_rules, tickets, "2026-11"))
    assert found[("ticket", "A")] == minutes(700, 700, None, 700, 0, 0, 0)
    assert found[("ticket", "B")] == minutes(600, 600, None, 260, 340, 0, 340)
    assert ("ticket", "C") not in found
    collector = dashboard.Collector(example_rules, datetime.fromisoformat("2026-11-05T10:00:00+01:00"))
    for each in tickets:
        collector.add(each)
    assert [(row.customer, row.covered, row.billable) for row in collector.dashboard().time] == [
        ("fod-digitaal", 1300, 0)
    ]


# --- sdesk report time: the month of two customers -----------------------------------------


@pytest.fixture(scope="module")
def built_desks() -> dict[str, tuple[Path, dict[str, str], str]]:
    """Desks that take many commands to build, built once per module: the folder, the ticket IDs, the clock."""
    return {}


@pytest.fixture
def reuse(desk, monkeypatch, tmp_path_factory, built_desks):
    """build() a desk once; later tests get a copy of it, with its clock."""

    def once(name: str, build: Callable[[], dict[str, str]]) -> dict[str, str]:
        if name in built_desks:
            template, ids, now = built_desks[name]
            shutil.rmtree(desk)
            shutil.copytree(template, desk)
            monkeypatch.setenv("SDESK_NOW", now)
            return dict(ids)
        ids = build()
        template = tmp_path_factory.mktemp(name) / "desk"
        shutil.copytree(desk, template)
        built_desks[name] = (template, dict(ids), os.environ["SDESK_NOW"])
        return ids

    return once


@pytest.fixture
def month_of_work(reuse, run, new_ticket, at) -> dict[str, str]:
    return reuse("month_of_work", lambda: build_month_of_work(run, new_ticket, at))


def build_month_of_work(run, new_ticket, at) -> dict[str, str]:
    """A month of work for fod-digitaal (sla-hours, 960 included minutes) and zonnebloem (invoice).

    In November, by work day (minutes; * = logged after the fact):
      fod F1: 11-03 240, 11-05 60 billable, 11-10 90*, 11-12 300, 11-30 30* (logged 12-01)
      fod F2: 11-05 150, 11-20 360 (the budget runs out inside it), 11-27 45
      zonnebloem Z1: 11-04 120, 11-19 90*; Z2 (printer: billable by default): 11-18 75, 11-18 30 --covered
    Outside November: F1 10-30 180, Z1 10-30 60 and 10-31 45 (logged 11-02), F2 12-01 120, Z2 12-01 60.
    """
    at("2026-10-28 09:00")
    f1 = new_ticket(title="Publieksportaal geeft foutmelding 500", **FOD)["id"]
    f2 = new_ticket(title="Zoekfunctie intranet traag", **{**FOD, "site": "4712"})["id"]
    z1 = new_ticket()["id"]
    z2 = new_ticket("--accept-costs", **PRINTER)["id"]

    at("2026-10-30 16:00")
    log(run, f1, "3h", "--note", "Logbestanden nagekeken")  # October
    log(run, z1, "1h", "--note", "Dossier hersteld")  # October
    at("2026-11-02 09:00")
    log(run, z1, "45m", "--on", "2026-10-31", "--note", "Nazorg")  # logged in November, work in October
    at("2026-11-03 17:00")
    log(run, f1, "4h", "--note", "Foutmelding geanalyseerd")
    at("2026-11-04 11:00")
    log(run, z1, "2h", "--note", "Index herbouwd")
    at("2026-11-05 17:00")
    log(run, f2, "2h30m", "--note", "Zoekindex onderzocht")
    at("2026-11-05 17:30")
    log(run, f1, "1h", "--billable", "--note", "Extra rapport op vraag van de klant")
    at("2026-11-12 17:00")
    log(run, f1, "5h", "--note", "Webserver bijgewerkt")
    at("2026-11-18 15:00")
    log(run, z2, "1h15m", "--note", "Printer bekeken")
    at("2026-11-18 15:10")
    log(run, z2, "30m", "--covered", "--note", "Stuurprogramma in het zorgdossier ingesteld")
    at("2026-11-20 17:00")
    log(run, f2, "6h", "--note", "Zoekindex herbouwd")
    at("2026-11-23 10:00")
    log(run, f1, "1.5h", "--on", "2026-11-10", "--note", "Overleg met de leverancier")
    log(run, z1, "1,5u", "--on", "2026-11-19", "--note", "Opvolging")
    at("2026-11-27 17:00")
    log(run, f2, "45m", "--note", "Controle")
    ok(run("close", f2, "--resolution", "Zoekindex herbouwd"))
    at("2026-12-01 09:30")
    log(run, f1, "0:30", "--on", "2026-11-30", "--note", "Nazorg")  # logged in December, counts in November
    log(run, f2, "2h", "--note", "Nazorg na sluiting")  # December, on a closed ticket
    log(run, z2, "1h", "--note", "Printer vervangen")  # December
    return {"f1": f1, "f2": f2, "z1": z1, "z2": z2}


# fod-digitaal's November in work order, against 960 included minutes:
#   11-03 F1 240 -> 240 used; 11-05 F2 150 -> 390; 11-05 F1 60 billable (no budget);
#   11-10 F1 90 (logged 11-23, but worked 11-10) -> 480; 11-12 F1 300 -> 780;
#   11-20 F2 360 -> 180 included (960 - 780), 180 surplus; 11-27 F2 45 -> surplus; 11-30 F1 30 -> surplus.
# F1: covered 240 + 90 + 300 + 30 = 660, included 630, surplus 30, billable 60, logged 720, invoice 90
# F2: covered 150 + 360 + 45 = 555, included 150 + 180 = 330, surplus 180 + 45 = 225, invoice 225
# fod: covered 1215, included 960, surplus 255, billable 60, logged 1275, invoice 315 (5.25 h)
# zonnebloem (invoice): Z1 covered 120 + 90 = 210; Z2 covered 30, billable 75, logged 105
#   total covered 240, billable 75, logged 315, invoice 75 (1.25 h)
# all: logged 1275 + 315 = 1590, covered 1215 + 240 = 1455, included 960, surplus 255,
#   billable 60 + 75 = 135, invoice 315 + 75 = 390 (6.50 h)
NOVEMBER = {
    "f1": minutes(720, 660, None, 630, 30, 60, 90),
    "f2": minutes(555, 555, None, 330, 225, 0, 225),
    "fod-digitaal": minutes(1275, 1215, 960, 960, 255, 60, 315),
    "z1": minutes(210, 210, None, 0, 0, 0, 0),
    "z2": minutes(105, 30, None, 0, 0, 75, 75),
    "zonnebloem": minutes(315, 240, None, 0, 0, 75, 75),
    "total": minutes(1590, 1455, None, 960, 255, 135, 390),
}


def test_the_month_report_of_two_customers_on_different_plans_adds_up_to_the_minute(month_of_work, run):
    ids = month_of_work
    names = {ticket_id: key for key, ticket_id in ids.items()}
    found = report_time(run, "--month", "2026-11", "--by-ticket")

    # zonnebloem (first in rules.yaml) then fod-digitaal, each after its tickets, then the total
    assert [(row["level"], row["customer"]) for row in found] == [
        ("ticket", "zonnebloem"),
        ("ticket", "zonnebloem"),
        ("customer", "zonnebloem"),
        ("ticket", "fod-digitaal"),
        ("ticket", "fod-digitaal"),
        ("customer", "fod-digitaal"),
        ("total", "total"),
    ]
    assert {row["id"] for row in found[:2]} == {ids["z1"], ids["z2"]}
    assert {row["id"] for row in found[3:5]} == {ids["f1"], ids["f2"]}
    for row in found:
        assert list(row) == list(timelog.FIELDS)
        assert row["month"] == "2026-11"
        key = names[row["id"]] if row["level"] == "ticket" else row["customer"]
        assert figures(row) == NOVEMBER[key], key
    assert [row["invoice_hours"] for row in found if row["level"] != "ticket"] == [1.25, 5.25, 6.5]
    fod = found[5]
    assert (fod["customer_name"], fod["billing"]) == ("FOD Digitale Transformatie", "sla-hours")
    assert found[2]["billing"] == "invoice"

    # reconciliation with the entries themselves, read back from the tickets
    november = []
    for key, ticket_id in ids.items():
        shown = show_json(run, ticket_id)
        for event in shown["history"]:
            if event["event"] == "time" and event["on"].startswith("2026-11"):
                november.append((shown["customer"], key, event))
    assert len(november) == 12  # F1 5, F2 3, Z1 2, Z2 2 (see the fixture's docstring)
    total = found[-1]
    assert sum(event["minutes"] for _, _, event in november) == total["logged_minutes"] == 1590
    for customer in ("zonnebloem", "fod-digitaal"):
        row = next(row for row in found if row["level"] == "customer" and row["customer"] == customer)
        mine = [event for owner, _, event in november if owner == customer]
        assert sum(event["minutes"] for event in mine) == row["logged_minutes"]
        assert sum(event["minutes"] for event in mine if event["billing"] == "covered") == row["covered_minutes"]
        assert sum(event["minutes"] for event in mine if event["billing"] == "billable") == row["billable_minutes"]
        assert row["covered_minutes"] + row["billable_minutes"] == row["logged_minutes"]
        assert row["invoice_minutes"] == row["surplus_minutes"] + row["billable_minutes"]
        tickets = [item for item in found if item["level"] == "ticket" and item["customer"] == customer]
        for name in timelog.FIELDS:
            if name.endswith("_minutes") and name != "included_budget_minutes":
                assert sum(item[name] for item in tickets) == row[name], (customer, name)
    fod_row = found[5]
    assert fod_row["included_minutes"] + fod_row["surplus_minutes"] == fod_row["covered_minutes"]
    assert fod_row["included_minutes"] == fod_row["included_budget_minutes"] == 960
    for name in ("logged_minutes", "covered_minutes", "included_minutes", "surplus_minutes", "billable_minutes"):
        assert found[2][name] + found[5][name] == total[name]
    assert total["invoice_minutes"] == total["surplus_minutes"] + total["billable_minutes"]

    # the CSV: the same figures in the same columns, for a spreadsheet
    table = list(
        csv.DictReader(io.StringIO(ok(run("report", "time", "--month", "2026-11", "--by-ticket", "--format", "csv"))))
    )
    assert len(table) == len(found)
    for line, row in zip(table, found, strict=True):
        assert list(line) == list(timelog.FIELDS)
        assert line == {name: "" if value is None else str(value) for name, value in row.items()}


@pytest.mark.usefixtures("month_of_work")
def test_the_month_report_counts_work_in_the_month_it_was_done(run):
    # October: F1 180 on 10-30; Z1 60 on 10-30 and 45 on 10-31 (logged 2 November) = 105
    october = report_time(run, "--month", "2026-10")
    assert [(row["customer"], figures(row)) for row in october] == [
        ("zonnebloem", minutes(105, 105, None, 0, 0, 0, 0)),
        ("fod-digitaal", minutes(180, 180, 960, 180, 0, 0, 0)),
        ("total", minutes(285, 285, None, 180, 0, 0, 0)),
    ]
    # December (this month, the default): F2 120 covered (a new month: the budget is whole again),
    # Z2 60 billable by default (the printer)
    december = report_time(run)
    assert [(row["customer"], row["month"], figures(row)) for row in december] == [
        ("zonnebloem", "2026-12", minutes(60, 0, None, 0, 0, 60, 60)),
        ("fod-digitaal", "2026-12", minutes(120, 120, 960, 120, 0, 0, 0)),
        ("total", "2026-12", minutes(180, 120, None, 120, 0, 60, 60)),
    ]


@pytest.mark.usefixtures("month_of_work")
def test_the_month_report_filters_on_customer(run):
    found = report_time(run, "--month", "2026-11", "--customer", "fod-digitaal", "--by-ticket")
    assert [row["level"] for row in found] == ["ticket", "ticket", "customer", "total"]
    assert {row["customer"] for row in found[:3]} == {"fod-digitaal"}
    assert figures(found[2]) == NOVEMBER["fod-digitaal"]
    # the total is of what is shown: fod-digitaal alone
    assert figures(found[3]) == {**NOVEMBER["fod-digitaal"], "budget": None}
    both = report_time(run, "--month", "2026-11", "--customer", "zonnebloem", "--customer", "fod-digitaal")
    assert figures(both[-1]) == NOVEMBER["total"]
    assert report_time(run, "--month", "2026-11", "--customer", "vandijk") == []
    refused(run("report", "time", "--month", "2026-11", "--customer", "zonebloem"))


@pytest.mark.usefixtures("month_of_work")
def test_the_month_report_table_shows_hours_and_minutes(run):
    result = run("report", "time", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    assert result.stderr == "Time registered in 2026-11 (hours:minutes).\n"
    assert table_rows(result.stdout) == [
        # 315 = 5:15, 240 = 4:00, 75 = 1:15
        {
            "Customer": "zonnebloem",
            "Billing": "invoice",
            "On site": "",
            "Logged": "5:15",
            "Covered": "4:00",
            "Included": "",
            "Surplus": "",
            "Billable": "1:15",
            "Invoice": "1:15",
        },
        # 1275 = 21:15, 1215 = 20:15, 960 of 960 = 16:00/16:00, 255 = 4:15, 60 = 1:00, 315 = 5:15
        {
            "Customer": "fod-digitaal",
            "Billing": "sla-hours",
            "On site": "",
            "Logged": "21:15",
            "Covered": "20:15",
            "Included": "16:00/16:00",
            "Surplus": "4:15",
            "Billable": "1:00",
            "Invoice": "5:15",
        },
        # 1590 = 26:30, 1455 = 24:15, 960 = 16:00, 255 = 4:15, 135 = 2:15, 390 = 6:30
        {
            "Customer": "total",
            "Billing": "",
            "On site": "",
            "Logged": "26:30",
            "Covered": "24:15",
            "Included": "16:00",
            "Surplus": "4:15",
            "Billable": "2:15",
            "Invoice": "6:30",
        },
    ]


def test_the_month_report_of_a_month_without_work_says_so(desk, run, new_ticket):
    new_ticket()
    result = run("report", "time", "--month", "2026-11")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "No time registered in 2026-11.\n")
    assert report_time(run, "--month", "2026-11") == []
    assert bad_usage(run("report", "time", "--month", "2026-13"))
    assert bad_usage(run("report", "time", "--month", "11-2026"))


def test_the_budget_follows_the_moment_of_logging_in_the_night_summer_time_ends(desk, run, new_ticket, at):
    at("2026-10-20T10:00:00+02:00")
    first = new_ticket(title="Publieksportaal traag", **FOD)["id"]
    later = new_ticket(title="Intranet traag", **{**FOD, "site": "4712"})["id"]
    at("2026-10-25T00:30:00Z")  # 02:30 summer time in Brussels
    log(run, first, "15h", "--on", "2026-10-24")
    at("2026-10-25T01:10:00Z")  # 40 minutes later: 02:10 winter time
    log(run, later, "2h", "--on", "2026-10-24")
    at("2026-10-26 10:00")
    found = {row["id"]: figures(row) for row in report_time(run, "--month", "2026-10", "--by-ticket")}
    # first: 900 all included; later: 60 included (960 - 900), 60 surplus
    assert found[first] == minutes(900, 900, None, 900, 0, 0, 0)
    assert found[later] == minutes(120, 120, None, 60, 60, 0, 60)


# --- sdesk survey ------------------------------------------------------------------------


def test_a_survey_answer_is_recorded_once_on_a_closed_ticket(desk, run, new_ticket, at):
    at("2026-11-05 10:00")
    ticket_id = new_ticket()["id"]
    line = refused(run("survey", ticket_id, "4"))
    assert "closed" in line
    ok(run("close", ticket_id, "--resolution", "Cache geleegd"))
    for score in ("0", "6", "vijf"):
        bad_usage(run("survey", ticket_id, score))
    assert events(run, ticket_id, "survey") == []
    at("2026-11-06 14:00")
    ok(run("survey", ticket_id, "4", "--comment", "Snel opgelost, bedankt"))
    assert events(run, ticket_id, "survey") == [
        {
            "at": "2026-11-06T14:00:00+01:00",
            "by": AGENT,
            "event": "survey",
            "score": 4,
            "text": "Snel opgelost, bedankt",
        }
    ]
    at("2026-11-09 09:00")
    line = refused(run("survey", ticket_id, "2"))
    assert "2026-11-06" in line and "score 4" in line
    assert len(events(run, ticket_id, "survey")) == 1


def test_a_survey_without_comment_has_no_text_and_scores_1_and_5_are_allowed(desk, run, new_ticket):
    low, high = new_ticket()["id"], new_ticket()["id"]
    for ticket_id in (low, high):
        ok(run("close", ticket_id, "--resolution", "Opgelost"))
    ok(run("survey", low, "1"))
    ok(run("survey", high, "5"))
    assert [event.get("text", "none") for event in events(run, low, "survey")] == ["none"]
    assert (events(run, low, "survey")[0]["score"], events(run, high, "survey")[0]["score"]) == (1, 5)


def test_a_reopened_ticket_takes_no_second_answer(desk, run, new_ticket, at):
    at("2026-11-05 10:00")
    ticket_id = new_ticket()["id"]
    ok(run("close", ticket_id, "--resolution", "Opgelost"))
    ok(run("survey", ticket_id, "3"))
    ok(run("reopen", ticket_id, "--reason", "Het probleem is terug"))
    refused(run("survey", ticket_id, "5"))  # not closed
    ok(run("close", ticket_id, "--resolution", "Nu echt opgelost"))
    line = refused(run("survey", ticket_id, "5"))
    assert "2026-11-05" in line and "score 3" in line


# --- sdesk report csat -------------------------------------------------------------------


@pytest.fixture
def surveys(reuse, run, new_ticket, at) -> dict[str, str]:
    return reuse("surveys", lambda: build_surveys(run, new_ticket, at))


def build_surveys(run, new_ticket, at) -> dict[str, str]:
    """Seven tickets closed in November: six by an agent at least once (one survey each, at the first close),
    one by the sweep alone (none sent).

    T1 zonnebloem, assigned to Anna, closed 11-05 by the agent: 5
    T2 zonnebloem, unassigned, closed 11-10 by the agent: 2 ("Duurde te lang")
    T3 fod-digitaal, unassigned, closed 11-12 by Bram: no answer
    T4 vandijk (team noc), assigned to Anna, closed 11-20 by the agent: 4
    T5 zonnebloem, waiting for the customer from 11-02, auto-closed by the sweep 11-16 (an answer is refused)
    T6 brightwave, closed 11-03 (the survey), reopened 11-04, closed again 11-25 by the agent (no survey): 3
    T7 zonnebloem, closed 11-03 by the agent (the survey), reopened, waiting, auto-closed by the sweep 11-16
    """
    at("2026-11-02 09:00")
    t1, t2, t5, t7 = (new_ticket()["id"] for _ in range(4))
    t3 = new_ticket(title="Publieksportaal geeft foutmelding 500", **FOD)["id"]
    t4 = new_ticket(**VANDIJK)["id"]
    t6 = new_ticket(**BRIGHTWAVE)["id"]
    assert show_json(run, t4)["team"] == "noc"
    ok(run("update", t1, "--assignee", ASSIGNEE))
    ok(run("update", t4, "--assignee", ASSIGNEE))
    ok(run("update", t5, "--status", "waiting-for-customer"))
    at("2026-11-03 10:00")
    ok(run("close", t6, "--resolution", "Opgelost"))
    ok(run("close", t7, "--resolution", "Opgelost"))
    at("2026-11-04 10:00")
    ok(run("reopen", t6, "--reason", "Het probleem is terug"))
    ok(run("reopen", t7, "--reason", "Het probleem is terug"))
    ok(run("update", t7, "--status", "waiting-for-customer"))
    at("2026-11-05 10:00")
    ok(run("close", t1, "--resolution", "Opgelost"))
    ok(run("survey", t1, "5"))
    at("2026-11-10 10:00")
    ok(run("close", t2, "--resolution", "Opgelost"))
    ok(run("survey", t2, "2", "--comment", "Duurde te lang"))
    at("2026-11-12 10:00")
    ok(run("close", t3, "--resolution", "Opgelost", "--as", OTHER_AGENT))
    at("2026-11-16 10:00")  # T5 waited since 11-02, T7 since 11-04: both more than 5 working days
    ok(run("sweep"))
    for ticket_id in (t5, t7):
        assert show_json(run, ticket_id)["status"] == "closed"
        assert events(run, ticket_id, "auto-closed")
    refused = run("survey", t5, "4")  # no survey was sent for a ticket the sweep closed: no answer to record
    assert refused.exit_code == 1 and "no survey was sent" in refused.stderr
    at("2026-11-20 10:00")
    ok(run("close", t4, "--resolution", "Opgelost"))
    ok(run("survey", t4, "4"))
    at("2026-11-25 10:00")
    ok(run("close", t6, "--resolution", "Opgelost"))
    ok(run("survey", t6, "3"))
    for ticket_id in (t2, t3, t6):
        assert show_json(run, ticket_id)["assignee"] is None  # the agent is the one who closed it
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4, "t5": t5, "t6": t6, "t7": t7}


def csat(group, key, surveys, answers, rate, average, satisfied, *scores) -> dict[str, Any]:
    return {
        "group": group,
        "key": key,
        "surveys": surveys,
        "answers": answers,
        "response_rate": rate,
        "average": average,
        "satisfied": satisfied,
        **{f"score_{score}": scores[score - 1] for score in range(1, 6)},
    }


@pytest.mark.usefixtures("surveys")
def test_csat_counts_surveys_sent_by_an_agents_close_and_their_answers(run):
    found = json.loads(ok(run("report", "csat", "--format", "json")))
    assert found == [
        # brightwave: T6 (3)
        csat("customer", "brightwave", 1, 1, 100.0, 3.0, 0.0, 0, 0, 1, 0, 0),
        # fod-digitaal: T3 sent, not answered
        csat("customer", "fod-digitaal", 1, 0, 0.0, None, None, 0, 0, 0, 0, 0),
        # vandijk: T4 (4)
        csat("customer", "vandijk", 1, 1, 100.0, 4.0, 100.0, 0, 0, 0, 1, 0),
        # zonnebloem: T1 (5), T2 (2), T7 (its first close by an agent sent one; the sweep closed it at last),
        # not T5 (closed by the sweep only): 2 of 3 answered, average 7 / 2 = 3.5, satisfied 1 of 2
        csat("customer", "zonnebloem", 3, 2, 66.7, 3.5, 50.0, 0, 1, 0, 0, 1),
        # noc: T4
        csat("team", "noc", 1, 1, 100.0, 4.0, 100.0, 0, 0, 0, 1, 0),
        # servicedesk: T1 5, T2 2, T3 -, T6 3, T7 -: 3 of 5 = 60.0 %, average 10 / 3 = 3.33, satisfied 1 of 3
        csat("team", "servicedesk", 5, 3, 60.0, 3.33, 33.3, 0, 1, 1, 0, 1),
        # the agent who closed T2, T6 and T7 (unassigned): 2, 3 and -: average 2.5, none satisfied
        csat("agent", AGENT, 3, 2, 66.7, 2.5, 0.0, 0, 1, 1, 0, 0),
        # Anna (assignee of T1 and T4): 5 and 4: average 4.5, both satisfied
        csat("agent", ASSIGNEE, 2, 2, 100.0, 4.5, 100.0, 0, 0, 0, 1, 1),
        # Bram closed T3: no answer
        csat("agent", OTHER_AGENT, 1, 0, 0.0, None, None, 0, 0, 0, 0, 0),
        # all: 6 sent (T1, T2, T3, T4, T6, T7; one per ticket), 4 answers = 66.7 %; scores 5, 2, 4, 3: average
        # 14 / 4 = 3.5; satisfied: 5 and 4, 2 of 4 = 50.0 %
        csat("all", "all", 6, 4, 66.7, 3.5, 50.0, 0, 1, 1, 1, 1),
    ]
    assert (
        found[-1]["score_1"] + found[-1]["score_2"] + found[-1]["score_3"] + found[-1]["score_4"] + found[-1]["score_5"]
        == found[-1]["answers"]
    )


@pytest.mark.usefixtures("surveys")
def test_csat_filters_on_the_date_of_the_close_that_sent_the_survey(run):
    # 11-06 to 11-20 (both included): T2 (11-10, 2), T3 (11-12, -), T4 (11-20, 4).
    # T1 closed 11-05, and T6 and T7 first closed 11-03 (that close sent their survey), fall outside.
    found = json.loads(ok(run("report", "csat", "--from", "2026-11-06", "--to", "2026-11-20", "--format", "json")))
    # all: 3 sent, 2 answers = 66.7 %; average (2 + 4) / 2 = 3.0; satisfied 1 of 2 = 50.0 %
    assert found[-1] == csat("all", "all", 3, 2, 66.7, 3.0, 50.0, 0, 1, 0, 1, 0)
    assert [(row["group"], row["key"], row["surveys"], row["answers"]) for row in found[:-1]] == [
        ("customer", "fod-digitaal", 1, 0),
        ("customer", "vandijk", 1, 1),
        ("customer", "zonnebloem", 1, 1),
        ("team", "noc", 1, 1),
        ("team", "servicedesk", 2, 1),
        ("agent", AGENT, 1, 1),
        ("agent", ASSIGNEE, 1, 1),
        ("agent", OTHER_AGENT, 1, 0),
    ]
    # T6's second close on 11-25 sent no survey: nothing was sent after 11-20
    late = run("report", "csat", "--from", "2026-11-21")
    assert (late.exit_code, late.stdout, late.stderr) == (0, "", "No surveys sent in that period.\n")
    # up to 11-05: T1 (5), and T6 (3) and T7 (-), whose first close on 11-03 sent their survey
    early = json.loads(ok(run("report", "csat", "--to", "2026-11-05", "--format", "json")))
    assert early[-1] == csat("all", "all", 3, 2, 66.7, 4.0, 50.0, 0, 0, 1, 0, 1)
    result = run("report", "csat", "--from", "2026-12-01")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "No surveys sent in that period.\n")
    bad_usage(run("report", "csat", "--from", "2026-11-20", "--to", "2026-11-06"))


@pytest.mark.usefixtures("surveys")
def test_csat_csv_has_the_documented_columns(run):
    lines = list(csv.DictReader(io.StringIO(ok(run("report", "csat", "--format", "csv")))))
    assert list(lines[0]) == list(satisfaction.FIELDS)
    assert lines[-1] == {
        "group": "all",
        "key": "all",
        "surveys": "6",
        "answers": "4",
        "response_rate": "66.7",
        "average": "3.5",
        "satisfied": "50.0",
        "score_1": "0",
        "score_2": "1",
        "score_3": "1",
        "score_4": "1",
        "score_5": "1",
    }
    table = ok(run("report", "csat"))
    assert "zonnebloem" in table and "Traceback" not in table


def test_correcting_an_entry_to_remote_drops_the_on_site_billing(desk, run, new_ticket, at):
    """24x7 bills on-site work (on_site: billable); the same hour corrected to remote is covered work."""
    at("2026-11-23 10:00")
    ticket = new_ticket(**VANDIJK, contact_phone="+31 1")["id"]
    at("2026-11-23 10:01")
    ok(run("log", ticket, "1h", "--on-site", "--note", "Ter plaatse"))
    at("2026-11-23 10:02")
    corrected = ok(run("log", ticket, "1h", "--correct", "1", "--remote", "--note", "Was toch remote"))
    assert "covered" in corrected


def test_correcting_a_remote_entry_to_on_site_bills_it_on_a_billable_plan(desk, run, new_ticket, at):
    at("2026-11-23 10:00")
    ticket = new_ticket(**VANDIJK, contact_phone="+31 1")["id"]
    at("2026-11-23 10:01")
    ok(run("log", ticket, "1h", "--note", "Remote"))
    at("2026-11-23 10:02")
    corrected = ok(run("log", ticket, "1h", "--correct", "1", "--on-site", "--note", "Was ter plaatse"))
    assert "billable" in corrected


def test_an_on_site_entry_can_be_withdrawn_after_the_plan_became_remote_only(desk, run, new_ticket, at):
    edit_rules(desk, "on_site: remote-only", "on_site: covered  # for now")
    at("2026-11-23 10:00")
    ticket = new_ticket()["id"]
    at("2026-11-23 10:01")
    ok(run("log", ticket, "2h", "--on-site", "--note", "Ter plaatse"))
    edit_rules(desk, "on_site: covered  # for now", "on_site: remote-only")
    at("2026-11-23 10:02")
    withdrawn = run("log", ticket, "0", "--correct", "1", "--note", "Dubbel geboekt")
    assert withdrawn.exit_code == 0, withdrawn.stderr


def edit_rules(desk: Path, old: str, new: str) -> None:
    path = desk / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
