"""SLA clocks through the CLI, as a support lead checks them: show, priority, queue, sla, sweep, report.

Every date below is computed by hand on the example desk's office calendar:
weekdays 09:00-12:00 and 13:00-17:00 (7 open hours a day), Belgian public
holidays, closed on 24 and 31 December. 2026-11-23 is a Monday; "1 business
day" is 7 hours of open time, "5 business days" 35 hours. A target in business
days whose open time runs out exactly at a closing (12:00 or 17:00) falls due
at the next opening; an hour target is due at the closing itself. A clock is
late when the wall clock is past its due moment, not at the due moment itself.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AGENT, ok

TARGET_EXAMPLES = "write e.g. 30m, 4h, 1h30m, 1u30, 1,5 uur or 2 business days (2 werkdagen), more than zero"
P1 = {"impact": "company", "urgency": "high"}  # matrix company x high
FLEET_P1 = {  # Van Dijk's 24/7 contract: its P1 clocks run on the always-open calendar
    "title": "Telemetrie van de vloot valt weg",
    "customer": "vandijk",
    "requester": "m.devries@vandijk.example",
    "product": "fleet-telemetry",
    "site": "3001",
    **P1,
}
P2 = {"impact": "company", "urgency": "medium"}  # matrix company x medium
FOD = {
    "customer": "fod-digitaal",
    "requester": "pieter.janssens@fod-dt.example",
    "product": "web-platform",
    "site": "4711",
}  # managed-services: the default P3 is raised to P2


def clock_lines(run, ticket_id: str) -> list[str]:
    """The lines under "SLA clocks:" of `sdesk show`."""
    shown = ok(run("show", ticket_id))
    assert "Traceback" not in shown
    return shown.split("\nSLA clocks:\n", 1)[1].splitlines()


def show_json(run, ticket_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(run("show", ticket_id, "--format", "json")))
    return data


def clocks_by_name(run, ticket_id: str) -> dict[str, dict[str, Any]]:
    return {clock["clock"]: clock for clock in show_json(run, ticket_id)["clocks"]}


def snapshot(desk: Path) -> dict[str, bytes]:
    """Every file of the desk but its derived, git-ignored state (.sdesk/), byte for byte."""
    return {
        str(path.relative_to(desk)): path.read_bytes()
        for path in sorted(desk.rglob("*"))
        if path.is_file() and ".sdesk" not in path.relative_to(desk).parts
    }


def events(run, ticket_id: str, kind: str) -> list[dict[str, Any]]:
    return [event for event in show_json(run, ticket_id)["history"] if event["event"] == kind]


def break_rules(desk: Path, old: str, new: str) -> str:
    path = desk / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    broken = text.replace(old, new)
    path.write_text(broken, encoding="utf-8")
    return broken


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def table_rows(table: str) -> list[dict[str, str]]:
    """A printed table as one dict per row, cut at the columns the dashed rule under the header marks."""
    header, rule, *body = table.splitlines()
    spans = [(dashes.start(), dashes.end()) for dashes in re.finditer(r"-+", rule)]
    names = [header[start:end].strip() for start, end in spans]
    return [{name: line[start:end].strip() for name, (start, end) in zip(names, spans, strict=True)} for line in body]


# --- sdesk show --------------------------------------------------------------------------


def test_show_prints_both_clocks_of_a_p1_and_a_p3(desk, run, new_ticket):
    urgent = new_ticket(**P1)
    normal = new_ticket()
    assert (urgent["priority"], normal["priority"]) == ("P1", "P3")
    assert clock_lines(run, urgent["id"]) == [
        "  Response    due Mon 23 Nov 11:00, 1h 00m of open time left",
        "  Resolution  due Tue 24 Nov 10:00, 7h 00m of open time left",
    ]
    assert clock_lines(run, normal["id"]) == [
        "  Response    due Tue 24 Nov 10:00, 7h 00m of open time left",
        "  Resolution  due Mon 30 Nov 10:00, 35h 00m of open time left",
    ]
    assert {key: normal[f"sla_{key}"] for key in ("plan", "calendar", "response", "resolution", "callback")} == {
        "plan": "standard",
        "calendar": "office",
        "response": "1 business day",
        "resolution": "5 business days",
        "callback": "4h",
    }


def test_show_json_carries_each_clock_with_state_due_and_minutes_left(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)
    at("2026-11-23 10:45")
    clocks = show_json(run, ticket["id"])["clocks"]
    assert clocks == [
        {
            "clock": "response",
            "target": "1h",
            "calendar": "office",
            "state": "running",
            "started": "2026-11-23T10:00:00+01:00",
            "due": "2026-11-23T11:00:00+01:00",
            "stopped": None,
            "left_minutes": 15,
        },
        {
            "clock": "resolution",
            "target": "1 business day",
            "calendar": "office",
            "state": "running",
            "started": "2026-11-23T10:00:00+01:00",
            "due": "2026-11-24T10:00:00+01:00",
            "stopped": None,
            "left_minutes": 375,
        },
    ]
    at("2026-11-23 13:30")  # 10:00-12:00 and 13:00-13:30: 2h 30m used of the 1h response target
    response = clocks_by_name(run, ticket["id"])["response"]
    assert (response["state"], response["left_minutes"]) == ("overdue", -90)
    assert clock_lines(run, ticket["id"])[0] == "  Response    overdue since Mon 23 Nov 11:00: 1h 30m of open time late"


@pytest.mark.parametrize(
    ("created", "levels", "response_due"),
    [
        # 1 business day from 09:00 sharp: 7h run out at the 17:00 closing, so due at the next opening
        ("2026-11-23 09:00", {}, "Tue 24 Nov 09:00"),
        # from 13:00: 4h Monday afternoon, 3h Tuesday morning run out at the 12:00 closing: after lunch
        ("2026-11-23 13:00", {}, "Tue 24 Nov 13:00"),
        # lunch: the clock starts at 13:00, so the same as 13:00 (README)
        ("2026-11-23 12:30", {}, "Tue 24 Nov 13:00"),
        # an hour target keeps the earliest moment: 1h from Friday 16:00 is Friday 17:00, not Monday 09:00
        ("2026-11-27 16:00", P1, "Fri 27 Nov 17:00"),
        # 17:00 sharp is after closing: the clock starts Tuesday 09:00
        ("2026-11-23 17:00", P1, "Tue 24 Nov 10:00"),
        # Friday 16:30 with a 4h target: 30m on Friday, 3h Monday morning, 30m after lunch
        ("2026-11-27 16:30", P2, "Mon 30 Nov 13:30"),
        # a Saturday: nothing counts before Monday 09:00
        ("2026-11-28 11:00", P1, "Mon 30 Nov 10:00"),
        # 24 December (the desk's own closing day), 25 December (Kerstmis), the weekend
        ("2026-12-24 10:00", P1, "Mon 28 Dec 10:00"),
    ],
    ids=[
        "opening-time",
        "after-lunch",
        "lunch",
        "hour-target-at-closing",
        "closing-time",
        "friday-afternoon",
        "saturday",
        "christmas",
    ],
)
def test_the_response_clock_runs_only_while_the_desk_is_open(desk, run, new_ticket, at, created, levels, response_due):
    at(created)
    ticket = new_ticket(**levels)
    assert clock_lines(run, ticket["id"])[0].startswith(f"  Response    due {response_due}, ")


def test_a_clock_due_at_closing_time_is_overdue_after_it_although_the_desk_is_closed(desk, run, new_ticket, at):
    at("2026-11-23 16:00")
    running = new_ticket(**P1)["id"]  # 1h response: due at the 17:00 closing itself
    answered = new_ticket(**P1)["id"]
    at("2026-11-23 17:00")  # the due moment itself: still on time, no open time left
    assert clock_lines(run, running)[0] == "  Response    due Mon 23 Nov 17:00, 0m of open time left"
    assert run("sla").exit_code == 0
    at("2026-11-23 17:30")  # past the due moment on the wall clock, though no open time has passed since
    ok(run("comment", answered, "We bekijken het morgenvroeg."))
    assert clock_lines(run, running)[0] == ("  Response    overdue since Mon 23 Nov 17:00: 0m of open time late")
    assert clock_lines(run, answered)[0] == (
        f"  Response    breached: first public comment by {AGENT}, Mon 23 Nov 17:30: "
        "0m of open time late (due Mon 23 Nov 17:00)"
    )
    response = clocks_by_name(run, running)["response"]
    assert (response["state"], response["left_minutes"]) == ("overdue", 0)
    late = run("sla")
    assert late.exit_code == 1
    [row] = table_rows(late.stdout)
    assert (row["ID"], row["Clock"], row["State"], row["Due"], row["Left"]) == (
        running,
        "response",
        "overdue",
        "Mon 23 Nov 17:00",
        "overdue",
    )
    # 1 business day from Monday 16:00: 1h Monday, 3h Tuesday morning, 3h after lunch: Tuesday 16:00; 6h left
    cells = {row["ID"]: (row["Response"], row["Resolution"]) for row in table_rows(ok(run("queue")))}
    assert cells == {running: ("late", "6:00 left"), answered: ("breached", "6:00 left")}
    at("2026-11-24 09:15")  # the desk has been open for 15 minutes since
    assert clock_lines(run, running)[0] == "  Response    overdue since Mon 23 Nov 17:00: 15m of open time late"
    assert clocks_by_name(run, running)["response"]["left_minutes"] == -15
    assert {row["ID"]: row["Response"] for row in table_rows(ok(run("queue")))}[running] == "late 0:15"


def test_a_clock_across_easter_and_the_change_to_summer_time_keeps_the_wall_clock(desk, run, new_ticket, at):
    at("2027-03-26T16:00:00+01:00")  # Friday; Sunday 28 March is Easter and the clocks go forward
    ticket = new_ticket()
    assert clock_lines(run, ticket["id"])[0] == "  Response    due Tue 30 Mar 16:00, 7h 00m of open time left"
    assert clocks_by_name(run, ticket["id"])["response"]["due"] == "2027-03-30T16:00:00+02:00"
    timeline = ok(run("sla", "--explain", ticket["id"]))
    assert "  Mon 2027-03-29        closed: Paasmaandag (public holiday BE)\n" in timeline
    assert "  Tue 2027-03-30        counted 09:00-12:00, 13:00-16:00: 7h 00m so far\n" in timeline


def test_a_24x7_emergency_runs_through_the_weekend(desk, run, new_ticket, at):
    at("2026-11-28 10:00")  # Saturday: the office is closed, the 24/7 P1 targets run on the always-open calendar
    ticket = new_ticket(**FLEET_P1)
    assert (ticket["priority"], ticket["team"], ticket["sla_calendar"]) == ("P1", "iot", "always")
    assert clock_lines(run, ticket["id"]) == [
        "  Response    due Sat 28 Nov 10:30, 30m of open time left",
        "  Resolution  due Sat 28 Nov 18:00, 8h 00m of open time left",
    ]
    at("2026-11-28 18:01")
    late = json.loads(run("sla", "--format", "json").stdout)
    assert [(row["clock"], row["left_minutes"]) for row in late] == [("response", -451), ("resolution", -1)]


def test_a_night_time_pager_is_woken_only_for_clocks_that_run_at_night(desk, run, new_ticket, at):
    at("2026-11-23 22:00")  # Monday night: the office is closed
    night = new_ticket(**FLEET_P1)["id"]
    office = new_ticket(**P1)["id"]
    # The standard contract's clocks wait for the morning, and say so.
    assert clock_lines(run, office) == [
        "  Response    due Tue 24 Nov 10:00, 1h 00m of open time left; it starts counting Tue 24 Nov 09:00",
        "  Resolution  due Wed 25 Nov 09:00, 7h 00m of open time left; it starts counting Tue 24 Nov 09:00",
    ]
    at("2026-11-23 22:45")
    everything = run("sla", "--within", "2h", "--format", "json")
    assert {row["id"] for row in json.loads(everything.stdout)} == {night, office}
    paged = run("sla", "--within", "2h", "--open-now", "--format", "json")
    assert paged.exit_code == 1
    assert [(row["id"], row["clock"], row["state"]) for row in json.loads(paged.stdout)] == [
        (night, "response", "overdue")
    ]
    at("2026-11-24 09:30")  # in office hours every calendar is open
    assert {row["id"] for row in json.loads(run("sla", "--open-now", "--format", "json").stdout)} == {night}


def test_a_complaint_runs_its_own_clock_whatever_the_plan_and_priority(desk, run, new_ticket, at):
    at("2026-11-23 10:00")
    # about the medication module, whose maintenance ended: a complaint is about the desk, so it may be raised
    complaint = new_ticket(type="complaint", title="Al drie keer gebeld zonder antwoord", product="medication", **P1)
    assert (complaint["priority"], complaint["team"]) == ("P1", "service-management")
    assert clock_lines(run, complaint["id"]) == [
        "  Response    due Tue 24 Nov 10:00, 7h 00m of open time left",
        "  Resolution  due Mon 30 Nov 10:00, 35h 00m of open time left",
    ]
    incident = new_ticket(**P1)["id"]  # the plan's P1 targets: 1h and 1 business day
    ok(run("update", incident, "--type", "complaint", "--note", "Eigenlijk een klacht over de opvolging"))
    recorded = show_json(run, incident)
    assert (recorded["sla_response"], recorded["sla_resolution"]) == ("1 business day", "5 business days")
    ok(run("update", incident, "--type", "incident", "--note", "Toch een storing"))
    recorded = show_json(run, incident)
    assert (recorded["sla_response"], recorded["sla_resolution"]) == ("1h", "1 business day")


def test_show_still_works_while_rules_yaml_is_broken_and_says_the_clocks_are_unavailable(desk, run, new_ticket):
    ticket = new_ticket()
    broken = break_rules(
        desk,
        "P3: {response: 1 business day, resolution: 5 business days",
        "P3: {response: soon, resolution: 5 business days",
    )
    line = line_of(broken, "P3: {response: soon")
    result = run("show", ticket["id"])
    assert result.exit_code == 0
    assert result.stdout.endswith(
        "\nSLA clocks:\n"
        f"  unavailable until rules.yaml is fixed (desk/rules.yaml:{line}:12: plans.standard.targets.P3.response: "
        f"'soon' is not a target: {TARGET_EXAMPLES})\n"
    )
    assert "Zorgdossier opent niet" in result.stdout
    (desk / "rules.yaml").write_text(broken + "oops: [\n", encoding="utf-8")  # not even YAML
    assert "  unavailable until rules.yaml is fixed (desk/rules.yaml:" in ok(run("show", ticket["id"]))


def test_show_json_says_why_the_clocks_are_unavailable_while_rules_yaml_is_broken(desk, run, new_ticket):
    ticket = new_ticket()
    break_rules(
        desk,
        "P3: {response: 1 business day, resolution: 5 business days",
        "P3: {response: soon, resolution: 5 business days",
    )
    data = show_json(run, ticket["id"])
    assert data["id"] == ticket["id"]
    assert data["clocks"] == []
    assert "rules.yaml" in data["clocks_unavailable"]
    assert "'soon' is not a target" in data["clocks_unavailable"]


def test_show_json_of_a_healthy_desk_says_no_clocks_are_unavailable(desk, run, new_ticket):
    ticket = new_ticket()
    data = show_json(run, ticket["id"])
    assert [clock["clock"] for clock in data["clocks"]] == ["response", "resolution"]
    assert data["clocks_unavailable"] is None


def test_the_first_response_is_the_first_public_comment_by_an_agent(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)
    at("2026-11-23 10:10")
    ok(run("comment", ticket["id"], "Intern: lijkt op de storing van vorige week", "--internal"))
    at("2026-11-23 10:20")
    ok(run("comment", ticket["id"], "Het werkt nog steeds niet", "--from-customer"))
    assert clocks_by_name(run, ticket["id"])["response"]["state"] == "running"
    at("2026-11-23 11:00")  # the due moment itself is still on time
    ok(run("comment", ticket["id"], "We bekijken het nu."))
    response = clocks_by_name(run, ticket["id"])["response"]
    assert (response["state"], response["stopped"]) == ("met", "2026-11-23T11:00:00+01:00")
    line = clock_lines(run, ticket["id"])[0]
    assert line.startswith(f"  Response    met: first public comment by {AGENT}, Mon 23 Nov 11:00")
    assert line.endswith("(due Mon 23 Nov 11:00)")


def test_reopening_restarts_the_resolution_clock_but_not_the_response(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)
    at("2026-11-23 10:30")
    ok(run("close", ticket["id"], "--resolution", "Cache geleegd"))
    at("2026-11-24 14:00")
    ok(run("reopen", ticket["id"], "--reason", "Weer kapot"))
    clocks = clocks_by_name(run, ticket["id"])
    assert clocks["response"]["state"] == "met"
    assert clocks["resolution"]["started"] == "2026-11-24T14:00:00+01:00"
    # 14:00-17:00 Tuesday, 09:00-12:00 Wednesday, 13:00-14:00 Wednesday: 7h
    assert clock_lines(run, ticket["id"])[1] == "  Resolution  due Wed 25 Nov 14:00, 7h 00m of open time left"


def test_a_ticket_closed_and_reopened_within_the_same_second_runs_a_new_resolution_clock(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)
    at("2026-11-23 10:30")
    ok(run("close", ticket["id"], "--resolution", "Cache geleegd"))
    ok(run("reopen", ticket["id"], "--reason", "Toch niet: de melding komt terug"))
    clocks = clocks_by_name(run, ticket["id"])
    assert clocks["resolution"]["started"] == "2026-11-23T10:30:00+01:00"
    assert clocks["resolution"]["state"] == "running"
    at("2026-11-24 11:00")  # 7h of open time later: overdue, and `sla` says so
    listing = run("sla", "--format", "json")
    assert listing.exit_code == 1
    assert [(row["id"], row["clock"]) for row in json.loads(listing.stdout)] == [(ticket["id"], "resolution")]


# --- sdesk priority ----------------------------------------------------------------------


def test_priority_by_hand_prints_the_new_due_dates_of_both_clocks(desk, run, new_ticket, at):
    ticket = new_ticket()
    at("2026-11-23 10:30")
    result = run("priority", ticket["id"], "P1", "--reason", "Hele campus kan niet werken")
    assert result.exit_code == 0, result.output
    # recomputed from the clock start Monday 10:00: 1h → 11:00; 1 business day → Tuesday 10:00
    assert result.stdout == (
        f"{ticket['id']}: priority P3 → P1\n"
        "  Response    due Mon 23 Nov 11:00, 30m of open time left\n"
        "  Resolution  due Tue 24 Nov 10:00, 6h 30m of open time left\n"
    )
    assert "P1: phone the customer as well: Els Vermeulen, +32 50 44 12 10" in result.stderr
    recorded = show_json(run, ticket["id"])
    assert recorded["sla_response"] == "1h" and recorded["sla_resolution"] == "1 business day"
    assert clock_lines(run, ticket["id"]) == [
        "  Response    due Mon 23 Nov 11:00, 30m of open time left",
        "  Resolution  due Tue 24 Nov 10:00, 6h 30m of open time left",
    ]


def test_de_escalating_recomputes_from_the_clock_start(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)
    at("2026-11-23 10:30")
    result = run("priority", ticket["id"], "P2", "--reason", "Slechts één afdeling")
    # from Monday 10:00: 4h → 10:00-12:00 and 13:00-15:00; 2 business days (14h) → Wednesday 10:00
    assert ok(result).splitlines()[1:] == [
        "  Response    due Mon 23 Nov 15:00, 3h 30m of open time left",
        "  Resolution  due Wed 25 Nov 10:00, 13h 30m of open time left",
    ]


def test_priority_prints_the_same_clock_lines_as_show_for_a_late_or_stopped_clock(desk, run, new_ticket, at):
    late = new_ticket()["id"]
    answered = new_ticket()["id"]
    at("2026-11-23 10:30")
    ok(run("comment", answered, "We kijken ernaar."))
    at("2026-11-23 14:00")  # 10:00-12:00 and 13:00-14:00: 3h used; a P1's 1h response was due at 11:00
    escalated = ok(run("priority", late, "P1", "--reason", "Hele campus ligt plat"))
    assert escalated.splitlines()[1:] == [
        "  Response    overdue since Mon 23 Nov 11:00: 2h 00m of open time late",
        "  Resolution  due Tue 24 Nov 10:00, 4h 00m of open time left",
    ]
    assert escalated.splitlines()[1:] == clock_lines(run, late)
    lowered = ok(run("priority", answered, "P4", "--reason", "Eén gebruiker, omweg bestaat"))
    # P4: 2 business days to respond (met at 10:30), 10 business days (70h) to resolve → Monday 7 December 10:00
    assert lowered.splitlines()[1:] == [
        f"  Response    met: first public comment by {AGENT}, Mon 23 Nov 10:30 (due Wed 25 Nov 10:00)",
        "  Resolution  due Mon 07 Dec 10:00, 67h 00m of open time left",
    ]
    assert lowered.splitlines()[1:] == clock_lines(run, answered)


# --- sdesk queue -------------------------------------------------------------------------


@pytest.fixture
def queue_tickets(desk, new_ticket, at) -> dict[str, str]:
    """Four P2 tickets that differ only in the queue.ahead rules and their age, a P1 and a P3."""
    made = {}
    at("2026-11-23 09:00")
    made["p3"] = new_ticket(title="Traag scherm")["id"]
    at("2026-11-23 09:10")
    made["p2-plain"] = new_ticket(type="question", title="Vraag over rapport", **P2)["id"]
    at("2026-11-23 09:20")
    made["p2-managed"] = new_ticket(title="Portaal traag", **FOD)["id"]
    at("2026-11-23 09:30")
    made["p2-critical"] = new_ticket(title="Dossier plat", **P2)["id"]
    at("2026-11-23 09:40")
    made["p2-critical-later"] = new_ticket(title="Dossier weer plat", **P2)["id"]
    at("2026-11-23 09:50")
    made["p1"] = new_ticket(title="Alles plat", **P1)["id"]
    at("2026-11-23 10:00")
    return made


def test_queue_orders_by_priority_then_ahead_rules_then_first_come(queue_tickets, run):
    result = run("queue", "--explain")
    assert result.exit_code == 0, result.output
    ids = queue_tickets
    expected = ["p1", "p2-critical", "p2-critical-later", "p2-managed", "p2-plain", "p3"]
    table, why = result.stdout.split("\nWhy this order:\n")
    rows = table_rows(table)
    assert list(rows[0]) == ["#", "ID", "Pri", "Ahead", "Response", "Resolution", "Title"]
    assert [row["ID"] for row in rows] == [ids[name] for name in expected]
    assert [row["Pri"] for row in rows] == ["P1", "P2", "P2", "P2", "P2", "P3"]
    # the rule's name is cut to 12 characters in the table (JSON and CSV carry it whole)
    assert [row["Ahead"] for row in rows] == [
        "business-cr…",
        "business-cr…",
        "business-cr…",
        "managed-ser…",
        "",
        "business-cr…",
    ]
    lines = why.splitlines()
    assert [line.split()[1] for line in lines] == [ids[name] for name in expected]
    assert lines[0].startswith(f"  1. {ids['p1']}  priority P1 · ahead by business-critical-disruption ")
    assert "(business_critical is true; type is 'incident')" in lines[0]
    assert lines[3].startswith(f"  4. {ids['p2-managed']}  priority P2 · ahead by managed-services (")
    assert lines[4].startswith(f"  5. {ids['p2-plain']}  priority P2 · ") and "ahead by" not in lines[4]
    assert all(line.endswith("(first come, first served)") for line in lines)
    assert result.stderr == "6 tickets in the queue\n"


def test_queue_json_and_csv_carry_the_same_stable_fields(queue_tickets, run):
    data = json.loads(ok(run("queue", "--format", "json")))
    fields = [
        "position",
        "id",
        "priority",
        "ahead",
        "customer",
        "team",
        "assignee",
        "status",
        "created",
        "response_due",
        "response_left_minutes",
        "resolution_due",
        "resolution_left_minutes",
        "title",
        "phone_owed",
        "why",
        "callback_due",
        "callback_left_minutes",
    ]
    assert all(list(row) == fields for row in data)
    first = data[0]
    assert first["position"] == 1 and first["id"] == queue_tickets["p1"]
    # created 09:50, now 10:00: 10m used of the 1h response and of the 7h resolution
    assert (first["response_due"], first["response_left_minutes"]) == ("2026-11-23T10:50:00+01:00", 50)
    assert (first["resolution_due"], first["resolution_left_minutes"]) == ("2026-11-24T09:50:00+01:00", 410)
    assert first["ahead"] == "business-critical-disruption"  # whole, unlike the table
    managed = next(row for row in data if row["id"] == queue_tickets["p2-managed"])
    # managed services: 2h response, 1 business day resolution, from 09:20
    assert (managed["response_due"], managed["response_left_minutes"]) == ("2026-11-23T11:20:00+01:00", 80)
    assert managed["ahead"] == "managed-services" and managed["customer"] == "fod-digitaal"
    plain = next(row for row in data if row["id"] == queue_tickets["p2-plain"])
    assert plain["ahead"] is None
    rows = list(csv.DictReader(io.StringIO(ok(run("queue", "--format", "csv")))))
    assert list(rows[0]) == fields
    assert [row["id"] for row in rows] == [row["id"] for row in data]
    assert rows[0]["response_left_minutes"] == "50" and rows[0]["position"] == "1"
    assert rows[0]["ahead"] == "business-critical-disruption"


def test_queue_filters_by_team_and_assignee(desk, run, new_ticket, at):
    mine = new_ticket(title="Mijn ticket")["id"]
    ok(run("update", mine, "--assignee", "me"))
    network = new_ticket(title="Netwerkprobleem campus", team="noc")["id"]
    other = new_ticket(title="Niet van mij")["id"]
    by_team = json.loads(ok(run("queue", "--team", "noc", "--format", "json")))
    assert [row["id"] for row in by_team] == [network]
    assert by_team[0]["team"] == "noc"
    by_me = json.loads(ok(run("queue", "--assignee", "me", "--format", "json")))
    assert [(row["id"], row["assignee"]) for row in by_me] == [(mine, AGENT)]
    unassigned = json.loads(ok(run("queue", "--assignee", "none", "--format", "json")))
    assert {row["id"] for row in unassigned} == {network, other}


def test_a_ticket_waiting_for_the_customer_leaves_the_queue_unless_paused(desk, run, new_ticket, at):
    waiting = new_ticket(title="Wacht op screenshot")["id"]
    working = new_ticket(title="Wordt aan gewerkt")["id"]
    at("2026-11-23 11:00")
    ok(run("update", waiting, "--status", "waiting-for-customer"))
    assert [row["id"] for row in json.loads(ok(run("queue", "--format", "json")))] == [working]
    with_paused = json.loads(ok(run("queue", "--paused", "--format", "json")))
    assert {row["id"]: row["status"] for row in with_paused} == {
        waiting: "waiting-for-customer",
        working: "open",
    }


def test_the_queue_table_fits_an_80_column_terminal(queue_tickets, run):
    table = ok(run("queue"))
    assert max(len(line) for line in table.splitlines()) <= 80
    ids = queue_tickets
    cells = {row["ID"]: (row["Response"], row["Resolution"]) for row in table_rows(table)}
    # at Monday 10:00; 2 business days from 09:30 = 2h30m + 4h Monday, 7h Tuesday, 30m Wednesday = 14h
    assert cells == {
        ids["p1"]: ("0:50 left", "6:50 left"),  # 09:50: 1h and 7h
        ids["p2-critical"]: ("3:30 left", "13:30 left"),  # 09:30: 4h and 14h
        ids["p2-critical-later"]: ("3:40 left", "13:40 left"),  # 09:40
        ids["p2-managed"]: ("1:20 left", "6:20 left"),  # 09:20, managed services: 2h and 7h
        ids["p2-plain"]: ("3:10 left", "13:10 left"),  # 09:10
        ids["p3"]: ("6:00 left", "34:00 left"),  # 09:00: 7h and 35h
    }


def test_queue_cells_say_late_met_breached_and_paused_in_a_few_characters(desk, run, new_ticket, at):
    untouched = new_ticket(title="Niemand antwoordt", **P1)["id"]
    on_time = new_ticket(title="Op tijd beantwoord", **P1)["id"]
    too_late = new_ticket(title="Te laat beantwoord", **P1)["id"]
    waiting = new_ticket(title="Wacht op de klant")["id"]
    at("2026-11-23 10:15")
    ok(run("update", waiting, "--status", "waiting-for-customer"))  # the move out of open is the response
    at("2026-11-23 10:30")
    ok(run("comment", on_time, "We kijken ernaar."))
    at("2026-11-23 11:30")
    ok(run("comment", too_late, "Sorry, we kijken ernaar."))
    at("2026-11-23 14:40")  # 10:00-12:00 and 13:00-14:40: 3h40m used; 1h response 2h40m late, 3h20m of 7h left
    table = ok(run("queue", "--paused"))
    assert max(len(line) for line in table.splitlines()) <= 80
    cells = {row["ID"]: (row["Response"], row["Resolution"]) for row in table_rows(table)}
    assert cells == {
        untouched: ("late 2:40", "3:20 left"),
        on_time: ("met", "3:20 left"),
        too_late: ("breached", "3:20 left"),
        waiting: ("met", "paused"),
    }
    rows = {row["id"]: row for row in json.loads(ok(run("queue", "--paused", "--format", "json")))}
    assert (rows[untouched]["response_due"], rows[untouched]["response_left_minutes"]) == (
        "2026-11-23T11:00:00+01:00",
        -160,
    )
    assert (rows[on_time]["response_due"], rows[on_time]["response_left_minutes"]) == (None, None)
    assert rows[untouched]["ahead"] == "business-critical-disruption"


def test_the_queue_table_fits_80_columns_with_a_ticket_forgotten_for_weeks(desk, run, new_ticket, at):
    at("2026-10-26 10:00")  # Monday, four weeks ago
    forgotten = new_ticket(title="Het zorgdossier opent niet meer op campus Brugge", **P1)["id"]
    for minute in range(1, 10):
        at(f"2026-11-23 09:0{minute}")
        new_ticket(title=f"Melding {minute} over het zorgdossier")
    at("2026-11-23 10:00")
    table = ok(run("queue"))
    # open time since Monday 26 October 10:00: 6h that day, 28h that week, 35h, 28h (Armistice Day,
    # Wednesday 11 November), 35h, and 1h this Monday: 133h, so 132h late for 1h and 126h late for 7h
    first = table_rows(table)[0]
    assert (first["ID"], first["Response"], first["Resolution"]) == (forgotten, "late 132:00", "late 126:00")
    assert max(len(line) for line in table.splitlines()) <= 80


def test_an_empty_queue_says_so(desk, run):
    result = run("queue")
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == "The queue is empty.\n"


def test_queue_refuses_an_unknown_team_in_one_line(desk, run, new_ticket):
    new_ticket()
    result = run("queue", "--team", "nok")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: unknown team 'nok' (did you mean 'noc'?)\n"


# --- sdesk sla ---------------------------------------------------------------------------


def test_sla_is_quiet_and_exits_0_when_nothing_is_late(desk, run, new_ticket, at):
    new_ticket(**P1)
    at("2026-11-23 11:00")  # the due moment itself: still on time
    result = run("sla")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "No clock overdue.\n"


def test_sla_lists_an_overdue_clock_and_exits_1(desk, run, new_ticket, at):
    late = new_ticket(**P1)["id"]
    new_ticket()  # P3: 1 business day to respond, fine
    at("2026-11-23 11:01")
    result = run("sla")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "Clock", "State", "Due", "Left", "Title"]
    assert lines[2].split()[:9] == [late, "response", "overdue", "Mon", "23", "Nov", "11:00", "overdue", "0:01"]
    assert len(lines) == 3
    assert result.stderr == "Error: 1 clock overdue\n"
    data = json.loads(run("sla", "--format", "json").stdout)
    assert [(row["id"], row["clock"], row["state"], row["due"], row["left_minutes"]) for row in data] == [
        (late, "response", "overdue", "2026-11-23T11:00:00+01:00", -1)
    ]


def test_sla_within_lists_clocks_due_soon_in_open_time(desk, run, new_ticket, at):
    at("2026-11-27 16:00")  # Friday
    ticket = new_ticket(**P2)["id"]  # 4h response: due Monday 12:00
    at("2026-11-30 09:30")  # Monday: 1h Friday + 30m used, 2h 30m left
    assert run("sla", "--within", "2h").exit_code == 0
    at("2026-11-30 10:00")  # 2h left
    result = run("sla", "--within", "2h")
    assert result.exit_code == 1
    rows = json.loads(run("sla", "--within", "2h", "--format", "json").stdout)
    assert [(row["id"], row["clock"], row["state"], row["left_minutes"]) for row in rows] == [
        (ticket, "response", "running", 120)
    ]
    assert " response " in result.stdout and "Mon 30 Nov 12:00" in result.stdout
    assert result.stderr == "Error: 0 clocks overdue, 1 clock due within 2h\n"
    assert run("sla", "--within", "1h59m").exit_code == 0
    assert run("sla", "--within", "1h59m").stderr == "No clock overdue or due within 1h59m.\n"


def test_clocks_kept_in_the_index_follow_an_edited_calendar_at_once(desk, run, new_ticket, at, monkeypatch):
    monkeypatch.setattr("sdesk.storage.index.RECENT_NS", 0)  # the index trusts the ticket file just written
    at("2026-11-23 10:00")
    ticket = new_ticket(**P2)["id"]  # 4h response: 10-12 and 13-15, due 15:00

    def response_due() -> tuple[str, str]:
        listed = json.loads(run("sla", "--within", "8h", "--format", "json").stdout)
        queued = json.loads(run("queue", "--format", "json").stdout)
        return next(row["due"] for row in listed if row["clock"] == "response"), queued[0]["response_due"]

    assert response_due() == ("2026-11-23T15:00:00+01:00",) * 2
    assert response_due() == ("2026-11-23T15:00:00+01:00",) * 2  # from the index now
    rules = desk / "rules.yaml"
    rules.write_text(rules.read_text().replace("mon-fri: [09:00-12:00, 13:00-17:00]", "mon-fri: [09:00-17:00]"))
    assert response_due() == ("2026-11-23T14:00:00+01:00",) * 2  # no lunch break any more
    assert ticket in run("sla", "--within", "8h").stdout


def test_sla_within_counts_overdue_clocks_and_clocks_due_soon_apart(desk, run, new_ticket, at):
    first = new_ticket(**P1)["id"]  # response due 11:00
    at("2026-11-23 10:30")
    second = new_ticket(**P1)["id"]  # response due 11:30
    at("2026-11-23 11:30")  # the second is at its due moment: due now, not overdue
    result = run("sla", "--within", "2h")
    assert result.exit_code == 1
    rows = json.loads(run("sla", "--within", "2h", "--format", "json").stdout)
    assert [(row["id"], row["clock"], row["state"], row["left_minutes"]) for row in rows] == [
        (first, "response", "overdue", -30),
        (second, "response", "running", 0),
    ]
    assert result.stderr == "Error: 1 clock overdue, 1 clock due within 2h\n"
    # the resolutions: 7h from 10:00 has 5h 30m left, 7h from 10:30 has 6h left
    assert run("sla", "--within", "6h").stderr == "Error: 1 clock overdue, 3 clocks due within 6h\n"


def test_sla_without_within_counts_only_the_overdue_clocks(desk, run, new_ticket, at):
    new_ticket(**P1)  # response due 11:00
    at("2026-11-23 10:30")
    new_ticket(**P1)  # response due 11:30
    at("2026-11-23 11:30")
    assert run("sla").stderr == "Error: 1 clock overdue\n"
    at("2026-11-23 11:31")
    assert run("sla").stderr == "Error: 2 clocks overdue\n"


def test_sla_within_soon_is_a_usage_error(desk, run):
    result = run("sla", "--within", "soon")
    assert result.exit_code == 2
    assert (
        "Invalid value for --within: 'soon' is not a duration: write e.g. 45m, 1h30m, 1u30, 1,5 uur, 90 min or 1:30"
        in result.stderr
    )


def test_sla_leaves_out_closed_tickets(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)["id"]
    at("2026-11-23 13:00")
    ok(run("close", ticket, "--resolution", "Opgelost na de deadline"))
    assert run("sla").exit_code == 0


def test_sla_explain_prints_the_timeline_through_christmas(desk, run, new_ticket, at):
    at("2026-12-23 10:00")  # Wednesday
    ticket = new_ticket()
    result = run("sla", "--explain", ticket["id"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith(
        f"{ticket['id']}  Zorgdossier opent niet\n"
        "Plan standard, priority P3, calendar office; targets recorded on the ticket.\n"
    )
    response = text.split("\nResponse: ", 1)[1].split("\n\nResolution: ")[0]
    assert response.splitlines() == [
        "1 business day, due Mon 28 Dec 10:00, 7h 00m of open time left",
        "  Wed 2026-12-23 10:00  clock starts (ticket created)",
        "                        1 business day = 7h 00m of open time",
        "  Wed 2026-12-23        counted 10:00-12:00, 13:00-17:00: 6h 00m so far",
        "  Thu 2026-12-24        closed: Christmas Eve, the desk closes",
        "  Fri 2026-12-25        closed: Kerstmis (public holiday BE)",
        "  Sat 2026-12-26        closed: weekend",
        "  Sun 2026-12-27        closed: weekend",
        "  Mon 2026-12-28        counted 09:00-10:00: 7h 00m so far",
        "  Mon 2026-12-28 10:00  due: 1 business day of open time used up",
    ]
    resolution = text.split("\n\nResolution: ", 1)[1]
    assert resolution.startswith("5 business days, due Tue 05 Jan 10:00, 35h 00m of open time left\n")
    assert "  Thu 2026-12-31        closed: New Year's Eve, the desk closes\n" in resolution
    assert "  Fri 2027-01-01        closed: Nieuwjaar (public holiday BE)\n" in resolution
    assert resolution.endswith("  Tue 2027-01-05 10:00  due: 5 business days of open time used up\n")


def test_sla_explain_shows_a_pause_and_the_due_date_if_it_resumes_now(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)["id"]
    at("2026-11-23 10:30")
    ok(run("update", ticket, "--status", "in-progress"))
    at("2026-11-23 11:00")
    ok(run("update", ticket, "--status", "on-hold"))
    at("2026-11-24 09:00")  # Tuesday morning: 1h of the 7h used, 6h left: 09:00-12:00, 13:00-16:00
    text = ok(run("sla", "--explain", ticket))
    assert "\nResolution: 1 business day, paused (on-hold), 6h 00m of open time left: due Tue 24 Nov 16:00" in text
    assert ("  Mon 2026-11-23 11:00  paused (on-hold) until now: 5h 00m of open time not counted\n") in text
    resolution = text.split("\nResolution: ", 1)[1].splitlines()[1:]
    # each day shows only the stretches the clock ran; the days after now as if it resumes now
    assert resolution == [
        "  Mon 2026-11-23 10:00  clock starts (ticket created)",
        "                        1 business day = 7h 00m of open time",
        "  Mon 2026-11-23        counted 10:00-11:00: 1h 00m so far",
        "  Mon 2026-11-23 11:00  paused (on-hold) until now: 5h 00m of open time not counted",
        "  Tue 2026-11-24        counted 09:00-12:00, 13:00-16:00: 7h 00m so far",
        "  Tue 2026-11-24 16:00  due: 1 business day of open time used up",
    ]
    assert "  Mon 2026-11-23 10:30  stopped: moved to in-progress by agent@caresolutions.example\n" in text
    assert clock_lines(run, ticket)[1] == (
        "  Resolution  paused (on-hold), 6h 00m of open time left: due Tue 24 Nov 16:00 if it resumes now"
    )
    assert run("sla", "--within", "1h").exit_code == 0
    at("2026-11-25 09:00")  # still on hold: Monday 11:00-17:00 and all of Tuesday (12h) not counted
    text = ok(run("sla", "--explain", ticket))
    assert "\nResolution: 1 business day, paused (on-hold), 6h 00m of open time left: due Wed 25 Nov 16:00" in text
    assert "  Mon 2026-11-23 11:00  paused (on-hold) until now: 12h 00m of open time not counted\n" in text
    assert "  Tue 2026-11-24        paused all day: nothing counted\n" in text
    assert "  Wed 2026-11-25        counted 09:00-12:00, 13:00-16:00: 7h 00m so far\n" in text


def test_a_clock_overdue_at_closing_time_stays_overdue_when_it_is_paused_afterwards(desk, run, new_ticket, at):
    at("2026-11-23 13:00")
    ticket = new_ticket(title="Portaal plat", **FOD, **P1)["id"]  # managed services P1: 4h resolution
    assert show_json(run, ticket)["sla_resolution"] == "4h"
    at("2026-11-23 13:10")
    ok(run("update", ticket, "--status", "in-progress"))
    at("2026-11-23 17:30")  # 13:00-17:00: the 4h were used up at 17:00
    assert clock_lines(run, ticket)[1] == ("  Resolution  overdue since Mon 23 Nov 17:00: 0m of open time late")
    ok(run("update", ticket, "--status", "on-hold"))
    at("2026-11-23 17:45")
    assert clocks_by_name(run, ticket)["resolution"]["state"] == "overdue"
    assert clock_lines(run, ticket)[1] == ("  Resolution  overdue since Mon 23 Nov 17:00: 0m of open time late")
    assert run("sla").exit_code == 1


def test_sla_explain_of_an_unknown_ticket_is_one_line(desk, run):
    result = run("sla", "--explain", "2Q400G-XXXXX")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1


def test_sla_within_does_not_list_a_paused_clock_that_is_not_overdue(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)["id"]
    at("2026-11-23 10:05")
    ok(run("update", ticket, "--status", "in-progress"))
    at("2026-11-23 16:30")
    ok(run("update", ticket, "--status", "on-hold"))  # 5h 30m of the 7h used: 1h 30m left, paused
    at("2026-11-24 10:00")
    assert json.loads(ok(run("queue", "--format", "json"))) == []  # the queue agrees it is not the desk's work
    result = run("sla", "--within", "2h")
    assert result.exit_code == 0, result.stdout


def test_sla_refuses_an_unknown_team_like_queue_does(desk, run, new_ticket, at):
    new_ticket(**P1)
    at("2026-11-23 15:00")
    assert run("sla").exit_code == 1
    result = run("sla", "--team", "nok")  # a typo in a cron line must not silence the alarm
    assert result.exit_code == 1
    assert result.stderr == "Error: unknown team 'nok' (did you mean 'noc'?)\n"


# --- sdesk sweep -------------------------------------------------------------------------


def test_sweep_dry_run_says_what_it_would_do_and_changes_no_file(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)["id"]
    at("2026-11-23 11:30")
    before = snapshot(desk)
    result = run("sweep", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout == (
        f"{ticket}: would record breach: Response target of 1h missed: due Mon 2026-11-23 11:00.\n"
    )
    assert result.stderr == "Sweep would record 1 event.\n"
    assert snapshot(desk) == before


def test_sweep_records_a_breach_once(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)["id"]
    at("2026-11-23 11:30")
    first = run("sweep")
    assert first.exit_code == 0
    assert first.stdout == f"{ticket}: breach: Response target of 1h missed: due Mon 2026-11-23 11:00.\n"
    assert first.stderr == (
        "Mail owed: breach to servicedesk@caresolutions.example (the runner sends it: sdesk run)\n"
        "Sweep recorded 1 event.\n"
    )
    after_first = snapshot(desk)
    second = run("sweep")
    assert second.exit_code == 0
    assert (second.stdout, second.stderr) == ("", "Sweep: nothing to do.\n")
    assert snapshot(desk) == after_first
    breaches = events(run, ticket, "breach")
    assert len(breaches) == 1
    assert breaches[0]["clock"] == "response" and breaches[0]["visibility"] == "internal"
    at("2026-11-23 14:00")  # still the same response clock, later: nothing new
    assert run("sweep").stderr == "Sweep: nothing to do.\n"
    at("2026-11-24 10:01")  # the resolution clock now breaks too: its own breach, once
    assert run("sweep").stdout.startswith(f"{ticket}: breach: Resolution target of 1 business day missed: ")
    assert [event["clock"] for event in events(run, ticket, "breach")] == ["response", "resolution"]


def test_a_breach_noticed_after_later_work_is_dated_when_it_fell_due_and_passes_check(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)["id"]
    at("2026-11-23 11:30")  # the response clock ran out at 11:00; the sweep has not run since
    ok(run("comment", ticket, "--internal", "Leverancier gebeld"))
    at("2026-11-23 12:00")
    assert run("sweep").stdout == f"{ticket}: breach: Response target of 1h missed: due Mon 2026-11-23 11:00.\n"
    (breach,) = events(run, ticket, "breach")
    assert breach["at"] == "2026-11-23T11:00:00+01:00"  # when it fell due, as every clone records it
    assert run("check").exit_code == 0, run("check").output  # a sweep's own dating is no mistake
    assert run("sweep").stderr == "Sweep: nothing to do.\n"


def test_sweep_reminds_twice_and_closes_after_five_working_days(desk, run, new_ticket, at):
    ticket = new_ticket()["id"]
    at("2026-11-23 11:00")
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    # the customer (WZC De Zonnebloem) reads Dutch
    waited = "we wachten sinds maandag 23 november 2026 om 11:00 op uw reactie"
    closes = "Zonder reactie sluiten we het ticket op maandag 30 november 2026 om 11:00."
    expected = {
        "2026-11-24 11:00": None,
        "2026-11-25 10:59": None,
        "2026-11-25 11:00": f"reminder: Herinnering 1: {waited} (2 werkdagen). {closes}",
        "2026-11-25 11:01": None,  # one reminder per mark
        "2026-11-26 17:00": None,
        "2026-11-27 11:00": f"reminder: Herinnering 2: {waited} (4 werkdagen). {closes}",
        "2026-11-28 12:00": None,  # Saturday
        "2026-11-30 10:59": None,
        "2026-11-30 11:00": (
            "auto-closed: Afgesloten zonder reactie binnen 5 werkdagen (we wachtten sinds maandag 23 november "
            "2026 om 11:00 op uw reactie). U kunt altijd een nieuw ticket aanmaken."
        ),
        "2026-12-01 11:00": None,
    }
    for moment, outcome in expected.items():
        at(moment)
        result = run("sweep")
        assert result.exit_code == 0
        assert result.stdout == (f"{ticket}: {outcome}\n" if outcome else ""), moment
    reminders = events(run, ticket, "reminder")
    assert [event["at"] for event in reminders] == ["2026-11-25T11:00:00+01:00", "2026-11-27T11:00:00+01:00"]
    assert all(event["visibility"] == "public" for event in reminders)
    closed = show_json(run, ticket)
    assert closed["status"] == "closed"
    assert closed["resolution"].startswith("Afgesloten zonder reactie binnen 5 werkdagen")


def test_reminders_count_working_days_over_holidays(desk, run, new_ticket, at):
    at("2026-12-22 10:00")  # Tuesday
    ticket = new_ticket()["id"]
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    # working days after Tue 22 Dec: Wed 23, Mon 28 (24, 25 closed, weekend), Tue 29, Wed 30, Mon 4 Jan
    at("2026-12-28 09:59")
    assert run("sweep").stdout == ""
    at("2026-12-28 10:00")
    assert run("sweep").stdout == (
        f"{ticket}: reminder: Herinnering 1: we wachten sinds dinsdag 22 december 2026 om 10:00 op uw reactie "
        "(2 werkdagen). Zonder reactie sluiten we het ticket op maandag 4 januari 2027 om 10:00.\n"
    )
    at("2026-12-30 10:00")
    reminder = run("sweep").stdout
    assert "Herinnering 2: " in reminder and "(4 werkdagen)" in reminder
    assert "het ticket op maandag 4 januari 2027 om 10:00." in reminder
    at("2027-01-04T10:00:00+01:00")
    assert run("sweep").stdout.startswith(f"{ticket}: auto-closed: Afgesloten zonder reactie")


@pytest.mark.parametrize(
    "reaction",
    [
        ("comment", "{id}", "Hier is de screenshot", "--from-customer"),
        ("update", "{id}", "--from-customer"),
        # the requester writing under their own address is the customer's reaction without the flag
        ("comment", "{id}", "Hier is de screenshot", "--as", "els.vermeulen@zonnebloem.example"),
    ],
    ids=["comment", "update", "comment-as-requester"],
)
def test_a_customer_reaction_puts_a_waiting_ticket_back_in_progress_and_stops_reminders(
    desk, run, new_ticket, at, reaction
):
    ticket = new_ticket()["id"]
    at("2026-11-23 11:00")
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    at("2026-11-25 11:00")
    assert "Herinnering 1: " in run("sweep").stdout
    at("2026-11-26 10:00")
    result = run(*[part.format(id=ticket) for part in reaction])
    assert result.exit_code == 0, result.output
    assert "status waiting-for-customer → in-progress" in result.stdout
    assert show_json(run, ticket)["status"] == "in-progress"
    at("2026-11-30 11:00")  # would have been the auto-close
    assert run("sweep", "--dry-run").stdout == ""
    assert show_json(run, ticket)["status"] == "in-progress"
    assert len(events(run, ticket, "reminder")) == 1
    assert events(run, ticket, "comment" if reaction[0] == "comment" else "updated")[-1]["from_customer"] is True
    # resolution: 1h before the pause (10:00-11:00), paused Mon 11:00 to Thu 10:00, then
    # Thu 10:00-17:00 6h, Fri 7h, Mon 09:00-11:00 2h: 16h of 35h used; 19h left: Mon 5h, Tue 7h, Wed 7h
    # run out at the Wednesday 17:00 closing, so a business-day target falls due at Thursday's opening
    assert clock_lines(run, ticket)[1] == "  Resolution  due Thu 03 Dec 09:00, 19h 00m of open time left"


def test_an_update_under_the_requesters_own_address_puts_a_waiting_ticket_back_in_progress(desk, run, new_ticket, at):
    ticket = new_ticket()["id"]
    at("2026-11-23 11:00")
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    at("2026-11-24 11:00")
    requester = "els.vermeulen@zonnebloem.example"
    ok(run("update", ticket, "--description", "Het gebeurt ook op campus Oostende", "--as", requester))
    assert show_json(run, ticket)["status"] == "in-progress"
    assert [row["id"] for row in json.loads(ok(run("queue", "--format", "json")))] == [ticket]


def test_asked_again_after_a_reaction_the_reminders_count_from_the_new_wait(desk, run, new_ticket, at):
    ticket = new_ticket()["id"]
    at("2026-11-23 11:00")
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    at("2026-11-24 11:00")
    ok(run("comment", ticket, "Welke versie?", "--from-customer"))
    at("2026-11-24 14:00")
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    at("2026-11-25 11:00")  # two working days after the first wait, not after the second
    assert run("sweep").stdout == ""
    at("2026-11-26 14:00")
    assert "sinds dinsdag 24 november 2026 om 14:00 op uw reactie (2 werkdagen)" in run("sweep").stdout


def test_sweep_dry_run_lists_everything_the_sweep_then_records(desk, run, new_ticket, at):
    ticket = new_ticket(**P1)["id"]
    at("2026-11-24 11:00")  # both clocks late; the move out of open is a (late) first response
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    at("2026-11-26 11:00")  # and two working days of waiting: a reminder is due as well
    before = snapshot(desk)
    dry = run("sweep", "--dry-run")
    assert snapshot(desk) == before
    # response: Monday 10:00-12:00, 13:00-17:00 and Tuesday 09:00-11:00 = 8h for a 1h target, 7h late;
    # resolution: the same 8h before the pause for a 7h target (due Tuesday 10:00), 1h late;
    # waiting since Tuesday 11:00: two working days on Thursday 11:00, five on Tuesday 1 December
    assert dry.stdout == (
        f"{ticket}: would record breach: Response target of 1h missed: due Mon 2026-11-23 11:00.\n"
        f"{ticket}: would record breach: Resolution target of 1 business day missed: due Tue 2026-11-24 10:00.\n"
        f"{ticket}: would record reminder: Herinnering 1: we wachten sinds dinsdag 24 november 2026 om 11:00 op "
        "uw reactie (2 werkdagen). Zonder reactie sluiten we het ticket op dinsdag 1 december 2026 om 11:00.\n"
    )
    assert dry.stderr == "Sweep would record 3 events.\n"
    real = run("sweep")
    # the reminder is owed to the customer; breaches to the team (the ticket has no assignee)
    assert real.stderr.splitlines() == [
        "Mail owed: breach to servicedesk@caresolutions.example (the runner sends it: sdesk run)",
        "Mail owed: breach to servicedesk@caresolutions.example (the runner sends it: sdesk run)",
        "Mail owed: reminder to els.vermeulen@zonnebloem.example (the runner sends it: sdesk run)",
        "Sweep recorded 3 events.",
    ]
    assert dry.stdout.replace(": would record ", ": ") == real.stdout
    assert [event["clock"] for event in events(run, ticket, "breach")] == ["response", "resolution"]
    assert run("sweep", "--dry-run").stderr == "Sweep: nothing to do.\n"


def test_a_sweep_that_missed_the_marks_sends_one_reminder_not_a_burst(desk, run, new_ticket, at):
    ticket = new_ticket()["id"]
    at("2026-11-23 11:00")
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    at("2026-11-27 11:30")  # the first sweep in days: past the marks of 2 (Wednesday) and 4 working days (Friday)
    result = run("sweep")
    assert result.stdout == (
        f"{ticket}: reminder: Herinnering 2: we wachten sinds maandag 23 november 2026 om 11:00 op uw reactie "
        "(4 werkdagen). Zonder reactie sluiten we het ticket op maandag 30 november 2026 om 11:00.\n"
    )
    assert result.stderr.count("Mail owed: reminder") == 1  # one mail too, not a burst
    assert result.stderr.endswith("Sweep recorded 1 event.\n")
    at("2026-11-27 16:00")
    assert run("sweep").stderr == "Sweep: nothing to do.\n"
    assert len(events(run, ticket, "reminder")) == 1
    at("2026-11-30 11:00")
    assert run("sweep").stdout.startswith(f"{ticket}: auto-closed: Afgesloten zonder reactie binnen 5 werkdagen")


# --- sdesk report sla --------------------------------------------------------------------


@pytest.fixture
def november(desk, run, new_ticket, at) -> dict[str, str]:
    """Tickets handled at chosen moments; the report is read on Wednesday 25 November 12:00."""
    made = {}
    at("2026-10-31T23:30:00+00:00")  # Sunday 1 November 00:30 in Brussels: in the period
    made["sunday"] = new_ticket(title="Nachtelijke storing")["id"]  # P3, never touched: both clocks overdue
    at("2026-11-23 10:00")
    made["p1"] = new_ticket(title="Alles plat", **P1)["id"]
    made["p3"] = new_ticket(title="Traag")["id"]
    at("2026-11-23 10:30")
    ok(run("comment", made["p1"], "We zijn ermee bezig."))  # response after 0.5h: met
    at("2026-11-23 14:00")
    ok(run("close", made["p1"], "--resolution", "Herstart"))  # 10-12, 13-14: 3h of 7h: met
    at("2026-11-24 09:00")
    made["fod"] = new_ticket(title="Portaal traag", **FOD)["id"]  # P2 managed: 2h, 1 business day
    at("2026-11-24 09:30")
    ok(run("comment", made["fod"], "We kijken het na."))  # 0.5h: met
    at("2026-11-24 11:00")
    ok(run("update", made["p3"], "--status", "in-progress"))  # 6h Monday + 2h Tuesday = 8h > 7h: breached
    at("2026-11-25 10:00")
    ok(run("close", made["fod"], "--resolution", "Cache"))  # 7h Tuesday + 1h Wednesday = 8h > 7h: breached
    at("2026-11-30T23:30:00+00:00")  # 1 December in Brussels: out of the period
    new_ticket(title="December")
    at("2026-10-31T22:30:00+00:00")  # 31 October 23:30 in Brussels: out of the period
    new_ticket(title="Oktober")
    at("2026-11-25 12:00")
    return made


def test_report_sla_per_priority_per_customer_and_in_total(november, run):
    rows = json.loads(ok(run("report", "sla", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json")))
    table = {
        (row["group"], row["key"]): (
            row["tickets"],
            row["response_decided"],
            row["response_met"],
            row["response_compliance"],
            row["response_median_minutes"],
            row["response_p90_minutes"],
            row["resolution_decided"],
            row["resolution_met"],
            row["resolution_compliance"],
            row["resolution_median_minutes"],
            row["resolution_p90_minutes"],
        )
        for row in rows
    }
    assert list(table) == [
        ("priority", "P1"),
        ("priority", "P2"),
        ("priority", "P3"),
        ("customer", "fod-digitaal"),
        ("customer", "zonnebloem"),
        ("all", "all"),
    ]
    assert table[("priority", "P1")] == (1, 1, 1, 100.0, 30, 30, 1, 1, 100.0, 180, 180)
    assert table[("priority", "P2")] == (1, 1, 1, 100.0, 30, 30, 1, 0, 0.0, 480, 480)
    # the Sunday ticket is overdue on both clocks (decided, no time); the other P3's resolution still runs
    assert table[("priority", "P3")] == (2, 2, 0, 0.0, 480, 480, 1, 0, 0.0, None, None)
    assert table[("customer", "fod-digitaal")] == (1, 1, 1, 100.0, 30, 30, 1, 0, 0.0, 480, 480)
    assert table[("customer", "zonnebloem")] == (3, 3, 1, 33.3, 255, 480, 2, 1, 50.0, 180, 180)
    assert table[("all", "all")] == (4, 4, 2, 50.0, 30, 480, 3, 1, 33.3, 330, 480)


def test_report_sla_as_csv_and_as_a_table(november, run):
    text = ok(run("report", "sla", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "group",
        "key",
        "tickets",
        "response_decided",
        "response_met",
        "response_compliance",
        "response_median_minutes",
        "response_p90_minutes",
        "resolution_decided",
        "resolution_met",
        "resolution_compliance",
        "resolution_median_minutes",
        "resolution_p90_minutes",
        "callback_decided",
        "callback_met",
        "callback_compliance",
        "callback_median_minutes",
        "callback_p90_minutes",
    ]
    total = rows[-1]
    assert (total["group"], total["key"], total["tickets"]) == ("all", "all", "4")
    assert (total["response_compliance"], total["resolution_compliance"]) == ("50.0", "33.3")
    p3 = next(row for row in rows if row["key"] == "P3")
    assert p3["resolution_median_minutes"] == "" and p3["resolution_decided"] == "1"
    result = run("report", "sla", "--from", "2026-11-01", "--to", "2026-11-30")
    table = ok(result).splitlines()
    # every column headed; compliance in percent, times in hours:minutes as every table shows a duration
    assert table[0].split() == [
        "Group",
        "Key",
        "Tickets",
        "Response",
        "Median",
        "P90",
        "Resolution",
        "Median",
        "P90",
        "Call-back",
    ]
    assert table[-1].split() == ["all", "all", "4", "50.0%", "0:30", "8:00", "33.3%", "5:30", "8:00"]
    assert table[-2].split() == ["customer", "zonnebloem", "3", "33.3%", "4:15", "8:00", "50.0%", "3:00", "3:00"]
    assert max(len(line) for line in table) <= 100
    assert "hours:minutes" in result.stderr
    only_monday = json.loads(ok(run("report", "sla", "--from", "2026-11-23", "--to", "2026-11-23", "--format", "json")))
    assert only_monday[-1]["tickets"] == 2


def test_report_sla_with_no_tickets_in_the_period(desk, run):
    result = run("report", "sla", "--from", "2026-11-01", "--to", "2026-11-30")
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == "No tickets opened from 2026-11-01 to 2026-11-30.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--from", "2026-11-30", "--to", "2026-11-01"),
            "Invalid value for --to: 2026-11-01 is before --from 2026-11-30",
        ),
        (("--from", "1 november", "--to", "2026-11-30"), "Invalid value for --from: '1 november' is not a date"),
        (
            (
                "--from",
                "2026-11-01",
            ),
            "Missing option '--to'",
        ),
    ],
    ids=["to-before-from", "not-a-date", "no-to"],
)
def test_report_sla_usage_errors(desk, run, args, message):
    result = run("report", "sla", *args)
    assert result.exit_code == 2
    assert message in result.stderr


# --- sdesk rules check -------------------------------------------------------------------

WINDOWS = "      mon-fri: [09:00-12:00, 13:00-17:00]"
WAITING = "    short: waiting\n    waiting_on_customer: true\n    pauses_clock: true\n    next: [in-progress, closed]"


@pytest.mark.parametrize(
    ("old", "new", "needle", "column", "message"),
    [
        (
            WINDOWS,
            "      mon-fri: []",
            "    hours:",
            5,
            "calendars.office.hours: the calendar never opens: give at least one opening window",
        ),
        (
            "    hours:\n" + WINDOWS,
            "    hours: {}",
            "    hours: {}",
            5,
            "calendars.office.hours: the calendar never opens: give at least one opening window",
        ),
        (
            WINDOWS,
            "      mon-fri: [9-17]",
            "[9-17]",
            17,
            "calendars.office.hours.mon-fri.0: '9-17' is not an opening window (write HH:MM-HH:MM, e.g. 09:00-12:00)",
        ),
        (
            "holidays: BE",
            "holidays: XX",
            "holidays: XX",
            5,
            "calendars.office.holidays: no public holidays known for country 'XX' "
            "(use an ISO 3166 code such as NL or BE)",
        ),
        (
            "P3: {response: 1 business day, resolution: 5 business days",
            "P3: {response: soon, resolution: 5 business days",
            "response: soon",
            12,
            f"plans.standard.targets.P3.response: 'soon' is not a target: {TARGET_EXAMPLES}",
        ),
        (
            "      P4: {response: 2 business days, resolution: 10 business days",
            "      P9: {response: 2 business days, resolution: 10 business days",
            "P9:",
            7,
            "plans.standard.targets.P9: unknown priority level 'P9' (expected one of: P1, P2, P3, P4)",
        ),
        (
            "    label: Managed services, handled with priority\n    calendar: office",
            "    label: Managed services, handled with priority\n    calendar: offce",
            "calendar: offce",
            5,
            "plans.managed-services.calendar: unknown calendar 'offce' (did you mean 'office'?)",
        ),
        (
            WAITING,
            WAITING.replace("[in-progress, closed]", "[in-progress]"),
            "    next: [in-progress]",
            5,
            "statuses.waiting-for-customer.next: the sweep closes tickets waiting on the customer after 5 working "
            "days, so waiting-for-customer must allow a move to closed (or set sweep.auto_close: 0)",
        ),
        (
            "  always:\n    always_open: true",
            "  always:\n    always_open: true\n    holidays: NL",
            "    holidays: NL",
            5,
            "calendars.always.holidays: an always-open calendar has no holidays: drop one of the two",
        ),
        (
            "      2026-12-24: Christmas Eve, the desk closes",
            "      christmas: Christmas Eve, the desk closes",
            "christmas:",
            7,
            "calendars.office.closed.christmas: expected a date such as 2027-06-30, got 'christmas'",
        ),
        (
            "  reminders: [2, 4]",
            "  reminders: [4, 2]",
            "reminders: [4, 2]",
            18,
            "sweep.reminders.1: reminders must come in increasing order",
        ),
        (
            "  reminders: [2, 4]",
            "  reminders: [2, 5]",
            "reminders: [2, 5]",
            3,
            "sweep.reminders: every reminder must come before the auto-close after 5 working days",
        ),
    ],
    ids=[
        "no-windows",
        "empty-hours",
        "window-9-17",
        "holiday-country-XX",
        "target-soon",
        "level-P9",
        "unknown-calendar",
        "waiting-cannot-close",
        "always-open-with-holidays",
        "closing-day-not-a-date",
        "reminders-out-of-order",
        "reminder-at-auto-close",
    ],
)
def test_rules_check_reports_broken_service_levels_with_file_line_and_column(
    desk, run, old, new, needle, column, message
):
    broken = break_rules(desk, old, new)
    result = run("rules", "check")
    assert result.exit_code == 1
    assert f"desk/rules.yaml:{line_of(broken, needle)}:{column}: {message}" in result.stdout.splitlines()
    assert result.stderr.startswith("Error: desk/rules.yaml: ")


def test_rules_check_reports_a_malformed_window_once(desk, run):
    broken = break_rules(desk, WINDOWS, "      mon-fri: [9-17]")
    result = run("rules", "check")
    assert result.exit_code == 1
    # the calendar has no valid window left, but "never opens" would only repeat the problem
    assert result.stdout.splitlines() == [
        f"desk/rules.yaml:{line_of(broken, '[9-17]')}:17: calendars.office.hours.mon-fri.0: '9-17' is not an "
        "opening window (write HH:MM-HH:MM, e.g. 09:00-12:00)"
    ]
    assert result.stderr == "Error: desk/rules.yaml: 1 problem\n"


def test_rules_check_accepts_the_shipped_service_levels(desk, run):
    result = run("rules", "check")
    assert result.exit_code == 0
    assert result.stdout.startswith("desk/rules.yaml: OK")


# --- a week replayed ---------------------------------------------------------------------


def test_replay_a_week_of_the_desk(desk, run, new_ticket, at):
    """Monday to Monday: one answered, one forgotten, one paused over the weekend, one escalated."""
    at("2026-11-23 09:30")
    answered = new_ticket(title="Alles plat", **P1)["id"]
    at("2026-11-23 09:45")
    forgotten = new_ticket(title="Rapport traag")["id"]
    at("2026-11-23 10:00")
    paused = new_ticket(title="Afdruk mislukt in dossier")["id"]
    at("2026-11-23 10:15")
    escalated = new_ticket(title="Medicatieschema leeg")["id"]
    at("2026-11-23 10:20")
    ok(run("comment", answered, "We zijn ermee bezig."))
    at("2026-11-23 11:00")
    escalation = ok(run("priority", escalated, "P2", "--reason", "Hele campus getroffen"))
    # from the clock start Mon 10:15: 4h → 10:15-12:00 and 13:00-15:15; 2 business days (14h) → Wednesday 10:15
    assert escalation.splitlines()[1:] == [
        "  Response    due Mon 23 Nov 15:15, 3h 15m of open time left",
        "  Resolution  due Wed 25 Nov 10:15, 13h 15m of open time left",
    ]
    at("2026-11-23 13:00")
    ok(run("update", paused, "--status", "in-progress"))
    at("2026-11-23 14:00")
    ok(run("update", escalated, "--status", "in-progress"))

    sweeps = {}

    def sweep(moment: str) -> None:
        at(moment)
        result = run("sweep")
        assert result.exit_code == 0
        sweeps[moment] = result.stdout

    sweep("2026-11-23 17:00")
    at("2026-11-24 09:00")
    ok(run("close", answered, "--resolution", "Server herstart"))
    sweep("2026-11-24 17:00")
    at("2026-11-25 11:00")
    ok(run("close", escalated, "--resolution", "Schema hersteld"))
    sweep("2026-11-25 17:00")
    sweep("2026-11-26 17:00")
    at("2026-11-27 15:00")
    ok(run("update", paused, "--status", "waiting-for-customer"))
    sweep("2026-11-27 17:00")
    at("2026-11-28 12:00")
    # 6h Monday, 7h Tuesday to Thursday, 5h Friday: 32h of 35h used; 3h left from Monday 09:00 run out at
    # the 12:00 closing, so the business-day target would fall due after lunch
    assert clock_lines(run, paused)[1] == (
        "  Resolution  paused (waiting-for-customer), 3h 00m of open time left: due Mon 30 Nov 13:00 if it resumes now"
    )
    at("2026-11-30 10:00")
    ok(run("comment", paused, "Het werkt weer na de update", "--from-customer"))
    sweep("2026-11-30 12:00")

    assert sweeps == {
        "2026-11-23 17:00": "",
        "2026-11-24 17:00": f"{forgotten}: breach: Response target of 1 business day missed: due Tue 2026-11-24 "
        "09:45.\n",
        "2026-11-25 17:00": "",  # the escalated ticket broke its resolution, but was closed before the sweep
        "2026-11-26 17:00": "",
        "2026-11-27 17:00": "",
        "2026-11-30 12:00": f"{forgotten}: breach: Resolution target of 5 business days missed: due Mon 2026-11-30 "
        "09:45.\n",
    }
    at("2026-11-30 12:00")
    answered_clocks = clock_lines(run, answered)
    assert answered_clocks[0].startswith(f"  Response    met: first public comment by {AGENT}, Mon 23 Nov 10:20")
    assert answered_clocks[0].endswith("(due Mon 23 Nov 10:30)")
    assert answered_clocks[1] == "  Resolution  met: moved to closed, Tue 24 Nov 09:00 (due Tue 24 Nov 09:30)"
    # response late since Tuesday 09:45: 6h 15m Tuesday, 21h Wednesday to Friday, 3h Monday morning
    assert clock_lines(run, forgotten) == [
        "  Response    overdue since Tue 24 Nov 09:45: 30h 15m of open time late",
        "  Resolution  overdue since Mon 30 Nov 09:45: 2h 15m of open time late",
    ]
    assert clock_lines(run, escalated) == [
        f"  Response    met: moved to in-progress by {AGENT}, Mon 23 Nov 14:00 (due Mon 23 Nov 15:15)",
        "  Resolution  breached: moved to closed, Wed 25 Nov 11:00: 45m of open time late (due Wed 25 Nov 10:15)",
    ]
    # resumed Monday 10:00 with 3h left: 10:00-12:00 and 13:00-14:00
    assert clock_lines(run, paused) == [
        f"  Response    met: moved to in-progress by {AGENT}, Mon 23 Nov 13:00 (due Tue 24 Nov 10:00)",
        "  Resolution  due Mon 30 Nov 14:00, 1h 00m of open time left",
    ]
    # both P3 business-critical disruptions: first come, first served
    assert [row["id"] for row in json.loads(ok(run("queue", "--format", "json")))] == [forgotten, paused]
    late = json.loads(run("sla", "--format", "json").stdout)
    assert [(row["id"], row["clock"]) for row in late] == [(forgotten, "response"), (forgotten, "resolution")]
    assert events(run, escalated, "breach") == []


# --- a real process ----------------------------------------------------------------------


def test_sla_in_a_real_process_exits_1_when_overdue_and_0_when_not(desk, new_ticket, tmp_path):
    new_ticket(**P1)  # Monday 10:00, response due 11:00

    def sla_at(moment: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path / "home"),
            "SDESK_DIR": str(desk),
            "SDESK_NOW": moment,
        }
        return subprocess.run(
            [sys.executable, "-m", "sdesk", "sla", "--format", "csv"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    on_time = sla_at("2026-11-23T10:59:00+01:00")
    assert on_time.returncode == 0, on_time.stderr
    assert on_time.stdout.splitlines() == ["id,clock,state,due,left_minutes,priority,customer,team,assignee,title"]
    late = sla_at("2026-11-23T11:01:00+01:00")
    assert late.returncode == 1
    assert "Traceback" not in late.stderr
    row = late.stdout.splitlines()[1].split(",")
    assert row[1:5] == ["response", "overdue", "2026-11-23T11:00:00+01:00", "-1"]
    assert late.stderr.startswith("Error: 1 clock overdue")


# --- phone calls (seed 000: a P1 is phoned as well) ------------------------------------------------


def queue_rows(run) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in json.loads(ok(run("queue", "--format", "json")))}


def test_a_p1_is_flagged_to_be_phoned_until_an_agent_records_a_call(desk, run, new_ticket, at):
    at("2026-11-23 10:00")
    urgent = new_ticket(**P1)["id"]
    ordinary = new_ticket()["id"]
    rows = queue_rows(run)
    assert (rows[urgent]["phone_owed"], rows[ordinary]["phone_owed"]) == (True, False)
    assert f"{urgent}" in next(line for line in ok(run("queue")).splitlines() if "[phone] " in line)
    owed = f"Not phoned yet: a P1 is phoned as well (sdesk call {urgent} --note …)."
    assert owed in ok(run("rules", "explain", urgent))
    ok(run("call", urgent, "--note", "Storing bevestigd, we werken eraan", "--from-customer"))
    assert queue_rows(run)[urgent]["phone_owed"]  # the customer phoning in is not the desk phoning them
    at("2026-11-23 10:05")
    said = ok(run("call", urgent, "--note", "Storing bevestigd, technicus onderweg"))
    assert said == f"{urgent}: call recorded: Phoned Els Vermeulen: Storing bevestigd, technicus onderweg\n"
    assert not queue_rows(run)[urgent]["phone_owed"]
    call = show_json(run, urgent)["history"][-1]
    assert (call["event"], call["visibility"]) == ("call", "internal")
    assert call["text"] == "Phoned Els Vermeulen: Storing bevestigd, technicus onderweg"
    assert "Phoned Els Vermeulen: Storing bevestigd" in ok(run("rules", "explain", urgent))
    # escalated to P1 later: phoned again, whatever calls came before
    ok(run("call", ordinary, "--note", "Even nagevraagd", "--to", "Tom Claeys"))
    ok(run("priority", ordinary, "P1", "--reason", "Hele campus getroffen"))
    assert queue_rows(run)[ordinary]["phone_owed"]


def test_a_call_needs_a_note(desk, run, new_ticket):
    ticket = new_ticket()["id"]
    result = run("call", ticket, "--note", "  ")
    assert result.exit_code == 1 and result.stderr == "Error: a call needs a note: what was said (--note TEXT)\n"


# --- the call-back service (seed 002) --------------------------------------------------------------


def callback_clock(run, ticket: str) -> dict[str, Any] | None:
    return next((clock for clock in show_json(run, ticket)["clocks"] if clock["clock"] == "callback"), None)


def test_a_call_back_has_its_own_clock_in_queue_and_sla_until_a_call_to_the_customer(desk, run, new_ticket, at):
    at("2026-11-23 10:00")
    ticket = new_ticket()["id"]  # P3 on the standard plan: call back within 4h
    assert callback_clock(run, ticket) is None  # nobody asked
    asked = ok(run("callback", ticket, "--phone", "+32 50 44 12 99", "--note", "Na de middag"))
    assert asked == (
        f"{ticket}: call-back request recorded: Asks to be called back on +32 50 44 12 99: Na de middag\n"
        f"Call back by Mon 23 Nov 15:00 (then: sdesk call {ticket} --note …)\n"
    )
    twice = run("callback", ticket)
    assert twice.exit_code == 1
    assert twice.stderr == (
        f"Error: {ticket} has a call-back pending since Mon 23 Nov 10:00: record the call (sdesk call {ticket})\n"
    )
    at("2026-11-23 14:30")
    row = queue_rows(run)[ticket]
    assert (row["callback_due"], row["callback_left_minutes"]) == ("2026-11-23T15:00:00+01:00", 30)
    assert f"{ticket}  P3" in ok(run("queue")) and "[call 0:30] " in ok(run("queue"))
    within = run("sla", "--within", "1h", "--format", "json")
    assert [(clock["id"], clock["clock"]) for clock in json.loads(within.stdout)] == [(ticket, "callback")]
    at("2026-11-23 15:30")
    late = run("sla", "--format", "json")
    assert [(clock["clock"], clock["state"]) for clock in json.loads(late.stdout)] == [("callback", "overdue")]
    ok(run("call", ticket, "--note", "Ze belde zelf", "--from-customer"))  # the customer phoning is no call-back
    assert callback_clock(run, ticket)["state"] == "overdue"
    at("2026-11-23 15:40")
    ok(run("call", ticket, "--note", "Teruggebeld, opgelost"))
    assert callback_clock(run, ticket)["state"] == "breached"
    assert "[call " not in ok(run("queue"))
    assert ticket not in run("sla").stdout
    # asked again later: a new clock, met by the next call
    at("2026-11-24 09:00")
    ok(run("callback", ticket))
    at("2026-11-24 09:20")
    ok(run("call", ticket, "--note", "Gebeld"))
    clock = callback_clock(run, ticket)
    assert (clock["state"], clock["started"], clock["stopped"]) == (
        "met",
        "2026-11-24T09:00:00+01:00",
        "2026-11-24T09:20:00+01:00",
    )


def test_a_call_back_asked_while_waiting_on_the_customer_is_their_reaction(desk, run, new_ticket, at):
    at("2026-11-23 10:00")
    ticket = new_ticket()["id"]
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    at("2026-11-23 11:00")
    assert "status waiting-for-customer → in-progress" in ok(run("callback", ticket))
    assert show_json(run, ticket)["history"][-1]["from_customer"] is True


def test_a_call_back_needs_a_target_and_an_open_ticket(desk, run, new_ticket, at):
    at("2026-11-23 10:00")
    ticket = new_ticket()["id"]
    rules = desk / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(", callback: 4h}", "}"), encoding="utf-8")
    unplanned = new_ticket()["id"]
    refused = run("callback", unplanned)
    assert refused.exit_code == 1
    assert refused.stderr == "Error: zonnebloem's plan has no callback target for P3 (rules.yaml)\n"
    assert callback_clock(run, ticket) is None
    ok(run("callback", ticket))  # the target was fixed when the ticket opened
    assert callback_clock(run, ticket)["target"] == "4h"
    ok(run("close", ticket, "--resolution", "Opgelost zonder bellen"))
    at("2026-11-23 15:01")  # closing does not stop it: a call-back never made stays missed
    assert callback_clock(run, ticket)["state"] == "overdue"
    closed = run("callback", ticket)
    assert closed.exit_code == 1 and "reopen it first" in closed.stderr


def edit_ticket(desk: Path, ticket: str, old: str, new: str) -> None:
    path = desk / "tickets" / f"{ticket}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_call_back_asked_while_the_ticket_is_scheduled_still_falls_due(desk, run, new_ticket, at):
    """The desk owes the call whatever the ticket's status: a pausing status must not hide it for days."""
    at("2026-11-23 10:00")
    ticket = new_ticket()["id"]  # P3, standard: call back within 4h
    ok(run("update", ticket, "--status", "scheduled"))
    at("2026-11-23 10:05")
    ok(run("callback", ticket, "--note", "Bel me voor de afspraak"))
    at("2026-11-24 16:00")  # more than a working day later, nobody called
    assert callback_clock(run, ticket)["state"] == "overdue"


