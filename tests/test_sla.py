"""SLA clocks, the sweep, the queue and the SLA report, against the example desk's rules.yaml.

Every expected moment below was worked out by hand with a wall calendar, never
from the code. The "office" calendar is open Mon-Fri 09:00-12:00 and
13:00-17:00 Europe/Brussels (7 open hours a day), closed on Belgian public
holidays and on the desk's closing days 2026-12-24 and 2026-12-31; "always"
is open around the clock. Plans (rules.yaml):

* standard (zonnebloem), office: P1 1h / 1 business day, P2 4h / 2 business
  days, P3 1 business day / 5 business days, P4 2 / 10 business days;
* 24x7 (vandijk): P1 30m / 8h on the always-open calendar, P2 2h / 1
  business day on office;
* managed-services (fod-digitaal), office: P1 30m / 4h, P2 2h / 1 business day.

Dates used (2026 unless said otherwise): Sat 10-24 / Sun 10-25 (clocks go back
at 03:00), Tue 11-10, Wed 11-11 (Armistice Day, BE holiday), Thu 11-12, Fri
11-13, Tue 11-17, Thu 11-19, Fri 11-20, Sat 11-21, Sun 11-22, Mon 11-23 ...
Fri 11-27, Mon 11-30, Mon 12-21, Wed 12-23, Thu 12-24 (closing day), Fri 12-25
(Christmas), Mon 12-28, Tue 12-29, Thu 12-31 (closing day), Fri 2027-01-01
(New Year), Mon 2027-01-04, Tue 2027-01-05, Fri 2027-01-08.

The rules the expectations follow (README "SLA clocks" and the maintainers'
decisions):

* a clock is late on the wall clock: when it stops, or now, is after its due
  moment; at the due moment itself it is on time. ``open_time_late`` is the
  open time past the target, which stays 0 while the desk is closed;
* a target in hours or minutes is due at the earliest moment its open time is
  used up (Friday 16:00 + 1h is Friday 17:00); a target in business days
  whose open time runs out exactly at a closing (12:00 or 17:00) is due at
  the next opening instead, the same moment of business time ("1 business
  day" from Monday 09:00 is due Tuesday 09:00, not Monday 17:00).
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdesk.actions import workflow
from sdesk.clocks import sla, slareport, sweep, workqueue
from sdesk.formats import yamlio
from sdesk.policy import rules
from sdesk.tickets.model import Change, Event, Ticket
from tests.conftest import REPO

BRUSSELS = ZoneInfo("Europe/Brussels")
AGENT = "an@caresolutions.example"
SWEEPER = "sdesk sweep"  # whoever runs it: two sweeps record the same event
PAUSING = ("waiting-for-customer", "on-hold", "scheduled", "awaiting-acceptance")

CUSTOMERS = {
    "zonnebloem": {"requester": "els.vermeulen@zonnebloem.example", "product": "care-dossier", "site": "2101"},
    "vandijk": {"requester": "j.bakker@vandijk.example", "product": "warehouse-network", "site": "3001"},
    "fod-digitaal": {"requester": "pieter.janssens@fod-dt.example", "product": "web-platform", "site": "4711"},
}
# impact and urgency that give each level (None: neither set, the default P3; managed services go up one)
LEVELS = {
    "zonnebloem": {"P1": ("company", "high"), "P2": ("company", "medium"), "P3": None, "P4": ("individual", "low")},
    "vandijk": {"P1": ("company", "high"), "P2": ("company", "medium"), "P3": None, "P4": ("individual", "low")},
    "fod-digitaal": {"P1": ("company", "high"), "P2": None, "P3": ("individual", "low")},
}
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def example_rules() -> rules.Rules:
    return rules.parse(yamlio.load((REPO / "rules.yaml").read_text(encoding="utf-8"), REPO / "rules.yaml"))


def at(text: str) -> datetime:
    """A Brussels wall-clock moment, "2026-11-23 10:00"; an explicit offset wins."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=BRUSSELS)


def make(
    example_rules: rules.Rules, created: str, level: str = "P2", customer: str = "zonnebloem", **values: str
) -> Ticket:
    fields = {
        "title": "Zorgdossier opent niet",
        "type": "incident",
        "customer": customer,
        "description": "Het dossier van bewoner 1182 opent niet meer.",
        **CUSTOMERS[customer],
    }
    pair = LEVELS[customer][level]
    if pair:
        fields.update(impact=pair[0], urgency=pair[1])
    fields.update(values)
    plan = workflow.plan_new(example_rules, fields, at(created))
    ticket = workflow.create(example_rules, plan, AGENT, at(created), random_bits=next(_numbers))
    assert ticket.priority == level
    return ticket


def move(ticket: Ticket, example_rules: rules.Rules, status: str, when: str, by: str = AGENT) -> Ticket:
    ticket.apply(workflow.update(ticket, example_rules, {"status": status}, by, at(when)))
    return ticket


def say(ticket: Ticket, example_rules: rules.Rules, when: str, by: str = AGENT, **options: bool) -> Ticket:
    ticket.apply(workflow.comment(ticket, example_rules, "Een bericht.", by, at(when), **options))
    return ticket


def close(ticket: Ticket, example_rules: rules.Rules, when: str) -> Ticket:
    ticket.apply(workflow.close(ticket, example_rules, "Opgelost.", AGENT, at(when)))
    return ticket


def reopen(ticket: Ticket, example_rules: rules.Rules, when: str) -> Ticket:
    ticket.apply(workflow.reopen(ticket, example_rules, "Het probleem is terug.", AGENT, at(when)))
    return ticket


def clocks(ticket: Ticket, example_rules: rules.Rules, now: str | datetime) -> dict[str, sla.Clock]:
    moment = at(now) if isinstance(now, str) else now
    return {clock.name: clock for clock in sla.clocks(ticket, example_rules, moment)}


def sweep_until_quiet(ticket: Ticket, example_rules: rules.Rules, now: datetime) -> list[Event]:
    """Apply what the sweep owes the ticket until it owes nothing (it must stop)."""
    done = []
    for _ in range(10):
        event = sweep.next_event(ticket, example_rules, now)
        if event is None:
            return done
        ticket.apply(event)
        done.append(event)
    raise AssertionError(f"the sweep keeps recording events: {[event.kind for event in done]}")


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


# --- the targets recorded on the ticket ------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "level", "recorded"),
    [
        ("zonnebloem", "P2", ("standard", "office", "4h", "2 business days")),
        ("zonnebloem", "P4", ("standard", "office", "2 business days", "10 business days")),
        ("vandijk", "P1", ("24x7", "always", "30m", "8h")),
        ("vandijk", "P2", ("24x7", "office", "2h", "1 business day")),
        ("fod-digitaal", "P1", ("managed-services", "office", "30m", "4h")),
    ],
)
def test_create_records_the_plan_calendar_and_targets_of_the_customers_plan(example_rules, customer, level, recorded):
    ticket = make(example_rules, "2026-11-23 10:00", level, customer)
    assert (ticket.sla_plan, ticket.sla_calendar, ticket.sla_response, ticket.sla_resolution) == recorded


