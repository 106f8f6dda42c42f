"""The ``agents:`` section of rules.yaml: who works the desk's tickets.

Declared agents (email, name, teams) are who may change tickets and who
tickets are assigned to; anyone may read. The identity that acts and every
``--assignee`` are checked against them, emails in any case, so a typo or a
clone's private git identity is refused with a did-you-mean instead of
landing in a ticket. A desk that declares no agents works as before: any
email acts and is assigned. This guards against mistakes, not intruders:
whoever can push can edit a file, and `sdesk check` reads what they wrote.
Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from msgspec import Struct

from sdesk.errors import InvalidData, Refused, excerpt, shortened
from sdesk.formats import reader
from sdesk.formats.declare import Email, List, Node, Record, Text, Words
from sdesk.formats.reader import KeyPath, Problems

if TYPE_CHECKING:
    from sdesk.policy.rules import Rules, Team

# What an identity that is not a declared agent may do: only read (the default once agents are declared),
# or change tickets too (a desk that lists its agents for assignment only).
UNDECLARED = ("read-only", "allowed")
# The words --assignee gives a meaning of its own, so no agent may be called by them.
ASSIGNEE_WORDS = ("me", "none")
SHOWN_CHARS = 100  # of an address in a message: a real one whole, a hostile one not


class Agent(Struct, frozen=True):
    email: str  # as rules.yaml spells it: what tickets record
    name: str
    teams: tuple[str, ...]


def section(team: Node) -> dict[str, Node]:
    """The declaration of ``agents:`` and ``undeclared_agents:``, their teams named as ``team`` declares."""
    agent = Record({"email": Email(), "name": Text(), "teams": List(team, unique=True)}, required=("email", "name"))
    return {"agents": List(agent), "undeclared_agents": Words(UNDECLARED)}


def parse(items: list[Any], undeclared: str | None, teams: dict[str, Team], problems: Problems) -> dict[str, Agent]:
    """The declared agents by their email in lower case; a second entry for an email or a name is refused,
    since either one finds the agent."""
    agents: dict[str, Agent] = {}
    seen: dict[str, str] = {}  # an email or a name in lower case -> where it was declared first
    for index, entry in enumerate(items):
        if not entry or "email" not in entry or "name" not in entry:
            continue  # the shape pass said why
        at: KeyPath = ("agents", index)
        email, name = entry["email"], entry["name"]
        for key, value in (("email", email), ("name", name)):
            first = seen.setdefault(_folded(value), f"agents.{index}")
            if first != f"agents.{index}":
                problems.add(at + (key,), f"{excerpt(value)} is listed twice (first at {first})")
        if _folded(name) in ASSIGNEE_WORDS:
            problems.add(at + ("name",), f"'{name}' is a word of --assignee (me, none): give the agent's full name")
        elif reader.EMAIL_PATTERN.fullmatch(name.strip()):  # --assignee finds an agent by name too
            assigns = f"--assignee {shortened(name.strip(), SHOWN_CHARS)} would assign {shortened(email, SHOWN_CHARS)}"
            problems.add(at + ("name",), f"{excerpt(name)} is an email address: {assigns}; give the agent's full name")
        known = [
            problems.get(None, reader.choice, team, at + ("teams", position), list(teams))
            for position, team in enumerate(entry.get("teams", ()))
            if team is not None
        ]
        agents.setdefault(_folded(email), Agent(email, name, tuple(team for team in known if team is not None)))
    if undeclared == "read-only" and not agents:
        problems.add(
            ("undeclared_agents",),
            "read-only, but no agents are declared: nobody could change a ticket (declare agents:)",
        )
    return agents


def undeclared_policy(undeclared: str | None, agents: dict[str, Agent]) -> str:
    """What an undeclared identity may do: read only, once agents are declared, unless rules.yaml says."""
    return undeclared or ("read-only" if agents else "allowed")


def find(agents: dict[str, Agent], value: str, by_name: bool = True) -> Agent | None:
    """The declared agent with this email (or, ``by_name``, this name), in any case."""
    found = agents.get(_folded(value))
    if found is None and by_name:
        wanted = _folded(value)
        found = next((agent for agent in agents.values() if _folded(agent.name) == wanted), None)
    return found


def _folded(text: str) -> str:
    """An email or a name as it is compared: any case, blanks around it left out."""
    return text.strip().casefold()


def acting(rules: Rules, email: str, source: str) -> str:
    """The email an identity changes tickets as: a declared agent's, as rules.yaml spells it. An undeclared
    one is refused (it may read) unless rules.yaml allows it; ``source`` says where the identity came from."""
    agent = find(rules.agents, email, by_name=False)
    if agent is not None:
        return agent.email
    if rules.undeclared_agents == "allowed":
        return email
    who = f"{shortened(email, SHOWN_CHARS)} ({source}) is not a declared agent{_hint(rules, email)}"
    fix = "add it to agents: in rules.yaml, or act as one with --as EMAIL"
    raise Refused(f"{who}: it may read tickets but not change them; {fix}")


def assignee(rules: Rules, value: str) -> str:
    """The email of the declared agent ``value`` names (by email or name, any case); any email while the
    desk declares no agents."""
    if not rules.agents:
        return value
    agent = find(rules.agents, value)
    if agent is None:
        options = [word for agent in rules.agents.values() for word in (agent.email, agent.name)]
        raise InvalidData(
            f"unknown assignee {excerpt(value)}{reader.suggestion(value, options)}: "
            f"assign an agent rules.yaml declares (email or name), me or none"
        )
    return agent.email


def assignee_problem(rules: Rules, email: str) -> str | None:
    """What is wrong with an open ticket's assignee (a colleague's typo in a pull request), if anything."""
    if not rules.agents or find(rules.agents, email, by_name=False) is not None:
        return None
    who = f"{shortened(email, SHOWN_CHARS)} is not a declared agent{_hint(rules, email)}"
    return f"{who}: an open ticket is assigned to one of rules.yaml's agents"


def _hint(rules: Rules, email: str) -> str:
    """The declared email an undeclared one probably meant, as " (did you mean '…'?)"."""
    return reader.suggestion(email, [agent.email for agent in rules.agents.values()])