def test_check_reports_an_unreadable_callback_target(desk, run, new_ticket):
    ticket = new_ticket()["id"]
    edit_ticket(desk, ticket, "  callback: 4h\n", "  callback: soon\n")
    result = run("check")
    assert result.exit_code == 1 and "sla.callback" in result.output


def test_callback_on_a_ticket_with_an_unreadable_target_is_one_line_not_a_traceback(desk, run, new_ticket):
    ticket = new_ticket()["id"]
    edit_ticket(desk, ticket, "  callback: 4h\n", "  callback: soon\n")
    result = run("callback", ticket)
    assert "Traceback" not in result.output


def test_a_complaint_can_be_called_back(desk, run, new_ticket, at):
    """The example desk's complaints have targets of their own without a callback: no call-back at all, and a
    message that blames the plan, which has one."""
    at("2026-11-23 10:00")
    ticket = new_ticket(type="complaint")["id"]
    result = run("callback", ticket)
    assert result.exit_code == 0, result.stderr


def test_a_pending_call_back_does_not_vanish_when_the_ticket_becomes_a_complaint(desk, run, new_ticket, at):
    at("2026-11-23 10:00")
    ticket = new_ticket()["id"]
    ok(run("callback", ticket))
    ok(run("update", ticket, "--type", "complaint"))
    refused = run("callback", ticket)

    assert callback_clock(run, ticket) is not None or refused.exit_code == 0


