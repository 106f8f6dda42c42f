"""The mail gateway reading a real IMAP mailbox: Dovecot on 127.0.0.1, over TLS only.

One Dovecot serves the module (one per xdist worker, each on a free port),
started in the foreground with a minimal configuration of its own: implicit
TLS with a server certificate a throwaway CA signs (made with the openssl
command), users in a passwd-file, mail in Maildirs. Each test gets an IMAP
user of its own, so the tests share nothing but the server.

Customers' mail arrives the way a mail server files it: an IMAP APPEND. The
desk takes it with `sdesk mail receive --imap` (or `sdesk run --imap`), and
each test checks what a user would: the ticket or the triage entry, the
mail owed, and the message's flags or folder on the server, read in an IMAP
session of the test's own.

Dovecot is Debian's (dovecot-imapd, which .ci/run installs when run as
root); without it the module is skipped, saying why. As root the mail is
kept by the `dovecot` system user (Dovecot refuses uid 0 for mail), in a
folder under the system's temporary folder that user can reach; as anyone
else Dovecot runs as that user, without chroot.
"""

from __future__ import annotations

import base64
import email
import email.policy
import grp
import imaplib
import itertools
import json
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest

from sdesk.mail.inbound import MAX_MESSAGE_BYTES
from tests.conftest import Certificates, Run, isolate_git, make_certificates

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
if not (os.path.isfile(DOVECOT) and os.access(DOVECOT, os.X_OK)):
    pytest.skip(
        f"Dovecot not found at {DOVECOT}: install Debian's dovecot-imapd package "
        "(apt-get install dovecot-imapd, as .ci/run does when run as root)",
        allow_module_level=True,
    )
if shutil.which("openssl") is None:
    pytest.skip("the openssl command is missing: it makes the test CA for the IMAP server", allow_module_level=True)

ELS = "els.vermeulen@zonnebloem.example"  # a reference person of customer zonnebloem (rules.yaml)
STRANGER = "piet.janssens@elders.example"  # nobody the rules know
DESK = "servicedesk@caresolutions.example"  # rules.yaml mail.address: where customers write
RECORDED = "$SdeskRecorded"
PASSWORD = "SDESK_IMAP_PASSWORD"
START_SECONDS = 10.0
SALT = os.urandom(4).hex()  # no test user's password is a constant
# Every IMAP user is in the passwd-file from the start: Dovecot looks at a changed passwd-file at most once a
# second, so a user added just before logging in may not be known yet.
USERS = 100
UTF8_USER, UTF8_PASSWORD = "desk-utf8", "geheim-één-€"
INCIDENT_BODY = (
    "Goedemorgen,\n\nHet zorgdossier van bewoner 1182 opent niet meer sinds vanochtend.\n\n"
    "Product: care-dossier\nVestiging: 2101\n\nMet vriendelijke groeten,\nEls Vermeulen\n"
)


# --- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def password(number: int) -> str:
    return f"secret-{number}-{SALT}"


