"""What agents do to tickets, as pure functions that return history events.

Each function checks that the move is allowed and describes it as an
:class:`Event`; applying the event (``Ticket.apply``) and saving it is the
store's job. Nothing here reads files or the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from msgspec import Struct

from sdesk.clocks import sla
from sdesk.errors import InvalidData, Refused, excerpt
from sdesk.formats import reader
from sdesk.policy import decisions, priority
from sdesk.policy.rules import SITE_PATTERN, Rules
from sdesk.service import satisfaction, timelog
from sdesk.service.announcements import Announcement
from sdesk.tickets import ids
from sdesk.tickets.model import MAX_ENTRY_MINUTES, TEXT_FIELDS, Change, Event, Ticket, change_text
from sdesk.words import IMPACTS, SCORES, URGENCIES

REQUIRED_FIELDS = ("title", "type", "customer", "requester")
# Fields that keep their line breaks; every other field is one line (titles and names end up in mail headers).
MULTILINE_FIELDS = frozenset({"description", "error_message"})
# Fields that may never be cleared once a ticket exists.
NEVER_EMPTY = frozenset({"title", "type", "customer", "requester", "team"})
MAX_PHONE_LENGTH = 40  # the longest number a call-back request takes (international, with spaces)


def check_value(rules: Rules, name: str, value: str | None) -> str | None:
    """Validate one field value against the field's format and the desk's rules."""
    if value is None or not value.strip():
        if name in NEVER_EMPTY:
            raise InvalidData(f"{name.replace('_', ' ')} must not be empty")
        return None
    choices: dict[str, Sequence[str]] = {
        "type": list(rules.types),
        "impact": IMPACTS,
        "urgency": URGENCIES,
        "cooperation_impact": IMPACTS,
        "cooperation_urgency": URGENCIES,
        "customer": list(rules.customers),
        "team": list(rules.teams),
        "product": list(rules.products),
    }
    if rules.categories:
        choices["category"] = rules.categories
    if name in choices and value not in choices[name]:
        raise InvalidData(reader.unknown(name, value, choices[name]))
    if name in ("requester", "contact_email", "cooperation_email", "assignee") and not reader.EMAIL_PATTERN.fullmatch(
        value
    ):
        raise InvalidData(f"{name.replace('_', ' ')} {excerpt(value)} is not an email address")
    if name == "site" and not SITE_PATTERN.fullmatch(value):
        raise InvalidData(f"site ID {excerpt(value)} must be 4 digits")
    if name == "url" and not re.fullmatch(r"https?://\S+", value):
        raise InvalidData(f"url {excerpt(value)} must start with http:// or https://")
    return value if name in MULTILINE_FIELDS else " ".join(value.split())


class NewTicket(Struct, frozen=True):
    """A ticket about to be opened: its values after defaults, and what the rules decided."""

    values: dict[str, str | None]
    assessment: decisions.Assessment

    @property
    def refusals(self) -> list[str]:
        """Why the ticket cannot be opened as it stands (an override or accepted costs may lift some)."""
        return [*self.missing_fields(), *self.ineligibility(), *self.costs()]

    def missing_fields(self) -> list[str]:
        missing = self.assessment.missing
        if not missing:
            return []
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in missing)
        ticket_type = str(self.values["type"])
        return [f"{decisions.with_article(ticket_type)} needs {flags} (rules.yaml: types.{ticket_type}.required)"]

    def ineligibility(self) -> list[str]:
        failed = self.assessment.failed_eligibility
        if not failed:
            return []
        reasons = "; ".join(check.detail for check in failed)
        return [f"not eligible: {reasons} (to open it anyway: --override REASON)"]

    def costs(self) -> list[str]:
        return _costs(self.assessment.excluded)


def plan_new(rules: Rules, values: Mapping[str, str | None], now: datetime) -> NewTicket:
    """Check the values, fill in what the contract implies, and apply the rules."""
    missing = [name for name in REQUIRED_FIELDS if not values.get(name)]
    if missing:
        raise InvalidData("missing " + ", ".join(missing))
    fields = {name: check_value(rules, name, value) for name, value in values.items()}
    customer = rules.customers[str(fields["customer"])]
    if not fields.get("product") and len(customer.packages) == 1:
        fields["product"] = customer.packages[0].product
    person = customer.contact(str(fields["requester"]))
    if person is not None:
        fields["contact_name"] = fields.get("contact_name") or person.name
        fields["contact_phone"] = fields.get("contact_phone") or person.phone
    return NewTicket(fields, decisions.assess(rules, fields, now.date()))


def create(
    rules: Rules,
    plan: NewTicket,
    actor: str,
    now: datetime,
    override: str | None = None,
    accept_costs: bool = False,
    random_bits: int | None = None,
    costs_note: str = "accepted by the agent",
) -> Ticket:
    """Open the planned ticket; refuses with every reason unless overridden or the costs accepted.

    ``costs_note`` says how the customer learnt of the costs (the mail gateway: in the created mail).
    """
    assessment = plan.assessment
    refusals = plan.missing_fields()
    if not (override and override.strip()):
        refusals += plan.ineligibility()
    if not accept_costs:
        refusals += plan.costs()
    if refusals:
        raise Refused("; ".join(refusals))
    notes = []
    if not assessment.eligible:
        failed = "; ".join(check.detail for check in assessment.failed_eligibility)
        notes.append(f"Opened although not eligible ({failed}). Reason: {_clean(override)}")
    for match in assessment.excluded:
        notes.append(f"May cost extra ({match.rule}), {costs_note}: {match.outcome}")
    fields = {name: value for name, value in plan.values.items() if name != "team"}
    terms = sla.terms_from_rules(rules, str(fields["customer"]), assessment.priority.level, str(fields["type"]))
    if terms is not None:
        fields.update(terms.as_fields())
    ticket = Ticket(
        id=ids.new_id(now, random_bits),
        status=rules.initial_status,
        priority=assessment.priority.level,
        team=assessment.team,
        exclusions=tuple(match.rule for match in assessment.excluded),
        created=now,
        **fields,  # type: ignore[arg-type]
    )
    ticket.history.append(Event(now, actor, "created", text="\n".join(notes) or None))
    return ticket


def update(
    ticket: Ticket,
    rules: Rules,
    values: Mapping[str, str | None],
    actor: str,
    now: datetime,
    note: str | None = None,
    from_customer: bool = False,
    accept_costs: bool = False,
) -> Event:
    """Change fields and/or status; a change to what the priority depends on recomputes it (and its targets).

    A change that makes the ticket match an exclusion it did not match is refused until the costs are
    accepted, as for a new ticket; then it flags the ticket (so time logged on it is billable by default).
    """
    _refuse_if_final(ticket, rules, "update")
    status = values.get("status")
    if status is not None and status != ticket.status:
        if rules.is_final(status):
            raise Refused(f"close a ticket with: sdesk close {ticket.id} --resolution TEXT")
        _check_transition(ticket, rules, status)
    changes = []
    for name, value in values.items():
        new = value if name == "status" else check_value(rules, name, value)
        if new != ticket.value(name):
            changes.append(Change(name, ticket.value(name), new))
    changed = {change.field for change in changes}
    if "customer" in changed:
        changes += _move(ticket, rules, {**ticket.fields(), **{change.field: change.new for change in changes}}, values)
    level = ticket.priority
    if changed & rules.priority.inputs and not ticket.priority_set_by_hand:
        merged = {**ticket.fields(), **{change.field: change.new for change in changes}}
        level = priority.decide(rules, merged, decisions.facts(rules, merged)).level
        if level != ticket.priority:
            changes.append(Change("priority", ticket.priority, level))
    new_type = next((change.new for change in changes if change.field == "type"), None) or ticket.type
    if level != ticket.priority or new_type != ticket.type:  # a complaint runs on its own targets
        changes += sla.term_changes(ticket, rules, level, new_type)
    from_customer = from_customer or ticket.is_requester(actor)
    if from_customer and "status" not in changed:
        changes += _back_from_customer(ticket, rules)
    if not changes:
        raise Refused(f"nothing to change: {ticket.id} already has those values")
    newly = newly_excluded(ticket, rules, changes)
    if newly and not accept_costs:
        raise Refused("; ".join(_costs(newly)))
    if newly:  # the change itself records the flag; the note stays the agent's words to the customer
        flagged = (*ticket.exclusions, *(match.rule for match in newly))
        before, after = change_text("exclusions", ticket.exclusions), change_text("exclusions", flagged)
        changes.append(Change("exclusions", before, after))
    return Event(now, actor, "updated", tuple(changes), text=_clean(note), from_customer=from_customer)


def newly_excluded(ticket: Ticket, rules: Rules, changes: Sequence[Change]) -> tuple[decisions.Match, ...]:
    """The exclusions a change of the ticket's fields makes it match: not those it is flagged with or matched
    already (rules.yaml edited since is no reason to refuse a new phone number), and none for a status,
    assignee or team change alone."""
    fields = {change.field for change in changes} - {"status", "assignee", "team", "priority"}
    if not fields & set(TEXT_FIELDS):
        return ()
    merged = {**ticket.fields(), **{change.field: change.new for change in changes if change.field in TEXT_FIELDS}}
    matched_before = {match.rule for match in decisions.excluded(rules, ticket.fields())}
    return tuple(
        match
        for match in decisions.excluded(rules, merged)
        if match.rule not in ticket.exclusions and match.rule not in matched_before
    )


def _costs(matches: Sequence[decisions.Match]) -> list[str]:
    return [
        f"may cost extra, {match.rule}: {match.outcome} (once the customer knows: --accept-costs)" for match in matches
    ]


def _move(
    ticket: Ticket, rules: Rules, moved: Mapping[str, str | None], given: Mapping[str, str | None]
) -> list[Change]:
    """A ticket moves to another customer only with that customer's requester and site; it takes their contact.

    The requester, the site and the contact details are the old customer's people
    and places: on the new customer's portal and in its mail they would be a
    stranger's. The contact becomes the new requester's, unless given in the same
    command. (The new portal shows only what happened after the move, see website/portal.py.)
    """
    customer = rules.customers[str(moved["customer"])]
    requester = str(moved["requester"])
    if rules.eligibility.reference_persons_only and customer.contact(requester) is None:
        raise Refused(
            f"cannot move {ticket.id} to {customer.key}: its requester {requester} is not a reference person of "
            f"{customer.name} (name one in the same command: --requester EMAIL)"
        )
    site = moved.get("site")
    if site and site not in customer.sites:
        raise Refused(
            f"cannot move {ticket.id} to {customer.key}: site {site} is not one of {customer.name}'s "
            "(give theirs with --site ID, or clear it with --site '')"
        )
    person = customer.contact(requester)
    contact = {
        "contact_name": person.name if person else None,
        "contact_phone": person.phone if person else None,
        "contact_email": None,
    }
    return [
        Change(name, ticket.value(name), value)
        for name, value in contact.items()
        if name not in given and value != ticket.value(name)
    ]


def set_priority(ticket: Ticket, rules: Rules, level: str, reason: str, actor: str, now: datetime) -> Event:
    """Escalate or de-escalate by hand (seed 000); from then on the rules leave the level alone."""
    _refuse_if_final(ticket, rules, "change the priority of")
    levels = rules.priority.levels
    if level not in levels:
        raise InvalidData(reader.unknown("priority", level, levels))
    if level == ticket.priority:
        raise Refused(f"{ticket.id} already has priority {level}")
    text = _clean(reason)
    if text is None:
        raise Refused("a priority change needs a reason (--reason TEXT)")
    changes = (Change("priority", ticket.priority, level), *sla.term_changes(ticket, rules, level))
    return Event(now, actor, "priority", changes, text=text)


def comment(
    ticket: Ticket,
    rules: Rules,
    text: str,
    actor: str,
    now: datetime,
    internal: bool = False,
    from_customer: bool = False,
) -> Event:
    """A comment; the customer's reaction to a ticket waiting on them puts the ball back with the desk."""
    _refuse_if_final(ticket, rules, "comment on")
    body = _clean(text)
    if body is None:
        raise Refused("a comment needs text")
    if internal and from_customer:
        raise Refused("a message from the customer is public: drop --internal")
    from_customer = from_customer or (not internal and ticket.is_requester(actor))
    changes = tuple(_back_from_customer(ticket, rules)) if from_customer else ()
    visibility = "internal" if internal else "public"
    return Event(now, actor, "comment", changes, visibility=visibility, text=body, from_customer=from_customer)


