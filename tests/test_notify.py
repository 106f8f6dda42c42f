"""Mail to customers and agents: which events owe mail, what the mail says, and delivering it over SMTP.

Decided behaviour (seeds 000-003): creation, every status change, a request for
information, a public comment, reminders, closing (with the satisfaction
survey) and closing by the sweep mail the requester, with the cooperation
contact in Cc (never on the survey). Agents hear of a ticket assigned to them
(unless they took it themselves), a customer's reaction on a ticket they own,
and the sweep's SLA warnings and breaches (the assignee, else the team's
address). Internal notes, time entries and priority changes never mail.

Agent commands only record events: the mail a ticket owes follows from its
history after the desk's mail baseline (``deliveries/baseline.yaml``), and
`sdesk notify send` (or the runner, `sdesk run`) delivers it and writes what
happened to ``deliveries/<TICKET>.jsonl``. Delivery goes through a real SMTP
server (aiosmtpd) on 127.0.0.1: plain, with STARTTLS or with implicit TLS (a
throwaway CA made by the openssl command, trusted through SSL_CERT_FILE),
answering slowly, refusing for now or for good as a test says.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from tests.conftest import AGENT, NOW, TICKET_DEFAULTS, Certificates, make_certificates

ELS = "els.vermeulen@zonnebloem.example"
TOM = "tom.claeys@zonnebloem.example"
JAN = "jan@zonnebloem.example"
OLIVIA = "olivia.hughes@brightwave.example"
BOB = "bob@caresolutions.example"
DESK_NAME = "Care Solutions Service Desk"
SERVICEDESK = "servicedesk@caresolutions.example"
DOMAIN = "caresolutions.example"
COOPERATION = ("--cooperation", "--their-ticket", "ZB-77", "--their-email", JAN, "--their-contact", "Jan Peeters")
BRIGHTWAVE = {
    "customer": "brightwave",
    "requester": OLIVIA,
    "site": "5001",
    "title": "Care record does not open",
    "description": "The care record of resident 2231 no longer opens.",
}
# A Walloon and an East Belgian care home of the example desk: mail in French and in German.
LES_TILLEULS = {
    "customer": "les-tilleuls",
    "requester": "sophie.lambert@lestilleuls.example",
    "site": "6101",
    "title": "Le plan de soins ne s'imprime plus",
    "description": "L'impression du plan de soins reste bloquée.",
}
ST_JOSEF = {
    "customer": "st-josef",
    "requester": "anna.schmitz@stjosef-eupen.example",
    "site": "7101",
    "title": "Pflegedossier öffnet nicht",
    "description": "Das Pflegedossier von Bewohner 12 öffnet nicht mehr.",
}
TICKET_ARGS = [part for pair in TICKET_DEFAULTS.items() for part in pair]
LATER = "2026-11-23T10:05:00+01:00"  # when a test delivers: after the events, so records and mail dates differ
OWED_LINE = re.compile(r"^Mail owed: (?P<kind>[a-z-]+) to (?P<to>.+) \(the runner sends it: sdesk run\)$")


# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def desk(desk: Path) -> Path:
    """The conftest desk with a mail baseline of `commit: none`, as `sdesk init` writes it: every event owes mail."""
    (desk / "deliveries").mkdir(exist_ok=True)
    (desk / "deliveries" / "baseline.yaml").write_text("commit: none\n", encoding="utf-8")
    return desk


def parse(raw: bytes) -> EmailMessage:
    message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]
    return message


def composed(desk: Path) -> list[EmailMessage]:
    """Every mail the desk's history owes (sent or not), oldest event first, composed as the runner composes it."""
    from sdesk.actions.owing import history_mail
    from sdesk.mail import compose
    from sdesk.storage.store import Desk

    store = Desk(desk)
    items, problems = history_mail(store)
    assert problems == []
    templates = compose.Templates(store.root, store.rules.timezone)
    return [parse(compose.message(item.letter, templates).as_bytes()) for item in items]


def the_mail(desk: Path, mail_kind: str, ticket: str | None = None) -> EmailMessage:
    """The one owed mail of this kind (about this ticket)."""
    (message,) = [
        message
        for message in composed(desk)
        if kind(message) == mail_kind and (ticket is None or str(message["X-Sdesk-Ticket"]) == ticket)
    ]
    return message


def kind(message: EmailMessage) -> str:
    return str(message["X-Sdesk-Mail"])


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


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def listed(run, *options: str) -> list[dict[str, Any]]:
    """`sdesk notify list --format json` (with ``options``), as a script reads it."""
    result = run("notify", "list", "--format", "json", *options)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def states(run) -> dict[str, str]:
    """Each mail's state in `notify list`, by mail key."""
    return {row["id"]: row["state"] for row in listed(run)}


def records(desk: Path, ticket: str) -> list[dict[str, Any]]:
    """The lines of deliveries/<TICKET>.jsonl."""
    path = desk / "deliveries" / f"{ticket}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def all_records(desk: Path) -> list[dict[str, Any]]:
    return [record for path in sorted((desk / "deliveries").glob("*.jsonl")) for record in records(desk, path.stem)]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())} if folder.is_dir() else {}


def send(run, server: Server, *options: str, at: str = LATER, env: dict[str, str | None] | None = None):
    return run("notify", "send", "--smtp", server.address, *options, env={"SDESK_NOW": at, **(env or {})})


def sent_lines(stdout: str) -> list[str]:
    """The mail keys a `notify send` says it sent."""
    return [line.removeprefix("sent ") for line in stdout.splitlines() if line.startswith("sent ")]


@pytest.fixture
def act(run, desk):
    """Run a command at a moment; return the kinds of the mail it made owed (from `notify list`), oldest first.

    The command's stderr must announce each of them (`Mail owed: KIND to ADDR ...`), and it writes no mail.
    """

    def invoke(*args: str, at: str = NOW) -> list[str]:
        before = {row["id"] for row in listed(run)}
        deliveries = snapshot(desk / "deliveries")
        result = run(*args, env={"SDESK_NOW": at})
        assert result.exit_code == 0, result.output
        new = [row for row in listed(run) if row["id"] not in before]
        assert all(row["state"] == "owed" for row in new), new
        announced = [match["kind"] for line in result.stderr.splitlines() if (match := OWED_LINE.match(line))]
        assert announced == [row["kind"] for row in new], result.stderr
        assert snapshot(desk / "deliveries") == deliveries  # an agent's command writes no delivery records
        assert not (desk / "outbox").exists()  # nor any mail file
        return [row["kind"] for row in new]

    return invoke


# --- the SMTP server ---------------------------------------------------------------------------


@dataclass
class Arrival:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    encrypted: bool

    @property
    def message(self) -> EmailMessage:
        return parse(self.content)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what arrived and answers as a test tells it to."""

    arrived: list[Arrival] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # mailbox: the reply to its RCPT, e.g. "550 unknown"
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    connections: int = 0
    mail_reply: str = "250 OK"  # the reply to MAIL FROM
    hang_up_at_rcpt: bool = False
    data_command_reply: str | None = None  # the reply to the DATA command itself, instead of 354
    data_reply: str = "250 Message accepted for delivery"  # the verdict on the message; kept unless 4xx or 5xx
    delay: float = 0.0  # seconds the verdict on a message takes

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if self.mail_reply.startswith("250"):
            envelope.mail_from = address
        return self.mail_reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:  # noqa: N802
        if self.hang_up_at_rcpt:
            server.transport.close()
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if not self.data_reply.startswith(("4", "5")):
            encrypted = server.transport.get_extra_info("ssl_object") is not None
            self.arrived.append(Arrival(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, encrypted))
        await asyncio.sleep(self.delay)
        return self.data_reply

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.logins.append((data.login, data.password))
        if (data.login, data.password) == (b"bob", b"s3cret"):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535 itself

    def ids(self) -> list[str]:
        return [str(arrival.message["Message-ID"]) for arrival in self.arrived]


class Smtpd(SMTP):
    """aiosmtpd's server, counting the connections made to it and answering DATA as its handler says."""

    def connection_made(self, transport: Any) -> None:
        if self.transport is None:  # a new connection, not its upgrade by STARTTLS
            self.event_handler.connections += 1
        super().connection_made(transport)

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802
        if self.event_handler.data_command_reply is not None:
            await self.push(self.event_handler.data_command_reply)
            return
        await super().smtp_DATA(arg)


class Controlled(Controller):
    def factory(self) -> Smtpd:
        return Smtpd(self.handler, **self.SMTP_kwargs)


@dataclass
class Server:
    port: int
    handler: Recorder

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def start_server(login: bool = False, **smtp_parameters: Any) -> tuple[Controller, Server]:
    """A real SMTP server on 127.0.0.1; with ``login`` it lets bob / s3cret in."""
    handler = Recorder()
    if login:
        smtp_parameters["authenticator"] = handler.authenticate
    port = free_port()
    controller = Controlled(handler, hostname="127.0.0.1", port=port, **smtp_parameters)
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
    controller, server = start_server(login=True, auth_require_tls=False, auth_required=True)
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A private CA and a server certificate for 127.0.0.1, made once per session."""
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture
def trusted(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> Certificates:
    """sdesk trusts the test CA (and nothing else) through SSL_CERT_FILE, as an admin would set it."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificates


@pytest.fixture
def starttls_server(certificates: Certificates) -> Iterator[Server]:
    """A submission server (port 587 style): plain until STARTTLS, which it requires before AUTH and MAIL."""
    controller, server = start_server(
        login=True,
        tls_context=certificates.server_context(),
        require_starttls=True,
        auth_require_tls=True,
        auth_required=True,
    )
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def tls_server(certificates: Certificates) -> Iterator[Server]:
    """An SMTPS server (port 465 style): TLS from the first byte, then AUTH."""
    controller, server = start_server(
        login=True,
        ssl_context=certificates.server_context(),
        auth_require_tls=False,  # aiosmtpd only counts STARTTLS as TLS; this session is encrypted from the start
        auth_required=True,
    )
    try:
        yield server
    finally:
        controller.stop()


def cooperation_ticket(new_ticket, **options: str) -> str:
    ticket: dict[str, Any] = new_ticket(*COOPERATION, **options)
    return str(ticket["id"])


def warn_within(desk: Path, target: str = "1h") -> None:
    """Give the desk's sweep an SLA warning window (rules.yaml `sweep.warn_within`)."""
    rules = desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "  auto_close: 5\n" in text
    rules.write_text(text.replace("  auto_close: 5\n", f"  auto_close: 5\n  warn_within: {target}\n"), encoding="utf-8")


# --- which events mail -------------------------------------------------------------------------


