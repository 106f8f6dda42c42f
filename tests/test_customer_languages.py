"""French- and German-speaking customers (issue 20): what they send the desk and what they read.

Found by an outside review of the change that brought fr and de: survey answers told from replies, field lines
as French and German mail programs write them, the example's exclusions in their words, French typography.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Run, ok, owed_mail
from tests.test_mail_gateway import mail, tickets

SOPHIE = "sophie.lambert@lestilleuls.example"  # les-tilleuls (fr), site 6101
MARC = "marc.dubois@lestilleuls.example"
ANNA = "anna.schmitz@stjosef-eupen.example"  # st-josef (de), site 7101, packages care-dossier and medication


@pytest.fixture
def receive(run: Run, desk: Path) -> Callable[..., Any]:
    def send(raw: bytes, *args: str) -> Any:
        return run("mail", "receive", *args, input=raw)

    return send


def french_ticket(run: Run, *extra: str, title: str = "Le plan de soins ne s'imprime plus") -> str:
    args = ["new", "--format", "json", "--customer", "les-tilleuls", "--requester", SOPHIE, "--site", "6101"]
    args += ["--type", "question", "--title", title, *extra]
    return str(json.loads(ok(run(*args)))["id"])


def reply(ticket_id: str, body: str, sender: str = SOPHIE, number: int = 1) -> bytes:
    return mail(
        sender=sender,
        subject=f"RE : [{ticket_id}] Clôturé",
        body=body,
        message_id=f"<fr{number}@lestilleuls.example>",
        In_Reply_To=f"<{ticket_id}.1.created@caresolutions.example>",
    )


def history_kinds(desk: Path, ticket_id: str) -> list[str]:
    ticket = yaml.safe_load((desk / "tickets" / f"{ticket_id}.yaml").read_text(encoding="utf-8"))
    return [event["event"] for event in ticket["history"]]


# --- the gateway ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Note : 3 postes ne démarrent toujours pas, merci de rouvrir.",
        "Note: 2 users still cannot log in.",
    ],
)
def test_a_line_starting_with_note_is_a_reply_not_a_survey_score(
    receive: Callable[..., Any], desk: Path, run: Run, line: str
) -> None:
    ticket = french_ticket(run)
    ok(run("close", ticket, "--resolution", "Redémarrage effectué."))
    out = ok(receive(reply(ticket, line)))
    assert f"reopened {ticket}" in out, out
    assert "survey" not in history_kinds(desk, ticket)


@pytest.mark.parametrize("line", ["Note : 4 sur 10", "Bewertung: 4 von 10", "note 2 sur 20"])
def test_a_score_out_of_ten_is_not_recorded_as_out_of_five(
    receive: Callable[..., Any], desk: Path, run: Run, line: str
) -> None:
    ticket = french_ticket(run)
    ok(run("close", ticket, "--resolution", "Fait."))
    ok(receive(reply(ticket, line)))
    assert history_kinds(desk, ticket)[-1] == "closed"  # neither a score nor a reopening: held for an agent
    assert "a survey answer" in ok(run("mail", "triage", "--format", "json"))


def test_the_error_line_is_read_with_a_typographic_apostrophe(receive: Callable[..., Any], desk: Path) -> None:
    body = "Le dossier ne s'ouvre plus.\nProduit : care-dossier\nMessage d’erreur : Erreur 500\n"  # Outlook's ’
    ok(receive(mail(sender=SOPHIE, subject="Dossier", body=body, message_id="<apo@lestilleuls.example>")))
    [ticket] = tickets(desk)
    assert ticket.get("error_message") == "Erreur 500"


# --- what a French or German customer reads -----------------------------------------------------------


def test_a_french_training_request_gets_the_training_cost_warning(desk: Path, run: Run) -> None:
    """The example desk's training exclusion reads French and German wording too (seed 004)."""
    ticket = french_ticket(run, "--accept-costs", title="Formation des nouveaux collaborateurs")
    ticket_file = yaml.safe_load((desk / "tickets" / f"{ticket}.yaml").read_text(encoding="utf-8"))
    assert ticket_file.get("exclusions") == ["training"]


def test_the_french_ticket_page_puts_a_space_before_its_colons(desk: Path, run: Run, tmp_path: Path) -> None:
    ticket = french_ticket(run)
    ok(run("export", "html", str(tmp_path / "site")))
    shown = (tmp_path / "site" / "customers" / "les-tilleuls" / f"{ticket}.html").read_text(encoding="utf-8")
    assert "Prochaine étape\u00a0:" in shown and "Prochaine étape:" not in shown


def test_auto_closed_after_one_working_day_is_singular_in_french(desk: Path, run: Run) -> None:
    rules = (desk / "rules.yaml").read_text(encoding="utf-8")
    rules = rules.replace("reminders: [2, 4]", "reminders: []").replace("auto_close: 5", "auto_close: 1")
    (desk / "rules.yaml").write_text(rules, encoding="utf-8")
    ticket = french_ticket(run)
    ok(run("update", ticket, "--status", "waiting-for-customer"))
    ok(run("sweep", env={"SDESK_NOW": "2026-11-25T10:00:00+01:00"}))
    closing = next(message for key, message in owed_mail(desk).items() if key.endswith(".auto-closed"))
    assert "en 1 jour ouvrable (" in closing.get_content() and "1 jours" not in closing.get_content()


# --- rules.yaml ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("fr: Ouvert, de: Offen", "fr: '   ', de: Offen"),  # a status label
        (
            "      fr: La formation du (nouveau) personnel est proposée séparément et facturée.\n",
            "      fr: '   '\n",
        ),  # an exclusion's message
    ],
    ids=["label", "message"],
)
def test_a_blank_translation_is_refused_as_a_blank_english_one_is(desk: Path, run: Run, old: str, new: str) -> None:
    rules = (desk / "rules.yaml").read_text(encoding="utf-8")
    assert old in rules
    (desk / "rules.yaml").write_text(rules.replace(old, new), encoding="utf-8")
    checked = run("rules", "check")
    assert checked.exit_code == 1, checked.output
