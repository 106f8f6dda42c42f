"""Mail to customers: which events mail, what the mail says, and delivering the outbox over SMTP.

Decided behaviour (seeds 000-003): creation, every status change, a request for
information, a public comment, reminders, closing (with the satisfaction
survey) and closing by the sweep mail the requester, with the cooperation
contact in Cc (never on the survey). Internal notes, comments recorded from
the customer, time entries, priority changes and SLA breaches never mail.
Delivery goes through a real SMTP server (aiosmtpd) on 127.0.0.1.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import NOW, TICKET_DEFAULTS

ELS = "els.vermeulen@zonnebloem.example"
TOM = "tom.claeys@zonnebloem.example"
JAN = "jan@zonnebloem.example"
OLIVIA = "olivia.hughes@brightwave.example"
DESK_NAME = "Care Solutions Service Desk"
SERVICEDESK = "servicedesk@caresolutions.example"
COOPERATION = ("--cooperation", "--their-ticket", "ZB-77", "--their-email", JAN, "--their-contact", "Jan Peeters")
BRIGHTWAVE = {
    "customer": "brightwave",
    "requester": OLIVIA,
    "site": "5001",
    "title": "Care record does not open",
    "description": "The care record of resident 2231 no longer opens.",
}
KIND = re.compile(r"-\d{3}-(?P<kind>[a-z-]+)\.eml$")


# --- helpers -----------------------------------------------------------------------------------


def mails(desk: Path, state: str = "pending") -> list[str]:
    """The names of the messages in outbox/<state>, oldest first."""
    folder = desk / "outbox" / state
    return sorted(path.name for path in folder.glob("*.eml")) if folder.is_dir() else []


def every_mail(desk: Path) -> set[str]:
    return {name for state in ("pending", "sending", "sent") for name in mails(desk, state)}


def kind(name: str) -> str:
    match = KIND.search(name)
    assert match is not None, name
    return match["kind"]


def parse(raw: bytes) -> EmailMessage:
    message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]
    return message


def read(desk: Path, name: str, state: str = "pending") -> EmailMessage:
    return parse((desk / "outbox" / state / name).read_bytes())


def body(message: EmailMessage) -> str:
    return str(message.get_content()).replace("\r\n", "\n")


def addresses(message: EmailMessage, header: str) -> list[tuple[str, str]]:
    values = message.get_all(header) or []
    return [(address.display_name, address.addr_spec) for value in values for address in value.addresses]


def recipients(message: EmailMessage) -> set[str]:
    return {spec for _, spec in addresses(message, "To") + addresses(message, "Cc")}


def one_error_line(stderr: str) -> str:
    """The stderr of a failed command: a single `Error: ...` line and nothing else."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def act(run, desk):
    """Run a command at a moment and return the names of the mails it queued."""

    def invoke(*args: str, at: str = NOW) -> list[str]:
        before = every_mail(desk)
        result = run(*args, env={"SDESK_NOW": at})
        assert result.exit_code == 0, result.output
        return sorted(every_mail(desk) - before)

    return invoke


# --- the SMTP server ---------------------------------------------------------------------------