def test_every_event_owes_exactly_the_decided_kinds_and_commands_write_no_mail(desk, new_ticket, act, run):
    result = run("new", "--format", "json", *TICKET_ARGS, *COOPERATION)
    assert result.exit_code == 0, result.output
    ticket = json.loads(result.stdout)["id"]
    assert [line for line in result.stderr.splitlines() if line.startswith("Mail owed")] == [
        f"Mail owed: created to {ELS}, {JAN} (the runner sends it: sdesk run)"
    ]
    assert [row["kind"] for row in listed(run)] == ["created"]

    silent = [
        ("comment", ticket, "--internal", "Collega's: kijk naar de logs van server 3."),
        ("log", ticket, "30m", "--note", "Logs nagekeken"),
        ("priority", ticket, "P2", "--reason", "Meerdere afdelingen getroffen"),
        ("update", ticket, "--assignee", "me"),  # an agent taking a ticket needs no mail about it
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
    owed = [act(*args, at=at) for args, at in steps]
    assert owed == [["status"], ["comment"], ["info-requested"], ["reminder"], ["closed", "survey"], ["status"]]
    assert not (desk / "outbox").exists()
    assert list((desk / "deliveries").iterdir()) == [desk / "deliveries" / "baseline.yaml"]

    # Every customer mail goes to the requester; all but the survey copy the cooperation contact.
    messages = composed(desk)
    assert [kind(message) for message in messages] == [
        "created", "status", "comment", "info-requested", "reminder", "closed", "survey", "status"
    ]  # fmt: skip
    for message in messages:
        assert addresses(message, "To") == [("Els Vermeulen", ELS)], kind(message)
        expected_cc = [] if kind(message) == "survey" else [("Jan Peeters", JAN)]
        assert addresses(message, "Cc") == expected_cc, kind(message)
        assert str(message["X-Sdesk-Ticket"]) == ticket


def test_the_customer_reaction_mails_the_assignee_and_never_the_customer(desk, new_ticket, act):
    ticket = new_ticket()["id"]
    assert act("comment", ticket, "--from-customer", "Ook op campus Oostende.", at="2026-11-23T10:10:00+01:00") == []
    assert act("update", ticket, "--assignee", BOB, at="2026-11-23T10:20:00+01:00") == ["assigned"]
    assert act("comment", ticket, "--from-customer", "Nog steeds stuk.", at="2026-11-23T10:30:00+01:00") == ["reaction"]
    assert act("update", ticket, "--status", "waiting-for-customer", at="2026-11-23T10:40:00+01:00") == [
        "info-requested"
    ]
    # The customer's answer puts the ticket back in progress: the owner hears, the customer gets no copy.
    assert act("update", ticket, "--from-customer", "--status", "in-progress", at="2026-11-23T10:50:00+01:00") == [
        "reaction"
    ]

    assigned = the_mail(desk, "assigned")
    assert addresses(assigned, "To") == [("", BOB)] and assigned["Cc"] is None
    assert AGENT in body(assigned) and ticket in str(assigned["Subject"])
    reactions = [message for message in composed(desk) if kind(message) == "reaction"]
    assert [addresses(message, "To") for message in reactions] == [[("", BOB)], [("", BOB)]]
    assert "Nog steeds stuk." in body(reactions[0])
    assert "De klant reageerde" in str(reactions[0]["Subject"])  # the desk's language, for its agents


def test_a_ticket_opened_for_someone_else_mails_them_that_it_is_theirs(desk, new_ticket, run):
    new_ticket("--assignee", BOB, **BRIGHTWAVE)
    assert [row["kind"] for row in listed(run)] == ["created", "assigned"]


def test_handing_a_ticket_on_mails_the_next_agent_and_taking_it_yourself_mails_nobody(desk, new_ticket, act):
    ticket = new_ticket(**BRIGHTWAVE)["id"]
    assert act("update", ticket, "--assignee", BOB, at="2026-11-23T10:05:00+01:00") == ["assigned"]
    assigned = the_mail(desk, "assigned")
    assert addresses(assigned, "To") == [("", BOB)] and assigned["Cc"] is None
    assert "toegewezen" in str(assigned["Subject"]).lower()  # the desk's language, not the customer's
    assert str(assigned["In-Reply-To"]) == f"<{ticket}.1.created@{DOMAIN}>"
    assert act("update", ticket, "--assignee", TOM, at="2026-11-23T10:10:00+01:00") == ["assigned"]
    assert act("update", ticket, "--assignee", "me", at="2026-11-23T10:20:00+01:00") == []
    assert act("update", ticket, "--assignee", "none", at="2026-11-23T10:30:00+01:00") == []


@pytest.mark.parametrize(
    ("customer", "closes"),
    [
        ({}, "Zonder reactie sluiten we het ticket op maandag 30 november 2026 om 11:00."),
        (BRIGHTWAVE, "Without your reaction we will close the ticket on Monday 30 November 2026 at 11:00."),
        (LES_TILLEULS, "Sans réaction de votre part, nous clôturerons le ticket le lundi 30 novembre 2026 à 11:00."),
        (ST_JOSEF, "Ohne Ihre Rückmeldung schließen wir das Ticket am Montag, 30. November 2026 um 11:00."),
    ],
    ids=["nl", "en", "fr", "de"],
)
def test_the_reminder_mail_says_in_the_customers_language_when_the_ticket_will_close(
    desk, new_ticket, act, customer, closes
):
    ticket = new_ticket(**customer)["id"]
    act("update", ticket, "--status", "waiting-for-customer", at="2026-11-23T11:00:00+01:00")
    assert act("sweep", at="2026-11-25T11:00:00+01:00") == ["reminder"]
    assert closes in " ".join(body(the_mail(desk, "reminder")).split())


def test_the_sweep_closing_a_silent_ticket_records_it_at_its_moment_and_mails_auto_closed(desk, new_ticket, act):
    ticket = new_ticket(**BRIGHTWAVE)["id"]
    assert act("update", ticket, "--status", "waiting-for-customer", at="2026-11-23T11:00:00+01:00") == [
        "info-requested"
    ]
    # Mon 30 November 11:00 is the fifth working day of waiting; the sweep runs two days late.
    assert act("sweep", at="2026-12-02T09:30:00+01:00") == ["auto-closed"]
    message = the_mail(desk, "auto-closed")
    assert addresses(message, "To") == [("Olivia Hughes", OLIVIA)]
    assert message["Date"].datetime == datetime.fromisoformat("2026-11-30T11:00:00+01:00")
    assert "Closed without a reaction in 5 working days" in body(message)
    assert act("sweep", at="2026-12-03T09:30:00+01:00") == []


def test_an_sla_breach_recorded_by_the_sweep_mails_the_team_or_the_assignee(desk, new_ticket, act, run):
    unowned = new_ticket()["id"]  # P3: respond within 1 business day, by Tuesday 10:00
    owned = new_ticket("--assignee", BOB, **BRIGHTWAVE)["id"]
    result = run("sweep", env={"SDESK_NOW": "2026-11-24T11:00:00+01:00"})
    assert result.exit_code == 0, result.output
    assert f"{unowned}: breach: Response target of" in result.stdout
    assert f"Mail owed: breach to {SERVICEDESK} (the runner sends it: sdesk run)" in result.stderr
    assert f"Mail owed: breach to {BOB} (the runner sends it: sdesk run)" in result.stderr

    to_team = the_mail(desk, "breach", unowned)
    assert addresses(to_team, "To") == [("", SERVICEDESK)] and to_team["Cc"] is None
    assert to_team["Date"].datetime == datetime.fromisoformat("2026-11-24T10:00:00+01:00")  # when it fell due
    assert "Response target of" in body(to_team) and "Tue 2026-11-24 10:00" in body(to_team)
    to_owner = the_mail(desk, "breach", owned)
    assert addresses(to_owner, "To") == [("", BOB)]
    assert "SLA" in str(to_owner["Subject"]) and owned in str(to_owner["Subject"])
    shown = json.loads(run("show", unowned, "--format", "json").stdout)
    (breach,) = [event for event in shown["history"] if event["event"] == "breach"]
    assert breach["by"] == "sdesk sweep"
    assert act("sweep", at="2026-11-24T12:00:00+01:00") == []  # recorded once


def test_a_clock_about_to_breach_warns_the_assignee_once_before_the_breach(desk, new_ticket, act):
    warn_within(desk, "1h")
    ticket = new_ticket()["id"]  # respond by Tuesday 10:00: one open hour after Monday 17:00
    act("update", ticket, "--assignee", BOB, at="2026-11-23T10:10:00+01:00")
    assert act("sweep", at="2026-11-23T16:30:00+01:00") == []
    assert act("sweep", at="2026-11-23T18:30:00+01:00") == ["warning"]
    assert act("sweep", at="2026-11-24T09:45:00+01:00") == []
    assert act("sweep", at="2026-11-24T10:30:00+01:00") == ["breach"]
    warning = the_mail(desk, "warning")
    assert addresses(warning, "To") == [("", BOB)]
    # Recorded when its window opened (the last open hour began at Monday's close), whenever the sweep ran.
    assert warning["Date"].datetime == datetime.fromisoformat("2026-11-23T17:00:00+01:00")
    assert "1h" in body(warning) and "Tue 2026-11-24 10:00" in body(warning) and ticket in str(warning["Subject"])
    assert addresses(the_mail(desk, "breach"), "To") == [("", BOB)]
    assert str(warning["In-Reply-To"]) == f"<{ticket}.1.created@{DOMAIN}>"


def test_the_survey_after_closing_goes_to_the_requester_only(desk, new_ticket, act, run, smtp):
    ticket = cooperation_ticket(new_ticket)
    assert act("close", ticket, "--resolution", "Index hersteld.", at="2026-11-23T15:00:00+01:00") == [
        "closed",
        "survey",
    ]
    assert recipients(the_mail(desk, "closed")) == {ELS, JAN}
    survey = the_mail(desk, "survey")
    assert recipients(survey) == {ELS} and survey["Cc"] is None

    assert send(run, smtp, at="2026-11-23T15:05:00+01:00").exit_code == 0
    envelopes = {str(arrival.message["X-Sdesk-Mail"]): sorted(arrival.rcpt_tos) for arrival in smtp.handler.arrived}
    assert envelopes == {"created": [ELS, JAN], "closed": [ELS, JAN], "survey": [ELS]}


def test_closing_again_after_a_reopening_sends_no_second_survey(desk, new_ticket, act, run):
    ticket = new_ticket()["id"]
    assert act("close", ticket, "--resolution", "Index hersteld.", at="2026-11-23T15:00:00+01:00") == [
        "closed",
        "survey",
    ]
    act("reopen", ticket, "--reason", "Het probleem is terug.", at="2026-11-24T09:00:00+01:00")
    assert act("close", ticket, "--resolution", "Index opnieuw opgebouwd.", at="2026-11-24T11:00:00+01:00") == [
        "closed"
    ]
    report = json.loads(run("report", "csat", "--format", "json").stdout)
    assert report[-1]["surveys"] == 1  # counted once, on the day it was sent


# --- the mail baseline -------------------------------------------------------------------------


def test_a_desk_without_a_baseline_owes_nothing_until_the_first_send_sets_it(desk, new_ticket, run, smtp):
    (desk / "deliveries" / "baseline.yaml").unlink()
    new_ticket()
    result = run("notify", "list")
    assert result.exit_code == 0, result.output
    assert "No mail baseline yet" in result.stderr

    delivered = send(run, smtp)
    assert delivered.exit_code == 0, delivered.output
    assert re.search(r"^commit: none$", (desk / "deliveries" / "baseline.yaml").read_text(), re.M)
    assert [kind(arrival.message) for arrival in smtp.handler.arrived] == ["created"]  # not a git desk: all is owed


def test_a_script_reading_the_list_of_a_desk_without_a_baseline_gets_json(desk, new_ticket, run):
    (desk / "deliveries" / "baseline.yaml").unlink()
    new_ticket()
    result = run("notify", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


# --- what a mail says --------------------------------------------------------------------------


def test_the_created_mail_in_dutch_from_the_team_to_the_named_requester(desk, new_ticket):
    ticket = new_ticket()
    (message,) = composed(desk)
    assert kind(message) == "created"
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
    assert str(message["Message-ID"]) == f"<{ticket['id']}.1.created@{DOMAIN}>"
    assert message["In-Reply-To"] is None and message["References"] is None
    text = body(message)
    assert text.startswith("Beste Els Vermeulen,")
    assert f"geregistreerd onder nummer {ticket['id']}" in text
    assert "Met vriendelijke groeten" in text


def test_the_created_mail_in_english_for_an_english_customer(desk, new_ticket):
    ticket = new_ticket(**BRIGHTWAVE)
    (message,) = composed(desk)
    assert addresses(message, "To") == [("Olivia Hughes", OLIVIA)]
    subject = str(message["Subject"])
    assert subject == f"[{ticket['id']}] Ticket received: Care record does not open"
    text = body(message)
    assert text.startswith("Dear Olivia Hughes,")
    assert f"under number {ticket['id']}" in text
    assert "Kind regards" in text
    assert "Beste" not in text and "geregistreerd" not in text


@pytest.mark.parametrize(
    ("customer", "created", "reminder", "closed"),
    [
        (
            LES_TILLEULS,
            [
                "[{id}] Ticket reçu : Le plan de soins ne s'imprime plus",
                "Bonjour Sophie Lambert,",
                "Nous avons enregistré votre incident sous le numéro {id} :",
                "Statut : Ouvert",
                "Vous aurez de nos nouvelles au plus tard le mardi 24 novembre 2026 à 10:00.",
                "Cordialement,",
            ],
            [
                "[{id}] Rappel : nous attendons votre réaction - Le plan de soins ne s'imprime plus",
                "Bonjour Sophie Lambert,",
                "Nous attendons votre réaction sur le ticket {id} (Le plan de soins ne s'imprime plus) "
                "depuis le lundi 23 novembre 2026 à 10:30.",
                "Sans réaction de votre part, nous clôturerons le ticket le lundi 30 novembre 2026 à 10:30.",
                "Merci de répondre à cet e-mail pour que nous puissions continuer.",
            ],
            [
                "[{id}] Clôturé sans réaction de votre part : Le plan de soins ne s'imprime plus",
                "Bonjour Sophie Lambert,",
                "Clôturé sans réaction en 5 jours ouvrables (nous attendions votre réaction depuis le lundi "
                "23 novembre 2026 à 10:30). Vous pouvez toujours ouvrir un nouveau ticket.",
            ],
        ),
        (
            ST_JOSEF,
            [
                "[{id}] Ticket erhalten: Pflegedossier öffnet nicht",
                "Guten Tag Anna Schmitz,",
                "wir haben Ihre Meldung (Störung) unter der Nummer {id} erfasst:",
                "Status: Offen",
                "Sie hören spätestens am Dienstag, 24. November 2026 um 10:00 von uns.",
                "Mit freundlichen Grüßen",
            ],
            [
                "[{id}] Erinnerung: Wir warten auf Ihre Rückmeldung - Pflegedossier öffnet nicht",
                "Guten Tag Anna Schmitz,",
                "wir warten seit Montag, 23. November 2026 um 10:30 auf Ihre Rückmeldung zu Ticket {id} "
                "(Pflegedossier öffnet nicht).",
                "Ohne Ihre Rückmeldung schließen wir das Ticket am Montag, 30. November 2026 um 10:30.",
                "Bitte antworten Sie auf diese E-Mail, damit wir weitermachen können.",
            ],
            [
                "[{id}] Ohne Ihre Rückmeldung geschlossen: Pflegedossier öffnet nicht",
                "Guten Tag Anna Schmitz,",
                "Ohne Rückmeldung innerhalb von 5 Arbeitstagen geschlossen (wir warteten seit Montag, 23. November "
                "2026 um 10:30 auf Ihre Rückmeldung). Sie können jederzeit ein neues Ticket eröffnen.",
            ],
        ),
    ],
    ids=["fr", "de"],
)
def test_a_french_or_german_customer_reads_their_mail_in_their_language_with_dates_as_they_write_them(
    desk, new_ticket, act, customer, created, reminder, closed
):
    ticket = new_ticket(**customer)["id"]  # Monday 10:00, P3: an answer within one business day
    act("update", ticket, "--status", "waiting-for-customer", "--note", "?", at="2026-11-23T10:30:00+01:00")
    assert act("sweep", at="2026-11-25T11:00:00+01:00") == ["reminder"]  # two working days of waiting
    assert act("sweep", at="2026-11-30T10:30:00+01:00") == ["auto-closed"]  # the fifth
    for mail_kind, expected in (("created", created), ("reminder", reminder), ("auto-closed", closed)):
        message = the_mail(desk, mail_kind)
        subject, *lines = (line.format(id=ticket) for line in expected)
        assert str(message["Subject"]) == subject
        text = body(message).splitlines()
        assert text[0] == lines[0]
        assert set(lines) <= set(text), text
        assert not {"Dear", "Beste", "Kind regards"} & set(" ".join(text).replace(",", " ").split())


def test_the_created_mail_states_the_costs_in_the_customers_language_else_in_english(desk, new_ticket):
    rules = (desk / "rules.yaml").read_text(encoding="utf-8")
    speaks = "    name: Brightwave Ltd\n    language: "
    (desk / "rules.yaml").write_text(rules.replace(f"{speaks}en", f"{speaks}fr"), encoding="utf-8")
    both = {"title": "Back-up van de labelprinter terugzetten", "category": "hardware"}  # hardware and backup
    new_ticket("--accept-costs", **both)
    new_ticket("--accept-costs", **{**BRIGHTWAVE, **both})
    mails = {addresses(message, "To")[0][1]: body(message) for message in composed(desk)}
    dutch, french = mails[ELS], mails[OLIVIA]
    assert (
        "Deze aanvraag valt buiten het contract en het werk kan aangerekend worden:\n"
        "- Hardware valt buiten het contract. We stellen een diagnose, brengen u op de hoogte en nemen zo nodig "
        "contact op met de leverancier; verder werk kan aangerekend worden.\n"
        "- Back-ups vallen niet onder het contract; een back-up herstellen wordt apart aangerekend.\n"
        "We melden het u voor er kosten gemaakt worden.\n"
    ) in dutch
    assert (
        "Cette demande sort du cadre du contrat et le travail peut être facturé :\n"
        "- Le matériel n'est pas couvert par le contrat. Nous établissons un diagnostic, vous informons et "
        "contactons au besoin le fournisseur ; la suite du travail peut être facturée.\n"
        "- Backups are not part of the contract; restoring one is billed separately.\n"  # no French message
        "Nous vous préviendrons avant d'engager des frais.\n"
    ) in french


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
    (message,) = composed(desk)
    (sender,) = message["From"].addresses
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
    messages = {kind(message): message for message in composed(desk)}
    assert sorted(messages) == ["closed", "comment", "created", "status", "survey"]
    created_id = str(messages["created"]["Message-ID"])
    assert created_id == f"<{ticket}.1.created@{DOMAIN}>"
    assert len({str(message["Message-ID"]) for message in messages.values()}) == 5
    keys = {row["kind"]: row["id"] for row in listed_rows(desk)}
    for mail_kind, message in messages.items():
        subject = str(message["Subject"])
        assert ticket in subject and "Zorgdossier opent niet" in subject, subject
        if mail_kind == "created":
            continue
        assert str(message["Message-ID"]) == f"<{keys[mail_kind]}@{DOMAIN}>", mail_kind
        assert str(message["In-Reply-To"]) == created_id, mail_kind
        assert created_id in str(message["References"]).split(), mail_kind
        assert str(message["Auto-Submitted"]) == "auto-generated"
    for mail_kind, (at, _) in moments.items():
        assert messages[mail_kind]["Date"].datetime == datetime.fromisoformat(at), mail_kind
    assert messages["survey"]["Date"].datetime == datetime.fromisoformat(moments["closed"][0])
    assert "Status: In behandeling" in str(messages["status"]["Subject"])
    assert "De index wordt opnieuw opgebouwd." in body(messages["comment"])
    assert "Index hersteld." in body(messages["closed"])


def listed_rows(desk: Path) -> list[dict[str, Any]]:
    """`notify list --format json` of a desk, without the run fixture."""
    from click.testing import CliRunner

    from sdesk.cli import main

    result = CliRunner().invoke(main, ["notify", "list", "--format", "json"], env={"SDESK_DIR": str(desk)})
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_the_same_mail_has_the_same_message_id_in_every_copy_of_the_desk(desk, new_ticket, act, run, tmp_path, smtp):
    ticket = cooperation_ticket(new_ticket)
    act("update", ticket, "--status", "in-progress", "--assignee", BOB, at="2026-11-23T10:30:00+01:00")
    act("comment", ticket, "We kijken ernaar.", at="2026-11-23T10:40:00+01:00")
    copy = tmp_path / "clone"
    shutil.copytree(desk, copy)

    here = composed(desk)
    there = composed(copy)
    assert [kind(message) for message in here] == ["created", "status", "assigned", "comment"]
    assert [str(message["Message-ID"]) for message in there] == [str(message["Message-ID"]) for message in here]
    assert [row["id"] for row in listed_rows(copy)] == [row["id"] for row in listed_rows(desk)]
    assert [message.as_bytes() for message in there] == [message.as_bytes() for message in here]

    # Worked out at another moment, by another agent, the mail is still the same mail.
    later = run("notify", "list", "--format", "json", env={"SDESK_NOW": "2026-12-01T09:00:00+01:00", "SDESK_USER": BOB})
    assert [row["id"] for row in json.loads(later.stdout)] == [row["id"] for row in listed_rows(desk)]

    # What one copy delivered is what the other would deliver, byte for byte identified.
    assert send(run, smtp).exit_code == 0
    assert smtp.handler.ids() == [str(message["Message-ID"]) for message in there]


# --- header injection ----------------------------------------------------------------------------

EXPECTED_HEADERS = {
    "from",
    "to",
    "cc",
    "reply-to",
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
    messages = composed(desk)
    assert [kind(message) for message in messages] == ["created", "status"]
    for message in messages:
        raw = message.as_bytes()
        assert not [line for line in raw.splitlines() if line.lower().startswith(b"bcc")], raw
        assert message["Bcc"] is None
        assert {key.lower() for key in message.keys()} <= EXPECTED_HEADERS
        assert recipients(message) == {ELS, JAN}
        assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])

    result = send(run, smtp)
    assert result.exit_code == 0, result.output
    assert len(smtp.handler.arrived) == 2
    for arrival in smtp.handler.arrived:
        assert sorted(arrival.rcpt_tos) == [ELS, JAN]
        assert not [line for line in arrival.content.splitlines() if line.lower().startswith(b"bcc")]
        assert arrival.message["Bcc"] is None
        assert {key.lower() for key in arrival.message.keys()} <= EXPECTED_HEADERS


def compose_comment(desk: Path, ticket_id: str, **changes: Any) -> list[bytes]:
    """The mails a public comment owes once a ticket holds ``changes``, composed as every command composes them.

    The ticket is changed in memory, not in its file: ticket validation is not what this tests, mail is.
    """
    from sdesk.actions.record import owed_mail
    from sdesk.mail import compose
    from sdesk.storage.store import Desk
    from sdesk.tickets.model import Event

    store = Desk(desk)
    ticket = msgspec.structs.replace(store.read(ticket_id), **changes)
    now = datetime.fromisoformat(NOW)
    ticket.history = [*ticket.history, Event(now, AGENT, "comment", (), "public", "Bekeken.")]
    letters, warnings = owed_mail(store, ticket, ticket.history[-1])
    assert warnings == []
    templates = compose.Templates(store.root, store.rules.timezone)
    return [compose.message(letter, templates).as_bytes() for letter in letters]


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def test_control_characters_in_a_title_or_name_give_a_clean_one_line_subject_and_names(desk, new_ticket):
    ticket_id = cooperation_ticket(new_ticket)
    (raw,) = compose_comment(
        desk,
        ticket_id,
        title="\x1b[31m\x07Zorg\x00dossier\t\t\topent\x0b niet\r\n\x85meer\x7f",
        requester="nieuw@zonnebloem.example",  # not a contact in rules.yaml: the ticket's contact name is used
        contact_email=None,
        contact_name="Els\x1b[2J\x07 Ver\x00meulen\t\t",
        cooperation_name="Jan\rPeeters\x1b",
    )
    headers = raw.split(b"\r\n\r\n")[0].replace(b"\r\n", b"")
    assert not CONTROL.search(headers.decode("ascii")), headers
    message = parse(raw)
    subject = str(message["Subject"])
    assert not CONTROL.search(subject) and "  " not in subject, subject
    assert subject.endswith("[31m Zorg dossier opent niet meer"), subject
    assert addresses(message, "To") == [("Els [2J Ver meulen", "nieuw@zonnebloem.example")]
    assert addresses(message, "Cc") == [("Jan Peeters", JAN)]


NOT_ONE_ADDRESS = [
    "a@x.example,b@y.example",
    f"{ELS}\r\nBcc: evil@attacker.example",
    f"Els Vermeulen <{ELS}>",
    "els",
    "",
    "jösé@zonnebloem.example",
    f"{ELS}\x00",
]


@pytest.mark.parametrize("field", ["requester", "cooperation_email"])
@pytest.mark.parametrize("value", NOT_ONE_ADDRESS)
def test_an_address_that_is_not_one_mailbox_stops_the_mail_with_one_clear_line(desk, new_ticket, field, value):
    from sdesk.errors import InvalidData

    ticket_id = cooperation_ticket(new_ticket)
    with pytest.raises(InvalidData) as refusal:
        compose_comment(desk, ticket_id, **{field: value})
    message = str(refusal.value)
    assert "\n" not in message and "\r" not in message and not CONTROL.search(message), message
    assert ticket_id in message and repr(value)[1:-1][:20] in message, message


def test_a_bad_address_in_a_ticket_file_stops_the_command_and_saves_nothing(desk, new_ticket, run):
    ticket = cooperation_ticket(new_ticket)
    path = desk / "tickets" / f"{ticket}.yaml"
    text = path.read_text(encoding="utf-8")
    assert f"email: {JAN}" in text
    path.write_text(text.replace(f"email: {JAN}", "email: jan@zonnebloem.example,evil@attacker.example"))
    before = path.read_bytes()
    rows = listed(run)
    result = run("comment", ticket, "We kijken ernaar.")
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert f"tickets/{ticket}.yaml" in line and "not an email address" in line, line
    assert path.read_bytes() == before
    assert listed(run) == rows


def test_a_sender_in_rules_that_is_not_one_mailbox_stops_the_mail_with_one_clear_line(desk, new_ticket):
    from sdesk.errors import InvalidData
    from sdesk.mail import notifications
    from sdesk.storage.store import Desk

    store = Desk(desk)
    ticket = store.read(new_ticket()["id"])
    rules = msgspec.structs.replace(store.rules, teams={}, desk_email="service,desk@caresolutions.example")
    with pytest.raises(InvalidData) as refusal:
        notifications.sender(ticket, rules)
    assert ticket.id in str(refusal.value) and "'service,desk@caresolutions.example'" in str(refusal.value)


# --- delivery over SMTP ------------------------------------------------------------------------


def runner_name(desk: Path) -> str:
    return (desk / ".sdesk" / "runner").read_text(encoding="utf-8").strip()


def test_send_delivers_every_owed_mail_once_and_records_it(desk, new_ticket, act, run, smtp):
    first = cooperation_ticket(new_ticket)
    second = new_ticket(**BRIGHTWAVE)["id"]
    act("update", first, "--status", "in-progress", "--note", "We bekijken het", at="2026-11-23T10:30:00+01:00")
    owed = listed(run)
    keys = [row["id"] for row in owed]
    assert len(keys) == 3 and {row["state"] for row in owed} == {"owed"}
    expected = {str(message["Message-ID"]): message for message in composed(desk)}

    result = send(run, smtp, at="2026-11-23T10:35:00+01:00")
    assert result.exit_code == 0, result.output
    assert sorted(sent_lines(result.stdout)) == sorted(keys)
    assert "Sent 3 mails; 0 kept for the next run." in result.stderr

    arrived = {str(arrival.message["Message-ID"]): arrival for arrival in smtp.handler.arrived}
    assert len(arrived) == len(smtp.handler.arrived) == 3 and set(arrived) == set(expected)
    for message_id, stored in expected.items():
        arrival = arrived[message_id]
        assert arrival.mail_from == stored["From"].addresses[0].addr_spec
        assert sorted(arrival.rcpt_tos) == sorted(recipients(stored))
        delivered = arrival.message
        for header in ("From", "To", "Cc", "Subject", "Date", "In-Reply-To", "References", "Auto-Submitted"):
            assert str(delivered[header]) == str(stored[header]), (message_id, header)
        assert body(delivered) == body(stored)

    # The records: a claim, then the outcome, per mail, in the ticket's own file.
    runner = runner_name(desk)
    subjects = {str(message["X-Sdesk-Ticket"]) + str(message["X-Sdesk-Mail"]): message for message in expected.values()}
    assert sorted(path.name for path in (desk / "deliveries").iterdir()) == sorted(
        ["baseline.yaml", f"{first}.jsonl", f"{second}.jsonl"]
    )
    for ticket in (first, second):
        lines = records(desk, ticket)
        mine = [key for key in keys if key.startswith(ticket)]
        assert [(line["mail"], line["state"]) for line in lines] == [(key, "claimed") for key in mine] + [
            (key, "sent") for key in mine
        ]
        for line in lines:
            assert line["at"] == "2026-11-23T10:35:00+01:00" and line["runner"] == runner
            message = subjects[ticket + line["mail"].rsplit(".", 1)[1]]
            assert line["to"] == ", ".join(spec for _, spec in addresses(message, "To") + addresses(message, "Cc"))
            if line["state"] == "sent":
                assert line["subject"] == str(message["Subject"]) and "detail" not in line
        assert (desk / "deliveries" / f"{ticket}.jsonl").read_text(encoding="utf-8").endswith("}\n")

    rows = listed(run)
    assert [(row["id"], row["state"]) for row in rows] == [(key, "sent") for key in keys]
    assert all(row["at"] == "2026-11-23T10:35:00+01:00" for row in rows)
    assert listed(run, "--pending") == []

    before = snapshot(desk / "deliveries")
    again = send(run, smtp, at="2026-11-23T11:00:00+01:00")
    assert again.exit_code == 0, again.output
    assert again.stdout == ""
    assert "Sent 0 mails" in again.stderr
    assert len(smtp.handler.arrived) == 3
    assert snapshot(desk / "deliveries") == before  # nothing to say, nothing written


def test_mail_owed_after_a_send_goes_out_in_the_next_one_and_only_it(desk, new_ticket, act, run, smtp):
    ticket = new_ticket()["id"]
    assert send(run, smtp).exit_code == 0
    act("comment", ticket, "De index wordt opnieuw opgebouwd.", at="2026-11-23T10:40:00+01:00")
    (comment,) = listed(run, "--pending")
    result = send(run, smtp, at="2026-11-23T10:45:00+01:00")
    assert result.exit_code == 0, result.output
    assert sent_lines(result.stdout) == [comment["id"]]
    assert [kind(arrival.message) for arrival in smtp.handler.arrived] == ["created", "comment"]


def test_show_marks_each_event_mail_as_mailed_or_not_yet_mailed(desk, new_ticket, act, run, smtp):
    ticket = new_ticket()["id"]
    shown = run("show", ticket)
    assert shown.exit_code == 0, shown.output
    assert f"mail: created to {ELS}: not yet mailed" in shown.stdout
    (mail,) = json.loads(run("show", ticket, "--format", "json").stdout)["mail"]
    assert (mail["kind"], mail["to"], mail["state"], mail["at"]) == ("created", [ELS], "owed", None)

    assert send(run, smtp, at="2026-11-23T10:05:00+01:00").exit_code == 0
    act("update", ticket, "--status", "in-progress", at="2026-11-23T10:30:00+01:00")
    text = run("show", ticket).stdout
    assert f"mail: created to {ELS}: mailed 2026-11-23 10:05" in text
    assert f"mail: status to {ELS}: not yet mailed" in text
    assert text.index("mail: created") < text.index("mail: status")
    mail = json.loads(run("show", ticket, "--format", "json").stdout)["mail"]
    assert [(item["kind"], item["state"]) for item in mail] == [("created", "sent"), ("status", "owed")]
    assert mail[0]["at"] == "2026-11-23T10:05:00+01:00"

    smtp.handler.refuse[ELS] = "550 5.1.1 no such mailbox"
    assert send(run, smtp, at="2026-11-23T10:35:00+01:00").exit_code == 1
    assert f"mail: status to {ELS}: parked, not mailed 2026-11-23 10:35" in run("show", ticket).stdout


def test_a_refused_recipient_keeps_that_mail_owed_until_a_later_run_delivers_it_once(desk, new_ticket, run, smtp):
    els = new_ticket()["id"]
    tom = new_ticket(requester=TOM)["id"]
    keys = {row["ticket_id"]: row["id"] for row in listed(run)}
    smtp.handler.refuse[TOM] = "450 4.2.1 mailbox busy, try again later"  # transient

    result = send(run, smtp)
    assert result.exit_code == 1
    assert f"sent {keys[els]}" in result.stdout.splitlines()
    (kept,) = [line for line in result.stdout.splitlines() if line.startswith("kept ")]
    assert kept.startswith(f"kept {keys[tom]}: ") and "450" in kept
    assert error_lines(result.stderr) == ["Error: 1 mail not delivered"]
    assert [arrival.rcpt_tos for arrival in smtp.handler.arrived] == [[ELS]]
    (row,) = listed(run, "--pending")
    assert (row["id"], row["state"]) == (keys[tom], "failed") and "450" in row["detail"]
    assert records(desk, tom)[-1]["state"] == "failed" and "450" in records(desk, tom)[-1]["detail"]

    smtp.handler.refuse.clear()  # the server is fixed
    retry = send(run, smtp, at="2026-11-23T10:10:00+01:00")
    assert retry.exit_code == 0, retry.output
    assert sent_lines(retry.stdout) == [keys[tom]]
    assert send(run, smtp, at="2026-11-23T10:15:00+01:00").stdout == ""
    assert sorted(arrival.rcpt_tos[0] for arrival in smtp.handler.arrived) == [ELS, TOM]
    assert len(set(smtp.handler.ids())) == len(smtp.handler.arrived) == 2
    assert set(states(run).values()) == {"sent"}


def test_a_cc_the_server_refuses_is_reported_and_the_mail_is_not_sent_twice(desk, new_ticket, run, smtp):
    ticket = cooperation_ticket(new_ticket)
    (key,) = [row["id"] for row in listed(run)]
    smtp.handler.refuse[JAN] = "550 mailbox unavailable"
    result = send(run, smtp)
    # The requester got it: sending it again would give them a second copy.
    assert [arrival.rcpt_tos for arrival in smtp.handler.arrived] == [[ELS]]
    assert sent_lines(result.stdout) == [key]
    assert states(run) == {key: "sent"}
    # But the refusal of the cooperation contact must not go unnoticed.
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert key in warning and JAN in warning and "550" in warning
    final = records(desk, ticket)[-1]
    assert final["state"] == "sent" and JAN in final["detail"] and "550" in final["detail"]
    assert send(run, smtp, at="2026-11-23T10:10:00+01:00").stdout == ""
    assert len(smtp.handler.arrived) == 1


def test_a_server_that_does_not_listen_fails_in_one_line_and_a_later_run_sends_everything_once(
    desk, new_ticket, run, smtp
):
    new_ticket()
    new_ticket(**BRIGHTWAVE)
    keys = [row["id"] for row in listed(run)]
    port = free_port()  # nobody listens there
    result = run("notify", "send", "--smtp", f"127.0.0.1:{port}")
    assert result.exit_code == 1
    assert f"127.0.0.1:{port}" in one_error_line(result.stderr)
    assert "Traceback" not in result.output
    assert all(state != "sent" for state in states(run).values())
    assert len(listed(run, "--pending")) == 2

    retry = send(run, smtp)
    assert retry.exit_code == 0, retry.output
    assert sorted(sent_lines(retry.stdout)) == sorted(keys)
    assert len(smtp.handler.arrived) == 2
    assert send(run, smtp).stdout == ""


def test_a_server_that_does_not_listen_claims_nothing_and_leaves_the_mail_owed(desk, new_ticket, run):
    ticket = new_ticket()["id"]
    port = free_port()
    result = run("notify", "send", "--smtp", f"127.0.0.1:{port}")
    assert result.exit_code == 1
    assert (
        result.stderr.startswith(f"Error: cannot deliver through 127.0.0.1:{port}") and result.stderr.count("\n") == 1
    )
    (row,) = listed(run)
    assert row["state"] == "owed"  # no runner holds it: any runner sends it once the server answers
    assert "not yet mailed" in run("show", ticket).stdout
    assert not (desk / "deliveries" / f"{ticket}.jsonl").exists()


def kill_runner_while_sending(desk: Path, key: str, step: str) -> None:
    """As if a `notify send` was killed with ``key`` claimed: its journal's last word on it is ``step``."""
    from sdesk.mail import records as delivery_records

    runner = "killed-runner"
    (desk / ".sdesk").mkdir(exist_ok=True)
    (desk / ".sdesk" / "runner").write_text(f"{runner}\n", encoding="utf-8")
    ticket = key.split(".", 1)[0]
    claim = delivery_records.Record(key, "claimed", "2026-11-23T10:01:00+01:00", runner, ELS)
    delivery_records.append(desk, ticket, [claim])
    with open(desk / ".sdesk" / "mail-journal.jsonl", "a", encoding="utf-8") as journal:
        journal.write(json.dumps({"mail": key, "step": "start", "detail": ""}) + "\n")
        if step != "start":
            journal.write(json.dumps({"mail": key, "step": step, "detail": ""}) + "\n")


def test_a_mail_a_killed_run_may_have_sent_is_reported_and_not_resent_until_asked(desk, new_ticket, run, smtp):
    new_ticket()
    new_ticket(**BRIGHTWAVE)
    interrupted, other = [row["id"] for row in listed(run)]
    kill_runner_while_sending(desk, interrupted, "ending")  # killed after the message went out

    result = send(run, smtp)
    assert result.exit_code == 1  # someone must look: it may have arrived
    assert "Error: 1 mail not confirmed by the server" in result.stderr
    assert sent_lines(result.stdout) == [other]
    assert [str(arrival.message["X-Sdesk-Ticket"]) for arrival in smtp.handler.arrived] == [other.split(".")[0]]
    assert states(run) == {interrupted: "interrupted", other: "sent"}
    assert [row["id"] for row in listed(run, "--pending")] == [interrupted]
    table = run("notify", "list")
    assert "interrupted" in table.stdout and any(
        "interrupted" in line and interrupted.split(".")[0] in line for line in table.stderr.splitlines()
    )

    # A second plain run still leaves it alone, and says so.
    again = send(run, smtp, at="2026-11-23T10:10:00+01:00")
    assert again.stdout == "" and "--retry" in again.stderr
    assert len(smtp.handler.arrived) == 1

    resend = send(run, smtp, "--retry", "interrupted", at="2026-11-23T10:15:00+01:00")
    assert resend.exit_code == 0, resend.output
    assert sent_lines(resend.stdout) == [interrupted]
    assert send(run, smtp, "--retry", "interrupted", at="2026-11-23T10:20:00+01:00").stdout == ""
    assert len(smtp.handler.arrived) == 2
    assert len(set(smtp.handler.ids())) == 2
    assert set(states(run).values()) == {"sent"}


def test_a_mail_a_killed_run_never_began_is_sent_by_the_next_run(desk, new_ticket, run, smtp):
    new_ticket()
    (key,) = [row["id"] for row in listed(run)]
    kill_runner_while_sending(desk, key, "start")  # killed before the message went out
    result = send(run, smtp)
    assert result.exit_code == 0, result.output
    assert sent_lines(result.stdout) == [key]
    assert len(smtp.handler.arrived) == 1


def test_user_without_a_password_in_the_environment_is_refused_before_anything_is_sent(
    desk, new_ticket, run, smtp, monkeypatch
):
    monkeypatch.delenv("SDESK_SMTP_PASSWORD", raising=False)
    new_ticket()
    result = send(run, smtp, "--user", "bob")
    assert result.exit_code == 1
    assert "SDESK_SMTP_PASSWORD" in one_error_line(result.stderr)
    assert smtp.handler.arrived == [] and smtp.handler.connections == 1  # the controller's own check only
    assert set(states(run).values()) == {"owed"}
    assert list((desk / "deliveries").glob("*.jsonl")) == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_over_plain_text_when_explicitly_allowed(desk, new_ticket, run, smtp_with_login):
    server = smtp_with_login
    new_ticket()
    (key,) = [row["id"] for row in listed(run)]
    plain = ("--insecure-login", "--user", "bob")

    wrong = send(run, server, *plain, env={"SDESK_SMTP_PASSWORD": "guess"})
    assert wrong.exit_code == 1
    line = one_error_line(wrong.stderr)
    assert "bob" in line and server.address in line
    assert server.handler.arrived == [] and states(run)[key] != "sent"

    anonymous = send(run, server, at="2026-11-23T10:06:00+01:00")
    assert anonymous.exit_code == 1  # the server wants a login (530): the mail is kept, not parked
    assert states(run) == {key: "failed"} and "530" in listed(run)[0]["detail"]
    assert server.handler.arrived == []

    result = send(run, server, *plain, at="2026-11-23T10:07:00+01:00", env={"SDESK_SMTP_PASSWORD": "s3cret"})
    assert result.exit_code == 0, result.output
    assert server.handler.logins[-1] == (b"bob", b"s3cret")
    assert server.handler.ids() == [str(composed(desk)[0]["Message-ID"])]
    assert states(run) == {key: "sent"}


def test_help_says_what_a_login_without_tls_risks(run):
    text = " ".join(run("notify", "send", "--help").stdout.split())
    assert "--insecure-login" in text and "--starttls" in text and "--tls" in text and "--timeout" in text
    (risk,) = re.findall(r"--insecure-login (.*?) --timeout", text)
    assert "password" in risk and "anyone" in risk, risk


# --- TLS ---------------------------------------------------------------------------------------


def test_a_login_without_tls_is_refused_before_any_connection_is_made(desk, new_ticket, run, starttls_server):
    server = starttls_server  # it offers STARTTLS: sdesk must still not log in unless told to encrypt
    new_ticket()
    before = server.handler.connections
    result = send(run, server, "--user", "bob", env={"SDESK_SMTP_PASSWORD": "s3cret"})
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert "--starttls" in line and "--tls" in line and "--insecure-login" in line, line
    assert server.handler.connections == before, "sdesk connected before it refused"
    assert server.handler.logins == [] and server.handler.arrived == []
    assert set(states(run).values()) == {"owed"}


def test_starttls_verifies_the_server_logs_in_and_delivers_encrypted(desk, new_ticket, run, starttls_server, trusted):
    server = starttls_server
    new_ticket()
    (key,) = [row["id"] for row in listed(run)]
    result = send(run, server, "--starttls", "--user", "bob", env={"SDESK_SMTP_PASSWORD": "s3cret"})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"sent {key}"]
    assert server.handler.logins == [(b"bob", b"s3cret")]
    (arrival,) = server.handler.arrived
    assert arrival.encrypted and arrival.rcpt_tos == [ELS]
    assert states(run) == {key: "sent"}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_verifies_the_server_logs_in_and_delivers_encrypted(desk, new_ticket, run, tls_server, trusted):
    server = tls_server
    new_ticket()
    (key,) = [row["id"] for row in listed(run)]
    result = send(run, server, "--tls", "--user", "bob", env={"SDESK_SMTP_PASSWORD": "s3cret"})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"sent {key}"]
    assert server.handler.logins == [(b"bob", b"s3cret")]
    (arrival,) = server.handler.arrived
    assert arrival.encrypted and arrival.rcpt_tos == [ELS]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize(
    ("mode", "host", "problem"),
    [
        ("--starttls", "127.0.0.1", "not trusted"),  # nothing says to trust the test CA
        ("--tls", "127.0.0.1", "not trusted"),
        ("--tls", "localhost", "not valid for 'localhost'"),  # trusted, but made out to 127.0.0.1
    ],
)
def test_a_server_sdesk_cannot_verify_gets_no_password_and_no_mail(
    desk, new_ticket, run, certificates, starttls_server, tls_server, monkeypatch, mode, host, problem
):
    if host == "localhost":
        monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    else:
        monkeypatch.setenv("SSL_CERT_FILE", str(desk / "rules.yaml"))  # no certificate in it: nothing is trusted
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    server = starttls_server if mode == "--starttls" else tls_server
    new_ticket()
    address = f"{host}:{server.port}"
    result = run("notify", "send", "--smtp", address, mode, "--user", "bob", env={"SDESK_SMTP_PASSWORD": "s3cret"})
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert address in line and "certificate" in line and problem in line, line
    assert server.handler.logins == [] and server.handler.arrived == []
    assert "sent" not in states(run).values()


