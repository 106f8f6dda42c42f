"""The JSON Schemas a desk keeps in schemas/ for editors: one per kind of file it holds.

Each comes from the declaration the file's strict reader reads by, so an
editor and sdesk agree on every key, type, word and form; `sdesk check`
refuses a committed schema that is not what this sdesk makes.
"""

from __future__ import annotations

import json
from typing import Any

from sdesk.formats import jsonschema
from sdesk.formats.declare import Node
from sdesk.policy.rules import RULES
from sdesk.service.announcements import ANNOUNCEMENT
from sdesk.tickets.model import TICKET

DECLARED: dict[str, tuple[str, Node]] = {
    "rules": ("sdesk rules.yaml", RULES),
    "ticket": ("sdesk ticket file", TICKET),
    "announcement": ("sdesk announcement file", ANNOUNCEMENT),
}


def schema(kind: str) -> dict[str, Any]:
    title, root = DECLARED[kind]
    return jsonschema.document(title, root)


def text(kind: str) -> str:
    """A schema as committed in a desk (schemas/KIND.schema.json); `sdesk schema KIND` prints the same."""
    return json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"