@dataclass
class Arrival:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return parse(self.content)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what arrived and refuses the mailboxes in ``refuse``."""

    arrived: list[Arrival] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:  # noqa: N802
        if address.lower() in self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.arrived.append(Arrival(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def ids(self) -> list[str]:
        return [str(arrival.message["Message-ID"]) for arrival in self.arrived]


@dataclass
class Server:
    port: int
    handler: Recorder

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def start_server(**smtp_parameters: Any) -> tuple[Controller, Server]:
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_parameters)
    controller.start()
    return controller, Server(port, handler)


@pytest.fixture
def smtp() -> Iterator[Server]:
    controller, server = start_server()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_with_login() -> Iterator[Server]:
    """A server that wants AUTH (over plain text: this is a test on 127.0.0.1) as bob / s3cret."""
    server: Server

    def authenticate(smtp_server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        server.handler.logins.append((data.login, data.password))
        if (data.login, data.password) == (b"bob", b"s3cret"):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535 itself

    controller, server = start_server(
        authenticator=authenticate,
        auth_require_tls=False,
        auth_required=True,
    )
    try:
        yield server
    finally:
        controller.stop()


def cooperation_ticket(new_ticket, **options: str) -> str:
    ticket: dict[str, Any] = new_ticket(*COOPERATION, **options)
    return str(ticket["id"])


# --- which events mail -------------------------------------------------------------------------


def test_every_event_mails_exactly_the_decided_kinds(desk, new_ticket, act):
    ticket = cooperation_ticket(new_ticket)
    assert [kind(name) for name in mails(desk)] == ["created"]

    silent = [
        ("comment", ticket, "--internal", "Collega's: kijk naar de logs van server 3."),
        ("comment", ticket, "--from-customer", "Het probleem doet zich ook voor op campus Oostende."),
        ("log", ticket, "30m", "--note", "Logs nagekeken"),
        ("priority", ticket, "P2", "--reason", "Meerdere afdelingen getroffen"),
    ]
    for minute, args in enumerate(silent, start=1):
        assert act(*args, at=f"2026-11-23T10:0{minute}:00+01:00") == [], args

    steps = [
        (("update", ticket, "--status", "in-progress", "--note", "We bekijken het"), "2026-11-23T10:30:00+01:00"),
        (("comment", ticket, "We hebben de oorzaak gevonden."), "2026-11-23T10:40:00+01:00"),
        (
            ("update", ticket, "--status", "waiting-for-customer", "--note", "Stuur een screenshot"),
            "2026-11-23T11:00:00+01:00",
        ),
        (("sweep",), "2026-11-25T11:00:00+01:00"),  # two working days of waiting
        (("close", ticket, "--resolution", "Index hersteld."), "2026-11-25T12:00:00+01:00"),
        (("reopen", ticket, "--reason", "Het probleem is terug."), "2026-11-25T13:00:00+01:00"),
    ]
    queued = [[kind(name) for name in act(*args, at=at)] for args, at in steps]
    assert queued == [["status"], ["comment"], ["info-requested"], ["reminder"], ["closed", "survey"], ["status"]]

    # Every mail goes to the requester; all but the survey copy the cooperation contact.
    for name in mails(desk):
        message = read(desk, name)
        assert addresses(message, "To") == [("Els Vermeulen", ELS)], name
        expected_cc = [] if kind(name) == "survey" else [("Jan Peeters", JAN)]
        assert addresses(message, "Cc") == expected_cc, name
        assert str(message["X-Sdesk-Mail"]) == kind(name)
        assert str(message["X-Sdesk-Ticket"]) == ticket


def test_the_sweep_closing_a_silent_ticket_mails_auto_closed_without_a_survey(desk, new_ticket, act):
    ticket = new_ticket(**BRIGHTWAVE)["id"]
    assert [
        kind(name) for name in act("update", ticket, "--status", "waiting-for-customer", at="2026-11-23T11:00:00+01:00")
    ] == ["info-requested"]
    # Mon 30 November is the fifth working day of waiting.
    queued = act("sweep", at="2026-11-30T11:00:00+01:00")
    assert [kind(name) for name in queued] == ["auto-closed"]
    message = read(desk, queued[0])
    assert addresses(message, "To") == [("Olivia Hughes", OLIVIA)]
    assert message["Date"].datetime == datetime.fromisoformat("2026-11-30T11:00:00+01:00")
    assert "Closed by the sweep" in body(message)


def test_an_sla_breach_recorded_by_the_sweep_mails_nobody(desk, new_ticket, run):
    new_ticket()  # P3: respond within 1 business day, by Tuesday 10:00
    before = mails(desk)
    result = run("sweep", env={"SDESK_NOW": "2026-11-24T11:00:00+01:00"})
    assert result.exit_code == 0, result.output
    assert "breach" in result.stdout
    assert mails(desk) == before


def test_the_survey_after_closing_goes_to_the_requester_only(desk, new_ticket, act, run, smtp):
    ticket = cooperation_ticket(new_ticket)
    closed, survey = act("close", ticket, "--resolution", "Index hersteld.", at="2026-11-23T15:00:00+01:00")
    assert (kind(closed), kind(survey)) == ("closed", "survey")
    assert recipients(read(desk, closed)) == {ELS, JAN}
    assert recipients(read(desk, survey)) == {ELS}
    assert read(desk, survey)["Cc"] is None

    assert run("notify", "send", "--smtp", smtp.address).exit_code == 0
    envelopes = {str(arrival.message["X-Sdesk-Mail"]): sorted(arrival.rcpt_tos) for arrival in smtp.handler.arrived}
    assert envelopes == {"created": [ELS, JAN], "closed": [ELS, JAN], "survey": [ELS]}


# --- what a mail says --------------------------------------------------------------------------


def test_the_created_mail_in_dutch_from_the_team_to_the_named_requester(desk, new_ticket):
    ticket = new_ticket()
    (name,) = mails(desk)
    assert name.endswith(f"-{ticket['id']}-001-created.eml")
    message = read(desk, name)
    (sender,) = message["From"].addresses
    assert sender.addr_spec == SERVICEDESK
    assert DESK_NAME in sender.display_name
    assert addresses(message, "To") == [("Els Vermeulen", ELS)]
    assert message["Cc"] is None
    subject = str(message["Subject"])
    assert ticket["id"] in subject and "Zorgdossier opent niet" in subject
    assert "Ticket ontvangen" in subject
    assert message["Date"].datetime == datetime.fromisoformat(NOW)
    assert str(message["Auto-Submitted"]) == "auto-generated"
    assert str(message["Message-ID"]).startswith("<") and str(message["Message-ID"]).endswith(">")
    assert message["In-Reply-To"] is None and message["References"] is None
    text = body(message)
    assert text.startswith("Beste Els Vermeulen,")
    assert f"geregistreerd onder nummer {ticket['id']}" in text
    assert "Met vriendelijke groeten" in text


def test_the_created_mail_in_english_for_an_english_customer(desk, new_ticket):
    ticket = new_ticket(**BRIGHTWAVE)
    message = read(desk, mails(desk)[0])
    assert addresses(message, "To") == [("Olivia Hughes", OLIVIA)]
    subject = str(message["Subject"])
    assert subject == f"[{ticket['id']}] Ticket received: Care record does not open"
    text = body(message)
    assert text.startswith("Dear Olivia Hughes,")
    assert f"under number {ticket['id']}" in text
    assert "Kind regards" in text
    assert "Beste" not in text and "geregistreerd" not in text


@pytest.mark.parametrize(
    ("options", "team_email", "team_name"),
    [
        ({"type": "complaint"}, "servicemanager@caresolutions.example", "Service Management (complaints)"),
        (
            {"category": "network", "title": "Netwerk campus Brugge valt weg"},
            "noc@caresolutions.example",
            "Network Operations Center",
        ),
    ],
)
def test_the_mail_comes_from_the_address_of_the_team_the_ticket_is_routed_to(
    desk, new_ticket, options, team_email, team_name
):
    new_ticket("--accept-costs", **options)
    (sender,) = read(desk, mails(desk)[0])["From"].addresses
    assert sender.addr_spec == team_email
    assert DESK_NAME in sender.display_name and team_name in sender.display_name


def test_later_mails_thread_under_the_created_mail_and_carry_their_event_time(desk, new_ticket, act):
    ticket = new_ticket()["id"]
    moments = {
        "status": ("2026-11-23T10:30:00+01:00", ("update", ticket, "--status", "in-progress")),
        "comment": ("2026-11-23T11:15:00+01:00", ("comment", ticket, "De index wordt opnieuw opgebouwd.")),
        "closed": ("2026-11-23T14:00:00+01:00", ("close", ticket, "--resolution", "Index hersteld.")),
    }
    for at, args in moments.values():
        act(*args, at=at)
    messages = {kind(name): read(desk, name) for name in mails(desk)}
    assert sorted(messages) == ["closed", "comment", "created", "status", "survey"]
    created_id = str(messages["created"]["Message-ID"])
    assert len({str(message["Message-ID"]) for message in messages.values()}) == 5
    for mail_kind, message in messages.items():
        subject = str(message["Subject"])
        assert ticket in subject and "Zorgdossier opent niet" in subject, subject
        if mail_kind == "created":
            continue
        assert str(message["In-Reply-To"]) == created_id, mail_kind
        assert created_id in str(message["References"]).split(), mail_kind
        assert str(message["Auto-Submitted"]) == "auto-generated"
    for mail_kind, (at, _) in moments.items():
        assert messages[mail_kind]["Date"].datetime == datetime.fromisoformat(at), mail_kind
    assert messages["survey"]["Date"].datetime == datetime.fromisoformat(moments["closed"][0])
    assert "Status: In behandeling" in str(messages["status"]["Subject"])
    assert "De index wordt opnieuw opgebouwd." in body(messages["comment"])
    assert "Index hersteld." in body(messages["closed"])


# --- header injection ----------------------------------------------------------------------------

EXPECTED_HEADERS = {
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "auto-submitted",
    "x-sdesk-ticket",
    "x-sdesk-mail",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
}


def test_a_title_or_contact_name_with_a_line_break_cannot_add_a_header(desk, new_ticket, act, run, smtp):
    ticket = new_ticket(
        *COOPERATION[:-2],
        "--their-contact",
        "Jan Peeters\r\nBcc: evil@attacker.example",
        title="Zorgdossier opent niet\r\nBcc: evil@attacker.example",
    )["id"]
    act(
        "update",
        ticket,
        "--status",
        "in-progress",
        "--title",
        "Nog steeds\nBcc: evil@attacker.example",
        at="2026-11-23T10:30:00+01:00",
    )
    names = mails(desk)
    assert [kind(name) for name in names] == ["created", "status"]
    for name in names:
        raw = (desk / "outbox" / "pending" / name).read_bytes()
        assert not [line for line in raw.splitlines() if line.lower().startswith(b"bcc")], raw
        message = parse(raw)
        assert message["Bcc"] is None
        assert {key.lower() for key in message.keys()} <= EXPECTED_HEADERS
        assert recipients(message) == {ELS, JAN}
        assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])

    result = run("notify", "send", "--smtp", smtp.address)
    assert result.exit_code == 0, result.output
    assert len(smtp.handler.arrived) == 2
    for arrival in smtp.handler.arrived:
        assert sorted(arrival.rcpt_tos) == [ELS, JAN]
        assert arrival.message["Bcc"] is None


# --- delivery over SMTP ------------------------------------------------------------------------


def test_send_delivers_every_pending_mail_once_and_files_it_as_sent(desk, new_ticket, act, run, smtp):
    first = cooperation_ticket(new_ticket)
    new_ticket(**BRIGHTWAVE)
    act("update", first, "--status", "in-progress", "--note", "We bekijken het", at="2026-11-23T10:30:00+01:00")
    queued = mails(desk)
    assert len(queued) == 3
    files = {name: (desk / "outbox" / "pending" / name).read_bytes() for name in queued}

    result = run("notify", "send", "--smtp", smtp.address)
    assert result.exit_code == 0, result.output
    assert sorted(result.stdout.splitlines()) == sorted(f"sent {name}" for name in queued)
    assert "Sent 3 mails; 0 kept for the next run." in result.stderr

    assert mails(desk) == [] and mails(desk, "sending") == []
    assert mails(desk, "sent") == queued
    arrived = {str(arrival.message["Message-ID"]): arrival for arrival in smtp.handler.arrived}
    assert len(arrived) == len(smtp.handler.arrived) == 3
    for name, raw in files.items():
        stored = parse(raw)
        assert (desk / "outbox" / "sent" / name).read_bytes() == raw
        arrival = arrived[str(stored["Message-ID"])]
        assert arrival.mail_from == stored["From"].addresses[0].addr_spec
        assert sorted(arrival.rcpt_tos) == sorted(recipients(stored))
        delivered = arrival.message
        for header in ("From", "To", "Cc", "Subject", "Date", "In-Reply-To", "References", "Auto-Submitted"):
            assert str(delivered[header]) == str(stored[header]), (name, header)
        assert body(delivered) == body(stored)

    listed = run("notify", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(row["name"], row["state"]) for row in rows] == [(name, "sent") for name in queued]
    assert all(row["last"].startswith("sent ") for row in rows)
    pending = run("notify", "list", "--pending", "--format", "json")
    assert json.loads(pending.stdout) == []
    log = [json.loads(line) for line in (desk / "outbox" / "log.jsonl").read_text().splitlines()]
    assert sorted((entry["mail"], entry["outcome"]) for entry in log) == [(name, "sent") for name in queued]

    again = run("notify", "send", "--smtp", smtp.address)
    assert again.exit_code == 0, again.output
    assert again.stdout == ""
    assert len(smtp.handler.arrived) == 3
    assert mails(desk, "sent") == queued


def test_a_refused_recipient_keeps_that_mail_pending_until_a_later_run_delivers_it_once(desk, new_ticket, run, smtp):
    new_ticket()
    new_ticket(requester=TOM)
    (for_els,) = [name for name in mails(desk) if ELS in recipients(read(desk, name))]
    (for_tom,) = [name for name in mails(desk) if TOM in recipients(read(desk, name))]
    smtp.handler.refuse.add(TOM)

    result = run("notify", "send", "--smtp", smtp.address)
    assert result.exit_code == 1
    assert f"sent {for_els}" in result.stdout
    assert f"kept {for_tom}" in result.stdout and "550" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: 1 mail not delivered (kept in the outbox)"]
    assert mails(desk) == [for_tom]
    assert mails(desk, "sent") == [for_els]
    assert mails(desk, "sending") == []
    assert [arrival.rcpt_tos for arrival in smtp.handler.arrived] == [[ELS]]
    (row,) = json.loads(run("notify", "list", "--pending", "--format", "json").stdout)
    assert (row["name"], row["state"]) == (for_tom, "pending")
    assert row["last"].startswith("failed ") and "550" in row["last"]

    smtp.handler.refuse.clear()  # the server is fixed
    retry = run("notify", "send", "--smtp", smtp.address)
    assert retry.exit_code == 0, retry.output
    assert retry.stdout.splitlines() == [f"sent {for_tom}"]
    assert mails(desk) == [] and mails(desk, "sent") == sorted([for_els, for_tom])
    assert run("notify", "send", "--smtp", smtp.address).exit_code == 0
    assert sorted(arrival.rcpt_tos[0] for arrival in smtp.handler.arrived) == [ELS, TOM]
    assert len(set(smtp.handler.ids())) == len(smtp.handler.arrived) == 2


def test_a_cc_the_server_refuses_is_reported_and_the_mail_is_not_sent_twice(desk, new_ticket, run, smtp):
    cooperation_ticket(new_ticket)
    (name,) = mails(desk)
    smtp.handler.refuse.add(JAN)
    result = run("notify", "send", "--smtp", smtp.address)
    # The requester got it: sending it again would give them a second copy.
    assert [arrival.rcpt_tos for arrival in smtp.handler.arrived] == [[ELS]]
    assert mails(desk) == [] and mails(desk, "sent") == [name]
    # But the refusal of the cooperation contact must not go unnoticed.
    (entry,) = [json.loads(line) for line in (desk / "outbox" / "log.jsonl").read_text().splitlines()]
    assert JAN not in entry["detail"] or "550" in entry["detail"]
    assert JAN in result.output and "550" in result.output


def test_a_server_that_does_not_listen_fails_in_one_line_and_keeps_everything_pending(desk, new_ticket, run):
    new_ticket()
    new_ticket(**BRIGHTWAVE)
    queued = mails(desk)
    port = free_port()  # nobody listens there
    result = run("notify", "send", "--smtp", f"127.0.0.1:{port}")
    assert result.exit_code == 1
    assert f"127.0.0.1:{port}" in one_error_line(result.stderr)
    assert mails(desk) == queued
    assert mails(desk, "sending") == [] and mails(desk, "sent") == []


def test_a_mail_an_interrupted_run_left_in_sending_is_reported_and_not_resent(desk, new_ticket, run, smtp):
    new_ticket()
    new_ticket(**BRIGHTWAVE)
    interrupted, other = mails(desk)
    shutil.move(desk / "outbox" / "pending" / interrupted, desk / "outbox" / "sending" / interrupted)

    result = run("notify", "send", "--smtp", smtp.address)
    assert result.stdout.splitlines() == [f"sent {other}"]
    warnings = [line for line in result.stderr.splitlines() if interrupted in line]
    assert len(warnings) == 1 and "interrupted" in warnings[0] and "--resend-interrupted" in warnings[0]
    assert mails(desk, "sending") == [interrupted]
    assert [str(arrival.message["X-Sdesk-Ticket"]) for arrival in smtp.handler.arrived] == [
        str(read(desk, other, "sent")["X-Sdesk-Ticket"])
    ]
    states = {row["name"]: row["state"] for row in json.loads(run("notify", "list", "--format", "json").stdout)}
    assert states == {interrupted: "interrupted", other: "sent"}
    assert [row["name"] for row in json.loads(run("notify", "list", "--pending", "--format", "json").stdout)] == [
        interrupted
    ]

    # A second plain run still leaves it alone.
    again = run("notify", "send", "--smtp", smtp.address)
    assert again.stdout == "" and interrupted in again.stderr
    assert len(smtp.handler.arrived) == 1

    resend = run("notify", "send", "--smtp", smtp.address, "--resend-interrupted")
    assert resend.exit_code == 0, resend.output
    assert resend.stdout.splitlines() == [f"sent {interrupted}"]
    assert mails(desk, "sending") == [] and mails(desk) == []
    assert mails(desk, "sent") == sorted([interrupted, other])
    assert run("notify", "send", "--smtp", smtp.address, "--resend-interrupted").stdout == ""
    assert len(smtp.handler.arrived) == 2
    assert len(set(smtp.handler.ids())) == 2


def test_user_without_a_password_in_the_environment_is_refused_before_anything_is_sent(
    desk, new_ticket, run, smtp, monkeypatch
):
    monkeypatch.delenv("SDESK_SMTP_PASSWORD", raising=False)
    new_ticket()
    queued = mails(desk)
    result = run("notify", "send", "--smtp", smtp.address, "--user", "bob")
    assert result.exit_code == 1
    assert "SDESK_SMTP_PASSWORD" in one_error_line(result.stderr)
    assert mails(desk) == queued and smtp.handler.arrived == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_user_and_password_from_the_environment(desk, new_ticket, run, smtp_with_login):
    server = smtp_with_login
    new_ticket()
    queued = mails(desk)

    wrong = run("notify", "send", "--smtp", server.address, "--user", "bob", env={"SDESK_SMTP_PASSWORD": "guess"})
    assert wrong.exit_code == 1
    line = one_error_line(wrong.stderr)
    assert "bob" in line and server.address in line
    assert mails(desk) == queued and server.handler.arrived == []

    anonymous = run("notify", "send", "--smtp", server.address)
    assert anonymous.exit_code == 1  # the server wants a login: the mail is kept
    assert mails(desk) == queued and server.handler.arrived == []

    result = run("notify", "send", "--smtp", server.address, "--user", "bob", env={"SDESK_SMTP_PASSWORD": "s3cret"})
    assert result.exit_code == 0, result.output
    assert server.handler.logins[-1] == (b"bob", b"s3cret")
    assert [str(arrival.message["Message-ID"]) for arrival in server.handler.arrived] == [
        str(read(desk, queued[0], "sent")["Message-ID"])
    ]
    assert mails(desk) == []


# --- templates ---------------------------------------------------------------------------------


def override(desk: Path, text: str, name: str = "nl/closed.txt") -> Path:
    path = desk / "templates" / "mail" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_desk_override_of_a_template_is_used(desk, new_ticket, act):
    override(
        desk,
        "{% block subject %}Klaar: {{ ticket.id }}{% endblock %}\n"
        "{% block body %}\n"
        "Dag {{ requester.name }},\n\nUw melding is opgelost: {{ ticket.resolution }}\n"
        "{% endblock %}\n",
    )
    ticket = new_ticket()["id"]
    closed, survey = act("close", ticket, "--resolution", "Index hersteld.", at="2026-11-23T14:00:00+01:00")
    message = read(desk, closed)
    assert str(message["Subject"]) == f"Klaar: {ticket}"
    assert body(message) == "Dag Els Vermeulen,\n\nUw melding is opgelost: Index hersteld.\n"
    assert "Hoe tevreden bent u?" in str(read(desk, survey)["Subject"])  # not overridden: the package's


BROKEN_TEMPLATES = {
    "syntax error": (
        "{% block subject %}Klaar: {{ ticket.id }}{% endblock %}\n"
        "{% block body %}\n"
        "Dag,\n"
        "{{ ticket.id }\n"
        "{% endblock %}\n",
        4,
    ),
    "unknown variable": (
        "{% block subject %}Klaar: {{ ticket.id }}{% endblock %}\n"
        "{% block body %}\n"
        "Dag,\n"
        "\n"
        "{{ no_such_variable }}\n"
        "{% endblock %}\n",
        5,
    ),
    "unknown field": (
        "{% block subject %}Klaar: {{ ticket.id }}{% endblock %}\n"
        "{% block body %}\n"
        "Dag,\n"
        "\n"
        "{{ ticket.no_such_field }}\n"
        "{% endblock %}\n",
        5,
    ),
    "a filter given the wrong value": (
        "{% block subject %}Klaar: {{ ticket.id }}{% endblock %}\n"
        "{% block body %}\n"
        "Dag,\n"
        "\n"
        "{{ ticket.title | when }}\n"
        "{% endblock %}\n",
        5,
    ),
}


def close_with_broken_template(desk: Path, new_ticket, run, problem: str) -> tuple[Any, int]:
    """Try to close a ticket with a broken nl/closed.txt override; return the result and the faulty line."""
    ticket = new_ticket()["id"]
    (ticket_file,) = (desk / "tickets").rglob(f"*{ticket}*")
    saved = ticket_file.read_bytes()
    queued = mails(desk)
    text, line = BROKEN_TEMPLATES[problem]
    override(desk, text)
    result = run("close", ticket, "--resolution", "Index hersteld.", env={"SDESK_NOW": "2026-11-23T14:00:00+01:00"})
    # Nothing half-written: the ticket file is as it was and no mail was queued.
    assert ticket_file.read_bytes() == saved
    assert mails(desk) == queued
    shown = json.loads(run("show", ticket, "--format", "json").stdout)
    assert shown["status"] == "open"
    return result, line


@pytest.mark.parametrize("problem", list(BROKEN_TEMPLATES))
def test_a_broken_override_stops_the_close_with_one_error_naming_the_template(desk, new_ticket, run, problem):
    result, _ = close_with_broken_template(desk, new_ticket, run, problem)
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert re.search(r"templates/mail/nl/closed\.txt:\d+: ", line), line


def test_a_template_syntax_error_names_its_line(desk, new_ticket, run):
    result, line = close_with_broken_template(desk, new_ticket, run, "syntax error")
    assert f"templates/mail/nl/closed.txt:{line}: " in one_error_line(result.stderr)


@pytest.mark.parametrize("problem", ["unknown variable", "unknown field", "a filter given the wrong value"])
def test_a_template_rendering_error_names_the_template_line(desk, new_ticket, run, problem):
    result, line = close_with_broken_template(desk, new_ticket, run, problem)
    assert f"templates/mail/nl/closed.txt:{line}: " in one_error_line(result.stderr)


def test_check_reports_an_override_that_does_not_compile_or_that_sdesk_never_uses(desk, run):
    override(desk, BROKEN_TEMPLATES["syntax error"][0])
    override(desk, BROKEN_TEMPLATES["unknown variable"][0], "nl/closd.txt")  # a typo: never used
    override(desk, BROKEN_TEMPLATES["unknown variable"][0], "fr/closed.txt")  # no French mail
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "desk/templates/mail/fr/closed.txt: mail template sdesk never uses: the names are "
        "<en|nl>/<created|status|info-requested|reminder|comment|closed|auto-closed|survey|greeting|footer>.txt",
        "desk/templates/mail/nl/closd.txt: mail template sdesk never uses: the names are "
        "<en|nl>/<created|status|info-requested|reminder|comment|closed|auto-closed|survey|greeting|footer>.txt",
        "desk/templates/mail/nl/closed.txt:4: mail template: unexpected '}'",
    ]


def test_a_broken_created_template_opens_no_ticket_and_queues_no_mail(desk, run):
    override(
        desk,
        "{% block subject %}{{ ticket.id }}{% endblock %}\n{% block body %}\n{% if %}\n{% endblock %}\n",
        "nl/created.txt",
    )
    args = [part for pair in TICKET_DEFAULTS.items() for part in pair]
    result = run("new", *args)
    assert result.exit_code == 1
    assert "templates/mail/nl/created.txt:3: " in one_error_line(result.stderr)
    assert list((desk / "tickets").rglob("*.yaml")) == []
    assert every_mail(desk) == set()


# --- dry runs and the outbox itself ------------------------------------------------------------


def test_dry_runs_queue_no_mail(desk, new_ticket, run):
    result = run(
        "new",
        "--dry-run",
        "--title",
        "Zorgdossier opent niet",
        "--type",
        "incident",
        "--customer",
        "zonnebloem",
        "--requester",
        ELS,
        "--product",
        "care-dossier",
        "--site",
        "2101",
        "--description",
        "Het zorgdossier opent niet.",
    )
    assert result.exit_code == 0, result.output
    assert every_mail(desk) == set()

    ticket = new_ticket()["id"]
    update = run("update", ticket, "--status", "waiting-for-customer", env={"SDESK_NOW": "2026-11-23T11:00:00+01:00"})
    assert update.exit_code == 0, update.output
    before = every_mail(desk)
    dry = run("sweep", "--dry-run", env={"SDESK_NOW": "2026-11-25T11:00:00+01:00"})
    assert dry.exit_code == 0, dry.output
    assert "would record reminder" in dry.stdout
    assert every_mail(desk) == before
    real = run("sweep", env={"SDESK_NOW": "2026-11-25T11:00:00+01:00"})
    assert real.exit_code == 0, real.output
    assert [kind(name) for name in sorted(every_mail(desk) - before)] == ["reminder"]


def test_the_outbox_is_never_committed(desk, new_ticket):
    new_ticket()
    ignore = (desk / "outbox" / ".gitignore").read_text(encoding="utf-8")
    assert "*" in [line.strip() for line in ignore.splitlines()]
    if shutil.which("git") is None:
        return
    subprocess.run(["git", "init", "-q", str(desk)], check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=desk, check=True, capture_output=True, text=True
    )
    assert "outbox" not in status.stdout
    assert "tickets/" in status.stdout


# --- a real process ----------------------------------------------------------------------------


def test_notify_send_as_a_separate_process(desk, new_ticket, tmp_path, smtp):
    new_ticket()
    new_ticket(**BRIGHTWAVE)
    queued = mails(desk)
    environment = {**os.environ, "SDESK_DIR": str(desk)}
    environment.pop("SDESK_SMTP_PASSWORD", None)
    process = subprocess.run(
        [sys.executable, "-m", "sdesk", "notify", "send", "--smtp", smtp.address],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.splitlines() == [f"sent {name}" for name in queued]
    assert mails(desk) == [] and mails(desk, "sent") == queued
    sent_ids = sorted(str(read(desk, name, "sent")["Message-ID"]) for name in queued)
    assert sorted(smtp.handler.ids()) == sent_ids


def test_a_mail_name_taken_by_an_earlier_mail_gets_a_suffix_instead_of_a_traceback(desk, run, new_ticket):
    """A ticket file restored (git checkout) and changed again in the same second: both mails are kept."""
    ticket = new_ticket()
    path = desk / "tickets" / f"{ticket['id']}.yaml"
    before = path.read_bytes()
    assert run("comment", ticket["id"], "Eerste versie").exit_code == 0
    path.write_bytes(before)
    result = run("comment", ticket["id"], "Tweede versie")
    assert result.exit_code == 0, result.output
    (first,) = (desk / "outbox" / "pending").glob("*-comment.eml")
    (second,) = (desk / "outbox" / "pending").glob("*-comment-2.eml")
    assert b"Eerste versie" in first.read_bytes() and b"Tweede versie" in second.read_bytes()


def test_a_held_mail_of_a_broken_ticket_stays_held_until_the_file_is_mended(desk, run, new_ticket):
    """What a killed command left is settled by looking at the ticket; a broken file cannot say, so it waits."""
    ticket = new_ticket()
    (created,) = (desk / "outbox" / "pending").glob("*-created.eml")
    held = desk / "outbox" / "held" / created.name
    created.rename(held)  # as if `sdesk new` was killed after saving, before releasing its mail
    stat = held.stat()
    os.utime(held, ns=(stat.st_atime_ns, stat.st_mtime_ns - 600 * 1_000_000_000))
    path = desk / "tickets" / f"{ticket['id']}.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text("title: [unclosed\n", encoding="utf-8")

    result = run("notify", "list")
    assert result.exit_code == 0, result.output
    assert f"Warning: held mail {held.name} stays held:" in result.stderr
    assert held.exists()

    path.write_text(good, encoding="utf-8")
    result = run("notify", "list")
    assert f"Held mail {held.name} queued: its change was saved" in result.stderr
    assert (desk / "outbox" / "pending" / held.name).exists()