@pytest.mark.parametrize(("mode", "problem"), [("--tls", "TLS failed"), ("--starttls", "STARTTLS")])
def test_tls_asked_of_a_server_that_does_not_speak_it_is_one_error_line(desk, new_ticket, run, smtp, mode, problem):
    new_ticket()
    result = send(run, smtp, mode)
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert smtp.address in line and problem in line, line
    assert smtp.handler.arrived == [] and "sent" not in states(run).values()


def test_starttls_and_tls_together_is_a_usage_error(desk, run, smtp):
    result = send(run, smtp, "--starttls", "--tls")
    assert result.exit_code == 2
    assert "--starttls" in result.stderr and "--tls" in result.stderr
    assert smtp.handler.connections == 1  # the controller's own check at start, nothing from sdesk


# --- what the server answers -------------------------------------------------------------------


def reset(handler: Recorder, answers: dict[str, Any]) -> None:
    """The server is fixed: it answers as usual again."""
    for key in answers:
        setattr(handler, key, getattr(Recorder(), key))


UNCONFIRMED = {
    "too slow": ({"delay": 1.0}, "timed out"),  # it has the message, but takes longer to say so than sdesk waits
    "nonsense": ({"data_reply": "Thanks!"}, "nonsense"),
}


@pytest.mark.parametrize("answer", list(UNCONFIRMED))
def test_a_message_the_server_took_without_a_clear_yes_arrives_once_over_two_runs(desk, new_ticket, run, smtp, answer):
    new_ticket()
    new_ticket(**BRIGHTWAVE)
    first, second = [row["id"] for row in listed(run)]
    answers, why = UNCONFIRMED[answer]
    for key, value in answers.items():
        setattr(smtp.handler, key, value)

    result = send(run, smtp, "--timeout", "0.3")
    assert result.exit_code == 1
    assert len(smtp.handler.arrived) == 1
    warnings = [line for line in result.stderr.splitlines() if first in line]
    assert len(warnings) == 1 and "may have arrived" in warnings[0] and "--retry interrupted" in warnings[0]
    assert one_error_line("\n".join(error_lines(result.stderr)))
    rows = {row["id"]: row for row in listed(run)}
    assert rows[first]["state"] == "interrupted" and why in rows[first]["detail"]  # treated like a killed run
    assert rows[second]["state"] != "sent"  # the connection is gone: the next one waits
    assert [line["state"] for line in records(desk, first.split(".")[0])][-1] == "unconfirmed"

    reset(smtp.handler, answers)
    again = send(run, smtp, "--timeout", "0.3", at="2026-11-23T10:10:00+01:00")
    assert again.exit_code == 0, again.output
    assert sent_lines(again.stdout) == [second]
    assert "--retry" in again.stderr
    assert states(run) == {first: "interrupted", second: "sent"}
    messages = {str(message["X-Sdesk-Ticket"]): str(message["Message-ID"]) for message in composed(desk)}
    assert Counter(smtp.handler.ids()) == Counter(messages.values())  # each exactly once


