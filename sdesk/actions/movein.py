"""Moving in: another helpdesk's CSV export made tickets, as its mapping file says (`sdesk import --mapping`).

Each row becomes a ticket opened at its original time: a ``created`` event
then, saying where it came from and under which number (the key a re-run
recognises, so nothing is imported twice), and, when their status is not
the desk's first, one event that sets it (``closed``, with a resolution, for
a final status) at the time their export says it last changed. What `sdesk
new` applies applies here, where an old ticket allows it: the values are
checked as `new` checks them, the product and contact follow from the
customer's contract, the priority from impact and urgency and the team from
the routing rules unless their row says; the targets are the customer's
plan's. Eligibility and exclusions are not applied: their desk took these
tickets when they came in, under the contract of then. Then the checks of
`sdesk check` (the type's required fields …) decide, as for any ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from sdesk.actions import workflow
from sdesk.actions.transfer import Candidate, FileProblems, Source, open_input
from sdesk.clocks import sla
from sdesk.errors import InvalidData, SdeskError, excerpt
from sdesk.formats import csvfile, files, yamlio
from sdesk.formats.reader import Invalid, located
from sdesk.policy import importmap
from sdesk.policy.importmap import ImportMap, Row
from sdesk.policy.rules import Rules
from sdesk.terminal import visible
from sdesk.tickets import ids
from sdesk.tickets.model import Change, Event, Ticket

BOUNDS = csvfile.Bounds(cell=1 << 20, columns=1000)  # far beyond a helpdesk's export: Zendesk's has some 80
MAX_REF_CHARS = 100
PREFIX = "Imported from "


def load_mapping(path: Path, rules: Rules) -> ImportMap:
    """The mapping file the user names, held to the desk's rules; raises :class:`FileProblems` listing all."""
    text = files.read_text(path, Path(path.absolute().anchor))  # theirs to choose, links and all
    try:
        return importmap.parse(yamlio.load(text, path), rules)
    except Invalid as invalid:
        raise FileProblems(located(invalid.problems, path, text), path) from None


def provenance(imap: ImportMap, ref: str) -> str:
    """The first line of an imported ticket's history: where it came from, and the key of a re-run."""
    return f"{PREFIX}{imap.source}: their ticket {ref}."


def imported_before(tickets: Iterable[Ticket]) -> dict[str, str]:
    """The provenance line of every ticket an import made, to its number."""
    found = {}
    for ticket in tickets:
        text = ticket.history[0].text if ticket.history else None
        if text and text.startswith(PREFIX):
            found[text.split("\n", 1)[0]] = ticket.id
    return found


def rows(
    path: Path, mapping_path: Path, imap: ImportMap, rules: Rules, agent: str, now: datetime, known: dict[str, str]
) -> Source:
    """Their CSV's rows as tickets (``known``: :func:`imported_before` of the desk)."""

    def read() -> Iterator[Candidate]:
        with open_input(path) as stream:
            found = csvfile.rows(stream, path, BOUNDS, imap.delimiter)
            header = next(found, (1, []))[1]
            problems = importmap.header_problems(imap, header)
            if problems:
                text = files.read_text(mapping_path, Path(mapping_path.absolute().anchor))
                raise FileProblems(located(problems, mapping_path, text), mapping_path)
            width = len(header)
            for line, cells in found:
                if len(cells) != width:
                    where = SdeskError("a row", path, line)
                    yield Candidate(where, None, None, [f"{len(cells)} cells, where the header has {width}"])
                    continue
                row = importmap.read_row(imap, header, cells)
                where = SdeskError(f"their ticket {excerpt(row.ref)}" if row.ref else "a row", path, line)
                yield _candidate(row, where, imap, rules, agent, now, known)

    return read


def _candidate(
    row: Row,
    where: SdeskError,
    imap: ImportMap,
    rules: Rules,
    agent: str,
    now: datetime,
    known: dict[str, str],
) -> Candidate:
    key = provenance(imap, row.ref) if row.ref else None
    if key in known:  # imported before: whatever rules.yaml says now, it is in the desk
        return Candidate(where, key, None, [], known_as=known[key])
    reasons = list(row.reasons)
    if len(row.ref) > MAX_REF_CHARS or visible(row.ref) != row.ref:
        reasons.append(f"their ticket number must be one line of at most {MAX_REF_CHARS} characters")
    if row.created is not None and row.created > now:
        reasons.append(f"created {row.created:%Y-%m-%d %H:%M} is later than now")
    if reasons or row.created is None:
        return Candidate(where, key, None, reasons)
    try:
        ticket = _ticket(row, row.created.astimezone(rules.timezone), imap, rules, agent, where)
    except SdeskError as error:
        return Candidate(where, key, None, [error.message])
    return Candidate(where, key, ticket, [], renumber=True)


def _ticket(row: Row, created: datetime, imap: ImportMap, rules: Rules, agent: str, where: SdeskError) -> Ticket:
    """The ticket their row describes, as it stands in their desk; raises what `sdesk new` would refuse."""
    values = dict(row.values)
    status = values.pop("status", None) or rules.initial_status
    level = values.pop("priority", None)
    resolution = values.pop("resolution", None)
    if status not in rules.statuses:
        raise InvalidData(f"status {excerpt(status)} is not declared in rules.yaml")
    plan = workflow.plan_new(rules, values, created)
    level = level or plan.assessment.priority.level
    fields = {name: value for name, value in plan.values.items() if name != "team"}
    terms = sla.terms_from_rules(rules, str(fields["customer"]), level, str(fields["type"]))
    if terms is not None:
        fields.update(terms.as_fields())
    ticket = Ticket(
        id=ids.imported_id(created),
        status=rules.initial_status,
        priority=level,
        team=plan.values.get("team") or plan.assessment.team,
        created=created,
        **fields,  # type: ignore[arg-type]
    )
    origin = f"{where.path.name if where.path else 'their CSV'} line {where.line}"
    ticket.history.append(Event(created, agent, "created", text=f"{provenance(imap, row.ref)}\n({origin})"))
    if status != ticket.status:
        at = max((row.updated or created).astimezone(rules.timezone), created)
        said = f"Status in {imap.source}: {row.their_status or status}"
        moved = Change("status", ticket.status, status)
        if rules.is_final(status):
            text = resolution or f"Closed in {imap.source}."
            ticket.apply(Event(at, agent, "closed", (moved, Change("resolution", None, text)), text=said))
        else:
            ticket.apply(Event(at, agent, "updated", (moved,), text=said))
    return ticket
