"""How a ticket looks in listings and in `sdesk show` (pure).

Text for the terminal shows the control characters a ticket file may hold
instead of sending them (sdesk.terminal), and keeps the sheet's own lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sdesk.calendar.durations import hours_minutes, words
from sdesk.errors import InvalidData, excerpt
from sdesk.formats.reader import suggestion
from sdesk.output import Column, truncate
from sdesk.policy.rules import Rules
from sdesk.service import satisfaction, timelog
from sdesk.terminal import visible, visible_lines
from sdesk.tickets import model
from sdesk.tickets.model import Event, Ticket
from sdesk.words import SCORES

if TYPE_CHECKING:
    from sdesk.clocks.slaviews import Due
    from sdesk.storage.gitrepo import Commit
    from sdesk.storage.timers import Timer


def _name(email: str) -> str:
    return email.partition("@")[0]


def _minute(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


# What `sdesk list --columns` may name: a listing field's JSON/CSV name, and how the table shows it.
LIST_COLUMNS = {
    "id": Column("id", "ID"),
    "priority": Column("priority", "Pri"),
    "type": Column("type_code", "Type"),
    "status": Column("status_label", "Status", cut=True),
    "customer": Column("customer", "Customer", cut=True),
    "requester": Column("requester", "Requester", cut=True),
    "team": Column("team", "Team", cut=True),
    "assignee": Column("assignee", "Assignee", cut=True, shown=_name),  # an.wouters: the name before the @
    "category": Column("category", "Category", cut=True),
    "cooperation_ticket": Column("cooperation_ticket", "Their ticket", cut=True),
    "created": Column("created", "Created", shown=_minute),
    "updated": Column("updated", "Updated", shown=_minute),
    "due": Column("due_shown", "Due"),  # the running SLA clock due first (slaviews.next_due)
    "title": Column("title_shown", "Title", fill=True),  # with the customer's own number of a cooperation incident
}
LIST_DEFAULT = ("id", "priority", "type", "status", "customer", "assignee", "due", "title")
LIST_OPTIONAL = ("type_code", "customer")  # what the default leaves out, in this order, to keep the title readable
LEAST_TITLE = 24  # cells of title a listing keeps while it can leave out or cut other columns: 80 columns read


def list_columns(wanted: str | None) -> tuple[str, ...]:
    """The columns `--columns id,title,…` names, checked (the default without it)."""
    if wanted is None:
        return LIST_DEFAULT
    names = tuple(dict.fromkeys(name.strip() for name in wanted.split(",") if name.strip()))
    known = list(LIST_COLUMNS)
    for name in names:
        if name not in LIST_COLUMNS:
            hint = suggestion(name, known)
            raise InvalidData(f"--columns: unknown column {excerpt(name)}{hint}; the columns are {', '.join(known)}")
    if not names:
        raise InvalidData(f"--columns names no column; the columns are {', '.join(known)}")
    return names


def summary(fields: Mapping[str, Any], rules: Rules, due: Due | None = None) -> dict[str, Any]:
    """A listing row: the fields plus the short forms the table shows, and when the ticket is due.

    The table shows the short forms rules.yaml declares (``INC``, ``waiting``),
    so a listing fits the terminal; JSON and CSV keep the full names. A
    cooperation incident's title starts with the customer's own ticket number.
    """
    ticket_type, status = rules.types.get(fields["type"]), rules.statuses.get(fields["status"])
    theirs = fields.get("cooperation_ticket")
    return {
        **fields,
        "due": due.at if due else None,
        "due_shown": due.shown if due else "",
        "type_code": ticket_type.code if ticket_type else fields["type"],
        "status_label": status.short if status else fields["status"],
        "title_shown": f"[{theirs}] {fields['title']}" if theirs else fields["title"],
    }


GROUPS = {"contact": model.CONTACT_KEYS, "cooperation": model.COOPERATION_KEYS, "sla": model.SLA_KEYS}
# Every field in the file's order, a group's keys under the names `list`, `update` and history changes use
DETAIL_FIELDS = tuple(
    name
    for key in model.TICKET_KEYS
    if key != "history"
    for name in ([f"{key}_{part}" for part in GROUPS[key]] if key in GROUPS else [key])
)


def detail(ticket: Ticket) -> dict[str, Any]:
    """Everything about a ticket for scripts: every field (null when not set; exclusions and watchers as
    lists), the derived `updated`, and the history as the ticket file holds it."""
    data: dict[str, Any] = {name: getattr(ticket, name) for name in DETAIL_FIELDS}
    data["exclusions"] = list(ticket.exclusions)
    data["watchers"] = list(ticket.watcher_list)
    data["updated"] = ticket.updated
    data["history"] = [model.event_to_dict(event) for event in ticket.history]
    return data


def detail_text(ticket: Ticket, mail: Mapping[str, Sequence[str]] | None = None, timer: str | None = None) -> str:
    """A readable sheet: the fields that are set, the texts, then the history (with each event's mail);
    ``timer`` says how the acting agent's timer on it runs."""
    lines = [f"{ticket.id}  {ticket.title}", ""]
    facts = [
        ("Status", ticket.status),
        ("Priority", f"{ticket.priority} (set by hand)" if ticket.priority_set_by_hand else ticket.priority),
        ("Type", ticket.type),
        ("Customer", ticket.customer),
        ("Product", ticket.product),
        ("Requester", ticket.requester),
        ("Team", ticket.team),
        ("Assignee", ticket.assignee or "(unassigned)"),
        ("Category", ticket.category),
        ("May cost extra", ", ".join(ticket.exclusions) + " (outside the contract)" if ticket.exclusions else None),
        ("Impact", ticket.impact),
        ("Urgency", ticket.urgency),
        ("Site", ticket.site),
        ("URL", ticket.url),
        (
            "Contact",
            ", ".join(part for part in (ticket.contact_name, ticket.contact_phone, ticket.contact_email) if part),
        ),
        ("External ref", ticket.external_ref),
        ("Cooperation", _cooperation(ticket)),
        ("Outage", ticket.outage),
        ("Watchers", ticket.watchers),
        ("Time logged", _time_logged(ticket)),
        ("Timer", timer),
        ("Survey", _survey(ticket)),
        ("Created", _when(ticket.created)),
        ("Updated", _when(ticket.updated)),
    ]
    width = max(len(label) for label, _ in facts)
    lines += [f"{label:<{width}}  {value}" for label, value in facts if value]
    for label, text in (
        ("Error message", ticket.error_message),
        ("Description", ticket.description),
        ("Resolution", ticket.resolution),
    ):
        if text:
            lines += ["", f"{label}:", *_indented(text)]
    lines += ["", "History:"]
    from sdesk.mail import notifications  # `show` only: listings start without the mail modules

    numbered = iter(timelog.time_entries(ticket.history))
    for event in ticket.history:
        lines += _event_lines(event, next(numbered) if event.kind == "time" else None, ticket.id)
        if mail:
            lines += [f"      mail: {said}" for said in mail.get(notifications.event_digest(event), ())]
    return visible_lines("\n".join(lines) + "\n")


MAIL_WORDS = {
    "sent": "mailed",
    "owed": "not yet mailed",
    "failed": "not yet mailed (the last try failed)",
    "claimed": "being mailed",
    "parked": "parked, not mailed",
    "unconfirmed": "may have been mailed (unconfirmed)",
}


def mail_marks(items: Sequence[Any]) -> dict[str, list[str]]:
    """Each event's mail in words, by the event's digest: "comment to x@y.example: mailed 2026-12-06 10:02"."""
    marks: dict[str, list[str]] = {}
    for item in items:
        letter, standing = item.letter, item.standing
        said = MAIL_WORDS.get(item.state, item.state)
        if standing is not None and item.state in ("sent", "parked", "unconfirmed"):
            said += f" {standing.at[:16].replace('T', ' ')}"
        to = ", ".join(address.addr_spec for address in letter.to)
        marks.setdefault(letter.event, []).append(f"{letter.kind} to {to}: {said}")
    return marks


def commits_text(attributed: Sequence[tuple[Commit | None, Sequence[Event]]]) -> str:
    """Who changed the ticket in which commit: each commit, then the events it brought."""
    lines = ["", "In git (the commit that brought each event):"]
    for commit, events in attributed:
        if commit is None:
            lines.append("  not committed yet")
        else:
            committed = _when(datetime.fromisoformat(commit.date))
            lines.append(f"  {commit.sha[:10]}  {committed}  {commit.author} <{commit.email}>  {commit.subject}")
        lines += [f"    {_event_head(event)}" for event in events]
    return visible_lines("\n".join(lines) + "\n")


def commits_data(attributed: Sequence[tuple[Commit | None, Sequence[Event]]]) -> list[dict[str, Any]]:
    """The same for JSON: the commit's fields (null while not committed) and the events it brought."""
    return [
        {
            "commit": commit and commit.sha,
            **{key: commit and getattr(commit, key) for key in ("author", "email", "date", "subject")},
            "events": [model.event_to_dict(event) for event in events],
        }
        for commit, events in attributed
    ]


def _event_head(event: Event, entry: timelog.TimeEntry | None = None) -> str:
    return f"  {_when(event.at)}  {event.by}  {_what(event, entry)}"


def _event_lines(event: Event, entry: timelog.TimeEntry | None, ticket_id: str) -> list[str]:
    lines = [_event_head(event, entry)]
    lines += [f"      {change.field}: {_short(change.old)} → {_short(change.new)}" for change in event.changes]
    if event.text:
        lines += _indented(event.text, "      ")
    if event.mail:
        lines.append(f"      by mail: {event.mail} (the whole message: sdesk mail show {event.mail})")
    lines += [f"      attachment: attachments/{ticket_id}/{name}" for name in event.attachments]
    return lines


def _what(event: Event, entry: timelog.TimeEntry | None = None) -> str:
    what = {
        "comment": f"{event.visibility} comment",
        "priority": "priority set by hand",
        "breach": f"SLA breach ({event.clock})",
        "time": _time_entry(event, entry),
        "survey": f"survey answered: {event.score} of {SCORES[1]}",
        "callback": "call-back request",
    }.get(event.kind, event.kind)
    if event.from_customer:
        what += " from the customer"
    return what


def _cooperation(ticket: Ticket) -> str | None:
    """The customer's own desk on the case: their number, their contact, their view of impact and urgency."""
    if not (ticket.cooperation_ticket or ticket.cooperation_email):
        return None
    contact = ", ".join(
        part for part in (ticket.cooperation_name, ticket.cooperation_email, ticket.cooperation_phone) if part
    )
    parts = [f"their ticket {ticket.cooperation_ticket or '?'}", contact]
    if ticket.cooperation_impact or ticket.cooperation_urgency:
        parts.append(f"as they see it: {ticket.cooperation_impact or '?'} / {ticket.cooperation_urgency or '?'}")
    return "; ".join(part for part in parts if part)


def _time_logged(ticket: Ticket) -> str | None:
    minutes = {"covered": 0, "billable": 0}
    for _, event in timelog.latest_versions(ticket.history):
        minutes[event.billing or "covered"] += event.minutes or 0
    total = sum(minutes.values())
    if not total:
        return None
    split = ", ".join(f"{hours_minutes(value)} {name}" for name, value in minutes.items() if value)
    return f"{hours_minutes(total)} ({split})"


def timer_words(timer: Timer, now: datetime, zone: tzinfo) -> str:
    """A running timer for `show`: running since Mon 23 Nov 10:05 (an.wouters@…, 1h 20m so far)."""
    return f"running since {timer.since(zone)} ({timer.by}, {words(timer.so_far(now))} so far)"


def _survey(ticket: Ticket) -> str | None:
    answer = satisfaction.answer(ticket)
    if answer is None:
        return None
    return f"{answer.score} of {SCORES[1]}" + (f": {' '.join(answer.text.split())}" if answer.text else "")


def _time_entry(event: Event, entry: timelog.TimeEntry | None) -> str:
    """In show numbered, as `sdesk log --correct N` takes it; a command's one-line summary has no number yet."""
    place = ", on site" if event.on_site else ""
    amount = f"{hours_minutes(event.minutes or 0)} on {event.on}{place}, {event.billing}"
    if entry is None:
        if event.amends is None:
            return f"logged {amount}"
        replaced = f"time entry logged {_when(event.amends)}"
        return f"{replaced} withdrawn" if event.minutes == 0 else f"{replaced} corrected to {amount}"
    head = f"time entry #{entry.number}: "
    if event.amends is None:
        return f"{head}logged {amount}"
    named = f"#{entry.corrects}" if entry.corrects is not None else f"an entry logged {_when(event.amends)} (not found)"
    return f"{head}withdraws {named}" if event.minutes == 0 else f"{head}corrects {named}: logged {amount}"


def _indented(text: str, prefix: str = "  ") -> list[str]:
    """Escaped first, so only the text's newlines break it: a carriage return or U+2028 is shown, not obeyed."""
    return [f"{prefix}{line}" if line else "" for line in visible_lines(text).splitlines()]


def _short(value: str | None, width: int = 60) -> str:
    return "(none)" if value is None else truncate(visible(" ".join(value.split())), width)


def change_summary(ticket_id: str, event: Event) -> str:
    """One line saying what a command just did, e.g. `2Q3XN5-V4T3T: status open → closed`."""
    if event.kind in ("time", "survey"):
        return f"{ticket_id}: {_what(event)}"
    if event.kind in ("call", "callback"):
        recorded = "call" if event.kind == "call" else "call-back request"
        moved = "".join(f"; {c.field} {c.old} → {c.new}" for c in event.changes if c.field == "status")
        return f"{ticket_id}: {recorded} recorded: {_short(event.text, 60)}{moved}"
    if event.kind == "comment":
        moved = "".join(f"; {c.field} {c.old} → {c.new}" for c in event.changes)
        source = " from the customer" if event.from_customer else ""
        return f"{ticket_id}: {event.visibility} comment{source} added{moved}"
    changes = "; ".join(
        f"{change.field} {_short(change.old, 40)} → {_short(change.new, 40)}"
        for change in event.changes
        if change.field != "resolution" and not change.field.startswith("sla_")
    )
    return f"{ticket_id}: {changes}"


def _when(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="minutes")