TRANSIENT = {
    "MAIL FROM answered 451": {"mail_reply": "451 4.3.0 try again later"},
    "RCPT answered 450": {"refuse": {ELS: "450 4.2.1 mailbox busy"}},
    "hang-up at RCPT": {"hang_up_at_rcpt": True},
    "DATA command answered 451": {"data_command_reply": "451 4.3.0 not now"},
    "451 after the message": {"data_reply": "451 4.3.0 queue full, try again later"},
}


@pytest.mark.parametrize("answer", list(TRANSIENT))
def test_a_transient_failure_keeps_the_mail_owed_and_a_later_run_delivers_it_once(desk, new_ticket, run, smtp, answer):
    for key, value in TRANSIENT[answer].items():
        setattr(smtp.handler, key, value)
    ticket = new_ticket()["id"]
    (key,) = [row["id"] for row in listed(run)]
    result = send(run, smtp)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"kept {key}: ")
    assert error_lines(result.stderr) == ["Error: 1 mail not delivered"]
    assert smtp.handler.arrived == []
    assert states(run) == {key: "failed"}
    assert [line["state"] for line in records(desk, ticket)] == ["claimed", "failed"]

    reset(smtp.handler, TRANSIENT[answer])
    retry = send(run, smtp, at="2026-11-23T10:10:00+01:00")
    assert retry.exit_code == 0, retry.output
    assert retry.stdout.splitlines() == [f"sent {key}"]
    assert smtp.handler.ids() == [f"<{ticket}.1.created@{DOMAIN}>"]


