"""Announcements, outage links, resolving an outage, and cooperation incidents, through the CLI.

The clock is pinned at Monday 2026-11-23 10:00 in Brussels (conftest.NOW); every
expectation below is worked out by hand from rules.yaml: the office calendar is
open mon-fri 09:00-12:00 and 13:00-17:00, and every plan's targets mostly run on it.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from sdesk.cli import context
from tests.conftest import AGENT, NOW, owed_mail

BRUSSELS = ZoneInfo("Europe/Brussels")
MOMENT = datetime.fromisoformat(NOW)

BRIGHTWAVE = {"customer": "brightwave", "requester": "olivia.hughes@brightwave.example", "site": "5001"}
VANDIJK = {
    "customer": "vandijk",
    "requester": "j.bakker@vandijk.example",
    "product": "fleet-telemetry",
    "site": "3001",
}
TICKET_ARGS = {
    "--title": "Zorgdossier opent niet",
    "--type": "incident",
    "--customer": "zonnebloem",
    "--requester": "els.vermeulen@zonnebloem.example",
    "--product": "care-dossier",
    "--site": "2101",
    "--description": "Het zorgdossier van bewoner 1182 opent niet meer.",
}
NOTE = "De databankserver is hersteld; het zorgdossier werkt weer."


# --- helpers -------------------------------------------------------------------------------


def announce(run, kind: str, start: str, *extra: str, title: str = "Zorgdossier onbereikbaar") -> str:
    """Create an announcement through the CLI and return its number."""
    result = run("announce", "new", "--kind", kind, "--title", title, "--start", start, *extra)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Announced ")
    return result.stdout.split()[1].rstrip(":")


def announcement_file(desk: Path, announcement_id: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((desk / "announcements" / f"{announcement_id}.yaml").read_text("utf-8"))
    return data


def announcement_files(desk: Path) -> list[Path]:
    folder = desk / "announcements"
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def ticket_file(desk: Path, ticket_id: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((desk / "tickets" / f"{ticket_id}.yaml").read_text("utf-8"))
    return data


def listing(run, *args: str) -> dict[str, dict[str, Any]]:
    """`announce list --format json` as rows by announcement number."""
    result = run("announce", "list", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return {row["id"]: row for row in json.loads(result.stdout)}


def pending_mail(desk: Path) -> set[str]:
    """The keys (TICKET.EVENT.KIND) of the mail history owes: what the runner will send."""
    return set(owed_mail(desk))


def read_mail(desk: Path, name: str) -> EmailMessage:
    return owed_mail(desk)[name]


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("Error:")]


def assert_one_line_error(result, *words: str) -> None:
    assert "Traceback" not in result.output
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]


def moment(text: str) -> datetime:
    """A wall-clock moment in Brussels (how the desk reads a WHEN without an offset)."""
    return datetime.fromisoformat(text).replace(tzinfo=BRUSSELS)


# --- announce new --------------------------------------------------------------------------


def test_new_prints_the_number_and_writes_a_plain_yaml_file(desk, run):
    result = run(
        "announce",
        "new",
        "--kind",
        "maintenance",
        "--title",
        "Upgrade van het zorgdossier",
        "--start",
        "2026-11-28T22:00",
        "--end",
        "2026-11-28T23:59",
        "--service",
        "care-dossier",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Announced ")
    announcement_id = result.stdout.split()[1].rstrip(":")
    assert result.stdout.split()[1] == f"{announcement_id}:"
    assert "Upgrade van het zorgdossier" in result.stdout
    assert [path.name for path in announcement_files(desk)] == [f"{announcement_id}.yaml"]
    data = announcement_file(desk, announcement_id)
    assert data == {
        "id": announcement_id,
        "kind": "maintenance",
        "title": "Upgrade van het zorgdossier",
        "start": moment("2026-11-28T22:00"),
        "end": moment("2026-11-28T23:59"),
        "customers": "all",
        "service": "care-dossier",
        "created": MOMENT,
        "by": AGENT,
    }


def test_named_customers_are_stored_as_a_list_and_an_outage_needs_no_end(desk, run):
    announcement_id = announce(run, "outage", "2026-11-23T09:30", "--customers", "zonnebloem,brightwave")
    data = announcement_file(desk, announcement_id)
    assert data["customers"] == ["zonnebloem", "brightwave"]
    assert data["kind"] == "outage"
    assert "end" not in data
    assert "service" not in data


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-28T22:00", "2026-11-28T21:00:00+00:00"),  # winter time: UTC+1
        ("2027-07-03T22:00", "2027-07-03T20:00:00+00:00"),  # summer time: UTC+2
        ("2026-11-28T22:00+00:00", "2026-11-28T22:00:00+00:00"),  # an offset is kept
    ],
)
def test_a_when_without_offset_is_desk_time(desk, run, given, expected):
    announcement_id = announce(run, "outage", given)
    assert announcement_file(desk, announcement_id)["start"] == datetime.fromisoformat(expected)


def test_maintenance_without_an_end_is_a_usage_error(desk, run):
    result = run("announce", "new", "--kind", "maintenance", "--title", "Upgrade", "--start", "2026-11-28T22:00")
    assert result.exit_code == 2
    assert_one_line_error(result, "--end")
    assert announcement_files(desk) == []


@pytest.mark.parametrize("end", ["2026-11-28T21:00", "2026-11-28T22:00"])
def test_an_end_not_after_the_start_is_refused(desk, run, end):
    result = run(
        "announce", "new", "--kind", "maintenance", "--title", "Upgrade", "--start", "2026-11-28T22:00", "--end", end
    )
    assert result.exit_code in (1, 2)
    assert_one_line_error(result, end)
    assert announcement_files(desk) == []


@pytest.mark.parametrize(
    ("option", "value"),
    [("--customers", "zonnebloem,ziekenhuis-x"), ("--service", "payroll")],
)
def test_an_unknown_customer_or_service_is_refused(desk, run, option, value):
    result = run(
        "announce", "new", "--kind", "outage", "--title", "Storing", "--start", "2026-11-23T09:30", option, value
    )
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert_one_line_error(result, value.split(",")[-1])
    assert announcement_files(desk) == []


def test_a_when_that_is_no_moment_is_refused(desk, run):
    result = run("announce", "new", "--kind", "outage", "--title", "Storing", "--start", "tomorrow")
    assert result.exit_code == 2
    assert_one_line_error(result, "tomorrow")
    assert announcement_files(desk) == []


# --- business hours ------------------------------------------------------------------------


IN_BUSINESS_HOURS = (
    "--kind",
    "maintenance",
    "--title",
    "Upgrade",
    "--start",
    "2026-11-24T11:00",
    "--end",
    "2026-11-24T14:00",
)


def test_maintenance_in_business_hours_is_refused_in_a_script_without_confirm(desk, run):
    result = run("announce", "new", *IN_BUSINESS_HOURS)
    assert result.exit_code == 1
    assert_one_line_error(result, "maintenance during business hours of ", "--confirm")
    for customer in ("zonnebloem", "fod-digitaal", "vandijk", "brightwave"):
        assert f"{customer} (2h" in result.stderr
    assert announcement_files(desk) == []


def test_maintenance_in_business_hours_with_confirm_is_announced_with_a_warning(desk, run):
    result = run("announce", "new", *IN_BUSINESS_HOURS, "--confirm")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith("Warning: maintenance during business hours of ")
    assert "Warning" not in result.stdout
    assert len(announcement_files(desk)) == 1


def test_at_a_terminal_maintenance_in_business_hours_is_asked_about_first(desk, run, monkeypatch):
    monkeypatch.setattr(context, "interactive", lambda: True)
    declined = run("announce", "new", *IN_BUSINESS_HOURS, input="n\n")
    assert declined.exit_code == 1 and "Announce it anyway?" in declined.stderr
    assert declined.stderr.splitlines()[-1] == "Error: not announced"
    assert announcement_files(desk) == []
    assert run("announce", "new", *IN_BUSINESS_HOURS, input="y\n").exit_code == 0
    assert len(announcement_files(desk)) == 1


def test_a_window_that_already_ended_is_refused(desk, run):
    result = run(
        "announce",
        "new",
        "--kind",
        "outage",
        "--title",
        "Storing",
        "--start",
        "2026-11-20T09:00",
        "--end",
        "2026-11-20T11:00",
    )
    assert result.exit_code == 1
    assert_one_line_error(result, "already ended", "2026-11-20T11:00")
    assert announcement_files(desk) == []


def test_the_same_announcement_twice_is_refused_until_the_first_is_resolved(desk, run):
    first = announce(run, "outage", "2026-11-23T09:30", title="Storing  bezig")
    result = run("announce", "new", "--kind", "outage", "--title", "Storing bezig", "--start", "2026-11-23T09:30")
    assert result.exit_code == 1
    assert_one_line_error(result, f"already announced as {first}")
    again = run("announce", "new", "--kind", "outage", "--title", "storing BEZIG", "--start", "2026-11-23T09:30")
    assert again.exit_code == 1  # the same words, whatever their case
    both = ("--customers", "zonnebloem,vandijk")
    pair = announce(run, "outage", "2026-11-23T09:30", *both, title="Storing bezig")
    swapped = run(
        "announce",
        "new",
        "--kind",
        "outage",
        "--title",
        "Storing bezig",
        "--start",
        "2026-11-23T09:30",
        "--customers",
        "vandijk,zonnebloem",
    )
    assert_one_line_error(swapped, f"already announced as {pair}")
    assert announce(run, "outage", "2026-11-23T09:30", "--customers", "vandijk", title="Storing bezig") != first
    assert run("announce", "resolve", first, "--note", NOTE).exit_code == 0
    announce(run, "outage", "2026-11-23T09:30", title="Storing bezig")  # the first is over: a new outage


def test_the_warning_names_only_the_customers_of_the_service(desk, run):
    result = run("announce", "new", *IN_BUSINESS_HOURS, "--service", "care-dossier", "--confirm")
    assert result.exit_code == 0, result.output
    warning = next(line for line in result.stderr.splitlines() if line.startswith("Warning:"))
    assert "zonnebloem (2h" in warning
    assert "brightwave (2h" in warning
    assert "vandijk" not in warning
    assert "fod-digitaal" not in warning


def test_the_warning_counts_only_the_open_hours_overlapped(desk, run):
    result = run(
        "announce",
        "new",
        "--kind",
        "maintenance",
        "--title",
        "Upgrade",
        "--start",
        "2026-11-25T16:30",
        "--end",
        "2026-11-25T18:00",
        "--customers",
        "vandijk",
        "--confirm",
    )
    assert result.exit_code == 0, result.output
    warning = next(line for line in result.stderr.splitlines() if line.startswith("Warning:"))
    assert "vandijk (30m" in warning
    assert "zonnebloem" not in warning


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-11-28T22:00", "2026-11-28T23:59"),  # Saturday evening
        ("2026-11-25T18:00", "2026-11-25T22:00"),  # a weekday evening
        ("2026-11-25T17:00", "2026-11-25T19:00"),  # starting as the office closes
        ("2026-11-25T12:00", "2026-11-25T13:00"),  # over lunch
        ("2026-12-25T09:00", "2026-12-25T17:00"),  # Christmas, a Belgian holiday (a Friday)
        ("2026-12-24T09:00", "2026-12-24T17:00"),  # the desk's own closing day
    ],
)
def test_maintenance_outside_business_hours_gives_no_warning(desk, run, start, end):
    result = run("announce", "new", "--kind", "maintenance", "--title", "Upgrade", "--start", start, "--end", end)
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.output
    assert len(announcement_files(desk)) == 1


def test_an_outage_in_business_hours_gives_no_maintenance_warning(desk, run):
    result = run(
        "announce",
        "new",
        "--kind",
        "outage",
        "--title",
        "Storing",
        "--start",
        "2026-11-23T09:30",
        "--end",
        "2026-11-23T15:00",
    )
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.output


# --- announce list -------------------------------------------------------------------------


def test_a_service_announcement_concerns_only_the_customers_with_that_package(desk, run):
    announcement_id = announce(
        run, "maintenance", "2026-11-28T22:00", "--end", "2026-11-28T23:59", "--service", "care-dossier"
    )
    assert announcement_id in listing(run, "--customer", "brightwave")
    assert announcement_id in listing(run, "--customer", "zonnebloem")
    assert listing(run, "--customer", "vandijk") == {}
    assert listing(run, "--customer", "fod-digitaal") == {}
    assert announcement_id in listing(run)


def test_named_customers_limit_the_listing_per_customer(desk, run):
    announcement_id = announce(run, "outage", "2026-11-23T09:30", "--customers", "vandijk")
    assert announcement_id in listing(run, "--customer", "vandijk")
    assert listing(run, "--customer", "zonnebloem") == {}


def test_list_of_an_unknown_customer_is_refused(desk, run):
    announce(run, "outage", "2026-11-23T09:30")
    result = run("announce", "list", "--customer", "ziekenhuis-x")
    assert result.exit_code == 1
    assert_one_line_error(result, "ziekenhuis-x")


@pytest.fixture
def every_state(desk, run) -> dict[str, str]:
    """One announcement in every state at SDESK_NOW (Mon 23 Nov 10:00)."""
    made = {
        "planned": announce(run, "maintenance", "2026-11-28T22:00", "--end", "2026-11-28T23:59", title="Gepland"),
        "active-outage": announce(run, "outage", "2026-11-23T09:30", title="Storing bezig"),
        "active-maintenance": announce(
            run, "maintenance", "2026-11-23T06:00", "--end", "2026-11-23T11:00", "--confirm", title="Onderhoud bezig"
        ),
        "ended": announce(
            lambda *args: run(*args, env={"SDESK_NOW": "2026-11-20T10:00:00+01:00"}),  # announced beforehand
            "maintenance",
            "2026-11-21T22:00",
            "--end",
            "2026-11-21T23:00",
            title="Voorbij",
        ),
        "resolved": announce(run, "outage", "2026-11-23T08:00", title="Opgelost"),
    }
    result = run("announce", "resolve", made["resolved"], "--note", NOTE)
    assert result.exit_code == 0, result.output
    return made


def test_list_shows_planned_and_active_by_default(every_state, run):
    shown = listing(run)
    assert set(shown) == {every_state["planned"], every_state["active-outage"], every_state["active-maintenance"]}
    assert shown[every_state["planned"]]["state"] == "planned"
    assert shown[every_state["active-outage"]]["state"] == "active"
    assert shown[every_state["active-maintenance"]]["state"] == "active"


def test_list_active_shows_only_what_is_under_way(every_state, run):
    assert set(listing(run, "--active")) == {every_state["active-outage"], every_state["active-maintenance"]}


def test_list_all_shows_everything_with_its_state(every_state, run):
    shown = listing(run, "--all")
    assert {row["id"]: row["state"] for row in shown.values()} == {
        every_state["planned"]: "planned",
        every_state["active-outage"]: "active",
        every_state["active-maintenance"]: "active",
        every_state["ended"]: "ended",
        every_state["resolved"]: "resolved",
    }
    resolved = shown[every_state["resolved"]]
    assert resolved["resolution"] == NOTE
    assert datetime.fromisoformat(resolved["resolved"]) == MOMENT


def test_list_json_has_the_documented_fields(desk, run, new_ticket):
    announcement_id = announce(run, "outage", "2026-11-23T09:30", "--customers", "zonnebloem", title="Storing")
    new_ticket("--outage", announcement_id)
    row = listing(run)[announcement_id]
    assert row == {
        "id": announcement_id,
        "kind": "outage",
        "state": "active",
        "title": "Storing",
        "start": "2026-11-23T09:30:00+01:00",
        "end": None,
        "customers": ["zonnebloem"],
        "service": None,
        "linked_open": 1,
        "resolved": None,
        "resolution": None,
    }


def test_list_table_and_csv(every_state, run):
    table = run("announce", "list")
    assert table.exit_code == 0, table.output
    assert every_state["planned"] in table.stdout
    assert every_state["ended"] not in table.stdout
    csv_result = run("announce", "list", "--all", "--format", "csv")
    assert csv_result.exit_code == 0, csv_result.output
    header = csv_result.stdout.splitlines()[0]
    assert header.split(",")[:3] == ["id", "kind", "state"]
    assert len(csv_result.stdout.splitlines()) == 1 + len(every_state)


def test_list_without_announcements_says_so(desk, run):
    result = run("announce", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "No announcements." in result.stderr
    assert listing(run, "--all") == {}


def test_an_unresolved_outage_past_its_expected_end_stays_in_the_default_list(desk, run):
    announced_early = lambda *args: run(*args, env={"SDESK_NOW": "2026-11-23T08:15:00+01:00"})  # noqa: E731
    announcement_id = announce(announced_early, "outage", "2026-11-23T08:00", "--end", "2026-11-23T09:00")
    assert listing(run, "--active")[announcement_id]["state"] == "active"
    assert announcement_id in listing(run)


# --- broken announcement files -------------------------------------------------------------


@pytest.mark.parametrize(
    ("broken", "line", "words"),
    [
        (lambda text: text.replace("title: Storing", "title: [Storing"), 4, "invalid YAML"),
        (lambda text: text.replace("kind: outage", "kind: party"), 3, "party"),
        (lambda text: "\n".join(line for line in text.splitlines() if not line.startswith("title:")), 2, "title"),
    ],
    ids=["bad-yaml", "bad-kind", "missing-title"],
)
def test_a_broken_announcement_file_stops_list_with_its_location(desk, run, broken, line, words):
    announcement_id = announce(run, "outage", "2026-11-23T09:30", title="Storing")
    path = desk / "announcements" / f"{announcement_id}.yaml"
    text = path.read_text("utf-8")
    assert text.splitlines()[:4] == [
        "# yaml-language-server: $schema=../schemas/announcement.schema.json",
        f"id: {announcement_id}",
        "kind: outage",
        "title: Storing",
    ]
    path.write_text(broken(text), "utf-8")
    result = run("announce", "list")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert_one_line_error(result, f"announcements/{announcement_id}.yaml:{line}:", words)


# --- linking tickets to an outage ----------------------------------------------------------


def test_new_with_outage_sets_the_field(desk, run, new_ticket):
    announcement_id = announce(run, "outage", "2026-11-23T09:30", "--service", "care-dossier")
    ticket = new_ticket("--outage", announcement_id)
    assert ticket["outage"] == announcement_id
    assert ticket_file(desk, ticket["id"])["outage"] == announcement_id
    assert listing(run)[announcement_id]["linked_open"] == 1


def test_check_reports_a_ticket_linked_to_an_announcement_that_is_gone(desk, run, new_ticket):
    announcement_id = announce(run, "outage", "2026-11-23T09:30", "--service", "care-dossier")
    ticket = new_ticket("--outage", announcement_id)
    assert run("check").exit_code == 0
    (desk / "announcements" / f"{announcement_id}.yaml").unlink()
    result = run("check")
    assert result.exit_code == 1
    assert f"tickets/{ticket['id']}.yaml:" in result.stdout
    assert f"outage: no announcement {announcement_id} in announcements/" in result.stdout


def test_a_service_outage_is_refused_to_a_customer_without_the_package(desk, run, new_ticket):
    outage = announce(run, "outage", "2026-11-23T09:30", "--service", "care-dossier")
    ticket = new_ticket(**VANDIJK)
    result = run("link", ticket["id"], "--outage", outage)
    assert result.exit_code == 1
    assert_one_line_error(result, "vandijk", "care-dossier")
    assert "outage" not in ticket_file(desk, ticket["id"])
    assert new_ticket("--outage", outage, **BRIGHTWAVE)["outage"] == outage


def test_new_with_outage_takes_a_short_reference(desk, run, new_ticket):
    announcement_id = announce(run, "outage", "2026-11-23T09:30")
    ticket = new_ticket("--outage", announcement_id[-5:].lower())
    assert ticket["outage"] == announcement_id


def test_link_sets_the_field_and_records_it_in_the_history(desk, run, new_ticket):
    announcement_id = announce(run, "outage", "2026-11-23T09:30", title="Zorgdossier onbereikbaar")
    ticket = new_ticket()
    result = run("link", ticket["id"], "--outage", announcement_id)
    assert result.exit_code == 0, result.output
    assert announcement_id in result.stdout
    saved = ticket_file(desk, ticket["id"])
    assert saved["outage"] == announcement_id
    last = saved["history"][-1]
    assert last["by"] == AGENT
    assert last["changes"] == [{"field": "outage", "from": None, "to": announcement_id}]
    assert announcement_id in last["text"]
    assert len(saved["history"]) == 2


def test_show_names_the_outage(desk, run, new_ticket):
    announcement_id = announce(run, "outage", "2026-11-23T09:30")
    ticket = new_ticket("--outage", announcement_id)
    result = run("show", ticket["id"])
    assert result.exit_code == 0, result.output
    assert any(line.startswith("Outage") and announcement_id in line for line in result.stdout.splitlines())


@pytest.fixture
def refused_outages(desk, run) -> dict[str, str]:
    """Announcements a zonnebloem care-dossier ticket may not join, and why."""
    resolved = announce(run, "outage", "2026-11-23T08:00", title="Opgelost")
    assert run("announce", "resolve", resolved, "--note", NOTE).exit_code == 0
    return {
        "maintenance": announce(run, "maintenance", "2026-11-28T22:00", "--end", "2026-11-28T23:59"),
        "resolved": resolved,
        "other-customer": announce(run, "outage", "2026-11-23T09:30", "--customers", "vandijk,brightwave"),
        "other-service": announce(run, "outage", "2026-11-23T09:30", "--service", "fleet-telemetry"),
        "unknown": "000000-00000",
    }


REFUSALS = {
    "maintenance": "maintenance",
    "resolved": "resolved",
    "other-customer": "zonnebloem",
    "other-service": "zonnebloem",
    "unknown": "000000-00000",
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_new_refuses_an_outage_it_cannot_join_and_opens_nothing(desk, run, refused_outages, case):
    args = [part for key, value in TICKET_ARGS.items() for part in (key, value)]
    result = run("new", *args, "--outage", refused_outages[case])
    assert result.exit_code == 1
    assert_one_line_error(result, REFUSALS[case])
    assert list((desk / "tickets").glob("*.yaml")) == []
    assert pending_mail(desk) == set()


@pytest.mark.parametrize("case", list(REFUSALS))
def test_link_refuses_an_outage_it_cannot_join_and_changes_nothing(desk, run, new_ticket, refused_outages, case):
    ticket = new_ticket()
    before = (desk / "tickets" / f"{ticket['id']}.yaml").read_text("utf-8")
    result = run("link", ticket["id"], "--outage", refused_outages[case])
    assert result.exit_code == 1
    assert_one_line_error(result, REFUSALS[case])
    assert (desk / "tickets" / f"{ticket['id']}.yaml").read_text("utf-8") == before


def test_linking_twice_is_refused(desk, run, new_ticket):
    announcement_id = announce(run, "outage", "2026-11-23T09:30")
    ticket = new_ticket("--outage", announcement_id)
    before = (desk / "tickets" / f"{ticket['id']}.yaml").read_text("utf-8")
    result = run("link", ticket["id"], "--outage", announcement_id)
    assert result.exit_code == 1
    assert_one_line_error(result, "already linked")
    assert (desk / "tickets" / f"{ticket['id']}.yaml").read_text("utf-8") == before


def test_a_closed_ticket_cannot_be_linked(desk, run, new_ticket):
    announcement_id = announce(run, "outage", "2026-11-23T09:30")
    ticket = new_ticket()
    assert run("close", ticket["id"], "--resolution", "Opgelost").exit_code == 0
    result = run("link", ticket["id"], "--outage", announcement_id)
    assert result.exit_code == 1
    assert_one_line_error(result, "closed")
    assert "outage" not in ticket_file(desk, ticket["id"])


# --- announce resolve ----------------------------------------------------------------------


def test_resolve_closes_every_open_linked_ticket_and_mails_each_requester(desk, run, new_ticket):
    outage = announce(run, "outage", "2026-11-23T09:30", "--service", "care-dossier", title="Zorgdossier plat")
    first = new_ticket("--outage", outage)
    second = new_ticket("--outage", outage, **BRIGHTWAVE)
    unlinked = new_ticket(title="Ander probleem")
    closed_before = new_ticket("--outage", outage, title="Al opgelost")
    assert run("close", closed_before["id"], "--resolution", "Vanzelf opgelost").exit_code == 0
    closed_history = ticket_file(desk, closed_before["id"])["history"]
    mail_before = pending_mail(desk)

    result = run("announce", "resolve", outage, "--note", NOTE)
    assert result.exit_code == 0, result.output
    assert f"Resolved {outage}: Zorgdossier plat; closed 2 linked tickets." in result.stdout

    for ticket in (first, second):
        saved = ticket_file(desk, ticket["id"])
        assert saved["status"] == "closed"
        assert saved["resolution"] == NOTE
        assert saved["history"][-1]["event"] == "closed"
    assert ticket_file(desk, unlinked["id"])["status"] == "open"
    assert "resolution" not in ticket_file(desk, unlinked["id"])
    untouched = ticket_file(desk, closed_before["id"])
    assert untouched["resolution"] == "Vanzelf opgelost"
    assert untouched["history"] == closed_history

    new_mail = pending_mail(desk) - mail_before
    closed_mail = sorted(name for name in new_mail if name.endswith(".closed"))
    survey_mail = sorted(name for name in new_mail if name.endswith(".survey"))
    assert len(new_mail) == 4
    assert {name.split(".")[0] for name in closed_mail} == {first["id"], second["id"]}
    assert len(survey_mail) == 2
    recipients = {read_mail(desk, name)["To"].addresses[0].addr_spec for name in closed_mail}
    assert recipients == {first["requester"], second["requester"]}
    for name in closed_mail:
        assert NOTE in body(read_mail(desk, name))

    data = announcement_file(desk, outage)
    assert data["resolved"] == MOMENT
    assert data["resolved_by"] == AGENT
    assert data["resolution"] == NOTE
    row = listing(run, "--all")[outage]
    assert (row["state"], row["linked_open"], row["resolution"]) == ("resolved", 0, NOTE)


def test_resolve_without_linked_tickets_closes_none(desk, run):
    outage = announce(run, "outage", "2026-11-23T09:30", title="Storing")
    result = run("announce", "resolve", outage, "--note", NOTE)
    assert result.exit_code == 0, result.output
    assert "closed 0 linked tickets" in result.stdout
    assert announcement_file(desk, outage)["resolution"] == NOTE
    assert pending_mail(desk) == set()


def test_resolving_again_is_refused(desk, run, new_ticket):
    outage = announce(run, "outage", "2026-11-23T09:30")
    new_ticket("--outage", outage)
    assert run("announce", "resolve", outage, "--note", NOTE).exit_code == 0
    before = (desk / "announcements" / f"{outage}.yaml").read_text("utf-8")
    mail_before = pending_mail(desk)
    result = run("announce", "resolve", outage, "--note", "Nog eens")
    assert result.exit_code == 1
    assert_one_line_error(result, "already resolved")
    assert (desk / "announcements" / f"{outage}.yaml").read_text("utf-8") == before
    assert pending_mail(desk) == mail_before


def test_resolving_again_after_an_interrupted_run_closes_what_is_left(desk, run, new_ticket):
    outage = announce(run, "outage", "2026-11-23T09:30")
    done = new_ticket("--outage", outage, title="Al gesloten door de eerste run")
    left = new_ticket("--outage", outage, title="Nog open")
    assert run("close", done["id"], "--resolution", NOTE).exit_code == 0
    # The interrupted run got as far as marking the announcement resolved.
    path = desk / "announcements" / f"{outage}.yaml"
    path.write_text(
        path.read_text("utf-8") + f"resolved: 2026-11-23T09:45:00+01:00\nresolved_by: {AGENT}\nresolution: {NOTE}\n",
        "utf-8",
    )
    assert listing(run, "--all")[outage]["linked_open"] == 1

    result = run("announce", "resolve", outage, "--note", NOTE)
    assert result.exit_code == 0, result.output
    assert "closed 1 linked ticket." in result.stdout
    saved = ticket_file(desk, left["id"])
    assert (saved["status"], saved["resolution"]) == ("closed", NOTE)
    assert any(left["id"] in name and name.endswith(".closed") for name in pending_mail(desk))
    data = announcement_file(desk, outage)
    assert data["resolved"] == moment("2026-11-23T09:45")  # the first run's moment stays
    assert data["resolution"] == NOTE
    assert run("announce", "resolve", outage, "--note", NOTE).exit_code == 1


def test_resolve_of_an_unknown_announcement_or_without_a_note_is_refused(desk, run):
    outage = announce(run, "outage", "2026-11-23T09:30")
    unknown = run("announce", "resolve", "000000-00000", "--note", NOTE)
    assert unknown.exit_code == 1
    assert_one_line_error(unknown, "000000-00000")
    empty = run("announce", "resolve", outage, "--note", "   ")
    assert empty.exit_code == 2
    assert_one_line_error(empty, "--note")
    assert "resolved" not in announcement_file(desk, outage)


# --- cooperation incidents -----------------------------------------------------------------


COOPERATION = (
    "--cooperation",
    "--their-ticket",
    "ZB-2026-0815",
    "--their-email",
    "ict@zonnebloem.example",
    "--their-contact",
    "Bart Wouters",
    "--their-phone",
    "+32 50 44 12 99",
    "--their-impact",
    "company",
    "--their-urgency",
    "low",
)


def test_a_cooperation_incident_is_stored_as_a_mapping(desk, new_ticket):
    ticket = new_ticket(*COOPERATION, impact="department", urgency="medium")
    assert ticket_file(desk, ticket["id"])["cooperation"] == {
        "ticket": "ZB-2026-0815",
        "name": "Bart Wouters",
        "email": "ict@zonnebloem.example",
        "phone": "+32 50 44 12 99",
        "impact": "company",
        "urgency": "low",
    }


def test_show_mentions_their_ticket_and_contact(desk, run, new_ticket):
    ticket = new_ticket(*COOPERATION)
    result = run("show", ticket["id"])
    assert result.exit_code == 0, result.output
    assert "ZB-2026-0815" in result.stdout
    assert "Bart Wouters" in result.stdout
    assert "ict@zonnebloem.example" in result.stdout


def test_the_created_mail_copies_their_desk_and_names_both_tickets(desk, new_ticket):
    ticket = new_ticket(*COOPERATION, impact="department", urgency="medium")
    [name] = [name for name in pending_mail(desk) if name.endswith(".created")]
    message = read_mail(desk, name)
    assert [address.addr_spec for address in message["To"].addresses] == ["els.vermeulen@zonnebloem.example"]
    assert [address.addr_spec for address in message["Cc"].addresses] == ["ict@zonnebloem.example"]
    assert message["Cc"].addresses[0].display_name == "Bart Wouters"
    text = body(message)
    assert "ZB-2026-0815" in text
    assert ticket["id"] in text
    assert "company / low" in text  # as their desk sees it
    assert "department / medium" in text  # as we see it


def test_closing_copies_their_desk_but_the_survey_asks_the_requester_alone(desk, run, new_ticket):
    outage = announce(run, "outage", "2026-11-23T09:30")
    ticket = new_ticket(*COOPERATION, "--outage", outage)
    assert run("announce", "resolve", outage, "--note", NOTE).exit_code == 0
    names = pending_mail(desk)
    closed = read_mail(desk, next(name for name in names if name.endswith(".closed")))
    survey = read_mail(desk, next(name for name in names if name.endswith(".survey")))
    assert closed["Cc"].addresses[0].addr_spec == "ict@zonnebloem.example"
    assert survey["Cc"] is None
    assert ticket_file(desk, ticket["id"])["status"] == "closed"


@pytest.mark.parametrize("missing", ["--their-ticket", "--their-email"])
def test_cooperation_without_their_ticket_or_email_is_a_usage_error(desk, run, missing):
    args = [part for key, value in TICKET_ARGS.items() for part in (key, value)]
    cooperation = list(COOPERATION)
    at = cooperation.index(missing)
    del cooperation[at : at + 2]
    result = run("new", *args, *cooperation)
    assert result.exit_code == 2
    assert_one_line_error(result, missing)
    assert list((desk / "tickets").glob("*.yaml")) == []


def test_cooperation_with_a_bad_email_is_refused(desk, run):
    args = [part for key, value in TICKET_ARGS.items() for part in (key, value)]
    result = run("new", *args, "--cooperation", "--their-ticket", "ZB-1", "--their-email", "ict at zonnebloem")
    assert result.exit_code == 1
    assert_one_line_error(result, "ict at zonnebloem")
    assert list((desk / "tickets").glob("*.yaml")) == []


def test_update_their_urgency_is_recorded_in_the_history(desk, run, new_ticket):
    ticket = new_ticket(*COOPERATION)
    result = run("update", ticket["id"], "--their-urgency", "high")
    assert result.exit_code == 0, result.output
    saved = ticket_file(desk, ticket["id"])
    assert saved["cooperation"]["urgency"] == "high"
    assert saved["cooperation"]["ticket"] == "ZB-2026-0815"
    last = saved["history"][-1]
    assert last["event"] == "updated"
    assert last["by"] == AGENT
    assert {"field": "cooperation_urgency", "from": "low", "to": "high"} in last["changes"]
    assert saved["priority"] == ticket["priority"]  # their view does not move our priority
