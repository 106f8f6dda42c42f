"""The rules' decisions for one ticket in words, for `sdesk rules explain` and `sdesk new --dry-run` (pure).

Every rule is listed, fired or not, with the facts that decided it: ✓ a rule
that applied or a check that passed, ✗ a check that failed, · a rule that did
not apply.
"""

from __future__ import annotations

from typing import Any

import msgspec

from sdesk.output import Column
from sdesk.policy.decisions import Assessment, Match
from sdesk.policy.eligibility import Check
from sdesk.tickets.model import Ticket

APPLIED, FAILED, SKIPPED = "✓", "✗", "·"


def explanation(assessment: Assessment, ticket_type: str | None) -> str:
    sections = [
        _priority(assessment),
        _eligibility(assessment.eligibility),
        _required(assessment.required, ticket_type),
        _exclusions(assessment.exclusions),
        _routing(assessment),
    ]
    return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"


def history_notes(ticket: Ticket) -> str:
    """What was decided or done by people rather than rules: overrides, accepted costs, priorities set by
    hand, phone calls."""
    lines = []
    for event in ticket.history:
        when = event.at.isoformat(sep=" ", timespec="minutes")
        if event.kind in ("created", "call") and event.text:
            lines.append(f"  {when}  {event.by}: {event.text}")
        if event.kind == "priority":
            change = event.changes[0]
            lines.append(f"  {when}  {event.by} set priority {change.old} → {change.new}: {event.text}")
    return "Recorded by agents:\n" + "\n".join(lines) + "\n" if lines else ""


def as_data(assessment: Assessment) -> dict[str, Any]:
    """The assessment as plain data for --format json, with the same names as above."""
    data: dict[str, Any] = msgspec.to_builtins(assessment)
    data["eligible"] = assessment.eligible
    data["missing"] = list(assessment.missing)
    data["excluded"] = [match.rule for match in assessment.excluded]
    return data


ROW_COLUMNS = (
    Column("section", "Section"),
    Column("rule", "Rule"),
    Column("result", "Result"),
    Column("detail", "Detail", fill=True),
)


def as_rows(assessment: Assessment) -> list[dict[str, Any]]:
    """One row per rule or check, for --format csv."""
    rows = []
    for step in assessment.priority.steps:
        result = step.level if step.applied else "not applied"
        rows.append({"section": "priority", "rule": step.rule, "result": result, "detail": "; ".join(step.reasons)})
    for section, checks in (("eligibility", assessment.eligibility), ("mandatory", assessment.required)):
        for check in checks:
            result = "pass" if check.passed else "fail"
            rows.append({"section": section, "rule": check.name, "result": result, "detail": check.detail})
    for section, matches in (("exclusion", assessment.exclusions), ("routing", assessment.routes)):
        for match in matches:
            result = (
                match.outcome if match.matched and section == "routing" else "match" if match.matched else "no match"
            )
            rows.append({"section": section, "rule": match.rule, "result": result, "detail": "; ".join(match.reasons)})
    rows.append({"section": "team", "rule": "", "result": assessment.team, "detail": assessment.team_reason})
    return rows


def _priority(assessment: Assessment) -> list[str]:
    decision = assessment.priority
    lines = [f"Priority {decision.level}"]
    level = None
    for step in decision.steps:
        reasons = "; ".join(step.reasons)
        if level is None:
            source = "priority.matrix" if step.rule == "matrix" else "priority.default"
            lines.append(f"  {APPLIED} {source}: {reasons} → {step.level}")
        elif not step.applied:
            lines.append(f"  {SKIPPED} {step.rule} does not apply: {reasons}")
        elif step.level == level:
            lines.append(f"  {APPLIED} {step.rule}: {reasons} → stays {level}")
        else:
            lines.append(f"  {APPLIED} {step.rule}: {reasons} → {level} becomes {step.level}")
        level = step.level
    if decision.phone:
        lines.append(f"  ! {decision.level}: phone the customer as well")
    return lines


def _eligibility(checks: tuple[Check, ...]) -> list[str]:
    verdict = "eligible" if all(check.passed for check in checks) else "NOT eligible"
    return [f"Eligibility: {verdict}", *(_check(check) for check in checks)]


def _required(checks: tuple[Check, ...], ticket_type: str | None) -> list[str]:
    if not checks:
        return [f"Mandatory fields: none for {ticket_type or 'this type'}"]
    missing = [check.name for check in checks if not check.passed]
    verdict = f"missing {', '.join(missing)}" if missing else "all given"
    return [f"Mandatory fields for {ticket_type}: {verdict}", *(_check(check) for check in checks)]


def _exclusions(matches: tuple[Match, ...]) -> list[str]:
    matched = [match.rule for match in matches if match.matched]
    verdict = f"may cost extra ({', '.join(matched)})" if matched else "none apply"
    lines = [f"Exclusions: {verdict}"]
    for match in matches:
        lines.append(_match(match))
        if match.matched:
            lines.append(f"      {match.outcome}")
    return lines


def _routing(assessment: Assessment) -> list[str]:
    lines = [f"Team {assessment.team}: {assessment.team_reason}"]
    lines += [_match(match, f" → {match.outcome}") for match in assessment.routes]
    return lines


def _check(check: Check) -> str:
    return f"  {APPLIED if check.passed else FAILED} {check.name}: {check.detail}"


def _match(match: Match, suffix: str = "") -> str:
    mark = APPLIED if match.matched else SKIPPED
    return f"  {mark} {match.rule}{suffix}: {'; '.join(match.reasons)}"
