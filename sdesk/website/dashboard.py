"""The desk dashboard's figures, gathered in one pass over every ticket. Pure.

For the team, not for customers: the backlog by status and priority, the
clocks overdue or about to be, SLA compliance of the tickets opened in each
of the last weeks (as `sdesk report sla` counts it), the age of the open
tickets and the time registered per customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sdesk.calendar.spoken import duration, moment
from sdesk.clocks import sla, slareport
from sdesk.policy.rules import Rules
from sdesk.service import timelog
from sdesk.tickets.model import Ticket
from sdesk.website.phrases import phrases

AT_RISK_WINDOW = timedelta(hours=4)  # of open time: a clock due this soon is "about to breach"
AT_RISK_LISTED = 100  # the clocks due first are listed; the figures count them all (`sdesk sla` lists every one)
WEEKS = 8
TIME_DAYS = 30
AGE_BUCKETS = (  # upper bound (exclusive) and its phrase; the last bucket has no bound
    (timedelta(days=1), "age_day"),
    (timedelta(days=3), "age_3days"),
    (timedelta(days=7), "age_week"),
    (timedelta(days=14), "age_2weeks"),
    (timedelta(days=28), "age_month"),
    (None, "age_older"),
)


@dataclass(frozen=True)
class ClockAtRisk:
    id: str
    customer: str  # the customer's key: the ticket's page is in their portal, if rules.yaml knows them
    has_portal: bool
    customer_name: str
    title: str
    priority: str
    clock: str
    state: str
    due: str
    left: str
    assignee: str | None
    late: bool
    due_at: datetime  # for ordering


@dataclass(frozen=True)
class WeekCompliance:
    label: str  # 2026-W47
    first_day: date
    tickets: int
    response_decided: int
    response: float | None  # % met of the decided clocks; None when none was decided
    resolution_decided: int
    resolution: float | None


@dataclass(frozen=True)
class CustomerTime:
    customer: str
    name: str
    covered: int  # minutes
    billable: int


@dataclass(frozen=True)
class Figure:
    label: str
    value: int
    alert: bool  # worth a support lead's attention when not zero


@dataclass(frozen=True)
class Dashboard:
    desk_name: str
    language: str
    updated: str
    window: str
    time_days: int
    figures: tuple[Figure, ...]
    priorities: tuple[str, ...]
    backlog: tuple[tuple[str, tuple[int, ...], int], ...]  # status label, count per priority, total
    backlog_totals: tuple[int, ...]
    at_risk: tuple[ClockAtRisk, ...]  # the AT_RISK_LISTED due first
    at_risk_unlisted: int
    weeks: tuple[WeekCompliance, ...]
    ages: tuple[tuple[str, int], ...]
    time: tuple[CustomerTime, ...]


class Collector:
    """Takes every ticket once (:meth:`add`), keeping counts rather than tickets, then gives the dashboard."""

    def __init__(self, rules: Rules, now: datetime, clocks: sla.ClockSource | None = None):
        self.rules, self.now = rules, now
        self.clocks = clocks or sla.from_scratch(rules, now)
        today = now.astimezone(rules.timezone).date()
        first_monday = today - timedelta(days=today.weekday(), weeks=WEEKS - 1)
        self._weeks = {first_monday + timedelta(weeks=n): slareport.Tally() for n in range(WEEKS)}
        self._time_from = today - timedelta(days=TIME_DAYS - 1)
        self._week_ago = now - timedelta(days=7)
        self._backlog: dict[tuple[str, str], int] = {}
        self._attention = self._overdue = 0  # clocks overdue or about to be, of which overdue
        self._due_first: list[tuple[datetime, str, str, Ticket, sla.Clock]] = []  # due, ticket, clock: a few
        self._ages = [0] * len(AGE_BUCKETS)
        self._time: dict[str, list[int]] = {}  # customer -> [covered, billable] minutes
        self._waiting = self._opened = self._closed = 0

    def add(self, ticket: Ticket) -> None:
        rules = self.rules
        is_open = not rules.is_final(ticket.status)
        opened = ticket.created.astimezone(rules.timezone).date()
        week = opened - timedelta(days=opened.weekday())
        clocks = self.clocks(ticket) if is_open or week in self._weeks else []
        if week in self._weeks:
            self._weeks[week].add(clocks)
        self._opened += ticket.created >= self._week_ago
        closing = [event.at for event in ticket.history if event.kind in ("closed", "auto-closed")]
        self._closed += not is_open and bool(closing) and closing[-1] >= self._week_ago
        for _, event in timelog.latest_versions(ticket.history):  # a corrected entry counts as corrected
            if event.on is not None and event.minutes and event.on >= self._time_from:
                minutes = self._time.setdefault(ticket.customer, [0, 0])
                minutes[event.billing == "billable"] += event.minutes
        if not is_open:
            return
        key = (ticket.status, ticket.priority)
        self._backlog[key] = self._backlog.get(key, 0) + 1
        status = rules.statuses.get(ticket.status)
        self._waiting += status is not None and status.waiting_on_customer
        self._ages[_age_bucket(self.now - ticket.created)] += 1
        for clock in clocks:
            if sla.needs_attention(clock, AT_RISK_WINDOW):
                self._attention += 1
                self._overdue += clock.late
                self._due_first.append((clock.due, ticket.id, clock.name, ticket, clock))
        if len(self._due_first) > 2 * AT_RISK_LISTED:  # the rest is counted, never listed: let it go
            self._due_first = sorted(self._due_first, key=_due_order)[:AT_RISK_LISTED]

    def _clock_at_risk(self, ticket: Ticket, clock: sla.Clock) -> ClockAtRisk:
        words = phrases(self.rules.language)
        customer = self.rules.customers.get(ticket.customer)
        language = self.rules.language
        left = duration(-clock.open_time_late if clock.late else clock.left, language)
        return ClockAtRisk(
            id=ticket.id,
            customer=ticket.customer,
            has_portal=customer is not None,
            customer_name=customer.name if customer is not None else ticket.customer,
            title=ticket.title,
            priority=ticket.priority,
            clock=words[f"clock_{clock.name}"],
            state=words[f"state_{clock.state}"],
            due=moment(clock.due, self.rules.language, self.rules.timezone, self.now),
            left=left,
            assignee=ticket.assignee,
            late=clock.late,
            due_at=clock.due,
        )

    def dashboard(self) -> Dashboard:
        rules, words = self.rules, phrases(self.rules.language)
        levels = tuple(rules.priority.levels)
        statuses = [key for key, status in rules.statuses.items() if not status.final]
        statuses += sorted({status for status, _ in self._backlog} - set(statuses))  # a status rules.yaml lost
        backlog = []
        for status in statuses:
            counts = tuple(self._backlog.get((status, level), 0) for level in levels)
            known = rules.statuses.get(status)
            backlog.append((known.labels.get(rules.language, status) if known else status, counts, sum(counts)))
        totals = tuple(sum(row[1][index] for row in backlog) for index in range(len(levels)))
        window = duration(AT_RISK_WINDOW, rules.language)
        due_first = sorted(self._due_first, key=_due_order)[:AT_RISK_LISTED]
        figures = (
            Figure(words["figure_open"], sum(totals), alert=False),
            Figure(words["figure_overdue"], self._overdue, alert=True),
            Figure(words["figure_at_risk"].format(window=window), self._attention - self._overdue, alert=True),
            Figure(words["figure_waiting"], self._waiting, alert=False),
            Figure(words["figure_opened_week"], self._opened, alert=False),
            Figure(words["figure_closed_week"], self._closed, alert=False),
        )
        return Dashboard(
            desk_name=rules.desk_name,
            language=rules.language,
            updated=moment(self.now, rules.language, rules.timezone),
            window=window,
            time_days=TIME_DAYS,
            figures=figures,
            priorities=levels,
            backlog=tuple(backlog),
            backlog_totals=totals,
            at_risk=tuple(self._clock_at_risk(ticket, clock) for *_, ticket, clock in due_first),
            at_risk_unlisted=self._attention - len(due_first),
            weeks=tuple(_week(monday, tally) for monday, tally in sorted(self._weeks.items())),
            ages=tuple((words[phrase], count) for (_, phrase), count in zip(AGE_BUCKETS, self._ages, strict=True)),
            time=tuple(
                CustomerTime(key, _customer_name(rules, key), covered, billable)
                for key, (covered, billable) in sorted(self._time.items(), key=lambda item: (-sum(item[1]), item[0]))
            ),
        )


def _due_order(item: tuple[datetime, str, str, Ticket, sla.Clock]) -> tuple[datetime, str, str]:
    due, ticket_id, clock, *_ = item
    return due, ticket_id, clock


def _age_bucket(age: timedelta) -> int:
    return next(index for index, (bound, _) in enumerate(AGE_BUCKETS) if bound is None or age < bound)


def _week(monday: date, tally: slareport.Tally) -> WeekCompliance:
    year, week, _ = monday.isocalendar()
    row = tally.row("week", str(monday))
    return WeekCompliance(
        label=f"{year}-W{week:02d}",
        first_day=monday,
        tickets=tally.tickets,
        response_decided=row["response_decided"],
        response=row["response_compliance"],
        resolution_decided=row["resolution_decided"],
        resolution=row["resolution_compliance"],
    )


def _customer_name(rules: Rules, key: str) -> str:
    customer = rules.customers.get(key)
    return customer.name if customer is not None else key
