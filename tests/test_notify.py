"""Mail to customers: which events mail, what the mail says, and delivering the outbox over SMTP.

Decided behaviour (seeds 000-003): creation, every status change, a request for
information, a public comment, reminders, closing (with the satisfaction
survey) and closing by the sweep mail the requester, with the cooperation
contact in Cc (never on the survey). Internal notes, comments recorded from
the customer, time entries, priority changes and SLA breaches never mail.
Delivery goes through a real SMTP server (aiosmtpd) on 127.0.0.1: plain, with
STARTTLS or with implicit TLS (a throwaway CA made by the openssl command, trusted
through SSL_CERT_FILE), answering slowly, refusing for now or for good as a test says.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import json
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

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
TICKET_ARGS = [part for pair in TICKET_DEFAULTS.items() for part in pair]


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


@dataclass(frozen=True)
class Certificates:
    ca: Path  # what SSL_CERT_FILE names for sdesk to trust the server
    certificate: Path  # for 127.0.0.1 (an IP address SAN), signed by the CA
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self.key)
        return context


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A private CA and a server certificate for 127.0.0.1, made with the openssl command once per session."""
    folder = tmp_path_factory.mktemp("certificates")
    key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes".split()

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    ca_extensions = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    openssl(*"req -x509 -days 2 -keyout ca.key -out ca.pem".split(), *key, "-subj", "/CN=sdesk test CA", *ca_extensions)
    openssl(*"req -new -keyout server.key -out server.csr -subj /CN=127.0.0.1".split(), *key)
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n",
        encoding="utf-8",
    )
    openssl(*"x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca.key -out server.pem -extfile server.ext".split())
    return Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")


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


