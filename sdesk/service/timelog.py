"""Time registration and billing: classing entries, their corrections, the monthly invoice figures. Pure.

Every entry is a ``time`` event on its ticket: who, on which day, how many
minutes, what, and whether the contract covers it or it is billable. A
correction is a later ``time`` event whose ``amends`` is the ``at`` of the
entry it replaces (0 minutes withdraws it): history stays append-only, and
every total counts each entry's latest version only (:func:`latest_versions`).
The month report allocates covered work to the plan's included hours in the
order it was done, so the surplus is the work done after the budget ran out
and every figure adds up to the entries, to the minute (README, "Time and
billing").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from msgspec import Struct, field

from sdesk.calendar.durations import hours_minutes
from sdesk.formats.reader import SchemaError
from sdesk.output import Column
from sdesk.policy.rules import Customer, PlanTerms, Rules
from sdesk.tickets.model import Event, Ticket


def default_billing(
    ticket: Ticket, customer: Customer | None, plan: PlanTerms | None = None, on_site: bool = False
) -> tuple[str, str]:
    """The class an entry gets unless the agent says otherwise, and why."""
    if on_site and plan is not None and plan.on_site != "covered":
        return "billable", f"on-site work is billed on plan {plan.key} (on_site: {plan.on_site})"
    if customer is not None and customer.billing == "included":
        return "covered", f"{customer.key}'s contract includes all work (billing: included)"
    if ticket.exclusions:
        return "billable", f"outside the contract ({', '.join(ticket.exclusions)}): the customer was told it may cost"
    return "covered", "covered by the plan and maintenance"


# --- entries and their corrections ---------------------------------------------------------


class TimeEntry(Struct, frozen=True):
    """A time event with the number `sdesk show` prints and `sdesk log --correct N` takes."""

    number: int  # 1, 2, … in history order, corrections included
    event: Event
    corrects: int | None  # the entry its ``amends`` names; None for a first version


def time_entries(history: Sequence[Event]) -> list[TimeEntry]:
    """Every time event, numbered; a correction names the one earlier entry logged at its ``amends``."""
    found: list[TimeEntry] = []
    logged_at: dict[datetime, list[int]] = {}
    for event in history:
        if event.kind != "time":
            continue
        named = logged_at.get(event.amends, []) if event.amends is not None else []
        found.append(TimeEntry(len(found) + 1, event, named[0] if len(named) == 1 else None))
        logged_at.setdefault(event.at, []).append(len(found))
    return found


def latest_versions(history: Sequence[Event]) -> list[tuple[TimeEntry, Event]]:
    """Each entry as first logged with its latest version, in the order first logged; withdrawn ones left out.

    Every total counts these, so a correction replaces its entry instead of adding to it.
    """
    entries = time_entries(history)
    first: dict[int, int] = {}
    latest: dict[int, Event] = {}
    for entry in entries:
        origin = first[entry.corrects] if entry.corrects is not None else entry.number
        first[entry.number] = origin
        latest[origin] = entry.event
    return [(entries[origin - 1], event) for origin, event in latest.items() if event.minutes]


def amends_problems(history: Sequence[Event]) -> list[SchemaError]:
    """An ``amends`` must name exactly one earlier time entry, or no total knows what it replaces (sdesk check)."""
    problems = []
    logged_at: dict[datetime, int] = {}
    for index, event in enumerate(history):
        if event.amends is not None:
            problem = _amends_problem(event.kind, event.amends.isoformat(), logged_at.get(event.amends, 0))
            if problem is not None:
                problems.append(SchemaError(("history", index, "amends"), problem))
        if event.kind == "time":
            logged_at[event.at] = logged_at.get(event.at, 0) + 1
    return problems


def _amends_problem(kind: str, moment: str, named: int) -> str | None:
    if kind != "time":
        return f"only a time entry corrects another, not a '{kind}' event"
    if named == 0:
        return f"names no earlier time entry (none was logged at {moment})"
    if named > 1:
        return f"names {named} time entries logged at {moment}: it cannot say which it corrects"
    return None


class Entry(Struct, frozen=True):
    """One time entry (its latest version), flattened from its ticket for reporting."""

    ticket: str
    title: str
    customer: str
    on: date
    minutes: int
    billing: str
    on_site: bool
    by: str
    note: str | None
    # when the work was done, then when it was first logged (a correction keeps its place): allocation order
    order: tuple[date, datetime, str, int]


def entries(tickets: Iterable[Ticket]) -> list[Entry]:
    """Every time entry of these tickets as it stands now (month_report puts them in the order the work was done)."""
    found = []
    for ticket in tickets:
        for first, event in latest_versions(ticket.history):
            if event.minutes is None or event.on is None:
                continue
            found.append(
                Entry(
                    ticket=ticket.id,
                    title=ticket.title,
                    customer=ticket.customer,
                    on=event.on,
                    minutes=event.minutes,
                    billing=event.billing or "covered",
                    on_site=event.on_site,
                    by=event.by,
                    note=event.text,
                    order=(event.on, first.event.at.astimezone(UTC), ticket.id, first.number),
                )
            )
    return found


class Tally(Struct):
    """Minutes of one customer (or one ticket) in a month; logged = covered + billable."""

    covered: int = 0
    included: int = 0  # covered work within the plan's included hours
    surplus: int = 0  # covered work beyond them: invoiced
    billable: int = 0  # work outside the contract: invoiced
    on_site: int = 0  # of the logged minutes, those worked at the customer's

    def add(self, entry: Entry, included: int, surplus: int) -> None:
        if entry.on_site:
            self.on_site += entry.minutes
        if entry.billing == "billable":
            self.billable += entry.minutes
            return
        self.covered += entry.minutes
        self.included += included
        self.surplus += surplus

    @property
    def logged(self) -> int:
        return self.covered + self.billable

    @property
    def to_invoice(self) -> int:
        return self.surplus + self.billable


class CustomerMonth(Struct):
    customer: str
    name: str
    plan: str
    billing: str
    budget: int | None  # included minutes a month, for sla-hours billing
    total: Tally = field(default_factory=Tally)
    tickets: dict[str, Tally] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)


def month_of(entry: Entry) -> str:
    return f"{entry.on:%Y-%m}"


def month_report(all_entries: Iterable[Entry], rules: Rules, month: str) -> list[CustomerMonth]:
    """Per customer (in rules.yaml order, then unknown ones): the month's figures, per ticket too."""
    months: dict[str, CustomerMonth] = {}
    for entry in sorted(all_entries, key=lambda item: item.order):
        if month_of(entry) != month:
            continue
        if entry.customer not in months:
            months[entry.customer] = _customer_month(entry.customer, rules)
        report = months[entry.customer]
        ticket = report.tickets.setdefault(entry.ticket, Tally())
        report.titles[entry.ticket] = entry.title
        included, surplus = _split(entry, report)
        for tally in (report.total, ticket):
            tally.add(entry, included, surplus)
    order = {key: index for index, key in enumerate(rules.customers)}
    return sorted(months.values(), key=lambda item: (order.get(item.customer, len(order)), item.customer))