def call(
    ticket: Ticket, actor: str, now: datetime, note: str, party: str | None = None, incoming: bool = False
) -> Event:
    """A phone call on the record (seed 000: a P1 is phoned as well; seed 002: the call-back service): who
    was phoned, or who phoned in, and what was said. Desk-internal: the customer was on the line."""
    said = _clean(note)
    if said is None:
        raise Refused("a call needs a note: what was said (--note TEXT)")
    who = _clean(party) or (ticket.contact_name or ticket.requester)
    text = f"{'Call from' if incoming else 'Phoned'} {who}: {said}"
    return Event(now, actor, "call", visibility="internal", text=text, from_customer=incoming)


def callback(ticket: Ticket, rules: Rules, actor: str, now: datetime, note: str | None, phone: str | None) -> Event:
    """The customer asks to be called back (seed 002): the callback clock starts, on the target the
    customer's plan gives the ticket's priority, and runs until a call to the customer is recorded."""
    _refuse_if_final(ticket, rules, "record a call-back request on")
    pending = sla.pending_callback(ticket)
    if pending is not None:
        since = f"{pending.astimezone(rules.timezone):%a %d %b %H:%M}"
        raise Refused(f"{ticket.id} has a call-back pending since {since}: record the call (sdesk call {ticket.id})")
    target = ticket.sla_callback
    if target is None:  # a ticket opened before its plan had a callback target
        terms = sla.terms_from_rules(rules, ticket.customer, ticket.priority, ticket.type)
        target = str(terms.callback) if terms is not None and terms.callback is not None else None
    if target is None:
        raise Refused(f"{ticket.customer}'s plan has no callback target for {ticket.priority} (rules.yaml)")
    changes = [Change("sla_callback", None, target)] if ticket.sla_callback is None else []
    number, said = " ".join((phone or "").split()) or None, _clean(note)
    if number is not None and (len(number) > MAX_PHONE_LENGTH or not number.isprintable()):
        raise InvalidData(f"--phone {excerpt(number)} is not a phone number")
    text = "Asks to be called back" + (f" on {number}" if number else "") + (f": {said}" if said else "")
    changes += _back_from_customer(ticket, rules)
    return Event(now, actor, "callback", tuple(changes), visibility="internal", text=text, from_customer=True)