def mail_owner() -> tuple[int, int, str]:
    """Who owns the mail: as root a system user (Dovecot refuses uid 0 for mail users), else the user running."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.getuid())
        return me.pw_uid, me.pw_gid, me.pw_name
    for name in ("dovecot", "nobody"):
        try:
            found = pwd.getpwnam(name)
        except KeyError:
            continue
        return found.pw_uid, found.pw_gid, name
    pytest.skip("running as root without a `dovecot` or `nobody` user to keep the test mail")


def configuration(folder: Path, port: int, certificates: Certificates) -> str:
    uid, gid, name = mail_owner()
    lines = [
        f"base_dir = {folder / 'run'}",
        f"state_dir = {folder / 'state'}",
        f"log_path = {folder / 'dovecot.log'}",
        f"info_log_path = {folder / 'dovecot.log'}",
        "listen = 127.0.0.1",
        "protocols = imap",
        "ssl = required",
        f"ssl_cert = <{certificates.certificate}",
        f"ssl_key = <{certificates.key}",
        "auth_mechanisms = plain",
        "auth_failure_delay = 0",  # a wrong password is answered at once: the test waits for nothing
        f"first_valid_uid = {uid}",
        f"first_valid_gid = {gid}",
        "mail_location = maildir:~/Maildir",
        "passdb {",
        "  driver = passwd-file",
        f"  args = scheme=PLAIN username_format=%u {folder / 'passwd'}",
        "}",
        "userdb {",
        "  driver = static",
        f"  args = uid={uid} gid={gid} home={folder / 'home'}/%u",
        "}",
        "service imap-login {",
        "  inet_listener imap {",
        "    port = 0",
        "  }",
        "  inet_listener imaps {",
        f"    port = {port}",
        "    ssl = yes",
        "  }",
        "}",
    ]
    # No growing delay after a failed login (anvil's auth penalty): the wrong-password test slows no other.
    anvil = ["service anvil {", "  unix_listener anvil-auth-penalty {", "    mode = 0", "  }", "}"]
    if os.geteuid() != 0:  # Dovecot as an ordinary user: its helpers run as that user, without chroot
        lines += [f"default_internal_user = {name}", f"default_login_user = {name}"]
        lines += [f"default_internal_group = {grp.getgrgid(gid).gr_name}"]
        lines.insert(lines.index("service imap-login {") + 1, "  chroot =")
        anvil.insert(1, "  chroot =")
    return "\n".join([*lines, *anvil]) + "\n"


@dataclass
class Dovecot:
    port: int
    certificates: Certificates
    folder: Path
    numbers: Iterator[int] = field(default_factory=itertools.count)

    @property
    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else "(no log)"

    def new_user(self) -> Mailbox:
        """An IMAP user no test used yet (one of the passwd-file's USERS)."""
        number = next(self.numbers)
        assert number < USERS, f"more than {USERS} IMAP users asked of one server: raise USERS"
        return Mailbox(self, f"desk{number}", password(number))

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificates.ca))


@dataclass
class Mailbox:
    """One IMAP user's mailbox, seen from the test's own IMAP sessions."""

    server: Dovecot
    user: str
    password: str

    @contextmanager
    def session(self) -> Iterator[imaplib.IMAP4_SSL]:
        client = imaplib.IMAP4_SSL("127.0.0.1", self.server.port, ssl_context=self.server.client_context(), timeout=10)
        try:
            # AUTHENTICATE PLAIN, not LOGIN: imaplib sends LOGIN's password as ASCII, PLAIN's as UTF-8
            client.authenticate("PLAIN", lambda _: f"\0{self.user}\0{self.password}".encode())
            yield client
        finally:
            client.logout()

    def append(self, raw: bytes, folder: str = "INBOX") -> str:
        """File a message as a mail server delivers it: unread, no flags. Its UID."""
        with self.session() as client:
            status, data = client.append(quoted(folder), "", None, raw)
            assert status == "OK", data
        said = data[0].decode() if data and isinstance(data[0], bytes) else ""
        return said.split("APPENDUID ", 1)[1].split()[1].rstrip("]") if "APPENDUID" in said else ""

    def create(self, folder: str) -> None:
        with self.session() as client:
            status, data = client.create(quoted(folder))
            assert status == "OK", data

    def flags(self, folder: str = "INBOX") -> dict[str, set[str]]:
        """Each message's flags by UID, read without changing anything (EXAMINE)."""
        with self.session() as client:
            status, data = client.select(quoted(folder), readonly=True)
            assert status == "OK", data
            if data[0] == b"0":
                return {}
            status, data = client.uid("FETCH", "1:*", "(UID FLAGS)")
            assert status == "OK", data
        found = {}
        for line in data:
            text = line.decode() if isinstance(line, bytes) else ""
            if "UID " in text:
                uid = text.split("UID ", 1)[1].split()[0].rstrip(")")
                found[uid] = {flag.decode() for flag in imaplib.ParseFlags(line)} - {"\\Recent"}
        return found

    def unflag(self, uid: str, folder: str = "INBOX") -> None:
        """What a crash between recording and flagging leaves on the server: the message as it came."""
        with self.session() as client:
            client.select(quoted(folder))
            status, data = client.uid("STORE", uid, "-FLAGS", f"(\\Seen {RECORDED})")
            assert status == "OK", data

    def options(self, cafile: bool = True) -> list[str]:
        given = ["--imap", f"127.0.0.1:{self.server.port}", "--imap-user", self.user]
        return [*given, "--imap-cafile", str(self.server.certificates.ca)] if cafile else given

    @property
    def env(self) -> dict[str, str | None]:
        return {PASSWORD: self.password}