PERMANENT = {  # the server's answer, and the reply sdesk must report
    "RCPT answered 550": ({"refuse": {ELS: "550 5.1.1 no such mailbox"}}, "550 5.1.1 no such mailbox"),
    "MAIL FROM answered 553": ({"mail_reply": "553 5.7.1 sender not allowed"}, "553 5.7.1 sender not allowed"),
    "554 after the message": ({"data_reply": "554 5.6.0 message refused"}, "554 5.6.0 message refused"),
}


@pytest.mark.parametrize("answer", list(PERMANENT))
def test_a_permanent_refusal_parks_the_mail_with_why_until_an_agent_retries_it(desk, new_ticket, run, smtp, answer):
    answers, reply = PERMANENT[answer]
    for key, value in answers.items():
        setattr(smtp.handler, key, value)
    ticket = new_ticket()["id"]
    (key,) = [row["id"] for row in listed(run)]

    result = send(run, smtp)
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"parked {key}: ") and reply in line, line
    assert error_lines(result.stderr) == ["Error: 1 mail not delivered"]
    final = records(desk, ticket)[-1]
    assert (final["mail"], final["state"]) == (key, "parked") and reply in final["detail"]
    (row,) = listed(run, "--pending")
    assert (row["id"], row["state"]) == (key, "parked") and reply in row["detail"]
    table = run("notify", "list")
    assert "parked" in table.stdout and reply in table.stderr

    connections = smtp.handler.connections
    again = send(run, smtp, at="2026-11-23T10:10:00+01:00")
    assert again.exit_code == 0, again.output
    assert again.stdout == "" and smtp.handler.connections == connections  # not tried again
    assert "parked" in again.stderr and "--retry" in again.stderr

    reset(smtp.handler, answers)
    retry = send(run, smtp, "--retry", "parked", at="2026-11-23T10:15:00+01:00")
    assert retry.exit_code == 0, retry.output
    assert retry.stdout.splitlines() == [f"sent {key}"]
    assert states(run) == {key: "sent"}
    assert smtp.handler.ids() == [f"<{ticket}.1.created@{DOMAIN}>"]