def _back_from_customer(ticket: Ticket, rules: Rules) -> list[Change]:
    """Waiting on the customer and they reacted: move to the first non-final next status (the clock resumes)."""
    status = rules.statuses.get(ticket.status)
    if status is None or not status.waiting_on_customer:
        return []
    following = next((key for key in status.next if not rules.is_final(key)), None)
    return [Change("status", ticket.status, following)] if following else []


def close(ticket: Ticket, rules: Rules, resolution: str, actor: str, now: datetime, status: str | None = None) -> Event:
    """Move to a final status (the first one rules.yaml declares, unless named) with the resolution."""
    final = status or rules.final_statuses[0]
    if not rules.is_final(final):
        options = rules.final_statuses
        raise InvalidData(f"'{final}' is not a final status{reader.one_of(final, options)}")
    if rules.is_final(ticket.status):
        raise Refused(f"{ticket.id} is already {ticket.status}")
    text = _clean(resolution)
    if text is None:
        raise Refused("closing needs a resolution: say what was done (--resolution TEXT)")
    _check_transition(ticket, rules, final)
    return Event(
        now, actor, "closed", (Change("status", ticket.status, final), Change("resolution", ticket.resolution, text))
    )


def accept(ticket: Ticket, rules: Rules, actor: str, now: datetime, remark: str | None = None) -> Event:
    """The customer accepts the solution of a ticket awaiting it (statuses.*.acceptance): it closes, to the
    first final status its status lists, with the resolution the agent gave (the survey follows)."""
    status = rules.statuses.get(ticket.status)
    if status is None or not status.acceptance:
        raise Refused(f"{ticket.id} awaits no acceptance (status: {ticket.status})")
    final = next(key for key in status.next if rules.is_final(key))
    changes = [Change("status", ticket.status, final)]
    if not ticket.resolution:
        changes.append(Change("resolution", None, "Solution accepted by the customer"))
    text = "Accepted the solution" + (f": {_clean(remark)}" if _clean(remark) else "")
    return Event(now, actor, "closed", tuple(changes), text=text, from_customer=True)


