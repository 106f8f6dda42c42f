"""Realistic desks of any size for the benchmark, written in sdesk's own file format.

Every ticket is opened and worked through sdesk's own workflow functions
(``plan_new``, ``create``, ``update``, ``comment``, ``log_time``, ``close`` …)
with the example desk's rules.yaml, and written with ``sdesk.storage.store.render``:
priorities, teams, SLA terms, exclusions and billing classes are what sdesk
itself would record, every transition is one rules.yaml allows, and
``sdesk check`` finds nothing to report. Creation times spread over the two
years before the pinned moment NOW; most tickets are closed, the rest sit in
every other status, with histories of 3 to 12 events.

A second mix, ``old-open``, is the desk that once stalled `sdesk queue` (an
outside generator's 10,000 tickets took 28 s): about 80 % of the tickets in
the open statuses, every ticket created at any moment of the years before
NOW (back to 2024-01-01, the first moment sdesk can number: nearly three
years), so most open clocks have run for a year or more. Its tickets are made the
same way, with the same histories; only the final statuses and the creation
times differ. It is cached in a folder of its own (``10000-old-open``) and its
marker names the mix.

Generation is deterministic for a size and seed (each chunk of tickets has
its own seeded generator, whichever worker writes it), runs on two worker
processes, and is cached: a desk whose marker file (written last) matches the
size, seed and generator version, and that holds that many tickets, is reused
as it is.

    .venv/bin/python bench/generate.py 10000 [--seed 1] [--mix realistic|old-open] [--root bench/.desks]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import texts

from sdesk.actions import workflow
from sdesk.policy.rules import Customer, Rules
from sdesk.storage import store
from sdesk.tickets import ids
from sdesk.tickets.model import Event, Ticket

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_RULES = REPO / "rules.yaml"
NOW = datetime.fromisoformat("2026-11-23T10:00:00+01:00")
ZONE = ZoneInfo("Europe/Brussels")
GENERATOR_VERSION = 3  # bump when the tickets change, so cached desks are rebuilt
MARKER = ".bench-desk.json"
CHUNK = 500
WORKERS = 2
YEARS_BACK_DAYS = 730
OFFICE_OPENS, OFFICE_CLOSES = 8, 18  # hours: when agents work, mostly
OPEN_DAYS_BACK = 45.0  # open work is recent: mean age in days of an open ticket

# A desk that has grown over two years: mostly closed, a backlog of about 6 % open in every
# other status (the keys must be rules.yaml's statuses).
STATUS_WEIGHTS = {
    "closed": 940,
    "open": 12,
    "in-progress": 20,
    "waiting-for-customer": 10,
    "on-hold": 6,
    "scheduled": 6,
    "awaiting-acceptance": 6,
}
# A desk nobody closes: about 80 % open, spread over every open status (the same keys).
OLD_OPEN_WEIGHTS = {
    "closed": 200,
    "open": 160,
    "in-progress": 200,
    "waiting-for-customer": 120,
    "on-hold": 120,
    "scheduled": 100,
    "awaiting-acceptance": 100,
}
# Four years back, as issue 19 asks, but sdesk numbers no ticket created before its epoch (2024-01-01):
# as far back as that allows (a week's margin for weekend tickets moved to the Friday before).
OLD_OPEN_DAYS_BACK = min(4 * 365, (NOW - ids.EPOCH).days - 7)
CUSTOMER_WEIGHTS = {"zonnebloem": 35, "vandijk": 30, "fod-digitaal": 20, "brightwave": 15}
TYPE_WEIGHTS = {"incident": 45, "service-request": 25, "question": 15, "change": 10, "complaint": 5}
EVENT_COUNTS = range(3, 13)
EVENT_COUNT_WEIGHTS = (10, 16, 18, 16, 12, 9, 7, 5, 4, 3)
AGENTS = tuple(
    f"{name}@caresolutions.example"
    for name in ("an.wouters", "bram.de.smet", "lien.jacobs", "jef.vandenbroeck", "ines.dhondt", "karel.peeters")
)
SERVICE_MANAGER = "servicemanager@caresolutions.example"
ERROR_MESSAGES = (
    "Fout 500: interne serverfout bij het openen van het dossier",
    "NET::ERR_CERT_DATE_INVALID",
    "ORA-12170: TNS:Connect timeout occurred",
    "M2M gateway: APN authentication failed (code 33)",
    "Time-out na 30 s – verbinding met de server verbroken",
)
OVERRIDE_REASON = "Onderhoud verlengd, bevestigd door de accountmanager"

# Steps of a ticket's life between being picked up and its final move, with how often each is drawn.
FILLERS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("public",), 30),
    (("internal",), 20),
    (("time",), 25),
    (("wait", "reply"), 12),
    (("hold", "resume"), 5),
    (("priority",), 3),
    (("close", "reopen", "pickup"), 5),
)
ONCE = ("priority", "reopen")  # steps that happen at most once in a ticket's life
# An open ticket was never picked up (or was reopened): only these leave its status alone.
OPEN_FILLERS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("internal",), 40),
    (("time",), 30),
    (("public",), 20),
    (("pickup", "close", "reopen"), 10),
)


@dataclass(frozen=True)
class Mix:
    """What kind of desk: how final statuses are drawn and how far back tickets were created."""

    name: str
    status_weights: dict[str, int]
    days_back: int  # tickets are created at most this many days before NOW
    recent_open: bool  # open tickets came in recently (exponentially), not uniformly over days_back


REALISTIC = "realistic"
OLD_OPEN = "old-open"
MIXES = {
    REALISTIC: Mix(REALISTIC, STATUS_WEIGHTS, YEARS_BACK_DAYS, recent_open=True),
    OLD_OPEN: Mix(OLD_OPEN, OLD_OPEN_WEIGHTS, OLD_OPEN_DAYS_BACK, recent_open=False),
}


@dataclass(frozen=True)
class DeskInfo:
    """A generated desk and what the benchmark needs to know about it (the marker file's content)."""

    size: int
    seed: int
    generator: int
    target: str  # an in-progress ticket: shown, updated and commented on by the benchmark
    statuses: dict[str, int]
    events: int  # history events over all tickets
    megabytes: float  # the ticket files' size
    seconds: float  # how long generation took (when it was generated)
    mix: str = REALISTIC  # markers written before mixes existed are realistic desks


@dataclass(frozen=True)
class Job:
    root: str
    seed: int
    chunk: int
    first: int
    count: int
    mix: str


@dataclass(frozen=True)
class ChunkResult:
    statuses: dict[str, int]
    events: int
    size: int  # bytes written
    target: str | None  # the chunk's latest in-progress ticket (numbers sort by creation)


def folder(root: Path, size: int, mix: str) -> Path:
    """Where the desk of this size and mix is cached: ``10000`` for the realistic mix, ``10000-old-open``."""
    return root / (str(size) if mix == REALISTIC else f"{size}-{mix}")


def generate(root: Path, size: int, seed: int, mix: str = REALISTIC) -> DeskInfo:
    """The desk at ``root`` with ``size`` tickets: reused when its marker matches, else written anew."""
    known = load_marker(root)
    wanted = (size, seed, GENERATOR_VERSION, mix)
    if known is not None and (known.size, known.seed, known.generator, known.mix) == wanted:
        if _count_tickets(root) == size:  # an interrupted benchmark may have left a ticket behind
            return known
    started = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    (root / store.TICKETS_DIR).mkdir(parents=True)
    shutil.copyfile(EXAMPLE_RULES, root / store.RULES_FILE)
    _check_weights(_rules(str(root)), MIXES[mix].status_weights)
    jobs = [
        Job(str(root), seed, chunk, first, min(CHUNK, size - first), mix)
        for chunk, first in enumerate(range(0, size, CHUNK))
    ]
    with multiprocessing.Pool(WORKERS) as pool:
        results = pool.map(write_chunk, jobs, chunksize=1)
    targets = [result.target for result in results if result.target is not None]
    statuses: Counter[str] = Counter()
    for result in results:
        statuses.update(result.statuses)
    info = DeskInfo(
        size=size,
        seed=seed,
        generator=GENERATOR_VERSION,
        target=max(targets),
        statuses={status: statuses[status] for status in STATUS_WEIGHTS},
        events=sum(result.events for result in results),
        megabytes=round(sum(result.size for result in results) / 1e6, 1),
        seconds=round(time.perf_counter() - started, 1),
        mix=mix,
    )
    (root / MARKER).write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    return info


def load_marker(root: Path) -> DeskInfo | None:
    """The marker of a completely written desk; None while it is missing (never written, or interrupted)."""
    try:
        return DeskInfo(**json.loads((root / MARKER).read_text(encoding="utf-8")))
    except (FileNotFoundError, TypeError, ValueError):
        return None


def _count_tickets(root: Path) -> int:
    return sum(1 for entry in os.scandir(root / store.TICKETS_DIR) if entry.name.endswith(".yaml"))


def _check_weights(rules: Rules, status_weights: dict[str, int]) -> None:
    """The weights name the example desk's statuses, customers and types; fail early if rules.yaml moved on."""
    for what, weights, declared in (
        ("statuses", status_weights, rules.statuses),
        ("customers", CUSTOMER_WEIGHTS, rules.customers),
        ("types", TYPE_WEIGHTS, rules.types),
    ):
        if set(weights) != set(declared):
            raise SystemExit(f"bench/generate.py: {what} {sorted(weights)} differ from rules.yaml's {sorted(declared)}")


@cache
def _rules(root: str) -> Rules:
    """The desk's rules, parsed once per worker process."""
    return store.Desk(Path(root)).rules


# --- one chunk, in a worker ---------------------------------------------------------------


def write_chunk(job: Job) -> ChunkResult:
    """Build and write one chunk of tickets; its own generator makes it independent of the worker."""
    rules = _rules(job.root)
    rng = random.Random(f"sdesk-bench-{job.seed}-{job.chunk}")
    mix = MIXES[job.mix]
    tickets_dir = Path(job.root) / store.TICKETS_DIR
    statuses: Counter[str] = Counter()
    target: str | None = None
    events = written = 0
    for index in range(job.first, job.first + job.count):
        ticket = build_ticket(rules, rng, index, mix)
        written += _write_new(tickets_dir, ticket, rng)
        statuses[ticket.status] += 1
        events += len(ticket.history)
        if ticket.status == "in-progress":
            target = max(target or "", ticket.id)
    return ChunkResult(dict(statuses), events, written, target)


def _write_new(folder: Path, ticket: Ticket, rng: random.Random) -> int:
    """Write the file without fsync (speed), returning its size; on the rare clash of numbers draw new bits."""
    while True:
        data = store.render(ticket).encode("utf-8")
        try:
            with open(folder / f"{ticket.id}.yaml", "xb") as handle:
                handle.write(data)
            return len(data)
        except FileExistsError:
            ticket.id = ids.new_id(ticket.created, rng.getrandbits(5 * ids.RANDOM_CHARS))


def build_ticket(rules: Rules, rng: random.Random, index: int, mix: Mix = MIXES[REALISTIC]) -> Ticket:
    """One ticket, opened and worked through sdesk's workflow up to its final status."""
    status = _draw_status(rng, index, mix.status_weights)
    customer = rules.customers[_weighted(rng, CUSTOMER_WEIGHTS)]
    steps = _script(rng, status, rng.choices(EVENT_COUNTS, EVENT_COUNT_WEIGHTS)[0])
    moments = _moments(rng, _creation(rng, status, mix), len(steps))
    agent = SERVICE_MANAGER if rng.random() < 0.02 else rng.choice(AGENTS)
    ticket = _open(rules, rng, customer, moments[0], agent)
    story = Story(rules, rng, ticket, agent, customer.language)
    for step, moment in zip(steps[1:], moments[1:], strict=True):
        ticket.apply(story.event(step, moment))
    return ticket


def _draw_status(rng: random.Random, index: int, weights: dict[str, int]) -> str:
    """The final status; the first tickets take each status once, so every status is present."""
    statuses = list(weights)
    return statuses[index] if index < len(statuses) else _weighted(rng, weights)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _script(rng: random.Random, status: str, count: int) -> list[str]:
    """The steps of a ticket's life, ``count`` events from 'created' to its final status."""
    if status == "open":
        return ["created", *_fill(rng, OPEN_FILLERS, count - 1)]
    tail = [] if status == "in-progress" else ["close"] if status == "closed" else [f"park:{status}"]
    if status == "closed":
        extras = [step for step, chance in (("time", 0.4), ("survey", 0.3)) if rng.random() < chance]
        tail += extras[: max(0, count - 3)]
    return ["created", "pickup", *_fill(rng, FILLERS, count - 2 - len(tail)), *tail]


def _fill(rng: random.Random, fillers: tuple[tuple[tuple[str, ...], int], ...], room: int) -> list[str]:
    """Steps that fit exactly in ``room`` events; a priority change or a reopening happens at most once."""
    steps: list[str] = []
    while len(steps) < room:
        fitting = [
            (group, weight)
            for group, weight in fillers
            if len(group) <= room - len(steps) and not any(step in ONCE and step in steps for step in group)
        ]
        groups, weights = zip(*fitting, strict=True)
        steps += rng.choices(groups, weights)[0]
    return steps


def _creation(rng: random.Random, status: str, mix: Mix) -> datetime:
    """When the ticket came in: office hours on a working day, mostly; open ones recently unless the mix says not."""
    if status == "closed" or not mix.recent_open:
        days_back = rng.uniform(3, mix.days_back)
    else:
        days_back = rng.expovariate(1 / OPEN_DAYS_BACK)
    day = NOW.date() - timedelta(days=min(days_back, mix.days_back))
    if day.weekday() >= 5 and rng.random() < 0.85:
        day -= timedelta(days=day.weekday() - 4)  # the weekend's tickets mostly came in on Friday
    minute = int(rng.triangular(7.5 * 60, 17.5 * 60, 10 * 60))
    created = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=ZONE)
    latest = NOW - timedelta(hours=2)
    return created if created <= latest else latest - timedelta(minutes=rng.randrange(0, 600))


