"""Customer satisfaction (`sdesk report csat`): survey response rate and scores. Pure.

A survey request goes out when an agent first closes a ticket (not when the
sweep auto-closes it: the customer had stopped answering; and not again after
a reopening: one ticket, one survey). A ticket counts in the period of that
close; its answer is the one `sdesk survey` recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from msgspec import Struct, field

from sdesk.output import Column
from sdesk.policy.rules import Rules
from sdesk.tickets.model import Event, Ticket
from sdesk.words import SCORES

GROUPINGS = ("customer", "team", "agent")
SATISFIED = 4  # scores from here up count as satisfied
SCORE_RANGE = range(SCORES[0], SCORES[1] + 1)
FIELDS = (
    "group",
    "key",
    "surveys",
    "answers",
    "response_rate",
    "average",
    "satisfied",
    *(f"score_{score}" for score in SCORE_RANGE),
)
COLUMNS = (
    Column("group", "Group"),
    Column("key", "Key", fill=True),
    Column("surveys", "Surveys"),
    Column("answers", "Answers"),
    Column("response_rate", "Rate %"),
    Column("average", "Average"),
    Column("satisfied", "Satisfied %"),
)


def survey_request(ticket: Ticket) -> Event | None:
    """The close that sent the ticket's survey request: the first an agent did."""
    return next((event for event in ticket.history if event.kind == "closed"), None)


def answer(ticket: Ticket) -> Event | None:
    return next((event for event in ticket.history if event.kind == "survey"), None)


class _Tally(Struct):
    surveys: int = 0
    scores: list[int] = field(default_factory=list)

    def add(self, score: int | None) -> None:
        self.surveys += 1
        if score is not None:
            self.scores.append(score)

    def row(self, group: str, key: str) -> dict[str, Any]:
        answers = len(self.scores)
        return {
            "group": group,
            "key": key,
            "surveys": self.surveys,
            "answers": answers,
            "response_rate": round(100 * answers / self.surveys, 1) if self.surveys else None,
            "average": round(sum(self.scores) / answers, 2) if answers else None,
            "satisfied": round(100 * sum(score >= SATISFIED for score in self.scores) / answers, 1)
            if answers
            else None,
            **{f"score_{score}": self.scores.count(score) for score in SCORE_RANGE},
        }


def report(tickets: Iterable[Ticket], rules: Rules, start: date | None, end: date | None) -> list[dict[str, Any]]:
    """One row per customer, team and agent (the assignee, else who closed it), then the total."""
    tallies: dict[tuple[str, str], _Tally] = {}
    total = _Tally()
    for ticket in tickets:
        closed = survey_request(ticket)
        if closed is None:
            continue
        day = closed.at.astimezone(rules.timezone).date()
        if (start is not None and day < start) or (end is not None and day > end):
            continue
        given = answer(ticket)
        score = given.score if given is not None else None
        total.add(score)
        keys = {"customer": ticket.customer, "team": ticket.team, "agent": ticket.assignee or closed.by}
        for group in GROUPINGS:
            tallies.setdefault((group, keys[group]), _Tally()).add(score)
    ordered = sorted(tallies, key=lambda key: (GROUPINGS.index(key[0]), key[1]))
    rows = [tallies[key].row(*key) for key in ordered]
    return [*rows, total.row("all", "all")] if rows else []