def _customer_month(key: str, rules: Rules) -> CustomerMonth:
    customer = rules.customers.get(key)
    if customer is None:
        return CustomerMonth(key, key, "", "invoice", None)
    terms = rules.plans.get(customer.plan)
    budget = terms.included_minutes if terms is not None and customer.billing == "sla-hours" else None
    return CustomerMonth(key, customer.name, customer.plan, customer.billing, budget)


def _split(entry: Entry, report: CustomerMonth) -> tuple[int, int]:
    """A covered entry's minutes within the month's included hours and beyond them, in the order work was done."""
    if entry.billing == "billable" or report.budget is None:
        return 0, 0
    included = min(entry.minutes, max(report.budget - report.total.included, 0))
    return included, entry.minutes - included


# --- the report's rows ---------------------------------------------------------------------

FIELDS = (
    "level",
    "month",
    "customer",
    "customer_name",
    "id",
    "title",
    "billing",
    "logged_minutes",
    "covered_minutes",
    "included_budget_minutes",
    "included_minutes",
    "surplus_minutes",
    "billable_minutes",
    "invoice_minutes",
    "invoice_hours",
    "on_site_minutes",
)
CUSTOMER_COLUMNS = (
    Column("customer", "Customer", fill=True),
    Column("billing", "Billing"),
    Column("logged", "Logged"),
    Column("on_site", "On site"),
    Column("covered", "Covered"),
    Column("included", "Included"),
    Column("surplus", "Surplus"),
    Column("billable", "Billable"),
    Column("invoice", "Invoice"),
)
TICKET_COLUMNS = (CUSTOMER_COLUMNS[0], Column("id", "Ticket"), *CUSTOMER_COLUMNS[2:])


def rows(months: list[CustomerMonth], month: str, by_ticket: bool = False) -> list[dict[str, Any]]:
    """Customer rows (each after its ticket rows when asked), then the total; minutes exact, hours for people."""
    found: list[dict[str, Any]] = []
    grand = Tally()
    for report in months:
        if by_ticket:
            for ticket, tally in report.tickets.items():
                found.append(_row("ticket", month, report, tally, ticket, report.titles[ticket]))
        found.append(_row("customer", month, report, report.total))
        for name in ("covered", "included", "surplus", "billable", "on_site"):
            setattr(grand, name, getattr(grand, name) + getattr(report.total, name))
    if found:
        found.append(_row("total", month, CustomerMonth("", "", "", "", None), grand))
    return found


def _row(
    level: str, month: str, report: CustomerMonth, tally: Tally, ticket: str | None = None, title: str | None = None
) -> dict[str, Any]:
    budget = report.budget if level != "ticket" else None
    return {
        "level": level,
        "month": month,
        "customer": report.customer if level != "total" else "total",
        "customer_name": report.name or None,
        "id": ticket,  # the ticket's, on a ticket's line; null on a customer's and the total
        "title": title,
        "billing": report.billing or None,
        "logged_minutes": tally.logged,
        "on_site_minutes": tally.on_site,
        "covered_minutes": tally.covered,
        "included_budget_minutes": budget,
        "included_minutes": tally.included,
        "surplus_minutes": tally.surplus,
        "billable_minutes": tally.billable,
        "invoice_minutes": tally.to_invoice,
        "invoice_hours": round(tally.to_invoice / 60, 2),
        # for people: hours:minutes, included as "used of budget"
        "logged": hours_minutes(tally.logged),
        "on_site": _shown(tally.on_site),
        "covered": hours_minutes(tally.covered),
        "included": f"{hours_minutes(tally.included)}/{hours_minutes(budget)}" if budget else _shown(tally.included),
        "surplus": _shown(tally.surplus),
        "billable": hours_minutes(tally.billable),
        "invoice": hours_minutes(tally.to_invoice),
    }


def _shown(minutes: int) -> str:
    return hours_minutes(minutes) if minutes else ""