def _moments(rng: random.Random, created: datetime, count: int) -> list[datetime]:
    """Event times in order from ``created``, minutes to days apart, in office hours when that ends before NOW.

    When it does not (recent tickets), the gaps shrink to fit before NOW, office hours or not.
    """
    gaps = [_gap(rng) for _ in range(count - 1)]
    office = _walk(created, gaps, lambda moment: _office_hours(rng, moment))
    if office[-1] <= NOW:
        return office
    scale = min(1.0, (NOW - created).total_seconds() * 0.95 / max(1.0, sum(gaps)))
    return _walk(created, [gap * scale for gap in gaps], lambda moment: moment)


def _walk(created: datetime, gaps: list[float], adjust: Callable[[datetime], datetime]) -> list[datetime]:
    """Each moment ``gap`` seconds after the one before, adjusted forward only, so the order holds."""
    moments = [created]
    for gap in gaps:
        moment = (moments[-1].astimezone(UTC) + timedelta(seconds=gap)).astimezone(ZONE)  # UTC: clocks go back
        moments.append(adjust(moment).replace(second=0, microsecond=0))
    return moments


def _office_hours(rng: random.Random, moment: datetime) -> datetime:
    """The moment, or the next working morning when it falls in the evening, the night or a weekend."""
    if moment.weekday() < 5 and OFFICE_OPENS <= moment.hour < OFFICE_CLOSES:
        return moment
    day = moment.date() if moment.hour < OFFICE_OPENS else moment.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    opening = datetime(day.year, day.month, day.day, OFFICE_OPENS, tzinfo=ZONE)
    return opening + timedelta(minutes=rng.randrange(0, 120))