def test_report_sla_does_not_count_a_call_back_nobody_made_as_met(desk, run, new_ticket, at):
    at("2026-11-23 10:00")
    ticket = new_ticket()["id"]
    ok(run("callback", ticket))
    at("2026-11-23 10:30")
    ok(run("close", ticket, "--resolution", "Per mail opgelost"))
    rows = json.loads(ok(run("report", "sla", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json")))
    total = next(row for row in rows if row["group"] == "all")
    assert total["callback_met"] == 0


def test_the_site_exports_a_ticket_with_a_call_back(desk, run, new_ticket, at, tmp_path):
    at("2026-11-23 10:00")
    ticket = new_ticket()["id"]
    ok(run("callback", ticket))
    result = run("export", "html", str(tmp_path / "site"))
    assert result.exit_code == 0
    ok(run("call", ticket, "--note", "Teruggebeld"))
    result = run("export", "html", str(tmp_path / "site"))
    assert result.exit_code == 0


def test_a_new_desk_offers_the_call_back_service(run, tmp_path):
    ok(run("init", str(tmp_path / "new")))
    text = (tmp_path / "new" / "rules.yaml").read_text(encoding="utf-8")
    assert "callback" in text and "on_site" in text


def test_a_closing_day_taken_back_does_not_swallow_the_second_reminder(desk, run, new_ticket, at):
    break_rules(
        desk,
        "      2026-12-24: Christmas Eve, the desk closes",
        "      2026-11-24: Staff day\n      2026-12-24: Christmas Eve, the desk closes",
    )
    at("2026-11-23 10:00")
    ticket = new_ticket()["id"]
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    at("2026-11-26 10:00")
    ok(run("sweep"))  # reminder 1 (2 working days: Wednesday and Thursday)
    break_rules(desk, "      2026-11-24: Staff day\n", "")
    at("2026-11-27 10:00")  # 4 working days now (Tue, Wed, Thu, Fri)
    ok(run("sweep"))
    kinds = [event["event"] for event in show_json(run, ticket)["history"]]
    assert kinds.count("reminder") == 2


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  auto_close: 5", "  auto_close: 2000", "sweep.auto_close: expected up to 250 working days (0: never)"),
        (
            "callback: 1 business day}",
            "callback: 2000 business days}",
            "callback: '2000 business days' is too long: at most 250 business days",
        ),
    ],
    ids=["auto-close", "target"],
)
def test_rules_check_refuses_day_counts_beyond_a_year(desk, run, old, new, message):
    break_rules(desk, old, new)
    result = run("rules", "check")
    assert result.exit_code == 1 and message in result.stdout + result.stderr
    assert "Traceback" not in result.output


def test_check_refuses_on_site_on_an_event_that_is_no_time_entry(desk, run, new_ticket):
    ticket = new_ticket()["id"]
    ok(run("comment", ticket, "Ter plaatse geweest"))
    edit_ticket(desk, ticket, "  event: comment\n", "  event: comment\n  on_site: true\n")
    result = run("check")
    assert result.exit_code == 1 and "on_site: only a time entry is done on site" in result.output