def reopen(ticket: Ticket, rules: Rules, reason: str, actor: str, now: datetime) -> Event:
    """Back to the first status the final one lists as next (for the example desk: open)."""
    if not rules.is_final(ticket.status):
        raise Refused(f"{ticket.id} is not closed (status: {ticket.status})")
    text = _clean(reason)
    if text is None:
        raise Refused("reopening needs a reason (--reason TEXT)")
    following = rules.statuses[ticket.status].next
    if not following:
        raise Refused(f"rules.yaml allows no way out of {ticket.status} (statuses.{ticket.status}.next is empty)")
    return Event(
        now,
        actor,
        "reopened",
        (Change("status", ticket.status, following[0]), Change("resolution", ticket.resolution, None)),
        text=text,
    )


def check_outage(announcement: Announcement, customer: str, rules: Rules) -> None:
    """A ticket may join an outage that is one, still open, and concerns its customer."""
    if announcement.kind != "outage":
        raise Refused(f"{announcement.id} is a {announcement.kind} announcement, not an outage")
    if announcement.resolved is not None:
        raise Refused(f"outage {announcement.id} was resolved on {announcement.resolved:%Y-%m-%d %H:%M}")
    if not announcement.concerns(customer, rules):
        who = ", ".join(announcement.customers) or f"customers of {announcement.service}"
        raise Refused(f"outage {announcement.id} does not concern {customer} (it concerns {who})")