def _gap(rng: random.Random) -> float:
    """Seconds until the next event: often within the hour, sometimes the next days."""
    draw = rng.random()
    if draw < 0.55:
        return rng.uniform(5, 90) * 60
    if draw < 0.9:
        return rng.uniform(2, 30) * 3600
    return rng.uniform(2, 12) * 86400


def _open(rules: Rules, rng: random.Random, customer: Customer, created: datetime, agent: str) -> Ticket:
    """Open the ticket as `sdesk new` would: the rules decide priority, team, SLA terms and exclusions."""
    plan = workflow.plan_new(rules, _values(rng, customer, created), created)
    override = OVERRIDE_REASON if plan.ineligibility() else None
    bits = rng.getrandbits(5 * ids.RANDOM_CHARS)
    return workflow.create(rules, plan, agent, created, override, accept_costs=True, random_bits=bits)


def _values(rng: random.Random, customer: Customer, created: datetime) -> dict[str, str | None]:
    """What the requester told the desk: a subject of a product still under maintenance, on one of their sites."""
    products = [package.product for package in customer.packages if package.maintenance_until >= created.date()]
    product = rng.choice(products or [package.product for package in customer.packages])
    subjects = texts.SUBJECTS[product]
    title, category, description = rng.choice(subjects.get(customer.language) or subjects["nl"])
    requester = rng.choice(customer.contacts)
    fills = _fills(rng, customer)
    ticket_type = _weighted(rng, TYPE_WEIGHTS)
    known = ticket_type == "incident" or rng.random() < 0.7
    values: dict[str, str | None] = {
        "title": title.format(**fills),
        "type": ticket_type,
        "customer": customer.key,
        "requester": requester.email,
        "product": product,
        "site": rng.choice(requester.sites or tuple(customer.sites)),
        "category": category if rng.random() < 0.8 else None,
        "impact": rng.choice(("company", "department", "individual", "individual")) if known else None,
        "urgency": rng.choice(("high", "medium", "medium", "low")) if known else None,
        "description": description.format(**fills),
    }
    if ticket_type == "incident" and rng.random() < 0.4:
        values["error_message"] = rng.choice(ERROR_MESSAGES)
    return values


