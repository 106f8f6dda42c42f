"""Merging two clones' versions of one ticket (pure): git's merge driver decides with this.

A ticket is its history plus fields that events set, so concurrent work
merges by meaning, not by lines (README, "Working in several clones"):

* histories merge event by event against the common version (the base): an
  event is known by its :func:`identities` key, so an event one side corrected
  or removed stays corrected or removed, what either side added is kept, and
  an event both sides changed differently is a real conflict;
* the merged history is the shared start, then the rest by time, each side's
  own order kept; events at the same moment are ordered by their content, so
  every clone that merges the same two versions writes the same file;
* a field only one side changed takes that side's value; the exclusions a
  ticket is flagged with are both sides' together; another field both sides
  changed takes the value of its latest event (a clear included), and a
  ``merged`` event records what was kept and what was dropped, which later
  merges then keep once;
* what cannot be decided (both sides edited a field by hand, an event both
  changed, the files are different tickets) raises Undecidable: git's own line
  merge takes over, with conflict markers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from msgspec.structs import fields, replace

from sdesk.tickets import model
from sdesk.tickets.model import Change, Event, Ticket

MERGER = "sdesk merge-ticket"  # the `by` of the events the merge records
_SAME_ON_EVERY_SIDE = ("id", "created")
_DECIDED = tuple(f.name for f in fields(Ticket) if f.name not in (*_SAME_ON_EVERY_SIDE, "history"))

Identity = tuple[datetime, str, str, int]


class Undecidable(Exception):
    """The versions cannot be merged by their meaning; the message says why."""


def identities(history: Sequence[Event], base: Sequence[Event] = ()) -> dict[Identity, Event]:
    """Each event by its identity, in history order: when, who, what kind, and which of the events alike it is.

    An event keeps its identity when its content is edited, so the versions of one event can be
    compared across clones and commits (the merge, `sdesk check`). Events alike (same moment,
    agent and kind) are told apart against ``base``: one equal to a base event takes that event's
    place, the others take the base's remaining places in order, then new places. So removing one
    of two alike events never makes the other look changed.
    """
    earlier: dict[tuple[datetime, str, str], list[Event]] = {}
    for event in base:
        earlier.setdefault(_alike(event), []).append(event)
    groups: dict[tuple[datetime, str, str], list[int]] = {}
    for index, event in enumerate(history):
        groups.setdefault(_alike(event), []).append(index)
    place: dict[int, int] = {}
    for key, indexes in groups.items():
        old = earlier.get(key, [])
        free = list(range(len(old)))
        for index in indexes:  # an unchanged event keeps its own place
            same = next((number for number in free if old[number] == history[index]), None)
            if same is not None:
                place[index] = same
                free.remove(same)
        following = len(old)
        for index in indexes:  # the others: the places left, in order, then new ones
            if index in place:
                continue
            if free:
                place[index] = free.pop(0)
            else:
                place[index] = following
                following += 1
    return {(*_alike(event), place[index]): event for index, event in enumerate(history)}


def _alike(event: Event) -> tuple[datetime, str, str]:
    return event.at, event.by, event.kind


def merge(base: Ticket | None, ours: Ticket, theirs: Ticket) -> tuple[Ticket, list[Event]]:
    """One ticket holding both sides' work, and the ``merged`` events that say what was decided.

    ``base`` is None when the common version is unknown (git has none, or it is no ticket): then
    the events both sides have are the base, and a field goes to the side with an event that changed it.
    """
    for name in _SAME_ON_EVERY_SIDE:
        values = [getattr(side, name) for side in (base, ours, theirs) if side is not None]
        if any(value != values[0] for value in values):
            raise Undecidable(f"the versions disagree on {name}: they are not the same ticket")
    base_history = base.history if base is not None else _common(ours.history, theirs.history)
    history = histories(base_history, ours.history, theirs.history)
    merged = replace(ours, history=history)
    new_mine, new_other = _new(base_history, ours.history), _new(base_history, theirs.history)
    for moved, spoke in ((new_mine, new_other), (new_other, new_mine)):
        if _sets(moved, "customer") and any(_to_the_customer(event) for event in spoke):
            raise Undecidable(
                "one clone moved the ticket to another customer while the other wrote to its customer: "
                "decide which customer that was for"
            )
    decisions = []
    for name in _DECIDED:
        mine, other = getattr(ours, name), getattr(theirs, name)
        if mine == other:
            continue
        old = getattr(base, name) if base is not None else None
        # a side changed a field when its value differs from the base's or one of its new events set it (a clear too)
        changed_mine = (base is not None and mine != old) or _sets(new_mine, name)
        changed_other = (base is not None and other != old) or _sets(new_other, name)
        if changed_other and not changed_mine:
            setattr(merged, name, other)
            continue
        if changed_mine and not changed_other:
            continue
        if name == "exclusions":  # flags are only ever added: what both sides flagged stands
            setattr(merged, name, tuple(sorted({*mine, *other})))
            continue
        # Both changed it: the later event wins, so each side's change must be an event (not a hand edit).
        if not (_sets(new_mine, name) and _sets(new_other, name)):
            raise Undecidable(f"both sides changed {name}, at least one without a recorded event")
        kept = _latest_change([*new_mine, *new_other], name)
        assert kept is not None, "both sides have an event that sets it"
        value = _value(kept, name)
        setattr(merged, name, value)
        decisions.append(_decision(name, kept, value, dropped=other if value == mine else mine))
    for event in decisions:
        if event not in history:
            history.insert(_after(history, event.at), event)
    return merged, decisions


def histories(base: Sequence[Event], ours: Sequence[Event], theirs: Sequence[Event]) -> list[Event]:
    """Both histories as one, event by event against the base: the shared start, then the rest by time."""
    old, mine, other = identities(base), identities(ours, base), identities(theirs, base)
    kept = {key: event for key in {**mine, **other} if (event := _resolve(key, old, mine, other)) is not None}
    ours_left = [key for key in mine if key in kept]
    theirs_left = [key for key in other if key in kept]
    shared = 0
    while shared < min(len(ours_left), len(theirs_left)) and ours_left[shared] == theirs_left[shared]:
        shared += 1
    merged, rest_ours = ours_left[:shared], ours_left[shared:]
    in_ours = set(rest_ours)
    rest_theirs = [key for key in theirs_left[shared:] if key not in in_ours]
    while rest_ours and rest_theirs:
        first = rest_ours if _order(kept[rest_ours[0]]) <= _order(kept[rest_theirs[0]]) else rest_theirs
        merged.append(first.pop(0))
    return [kept[key] for key in merged + rest_ours + rest_theirs]


def _resolve(
    key: Identity, base: dict[Identity, Event], ours: dict[Identity, Event], theirs: dict[Identity, Event]
) -> Event | None:
    """One event's merged version (None: removed): a one-sided change wins; two different ones cannot be decided."""
    old, mine, other = base.get(key), ours.get(key), theirs.get(key)
    if key in base:
        if mine == old:
            return other
        if other == old:
            return mine
    elif mine is None or other is None:  # added on one side
        return mine if mine is not None else other
    if mine == other:  # the same change, or the same event added, on both sides
        return mine
    at, by, kind, _ = key
    done = "changed or removed" if key in base else "added"
    raise Undecidable(f"both sides {done} the {kind} event of {by} at {at.isoformat()}, differently")


