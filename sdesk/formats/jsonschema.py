"""JSON Schemas of desk files, for editors (yaml-language-server).

A schema is assembled from the declaration its strict reader reads by
(:mod:`sdesk.formats.declare`), so the two cannot drift apart. It checks
shape: keys, types, vocabularies and forms, so an editor completes and
underlines while one types. The cross-checks that need the whole desk (a
plan that exists, a reachable status) stay with `sdesk rules check` and
`sdesk check`. Which declarations a desk publishes is storage's business
(:mod:`sdesk.storage.schemas`).
"""

from __future__ import annotations

from typing import Any

from sdesk.formats.declare import Definitions, Node

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def document(title: str, root: Node) -> dict[str, Any]:
    """The JSON Schema document of a file whose whole is declared by ``root``."""
    defs: Definitions = {}
    body = root.schema(defs)
    return {"$schema": DRAFT, "title": title, **body, **({"$defs": defs} if defs else {})}