# --- templates ---------------------------------------------------------------------------------


def override(desk: Path, text: str, name: str = "nl/closed.txt") -> Path:
    path = desk / "templates" / "mail" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_desk_override_of_a_template_is_used(desk, new_ticket, act, run, smtp):
    override(
        desk,
        "{% block subject %}Klaar: {{ ticket.id }}{% endblock %}\n"
        "{% block body %}\n"
        "Dag {{ requester.name }},\n\nUw melding is opgelost: {{ ticket.resolution }}\n"
        "{% endblock %}\n",
    )
    ticket = new_ticket()["id"]
    act("close", ticket, "--resolution", "Index hersteld.", at="2026-11-23T14:00:00+01:00")
    message = the_mail(desk, "closed")
    assert str(message["Subject"]) == f"Klaar: {ticket}"
    assert body(message) == "Dag Els Vermeulen,\n\nUw melding is opgelost: Index hersteld.\n"
    assert "Hoe tevreden bent u?" in str(the_mail(desk, "survey")["Subject"])  # not overridden: the package's

    assert send(run, smtp, at="2026-11-23T14:05:00+01:00").exit_code == 0
    (closed,) = [arrival.message for arrival in smtp.handler.arrived if kind(arrival.message) == "closed"]
    assert str(closed["Subject"]) == f"Klaar: {ticket}"


def test_an_override_of_an_agent_mail_is_used(desk, new_ticket, run):
    override(
        desk,
        "{% block subject %}Voor jou: {{ ticket.id }}{% endblock %}\n{% block body %}\nVan {{ event.by }}.\n"
        "{% endblock %}\n",
        "nl/assigned.txt",
    )
    ticket = new_ticket()["id"]
    run("update", ticket, "--assignee", BOB)
    message = the_mail(desk, "assigned")
    assert str(message["Subject"]) == f"Voor jou: {ticket}"
    assert body(message) == f"Van {AGENT}.\n"


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
    ticket_file = desk / "tickets" / f"{ticket}.yaml"
    saved = ticket_file.read_bytes()
    owed = listed(run)
    text, line = BROKEN_TEMPLATES[problem]
    override(desk, text)
    result = run("close", ticket, "--resolution", "Index hersteld.", env={"SDESK_NOW": "2026-11-23T14:00:00+01:00"})
    # Nothing half-written: the ticket file is as it was and no mail is owed.
    assert ticket_file.read_bytes() == saved
    assert listed(run) == owed
    shown = json.loads(run("show", ticket, "--format", "json").stdout)
    assert shown["status"] == "open"
    return result, line


