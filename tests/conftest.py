"""Shared fixtures: every test gets its own desk, clock and agent."""

from __future__ import annotations

import json
import ssl
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from sdesk.cli import main

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T10:00:00+01:00"
AGENT = "agent@caresolutions.example"
# A test that needs this repository's git history (pre-commit installs from it) skips in an unpacked sdist.
needs_git_checkout = pytest.mark.skipif(
    not (REPO / ".git").exists(), reason="needs sdesk's own git checkout, and this is an unpacked sdist"
)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the clock and the agent; keep the user's desk, git identity and pager out."""
    for name in ("SDESK_DIR", "SDESK_USER", "SDESK_NOW", "GIT_DIR", "EDITOR", "VISUAL", "SDESK_PAGER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAGER", "cat")  # no less waiting for a key on a test's terminal; pager tests name theirs
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("SDESK_NOW", NOW)
    monkeypatch.setenv("SDESK_USER", AGENT)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(tmp_path)


def example_rules_text(agents: bool = False) -> str:
    """The example desk's rules.yaml; without its agents unless asked, so a test may act as anyone
    (tests/test_agents.py tests a desk that declares them)."""
    text = (REPO / "rules.yaml").read_text(encoding="utf-8")
    if agents:
        return text
    start = text.index("\nagents:\n")
    end = text.index("\n", text.index("\nundeclared_agents:", start) + 1)
    return text[:start] + text[end:]


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty desk with the example desk's rules.yaml (without its agents), selected through SDESK_DIR."""
    root = tmp_path / "desk"
    (root / "tickets").mkdir(parents=True)
    (root / "rules.yaml").write_text(example_rules_text(), encoding="utf-8")
    (root / "deliveries").mkdir()  # as sdesk init writes it: every event's mail is owed
    (root / "deliveries" / "baseline.yaml").write_text("commit: none\n", encoding="utf-8")
    monkeypatch.setenv("SDESK_DIR", str(root))
    return root


Run = Callable[..., Result]


def png(width: int = 1, height: int = 1, rgb: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    """A real PNG of one colour (8-bit RGB, not interlaced): a screenshot as small as one gets."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def owed_mail(desk_root: Path) -> dict[str, EmailMessage]:
    """Every mail the desk's history owes and the runner has not sent, by its key (TICKET.EVENT.KIND)."""
    from sdesk.actions.owing import history_mail
    from sdesk.mail import compose
    from sdesk.storage.store import Desk

    found = Desk(desk_root)
    items, problems = history_mail(found)
    assert problems == []
    templates = compose.Templates(found.root, found.rules.timezone)
    return {item.letter.key: compose.message(item.letter, templates) for item in items if item.state != "sent"}


def ok(result: Result) -> str:
    """The output of a command that must succeed."""
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return str(result.stdout)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Move the desk's clock: at("2026-11-23 10:00") is that moment in Brussels in winter (+01:00)."""

    def set_now(moment: str) -> None:
        if len(moment) == 16:
            moment = moment.replace(" ", "T") + ":00+01:00"
        monkeypatch.setenv("SDESK_NOW", moment)

    return set_now


@pytest.fixture
def run() -> Run:
    """Invoke the CLI in-process: run("list", "--all", input=...)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str | None] | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


def every_command(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command and subcommand, loading the lazily registered ones as `sdesk CMD` does."""
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from every_command(command, prefix + (name,))


TICKET_DEFAULTS = {
    "--title": "Zorgdossier opent niet",
    "--type": "incident",
    "--customer": "zonnebloem",
    "--requester": "els.vermeulen@zonnebloem.example",
    "--product": "care-dossier",
    "--site": "2101",
    "--description": "Het zorgdossier van bewoner 1182 opent niet meer.",
}


@pytest.fixture
def new_ticket(run: Run) -> Callable[..., dict[str, Any]]:
    """Create a ticket through the CLI and return it as JSON."""

    def create(*extra: str, **options: str) -> dict[str, Any]:
        values = dict(TICKET_DEFAULTS)
        values.update({f"--{key.replace('_', '-')}": value for key, value in options.items()})
        args = ["new", "--format", "json", *[part for pair in values.items() for part in pair], *extra]
        result = run(*args)
        assert result.exit_code == 0, result.output
        ticket: dict[str, Any] = json.loads(result.stdout)
        return ticket

    return create


GIT_VARIABLES = (
    "XDG_CONFIG_HOME",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
)


def isolate_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git never looks above tmp_path and reads no user's config, wherever the tests run."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in GIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@dataclass(frozen=True)
class Certificates:
    ca: Path  # what sdesk is told to trust (SSL_CERT_FILE, --imap-cafile)
    certificate: Path  # for 127.0.0.1 (an IP address SAN), signed by the CA
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self.key)
        return context


def make_certificates(folder: Path) -> Certificates:
    """A private CA and a server certificate for 127.0.0.1, made with the openssl command (for SMTP and IMAP)."""
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


@contextmanager
def held_by_another_process(path: Path) -> Iterator[None]:
    """The lock as any other program takes it (flock on the file), until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield
    finally:
        holder.communicate("")


HOLD_LOCK = (
    "import fcntl, sys\n"
    "f = open(sys.argv[1], 'a')\n"
    "fcntl.flock(f, fcntl.LOCK_EX)\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)