def quoted(folder: str) -> str:
    """A folder name as an IMAP argument (imaplib passes it on as it is, spaces and all)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wait_until_serving(process: subprocess.Popen[bytes], server: Dovecot) -> None:
    """Until the port answers TLS with an IMAP greeting; the log tells why when it never does."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited with {process.returncode} at start:\n{server.log}")
        try:
            imaplib.IMAP4_SSL("127.0.0.1", server.port, ssl_context=server.client_context(), timeout=2).logout()
            return
        except (OSError, imaplib.IMAP4.error) as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot does not answer on port {server.port}: {error}\n{server.log}") from None
            time.sleep(0.02)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    """Dovecot in the foreground, for this module, with a configuration and folders of its own."""
    # Not under pytest's tmp_path: its folders are the runner's alone, and Dovecot's auth process and the mail
    # user (not root) must read the passwd-file and write the Maildirs.
    folder = Path(tempfile.mkdtemp(prefix="sdesk-dovecot-"))
    try:
        folder.chmod(0o755)
        (folder / "certificates").mkdir()
        certificates = make_certificates(folder / "certificates")
        uid, gid, _ = mail_owner()
        (folder / "home").mkdir()
        os.chown(folder / "home", uid, gid)
        users = "".join(f"desk{number}:{{PLAIN}}{password(number)}\n" for number in range(USERS))
        (folder / "passwd").write_text(f"{users}{UTF8_USER}:{{PLAIN}}{UTF8_PASSWORD}\n", encoding="utf-8")
        server = Dovecot(free_port(), certificates, folder)
        config = folder / "dovecot.conf"
        config.write_text(configuration(folder, server.port, certificates), encoding="utf-8")
        with (folder / "stderr").open("wb") as stderr:
            process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=stderr, stderr=stderr)
        try:
            wait_until_serving(process, server)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    return dovecot.new_user()