@pytest.mark.parametrize("problem", list(BROKEN_TEMPLATES))
def test_a_broken_override_stops_the_close_with_one_error_naming_the_template_line(desk, new_ticket, run, problem):
    result, line = close_with_broken_template(desk, new_ticket, run, problem)
    assert result.exit_code == 1
    assert f"templates/mail/nl/closed.txt:{line}: " in one_error_line(result.stderr)


def test_check_reports_an_override_that_does_not_compile_or_that_sdesk_never_uses(desk, run):
    override(desk, BROKEN_TEMPLATES["syntax error"][0])
    override(desk, BROKEN_TEMPLATES["unknown variable"][0], "nl/closd.txt")  # a typo: never used
    override(desk, BROKEN_TEMPLATES["unknown variable"][0], "es/closed.txt")  # no Spanish mail
    names = (
        "<en|nl|fr|de>/<created|status|info-requested|reminder|comment|closed|auto-closed|survey"
        "|assigned|reaction|warning|breach|refused|signin|greeting|footer>.txt"
    )
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"desk/templates/mail/es/closed.txt: mail template sdesk never uses: the names are {names}",
        f"desk/templates/mail/nl/closd.txt: mail template sdesk never uses: the names are {names}",
        "desk/templates/mail/nl/closed.txt:4: mail template: unexpected '}'",
    ]


@pytest.mark.parametrize("language", ["nl", "fr", "de"])
def test_sdesk_ships_every_mail_template_in_every_language_with_its_blocks(language):
    from sdesk.mail.compose import PACKAGE_TEMPLATES

    def structure(language: str, name: str) -> list[str]:
        """The blocks and includes of a template, its own language taken out."""
        text = (PACKAGE_TEMPLATES / language / name).read_text(encoding="utf-8")
        return re.findall(r"{% (?:block \w+|include \"[\w.-]+/[\w.-]+\") %}", text.replace(f'"{language}/', '"xx/'))

    english = sorted(path.name for path in (PACKAGE_TEMPLATES / "en").iterdir())
    assert sorted(path.name for path in (PACKAGE_TEMPLATES / language).iterdir()) == english
    for name in english:
        assert structure(language, name) == structure("en", name), name


def test_check_accepts_overrides_of_the_agent_mails(desk, run):
    for name in ("assigned", "reaction", "warning", "breach"):
        override(
            desk, "{% block subject %}{{ ticket.id }}{% endblock %}{% block body %}x{% endblock %}", f"en/{name}.txt"
        )
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "templates/mail" not in result.output


def test_a_broken_created_template_opens_no_ticket_and_owes_no_mail(desk, run):
    override(
        desk,
        "{% block subject %}{{ ticket.id }}{% endblock %}\n{% block body %}\n{% if %}\n{% endblock %}\n",
        "nl/created.txt",
    )
    result = run("new", *TICKET_ARGS)
    assert result.exit_code == 1
    assert "templates/mail/nl/created.txt:3: " in one_error_line(result.stderr)
    assert list((desk / "tickets").rglob("*.yaml")) == []
    assert listed(run) == []


def test_a_template_broken_after_the_change_parks_its_mail_and_the_rest_still_goes(desk, new_ticket, act, run, smtp):
    ticket = new_ticket()["id"]
    act("close", ticket, "--resolution", "Index hersteld.", at="2026-11-23T14:00:00+01:00")
    override(desk, BROKEN_TEMPLATES["unknown variable"][0])  # broken after the close was recorded
    result = send(run, smtp, at="2026-11-23T14:05:00+01:00")
    assert result.exit_code == 1
    (parked,) = [line for line in result.stdout.splitlines() if line.startswith("parked ")]
    assert parked.startswith(f"parked {ticket}.") and ".closed: " in parked
    assert "nl/closed.txt" in parked and "no_such_variable" in parked
    assert sorted(kind(arrival.message) for arrival in smtp.handler.arrived) == ["created", "survey"]
    assert Counter(row["state"] for row in listed(run)) == Counter({"sent": 2, "parked": 1})

    (desk / "templates" / "mail" / "nl" / "closed.txt").unlink()  # mended
    retry = send(run, smtp, "--retry", "parked", at="2026-11-23T14:10:00+01:00")
    assert retry.exit_code == 0, retry.output
    assert [kind(arrival.message) for arrival in smtp.handler.arrived][-1] == "closed"
    assert len(smtp.handler.arrived) == 3


# --- dry runs ----------------------------------------------------------------------------------


def test_dry_runs_owe_no_mail(desk, new_ticket, run):
    result = run("new", "--dry-run", *TICKET_ARGS)
    assert result.exit_code == 0, result.output
    assert listed(run) == []
    assert list((desk / "tickets").rglob("*.yaml")) == []

    ticket = new_ticket()["id"]
    update = run("update", ticket, "--status", "waiting-for-customer", env={"SDESK_NOW": "2026-11-23T11:00:00+01:00"})
    assert update.exit_code == 0, update.output
    before = listed(run)
    dry = run("sweep", "--dry-run", env={"SDESK_NOW": "2026-11-25T11:00:00+01:00"})
    assert dry.exit_code == 0, dry.output
    assert "would record reminder" in dry.stdout
    assert listed(run) == before
    real = run("sweep", env={"SDESK_NOW": "2026-11-25T11:00:00+01:00"})
    assert real.exit_code == 0, real.output
    assert [row["kind"] for row in listed(run)] == [row["kind"] for row in before] + ["reminder"]


# --- a real process ----------------------------------------------------------------------------


def test_notify_send_as_a_separate_process(desk, new_ticket, tmp_path, run, smtp):
    new_ticket()
    new_ticket(**BRIGHTWAVE)
    keys = [row["id"] for row in listed(run)]
    environment = {**os.environ, "SDESK_DIR": str(desk), "SDESK_NOW": LATER}
    environment.pop("SDESK_SMTP_PASSWORD", None)
    command = [sys.executable, "-m", "sdesk", "notify", "send", "--smtp", smtp.address]
    process = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    assert process.stdout.splitlines() == [f"sent {key}" for key in keys]
    assert sorted(smtp.handler.ids()) == sorted(str(message["Message-ID"]) for message in composed(desk))
    assert set(states(run).values()) == {"sent"}

    again = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "" and len(smtp.handler.arrived) == 2


# --- a git desk --------------------------------------------------------------------------------


