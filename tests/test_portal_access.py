"""Who may sign in to the portal and what they see: a customer's contacts, their own customer's tickets;
and the audit line each sign-in leaves."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest
from msgspec.structs import replace

from sdesk.errors import SdeskError
from sdesk.formats import yamlio
from sdesk.policy import rules
from sdesk.portal import audit
from sdesk.portal.access import Viewer, may_see, viewer_for
from tests.conftest import REPO
from tests.test_workflow import NOW, make


@pytest.fixture(scope="module")
def example_rules() -> rules.Rules:
    return rules.parse(yamlio.load((REPO / "rules.yaml").read_text(encoding="utf-8"), REPO / "rules.yaml"))


def test_a_customers_contact_signs_in_as_that_customer_in_any_case(example_rules):
    viewer = viewer_for(example_rules, "Els.Vermeulen@Zonnebloem.example")
    sites = ("2101", "2102")
    assert viewer == Viewer("els.vermeulen@zonnebloem.example", "Els Vermeulen", "zonnebloem", "nl", sites)
    assert viewer_for(example_rules, "pieter.janssens@fod-dt.example").customer == "fod-digitaal"


@pytest.mark.parametrize(
    "address",
    ["jan@zonnebloem.example", "an.wouters@caresolutions.example", "servicedesk@caresolutions.example", ""],
)
def test_strangers_agents_and_the_desk_itself_are_nobodys_contact(example_rules, address):
    assert viewer_for(example_rules, address) is None


def test_a_contact_sees_their_customers_tickets_and_not_one_moved_away(example_rules):
    vandijk = viewer_for(example_rules, "m.devries@vandijk.example")
    zonnebloem = viewer_for(example_rules, "els.vermeulen@zonnebloem.example")
    ticket = make(example_rules)
    assert may_see(ticket, vandijk) and not may_see(ticket, zonnebloem)
    moved = replace(ticket, customer="zonnebloem")
    assert may_see(moved, zonnebloem) and not may_see(moved, vandijk)


def test_a_contact_who_sees_only_their_sites_sees_those_and_what_they_asked_themselves(example_rules):
    sofie = viewer_for(example_rules, "sofie.peeters@zonnebloem.example")  # portal: sites, site 2102
    els = viewer_for(example_rules, "els.vermeulen@zonnebloem.example")
    assert sofie.only_sites and sofie.sites == ("2102",)
    brugge = replace(make(example_rules), customer="zonnebloem", site="2101", requester="tom.claeys@zonnebloem.example")
    oostende = replace(brugge, site="2102")
    her_own = replace(brugge, requester="Sofie.Peeters@zonnebloem.example")
    assert [may_see(ticket, sofie) for ticket in (brugge, oostende, her_own)] == [False, True, True]
    assert all(may_see(ticket, els) for ticket in (brugge, oostende, her_own))


def test_a_contact_with_no_portal_cannot_sign_in(example_rules):
    customer = example_rules.customers["vandijk"]
    closed = replace(customer.contacts[0], portal="none")
    rules_without = replace(
        example_rules, customers={**example_rules.customers, "vandijk": replace(customer, contacts=(closed,))}
    )
    assert viewer_for(rules_without, "m.devries@vandijk.example") is None
    assert viewer_for(example_rules, "m.devries@vandijk.example") is not None


def test_each_sign_in_event_is_one_json_line_whatever_the_address_holds(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    audit.record(path, NOW, "link-sent", "els.vermeulen@zonnebloem.example", "192.0.2.7")
    audit.record(path, NOW, "stranger", 'x@y.example\n{"event": "signed-in"}\x1b[2J', "192.0.2.8")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["link-sent", "stranger"]
    assert json.loads(lines[1])["address"].startswith("x@y.example\n") and "\x1b" not in lines[1]
    assert datetime.fromisoformat(json.loads(lines[0])["at"]) == NOW
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(ValueError):
        audit.record(path, NOW, "hacked", "x@y.example", "192.0.2.8")


def test_the_audit_is_never_written_through_a_symbolic_link(tmp_path: Path) -> None:
    (tmp_path / "audit.log").symlink_to(tmp_path / "elsewhere.log")
    with pytest.raises(SdeskError, match="cannot write the sign-in audit"):
        audit.record(tmp_path / "audit.log", NOW, "signed-in", "els.vermeulen@zonnebloem.example", "192.0.2.7")
    assert not (tmp_path / "elsewhere.log").exists()
