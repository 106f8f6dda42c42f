"""Merging two clones' versions of one ticket (pure): git's merge driver decides with this.

A ticket is its history plus fields that events set, so concurrent work
merges by meaning, not by lines (README, "Working in several clones"):

* histories are unioned: events both sides have are kept once, the others
  are interleaved by time, each side's own order kept;
* a field only one side changed takes that side's value; a field both sides
  changed takes the value of its latest event, and a ``merged`` event records
  what was kept and what was dropped. Events at the same moment are ordered by
  their content, so every clone that merges the same two versions decides the
  same, and writes the same ``merged`` event, which later merges then keep once;
* what cannot be decided by time (both sides edited a field by hand, the files
  are different tickets) raises Undecidable: git's own line merge takes over.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import datetime

from sdesk import model
from sdesk.model import Change, Event, Ticket

MERGER = "sdesk merge-ticket"  # the `by` of the events the merge records
_SAME_ON_EVERY_SIDE = ("id", "created")
_DECIDED = tuple(f.name for f in fields(Ticket) if f.name not in (*_SAME_ON_EVERY_SIDE, "history"))


class Undecidable(Exception):
    """The versions cannot be merged by their meaning; the message says why."""


def merge(base: Ticket, ours: Ticket, theirs: Ticket) -> tuple[Ticket, list[Event]]:
    """One ticket holding both sides' work, and the ``merged`` events that say what was decided."""
    for name in _SAME_ON_EVERY_SIDE:
        if not getattr(base, name) == getattr(ours, name) == getattr(theirs, name):
            raise Undecidable(f"the versions disagree on {name}: they are not the same ticket")
    history = union(ours.history, theirs.history)
    merged = replace(ours, history=history)
    decisions = []
    for name in _DECIDED:
        old, mine, other = getattr(base, name), getattr(ours, name), getattr(theirs, name)
        if mine == other or other == old:
            continue
        if mine == old:
            setattr(merged, name, other)
            continue
        kept = _latest_change(history, name)
        if kept is None:
            raise Undecidable(f"both sides changed {name} without a recorded event")
        value = _value(kept, name)
        setattr(merged, name, value)
        decisions.append(_decision(name, kept, value, dropped=other if value == mine else mine))
    for event in decisions:
        if event not in history:
            history.insert(_after(history, event.at), event)
    return merged, decisions


def union(ours: Sequence[Event], theirs: Sequence[Event]) -> list[Event]:
    """Both histories as one: the shared start, then the rest by time, each event once."""
    shared = 0
    while shared < min(len(ours), len(theirs)) and ours[shared] == theirs[shared]:
        shared += 1
    mine, other = list(ours[shared:]), list(theirs[shared:])
    both = Counter(mine) & Counter(other)  # events each side has (both merged the same third clone)
    for event, count in both.items():
        for _ in range(count):
            other.remove(event)
    merged = list(ours[:shared])
    while mine and other:
        merged.append((mine if _order(mine[0]) <= _order(other[0]) else other).pop(0))
    return merged + mine + other


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
    return next(change.new for change in reversed(event.changes) if change.field == name)


def _decision(name: str, kept: Event, value: object, dropped: object) -> Event:
    return Event(
        at=kept.at,
        by=MERGER,
        kind="merged",
        changes=(Change(name, _text(dropped), _text(value)),),
        visibility="internal",
        text=(
            f"Changed in two clones at once: kept {name} '{value}' of {kept.by} at {kept.at.isoformat()}, "
            f"the later change, over '{dropped}'."
        ),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _after(history: list[Event], moment: datetime) -> int:
    """Where an event at ``moment`` goes: after every event up to that moment."""
    position = len(history)
    while position and history[position - 1].at > moment:
        position -= 1
    return position
