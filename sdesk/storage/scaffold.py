"""Creating a new desk folder from the package's starter files."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from sdesk import __version__, words
from sdesk.errors import InvalidData, Refused, SdeskError, excerpt
from sdesk.storage import schemas
from sdesk.storage.store import ANNOUNCEMENTS_DIR, OUTBOX_DIR, RULES_FILE, SCHEMAS_DIR, STATE_DIR, TICKETS_DIR

# Every folder sdesk derives or keeps for this clone alone, so no `git add -A` commits it.
GITIGNORE_LINES = (
    ("# Derived by sdesk and rebuilt when missing: never commit it.", f"{STATE_DIR}/"),
    ("# A clone's own mail before the runner (sdesk 0.8): never committed.", f"{OUTBOX_DIR}/"),
    ("# Temporary files of interrupted writes.", f"{TICKETS_DIR}/.*.tmp"),
    (None, f"{ANNOUNCEMENTS_DIR}/.*.tmp"),
)


# The starter's agent, and what stands in its place when nobody is known to list.
AGENT_LINE = '  - {email: "__AGENT_EMAIL__", name: "__AGENT_NAME__", teams: [servicedesk]}\n'
NO_AGENT = "# agents:\n#   - {email: you@example.com, name: Your Name, teams: [servicedesk]}\n"


def starter_rules(desk_name: str, agent: tuple[str, str] | None = None) -> str:
    """The starter rules.yaml for a desk called ``desk_name``, listing ``agent`` (email, name) as its first
    agent; without one, agents: is an example in comments (a desk that declares none checks no identity)."""
    template = resources.files("sdesk.storage").joinpath("starter/rules.yaml").read_text(encoding="utf-8")
    major, minor = __version__.split(".")[:2]
    needed = json.dumps(f">={major}.{minor}")  # the release that made it, or any later one
    if agent is None:
        template = template.replace("agents:\n" + AGENT_LINE, NO_AGENT)
    else:
        email, name = (json.dumps(value, ensure_ascii=False) for value in agent)
        template = template.replace('"__AGENT_EMAIL__"', email).replace('"__AGENT_NAME__"', name)
    return template.replace('"__DESK_NAME__"', json.dumps(desk_name, ensure_ascii=False)).replace(
        '"__SDESK_NEEDED__"', needed
    )


def create_desk(folder: Path, desk_name: str, agent: tuple[str, str] | None = None) -> list[Path]:
    """Write rules.yaml, tickets/, the editor schemas and .gitignore; refuses to touch an existing desk.
    ``agent`` (email, name) is the first agent rules.yaml declares: whoever makes the desk."""
    if (folder / RULES_FILE).exists():
        raise Refused(f"{folder / RULES_FILE} already exists: {folder} is a desk already")
    if not desk_name.strip() or not desk_name.isprintable():
        raise InvalidData(f"the desk's name {excerpt(desk_name)} must be printable text on one line")
    files = {
        folder / RULES_FILE: starter_rules(desk_name, agent),
        folder / TICKETS_DIR / ".gitkeep": "",
        **{folder / SCHEMAS_DIR / f"{kind}.schema.json": schemas.text(kind) for kind in words.SCHEMA_KINDS},
    }
    gitignore = folder / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    missing = [(comment, line) for comment, line in GITIGNORE_LINES if line not in existing.splitlines()]
    if missing:
        separator = "\n" if existing and not existing.endswith("\n") else ""
        added = "".join(f"{comment}\n{line}\n" if comment else f"{line}\n" for comment, line in missing)
        files[gitignore] = existing + separator + added
    try:
        (folder / TICKETS_DIR).mkdir(parents=True, exist_ok=True)
        (folder / SCHEMAS_DIR).mkdir(exist_ok=True)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SdeskError(f"cannot create the desk: {exc.strerror}", exc.filename) from None
    return list(files)