def git(desk: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=desk, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def git_desk(desk: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    for variable in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(variable, "Agent")
    for variable in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(variable, AGENT)
    git(desk, "init", "-q", "-b", "main")
    git(desk, "add", "-A")
    git(desk, "commit", "-q", "-m", "A new desk")
    return desk


def test_in_a_git_desk_send_commits_its_records(git_desk, new_ticket, run, smtp):
    ticket = new_ticket()["id"]
    git(git_desk, "add", "-A")
    git(git_desk, "commit", "-q", "-m", "New ticket")
    head = git(git_desk, "rev-parse", "HEAD").strip()
    result = send(run, smtp)
    assert result.exit_code == 0, result.output
    assert len(smtp.handler.arrived) == 1
    assert git(git_desk, "status", "--porcelain", "--", "deliveries") == ""
    assert f"deliveries/{ticket}.jsonl" in git(git_desk, "log", "--name-only", "--format=", f"{head}..HEAD")
    assert [line["state"] for line in records(git_desk, ticket)] == ["claimed", "sent"]


def test_a_git_desk_without_a_baseline_owes_no_mail_for_what_it_had_before_the_first_send(
    git_desk, new_ticket, run, smtp
):
    old = new_ticket()["id"]  # the outboxes of old mailed it
    (git_desk / "deliveries" / "baseline.yaml").unlink()
    git(git_desk, "add", "-A")
    git(git_desk, "commit", "-q", "-m", "Before the runner")
    head = git(git_desk, "rev-parse", "HEAD").strip()

    first = send(run, smtp)
    assert first.exit_code == 0, first.output
    assert smtp.handler.arrived == []
    assert f"commit: {head}" in (git_desk / "deliveries" / "baseline.yaml").read_text(encoding="utf-8")

    new = new_ticket(**BRIGHTWAVE)["id"]
    run("comment", old, "Nog een vraag.", env={"SDESK_NOW": "2026-11-23T10:20:00+01:00"})
    listed_now = sorted((row["ticket_id"], row["kind"]) for row in listed(run))
    assert listed_now == sorted([(new, "created"), (old, "comment")])
    second = send(run, smtp, at="2026-11-23T10:25:00+01:00")
    assert second.exit_code == 0, second.output
    assert sorted(kind(arrival.message) for arrival in smtp.handler.arrived) == ["comment", "created"]


def test_a_dry_run_of_the_runner_says_what_it_would_mail_and_sends_and_records_nothing(git_desk, new_ticket, run, smtp):
    ticket = new_ticket()["id"]
    git(git_desk, "add", "-A")
    git(git_desk, "commit", "-q", "-m", "New ticket")
    head = git(git_desk, "rev-parse", "HEAD")
    result = run("run", "--dry-run", "--smtp", smtp.address, env={"SDESK_NOW": LATER})
    assert result.exit_code == 0, result.output
    assert f"would send created about {ticket} to {ELS}" in result.stdout
    assert smtp.handler.arrived == [] and smtp.handler.connections == 1  # the controller's own check only
    assert records(git_desk, ticket) == []
    assert git(git_desk, "rev-parse", "HEAD") == head
    assert listed(run)[0]["state"] == "owed"


# --- the outbox of old -------------------------------------------------------------------------


def old_outbox_name(ticket: dict[str, Any], number: int, mail_kind: str) -> str:
    """An outbox file name of sdesk 0.8: the event's moment in UTC, the ticket, the event's number, the kind."""
    moment = datetime.fromisoformat(ticket["history"][number - 1]["at"])
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}-{ticket['id']}-{number:03d}-{mail_kind}.eml"


def test_migrate_records_the_old_outbox_so_sent_mail_is_never_resent_and_pending_mail_goes_once(
    desk, new_ticket, act, run, smtp
):
    ticket_id = new_ticket()["id"]
    act("update", ticket_id, "--status", "in-progress", at="2026-11-23T10:30:00+01:00")
    ticket = json.loads(run("show", ticket_id, "--format", "json").stdout)
    old = desk / "outbox"
    for state, number, mail_kind in (("sent", 1, "created"), ("pending", 2, "status")):
        (old / state).mkdir(parents=True, exist_ok=True)
        (old / state / old_outbox_name(ticket, number, mail_kind)).write_bytes(b"From: x\r\n\r\nold\r\n")
    (old / "parked").mkdir()
    (old / "log.jsonl").write_text("{}\n", encoding="utf-8")
    keys = {row["kind"]: row["id"] for row in listed(run)}

    result = run("notify", "migrate", env={"SDESK_NOW": LATER})
    assert result.exit_code == 0, result.output
    assert result.stdout == "Recorded 2 mails of the old outbox in deliveries/.\n"
    assert not old.exists()
    (kept,) = (desk / ".sdesk").glob("outbox-of-old-*")
    assert kept.name == "outbox-of-old-20261123T090500Z" and (kept / "sent").is_dir()
    assert str(kept) in result.stderr
    assert [(line["mail"], line["state"]) for line in records(desk, ticket_id)] == [
        (keys["created"], "sent"),
        (keys["status"], "owed"),
    ]
    assert states(run) == {keys["created"]: "sent", keys["status"]: "owed"}
    assert "nothing to migrate" in run("notify", "migrate").stdout

    delivered = send(run, smtp, at="2026-11-23T10:35:00+01:00")
    assert delivered.exit_code == 0, delivered.output
    assert sent_lines(delivered.stdout) == [keys["status"]]
    assert send(run, smtp, at="2026-11-23T10:40:00+01:00").stdout == ""
    assert [kind(arrival.message) for arrival in smtp.handler.arrived] == ["status"]


def test_migrate_leaves_the_outbox_in_place_when_it_cannot_place_a_mail(desk, new_ticket, run):
    ticket = json.loads(run("show", new_ticket()["id"], "--format", "json").stdout)
    (desk / "outbox" / "sent").mkdir(parents=True)
    (desk / "outbox" / "sent" / old_outbox_name(ticket, 1, "created")).write_bytes(b"old")
    (desk / "outbox" / "sent" / "20261123T080000Z-2Q3WG0-RS8EC-001-created.eml").write_bytes(b"not this desk's")
    result = run("notify", "migrate")
    assert result.exit_code == 0, result.output
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert "2Q3WG0-RS8EC" in warning and "left in the outbox" in warning
    assert (desk / "outbox" / "sent").is_dir()
    assert [line["state"] for line in records(desk, ticket["id"])] == ["sent"]  # what it could place, it recorded
    assert set(states(run).values()) == {"sent"}


# --- delivery records sdesk did not write ------------------------------------------------------


def test_garbage_in_a_records_file_is_skipped_and_never_crashes_list_or_send(desk, new_ticket, run, smtp):
    ticket = new_ticket()["id"]
    (key,) = [row["id"] for row in listed(run)]
    path = desk / "deliveries" / f"{ticket}.jsonl"
    garbage = [
        random.Random(15).randbytes(2048),
        b"[1, 2, 3]",
        b'"sent"',
        b"null",
        json.dumps({"mail": key, "state": "delivered"}).encode(),  # no state sdesk writes
        json.dumps({"mail": key, "state": "sent", "at": 12}).encode(),  # not text
        json.dumps({"mail": key, "state": "sent", "detail": "x" * 5000}).encode(),  # longer than sdesk writes
        json.dumps({"mail": "", "state": "sent"}).encode(),
        json.dumps({"mail": key, "state": "parked", "detail": "\x1b[2J\x07"})[:20].encode(),  # torn
        b"\xff\xfe\x00not utf-8",
    ]
    path.write_bytes(b"\n".join(garbage))  # and no line end at the end

    rows = listed(run)
    assert [(row["id"], row["state"]) for row in rows] == [(key, "owed")]
    shown = run("show", ticket)
    assert shown.exit_code == 0 and "not yet mailed" in shown.stdout
    result = send(run, smtp)
    assert result.exit_code == 0, result.output
    assert sent_lines(result.stdout) == [key]
    assert states(run) == {key: "sent"}
    assert path.read_bytes().startswith(garbage[0])  # kept as it was; records follow it on lines of their own
    assert records_of(path)[-1]["state"] == "sent"
    assert send(run, smtp, at="2026-11-23T10:10:00+01:00").stdout == ""
    assert len(smtp.handler.arrived) == 1


def records_of(path: Path) -> list[dict[str, Any]]:
    found = []
    for line in path.read_bytes().splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return [item for item in found if isinstance(item, dict)]


def test_a_records_file_over_4_mb_never_crashes_and_never_resends(desk, new_ticket, run, smtp):
    ticket = new_ticket()["id"]
    other = new_ticket(**BRIGHTWAVE)["id"]
    assert send(run, smtp).exit_code == 0
    path = desk / "deliveries" / f"{ticket}.jsonl"
    with open(path, "ab") as huge:  # sparse: cheap to make, costly to read
        huge.truncate(5 * 1024 * 1024)
    for who in (ticket, other):
        run("comment", who, "Nog iets.", env={"SDESK_NOW": "2026-11-23T10:20:00+01:00"})

    for args in (("notify", "list"), ("notify", "list", "--format", "json"), ("show", ticket)):
        result = run(*args)
        assert "Traceback" not in result.output, args
        assert result.exit_code == 0, (args, result.output)
    result = run("notify", "list", "--format", "json")
    assert [(row["ticket_id"], row["kind"]) for row in json.loads(result.stdout)] == [
        (other, "created"),
        (other, "comment"),
    ]
    assert f"{ticket}.jsonl" in result.stderr and "bytes" in result.stderr  # said, not skipped in silence

    delivered = send(run, smtp, at="2026-11-23T10:25:00+01:00")
    assert "Traceback" not in delivered.output
    assert f"{ticket}.jsonl" in delivered.stderr
    arrived = [(str(arrival.message["X-Sdesk-Ticket"]), kind(arrival.message)) for arrival in smtp.handler.arrived]
    assert sorted(arrived) == sorted([(ticket, "created"), (other, "created"), (other, "comment")])  # none twice
    assert path.stat().st_size == 5 * 1024 * 1024  # not rewritten, not cut


def sdesk_process(desk: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command in a process of its own, as an agent or the runner starts it."""
    environment = {**os.environ, "SDESK_DIR": str(desk), "SDESK_NOW": LATER}
    return subprocess.run(
        [sys.executable, "-m", "sdesk", *args], env=environment, capture_output=True, text=True, timeout=120
    )


def plant_records(desk: Path, ticket: str, key: str, elsewhere: Path, link: str) -> str:
    """Records outside the desk saying the mail went out, reached through a symbolic link a pull could bring."""
    elsewhere.mkdir()
    planted = json.dumps({"mail": key, "state": "sent", "at": NOW, "runner": "x"}) + "\n"
    (elsewhere / f"{ticket}.jsonl").write_text(planted, encoding="utf-8")
    if link == "file":
        (desk / "deliveries" / f"{ticket}.jsonl").symlink_to(elsewhere / f"{ticket}.jsonl")
    else:
        shutil.move(desk / "deliveries" / "baseline.yaml", elsewhere / "baseline.yaml")
        (desk / "deliveries").rmdir()
        (desk / "deliveries").symlink_to(elsewhere)
    return planted


@pytest.mark.parametrize("link", ["file", "folder"])
def test_a_records_file_or_folder_that_is_a_symbolic_link_is_not_followed(desk, new_ticket, run, smtp, tmp_path, link):
    ticket = new_ticket()["id"]
    (key,) = [row["id"] for row in listed(run)]
    elsewhere = tmp_path / "elsewhere"
    planted = plant_records(desk, ticket, key, elsewhere, link)

    listing = sdesk_process(desk, "notify", "list", "--format", "json")
    assert "Traceback" not in listing.stderr and "symbolic link" in listing.stderr
    result = sdesk_process(desk, "notify", "send", "--smtp", smtp.address)
    assert "Traceback" not in result.stderr
    assert "symbolic link" in result.stderr
    assert smtp.handler.arrived == []  # neither trusted as sent nor sent blind
    assert (elsewhere / f"{ticket}.jsonl").read_text(encoding="utf-8") == planted  # not written through
    assert sorted(path.name for path in elsewhere.iterdir()) == sorted(
        [f"{ticket}.jsonl", *(["baseline.yaml"] if link == "folder" else [])]
    )


def test_a_records_folder_that_becomes_a_symbolic_link_while_a_process_runs_is_not_followed(
    desk, new_ticket, run, smtp, tmp_path
):
    ticket = new_ticket()["id"]
    (key,) = [row["id"] for row in listed(run)]  # this process has read deliveries/ once
    plant_records(desk, ticket, key, tmp_path / "elsewhere", "folder")
    result = send(run, smtp)
    assert "symbolic link" in result.stderr


def test_a_broken_ticket_file_is_reported_and_the_other_tickets_mail_still_goes(desk, new_ticket, run, smtp):
    broken = new_ticket()["id"]
    fine = new_ticket(**BRIGHTWAVE)["id"]
    (desk / "tickets" / f"{broken}.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    result = run("notify", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [row["ticket_id"] for row in json.loads(result.stdout)] == [fine]
    assert any(line.startswith(f"Warning: {broken}") for line in result.stderr.splitlines())
    delivered = send(run, smtp)
    assert "Traceback" not in delivered.output
    assert [str(arrival.message["X-Sdesk-Ticket"]) for arrival in smtp.handler.arrived] == [fine]
    assert any(line.startswith(f"Warning: {broken}") for line in delivered.stderr.splitlines())


def test_a_server_that_drips_its_greeting_forever_is_left_within_the_deadline(desk, new_ticket, run):
    """Each line comes before --timeout runs out, so only the deadline of the whole connection ends the wait."""
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def drip() -> None:
        connection, _ = listener.accept()
        with connection:
            while not stop.is_set():
                try:
                    connection.sendall(b"220-still here\r\n")
                except OSError:
                    return
                time.sleep(0.2)

    threading.Thread(target=drip, daemon=True).start()
    new_ticket()
    started = time.monotonic()
    result = run("notify", "send", "--smtp", f"127.0.0.1:{listener.getsockname()[1]}", "--timeout", "0.5")
    stop.set()
    listener.close()
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert "the connection took longer than 2 s" in result.stderr
    assert [row["state"] for row in listed(run)] == ["owed"]


def test_mail_about_an_event_over_a_week_old_is_parked_for_an_agent_not_sent_on_its_own(desk, new_ticket, run, smtp):
    """A runner down for weeks, or a desk address added to rules.yaml later, must not flood customers with old news."""
    new_ticket()
    (key,) = [row["id"] for row in listed(run)]  # the created mail of a ticket opened at NOW
    late = send(run, smtp, at="2026-12-07T10:00:00+01:00")
    assert late.exit_code == 1 and smtp.handler.arrived == []
    assert f"parked {key}: not sent: its event is from 2026-11-23 " in late.stdout
    assert "over 7 days before this delivery (--retry parked sends it)" in late.stdout
    assert states(run) == {key: "parked"}
    assert send(run, smtp, at="2026-12-07T10:05:00+01:00").exit_code == 0  # waiting for an agent: left alone
    retried = send(run, smtp, "--retry", "parked", at="2026-12-07T10:10:00+01:00")
    assert retried.exit_code == 0 and sent_lines(retried.stdout) == [key]
    assert len(smtp.handler.arrived) == 1