@pytest.fixture(autouse=True)
def trusting_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """sdesk trusts the test CA only through --imap-cafile: nothing in the environment points at it."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv(PASSWORD, raising=False)


# --- messages and what the desk made of them ---------------------------------------------


def letter(
    sender: str = ELS,
    subject: str = "Storing: zorgdossier opent niet",
    body: str = INCIDENT_BODY,
    message_id: str | None = None,
) -> bytes:
    """A customer's mail to the desk, as their mail client sends it."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = f"Care Solutions Service Desk <{DESK}>"
    message["Subject"] = subject
    message["Date"] = "Mon, 23 Nov 2026 09:55:00 +0100"
    message["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2])
    message.set_content(body)
    return message.as_bytes()


def modified_utf7(name: str) -> str:
    """A folder name as IMAP spells it (RFC 3501 5.1.3): ASCII as it is, the rest as &base64-of-UTF-16-."""
    out, pending = [], ""

    def flush() -> None:
        if pending:
            coded = base64.b64encode(pending.encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append(f"&{coded}-")

    for char in name:
        if " " <= char <= "~":
            flush()
            pending = ""
            out.append("&-" if char == "&" else char)
        else:
            pending += char
    flush()
    return "".join(out)


def receive(run: Run, mailbox: Mailbox, *extra: str, cafile: bool = True) -> Any:
    return run("mail", "receive", *mailbox.options(cafile), *extra, env=mailbox.env)


def received_ok(result: Any) -> list[str]:
    """The lines of a receive that must succeed."""
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return [line for line in result.stdout.splitlines() if line]


def tickets(run: Run) -> list[dict[str, Any]]:
    result = run("list", "--all", "--format", "json")
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def one_line_error(result: Any) -> str:
    """The whole of what a failed command says: one `Error:` line, nothing on stdout, no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def desk_files(desk: Path) -> set[str]:
    return {str(path.relative_to(desk)) for path in desk.rglob("*") if path.is_file()}


# --- tests -------------------------------------------------------------------------------


def test_a_reference_persons_mail_opens_a_ticket_and_is_flagged_on_the_server(desk, run, mailbox):
    uid = mailbox.append(letter())
    assert mailbox.flags() == {uid: set()}

    lines = received_ok(receive(run, mailbox))

    [ticket] = tickets(run)
    assert ticket["customer"] == "zonnebloem"
    assert ticket["requester"] == ELS
    assert ticket["type"] == "incident"  # rules.yaml routes "storing" to an incident
    shown = json.loads(run("show", ticket["id"], "--format", "json").stdout)
    assert (shown["product"], shown["site"]) == ("care-dossier", "2101")  # from the Product: and Vestiging: lines
    assert [(event["event"], event["by"]) for event in shown["history"]] == [("created", ELS)]
    assert ticket["title"] == "Storing: zorgdossier opent niet"
    assert len(lines) == 1 and lines[0].startswith("receive: ")
    assert f"from {ELS}: created {ticket['id']}" in lines[0]
    assert mailbox.flags() == {uid: {"\\Seen", RECORDED}}

    again = received_ok(receive(run, mailbox))
    assert again == ["receive: no new mail"]
    assert len(tickets(run)) == 1
    assert mailbox.flags() == {uid: {"\\Seen", RECORDED}}


def test_mail_someone_read_before_the_gateway_is_left_alone(desk, run, mailbox):
    with mailbox.session() as client:  # an old mailbox, connected for the first time: its mail was read
        status, data = client.append("INBOX", "(\\Seen)", None, letter())
        assert status == "OK", data

    assert received_ok(receive(run, mailbox)) == ["receive: no new mail"]
    assert tickets(run) == []


def test_a_strangers_mail_waits_in_triage_and_a_refusal_is_owed_to_the_stranger(desk, run, mailbox):
    uid = mailbox.append(letter(sender=STRANGER, subject="Vraag over jullie software", body="Wat kost het?\n"))

    [line] = received_ok(receive(run, mailbox))

    assert f"from {STRANGER}: triage" in line and "auto-reply owed" in line
    assert tickets(run) == []
    table = run("mail", "triage")
    assert table.exit_code == 0, table.output
    assert STRANGER in table.stdout and "Vraag over jullie software" in table.stdout
    [held] = json.loads(run("mail", "triage", "--format", "json").stdout)
    assert (held["from"], held["reply_owed"]) == (STRANGER, True)
    assert held["reason"] == f"{STRANGER} is not a designated reference person of any customer"
    owed = json.loads(run("notify", "list", "--format", "json").stdout)
    assert [(row["state"], row["kind"], row["to"]) for row in owed] == [("owed", "refused", [STRANGER])]
    assert mailbox.flags() == {uid: {"\\Seen", RECORDED}}  # held in triage is recorded: taken from the mailbox


def test_the_same_message_filed_twice_is_recorded_once_and_both_copies_are_flagged(desk, run, mailbox):
    raw = letter(message_id="<twice.1182@zonnebloem.example>")
    first, second = mailbox.append(raw), mailbox.append(raw)

    lines = received_ok(receive(run, mailbox))

    [ticket] = tickets(run)
    assert len(lines) == 2
    assert f"created {ticket['id']}" in lines[0]
    assert "already received" in lines[1] and ticket["id"] in lines[1]
    assert mailbox.flags() == {first: {"\\Seen", RECORDED}, second: {"\\Seen", RECORDED}}


def test_mail_recorded_but_not_flagged_before_a_crash_is_recognised_and_flagged_again(desk, run, mailbox):
    uid = mailbox.append(letter())
    received_ok(receive(run, mailbox))
    [ticket] = tickets(run)
    kept = desk_files(desk)
    mailbox.unflag(uid)  # the crash: recorded (and committed), never flagged
    assert mailbox.flags() == {uid: set()}

    [line] = received_ok(receive(run, mailbox))

    assert "already received" in line and ticket["id"] in line
    assert [found["id"] for found in tickets(run)] == [ticket["id"]]
    assert desk_files(desk) - kept <= {path for path in desk_files(desk) if path.startswith(".")}
    assert mailbox.flags() == {uid: {"\\Seen", RECORDED}}


def test_recorded_mail_moves_to_the_folder_imap_move_to_names(desk, run, mailbox):
    mailbox.create("Done")
    mailbox.append(letter())
    mailbox.append(letter(sender=STRANGER, subject="Offerte", body="Graag een offerte.\n"))

    lines = received_ok(receive(run, mailbox, "--imap-move-to", "Done"))

    assert len(lines) == 2
    assert len(tickets(run)) == 1
    assert mailbox.flags() == {}
    moved = mailbox.flags("Done")
    assert len(moved) == 2 and all(flags == {"\\Seen", RECORDED} for flags in moved.values())
    assert received_ok(receive(run, mailbox, "--imap-move-to", "Done")) == ["receive: no new mail"]


def test_a_move_to_folder_that_does_not_exist_is_one_error_line_and_loses_nothing(desk, run, mailbox):
    mailbox.append(letter())

    result = receive(run, mailbox, "--imap-move-to", "Afgehandeld")

    line = one_line_error(result)
    assert "Afgehandeld" in line and "does not exist" in line
    assert tickets(run) == []  # refused before anything was recorded or flagged
    mailbox.create("Afgehandeld")
    received_ok(receive(run, mailbox, "--imap-move-to", "Afgehandeld"))
    assert len(tickets(run)) == 1


def test_a_wrong_password_is_one_error_line_naming_the_server_and_takes_nothing(desk, run, mailbox):
    uid = mailbox.append(letter())
    before = desk_files(desk)

    result = run("mail", "receive", *mailbox.options(), env={PASSWORD: "not-the-password"})

    line = one_line_error(result)
    assert "127.0.0.1" in line and "IMAP" in line
    assert "authentication failed" in line.lower()
    assert "not-the-password" not in result.output
    assert desk_files(desk) - before <= {path for path in desk_files(desk) if path.startswith(".")}
    assert tickets(run) == []
    assert mailbox.flags() == {uid: set()}


def test_without_the_password_variable_receive_says_where_it_goes(desk, run, mailbox):
    mailbox.append(letter())

    result = run("mail", "receive", *mailbox.options())

    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    assert PASSWORD in result.stderr
    assert tickets(run) == []


def test_a_server_certificate_nobody_vouches_for_is_refused_and_nothing_is_taken(desk, run, mailbox):
    uid = mailbox.append(letter())
    before = desk_files(desk)

    result = receive(run, mailbox, cafile=False)

    line = one_line_error(result)
    assert f"127.0.0.1:{mailbox.server.port}" in line
    assert desk_files(desk) - before <= {path for path in desk_files(desk) if path.startswith(".")}
    assert tickets(run) == []
    assert mailbox.flags() == {uid: set()}


def test_a_refused_certificate_is_named_as_the_reason(desk, run, mailbox):
    result = receive(run, mailbox, cafile=False)

    assert "certificate" in one_line_error(result).lower()


def test_an_admin_may_trust_the_servers_ca_through_ssl_cert_file(desk, run, mailbox, monkeypatch):
    uid = mailbox.append(letter())
    monkeypatch.setenv("SSL_CERT_FILE", str(mailbox.server.certificates.ca))

    [line] = received_ok(receive(run, mailbox, cafile=False))

    assert "created" in line
    assert mailbox.flags() == {uid: {"\\Seen", RECORDED}}


def test_a_message_over_the_size_limit_is_recorded_from_its_headers_and_flagged(desk, run, mailbox):
    head = letter(body="Zie bijlage.\n").split(b"\r\n\r\n", 1)[0]
    line = b"x" * 998 + b"\r\n"
    uid = mailbox.append(head + b"\r\n\r\n" + line * (MAX_MESSAGE_BYTES // len(line) + 1))

    [said] = received_ok(receive(run, mailbox))

    assert f"from {ELS}: " in said and f"over {MAX_MESSAGE_BYTES // 2**20} MB: only its headers were read" in said
    assert mailbox.flags() == {uid: {"\\Seen", RECORDED}}


def test_a_folder_name_outside_ascii_is_read(desk, run, mailbox):
    folder = "Meldingen Één"
    mailbox.create(modified_utf7(folder))
    uid = mailbox.append(letter(), modified_utf7(folder))

    [line] = received_ok(receive(run, mailbox, "--imap-folder", folder))

    assert "created" in line
    assert mailbox.flags(modified_utf7(folder)) == {uid: {"\\Seen", RECORDED}}


def test_a_password_outside_ascii_logs_in(desk, run, dovecot):
    mailbox = Mailbox(dovecot, UTF8_USER, UTF8_PASSWORD)
    uid = mailbox.append(letter())

    [line] = received_ok(receive(run, mailbox))

    assert "created" in line
    assert mailbox.flags() == {uid: {"\\Seen", RECORDED}}


# --- the runner ----------------------------------------------------------------------------


@pytest.fixture
def in_git(desk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """The desk committed in git, as a runner's clone is; returns a git command in the desk's folder."""
    isolate_git(tmp_path, monkeypatch)

    def git(*args: str, cwd: Path = desk) -> str:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout

    (desk / "tickets" / ".gitkeep").write_text("", encoding="utf-8")  # as sdesk init writes it
    git("init", "-q", "--initial-branch=main")
    git("config", "user.name", "Runner")
    git("config", "user.email", "runner@caresolutions.example")
    git("add", "-A")
    git("commit", "-q", "-m", "the desk")
    return git


def test_a_runner_cycle_receives_before_the_sweep_commits_and_flags(desk, run, mailbox, in_git):
    uid = mailbox.append(letter())

    result = run("run", *mailbox.options(), env=mailbox.env)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    receiving = [index for index, line in enumerate(lines) if line.startswith("receive: ")]
    sweeping = [index for index, line in enumerate(lines) if line.startswith("sweep: ")]
    assert receiving and sweeping and max(receiving) < min(sweeping), result.stdout
    [ticket] = tickets(run)
    assert f"created {ticket['id']}" in lines[receiving[0]]
    assert "sdesk mail: received 1 message (1 created)" in in_git("log", "--format=%s").splitlines()
    assert in_git("status", "--porcelain", "--", "tickets", "inbox", "triage", "deliveries") == ""
    assert mailbox.flags() == {uid: {"\\Seen", RECORDED}}


def test_mail_stays_unflagged_on_the_server_until_the_shared_branch_took_its_record(
    desk, run, mailbox, in_git, tmp_path
):
    origin = tmp_path / "origin.git"
    in_git("init", "-q", "--bare", "--initial-branch=main", str(origin), cwd=tmp_path)
    in_git("remote", "add", "origin", str(origin))
    in_git("push", "-q", "-u", "origin", "main")
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho the shared branch is closed >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    uid = mailbox.append(letter())
    head = in_git("rev-parse", "HEAD")

    refused = run("run", *mailbox.options(), env=mailbox.env)

    assert refused.exit_code == 1, refused.output
    assert "Traceback" not in refused.output
    assert "receive: Warning:" in refused.stdout and "sweep: skipped" in refused.stdout
    assert "origin refused the push" in refused.stderr  # a hook, not another runner: said, not retried
    assert mailbox.flags() == {uid: set()}  # recorded nowhere the team sees: the mailbox keeps it
    # Nothing of the batch stays committed (the runner's own .gitattributes waits for the next push).
    assert in_git("diff", "--name-only", head.strip(), "HEAD").split() in ([], [".gitattributes"])
    assert tickets(run) == []

    hook.unlink()
    result = run("run", *mailbox.options(), env=mailbox.env)

    assert result.exit_code == 0, result.output
    [ticket] = tickets(run)
    assert "sdesk mail: received 1 message (1 created)" in in_git("log", "--format=%s", "origin/main").splitlines()
    assert in_git("ls-tree", "-r", "--name-only", "origin/main", "--", "tickets").count(ticket["id"]) == 1
    assert mailbox.flags() == {uid: {"\\Seen", RECORDED}}