def _fills(rng: random.Random, customer: Customer) -> dict[str, str]:
    """Values for a subject's placeholders, so titles and descriptions vary."""
    fills = {"unit": rng.choice(texts.UNITS[customer.key]), "person": rng.choice(texts.PEOPLE[customer.language])}
    fills["number"] = str(rng.randrange(100, 9999))
    fills["count"] = str(rng.randrange(2, 60))
    fills["hour"] = f"{rng.randrange(6, 22)}:{rng.choice(('00', '15', '30', '45'))}"
    return fills


class Story:
    """The events of one ticket's life, each made by the workflow function an agent's command calls."""

    def __init__(self, rules: Rules, rng: random.Random, ticket: Ticket, agent: str, language: str):
        self.rules, self.rng, self.ticket, self.agent, self.language = rules, rng, ticket, agent, language

    def event(self, step: str, at: datetime) -> Event:
        name, _, status = step.partition(":")
        make = getattr(self, f"_{name}")
        event: Event = make(at, status) if status else make(at)
        return event

    def _say(self, bank: dict[str, list[Any]]) -> Any:
        return self.rng.choice(bank.get(self.language) or bank["nl"])

    def _move(self, at: datetime, status: str, note: str | None, **fields: str) -> Event:
        values = {"status": status, **fields}
        return workflow.update(self.ticket, self.rules, values, self.agent, at, note)

    def _pickup(self, at: datetime) -> Event:
        return self._move(at, "in-progress", self._say(texts.PICKUP), assignee=self.agent)

    def _public(self, at: datetime) -> Event:
        return workflow.comment(self.ticket, self.rules, self._say(texts.PUBLIC), self.agent, at)

    def _internal(self, at: datetime) -> Event:
        text = self._say(texts.INTERNAL)
        return workflow.comment(self.ticket, self.rules, text, self.agent, at, internal=True)

    def _time(self, at: datetime) -> Event:
        minutes = 5 * self.rng.randrange(1, 49)
        note = self._say(texts.TIME_NOTES)
        return workflow.log_time(self.ticket, self.rules, minutes, note, self.agent, at, on=_day(at))

    def _wait(self, at: datetime) -> Event:
        return self._move(at, "waiting-for-customer", self._say(texts.WAITING))

    def _reply(self, at: datetime) -> Event:
        """The requester answers: a public comment that puts the waiting ticket back in progress."""
        return workflow.comment(self.ticket, self.rules, self._say(texts.CUSTOMER), self.ticket.requester, at)

    def _hold(self, at: datetime) -> Event:
        return self._move(at, "on-hold", self._say(texts.PARKED["on-hold"]))

    def _resume(self, at: datetime) -> Event:
        return self._move(at, "in-progress", self._say(texts.RESUMED))

    def _park(self, at: datetime, status: str) -> Event:
        return self._move(at, status, self._say(texts.PARKED[status]))

    def _priority(self, at: datetime) -> Event:
        level = self.rng.choice([level for level in self.rules.priority.levels if level != self.ticket.priority])
        reason = self._say(texts.PRIORITY_REASONS)
        return workflow.set_priority(self.ticket, self.rules, level, reason, self.agent, at)

    def _close(self, at: datetime) -> Event:
        return workflow.close(self.ticket, self.rules, self._say(texts.RESOLUTIONS), self.agent, at)

    def _reopen(self, at: datetime) -> Event:
        return workflow.reopen(self.ticket, self.rules, self._say(texts.REOPEN_REASONS), self.agent, at)

    def _survey(self, at: datetime) -> Event:
        score = self.rng.choices((1, 2, 3, 4, 5), (3, 4, 10, 38, 45))[0]
        remark = self._say(texts.SURVEY_REMARKS)
        return workflow.survey(self.ticket, self.rules, score, remark, self.agent, at)


def _day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate (or reuse) a benchmark desk.")
    parser.add_argument("size", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mix", choices=sorted(MIXES), default=REALISTIC, help="the kind of desk; default realistic")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent / ".desks")
    args = parser.parse_args()
    info = generate(folder(args.root, args.size, args.mix), args.size, args.seed, args.mix)
    print(json.dumps(asdict(info), indent=2))


if __name__ == "__main__":
    main()