def link_outage(ticket: Ticket, rules: Rules, announcement: Announcement, actor: str, now: datetime) -> Event:
    """Make the ticket part of an outage: resolving the outage closes it."""
    _refuse_if_final(ticket, rules, "link")
    if ticket.outage == announcement.id:
        raise Refused(f"{ticket.id} is already linked to outage {announcement.id}")
    check_outage(announcement, ticket.customer, rules)
    change = Change("outage", ticket.outage, announcement.id)
    return Event(now, actor, "updated", (change,), text=f"Part of outage {announcement.id}: {announcement.title}")


def log_time(
    ticket: Ticket,
    rules: Rules,
    minutes: int,
    note: str,
    actor: str,
    now: datetime,
    on: date | None = None,
    billing: str | None = None,
    correct: int | None = None,
    on_site: bool | None = None,
) -> Event:
    """A time entry; also on a closed ticket, since work is often registered after the fact.

    With ``correct`` it replaces entry number ``correct`` (0 minutes withdraws it) as a new event naming
    that entry's moment in ``amends``: history stays append-only, so a correction merges like any other work.
    Unless told otherwise it keeps the corrected entry's day, billing class and place. Work on site is
    billed as the customer's plan says (``on_site``); on a remote-only plan only as an agreed, billable
    exception (seed 004).
    """
    text = _clean(note)
    if text is None:
        raise Refused("a time entry needs a note: say what was done (--note TEXT)")
    replaced = _entry_to_correct(ticket, correct) if correct is not None else None
    if minutes == 0 and replaced is None:
        raise Refused(f"a duration of 0 withdraws a time entry: say which with --correct N (sdesk show {ticket.id})")
    if not 0 <= minutes <= MAX_ENTRY_MINUTES:
        raise Refused(f"log at most {MAX_ENTRY_MINUTES // 60}h in one entry: one entry per day of work")
    today = now.astimezone(rules.timezone).date()
    day = on or (replaced.on if replaced is not None and replaced.on is not None else today)
    if day > today:
        raise Refused(f"--on {day} is in the future: log work once it is done")
    opened = ticket.created.astimezone(rules.timezone).date()
    if day < opened:
        raise Refused(f"--on {day} is before {ticket.id} was opened ({opened})")
    moved = on_site is not None and replaced is not None and on_site != replaced.on_site
    if on_site is None:
        on_site = replaced.on_site if replaced is not None else False
    if billing is None and replaced is not None and not moved:
        billing = replaced.billing  # a new place is billed as that place is
    customer = rules.customers.get(ticket.customer)
    plan = rules.plans.get(customer.plan) if customer is not None else None
    adds_on_site = on_site and minutes > 0 and (replaced is None or moved)
    if adds_on_site and plan is not None and plan.on_site == "remote-only" and billing != "billable":
        raise Refused(
            f"{ticket.customer}'s plan {plan.key} is remote only (rules.yaml plans.{plan.key}.on_site): "
            "log on-site work agreed as an exception with --billable"
        )
    if billing is None:
        billing, _ = timelog.default_billing(ticket, customer, plan, on_site)
    amends = replaced.at if replaced is not None else None
    return Event(
        now, actor, "time", on=day, minutes=minutes, billing=billing, on_site=on_site, text=text, amends=amends
    )


