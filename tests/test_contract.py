"""The data contract for scripts (README, "Data for scripts"): every command that prints data takes
--format, and every field it prints has the contract's name and unit and is in the README's table."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import click

import sdesk
from sdesk.cli import main
from sdesk.words import DATA_CONTRACT
from tests.conftest import REPO, TICKET_DEFAULTS, Run, every_command, ok
from tests.test_notify import start_server

STRANGER = "iemand@elders.example"
# Fields whose value is a list or a boolean wherever they appear.
LIST_FIELDS = {"to", "cc", "customers", "exclusions", "watchers", "attachments", "reply", "history", "clocks"}
LIST_FIELDS |= {"timeline", "mail", "changes", "missing", "excluded", "steps", "reasons", "commits", "events"}
BOOLEAN_FIELDS = {"phone_owed", "recorded", "reply_owed", "targets_recorded", "kept", "eligible", "passed"}
BOOLEAN_FIELDS |= {"matched", "applied", "from_customer", "on_site", "phone"}
# Fields that are numbers (or null), never text: hours, money, percentages, sizes.
NUMBER_ENDINGS = ("_hours", "_eur", "_compliance", "_rate", "_bytes", "average", "satisfied")
MOMENT = re.compile(r"\d{4}-\d\d-\d\dT")
OUTAGE_START = "2026-11-23T09:00"


def readme_table() -> dict[str, str]:
    """The contract section's table: each command and the text of its row."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Data for scripts\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        found = re.match(r"\| `sdesk ([a-z -]+)` \|(.*)\|$", line)
        if found:
            rows[found.group(1)] = found.group(2)
    return rows


def documented(command: str, table: dict[str, str]) -> set[str]:
    """The field names a command's row gives, with those of the commands it prints "as"."""
    row = table[command]
    names = set(re.findall(r"`([A-Za-z_0-9]+)`", row))
    for other in re.findall(r"`sdesk ([a-z -]+)`", row):
        names |= documented(other, table)
    return names


def contract_problems(value: Any, where: str, key: str = "", in_history: bool = False) -> list[str]:
    """What breaks the contract's naming and unit rules in one printed value, recursively. A ticket's
    history is as its file holds it (a change's `to` is a value, not recipients): names and units hold
    there too, the fields' types are the file's."""
    problems = []
    if key == "ticket":
        problems.append(f"{where}: a field named 'ticket' (id, ticket_id)")
    if (key == "id" or key.endswith("_id")) and not isinstance(value, str | None):
        problems.append(f"{where}: {key} is no text")
    if (key == "minutes" or key.endswith("_minutes")) and not (value is None or type(value) is int):
        problems.append(f"{where}: {key} {value!r} is no whole number of minutes")
    if key.endswith(NUMBER_ENDINGS) and not (value is None or type(value) in (int, float)):
        problems.append(f"{where}: {key} {value!r} is no number")
    if key in LIST_FIELDS and not in_history and not isinstance(value, list):
        problems.append(f"{where}: {key} {value!r} is no list")
    if key in BOOLEAN_FIELDS and not in_history and not isinstance(value, bool):
        problems.append(f"{where}: {key} {value!r} is no boolean")
    if value == "":
        problems.append(f"{where}: {key} is '' (nothing is null)")
    if isinstance(value, str) and MOMENT.match(value) and datetime.fromisoformat(value).tzinfo is None:
        problems.append(f"{where}: {key} {value!r} has no offset")
    in_history = in_history or key in ("history", "events")
    if isinstance(value, dict):
        for name, item in value.items():
            problems += contract_problems(item, f"{where}.{name}", name, in_history)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems += contract_problems(item, f"{where}[{index}]", "", in_history)
    return problems


