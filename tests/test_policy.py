"""The example desk's rules applied to tickets: priority, eligibility, mandatory fields, exclusions, routing."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from sdesk.actions import workflow
from sdesk.errors import Refused
from sdesk.formats import yamlio
from sdesk.policy import decisions, rules
from tests.conftest import REPO

ON = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=1)))
AGENT = "agent@caresolutions.example"

ELS = "els.vermeulen@zonnebloem.example"  # general, both sites
TOM = "tom.claeys@zonnebloem.example"  # technical, both sites
SOFIE = "sofie.peeters@zonnebloem.example"  # campus Oostende, edits 2102 only
WIM = "wim.desmet@zonnebloem.example"  # campus Brugge, edits 2101 only
STRANGER = "jan.jansen@gmail.example"

# A complete, eligible incident of De Zonnebloem; each test changes what it is about.
ZONNEBLOEM = {
    "title": "Zorgdossier opent niet",
    "type": "incident",
    "customer": "zonnebloem",
    "requester": ELS,
    "product": "care-dossier",
    "site": "2101",
    "contact_phone": "+32 50 44 12 10",
    "description": "Het zorgdossier van bewoner 1182 opent niet meer.",
}
FOD = {
    **ZONNEBLOEM,
    "customer": "fod-digitaal",
    "requester": "pieter.janssens@fod-dt.example",
    "product": "web-platform",
    "site": "4711",
}
# The hardware exclusion's message in the example desk's language (nl): what agents read.
HARDWARE_NL = (
    "Hardware valt buiten het contract. We stellen een diagnose, brengen u op de hoogte en nemen zo nodig "
    "contact op met de leverancier; verder werk kan aangerekend worden."
)
VANDIJK = {
    **ZONNEBLOEM,
    "customer": "vandijk",
    "requester": "j.bakker@vandijk.example",
    "product": "fleet-telemetry",
    "site": "3001",
}


@pytest.fixture(scope="module")
def example_data() -> Any:
    return yamlio.load((REPO / "rules.yaml").read_text(encoding="utf-8"), REPO / "rules.yaml")


@pytest.fixture(scope="module")
def example_rules(example_data: Any) -> rules.Rules:
    return rules.parse(copy.deepcopy(example_data))


def assess(example_rules: rules.Rules, base: dict[str, str], on: date = ON, **changes: str | None):
    return decisions.assess(example_rules, {**base, **changes}, on)


def failed(assessment: decisions.Assessment) -> dict[str, str]:
    return {check.name: check.detail for check in assessment.failed_eligibility}


# --- eligibility (seeds 003, 004) ------------------------------------------------------------------


def test_reference_person_is_eligible(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM)
    assert assessment.eligible
    assert [(check.name, check.detail) for check in assessment.eligibility] == [
        ("reference person", "Els Vermeulen is WZC De Zonnebloem's general reference person"),
        ("site", "site 2101 is WZC De Zonnebloem, Campus Brugge"),
        ("maintenance", "maintenance of Care Dossier is paid until 2027-06-30"),
    ]


def test_reference_person_is_recognised_whatever_the_case_of_the_email(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, requester="Tom.Claeys@Zonnebloem.EXAMPLE")
    assert assessment.eligible
    assert assessment.eligibility[0].detail == "Tom Claeys is WZC De Zonnebloem's technical reference person"


def test_stranger_is_not_eligible_and_the_message_names_the_customer(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, requester=STRANGER)
    assert not assessment.eligible
    assert failed(assessment) == {
        "reference person": f"{STRANGER} is not a designated reference person of WZC De Zonnebloem"
    }


def test_reference_person_of_another_customer_is_a_stranger_here(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, requester="pieter.janssens@fod-dt.example")
    assert failed(assessment) == {
        "reference person": "pieter.janssens@fod-dt.example is not a designated reference person of WZC De Zonnebloem"
    }


def test_unpaid_maintenance_is_not_eligible(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, product="medication", on=date(2026, 11, 23))
    assert failed(assessment) == {
        "maintenance": "maintenance of Medicatiemodule was paid until 2026-09-30: it has ended"
    }


def test_maintenance_is_paid_through_its_last_day(example_rules):
    last_day = assess(example_rules, ZONNEBLOEM, product="medication", on=date(2026, 9, 30))
    assert last_day.eligible
    assert last_day.eligibility[2].detail == "maintenance of Medicatiemodule is paid until 2026-09-30"
    day_after = assess(example_rules, ZONNEBLOEM, product="medication", on=date(2026, 10, 1))
    assert not day_after.eligible


def test_a_complaint_needs_no_product_or_paid_maintenance_but_still_a_reference_person(example_rules):
    complaint = {**ZONNEBLOEM, "type": "complaint", "product": None}
    lapsed = assess(example_rules, complaint, product="medication", on=date(2026, 11, 23))  # maintenance ended
    assert lapsed.eligible
    assert lapsed.eligibility[2].detail == "not needed for a complaint: it is about the desk, not a product"
    assert assess(example_rules, complaint).eligible
    assert failed(assess(example_rules, complaint, requester=STRANGER)) == {
        "reference person": f"{STRANGER} is not a designated reference person of WZC De Zonnebloem"
    }
    assert assess(example_rules, complaint).team == "service-management"


def test_product_without_a_package_is_not_eligible(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, product="web-platform")
    assert failed(assessment) == {"maintenance": "WZC De Zonnebloem has no package for Web Content Platform"}


@pytest.mark.parametrize(
    ("requester", "site", "eligible"),
    [
        (SOFIE, "2102", True),
        (WIM, "2101", True),
        (ELS, "2102", True),
        (TOM, "2101", True),
    ],
)
def test_campus_and_general_reference_persons_for_the_sites_they_edit(example_rules, requester, site, eligible):
    assert assess(example_rules, ZONNEBLOEM, requester=requester, site=site).eligible is eligible


def test_campus_reference_person_for_a_site_they_do_not_edit_is_not_eligible(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, requester=SOFIE, site="2101")
    assert failed(assessment) == {"site": "Sofie Peeters is not an editor of site 2101 (edits: 2102)"}
    assessment = assess(example_rules, ZONNEBLOEM, requester=WIM, site="2102")
    assert failed(assessment) == {"site": "Wim De Smet is not an editor of site 2102 (edits: 2101)"}


def test_site_of_another_customer_is_not_eligible(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, site="4711")
    assert failed(assessment) == {"site": "site 4711 is not a site of WZC De Zonnebloem (its sites: 2101, 2102)"}


def test_customer_with_several_packages_and_no_product_gets_a_hint(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, product=None)
    assert failed(assessment) == {
        "maintenance": "no product given; WZC De Zonnebloem has packages for care-dossier, medication (pass --product)"
    }


def test_every_failed_check_is_reported_not_only_the_first(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, requester=STRANGER, site="4711", product="medication")
    assert list(failed(assessment)) == ["reference person", "site", "maintenance"]


def test_unknown_customer_is_not_eligible(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, customer="acme")
    assert failed(assessment) == {"customer": "unknown customer 'acme'"}


# --- mandatory fields per ticket type (seeds 000, 003) ------------------------------------------


@pytest.mark.parametrize(
    ("ticket_type", "cleared", "missing"),
    [
        ("incident", ["description"], ["description"]),
        (
            "incident",
            ["product", "site", "contact_phone", "description"],
            ["product", "site", "contact_phone", "description"],
        ),
        ("incident", [], []),
        ("service-request", ["description", "contact_phone"], []),
        ("service-request", ["site"], ["site"]),
        ("change", ["description"], ["description"]),
        ("complaint", ["product", "site", "description"], ["description"]),
        ("question", ["product", "site", "contact_phone", "description"], []),
    ],
)
def test_mandatory_fields_depend_on_the_type(example_rules, ticket_type, cleared, missing):
    assessment = assess(example_rules, ZONNEBLOEM, type=ticket_type, **dict.fromkeys(cleared))
    assert assessment.missing == tuple(missing)


def test_missing_description_says_the_type_needs_it(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, description="")
    assert assessment.missing == ("description",)
    assert [check.detail for check in assessment.required if not check.passed] == ["an incident needs it"]


# --- exclusions (seed 004) -------------------------------------------------------------------------


def excluded(assessment: decisions.Assessment) -> dict[str, tuple[str, ...]]:
    return {match.rule: match.reasons for match in assessment.excluded}


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"title": "De printer op afdeling 2B drukt niet af"}, ("title contains 'printer'",)),
        ({"title": "PRINTER kapot"}, ("title contains 'PRINTER'",)),
        ({"description": "Sinds de update toont het beeldscherm niets"}, ("description contains 'beeldscherm'",)),
        ({"title": "Printers op campus Brugge offline"}, ("title contains 'Printers'",)),
        ({"title": "PC van de verpleegpost start niet"}, ("title contains 'PC'",)),
        ({"description": "Twee pc's in de refter hangen"}, ("description contains 'pc's'",)),
        ({"category": "hardware"}, ("category is 'hardware'",)),
        (
            {"category": "hardware", "error_message": "scanner not found"},
            ("category is 'hardware'", "error_message contains 'scanner'"),
        ),
    ],
)
def test_hardware_problem_matches_the_hardware_exclusion_with_what_matched(example_rules, changes, reasons):
    assessment = assess(example_rules, ZONNEBLOEM, **changes)
    assert excluded(assessment) == {"hardware": reasons}
    [hardware] = assessment.excluded
    assert hardware.outcome.startswith("Hardware valt buiten het contract.")  # the desk's language: agents read it


@pytest.mark.parametrize(
    ("desk_language", "hardware", "backup"),
    [
        ("nl", "Hardware valt buiten het contract.", "Back-ups vallen niet onder het contract;"),
        ("en", "Hardware falls outside the contract.", "Backups are not part of the contract;"),
        ("de", "Hardware ist nicht im Vertrag enthalten.", "Backups are not part of the contract;"),  # no German
    ],
)
def test_an_agent_reads_an_exclusion_message_in_the_desks_language_else_in_english(
    example_data, desk_language, hardware, backup
):
    data = copy.deepcopy(example_data)
    data["desk"]["language"] = desk_language
    assessment = assess(rules.parse(data), ZONNEBLOEM, category="hardware", title="Back-up van de printer")
    messages = {match.rule: match.outcome for match in assessment.excluded}
    assert messages["hardware"].startswith(hardware) and messages["backup"].startswith(backup)


def test_an_exclusion_message_given_as_one_text_reads_the_same_in_every_language(example_data):
    data = copy.deepcopy(example_data)
    data["exclusions"][0]["message"] = "Hardware is billed."
    [hardware, *_] = rules.parse(data).exclusions
    assert hardware.messages == dict.fromkeys(rules.LANGUAGES, "Hardware is billed.")


def test_ordinary_ticket_matches_no_exclusion_and_says_why_for_each(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, category="application")
    assert assessment.excluded == ()
    hardware = next(match for match in assessment.exclusions if match.rule == "hardware")
    assert hardware.reasons == (
        "category is 'application', not 'hardware'",
        "no match for /\\b(printers?|scanners?|toetsenborden|toetsenbord|keyboards?|laptops?|beeldschermen|beeldscherm"
        "|monitors?|harde schijf|harde schijven|pc'?s?|computers?|imprimantes?|claviers?|ordinateurs?|disques? durs?"
        "|drucker|tastatur(en)?|bildschirme?|festplatten?)\\b/ in title, description or error message",
    )


@pytest.mark.parametrize(
    "text",
    [
        "Kunnen jullie onze nieuwe medewerkers opleiden?",
        "Opleiding voor nieuwe collega's",
        "Nieuwe collega’s inwerken",
        "Nieuwe collega inwerken in het dossier",
        "Training for new staff",
    ],
)
def test_training_of_new_staff_is_caught_in_its_common_wordings(example_rules, text):
    assert "training" in excluded(assess(example_rules, ZONNEBLOEM, title=text))


def test_a_word_that_merely_contains_pc_or_printer_is_not_hardware(example_rules):
    for title in ("Koppeling met de PCB-leverancier en de printerwachtrij-API", "Epcis-export faalt bij de apotheek"):
        assert not excluded(assess(example_rules, ZONNEBLOEM, title=title)), title


def test_network_is_excluded_unless_the_customer_pays_for_network_support(example_rules):
    zonnebloem = assess(example_rules, ZONNEBLOEM, category="network")
    assert excluded(zonnebloem) == {
        "operating-system-or-network": (
            "category is 'network', one of 'operating-system', 'network'",
            "product is 'care-dossier', not 'warehouse-network'",
        )
    }
    vandijk = assess(example_rules, VANDIJK, category="network", product="warehouse-network")
    assert excluded(vandijk) == {}


# --- priority (seeds 000, 001, 002) -----------------------------------------------------------------


def steps(assessment: decisions.Assessment) -> list[tuple[str, bool, str]]:
    return [(step.rule, step.applied, step.level) for step in assessment.priority.steps]


@pytest.mark.parametrize(
    ("impact", "urgency", "level", "phone"),
    [
        ("company", "high", "P1", True),
        ("company", "low", "P3", False),
        ("department", "medium", "P3", False),
        ("individual", "medium", "P4", False),
    ],
)
def test_priority_comes_from_the_impact_urgency_matrix(example_rules, impact, urgency, level, phone):
    # web-platform is not business-critical, so no adjustment applies
    assessment = assess(example_rules, ZONNEBLOEM, product="web-platform", impact=impact, urgency=urgency)
    assert (assessment.priority.level, assessment.priority.phone) == (level, phone)
    assert assessment.priority.steps[0].reasons == (f"impact {impact} × urgency {urgency}",)


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({}, "impact and urgency not known yet"),
        ({"impact": "company"}, "urgency not known yet"),
        ({"urgency": "low"}, "impact not known yet"),
    ],
)
def test_default_priority_while_impact_or_urgency_is_unknown(example_rules, given, reason):
    assessment = assess(example_rules, ZONNEBLOEM, **given)
    assert assessment.priority.level == "P3"
    first = assessment.priority.steps[0]
    assert (first.rule, first.applied, first.reasons, first.level) == ("default", True, (reason,), "P3")


def test_managed_services_customer_is_raised_one_level_after_the_matrix(example_rules):
    assessment = assess(example_rules, FOD, impact="department", urgency="medium")
    assert assessment.priority.level == "P2"
    assert steps(assessment) == [
        ("matrix", True, "P3"),
        ("business-critical-down", False, "P3"),
        ("managed-services-first", True, "P2"),
    ]
    assert assessment.priority.steps[2].reasons == ("plan is 'managed-services'",)


def test_standard_customer_is_not_raised(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, product="web-platform", impact="department", urgency="medium")
    assert assessment.priority.level == "P3"
    assert assessment.priority.steps[2].reasons == ("plan is 'standard', not 'managed-services'",)


def test_business_critical_product_down_is_at_least_p2(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, product="care-dossier", impact="individual", urgency="high")
    assert assessment.priority.level == "P2"
    assert steps(assessment)[:2] == [("matrix", True, "P3"), ("business-critical-down", True, "P2")]
    assert assessment.priority.steps[1].reasons == ("business_critical is true", "urgency is 'high'")


def test_business_critical_down_does_not_lower_a_p1(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, product="care-dossier", impact="company", urgency="high")
    assert steps(assessment)[:2] == [("matrix", True, "P1"), ("business-critical-down", True, "P1")]


def test_non_critical_product_down_keeps_the_matrix_level(example_rules):
    assessment = assess(example_rules, ZONNEBLOEM, product="web-platform", impact="individual", urgency="high")
    assert assessment.priority.level == "P3"
    assert assessment.priority.steps[1].reasons == ("business_critical is false, not true",)


# --- routing (seed 001) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "changes", "team", "reason"),
    [
        (ZONNEBLOEM, {"type": "complaint"}, "service-management", "routing rule complaints-to-service-management"),
        (ZONNEBLOEM, {"category": "network"}, "noc", "routing rule network-to-noc"),
        (VANDIJK, {"product": "warehouse-network"}, "noc", "routing rule network-to-noc"),
        (VANDIJK, {}, "iot", "routing rule iot-to-iot-desk"),
        (ZONNEBLOEM, {}, "servicedesk", "no routing rule matched: the desk's default team"),
        (
            ZONNEBLOEM,
            {"type": "complaint", "category": "network"},
            "service-management",
            "routing rule complaints-to-service-management",
        ),
        (VANDIJK, {"team": "servicedesk"}, "servicedesk", "named by the agent"),
        (ZONNEBLOEM, {"type": "complaint", "team": "noc"}, "noc", "named by the agent"),
    ],
)
def test_routing_picks_the_first_matching_team_unless_the_agent_names_one(example_rules, base, changes, team, reason):
    assessment = assess(example_rules, base, **changes)
    assert (assessment.team, assessment.team_reason) == (team, reason)


def test_routes_are_all_evaluated_even_when_the_agent_names_the_team(example_rules):
    assessment = assess(example_rules, VANDIJK, team="servicedesk")
    assert [(route.rule, route.matched) for route in assessment.routes] == [
        ("complaints-to-service-management", False),
        ("network-to-noc", False),
        ("iot-to-iot-desk", True),
    ]


# --- priority arithmetic: raise, lower, at_least, at_most, set -------------------------------------

# impact × urgency → level in the example matrix
LEVEL = {
    "P1": ("company", "high"),
    "P2": ("company", "medium"),
    "P3": ("company", "low"),
    "P4": ("department", "low"),
}


def with_adjustments(example_data: Any, *adjustments: dict[str, Any]) -> rules.Rules:
    data = copy.deepcopy(example_data)
    data["priority"]["adjustments"] = list(adjustments)
    return rules.parse(data)


@pytest.mark.parametrize(
    ("action", "operand", "start", "end"),
    [
        ("raise", 1, "P3", "P2"),
        ("raise", 2, "P4", "P2"),
        ("raise", 1, "P1", "P1"),
        ("raise", 5, "P3", "P1"),
        ("lower", 1, "P2", "P3"),
        ("lower", 1, "P4", "P4"),
        ("lower", 3, "P2", "P4"),
        ("at_least", "P2", "P4", "P2"),
        ("at_least", "P2", "P2", "P2"),
        ("at_least", "P2", "P1", "P1"),
        ("at_most", "P3", "P1", "P3"),
        ("at_most", "P3", "P3", "P3"),
        ("at_most", "P3", "P4", "P4"),
        ("set", "P4", "P1", "P4"),
        ("set", "P1", "P4", "P1"),
        ("set", "P2", "P2", "P2"),
    ],
)
def test_adjustment_moves_the_level_and_stops_at_the_ends(example_data, action, operand, start, end):
    custom = with_adjustments(example_data, {"name": "zonnebloem", "when": {"customer": "zonnebloem"}, action: operand})
    impact, urgency = LEVEL[start]
    assessment = decisions.assess(custom, {**ZONNEBLOEM, "impact": impact, "urgency": urgency}, ON)
    assert steps(assessment) == [("matrix", True, start), ("zonnebloem", True, end)]
    assert assessment.priority.level == end


def test_adjustment_whose_condition_does_not_hold_leaves_the_level(example_data):
    custom = with_adjustments(example_data, {"name": "fod", "when": {"customer": "fod-digitaal"}, "set": "P1"})
    assessment = decisions.assess(custom, {**ZONNEBLOEM, "impact": "department", "urgency": "low"}, ON)
    assert steps(assessment) == [("matrix", True, "P4"), ("fod", False, "P4")]
    assert assessment.priority.steps[1].reasons == ("customer is 'zonnebloem', not 'fod-digitaal'",)


def test_adjustments_apply_in_the_order_listed(example_data):
    raise_then_cap = with_adjustments(
        example_data,
        {"name": "raise", "when": {"customer": "zonnebloem"}, "raise": 2},
        {"name": "cap", "when": {"customer": "zonnebloem"}, "at_most": "P2"},
    )
    cap_then_raise = with_adjustments(
        example_data,
        {"name": "cap", "when": {"customer": "zonnebloem"}, "at_most": "P2"},
        {"name": "raise", "when": {"customer": "zonnebloem"}, "raise": 2},
    )
    values = {**ZONNEBLOEM, "impact": "company", "urgency": "low"}  # P3
    assert steps(decisions.assess(raise_then_cap, values, ON)) == [
        ("matrix", True, "P3"),
        ("raise", True, "P1"),
        ("cap", True, "P2"),
    ]
    assert steps(decisions.assess(cap_then_raise, values, ON)) == [
        ("matrix", True, "P3"),
        ("cap", True, "P3"),
        ("raise", True, "P1"),
    ]


def test_adjustment_applies_to_the_default_level_too(example_data):
    custom = with_adjustments(example_data, {"name": "zonnebloem", "when": {"customer": "zonnebloem"}, "lower": 1})
    assessment = decisions.assess(custom, ZONNEBLOEM, ON)
    assert steps(assessment) == [("default", True, "P3"), ("zonnebloem", True, "P4")]


# --- opening a ticket: refusals, override, accepted costs -------------------------------------------


def test_ineligible_ticket_is_refused_with_every_reason_in_one_message(example_rules):
    plan = workflow.plan_new(
        example_rules, {**ZONNEBLOEM, "requester": STRANGER, "site": "4711", "product": "medication"}, NOW
    )
    with pytest.raises(Refused) as refused:
        workflow.create(example_rules, plan, AGENT, NOW)
    assert str(refused.value) == (
        f"not eligible: {STRANGER} is not a designated reference person of WZC De Zonnebloem; "
        "site 4711 is not a site of WZC De Zonnebloem (its sites: 2101, 2102); "
        "maintenance of Medicatiemodule was paid until 2026-09-30: it has ended "
        "(to open it anyway: --override REASON)"
    )


def test_ineligible_ticket_is_refused_with_a_blank_override(example_rules):
    plan = workflow.plan_new(example_rules, {**ZONNEBLOEM, "requester": STRANGER}, NOW)
    with pytest.raises(Refused, match="not eligible"):
        workflow.create(example_rules, plan, AGENT, NOW, override="  ")


def test_override_opens_an_ineligible_ticket_and_records_the_reason(example_rules):
    plan = workflow.plan_new(example_rules, {**ZONNEBLOEM, "product": "medication"}, NOW)
    ticket = workflow.create(
        example_rules, plan, AGENT, NOW, override="Renewal signed on 2026-11-20, invoice pending", random_bits=7
    )
    assert (ticket.status, ticket.product, ticket.exclusions) == ("open", "medication", ())
    [created] = ticket.history
    assert (created.kind, created.by, created.at) == ("created", AGENT, NOW)
    assert created.text == (
        "Opened although not eligible (maintenance of Medicatiemodule was paid until 2026-09-30: it has ended)."
        " Reason: Renewal signed on 2026-11-20, invoice pending"
    )


def test_eligible_ticket_is_created_without_a_note(example_rules):
    plan = workflow.plan_new(example_rules, ZONNEBLOEM, NOW)
    ticket = workflow.create(example_rules, plan, AGENT, NOW, random_bits=7)
    assert ticket.history[0].text is None
    assert (ticket.priority, ticket.team) == ("P3", "servicedesk")


def test_excluded_ticket_is_refused_until_the_costs_are_accepted(example_rules):
    plan = workflow.plan_new(example_rules, {**ZONNEBLOEM, "title": "Printer op 2B drukt niet af"}, NOW)
    with pytest.raises(Refused) as refused:
        workflow.create(example_rules, plan, AGENT, NOW)
    assert str(refused.value) == f"may cost extra, hardware: {HARDWARE_NL} (once the customer knows: --accept-costs)"
    with pytest.raises(Refused, match="may cost extra, hardware"):
        workflow.create(example_rules, plan, AGENT, NOW, override="the customer is a friend")

    ticket = workflow.create(example_rules, plan, AGENT, NOW, accept_costs=True, random_bits=7)
    assert ticket.exclusions == ("hardware",)
    assert ticket.history[0].text == f"May cost extra (hardware), accepted by the agent: {HARDWARE_NL}"


def test_ineligible_and_excluded_ticket_needs_both_override_and_accepted_costs(example_rules):
    plan = workflow.plan_new(example_rules, {**ZONNEBLOEM, "requester": STRANGER, "category": "hardware"}, NOW)
    with pytest.raises(Refused) as refused:
        workflow.create(example_rules, plan, AGENT, NOW)
    assert "not eligible: " in str(refused.value) and "may cost extra, hardware" in str(refused.value)
    with pytest.raises(Refused, match="may cost extra"):
        workflow.create(example_rules, plan, AGENT, NOW, override="on the phone with the director")
    with pytest.raises(Refused, match="not eligible"):
        workflow.create(example_rules, plan, AGENT, NOW, accept_costs=True)
    ticket = workflow.create(
        example_rules, plan, AGENT, NOW, override="on the phone with the director", accept_costs=True, random_bits=7
    )
    assert ticket.exclusions == ("hardware",)
    assert ticket.history[0].text.splitlines() == [
        f"Opened although not eligible ({STRANGER} is not a designated reference person of WZC De Zonnebloem)."
        " Reason: on the phone with the director",
        f"May cost extra (hardware), accepted by the agent: {HARDWARE_NL}",
    ]


def test_missing_mandatory_fields_are_not_lifted_by_override_or_accepted_costs(example_rules):
    plan = workflow.plan_new(example_rules, {**ZONNEBLOEM, "description": None}, NOW)
    with pytest.raises(Refused) as refused:
        workflow.create(example_rules, plan, AGENT, NOW, override="urgent", accept_costs=True)
    assert str(refused.value) == "an incident needs --description (rules.yaml: types.incident.required)"


def test_plan_new_fills_the_only_product_and_the_reference_persons_phone(example_rules):
    values = {
        "title": "Login fails",
        "type": "incident",
        "customer": "brightwave",
        "requester": "sam.patel@brightwave.example",
        "site": "5001",
        "description": "Nobody can log in since 09:00.",
    }
    plan = workflow.plan_new(example_rules, values, NOW)
    assert plan.values["product"] == "care-dossier"
    assert plan.values["contact_phone"] == "+44 20 7946 0388"
    assert plan.refusals == []


def test_changing_to_a_business_critical_product_reapplies_business_critical_down(example_rules):
    values = {**ZONNEBLOEM, "product": "web-platform", "impact": "individual", "urgency": "high"}
    plan = workflow.plan_new(example_rules, values, NOW)
    ticket = workflow.create(example_rules, plan, AGENT, NOW, override="pilot installation", random_bits=7)
    assert ticket.priority == "P3"
    ticket.apply(workflow.update(ticket, example_rules, {"product": "care-dossier"}, AGENT, NOW))
    expected = decisions.assess(example_rules, ticket.fields(), ON).priority.level
    assert expected == "P2"
    assert ticket.priority == expected
