"""The policy through the CLI: who may open a ticket, costs, dry runs, priorities by hand, explain."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sdesk.cli import context
from tests.conftest import AGENT, REPO, ok

STRANGER = ("--requester", "jan.janssens@zonnebloem.example")


def tickets_in(desk) -> list:
    return sorted((desk / "tickets").glob("*.yaml"))


def test_an_ineligible_request_is_refused_with_every_reason_and_nothing_is_written(desk, run):
    result = run(
        "new",
        "--title",
        "Medicatielijst leeg",
        "--type",
        "incident",
        "--customer",
        "zonnebloem",
        *STRANGER,
        "--product",
        "medication",
        "--site",
        "2101",
        "--contact-phone",
        "+32 50 00 00 00",
        "--description",
        "Sinds vanochtend leeg.",
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: not eligible: jan.janssens@zonnebloem.example is not a designated reference person of "
        "WZC De Zonnebloem; maintenance of Medicatiemodule was paid until 2026-09-30: it has ended "
        "(to open it anyway: --override REASON)\n"
    )
    assert tickets_in(desk) == []


def test_override_opens_it_and_records_the_reason_and_what_failed(desk, run, new_ticket):
    ticket = new_ticket(
        *STRANGER, "--contact-phone", "+32 50 44 12 99", "--override", "Nieuwe teamleider, aanmelding loopt"
    )
    created = ticket["history"][0]
    assert created["text"] == (
        "Opened although not eligible (jan.janssens@zonnebloem.example is not a designated reference person "
        "of WZC De Zonnebloem). Reason: Nieuwe teamleider, aanmelding loopt"
    )
    explained = run("rules", "explain", ticket["id"])
    assert "Eligibility: NOT eligible" in explained.stdout
    assert "Reason: Nieuwe teamleider" in explained.stdout


def test_a_fourth_editor_cannot_be_declared_for_a_site(desk, run):
    rules = desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    fourth = (
        "      - name: Ine Wouters\n"
        "        email: ine.wouters@zonnebloem.example\n"
        "        role: technical\n"
        '        sites: ["2101"]\n'
    )
    rules.write_text(text.replace("  fod-digitaal:\n", fourth + "\n  fod-digitaal:\n", 1), encoding="utf-8")
    result = run("rules", "check")
    assert result.exit_code == 1
    assert (
        "customers.zonnebloem.sites.2101: site 2101 has 4 editors "
        "(Els Vermeulen, Tom Claeys, Wim De Smet, Ine Wouters); at most 3 may edit a site"
    ) in result.stdout


def test_a_hardware_request_is_refused_in_scripts_until_the_costs_are_accepted(desk, run, new_ticket):
    hardware = ("--title", "Printer in de verpleegpost drukt niet af")
    result = run("new", *[part for pair in _defaults().items() for part in pair][2:], *hardware)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: may cost extra, hardware: Hardware valt buiten het contract.")  # nl desk
    assert "(once the customer knows: --accept-costs)" in result.stderr
    assert tickets_in(desk) == []
    ticket = new_ticket(*hardware, "--accept-costs")
    assert ticket["exclusions"] == ["hardware"]
    assert ticket["history"][0]["text"].startswith("May cost extra (hardware), accepted by the agent: Hardware valt")
    shown = run("show", ticket["id"]).stdout
    assert "May cost extra  hardware (outside the contract)" in shown


def show_json(run, ticket_id: str) -> dict:
    return json.loads(ok(run("show", ticket_id, "--format", "json")))


def test_an_update_that_makes_a_ticket_fall_outside_the_contract_needs_the_costs_accepted(desk, run, new_ticket):
    ticket = new_ticket()["id"]
    refused = run("update", ticket, "--description", "Ook de printers op de afdeling drukken niets meer af.")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: may cost extra, hardware: Hardware valt buiten het contract.")
    assert "--accept-costs" in refused.stderr and show_json(run, ticket)["exclusions"] == []
    accepted = run("update", ticket, "--description", "Ook de printers drukken niets meer af.", "--accept-costs")
    assert accepted.exit_code == 0 and "May cost extra (hardware): Hardware valt buiten" in accepted.stderr
    flagged = show_json(run, ticket)
    assert flagged["exclusions"] == ["hardware"]
    assert flagged["history"][-1]["changes"][-1] == {"field": "exclusions", "from": None, "to": "hardware"}
    assert "text" not in flagged["history"][-1]  # no note given: nothing for the customer to read
    logged = json.loads(ok(run("log", ticket, "30m", "--note", "Printerstuurprogramma nagekeken", "--format", "json")))
    assert logged["history"][-1]["billing"] == "billable"  # outside the contract: billed unless said otherwise
    ok(run("update", ticket, "--title", "Printer en scanner op afdeling 2B"))  # already flagged: nothing to accept
    ok(run("update", ticket, "--status", "in-progress"))  # a status change alone never asks


def test_an_exclusion_the_ticket_matched_already_never_blocks_an_unrelated_update(desk, run, new_ticket):
    ticket = new_ticket()["id"]  # "Het zorgdossier van bewoner 1182 opent niet meer."
    rules = desk / "rules.yaml"
    added = "  - name: records\n    message: Records work is billed.\n    when: {text: {matches: 'bewoner'}}\n"
    rules.write_text(rules.read_text().replace("  - name: user-error\n", added + "  - name: user-error\n"))
    ok(run("rules", "check"))
    ok(run("update", ticket, "--contact-phone", "+32 50 44 12 11"))  # matched before this change: not asked
    assert show_json(run, ticket)["exclusions"] == []
    refused = run("update", ticket, "--title", "Printer op de afdeling")  # this change does match one anew
    assert refused.exit_code == 1 and "hardware" in refused.stderr and "records" not in refused.stderr


def test_on_a_terminal_an_update_outside_the_contract_is_confirmed_first(desk, run, new_ticket, monkeypatch):
    ticket = new_ticket()["id"]
    monkeypatch.setattr(context, "interactive", lambda: True)
    declined = run("update", ticket, "--title", "Nieuwe medewerkers opleiden in het zorgdossier", input="n\n")
    assert declined.exit_code == 1
    assert "Outside the contract (training)" in declined.stderr
    assert "Error: not changed: the work may cost extra and was not confirmed" in declined.stderr
    assert show_json(run, ticket)["title"] == "Zorgdossier opent niet"
    ok(run("update", ticket, "--title", "Nieuwe medewerkers opleiden in het zorgdossier", input="y\n"))
    assert show_json(run, ticket)["exclusions"] == ["training"]


def test_on_a_terminal_the_agent_confirms_the_costs_before_the_ticket_is_saved(desk, run, monkeypatch):
    monkeypatch.setattr(context, "interactive", lambda: True)
    args = ["new", "--format", "json", *[part for pair in _defaults().items() for part in pair]]
    args += ["--title", "Laptop van de hoofdverpleegkundige start niet"]
    declined = run(*args, input="n\n")
    assert declined.exit_code == 1
    assert "Outside the contract (hardware)" in declined.stderr
    assert "because title contains 'Laptop'" in declined.stderr
    assert "Error: not opened: the work may cost extra and was not confirmed" in declined.stderr
    assert tickets_in(desk) == []
    accepted = run(*args, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.stdout)["exclusions"] == ["hardware"]


def test_dry_run_explains_and_saves_nothing(desk, run):
    args = [part for pair in _defaults().items() for part in pair]
    ok = run("new", "--dry-run", *args, "--impact", "company", "--urgency", "high")
    assert ok.exit_code == 0, ok.output
    assert "Priority P1\n  ✓ priority.matrix: impact company × urgency high → P1" in ok.stdout
    assert "  ✓ reference person: Els Vermeulen is WZC De Zonnebloem's general reference person" in ok.stdout
    assert "Team servicedesk: no routing rule matched" in ok.stdout
    assert "sdesk new would open it: P1, team servicedesk." in ok.stderr
    refused = run("new", "--dry-run", *args, "--site", "2109")
    assert refused.exit_code == 1
    assert "  ✗ site: site 2109 is not a site of WZC De Zonnebloem (its sites: 2101, 2102)" in refused.stdout
    assert refused.stderr.startswith("Error: sdesk new would refuse: not eligible: site 2109")
    assert tickets_in(desk) == []


def test_dry_run_as_json_gives_the_decisions_to_scripts(desk, run):
    args = [part for pair in _defaults().items() for part in pair]
    result = run("new", "--dry-run", "--format", "json", *args, "--customer", "fod-digitaal", *_fod())
    data = json.loads(result.stdout)
    assert data["priority"]["level"] == "P2"
    assert [(step["rule"], step["applied"], step["level"]) for step in data["priority"]["steps"]] == [
        ("default", True, "P3"),
        ("business-critical-down", False, "P3"),
        ("managed-services-first", True, "P2"),
    ]
    assert data["eligible"] is True and data["missing"] == [] and data["excluded"] == []


def test_routing_sends_a_complaint_to_service_management_unless_a_team_is_named(desk, new_ticket):
    complaint = new_ticket("--type", "complaint", "--title", "Reactietermijn niet gehaald")
    assert complaint["team"] == "service-management"
    named = new_ticket("--type", "complaint", "--title", "Reactietermijn niet gehaald", "--team", "servicedesk")
    assert named["team"] == "servicedesk"


def test_mandatory_fields_per_type_are_asked_for_in_scripts_with_exit_1(desk, run):
    result = run(
        "new", "--title", "Traag", "--type", "incident", "--customer", "brightwave", "--requester", _brightwave()
    )
    assert result.exit_code == 1
    assert result.stderr == ("Error: an incident needs --site, --description (rules.yaml: types.incident.required)\n")


def test_priority_by_hand_is_recorded_and_p1_asks_for_a_phone_call(desk, run, new_ticket):
    ticket_id = new_ticket("--impact", "individual", "--urgency", "low")["id"]
    assert run("priority", ticket_id, "P1").exit_code == 2  # --reason is required
    result = run("priority", ticket_id, "P1", "--reason", "Directie vraagt voorrang")
    assert result.exit_code == 0, result.output
    # The new level's targets run from the ticket's creation (10:00 on a standard plan).
    assert result.stdout == (
        f"{ticket_id}: priority P4 → P1\n"
        "  Response    due Mon 23 Nov 11:00, 1h 00m of open time left\n"
        "  Resolution  due Tue 24 Nov 10:00, 7h 00m of open time left\n"
    )
    assert result.stderr == (
        f"P1: phone the customer as well: Els Vermeulen, +32 50 44 12 10 (then: sdesk call {ticket_id} --note …)\n"
    )
    shown = json.loads(run("show", ticket_id, "--format", "json").stdout)
    assert shown["history"][-1] == {
        "at": "2026-11-23T10:00:00+01:00",
        "by": AGENT,
        "event": "priority",
        "changes": [
            {"field": "priority", "from": "P4", "to": "P1"},
            {"field": "sla_response", "from": "2 business days", "to": "1h"},
            {"field": "sla_resolution", "from": "10 business days", "to": "1 business day"},
            {"field": "sla_callback", "from": "1 business day", "to": "1h"},
        ],
        "text": "Directie vraagt voorrang",
    }
    assert "Priority        P1 (set by hand)" in run("show", ticket_id).stdout
    unknown = run("priority", ticket_id, "p2", "--reason", "x")
    assert unknown.exit_code == 1 and unknown.stderr == "Error: unknown priority 'p2' (did you mean 'P2'?)\n"


def test_a_new_p1_ticket_asks_for_a_phone_call(desk, run):
    args = [part for pair in _defaults().items() for part in pair]
    result = run("new", *args, "--impact", "company", "--urgency", "high")
    assert result.exit_code == 0, result.output
    assert "P1: phone the customer as well: Els Vermeulen, +32 50 44 12 10" in result.stderr


def test_status_moves_outside_the_declared_transitions_are_refused(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    result = run("update", ticket_id, "--status", "awaiting-acceptance")
    assert result.exit_code == 1
    assert "rules.yaml allows open → in-progress, waiting-for-customer, on-hold, scheduled, closed" in result.stderr


def test_rules_explain_shows_every_rule_fired_or_not(desk, run, new_ticket):
    ticket_id = new_ticket("--customer", "fod-digitaal", *_fod(), "--impact", "company", "--urgency", "medium")["id"]
    result = run("rules", "explain", ticket_id)
    assert result.exit_code == 0, result.output
    for line in (
        "Priority P1",
        "  ✓ priority.matrix: impact company × urgency medium → P2",
        "  · business-critical-down does not apply: business_critical is false, not true; "
        "urgency is 'medium', not 'high'",
        "  ✓ managed-services-first: plan is 'managed-services' → P2 becomes P1",
        "  ! P1: phone the customer as well",
        "Eligibility: eligible",
        "Exclusions: none apply",
        "  · customisation: category is not set, not 'customisation'",
        "  · complaints-to-service-management → service-management: type is 'incident', not 'complaint'",
    ):
        assert line in result.stdout.splitlines()
    rows = run("rules", "explain", ticket_id, "--format", "csv").stdout.splitlines()
    assert rows[0] == "section,rule,result,detail"
    assert "eligibility,maintenance,pass,maintenance of Web Content Platform is paid until 2028-01-31" in rows


def test_explain_says_when_the_ticket_differs_from_what_the_rules_say_now(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    run("priority", ticket_id, "P1", "--reason", "Escalatie door de klant")
    result = run("rules", "explain", ticket_id)
    assert "The ticket has priority P1 (set by hand)." in result.stdout
    assert "set priority P3 → P1: Escalatie door de klant" in result.stdout


def test_check_reports_undeclared_statuses_types_and_missing_mandatory_fields(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    path = desk / "tickets" / f"{ticket_id}.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("status: open", "status: opgelost").replace("site: '2101'\n", "")
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    status_line = next(n for n, line in enumerate(lines, 1) if line.startswith("status:"))
    type_line = next(n for n, line in enumerate(lines, 1) if line.startswith("type:"))
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"desk/tickets/{ticket_id}.yaml:{type_line}:1: type: site is missing: an incident needs site "
        "(rules.yaml: types.incident.required)",
        f"desk/tickets/{ticket_id}.yaml:{status_line}:1: status: unknown status 'opgelost' "
        "(expected one of: open, in-progress, waiting-for-customer, on-hold, scheduled, awaiting-acceptance, closed)",
    ]


def test_schema_command_prints_json_schemas_that_init_also_writes(run, tmp_path):
    printed = json.loads(run("schema", "rules").stdout)
    assert printed["title"] == "sdesk rules.yaml" and "customers" in printed["properties"]
    assert run("schema", "desk").exit_code == 2
    assert run("init", "fresh").exit_code == 0
    written = json.loads((tmp_path / "fresh" / "schemas" / "ticket.schema.json").read_text())
    assert written == json.loads(run("schema", "ticket").stdout)
    assert (
        (tmp_path / "fresh" / "rules.yaml")
        .read_text()
        .startswith("# yaml-language-server: $schema=schemas/rules.schema.json\n")
    )


def test_rules_check_in_a_real_process_for_ci(tmp_path):
    broken = tmp_path / "rules.yaml"
    broken.write_text(
        (REPO / "rules.yaml").read_text(encoding="utf-8").replace("at_least: P2", "at_least: P9"), encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "sdesk", "rules", "check", "rules.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    line = next(n for n, text in enumerate(broken.read_text().splitlines(), 1) if "at_least: P9" in text)
    assert result.returncode == 1
    assert result.stdout == (
        f"rules.yaml:{line}:7: priority.adjustments.0.at_least: 'P9' is not valid (expected one of: P1, P2, P3, P4)\n"
    )
    assert result.stderr == "Error: rules.yaml: 1 problem\n"
    clean = subprocess.run(
        [sys.executable, "-m", "sdesk", "rules", "check", str(REPO / "rules.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert clean.returncode == 0 and "OK (6 customers" in clean.stdout


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_explain_of_an_unknown_ticket_is_one_line(desk, run, fmt):
    result = run("rules", "explain", "ZZZZZZ", "--format", fmt)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")


def _defaults() -> dict[str, str]:
    from tests.conftest import TICKET_DEFAULTS

    return dict(TICKET_DEFAULTS)


def _fod() -> tuple[str, ...]:
    return ("--requester", "pieter.janssens@fod-dt.example", "--product", "web-platform", "--site", "4711")


def _brightwave() -> str:
    return "olivia.hughes@brightwave.example"


def test_a_broken_rules_yaml_never_hides_a_ticket_from_show(desk, run, new_ticket):
    ticket_id = new_ticket()["id"]
    rules = desk / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("plan: 24x7", "plan: 24x8"), encoding="utf-8")
    assert run("list").exit_code == 1
    shown = run("show", ticket_id)
    assert shown.exit_code == 0 and ticket_id in shown.stdout