def _common(ours: Sequence[Event], theirs: Sequence[Event]) -> list[Event]:
    """Without a base, the events both sides have (same identity, same content) stand in for it."""
    other = identities(theirs)
    return [event for key, event in identities(ours).items() if other.get(key) == event]


def _new(base: Sequence[Event], side: Sequence[Event]) -> list[Event]:
    """The events a side added or changed since the base."""
    old = identities(base)
    return [event for key, event in identities(side, base).items() if old.get(key) != event]


def _to_the_customer(event: Event) -> bool:
    """An event the customer hears of: a public comment or a change of status (closing and reopening too)."""
    return (event.kind == "comment" and event.visibility == "public") or _sets([event], "status")


def _sets(events: Sequence[Event], name: str) -> bool:
    return any(change.field == name for event in events for change in event.changes)


def _order(event: Event) -> tuple[object, str]:
    """By moment; at the same moment by content, so the order never depends on which side is which."""
    data = model.event_to_dict(event)
    del data["at"]
    return event.at, json.dumps(data, sort_keys=True, default=str)


def _latest_change(history: Sequence[Event], name: str) -> Event | None:
    """The event that last set field ``name``: by time, then by content."""
    changing = (event for event in history if any(change.field == name for change in event.changes))
    return max(changing, key=_order, default=None)


def _value(event: Event, name: str) -> object:
    return model.field_value(name, next(change.new for change in reversed(event.changes) if change.field == name))


def _decision(name: str, kept: Event, value: object, dropped: object) -> Event:
    kept_text, dropped_text = model.change_text(name, value), model.change_text(name, dropped)
    return Event(
        at=kept.at,
        by=MERGER,
        kind="merged",
        changes=(Change(name, dropped_text, kept_text),),
        visibility="internal",
        text=(
            f"Changed in two clones at once: kept {name} {_quoted(kept_text)} of {kept.by} at "
            f"{kept.at.isoformat()}, the later change, over {_quoted(dropped_text)}."
        ),
    )


def _quoted(value: str | None) -> str:
    return "(none)" if value is None else f"'{value}'"


def _after(history: list[Event], moment: datetime) -> int:
    """Where an event at ``moment`` goes: after every event up to that moment."""
    position = len(history)
    while position and history[position - 1].at > moment:
        position -= 1
    return position