def message(sender: str, message_id: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, "servicedesk@caresolutions.example", "Vraag over de software"
    mail["Message-ID"] = message_id
    mail.set_content("Kunnen jullie ons helpen?\n")
    return mail.as_bytes()


class Printed:
    """Runs commands as a script would, keeping what each printed as JSON (and as CSV, for listings)."""

    def __init__(self, run: Run):
        self.run = run
        self.json: dict[str, list[Any]] = {}

    def __call__(self, *args: str, input: Any = None, fails: bool = False, listing: bool = False) -> Any:
        """``fails``: the command exits 1 for what it found, its data printed all the same; ``listing``:
        it changes nothing, so it runs again as CSV."""
        command = next(name for name in (" ".join(args[:2]), args[0]) if name in readme_table())
        result = self.run(*args, "--format", "json", input=input)
        assert "Traceback" not in result.output
        assert result.exit_code == (1 if fails else 0), (args, result.output)
        printed = json.loads(result.stdout)
        self.json.setdefault(command, []).append(printed)
        if listing:
            header = next(csv.reader(io.StringIO(self.run(*args, "--format", "csv").stdout)))
            assert not printed or header == list(printed[0]), args  # the same fields in the same order
        return printed


def test_every_data_command_prints_the_contracts_names_and_units_as_the_readme_lists_them(
    desk, run, new_ticket, at, tmp_path
):
    printed = Printed(run)
    fields = [part for pair in TICKET_DEFAULTS.items() for part in pair]
    opened = printed("new", *fields)
    printed("new", *fields, "--dry-run")
    ticket, other = opened["id"], new_ticket(title="Portaal plat")["id"]
    silent = new_ticket(title="Scherm blijft zwart")["id"]
    printed("update", silent, "--status", "waiting-for-customer", "--note", "Welke versie gebruikt u?")
    printed("update", ticket, "--status", "in-progress", "--assignee", "me")
    printed("comment", ticket, "Kunt u een schermafdruk sturen?")
    printed("priority", ticket, "P2", "--reason", "Heel de afdeling ligt stil")
    printed("log", ticket, "30m", "--note", "Logboek nagekeken")
    printed("log", ticket, "--start")
    printed("log", ticket, "--discard")
    printed("call", ticket, "--note", "Uitleg gegeven")
    printed("callback", ticket, "--note", "Graag terugbellen")
    outage = printed("announce", "new", "--kind", "outage", "--title", "Portaal onbereikbaar", "--start", OUTAGE_START)
    printed("link", other, "--outage", outage[0]["id"])
    printed("announce", "list", listing=True)
    printed("close", ticket, "--resolution", "Index opnieuw opgebouwd")
    printed("survey", ticket, "4", "--comment", "Snel geholpen")
    printed("reopen", ticket, "--reason", "Weer traag")
    for args in (("list", "--all"), ("queue",), ("notify", "list")):
        printed(*args, listing=True)
    printed("show", ticket)
    printed("rules", "explain", ticket)
    printed("sla", "--explain", ticket)
    received = printed("mail", "receive", input=message(STRANGER, "<een@elders.example>"))
    assert [(row["outcome"], row["ticket_id"]) for row in received] == [("triage", None)]
    printed("mail", "receive", input=message(STRANGER, "<twee@elders.example>"))
    held = printed("mail", "triage", listing=True)
    printed("mail", "show", held[0]["id"])
    printed("mail", "dismiss", held[0]["id"], "--reason", "Geen klant")
    accepted = printed("mail", "accept", held[1]["id"], "--customer", "zonnebloem", "--override", "Belde ook")
    assert accepted["outcome"] == "created" and accepted["ticket_id"]
    controller, server = start_server()
    server.handler.refuse[STRANGER] = "550 no such mailbox"  # the stranger's auto-reply is parked, the rest sent
    try:
        sent = printed("notify", "send", "--smtp", server.address, fails=True)  # exit 1: a mail was parked
    finally:
        controller.stop()
    assert {row["state"] for row in sent} == {"sent", "parked"}
    assert all("550" in row["detail"] for row in sent if row["state"] == "parked")
    printed("announce", "resolve", outage[0]["id"], "--note", "Server herstart")
    at("2026-12-02 10:00")  # a week on: clocks overdue, a waiting customer silent
    printed("sla", fails=True)
    swept = printed("sweep", "--dry-run")
    assert {"breach", "auto-closed"} <= {row["event"] for row in swept} and not any(row["recorded"] for row in swept)
    printed("run", "--dry-run")
    assert [row["step"] for row in printed("run")] == ["pull", "sweep", "mail"]
    for args in (("report", "sla", "--from", "2026-11-01", "--to", "2026-12-31"), ("report", "csat")):
        printed(*args, listing=True)
    printed("report", "time", "--month", "2026-11", "--by-ticket", listing=True)
    assert printed("export", "html", str(tmp_path / "site"))["written"] > 0
    ok(run("export", "json", "--output", str(tmp_path / "tickets.json")))
    again = printed("import", str(tmp_path / "tickets.json"))  # every ticket is in the desk already
    assert again and {row["state"] for row in again} == {"unchanged"}
    (desk / "tickets" / f"{other}.yaml").write_text("title: [\n", encoding="utf-8")
    printed("check", fails=True, listing=True)
    (desk / "rules.yaml").write_text("teams: [\n", encoding="utf-8")
    printed("rules", "check", fails=True, listing=True)

    table = readme_table()
    assert set(printed.json) == set(table)  # every command the README lists was run
    problems = []
    for command, outputs in printed.json.items():
        allowed = documented(command, table)
        for output in outputs:
            problems += contract_problems(output, command)
            for record in output if isinstance(output, list) else [output]:
                for key in record:
                    named = re.sub(r"^(response|resolution|callback)_", "CLOCK_", key)
                    if key not in allowed and re.sub(r"^score_\d$", "score_N", named) not in allowed:
                        problems.append(f"{command}: {key} is not in the README's table")
        assert any(output for output in outputs), f"{command} printed nothing to check"
    assert problems == []


def test_the_commands_that_take_format_are_those_the_readme_lists():
    """A new command that prints data cannot forget --format, nor the README the command."""
    with_format = {
        " ".join(path)
        for path, command in every_command(main)
        if any(isinstance(param, click.Option) and "--format" in param.opts for param in command.params)
    }
    assert with_format == set(readme_table())


def test_scripts_read_the_contracts_version_from_sdesk_version(run: Run):
    said = ok(run("--version"))
    assert said == f"sdesk, version {sdesk.__version__} (data contract {DATA_CONTRACT})\n"
    assert f"(data contract {DATA_CONTRACT})" in (REPO / "README.md").read_text(encoding="utf-8")


def test_what_is_no_data_refuses_a_data_format_in_one_line(desk, run: Run, new_ticket):
    ticket = new_ticket()["id"]
    for args, said in (
        (("sla", "--explain", ticket, "--format", "csv"), "--explain prints as a table or as JSON"),
        (("run", "--example", "cron", "--format", "json"), "--example prints a set-up to copy, not data"),
    ):
        result = run(*args)
        assert result.exit_code == 2 and said in result.stderr and "Traceback" not in result.output