def test_the_targets_recorded_on_the_ticket_win_over_todays_rules(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P2")
    ticket.sla_response = "2h"  # the plan said 2h when the ticket was opened; rules.yaml says 4h today
    assert clocks(ticket, example_rules, "2026-11-23 10:30")["response"].due == at("2026-11-23 12:00")  # 10-12


def test_a_ticket_from_before_sla_clocks_runs_on_the_targets_of_todays_rules(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P2")
    ticket.sla_plan = ticket.sla_calendar = ticket.sla_response = ticket.sla_resolution = None
    found = clocks(ticket, example_rules, "2026-11-23 10:30")
    assert (found["response"].due, found["resolution"].due) == (at("2026-11-23 15:00"), at("2026-11-25 10:00"))


# --- start and due -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "level", "customer", "response_due", "resolution_due"),
    [
        # Friday 16:30, 4h: 30m on Friday, 3h Monday morning, 30m after lunch; 2 days: Tuesday same time
        ("2026-11-20 16:30", "P2", "zonnebloem", "2026-11-23 13:30", "2026-11-24 16:30"),
        # Monday 10:00 with "1 business day": Tuesday 10:00
        ("2026-11-23 10:00", "P1", "zonnebloem", "2026-11-23 11:00", "2026-11-24 10:00"),
        # the hour runs across lunch: 11:30-12:00 and 13:00-13:30
        ("2026-11-23 11:30", "P1", "zonnebloem", "2026-11-23 13:30", "2026-11-24 11:30"),
        # Monday 09:00 sharp: 1 business day is the whole Monday (7h), due Tuesday 09:00, not Monday 17:00
        ("2026-11-23 09:00", "P1", "zonnebloem", "2026-11-23 10:00", "2026-11-24 09:00"),
        # Monday 13:00: 13-17 and Tuesday 09-12 run out at 12:00, a closing: due after lunch, 13:00
        ("2026-11-23 13:00", "P1", "zonnebloem", "2026-11-23 14:00", "2026-11-24 13:00"),
        # during lunch: the clock starts at 13:00; 1 business day runs out Tuesday at 12:00, so 13:00
        ("2026-11-23 12:30", "P1", "zonnebloem", "2026-11-23 14:00", "2026-11-24 13:00"),
        # at night: the clock starts at 09:00; the 7h of Tuesday run out at 17:00: Wednesday 09:00
        ("2026-11-17 02:00", "P1", "zonnebloem", "2026-11-17 10:00", "2026-11-18 09:00"),
        # at 17:00 sharp the desk has closed: the clock starts Tuesday 09:00; 1 business day: Wednesday 09:00
        ("2026-11-23 17:00", "P1", "zonnebloem", "2026-11-24 10:00", "2026-11-25 09:00"),
        # Saturday: the clock starts Monday 09:00; 4h: 09-12 and 13-14; 2 days = 14h, Monday and
        # Tuesday whole, run out Tuesday 17:00: Wednesday 09:00
        ("2026-11-21 11:00", "P2", "zonnebloem", "2026-11-23 14:00", "2026-11-25 09:00"),
        # on Armistice Day (a Belgian holiday) the clock starts Thursday 09:00; 1 business day: Friday 09:00
        ("2026-11-11 10:00", "P1", "zonnebloem", "2026-11-12 10:00", "2026-11-13 09:00"),
        # a closing day, Christmas and a weekend: the clock starts Monday 28 December, due Tuesday 09:00
        ("2026-12-24 10:00", "P1", "zonnebloem", "2026-12-28 10:00", "2026-12-29 09:00"),
        # the day before a holiday: 2 business days skip Armistice Day
        ("2026-11-10 10:00", "P2", "zonnebloem", "2026-11-10 15:00", "2026-11-13 10:00"),
        # P3: 1 business day from Friday 16:30 is Monday 16:30; 5 business days is Friday 27th
        ("2026-11-20 16:30", "P3", "zonnebloem", "2026-11-23 16:30", "2026-11-27 16:30"),
        # P4 over Christmas and New Year: Tue 22, Wed 23, Mon 28, Tue 29, Wed 30, Mon 4 ... Fri 8
        ("2026-12-21 10:00", "P4", "zonnebloem", "2026-12-23 10:00", "2027-01-08 10:00"),
        # a target in hours keeps the earliest moment, even at a closing: 1h from Friday 16:00 is
        # Friday 17:00; 1 business day: Friday 16-17 and Monday 09-12, 13-16
        ("2026-11-20 16:00", "P1", "zonnebloem", "2026-11-20 17:00", "2026-11-23 16:00"),
        # managed services P1 on office: 30m; 4h = 1h on Friday and 3h on Monday morning, up at 12:00
        # (hours, so not moved to 13:00)
        ("2026-11-20 16:00", "P1", "fod-digitaal", "2026-11-20 16:30", "2026-11-23 12:00"),
        # 24x7 P2 runs on office hours: Saturday waits for Monday; 1 business day: Tuesday 09:00
        ("2026-11-21 23:50", "P2", "vandijk", "2026-11-23 11:00", "2026-11-24 09:00"),
    ],
)
def test_due_dates_count_only_open_time_of_the_plans_calendar(
    example_rules, created, level, customer, response_due, resolution_due
):
    ticket = make(example_rules, created, level, customer)
    found = clocks(ticket, example_rules, created)
    assert (found["response"].due, found["resolution"].due) == (at(response_due), at(resolution_due))
    assert (found["response"].state, found["resolution"].state) == ("running", "running")
    assert found["response"].start == at(created)  # the clock starts at creation, counting from the next opening


def test_friday_afternoon_p2_is_due_monday_1330_with_its_budget_in_open_hours(example_rules):
    ticket = make(example_rules, "2026-11-20 16:30", "P2")
    found = clocks(ticket, example_rules, "2026-11-20 16:45")
    response, resolution = found["response"], found["resolution"]
    assert response.due == at("2026-11-23 13:30")
    assert (response.budget, response.elapsed, response.left) == (hours(4), timedelta(minutes=15), hours(3.75))
    assert resolution.budget == hours(14)  # 2 business days = 2 x 7 open hours


@pytest.mark.parametrize(
    ("created", "response_due", "resolution_due"),
    [
        ("2026-11-23 23:50", "2026-11-24 00:20", "2026-11-24 07:50"),  # across midnight
        ("2026-11-21 23:50", "2026-11-22 00:20", "2026-11-22 07:50"),  # across a weekend night
        # the night the clocks go back: 8 real hours from 23:50 summer time is 06:50 winter time
        ("2026-10-24 23:50", "2026-10-25 00:20+02:00", "2026-10-25 06:50+01:00"),
    ],
)
def test_24x7_p1_runs_around_the_clock(example_rules, created, response_due, resolution_due):
    ticket = make(example_rules, created, "P1", "vandijk")
    found = clocks(ticket, example_rules, created)
    assert (found["response"].due, found["resolution"].due) == (at(response_due), at(resolution_due))
    assert found["resolution"].budget == hours(8)


def test_a_24x7_p1_after_midnight_has_the_real_minutes_elapsed(example_rules):
    ticket = make(example_rules, "2026-11-23 23:50", "P1", "vandijk")
    response = clocks(ticket, example_rules, "2026-11-24 00:15")["response"]
    assert (response.elapsed, response.left, response.state) == (timedelta(minutes=25), timedelta(minutes=5), "running")


# --- overdue only after the due moment, on the wall clock ----------------------------------------


def test_at_the_due_moment_a_clock_is_still_running_and_one_second_later_it_is_overdue(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P1")
    on_time = clocks(ticket, example_rules, "2026-11-23 11:00")["response"]
    assert (on_time.due, on_time.state, on_time.left, on_time.late) == (
        at("2026-11-23 11:00"),
        "running",
        timedelta(0),
        False,
    )
    late = clocks(ticket, example_rules, "2026-11-23 11:00:01")["response"]
    assert (late.state, late.left, late.late, late.open_time_late) == (
        "overdue",
        timedelta(seconds=-1),
        True,
        timedelta(seconds=1),
    )


def test_a_response_at_the_due_moment_meets_the_target_and_a_minute_later_breaches_it(example_rules):
    on_time = say(make(example_rules, "2026-11-23 10:00", "P1"), example_rules, "2026-11-23 11:00")
    response = clocks(on_time, example_rules, "2026-11-23 12:00")["response"]
    assert (response.state, response.late, response.open_time_late) == ("met", False, timedelta(0))
    late = say(make(example_rules, "2026-11-23 10:00", "P1"), example_rules, "2026-11-23 11:01")
    response = clocks(late, example_rules, "2026-11-23 12:00")["response"]
    assert (response.state, response.late, response.open_time_late) == ("breached", True, timedelta(minutes=1))


def test_a_clock_due_at_closing_time_is_overdue_that_evening_though_no_open_time_passed(example_rules):
    ticket = make(example_rules, "2026-11-23 16:00", "P1")  # 1h: 16:00-17:00, due when the desk closes
    at_closing = clocks(ticket, example_rules, "2026-11-23 17:00")["response"]
    assert (at_closing.due, at_closing.state, at_closing.late) == (at("2026-11-23 17:00"), "running", False)
    evening = clocks(ticket, example_rules, "2026-11-23 17:30")["response"]
    assert (evening.state, evening.late, evening.left, evening.open_time_late) == (
        "overdue",
        True,
        timedelta(0),  # the desk has been closed since 17:00: no open time was used
        timedelta(0),
    )
    next_morning = clocks(ticket, example_rules, "2026-11-24 09:30")["response"]
    assert (next_morning.state, next_morning.open_time_late) == ("overdue", timedelta(minutes=30))  # 09:00-09:30


def test_a_response_at_next_mornings_opening_is_late_for_a_clock_due_at_closing_time(example_rules):
    ticket = make(example_rules, "2026-11-23 16:00", "P1")
    say(ticket, example_rules, "2026-11-24 09:00")
    response = clocks(ticket, example_rules, "2026-11-24 09:30")["response"]
    assert response.due == at("2026-11-23 17:00")
    # 16:00-17:00 is all the open time it took, exactly the target, yet it came after the due moment
    assert (response.elapsed, response.open_time_late) == (hours(1), timedelta(0))
    assert (response.state, response.late) == ("breached", True)


def test_a_business_day_target_due_at_an_opening_is_not_late_the_evening_before(example_rules):
    ticket = make(example_rules, "2026-11-23 09:00", "P1")  # 1 business day: due Tuesday 09:00
    evening = clocks(ticket, example_rules, "2026-11-23 20:00")["resolution"]
    assert (evening.due, evening.state, evening.left) == (at("2026-11-24 09:00"), "running", timedelta(0))
    closed_at_opening = close(ticket, example_rules, "2026-11-24 09:00")
    resolution = clocks(closed_at_opening, example_rules, "2026-11-24 10:00")["resolution"]
    assert (resolution.stopped, resolution.state) == (at("2026-11-24 09:00"), "met")


# --- first response --------------------------------------------------------------------------


def test_the_first_public_comment_by_an_agent_stops_the_response_clock(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P2")
    say(ticket, example_rules, "2026-11-23 11:15")
    say(ticket, example_rules, "2026-11-23 11:45", by="other@caresolutions.example")
    response = clocks(ticket, example_rules, "2026-11-23 16:00")["response"]
    assert (response.stopped, response.state, response.elapsed) == (at("2026-11-23 11:15"), "met", hours(1.25))
    assert AGENT in response.stop_reason


@pytest.mark.parametrize(
    "what",
    ["internal note", "from the customer", "by the requester", "assignee set", "priority raised"],
)
def test_what_is_not_a_first_response(example_rules, what):
    ticket = make(example_rules, "2026-11-23 10:00", "P2")
    when = at("2026-11-23 10:30")
    if what == "internal note":
        event = workflow.comment(ticket, example_rules, "DNS?", AGENT, when, internal=True)
    elif what == "from the customer":
        event = workflow.comment(ticket, example_rules, "Nog steeds stuk", AGENT, when, from_customer=True)
    elif what == "by the requester":
        event = workflow.comment(ticket, example_rules, "Nog steeds stuk", "Els.Vermeulen@Zonnebloem.example", when)
    elif what == "assignee set":
        event = workflow.update(ticket, example_rules, {"assignee": AGENT}, AGENT, when)
    else:
        event = workflow.set_priority(ticket, example_rules, "P1", "Alle afdelingen", AGENT, when)
    ticket.apply(event)
    response = clocks(ticket, example_rules, "2026-11-23 10:45")["response"]
    assert (response.stopped, response.state) == (None, "running")


@pytest.mark.parametrize("status", ["in-progress", "on-hold", "waiting-for-customer", "scheduled"])
def test_an_agents_move_out_of_the_initial_status_is_the_first_response(example_rules, status):
    ticket = move(make(example_rules, "2026-11-23 10:00", "P2"), example_rules, status, "2026-11-23 11:00")
    response = clocks(ticket, example_rules, "2026-11-23 15:00")["response"]
    assert (response.stopped, response.state, response.elapsed) == (at("2026-11-23 11:00"), "met", hours(1))
    assert response.stop_reason == f"moved to {status} by {AGENT}"


def test_the_requesters_own_move_out_of_the_initial_status_is_not_a_response(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P2")
    move(ticket, example_rules, "in-progress", "2026-11-23 10:30", by="els.vermeulen@zonnebloem.example")
    assert clocks(ticket, example_rules, "2026-11-23 10:45")["response"].stopped is None


def test_closing_straight_from_open_is_the_first_response_and_stops_both_clocks(example_rules):
    ticket = close(make(example_rules, "2026-11-23 10:00", "P1"), example_rules, "2026-11-23 11:00")
    found = clocks(ticket, example_rules, "2026-11-25 12:00")
    assert (found["response"].stopped, found["response"].state) == (at("2026-11-23 11:00"), "met")
    assert found["response"].stop_reason == f"moved to closed by {AGENT}"
    assert (found["resolution"].stopped, found["resolution"].state) == (at("2026-11-23 11:00"), "met")


def test_a_late_response_is_breached_by_the_open_time_it_took(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P2")  # 4h: due 15:00
    say(ticket, example_rules, "2026-11-23 16:00")
    response = clocks(ticket, example_rules, "2026-11-23 16:30")["response"]
    assert (response.due, response.state, response.elapsed, response.left) == (
        at("2026-11-23 15:00"),
        "breached",
        hours(5),  # 10-12 and 13-16
        hours(-1),
    )


# --- priority changes ------------------------------------------------------------------------


def test_an_escalation_records_the_new_targets_and_measures_them_from_creation(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P3")
    event = workflow.set_priority(ticket, example_rules, "P1", "Alle afdelingen", AGENT, at("2026-11-23 10:30"))
    assert [(c.field, c.old, c.new) for c in event.changes] == [
        ("priority", "P3", "P1"),
        ("sla_response", "1 business day", "1h"),
        ("sla_resolution", "5 business days", "1 business day"),
        ("sla_callback", "4h", "1h"),
    ]
    ticket.apply(event)
    found = clocks(ticket, example_rules, "2026-11-23 10:45")
    assert (found["response"].start, found["response"].due) == (at("2026-11-23 10:00"), at("2026-11-23 11:00"))
    assert found["response"].left == timedelta(minutes=15)
    assert found["resolution"].due == at("2026-11-24 10:00")


def test_an_escalation_after_the_new_target_has_passed_is_overdue_at_once(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P3")
    ticket.apply(workflow.set_priority(ticket, example_rules, "P1", "Alle afdelingen", AGENT, at("2026-11-23 14:00")))
    response = clocks(ticket, example_rules, "2026-11-23 14:00")["response"]
    assert (response.due, response.state, response.left) == (at("2026-11-23 11:00"), "overdue", hours(-2))


def test_a_de_escalation_gives_the_longer_targets_from_creation(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P1")
    ticket.apply(workflow.set_priority(ticket, example_rules, "P4", "Eén gebruiker", AGENT, at("2026-11-23 10:30")))
    found = clocks(ticket, example_rules, "2026-11-23 10:30")
    # 2 business days: Wednesday 10:00; 10 business days: Tue 24 ... Mon 7 December
    assert (found["response"].due, found["resolution"].due) == (at("2026-11-25 10:00"), at("2026-12-07 10:00"))


def test_an_update_that_recomputes_the_priority_records_and_applies_the_new_targets(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P4", impact="individual", urgency="medium")
    event = workflow.update(ticket, example_rules, {"urgency": "high"}, AGENT, at("2026-11-23 10:30"))
    assert [(c.field, c.old, c.new) for c in event.changes] == [
        ("urgency", "medium", "high"),
        ("priority", "P4", "P2"),
        ("sla_response", "2 business days", "4h"),
        ("sla_resolution", "10 business days", "2 business days"),
        ("sla_callback", "1 business day", "2h"),
    ]
    ticket.apply(event)
    assert (ticket.sla_response, ticket.sla_resolution) == ("4h", "2 business days")
    found = clocks(ticket, example_rules, "2026-11-23 10:30")
    assert (found["response"].due, found["resolution"].due) == (at("2026-11-23 15:00"), at("2026-11-25 10:00"))


def test_a_24x7_de_escalation_moves_the_clocks_to_office_hours_from_creation(example_rules):
    ticket = make(example_rules, "2026-11-21 23:50", "P1", "vandijk")
    event = workflow.set_priority(ticket, example_rules, "P2", "Eén scanner", AGENT, at("2026-11-22 00:10"))
    assert [(c.field, c.old, c.new) for c in event.changes] == [
        ("priority", "P1", "P2"),
        ("sla_calendar", "always", "office"),
        ("sla_response", "30m", "2h"),
        ("sla_resolution", "8h", "1 business day"),
        ("sla_callback", "30m", "1h"),
    ]
    ticket.apply(event)
    found = clocks(ticket, example_rules, "2026-11-22 00:10")
    # both from Monday 09:00: 2h is 11:00; 1 business day is all of Monday, so Tuesday 09:00
    assert (found["response"].due, found["resolution"].due) == (at("2026-11-23 11:00"), at("2026-11-24 09:00"))


# --- pauses --------------------------------------------------------------------------------


def waiting_over_the_weekend(example_rules: rules.Rules, status: str = "waiting-for-customer") -> Ticket:
    """P2 from Thursday 10:00 (resolution 14h: due Monday 10:00), paused from Friday 16:00."""
    ticket = make(example_rules, "2026-11-19 10:00", "P2")
    move(ticket, example_rules, "in-progress", "2026-11-19 10:30")
    return move(ticket, example_rules, status, "2026-11-20 16:00")


def test_without_a_pause_the_thursday_p2_is_due_monday_10(example_rules):
    ticket = move(make(example_rules, "2026-11-19 10:00", "P2"), example_rules, "in-progress", "2026-11-19 10:30")
    assert clocks(ticket, example_rules, "2026-11-23 09:00")["resolution"].due == at("2026-11-23 10:00")


@pytest.mark.parametrize("status", PAUSING)
def test_a_pause_from_friday_1600_to_monday_1000_adds_only_two_open_hours(example_rules, status):
    ticket = move(waiting_over_the_weekend(example_rules, status), example_rules, "in-progress", "2026-11-23 10:00")
    found = clocks(ticket, example_rules, "2026-11-23 11:00")
    resolution = found["resolution"]
    # Friday 16:00-17:00 and Monday 09:00-10:00 do not count, so the last 2h run from Monday 10:00 and
    # are used up at 12:00, a closing: a target in business days is then due after lunch, 13:00
    assert resolution.due == at("2026-11-23 13:00")
    assert [(p.start, p.end, p.status, p.ongoing) for p in resolution.pauses] == [
        (at("2026-11-20 16:00"), at("2026-11-23 10:00"), status, False)
    ]
    # counted: Thursday 10-12 and 13-17, Friday 9-12 and 13-16, Monday 10-11
    assert (resolution.elapsed, resolution.left, resolution.state) == (hours(13), hours(1), "running")
    assert found["response"].due == at("2026-11-19 15:00")  # 10-12 and 13-15; stopped before the pause


def test_a_customer_reaction_ends_the_pause_in_the_same_event(example_rules):
    ticket = waiting_over_the_weekend(example_rules)
    event = workflow.comment(
        ticket, example_rules, "Hier is de schermafdruk", AGENT, at("2026-11-23 10:00"), from_customer=True
    )
    assert [(c.field, c.old, c.new) for c in event.changes] == [("status", "waiting-for-customer", "in-progress")]
    assert (event.from_customer, event.visibility) == (True, "public")
    ticket.apply(event)
    assert clocks(ticket, example_rules, "2026-11-23 11:00")["resolution"].due == at("2026-11-23 13:00")


def test_a_customer_reaction_to_a_solution_awaiting_acceptance_also_puts_the_ball_back(example_rules):
    ticket = waiting_over_the_weekend(example_rules, "awaiting-acceptance")
    event = workflow.comment(ticket, example_rules, "Werkt nog niet", AGENT, at("2026-11-23 10:00"), from_customer=True)
    assert [(c.field, c.old, c.new) for c in event.changes] == [("status", "awaiting-acceptance", "in-progress")]


def test_a_public_comment_under_the_requesters_own_address_is_their_reaction(example_rules):
    ticket = waiting_over_the_weekend(example_rules)
    requester = "Els.Vermeulen@Zonnebloem.example"  # the address compares without case
    event = workflow.comment(ticket, example_rules, "Hier is de schermafdruk", requester, at("2026-11-23 10:00"))
    assert (event.from_customer, event.visibility) == (True, "public")
    assert [(c.field, c.old, c.new) for c in event.changes] == [("status", "waiting-for-customer", "in-progress")]
    ticket.apply(event)
    resolution = clocks(ticket, example_rules, "2026-11-23 11:00")["resolution"]
    assert (resolution.state, resolution.due) == ("running", at("2026-11-23 13:00"))  # as with --from-customer


def test_an_internal_note_under_the_requesters_address_is_not_marked_from_the_customer(example_rules):
    ticket = waiting_over_the_weekend(example_rules)
    requester = CUSTOMERS["zonnebloem"]["requester"]
    event = workflow.comment(ticket, example_rules, "Notitie", requester, at("2026-11-23 10:00"), internal=True)
    assert (event.from_customer, event.visibility, event.changes) == (False, "internal", ())


def test_a_customer_comment_on_a_ticket_the_desk_is_working_on_changes_no_status(example_rules):
    ticket = move(make(example_rules, "2026-11-23 10:00"), example_rules, "in-progress", "2026-11-23 10:30")
    event = workflow.comment(ticket, example_rules, "Nog iets", AGENT, at("2026-11-23 11:00"), from_customer=True)
    assert event.changes == ()


@pytest.mark.parametrize(
    ("now", "due"),
    [
        # 12h of the 14h used by Friday 16:00; 2h left, counted from "now"
        ("2026-11-21 12:00", "2026-11-23 11:00"),  # Saturday: from Monday's opening
        ("2026-11-23 10:00", "2026-11-23 13:00"),  # 10:00-12:00 ends at a closing: after lunch
        ("2026-11-23 11:00", "2026-11-23 14:00"),  # across lunch: 11:00-12:00 and 13:00-14:00
    ],
)
def test_while_paused_the_due_date_is_as_if_the_clock_resumed_now(example_rules, now, due):
    resolution = clocks(waiting_over_the_weekend(example_rules), example_rules, now)["resolution"]
    assert (resolution.state, resolution.due, resolution.left) == ("paused", at(due), hours(2))
    assert [(p.end, p.ongoing) for p in resolution.pauses] == [(at(now), True)]


def test_time_in_a_status_that_does_not_pause_counts(example_rules):
    ticket = move(make(example_rules, "2026-11-19 10:00", "P2"), example_rules, "in-progress", "2026-11-19 10:30")
    resolution = clocks(ticket, example_rules, "2026-11-20 16:00")["resolution"]
    assert (resolution.elapsed, resolution.pauses) == (hours(12), ())


def test_a_clock_that_was_overdue_before_the_pause_stays_overdue(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P1")  # resolution due Tuesday 10:00
    move(ticket, example_rules, "in-progress", "2026-11-23 10:30")
    move(ticket, example_rules, "on-hold", "2026-11-24 11:00")
    resolution = clocks(ticket, example_rules, "2026-11-25 11:00")["resolution"]
    assert (resolution.state, resolution.left) == ("overdue", hours(-1))


# --- reopening -------------------------------------------------------------------------------


def test_reopening_restarts_the_resolution_clock_with_the_full_target_but_not_the_response_clock(example_rules):
    ticket = close(make(example_rules, "2026-11-23 10:00", "P1"), example_rules, "2026-11-23 11:00")
    reopen(ticket, example_rules, "2026-11-25 14:00")
    found = clocks(ticket, example_rules, "2026-11-25 15:00")
    response, resolution = found["response"], found["resolution"]
    assert (response.stopped, response.due, response.state) == (at("2026-11-23 11:00"), at("2026-11-23 11:00"), "met")
    assert (resolution.start, resolution.stopped, resolution.budget) == (at("2026-11-25 14:00"), None, hours(7))
    assert resolution.start_reason == f"reopened by {AGENT}"
    assert (resolution.due, resolution.elapsed, resolution.state) == (at("2026-11-26 14:00"), hours(1), "running")
    close(ticket, example_rules, "2026-11-26 11:00")
    resolution = clocks(ticket, example_rules, "2026-11-26 12:00")["resolution"]
    # Wednesday 14-17 and Thursday 9-11
    assert (resolution.stopped, resolution.elapsed, resolution.state) == (at("2026-11-26 11:00"), hours(5), "met")


# --- the sweep: breaches ----------------------------------------------------------------------


def test_the_sweep_records_a_breach_once_per_clock(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P1")  # response due 11:00, resolution Tuesday 10:00
    assert sweep.next_event(ticket, example_rules, at("2026-11-23 11:00")) is None
    event = sweep.next_event(ticket, example_rules, at("2026-11-23 11:01"))
    assert event is not None
    assert (event.kind, event.clock, event.visibility, event.by, event.at) == (
        "breach",
        "response",
        "internal",
        SWEEPER,
        at("2026-11-23 11:00"),  # when it fell due, not when a sweep saw it
    )
    assert event.text == "Response target of 1h missed: due Mon 2026-11-23 11:00."
    ticket.apply(event)
    assert sweep.next_event(ticket, example_rules, at("2026-11-23 11:01")) is None
    assert sweep.next_event(ticket, example_rules, at("2026-11-23 16:00")) is None
    event = sweep.next_event(ticket, example_rules, at("2026-11-24 10:05"))
    assert (event.kind, event.clock) == ("breach", "resolution")
    # Monday 10-12, 13-17 and Tuesday 09:00-10:05: 7h 05m of the 7h
    assert event.text == "Resolution target of 1 business day missed: due Tue 2026-11-24 10:00."
    ticket.apply(event)
    assert sweep.next_event(ticket, example_rules, at("2026-11-25 10:00")) is None


def test_a_late_response_is_recorded_as_a_breach_at_its_due_moment_whenever_the_sweep_runs(example_rules):
    ticket = say(make(example_rules, "2026-11-23 10:00", "P1"), example_rules, "2026-11-23 11:30")
    early, late = (sweep.next_event(ticket, example_rules, at(now)) for now in ("2026-11-23 11:45", "2026-11-25 09:00"))
    assert early == late  # two clones sweeping at different times record the very same event
    assert (early.kind, early.clock, early.at) == ("breach", "response", at("2026-11-23 11:00"))
    assert early.text == "Response target of 1h missed: due Mon 2026-11-23 11:00."


def test_a_breach_while_the_desk_was_closed_falls_at_the_closing_due_moment(example_rules):
    ticket = make(example_rules, "2026-11-23 16:00", "P1")  # response due 17:00, when the desk closes
    assert sweep.next_event(ticket, example_rules, at("2026-11-23 17:00")) is None
    event = sweep.next_event(ticket, example_rules, at("2026-11-23 17:30"))
    assert (event.kind, event.clock, event.at) == ("breach", "response", at("2026-11-23 17:00"))
    assert event.text == "Response target of 1h missed: due Mon 2026-11-23 17:00."


def test_a_response_at_the_next_opening_is_recorded_as_a_breach_though_no_open_time_passed(example_rules):
    ticket = say(make(example_rules, "2026-11-23 16:00", "P1"), example_rules, "2026-11-24 09:00")
    event = sweep.next_event(ticket, example_rules, at("2026-11-24 09:30"))
    assert (event.kind, event.clock) == ("breach", "response")
    assert event.text == "Response target of 1h missed: due Mon 2026-11-23 17:00."
    ticket.apply(event)
    # the resolution clock (1 business day: Monday 16-17, Tuesday 09-12 and 13-16) is not late yet
    assert sweep.next_event(ticket, example_rules, at("2026-11-24 16:00")) is None


def test_the_sweep_leaves_closed_tickets_alone_even_when_they_broke_a_target(example_rules):
    ticket = close(make(example_rules, "2026-11-23 10:00", "P1"), example_rules, "2026-11-25 10:00")
    assert [clock.state for clock in sla.clocks(ticket, example_rules, at("2026-11-25 11:00"))] == [
        "breached",
        "breached",
    ]
    assert sweep.next_event(ticket, example_rules, at("2026-11-25 11:00")) is None


def test_a_reopened_ticket_gets_one_more_breach_for_its_new_resolution_clock_only(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P1")
    first = sweep_until_quiet(ticket, example_rules, at("2026-11-24 10:30"))
    assert [(event.kind, event.clock) for event in first] == [("breach", "response"), ("breach", "resolution")]
    close(ticket, example_rules, "2026-11-24 11:00")
    reopen(ticket, example_rules, "2026-11-25 10:00")  # new resolution clock: due Thursday 10:00
    assert sweep_until_quiet(ticket, example_rules, at("2026-11-26 10:00")) == []
    second = sweep_until_quiet(ticket, example_rules, at("2026-11-26 10:30"))
    assert [(event.kind, event.clock) for event in second] == [("breach", "resolution")]


# --- the sweep: waiting on the customer -----------------------------------------------------------


def waiting_since(example_rules: rules.Rules, created: str, since: str, status: str = "waiting-for-customer") -> Ticket:
    """A P4 (long targets: no breach gets in the way) that the desk put in a status waiting on the customer."""
    ticket = make(example_rules, created, "P4")
    if status != "waiting-for-customer":
        move(ticket, example_rules, "in-progress", created)
    return move(ticket, example_rules, status, since)


@pytest.mark.parametrize("status", ["waiting-for-customer", "awaiting-acceptance"])
def test_reminders_after_two_and_four_working_days_then_closing_after_five(example_rules, status):
    ticket = waiting_since(example_rules, "2026-11-23 09:00", "2026-11-23 10:00", status)

    def owed(now: str) -> Event | None:
        return sweep.next_event(ticket, example_rules, at(now))

    assert owed("2026-11-25 09:59") is None
    first = owed("2026-11-25 10:00")
    assert (first.kind, first.visibility, first.by, first.changes) == ("reminder", "public", SWEEPER, ())
    # Tue 24 (1), Wed 25 (2); closing after Thu 26 (3), Fri 27 (4), Mon 30 (5)
    assert first.text == (
        "Herinnering 1: we wachten sinds maandag 23 november 2026 om 10:00 op uw reactie (2 werkdagen). "
        "Zonder reactie sluiten we het ticket op maandag 30 november 2026 om 10:00."
    )
    ticket.apply(first)
    assert owed("2026-11-25 10:00") is None
    assert owed("2026-11-27 09:59") is None
    second = owed("2026-11-27 10:00")
    assert (second.kind, second.visibility) == ("reminder", "public")
    assert second.text == (
        "Herinnering 2: we wachten sinds maandag 23 november 2026 om 10:00 op uw reactie (4 werkdagen). "
        "Zonder reactie sluiten we het ticket op maandag 30 november 2026 om 10:00."
    )
    ticket.apply(second)
    assert owed("2026-11-30 09:59") is None
    closing = owed("2026-11-30 10:00")
    assert closing.kind == "auto-closed"
    assert [(c.field, c.old) for c in closing.changes] == [("status", status), ("resolution", None)]
    assert closing.changes[0].new == "closed"
    assert closing.changes[1].new == (
        "Afgesloten zonder reactie binnen 5 werkdagen (we wachtten sinds maandag 23 november 2026 om 10:00 op uw "
        "reactie). U kunt altijd een nieuw ticket aanmaken."
    )
    ticket.apply(closing)
    assert (ticket.status, ticket.resolution) == ("closed", closing.changes[1].new)
    assert owed("2026-12-10 10:00") is None


@pytest.mark.parametrize(
    ("since", "first_reminder", "second_reminder", "closes"),
    [
        # Wed 11 November is a holiday: Thu 12 (1), Fri 13 (2), Mon 16 (3), Tue 17 (4), Wed 18 (5)
        ("2026-11-10 10:00", "2026-11-13 10:00", "2026-11-17 10:00", "2026-11-18 10:00"),
        # 24 closed, 25 Christmas, weekend: Mon 28 (1), Tue 29 (2), Wed 30 (3), 31 closed, 1 New Year,
        # weekend: Mon 4 (4), Tue 5 (5)
        ("2026-12-23 15:00", "2026-12-29 15:00", "2027-01-04 15:00", "2027-01-05 15:00"),
    ],
)
def test_working_days_of_waiting_skip_holidays_and_closing_days(
    example_rules, since, first_reminder, second_reminder, closes
):
    ticket = waiting_since(example_rules, (at(since) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"), since)
    marks = []
    for moment in (first_reminder, second_reminder, closes):
        assert sweep.next_event(ticket, example_rules, at(moment) - timedelta(minutes=1)) is None
        event = sweep.next_event(ticket, example_rules, at(moment))
        ticket.apply(event)
        marks.append(event.kind)
    assert marks == ["reminder", "reminder", "auto-closed"]


def test_the_sweeps_working_days_are_the_business_days_of_an_sla_target(example_rules):
    # A P3 at zonnebloem (standard plan) has a resolution target of 5 business days. Asked to wait on
    # Wednesday 23 December at 18:00, after closing time: 24 and 31 December are closing days, 25 December
    # and 1 January holidays. Both count from Monday 28 09:00: 29, 30, 4, 5, 6 January.
    ticket = make(example_rules, "2026-12-23 18:00", "P3")
    (resolution,) = [
        clock for clock in sla.clocks(ticket, example_rules, at("2026-12-23 18:00")) if clock.name == "resolution"
    ]
    assert str(resolution.target) == "5 business days"
    move(ticket, example_rules, "waiting-for-customer", "2026-12-23 18:00")
    assert sweep.closing_moment(ticket, example_rules) == resolution.due == at("2027-01-06 09:00")
    assert sweep.next_event(ticket, example_rules, at("2027-01-06 08:59")).kind == "reminder"
    assert sweep.next_event(ticket, example_rules, at("2027-01-06 09:00")).kind == "auto-closed"


def test_a_reminder_recorded_by_the_earlier_count_is_not_sent_again(example_rules):
    # sdesk 0.12 counted from the evening itself: its first reminder fell on Wednesday 25 at 18:00; the mark
    # is now Thursday 26 at 09:00. That reminder covers the mark: the customer gets no second one.
    ticket = waiting_since(example_rules, "2026-11-23 09:00", "2026-11-23 18:00")
    ticket.apply(Event(at("2026-11-25 18:00"), SWEEPER, "reminder", visibility="public", text="Reminder 1: …"))
    assert sweep.next_event(ticket, example_rules, at("2026-11-26 09:00")) is None
    second = sweep.next_event(ticket, example_rules, at("2026-11-30 09:00"))
    assert (second.kind, second.at, second.text[:13]) == ("reminder", at("2026-11-30 09:00"), "Herinnering 2")


@pytest.mark.parametrize(
    ("by", "from_customer"),
    [
        (AGENT, True),  # the agent entered the requester's mail with --from-customer
        ("Els.Vermeulen@Zonnebloem.example", False),  # recorded under the requester's own address
    ],
)
def test_a_customer_reaction_while_still_waiting_stops_the_count(example_rules, by, from_customer):
    ticket = waiting_since(example_rules, "2026-11-23 09:00", "2026-11-23 10:00")
    # e.g. the requester's mail, recorded without moving the ticket
    reaction = Event(
        at("2026-11-24 10:00"), by, "comment", visibility="public", text="Ik kijk het na", from_customer=from_customer
    )
    ticket.apply(reaction)
    assert ticket.status == "waiting-for-customer"
    assert sla.by_customer(ticket, reaction)
    for now in ("2026-11-25 10:00", "2026-11-27 10:00", "2026-11-30 10:00", "2026-12-15 10:00"):
        assert sweep.next_event(ticket, example_rules, at(now)) is None


def test_a_comment_by_the_requesters_address_ends_the_wait_and_the_sweep_leaves_the_ticket_alone(example_rules):
    ticket = waiting_since(example_rules, "2026-11-23 09:00", "2026-11-23 10:00")
    say(ticket, example_rules, "2026-11-24 10:00", by="els.vermeulen@zonnebloem.example")
    assert (ticket.status, ticket.history[-1].from_customer) == ("in-progress", True)
    for now in ("2026-11-25 10:00", "2026-11-27 10:00", "2026-11-30 10:00"):
        assert sweep.next_event(ticket, example_rules, at(now)) is None


def test_when_the_desk_asks_again_the_count_starts_from_the_new_wait(example_rules):
    ticket = waiting_since(example_rules, "2026-11-23 09:00", "2026-11-23 10:00")
    say(ticket, example_rules, "2026-11-24 10:00", from_customer=True)
    assert ticket.status == "in-progress"
    assert sweep.next_event(ticket, example_rules, at("2026-11-26 10:00")) is None
    move(ticket, example_rules, "waiting-for-customer", "2026-11-25 10:00")
    assert sweep.next_event(ticket, example_rules, at("2026-11-27 09:59")) is None
    event = sweep.next_event(ticket, example_rules, at("2026-11-27 10:00"))
    # the reaction of Tuesday came before this wait: Thu 26 (1), Fri 27 (2); closing on Wed 2 December (5)
    assert (event.kind, event.text) == (
        "reminder",
        "Herinnering 1: we wachten sinds woensdag 25 november 2026 om 10:00 op uw reactie (2 werkdagen). "
        "Zonder reactie sluiten we het ticket op woensdag 2 december 2026 om 10:00.",
    )


def test_on_hold_pauses_the_clock_but_is_not_waiting_on_the_customer(example_rules):
    ticket = waiting_since(example_rules, "2026-11-23 09:00", "2026-11-23 10:00", status="on-hold")
    assert sweep.next_event(ticket, example_rules, at("2026-12-10 10:00")) is None


def test_running_the_sweep_twice_changes_nothing_twice(example_rules):
    ticket = make(example_rules, "2026-11-23 10:00", "P1")  # response due 11:00, resolution Tuesday 10:00
    move(ticket, example_rules, "waiting-for-customer", "2026-11-24 12:00")  # a late first response
    now = at("2026-11-27 11:00")  # two working days of waiting have passed (Thursday 12:00), not four
    done = sweep_until_quiet(ticket, example_rules, now)
    assert [(event.kind, event.clock) for event in done] == [
        ("breach", "response"),
        ("breach", "resolution"),
        ("reminder", None),
    ]
    response, resolution, reminder = (event.text for event in done)
    # response: Monday 10-12, 13-17 and Tuesday 09-12 = 9h for a 1h target
    assert response == "Response target of 1h missed: due Mon 2026-11-23 11:00."
    # resolution: the same 9h for 7h, then paused; still open
    assert resolution == "Resolution target of 1 business day missed: due Tue 2026-11-24 10:00."
    # Asked during the lunch break, the days count from the opening at 13:00, as a "2 business days" clock
    # would: Wed 25 (1), Thu 26 (2) at 13:00; closing after Fri 27 (3), Mon 30 (4), Tue 1 December (5)
    assert reminder == (
        "Herinnering 1: we wachten sinds dinsdag 24 november 2026 om 12:00 op uw reactie (2 werkdagen). "
        "Zonder reactie sluiten we het ticket op dinsdag 1 december 2026 om 13:00."
    )
    assert sweep.next_event(ticket, example_rules, now) is None
    assert sweep.next_event(ticket, example_rules, now + timedelta(minutes=5)) is None
    assert [event.kind for event in sweep_until_quiet(ticket, example_rules, at("2026-11-30 13:00"))] == ["reminder"]
    assert [event.kind for event in sweep_until_quiet(ticket, example_rules, at("2026-12-01 13:00"))] == ["auto-closed"]
    assert sweep_until_quiet(ticket, example_rules, at("2026-12-01 13:05")) == []


def test_a_late_sweep_sends_one_reminder_for_the_marks_it_missed_and_then_waits_for_the_closing(example_rules):
    ticket = waiting_since(example_rules, "2026-11-23 09:00", "2026-11-23 10:00")
    # the marks were Wednesday 25 and Friday 27 at 10:00; the sweep first runs Friday 12:00
    done = sweep_until_quiet(ticket, example_rules, at("2026-11-27 12:00"))
    assert [(event.kind, event.text) for event in done] == [
        (
            "reminder",
            "Herinnering 2: we wachten sinds maandag 23 november 2026 om 10:00 op uw reactie (4 werkdagen). "
            "Zonder reactie sluiten we het ticket op maandag 30 november 2026 om 10:00.",
        )
    ]
    for now in ("2026-11-27 12:05", "2026-11-30 09:59"):
        assert sweep_until_quiet(ticket, example_rules, at(now)) == []
    assert [event.kind for event in sweep_until_quiet(ticket, example_rules, at("2026-11-30 10:00"))] == ["auto-closed"]


# --- the queue ---------------------------------------------------------------------------------


def test_the_queue_orders_by_priority_then_ahead_rules_then_first_come(example_rules):
    question = make(example_rules, "2026-11-23 08:00", "P2", type="question")  # not an incident: no rule
    managed = make(example_rules, "2026-11-23 08:30", "P2", "fod-digitaal")
    critical_late = make(example_rules, "2026-11-23 09:30", "P2")  # care-dossier is business-critical
    critical_early = make(example_rules, "2026-11-23 09:00", "P2")
    urgent = make(example_rules, "2026-11-23 11:00", "P1", "vandijk")
    low = make(example_rules, "2026-11-23 07:00", "P4")
    waiting = move(
        make(example_rules, "2026-11-23 06:00", "P1"), example_rules, "waiting-for-customer", "2026-11-23 09:00"
    )
    on_hold = move(make(example_rules, "2026-11-23 06:10", "P1"), example_rules, "on-hold", "2026-11-23 09:00")
    done = close(make(example_rules, "2026-11-23 06:00", "P1"), example_rules, "2026-11-23 09:00")
    tickets = [question, managed, critical_late, critical_early, urgent, low, waiting, on_hold, done]
    places = workqueue.queue(clocked(tickets, example_rules, "2026-11-23 12:00"), example_rules)
    assert [place.ticket.id for place in places] == [
        t.id for t in (urgent, critical_early, critical_late, managed, question, low)
    ]
    assert [place.ahead for place in places] == [
        None,
        "business-critical-disruption",
        "business-critical-disruption",
        "managed-services",
        None,
        "business-critical-disruption",  # ahead, but only of other P4s
    ]
    with_paused = workqueue.queue(clocked(tickets, example_rules, "2026-11-23 12:00"), example_rules, paused=True)
    # the paused P1s are business-critical incidents: ahead of the 24x7 P1
    assert [place.ticket.id for place in with_paused][:3] == [waiting.id, on_hold.id, urgent.id]
    assert done.id not in [place.ticket.id for place in with_paused]


def test_a_mistyped_year_in_the_history_does_not_make_the_facts_work_out_centuries_of_open_time():
    fresh = rules.parse(yamlio.load((REPO / "rules.yaml").read_text(encoding="utf-8"), REPO / "rules.yaml"))
    ticket = make(fresh, "2026-11-23 10:00")
    move(ticket, fresh, "in-progress", "2026-11-23 11:00")
    move(ticket, fresh, "on-hold", "2926-11-23 11:00")  # 2926 for 2026
    known = sla.facts(ticket, fresh)
    assert known is not None and max(fresh.service.calendars["office"].worked.open_before) < 2040
    now = at("2026-11-24 12:00")
    assert sla.clocks_at(known, fresh, now) == sla.clocks(ticket, fresh, now)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: 5,
        lambda data: b"\x00garbage",
        lambda data: b"null",  # "no clocks" of a ticket that has them
        lambda data: data.replace(b"office", b"gone"),  # a calendar the rules lack
        lambda data: data.replace(b'"2026-', b'"0000-', 1),  # no such year
    ],
)
def test_kept_facts_that_are_damaged_are_worked_out_again(example_rules, damage):
    ticket = move(make(example_rules, "2026-11-23 10:00"), example_rules, "on-hold", "2026-11-23 11:00")
    now = at("2026-11-25 12:00")
    kept = sla.clocks_from_kept(damage(sla.kept(ticket, example_rules)), ticket, example_rules, now)
    assert kept == sla.clocks(ticket, example_rules, now) and len(kept) == 2


def clocked(tickets, rules, moment):
    return [(ticket, sla.clocks(ticket, rules, at(moment))) for ticket in tickets]


def test_queue_why_names_the_priority_the_ahead_rule_and_the_arrival(example_rules):
    critical = make(example_rules, "2026-11-23 09:00", "P2")
    question = make(example_rules, "2026-11-23 08:00", "P2", type="question")
    first, second = workqueue.queue(clocked([question, critical], example_rules, "2026-11-23 12:00"), example_rules)
    assert first.why() == (
        "priority P2"
        " · ahead by business-critical-disruption (business_critical is true; type is 'incident')"
        " · opened 2026-11-23 09:00 (first come, first served)"
    )
    # no queue rule matches a question: only the priority and the arrival
    assert second.why() == "priority P2 · opened 2026-11-23 08:00 (first come, first served)"
    assert [clock.name for clock in first.clocks] == ["response", "resolution"]


# --- the SLA report ----------------------------------------------------------------------------


def report_tickets(example_rules: rules.Rules) -> list[Ticket]:
    """Five tickets opened 22-23 November and two outside; the report runs Tuesday 24 November 17:00."""
    # zonnebloem P2 (4h / 14h): answered after 1h, closed Tuesday 11:00 after 3+4+2 = 9h: both met
    answered = say(make(example_rules, "2026-11-23 09:00", "P2"), example_rules, "2026-11-23 10:00")
    close(answered, example_rules, "2026-11-24 11:00")
    # zonnebloem P2: answered after 5h (breached); resolution 6+7 = 13h of 14h: still running, not decided
    slow = say(make(example_rules, "2026-11-23 10:00", "P2"), example_rules, "2026-11-23 16:00")
    # zonnebloem P1 (1h / 7h, due Tuesday 13:00): answered after 30m, closed after 4+3+2 = 9h: breached
    late_fix = say(make(example_rules, "2026-11-23 13:00", "P1"), example_rules, "2026-11-23 13:30")
    close(late_fix, example_rules, "2026-11-24 15:00")
    # vandijk P1 24x7 (30m / 8h around the clock), Sunday night: answered after 20m; resolution overdue since 06:00
    night = say(make(example_rules, "2026-11-22 22:00", "P1", "vandijk"), example_rules, "2026-11-22 22:20")
    # fod-digitaal P1 (30m / 4h): picked up after 15m, closed after 2h: both met
    managed = move(
        make(example_rules, "2026-11-23 09:00", "P1", "fod-digitaal"), example_rules, "in-progress", "2026-11-23 09:15"
    )
    close(managed, example_rules, "2026-11-23 11:00")
    # outside the period: Tuesday 00:30 in Brussels (still Monday in UTC) and Saturday 21st
    after = close(make(example_rules, "2026-11-24 00:30", "P1"), example_rules, "2026-11-24 09:30")
    before = close(make(example_rules, "2026-11-21 23:30", "P2"), example_rules, "2026-11-24 16:00")
    return [answered, slow, late_fix, night, managed, after, before]


REPORT_COLUMNS = (
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
)


def test_the_sla_report_reconciles_with_tickets_built_by_hand(example_rules):
    rows = slareport.report(
        report_tickets(example_rules), example_rules, at("2026-11-24 17:00"), date(2026, 11, 22), date(2026, 11, 23)
    )
    assert [tuple(row[name] for name in REPORT_COLUMNS) for row in rows] == [
        # response minutes P1 [15, 20, 30]; resolution: met in 2h, breached 9h, overdue (no time)
        ("priority", "P1", 3, 3, 3, 100.0, 20, 30, 3, 1, 33.3, 330, 540),
        # response [60, 300]; resolution: one met in 9h, one still running. An even count's median is
        # the mean of the middle two (180 here, 330 for P1's resolution), not a nearest-rank value
        ("priority", "P2", 2, 2, 1, 50.0, 180, 300, 1, 1, 100.0, 540, 540),
        ("customer", "fod-digitaal", 1, 1, 1, 100.0, 15, 15, 1, 1, 100.0, 120, 120),
        ("customer", "vandijk", 1, 1, 1, 100.0, 20, 20, 1, 0, 0.0, None, None),
        # response [30, 60, 300]; resolution [540, 540] and one running
        ("customer", "zonnebloem", 3, 3, 2, 66.7, 60, 300, 2, 1, 50.0, 540, 540),
        # response [15, 20, 30, 60, 300]: median 30, p90 rank 5; resolution [120, 540, 540]: p90 rank 3
        ("all", "all", 5, 5, 4, 80.0, 30, 300, 4, 2, 50.0, 540, 540),
    ]


def test_the_sla_report_of_a_period_without_tickets_is_empty(example_rules):
    tickets = report_tickets(example_rules)
    assert slareport.report(tickets, example_rules, at("2026-11-24 17:00"), date(2026, 10, 1), date(2026, 10, 31)) == []


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([1.0], 90, 1.0),
        ([3.0, 1.0, 2.0], 90, 3.0),
        ([float(n) for n in range(1, 11)], 90, 9.0),  # rank ceil(9.0) = 9
        ([float(n) for n in range(1, 12)], 90, 10.0),  # rank ceil(9.9) = 10
        ([float(n) for n in range(1, 21)], 90, 18.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
    ],
)
def test_the_nearest_rank_percentile_is_a_value_off_the_sorted_list(values, pct, expected):
    assert slareport.percentile(values, pct) == expected


# --- properties --------------------------------------------------------------------------------

START = datetime(2026, 10, 15, tzinfo=BRUSSELS)
# Belgian holidays and the desk's closing days from October 2026 to February 2027
CLOSED_DAYS = {
    date(2026, 11, 1),
    date(2026, 11, 11),
    date(2026, 12, 24),
    date(2026, 12, 25),
    date(2026, 12, 31),
    date(2027, 1, 1),
}
MINUTES = st.integers(min_value=1, max_value=6 * 24 * 60)


@st.composite
def histories(draw: st.DrawFn) -> dict[str, object]:
    return {
        "created": START + timedelta(minutes=draw(st.integers(min_value=0, max_value=80 * 24 * 60))),
        "level": draw(st.sampled_from(["P1", "P2", "P3", "P4"])),
        "picked_up": timedelta(minutes=draw(MINUTES)),
        "pause_after": timedelta(minutes=draw(MINUTES)),
        "pause_length": timedelta(minutes=draw(MINUTES)),
        "status": draw(st.sampled_from(PAUSING)),
        "resumes": draw(st.booleans()),
        "look_after": timedelta(minutes=draw(st.integers(min_value=0, max_value=10 * 24 * 60))),
    }


def build(example_rules: rules.Rules, history: dict, pause: bool) -> tuple[Ticket, datetime]:
    """A zonnebloem ticket picked up by an agent, with or without a pause afterwards, and a moment to look."""
    created = history["created"]
    ticket = make(example_rules, created.isoformat(), history["level"])
    picked_up = created + history["picked_up"]
    ticket.apply(workflow.update(ticket, example_rules, {"status": "in-progress"}, AGENT, picked_up))
    paused_at = picked_up + history["pause_after"]
    resumed_at = paused_at + history["pause_length"]
    last = resumed_at if history["resumes"] else paused_at
    if pause:
        ticket.apply(workflow.update(ticket, example_rules, {"status": history["status"]}, AGENT, paused_at))
        if history["resumes"]:
            ticket.apply(workflow.update(ticket, example_rules, {"status": "in-progress"}, AGENT, resumed_at))
    return ticket, last + history["look_after"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_adding_a_pause_anywhere_never_makes_a_due_date_earlier(example_rules, history):
    plain, now = build(example_rules, history, pause=False)
    paused, _ = build(example_rules, history, pause=True)
    before, after = clocks(plain, example_rules, now), clocks(paused, example_rules, now)
    for name in ("response", "resolution"):
        assert after[name].due >= before[name].due, name
        assert after[name].elapsed <= before[name].elapsed, name


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), pause=st.booleans())
def test_a_due_date_on_office_hours_is_never_outside_opening_hours(example_rules, history, pause):
    """Due within [opening, closing], both ends included; a business-day target never at a closing
    (it moves to the next opening), a target in hours never at an opening (the earliest moment)."""
    ticket, now = build(example_rules, history, pause)
    for clock in sla.clocks(ticket, example_rules, now):
        due = clock.due.astimezone(BRUSSELS)
        assert due.date() < date(2027, 3, 1)  # CLOSED_DAYS covers the dates drawn
        assert due.weekday() < 5 and due.date() not in CLOSED_DAYS, due
        wall = due.time()
        assert time(9) <= wall <= time(12) or time(13) <= wall <= time(17), due
        if clock.target.days:
            assert wall not in (time(12), time(17)), (clock.target, due)
        else:
            assert wall not in (time(9), time(13)), (clock.target, due)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), pause=st.booleans())
def test_open_time_past_the_target_always_means_the_clock_is_late(example_rules, history, pause):
    """Late on the wall clock can come without open time (the desk was closed), never the other way round."""
    ticket, now = build(example_rules, history, pause)
    for clock in sla.clocks(ticket, example_rules, now):
        assert clock.open_time_late >= timedelta(0)
        if clock.open_time_late:
            assert clock.late, (clock.name, clock.due, clock.stopped, now)
        if not clock.late:
            assert clock.left >= timedelta(0), (clock.name, clock.due, now)


def waiting_with_reminders(since: datetime, reminders_at: list[datetime]):
    history = [
        Event(since - timedelta(minutes=1), "a@x.example", "created"),
        Event(since, "a@x.example", "updated", (Change("status", "open", "waiting-for-customer"),)),
        *[Event(moment, SWEEPER, "reminder", visibility="public", text="old") for moment in reminders_at],
    ]
    return Ticket(
        id="2Q400G-AAAAA",
        title="t",
        type="question",
        status="waiting-for-customer",
        priority="P3",
        customer="zonnebloem",
        requester="els.vermeulen@zonnebloem.example",
        team="servicedesk",
        created=since - timedelta(minutes=1),
        history=history,
    )


def with_sweep(example_rules: rules.Rules, reminders: tuple[int, ...], auto_close: int) -> rules.Rules:
    rules_now = example_rules
    swept = msgspec.structs.replace(rules_now.service.sweep, reminders=reminders, auto_close=auto_close)
    return msgspec.structs.replace(rules_now, service=msgspec.structs.replace(rules_now.service, sweep=swept))


def test_reminders_recorded_by_the_earlier_count_are_not_sent_again_with_consecutive_marks(example_rules):
    """Waiting since Saturday 08:00 with reminders after 1 and 2 working days: the earlier count (from the
    date of the wait) reminded on Monday and Tuesday 08:00; the new count (from Monday 09:00) has its marks
    on Tuesday and Wednesday 09:00, and on Wednesday sends a third reminder."""
    policy = with_sweep(example_rules, (1, 2), 3)
    since = datetime(2026, 11, 21, 8, 0, tzinfo=BRUSSELS)
    old = [datetime(2026, 11, 23, 8, 0, tzinfo=BRUSSELS), datetime(2026, 11, 24, 8, 0, tzinfo=BRUSSELS)]
    ticket = waiting_with_reminders(since, old)
    event = sweep.next_event(ticket, policy, datetime(2026, 11, 25, 9, 30, tzinfo=BRUSSELS), clocks=[])
    assert event is None, event.text


def test_two_clones_that_sweep_the_same_mark_record_the_same_reminder(example_rules):
    """README: two clones that sweep the same ticket record the very same event. A clone that saw the first
    reminder writes 'Reminder 2' at the 4-day mark, one that did not (stale) 'Reminder 1' at that very
    moment: the merge driver calls it a conflict and the runner's cycle stops at pull."""
    policy = with_sweep(example_rules, (2, 4), 5)
    since = datetime(2026, 11, 20, 18, 0, tzinfo=BRUSSELS)
    first = datetime(2026, 11, 25, 9, 0, tzinfo=BRUSSELS)
    now = datetime(2026, 11, 27, 9, 30, tzinfo=BRUSSELS)
    seen = sweep.next_event(waiting_with_reminders(since, [first]), policy, now, clocks=[])
    stale = sweep.next_event(waiting_with_reminders(since, []), policy, now, clocks=[])
    assert seen is not None and stale is not None and seen.at == stale.at
    assert seen == stale