def _entry_to_correct(ticket: Ticket, number: int) -> Event:
    """Time entry ``number`` as `sdesk show` numbers them; a correction names it by its moment: that must be its own."""
    entries = timelog.time_entries(ticket.history)
    if not 1 <= number <= len(entries):
        has = {0: "none", 1: "#1 only"}.get(len(entries), f"#1 to #{len(entries)}")
        raise Refused(f"{ticket.id} has no time entry #{number}: it has {has} (sdesk show {ticket.id} numbers them)")
    event = entries[number - 1].event
    alike = [f"#{entry.number}" for entry in entries if entry.event.at == event.at and entry.number != number]
    if alike:
        raise Refused(
            f"time entry #{number} was logged at the same moment as {', '.join(alike)} ({event.at.isoformat()}): "
            "a correction names its entry by that moment, so it cannot say which one it replaces"
        )
    return event


def survey(ticket: Ticket, rules: Rules, score: int, remark: str | None, actor: str, now: datetime) -> Event:
    """The customer's satisfaction answer: once per ticket, after it was closed."""
    if not rules.is_final(ticket.status):
        raise Refused(f"{ticket.id} is {ticket.status}: the survey goes out when it is closed")
    low, high = SCORES
    if not low <= score <= high:
        raise InvalidData(f"a score is {low} (very unsatisfied) to {high} (very satisfied), not {score}")
    if satisfaction.survey_request(ticket) is None:
        raise Refused(f"{ticket.id} was closed by the sweep without the customer's reaction: no survey was sent")
    answered = satisfaction.answer(ticket)
    if answered is not None:
        raise Refused(f"{ticket.id}'s survey was already answered on {answered.at:%Y-%m-%d} (score {answered.score})")
    return Event(now, actor, "survey", score=score, text=_clean(remark))


def _check_transition(ticket: Ticket, rules: Rules, target: str) -> None:
    """Only the moves rules.yaml allows; a ticket in an undeclared status may move anywhere, to repair it."""
    if target not in rules.statuses:
        raise InvalidData(reader.unknown("status", target, list(rules.statuses)))
    current = rules.statuses.get(ticket.status)
    if current is not None and target not in current.next:
        allowed = ", ".join(current.next)
        raise Refused(
            f"cannot move {ticket.id} from {ticket.status} to {target}: rules.yaml allows {ticket.status} → {allowed}"
        )


def _refuse_if_final(ticket: Ticket, rules: Rules, verb: str) -> None:
    if rules.is_final(ticket.status):
        reopen = f"sdesk reopen {ticket.id} --reason TEXT"
        raise Refused(f"cannot {verb} {ticket.id}: it is {ticket.status} (reopen it first: {reopen})")


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip("\n").rstrip()
    return text or None