def compose(desk: Path, ticket_id: str, **changes: Any) -> list[bytes]:
    """The mails a public comment sends once a ticket holds ``changes``, composed as every command composes them.

    The ticket is changed in memory, not in its file: ticket validation is not what this tests, mail is.
    """
    from sdesk.mail.holding import Held, hold
    from sdesk.storage.store import Desk
    from sdesk.tickets.model import Event

    store = Desk(desk)
    ticket = dataclasses.replace(store.read(ticket_id), **changes)
    now = datetime.fromisoformat(NOW)
    ticket.history = [*ticket.history, Event(now, "agent@caresolutions.example", "comment", (), "public", "Bekeken.")]
    held = Held()
    hold(store, ticket, ticket.history[-1], now, held)
    return [path.read_bytes() for _, path in held.mails]


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def test_control_characters_in_a_title_or_name_give_a_clean_one_line_subject_and_names(desk, new_ticket):
    ticket_id = cooperation_ticket(new_ticket)
    (raw,) = compose(
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
    before = every_mail(desk)
    with pytest.raises(InvalidData) as refusal:
        compose(desk, ticket_id, **{field: value})
    message = str(refusal.value)
    assert "\n" not in message and "\r" not in message and not CONTROL.search(message), message
    assert ticket_id in message and repr(value)[1:-1][:20] in message, message
    assert every_mail(desk) == before and list((desk / "outbox" / "held").iterdir()) == []


def test_a_sender_in_rules_that_is_not_one_mailbox_stops_the_mail_with_one_clear_line(desk, new_ticket):
    from sdesk.errors import InvalidData
    from sdesk.mail import notifications
    from sdesk.storage.store import Desk

    store = Desk(desk)
    ticket = store.read(new_ticket()["id"])
    rules = dataclasses.replace(store.rules, teams={}, desk_email="service,desk@caresolutions.example")
    with pytest.raises(InvalidData) as refusal:
        notifications.sender(ticket, rules)
    assert ticket.id in str(refusal.value) and "'service,desk@caresolutions.example'" in str(refusal.value)


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
    smtp.handler.refuse[TOM] = "450 4.2.1 mailbox busy, try again later"  # transient

    result = run("notify", "send", "--smtp", smtp.address)
    assert result.exit_code == 1
    assert f"sent {for_els}" in result.stdout
    assert f"kept {for_tom}" in result.stdout and "450" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: 1 mail not delivered (kept in the outbox)"]
    assert mails(desk) == [for_tom]
    assert mails(desk, "sent") == [for_els]
    assert mails(desk, "sending") == []
    assert [arrival.rcpt_tos for arrival in smtp.handler.arrived] == [[ELS]]
    (row,) = json.loads(run("notify", "list", "--pending", "--format", "json").stdout)
    assert (row["name"], row["state"]) == (for_tom, "pending")
    assert row["last"].startswith("failed ") and "450" in row["last"]

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
    smtp.handler.refuse[JAN] = "550 mailbox unavailable"
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
def test_login_over_plain_text_when_explicitly_allowed(desk, new_ticket, run, smtp_with_login):
    server = smtp_with_login
    new_ticket()
    queued = mails(desk)
    plain = ("notify", "send", "--smtp", server.address, "--insecure-login", "--user", "bob")

    wrong = run(*plain, env={"SDESK_SMTP_PASSWORD": "guess"})
    assert wrong.exit_code == 1
    line = one_error_line(wrong.stderr)
    assert "bob" in line and server.address in line
    assert mails(desk) == queued and server.handler.arrived == []

    anonymous = run("notify", "send", "--smtp", server.address)
    assert anonymous.exit_code == 1  # the server wants a login (530): the mail is kept, not parked
    assert mails(desk) == queued and server.handler.arrived == []

    result = run(*plain, env={"SDESK_SMTP_PASSWORD": "s3cret"})
    assert result.exit_code == 0, result.output
    assert server.handler.logins[-1] == (b"bob", b"s3cret")
    assert [str(arrival.message["Message-ID"]) for arrival in server.handler.arrived] == [
        str(read(desk, queued[0], "sent")["Message-ID"])
    ]
    assert mails(desk) == []


def test_help_says_what_a_login_without_tls_risks(run):
    text = " ".join(run("notify", "send", "--help").stdout.split())
    assert "--insecure-login" in text and "--starttls" in text and "--tls" in text and "--timeout" in text
    (risk,) = re.findall(r"--insecure-login (.*?) --timeout", text)
    assert "password" in risk and "anyone" in risk, risk


# --- TLS ---------------------------------------------------------------------------------------


def test_a_login_without_tls_is_refused_before_any_connection_is_made(desk, new_ticket, run, starttls_server):
    server = starttls_server  # it offers STARTTLS: sdesk must still not log in unless told to encrypt
    new_ticket()
    queued = mails(desk)
    before = server.handler.connections
    result = run("notify", "send", "--smtp", server.address, "--user", "bob", env={"SDESK_SMTP_PASSWORD": "s3cret"})
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert "--starttls" in line and "--tls" in line and "--insecure-login" in line, line
    assert server.handler.connections == before, "sdesk connected before it refused"
    assert server.handler.logins == [] and server.handler.arrived == []
    assert mails(desk) == queued


def test_starttls_verifies_the_server_logs_in_and_delivers_encrypted(desk, new_ticket, run, starttls_server, trusted):
    server = starttls_server
    new_ticket()
    (name,) = mails(desk)
    result = run(
        "notify", "send", "--smtp", server.address, "--starttls", "--user", "bob", env={"SDESK_SMTP_PASSWORD": "s3cret"}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"sent {name}"]
    assert server.handler.logins == [(b"bob", b"s3cret")]
    (arrival,) = server.handler.arrived
    assert arrival.encrypted and arrival.rcpt_tos == [ELS]
    assert mails(desk, "sent") == [name]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_verifies_the_server_logs_in_and_delivers_encrypted(desk, new_ticket, run, tls_server, trusted):
    server = tls_server
    new_ticket()
    (name,) = mails(desk)
    result = run(
        "notify", "send", "--smtp", server.address, "--tls", "--user", "bob", env={"SDESK_SMTP_PASSWORD": "s3cret"}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"sent {name}"]
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
    queued = mails(desk)
    address = f"{host}:{server.port}"
    result = run("notify", "send", "--smtp", address, mode, "--user", "bob", env={"SDESK_SMTP_PASSWORD": "s3cret"})
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert address in line and "certificate" in line and problem in line, line
    assert server.handler.logins == [] and server.handler.arrived == []
    assert mails(desk) == queued and mails(desk, "sending") == []


@pytest.mark.parametrize(("mode", "problem"), [("--tls", "TLS failed"), ("--starttls", "STARTTLS")])
def test_tls_asked_of_a_server_that_does_not_speak_it_is_one_error_line(desk, new_ticket, run, smtp, mode, problem):
    new_ticket()
    queued = mails(desk)
    result = run("notify", "send", "--smtp", smtp.address, mode)
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert smtp.address in line and problem in line, line
    assert mails(desk) == queued and smtp.handler.arrived == []


def test_starttls_and_tls_together_is_a_usage_error(desk, run, smtp):
    result = run("notify", "send", "--smtp", smtp.address, "--starttls", "--tls")
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
    first, second = mails(desk)
    answers, why = UNCONFIRMED[answer]
    for key, value in answers.items():
        setattr(smtp.handler, key, value)

    result = run("notify", "send", "--smtp", smtp.address, "--timeout", "0.3")
    assert result.exit_code == 1
    assert len(smtp.handler.arrived) == 1
    assert mails(desk, "sending") == [first]  # may have arrived: treated like a killed run
    assert mails(desk) == [second]  # the connection is gone: the next one waits, untried
    warnings = [line for line in result.stderr.splitlines() if first in line]
    assert len(warnings) == 1 and "may have arrived" in warnings[0] and "--resend-interrupted" in warnings[0]
    assert one_error_line("\n".join(line for line in result.stderr.splitlines() if line.startswith("Error:")))
    rows = {row["name"]: row for row in json.loads(run("notify", "list", "--format", "json").stdout)}
    assert rows[first]["state"] == "interrupted" and why in rows[first]["last"]

    reset(smtp.handler, answers)
    again = run("notify", "send", "--smtp", smtp.address, "--timeout", "0.3")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [f"sent {second}"]
    assert first in again.stderr and "--resend-interrupted" in again.stderr
    assert mails(desk, "sending") == [first]
    ids = [str(read(desk, first, "sending")["Message-ID"]), str(read(desk, second, "sent")["Message-ID"])]
    assert Counter(smtp.handler.ids()) == Counter(ids)  # each exactly once


TRANSIENT = {
    "MAIL FROM answered 451": {"mail_reply": "451 4.3.0 try again later"},
    "RCPT answered 450": {"refuse": {ELS: "450 4.2.1 mailbox busy"}},
    "hang-up at RCPT": {"hang_up_at_rcpt": True},
    "DATA command answered 451": {"data_command_reply": "451 4.3.0 not now"},
    "451 after the message": {"data_reply": "451 4.3.0 queue full, try again later"},
}


@pytest.mark.parametrize("answer", list(TRANSIENT))
def test_a_transient_failure_keeps_the_mail_pending_and_a_later_run_delivers_it_once(
    desk, new_ticket, run, smtp, answer
):
    for key, value in TRANSIENT[answer].items():
        setattr(smtp.handler, key, value)
    new_ticket()
    (name,) = mails(desk)
    result = run("notify", "send", "--smtp", smtp.address)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"kept {name}: ")
    assert "Error: 1 mail not delivered (kept in the outbox)" in result.stderr
    assert mails(desk) == [name] and mails(desk, "sending") == [] and mails(desk, "parked") == []
    assert smtp.handler.arrived == []

    reset(smtp.handler, TRANSIENT[answer])
    retry = run("notify", "send", "--smtp", smtp.address)
    assert retry.exit_code == 0, retry.output
    assert retry.stdout.splitlines() == [f"sent {name}"]
    assert smtp.handler.ids() == [str(read(desk, name, "sent")["Message-ID"])]


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
    new_ticket()
    (name,) = mails(desk)

    result = run("notify", "send", "--smtp", smtp.address)
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"parked {name}: ") and reply in line, line
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: 1 mail not delivered (kept in the outbox)"]
    assert mails(desk) == [] and mails(desk, "sending") == [] and mails(desk, "parked") == [name]
    log = [json.loads(line) for line in (desk / "outbox" / "log.jsonl").read_text().splitlines()]
    assert [(entry["mail"], entry["outcome"]) for entry in log] == [(name, "parked")]
    assert reply in log[0]["detail"]
    (row,) = json.loads(run("notify", "list", "--pending", "--format", "json").stdout)
    assert (row["name"], row["state"]) == (name, "parked") and reply in row["last"]
    table = run("notify", "list")
    assert "parked" in table.stdout and reply in table.stderr and "--retry-parked" in table.stderr

    connections = smtp.handler.connections
    again = run("notify", "send", "--smtp", smtp.address)
    assert again.exit_code == 0, again.output
    assert again.stdout == "" and smtp.handler.connections == connections  # not tried again
    assert "parked" in again.stderr and "--retry-parked" in again.stderr

    reset(smtp.handler, answers)
    retry = run("notify", "send", "--smtp", smtp.address, "--retry-parked")
    assert retry.exit_code == 0, retry.output
    assert retry.stdout.splitlines() == [f"sent {name}"]
    assert mails(desk, "parked") == [] and mails(desk, "sent") == [name]
    assert smtp.handler.ids() == [str(read(desk, name, "sent")["Message-ID"])]


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
    result = run("new", *TICKET_ARGS)
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


