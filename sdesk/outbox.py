"""The desk's outbox: one RFC 5322 file per mail, delivered by `sdesk notify send`.

Layout (README, "Email notifications")::

    outbox/.gitignore     "*": the outbox belongs to this clone and is never committed
    outbox/held/          written by a command before it saves its change; moved on once it did
    outbox/pending/       mail of saved changes, waiting to be sent
    outbox/sending/       claimed by a run; left behind only by a run that was interrupted
    outbox/sent/          delivered
    outbox/log.jsonl      one line per delivery attempt

A message moves between folders by rename, so it is always in exactly one
of them. A command holds its mails before it saves the ticket and releases
them after, so a command killed in between leaves a held mail, never a saved
change without its mail; settling finds out which happened (the ticket has
the event or not) and releases or drops it. A run claims a message before handing it to the server and files it
as sent once the server accepted it; a refusal puts it back in pending for the
next run. A message a killed run left in sending/ may or may not have
arrived, so it is never sent again unless asked (``--resend-interrupted``):
a success is never sent twice.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sdesk.errors import Refused, SdeskError
from sdesk.store import write_atomic

FOLDER = "outbox"
if TYPE_CHECKING:
    from sdesk.notifications import Letter

HELD, PENDING, SENDING, SENT = "held", "pending", "sending", "sent"
STATE_NAMES = {HELD: "held", PENDING: "pending", SENDING: "interrupted", SENT: "sent"}
SMTP_TIMEOUT_SECONDS = 30
MAX_SAME_NAME = 100  # copies of one mail name before the outbox gives up


class DeliveryFailed(SdeskError):
    """The server did not take this message; it stays pending."""


class Transport(Protocol):
    def deliver(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, str]:
        """Hand a message over; returns the recipients the server refused while it took the others."""
        ...


@dataclass(frozen=True)
class Item:
    """A message in the outbox as `notify list` shows it."""

    state: str
    name: str
    ticket: str
    kind: str
    to: str
    subject: str
    last: str  # the last attempt: when it was sent, or why it failed

    def row(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in ("state", "name", "ticket", "kind", "to", "subject", "last")}


@dataclass
class Run:
    sent: list[str]
    failed: list[tuple[str, str]]
    interrupted: list[str]
    refused: list[tuple[str, str]]  # sent, but some recipients were refused: never resent to the others


class Outbox:
    def __init__(self, desk_root: Path):
        self.root = desk_root / FOLDER

    def folder(self, state: str) -> Path:
        return self.root / state

    def add(self, letter: Letter, message: EmailMessage, state: str = PENDING) -> Path:
        """Store a letter's message, pending or held; its name sorts by time and says what it is about.

        A name already taken in any state (a ticket file restored from git, then changed
        again in the same second) gets a suffix: no mail replaces another.
        """
        self._prepare()
        stem = f"{letter.at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{letter.ticket}-{letter.event_number:03d}-{letter.kind}"
        for copy in range(1, MAX_SAME_NAME + 1):
            name = f"{stem}.eml" if copy == 1 else f"{stem}-{copy}.eml"
            if any((self.folder(other) / name).exists() for other in STATE_NAMES if other != state):
                continue
            try:
                path = self.folder(state) / name
                write_atomic(path, message.as_bytes(policy=email.policy.SMTP), exclusive=True)
                return path
            except FileExistsError:
                continue
        raise SdeskError(f"outbox: {MAX_SAME_NAME} mails named {stem} already", self.folder(state))

    def release(self, path: Path) -> None:
        """A held mail's change is saved: it waits to be sent."""
        os.replace(path, self.folder(PENDING) / path.name)

    def held(self) -> list[Path]:
        folder = self.folder(HELD)
        return sorted(folder.glob("*.eml")) if folder.is_dir() else []

    def items(self) -> list[Item]:
        """Every message, oldest first, with its last delivery attempt."""
        attempts = self._last_attempts()
        found = []
        for state in STATE_NAMES:
            folder = self.folder(state)
            for path in folder.glob("*.eml") if folder.is_dir() else []:
                mail = _read(path)
                found.append(
                    Item(
                        state=STATE_NAMES[state],
                        name=path.name,
                        ticket=str(mail.get("X-Sdesk-Ticket", "")),
                        kind=str(mail.get("X-Sdesk-Mail", "")),
                        to=", ".join(address for _, address in _recipients(mail)),
                        subject=str(mail.get("Subject", "")),
                        last=attempts.get(path.name, ""),
                    )
                )
        return sorted(found, key=lambda item: item.name)

    def send(
        self, connect: Callable[[], AbstractContextManager[Transport]], now: datetime, resend_interrupted: bool = False
    ) -> Run:
        """Deliver every pending message over one connection (``connect()`` opens it)."""
        with self._exclusive():
            interrupted = sorted(self.folder(SENDING).glob("*.eml"))
            if resend_interrupted:
                for path in interrupted:
                    os.replace(path, self.folder(PENDING) / path.name)
                interrupted = []
            run = Run([], [], [path.name for path in interrupted], [])
            pending = sorted(self.folder(PENDING).glob("*.eml"))
            if not pending:
                return run
            with connect() as transport:
                for path in pending:
                    self._deliver(path, transport, now, run)
            return run

    def _deliver(self, path: Path, transport: Transport, now: datetime, run: Run) -> None:
        claimed = self.folder(SENDING) / path.name
        os.replace(path, claimed)
        raw = claimed.read_bytes()
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        recipients = [address for _, address in _recipients(mail)]
        sender = getaddresses([str(mail.get("From", ""))])[0][1]
        try:
            refused = transport.deliver(raw, sender, recipients)
        except DeliveryFailed as failure:
            os.replace(claimed, path)
            self._log(now, path.name, "failed", failure.message)
            run.failed.append((path.name, failure.message))
            return
        os.replace(claimed, self.folder(SENT) / path.name)
        accepted = [address for address in recipients if address not in refused]
        detail = ", ".join(accepted)
        if refused:
            reasons = "; ".join(f"{address}: {reason}" for address, reason in refused.items())
            detail += f"; refused {reasons}"
            run.refused.append((path.name, reasons))
        self._log(now, path.name, "sent", detail)
        run.sent.append(path.name)

    def _prepare(self) -> None:
        for state in STATE_NAMES:
            self.folder(state).mkdir(parents=True, exist_ok=True)
        ignore = self.root / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# this clone's mail: never committed (sdesk notify)\n*\n", encoding="utf-8")

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        self._prepare()
        try:
            with FileLock(str(self.root / ".send.lock"), timeout=0):
                yield
        except Timeout:
            raise Refused("another sdesk notify send is delivering this outbox; try again when it is done") from None

    def _log(self, now: datetime, name: str, outcome: str, detail: str) -> None:
        line = json.dumps({"at": now.isoformat(), "mail": name, "outcome": outcome, "detail": detail})
        with open(self.root / "log.jsonl", "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _last_attempts(self) -> dict[str, str]:
        path = self.root / "log.jsonl"
        attempts: dict[str, str] = {}
        if not path.exists():
            return attempts
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
                attempts[entry["mail"]] = f"{entry['outcome']} {entry['at']}" + (
                    f": {entry['detail']}" if entry["outcome"] == "failed" else ""
                )
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by a crash says nothing
        return attempts


def held_event(path: Path) -> tuple[str, int, datetime]:
    """The ticket, event number and moment (to the second) a mail's name says it is about."""
    stamp, time_part, random_part, number = path.name.split("-")[:4]
    return f"{time_part}-{random_part}", int(number), datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _read(path: Path) -> EmailMessage:
    with open(path, "rb") as handle:
        parsed: EmailMessage = email.message_from_binary_file(handle, policy=email.policy.default)
    return parsed


def _recipients(mail: EmailMessage) -> list[tuple[str, str]]:
    return getaddresses([str(value) for key in ("To", "Cc") for value in mail.get_all(key, [])])


class Smtp:
    """One SMTP session: plain, or upgraded with STARTTLS; login when a user is given."""

    def __init__(self, host: str, port: int, starttls: bool, user: str | None, password: str | None):
        self.host, self.port, self.starttls, self.user, self.password = host, port, starttls, user, password
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> Smtp:
        where = f"{self.host}:{self.port}"
        try:
            self.connection = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
            if self.starttls:
                self.connection.starttls(context=ssl.create_default_context())
            if self.user is not None:
                self.connection.login(self.user, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise SdeskError(f"{where} refused the login of {self.user}: {_reply(error)}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise SdeskError(f"cannot deliver through {where}: {_reply(error)}") from None
        return self

    def __exit__(self, *_: object) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()

    def deliver(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, str]:
        assert self.connection is not None
        try:
            refused = self.connection.sendmail(sender, recipients, raw)
            return {address: _reply(reply) for address, reply in refused.items()}
        except smtplib.SMTPRecipientsRefused as error:
            everyone = "; ".join(f"{who}: {_reply(reply)}" for who, reply in error.recipients.items())
            raise DeliveryFailed(f"recipients refused: {everyone}") from None
        except smtplib.SMTPServerDisconnected as error:
            raise DeliveryFailed(f"the server hung up: {error}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(_reply(error)) from None


def _reply(error: Any) -> str:
    """An SMTP error's code and text, or an OS error's reason, on one line."""
    if isinstance(error, tuple) and len(error) == 2:
        code, text = error
    else:
        code, text = getattr(error, "smtp_code", None), getattr(error, "smtp_error", None) or str(error)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    words = " ".join(str(text).split()) or type(error).__name__
    return f"{code} {words}" if code else words
