"""The workflow rules as pure functions: what is allowed, what gets recorded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from msgspec.structs import replace

from sdesk.actions import workflow
from sdesk.errors import InvalidData, Refused
from sdesk.formats import yamlio
from sdesk.policy import rules
from sdesk.storage import merge
from sdesk.tickets import model
from tests.conftest import REPO

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=1)))
LATER = NOW + timedelta(hours=1)
AGENT = "an@caresolutions.example"


@pytest.fixture(scope="module")
def example_rules() -> rules.Rules:
    return rules.parse(yamlio.load((REPO / "rules.yaml").read_text(encoding="utf-8"), REPO / "rules.yaml"))


def make(example_rules: rules.Rules, **values: str):
    fields = {
        "title": "Wifi valt weg",
        "type": "incident",
        "customer": "vandijk",
        "requester": "j.bakker@vandijk.example",
        "product": "warehouse-network",
        "site": "3001",
        "description": "Handterminals in hal 3 verliezen de verbinding.",
        **values,
    }
    plan = workflow.plan_new(example_rules, fields, NOW)
    return workflow.create(example_rules, plan, AGENT, NOW, random_bits=1)


def test_create_opens_ticket_with_priority_from_matrix_and_team_from_routing(example_rules):
    ticket = make(example_rules, impact="company", urgency="high")
    assert (ticket.status, ticket.priority, ticket.team) == ("open", "P1", "noc")
    assert [(event.kind, event.by, event.at, event.text) for event in ticket.history] == [("created", AGENT, NOW, None)]


def test_create_fills_contact_details_from_the_reference_person(example_rules):
    ticket = make(example_rules)
    assert (ticket.contact_name, ticket.contact_phone) == ("Joost Bakker", "+31 13 580 22 45")


def test_create_without_impact_gets_the_default_priority(example_rules):
    assert make(example_rules).priority == "P3"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer", "vandyk", "unknown customer 'vandyk' (did you mean 'vandijk'?)"),
        ("team", "nok", "unknown team 'nok' (did you mean 'noc'?)"),
        ("site", "123", "site ID '123' must be 4 digits"),
        ("requester", "joost", "requester 'joost' is not an email address"),
        ("url", "portaal.example", "url 'portaal.example' must start with http:// or https://"),
        ("title", "   ", "title must not be empty"),
    ],
)
def test_create_refuses_bad_values(example_rules, field, value, message):
    with pytest.raises(InvalidData) as caught:
        make(example_rules, **{field: value})
    assert str(caught.value) == message


def test_update_records_every_change_with_from_and_to(example_rules):
    ticket = make(example_rules)
    event = workflow.update(
        ticket, example_rules, {"status": "in-progress", "assignee": AGENT}, AGENT, LATER, "picked up"
    )
    ticket.apply(event)
    assert ticket.status == "in-progress" and ticket.assignee == AGENT
    assert [(c.field, c.old, c.new) for c in event.changes] == [
        ("status", "open", "in-progress"),
        ("assignee", None, AGENT),
    ]
    assert (event.kind, event.text, event.at) == ("updated", "picked up", LATER)


def test_update_of_impact_recomputes_priority_and_records_it(example_rules):
    ticket = make(example_rules, impact="individual", urgency="high")
    event = workflow.update(ticket, example_rules, {"impact": "company"}, AGENT, LATER)
    # The new level brings the plan's P1 targets, recorded in the same event (24x7: P1 runs around the clock).
    assert [(c.field, c.old, c.new) for c in event.changes] == [
        ("impact", "individual", "company"),
        ("priority", "P3", "P1"),
        ("sla_calendar", "office", "always"),
        ("sla_response", "4h", "30m"),
        ("sla_resolution", "3 business days", "8h"),
        ("sla_callback", "2h", "30m"),
    ]


def test_update_with_same_values_is_refused_and_records_nothing(example_rules):
    ticket = make(example_rules)
    with pytest.raises(Refused, match="nothing to change"):
        workflow.update(ticket, example_rules, {"status": "open"}, AGENT, LATER)


def test_update_cannot_clear_a_mandatory_field_but_can_clear_an_optional_one(example_rules):
    ticket = make(example_rules, category="network")
    with pytest.raises(InvalidData, match="title must not be empty"):
        workflow.update(ticket, example_rules, {"title": ""}, AGENT, LATER)
    event = workflow.update(ticket, example_rules, {"category": ""}, AGENT, LATER)
    assert [(c.field, c.old, c.new) for c in event.changes] == [("category", "network", None)]


def test_update_refuses_closing_and_closed_tickets(example_rules):
    ticket = make(example_rules)
    with pytest.raises(Refused, match="sdesk close"):
        workflow.update(ticket, example_rules, {"status": "closed"}, AGENT, LATER)
    ticket.apply(workflow.close(ticket, example_rules, "fixed", AGENT, LATER))
    with pytest.raises(Refused, match="it is closed"):
        workflow.update(ticket, example_rules, {"title": "x"}, AGENT, LATER)
    with pytest.raises(Refused, match="it is closed"):
        workflow.comment(ticket, example_rules, "hello", AGENT, LATER)
    with pytest.raises(Refused, match="it is closed"):
        workflow.set_priority(ticket, example_rules, "P1", "urgent", AGENT, LATER)


def test_close_needs_a_resolution_and_reopen_a_reason(example_rules):
    ticket = make(example_rules)
    with pytest.raises(Refused, match="resolution"):
        workflow.close(ticket, example_rules, "  \n", AGENT, LATER)
    ticket.apply(workflow.close(ticket, example_rules, "Access point vervangen", AGENT, LATER))
    assert (ticket.status, ticket.resolution) == ("closed", "Access point vervangen")
    with pytest.raises(Refused, match="already closed"):
        workflow.close(ticket, example_rules, "again", AGENT, LATER)
    with pytest.raises(Refused, match="reason"):
        workflow.reopen(ticket, example_rules, "", AGENT, LATER)
    ticket.apply(workflow.reopen(ticket, example_rules, "Valt opnieuw weg", AGENT, LATER))
    assert (ticket.status, ticket.resolution) == ("open", None)
    assert [event.kind for event in ticket.history] == ["created", "closed", "reopened"]
    assert ticket.history[-1].changes[1].old == "Access point vervangen"  # the old resolution stays in history


def test_reopen_refuses_an_open_ticket(example_rules):
    with pytest.raises(Refused, match="is not closed"):
        workflow.reopen(make(example_rules), example_rules, "why", AGENT, LATER)


def test_comments_are_public_unless_internal_and_need_text(example_rules):
    ticket = make(example_rules)
    assert workflow.comment(ticket, example_rules, "Graag een schermafdruk", AGENT, LATER).visibility == "public"
    assert workflow.comment(ticket, example_rules, "DNS?", AGENT, LATER, internal=True).visibility == "internal"
    with pytest.raises(Refused, match="needs text"):
        workflow.comment(ticket, example_rules, "\n\n", AGENT, LATER)


def test_status_moves_follow_the_transitions_in_rules_yaml(example_rules):
    ticket = make(example_rules)
    with pytest.raises(Refused) as caught:
        workflow.update(ticket, example_rules, {"status": "awaiting-acceptance"}, AGENT, LATER)
    assert str(caught.value) == (
        f"cannot move {ticket.id} from open to awaiting-acceptance: rules.yaml allows "
        "open → in-progress, waiting-for-customer, on-hold, scheduled, closed"
    )
    with pytest.raises(InvalidData, match="unknown status 'in-progres' \\(did you mean 'in-progress'\\?\\)"):
        workflow.update(ticket, example_rules, {"status": "in-progres"}, AGENT, LATER)
    ticket.apply(workflow.update(ticket, example_rules, {"status": "in-progress"}, AGENT, LATER))
    ticket.apply(workflow.update(ticket, example_rules, {"status": "awaiting-acceptance"}, AGENT, LATER))
    assert ticket.status == "awaiting-acceptance"


def test_a_ticket_in_an_undeclared_status_can_be_moved_back_into_the_workflow(example_rules):
    ticket = make(example_rules)
    ticket.status = "resolved"  # e.g. a status removed from rules.yaml since
    event = workflow.update(ticket, example_rules, {"status": "in-progress"}, AGENT, LATER)
    assert [(c.field, c.old, c.new) for c in event.changes] == [("status", "resolved", "in-progress")]


def test_priority_by_hand_needs_a_reason_and_is_then_left_alone_by_the_rules(example_rules):
    ticket = make(example_rules, impact="individual", urgency="low")
    assert ticket.priority == "P4"
    with pytest.raises(Refused, match="needs a reason"):
        workflow.set_priority(ticket, example_rules, "P2", "  ", AGENT, LATER)
    with pytest.raises(InvalidData, match="unknown priority 'P5'"):
        workflow.set_priority(ticket, example_rules, "P5", "why", AGENT, LATER)
    with pytest.raises(Refused, match="already has priority P4"):
        workflow.set_priority(ticket, example_rules, "P4", "why", AGENT, LATER)
    event = workflow.set_priority(ticket, example_rules, "P2", "Hele magazijn ligt stil", AGENT, LATER)
    assert (event.kind, event.text, [(c.field, c.old, c.new) for c in event.changes]) == (
        "priority",
        "Hele magazijn ligt stil",
        [
            ("priority", "P4", "P2"),
            ("sla_response", "1 business day", "2h"),
            ("sla_resolution", "10 business days", "1 business day"),
            ("sla_callback", "4h", "1h"),
        ],
    )
    ticket.apply(event)
    assert ticket.priority_set_by_hand
    update = workflow.update(ticket, example_rules, {"impact": "company"}, AGENT, LATER)
    assert [c.field for c in update.changes] == ["impact"]  # the rules no longer move a level set by hand


def test_a_change_to_what_an_adjustment_reads_recomputes_the_priority(example_rules):
    ticket = make(
        example_rules,
        title="Zorgdossier traag",
        customer="zonnebloem",
        requester="els.vermeulen@zonnebloem.example",
        product="care-dossier",
        site="2101",
        impact="individual",
        urgency="medium",
    )
    assert ticket.priority == "P4"
    event = workflow.update(ticket, example_rules, {"urgency": "high"}, AGENT, LATER)
    # individual x high is P3, and a business-critical product down is at least P2
    assert [(c.field, c.old, c.new) for c in event.changes] == [
        ("urgency", "medium", "high"),
        ("priority", "P4", "P2"),
        ("sla_response", "2 business days", "4h"),
        ("sla_resolution", "10 business days", "2 business days"),
        ("sla_callback", "1 business day", "2h"),
    ]


def test_close_picks_among_several_final_statuses_and_reopen_needs_a_way_out(example_rules):
    text = (
        (REPO / "rules.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "    final: true\n    next: [open]",
            "    final: true\n    next: [open]\n  cancelled:\n    label: {en: Cancelled}\n    final: true",
            1,
        )
    )
    text = text.replace(
        "next: [in-progress, waiting-for-customer, on-hold, scheduled, closed]",
        "next: [in-progress, waiting-for-customer, on-hold, scheduled, closed, cancelled]",
        1,
    )
    desk_rules = rules.parse(yamlio.load(text, REPO / "rules.yaml"))
    assert desk_rules.final_statuses == ("closed", "cancelled")
    ticket = make(desk_rules)
    with pytest.raises(InvalidData, match="'open' is not a final status \\(expected one of: closed, cancelled\\)"):
        workflow.close(ticket, desk_rules, "dubbel", AGENT, LATER, status="open")
    assert workflow.close(ticket, desk_rules, "fixed", AGENT, LATER).changes[0].new == "closed"
    ticket.apply(workflow.close(ticket, desk_rules, "Dubbel ticket", AGENT, LATER, status="cancelled"))
    assert ticket.status == "cancelled"
    with pytest.raises(Refused) as caught:
        workflow.reopen(ticket, desk_rules, "toch nodig", AGENT, LATER)
    assert str(caught.value) == "rules.yaml allows no way out of cancelled (statuses.cancelled.next is empty)"


def test_exclusions_flagged_in_two_clones_at_once_merge_into_a_ticket_that_reads_back(example_rules):
    base = make(example_rules, impact="individual", urgency="low")
    ours, theirs = (replace(base, history=list(base.history)) for _ in range(2))
    ours.apply(workflow.update(ours, example_rules, {"title": "Printer kapot"}, AGENT, LATER, accept_costs=True))
    theirs.apply(
        workflow.update(
            theirs,
            example_rules,
            {"description": "Back-up terugzetten"},
            AGENT,
            LATER + timedelta(minutes=1),
            accept_costs=True,
        )
    )
    merged, decided = merge.merge(base, ours, theirs)
    assert merged.exclusions == ("backup", "hardware")  # flags are only added: both clones' stand
    assert decided == []
    assert model.from_dict(model.to_dict(merged)) == merged