# --- files in the outbox that sdesk did not write ----------------------------------------------


def stray(folder: Path, tmp_path: Path) -> dict[str, str]:
    """Put things sdesk never writes in an outbox folder; returns each name and a word its reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "garbage.eml").write_bytes(random.Random(15).randbytes(4096))
    (folder / "no-from.eml").write_bytes(f"To: {ELS}\r\nSubject: hello\r\n\r\nHello\r\n".encode())
    (folder / "no-recipients.eml").write_bytes(f"From: {SERVICEDESK}\r\nSubject: hello\r\n\r\nHello\r\n".encode())
    (folder / "no-domain.eml").write_bytes(f"From: {SERVICEDESK}\r\nTo: {ELS}, els\r\n\r\nHello\r\n".encode())
    with open(folder / "huge.eml", "wb") as huge:  # 50 MB, sparse: cheap to make, costly to read
        huge.write(f"From: {SERVICEDESK}\r\nTo: {ELS}\r\nSubject: huge\r\n\r\n".encode())
        huge.truncate(50 * 1024 * 1024)
    secret = tmp_path / "secret.eml"  # a real-looking mail outside the outbox
    secret.write_bytes(f"From: {SERVICEDESK}\r\nTo: evil@attacker.example\r\nSubject: key\r\n\r\nPRIVATE\r\n".encode())
    (folder / "link.eml").symlink_to(secret)
    (folder / "folder.eml").mkdir()
    return {
        "garbage.eml": "From",
        "no-from.eml": "From",
        "no-recipients.eml": "recipient",
        "no-domain.eml": "'els'",
        "huge.eml": "bytes",
        "link.eml": "symbolic link",
        "folder.eml": "directory",
    }


def test_stray_files_in_the_outbox_are_parked_with_their_reason_and_the_real_mail_still_goes(
    desk, new_ticket, run, smtp, tmp_path
):
    new_ticket()
    (real,) = mails(desk)
    strays = stray(desk / "outbox" / "pending", tmp_path)

    listed = run("notify", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {real, *strays}
    for name, word in strays.items():
        assert rows[name]["state"] == "pending" and word in rows[name]["last"], rows[name]
    table = run("notify", "list")
    assert table.exit_code == 0, table.output
    for name, word in strays.items():  # the table has no room for why: it follows on stderr
        (line,) = [line for line in table.stderr.splitlines() if line.startswith(f"{name}: ")]
        assert "cannot be sent" in line and word in line, line

    result = run("notify", "send", "--smtp", smtp.address)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    parked = dict(line.split(": ", 1) for line in result.stdout.splitlines() if line.startswith("parked "))
    assert {name.removeprefix("parked ") for name in parked} == set(strays)
    for name, word in strays.items():
        assert word in parked[f"parked {name}"], (name, parked[f"parked {name}"])
    assert f"sent {real}" in result.stdout.splitlines()
    assert one_error_line("\n".join(line for line in result.stderr.splitlines() if line.startswith("Error:")))
    assert [arrival.rcpt_tos for arrival in smtp.handler.arrived] == [[ELS]]  # nothing for the attacker
    assert mails(desk) == [] and mails(desk, "sending") == [] and mails(desk, "sent") == [real]
    assert sorted(path.name for path in (desk / "outbox" / "parked").iterdir()) == sorted(strays)
    assert (tmp_path / "secret.eml").read_bytes().endswith(b"PRIVATE\r\n")  # the link was moved, not its target

    rows = {row["name"]: row for row in json.loads(run("notify", "list", "--format", "json").stdout)}
    for name, word in strays.items():
        assert rows[name]["state"] == "parked" and word in rows[name]["last"], rows[name]
    again = run("notify", "send", "--smtp", smtp.address)
    assert again.exit_code == 0, again.output
    assert again.stdout == "" and len(smtp.handler.arrived) == 1


def test_strays_left_in_sending_or_held_neither_crash_nor_stick(desk, new_ticket, run, smtp, tmp_path):
    new_ticket()
    (real,) = mails(desk)
    interrupted = stray(desk / "outbox" / "sending", tmp_path)
    held = desk / "outbox" / "held" / "junk.eml"  # a held mail whose name says no ticket change
    held.write_bytes(b"junk")
    os.utime(held, (1_700_000_000, 1_700_000_000))

    listed = run("notify", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert "junk.eml" in listed.stderr and "parked" in listed.stderr
    states = {row["name"]: row["state"] for row in json.loads(listed.stdout)}
    assert states == {real: "pending", "junk.eml": "parked", **dict.fromkeys(interrupted, "interrupted")}

    result = run("notify", "send", "--smtp", smtp.address)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"sent {real}"]
    assert all(name in result.stderr for name in interrupted)  # reported as interrupted, left alone

    resend = run("notify", "send", "--smtp", smtp.address, "--resend-interrupted")
    assert resend.exit_code == 1
    assert sorted(line.split(":")[0] for line in resend.stdout.splitlines()) == [
        f"parked {name}" for name in sorted(interrupted)
    ]
    assert mails(desk, "sending") == [] and not list((desk / "outbox" / "sending").iterdir())
    assert len(smtp.handler.arrived) == 1


@pytest.mark.parametrize("link", ["outbox", "outbox/pending"])
def test_an_outbox_folder_that_is_a_symbolic_link_is_refused_not_followed(desk, new_ticket, run, tmp_path, link):
    new_ticket()
    elsewhere = tmp_path / "elsewhere"
    shutil.move(desk / link, elsewhere)
    (desk / link).symlink_to(elsewhere)  # as a pulled commit could plant it
    before = sorted(path.name for path in elsewhere.rglob("*"))
    for args in [("notify", "list"), ("notify", "send", "--smtp", "127.0.0.1:1"), ("new", *TICKET_ARGS)]:
        result = run(*args)
        assert result.exit_code == 1, args
        assert "symbolic link" in one_error_line(result.stderr), args
    assert sorted(path.name for path in elsewhere.rglob("*")) == before
    assert len(list((desk / "tickets").rglob("*.yaml"))) == 1  # the new ticket was not saved without its mail
