"""The desk's outbox: one RFC 5322 file per mail, delivered by `sdesk notify send`.

Layout (README, "Email notifications")::

    outbox/.gitignore     "*": the outbox belongs to this clone and is never committed
    outbox/held/          written by a command before it saves its change; moved on once it did
    outbox/pending/       mail of saved changes, waiting to be sent
    outbox/sending/       claimed by a run; left behind only by a run that was interrupted
    outbox/sent/          delivered
    outbox/parked/        refused for good by the server, or a file sdesk cannot send: waits for an agent
    outbox/log.jsonl      one line per delivery attempt

A message moves between folders by rename, so it is always in exactly one
of them. A command holds its mails before it saves the ticket and releases
them after, so a command killed in between leaves a held mail, never a saved
change without its mail; settling finds out which happened (the ticket has
the event or not) and releases or drops it. A run claims a message before
handing it to the server and files it as sent once the server accepted it; a
failure before the message went out puts it back in pending for the next run,
a permanent (5xx) refusal parks it. A message a killed run left in sending/,
or one the server took without ever confirming it, may or may not have
arrived, so it is never sent again unless asked (``--resend-interrupted``): a
success is never sent twice.

Every file in the outbox is read as untrusted input: no symbolic link is
followed, no more than :data:`MAX_MAIL_BYTES` is read, and a file that is not
a mail sdesk could have written is parked with the reason instead of sent.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import smtplib
import ssl
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.errors import MessageError
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sdesk.errors import InvalidData, Refused, SdeskError, excerpt
from sdesk.formats import files
from sdesk.mail.notifications import is_mailbox, one_line
from sdesk.output import plural
from sdesk.storage.gitrepo import committed_clone_files
from sdesk.storage.store import write_atomic
from sdesk.tickets import ids

FOLDER = "outbox"
if TYPE_CHECKING:
    from sdesk.mail.notifications import Letter

HELD, PENDING, SENDING, SENT, PARKED = "held", "pending", "sending", "sent", "parked"
STATE_NAMES = {HELD: "held", PENDING: "pending", SENDING: "interrupted", SENT: "sent", PARKED: "parked"}
PLAIN, STARTTLS, TLS = "plain", "starttls", "tls"
MAX_SAME_NAME = 100  # copies of one mail name before the outbox gives up
MAX_MAIL_BYTES = 10 * 1024 * 1024  # far above any mail sdesk writes, far below what hurts to read
LOG = "log.jsonl"
MAX_LOG_BYTES = 64 * 1024 * 1024  # years of deliveries
# 5xx replies about the session (login needed, too weak, encryption needed), not the message: the next run
# with the right options sends it, so the mail stays pending instead of parked.
SESSION_REFUSALS = frozenset({530, 534, 538})
_HELD_NAME = re.compile(r"(\d{8}T\d{6}Z)-(\w{6}-\w{5})-(\d{3})-")
_SSL_SOURCE = re.compile(r"\s*\(_ssl\.c:\d+\)")


class Unsendable(SdeskError):
    """A file in the outbox that is not a mail sdesk can send as it is: parked, with this reason."""


class DeliveryFailed(SdeskError):
    """The server did not take this message this time; it stays pending."""


class DeliveryRefused(SdeskError):
    """The server refused this message for good (5xx); it is parked until an agent retries it."""


class DeliveryUncertain(SdeskError):
    """The message went out but the server's verdict never came: it may have arrived, so it is not resent."""


class Transport(Protocol):
    def deliver(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, str]:
        """Hand a message over; returns the recipients the server refused while it took the others.

        Raises DeliveryFailed, DeliveryRefused or DeliveryUncertain when it did not take the message.
        """
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
    last: str  # the last attempt: when it was sent, or why it failed or was parked; else why it cannot be sent
    sendable: bool = True  # False for a file that is not a mail sdesk can send as it is

    def row(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in ("state", "name", "ticket", "kind", "to", "subject", "last")}


@dataclass
class Run:
    """What one `notify send` did, by mail name."""

    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # kept pending for the next run, with why
    parked: list[tuple[str, str]] = field(default_factory=list)  # refused for good or not sendable, with why
    unconfirmed: list[tuple[str, str]] = field(default_factory=list)  # went out without a verdict: left in sending/
    refused: list[tuple[str, str]] = field(default_factory=list)  # sent, but some recipients were refused
    interrupted: list[str] = field(default_factory=list)  # an earlier run left it in sending/
    still_parked: list[str] = field(default_factory=list)  # parked by an earlier run: not tried


@dataclass(frozen=True)
class Outgoing:
    """A stored mail, read and checked: what the envelope and `notify list` need."""

    raw: bytes
    sender: str
    recipients: tuple[str, ...]
    ticket: str
    kind: str
    subject: str


class Outbox:
    def __init__(self, desk_root: Path):
        self.root = desk_root / FOLDER

    def folder(self, state: str) -> Path:
        """A state's folder; neither it nor the outbox may be a symbolic link (a pulled commit could plant one)."""
        path = self.root / state
        for checked in (self.root, path):
            if checked.is_symlink():
                raise InvalidData("is a symbolic link: sdesk keeps mail only in the desk's own outbox", checked)
        return path

    def add(self, letter: Letter, message: EmailMessage, state: str = PENDING) -> Path:
        """Store a letter's message, pending or held; its name sorts by time and says what it is about.

        A name already taken in any state (a ticket file restored from git, then changed
        again in the same second) gets a suffix: no mail replaces another.
        """
        self._prepare()
        stem = f"{letter.at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{letter.ticket}-{letter.event_number:03d}-{letter.kind}"
        for copy in range(1, MAX_SAME_NAME + 1):
            name = f"{stem}.eml" if copy == 1 else f"{stem}-{copy}.eml"
            if any(os.path.lexists(self.folder(other) / name) for other in STATE_NAMES if other != state):
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
        return self._files(HELD)

    def park(self, path: Path, now: datetime, reason: str) -> str:
        """Set a mail aside until an agent retries it (``--retry-parked``); the log says why. Returns its name."""
        parked = self._move(path, PARKED)
        self._log(now, parked.name, "parked", reason)
        return parked.name

    def items(self) -> list[Item]:
        """Every message, oldest first, with its last delivery attempt (or why it cannot be sent)."""
        attempts = self._last_attempts()
        found = []
        for state, shown in STATE_NAMES.items():
            for path in self._files(state):
                last = attempts.get(path.name, "")
                try:
                    mail = _load(path)
                except Unsendable as problem:
                    why = last or f"cannot be sent: {problem.message}"
                    found.append(Item(shown, path.name, "", "", "", "", why, sendable=False))
                    continue
                to = ", ".join(mail.recipients)
                found.append(Item(shown, path.name, mail.ticket, mail.kind, to, mail.subject, last))
        return sorted(found, key=lambda item: item.name)

    def send(
        self,
        connection: AbstractContextManager[Transport],
        now: datetime,
        resend_interrupted: bool = False,
        retry_parked: bool = False,
    ) -> Run:
        """Deliver every pending message over one connection, entered only when there is something to send.

        Nothing is sent while the outbox holds files that came from git (`git add -f` in another clone):
        such mail was written elsewhere, or by someone else entirely.
        """
        planted = [
            found.path
            for found in committed_clone_files(self.root.parent)
            if found.path is not None and self.root in found.path.parents
        ]
        if planted:
            raise Refused(
                f"{plural(len(planted), 'file')} in the outbox came from git, not from this clone: "
                "nothing is sent until they are removed from git (git rm --cached) and checked",
                planted[0],
            )
        with self._exclusive():
            run = Run()
            for path in self._files(PARKED) if retry_parked else []:
                self._move(path, PENDING)
            for path in self._files(SENDING):
                if resend_interrupted:
                    self._move(path, PENDING)
                else:
                    run.interrupted.append(path.name)
            run.still_parked = [path.name for path in self._files(PARKED)]
            ready = []
            for path in self._files(PENDING):
                try:
                    ready.append((path, _load(path)))
                except Unsendable as problem:
                    run.parked.append((self.park(path, now, problem.message), problem.message))
            if ready:
                with connection as transport:
                    for path, mail in ready:
                        self._deliver(path, mail, transport, now, run)
            return run

    def _deliver(self, path: Path, mail: Outgoing, transport: Transport, now: datetime, run: Run) -> None:
        claimed = self._move(path, SENDING)
        try:
            refused = transport.deliver(mail.raw, mail.sender, list(mail.recipients))
        except DeliveryFailed as failure:
            back = self._move(claimed, PENDING)
            self._log(now, back.name, "failed", failure.message)
            run.failed.append((back.name, failure.message))
            return
        except DeliveryRefused as refusal:
            run.parked.append((self.park(claimed, now, refusal.message), refusal.message))
            return
        except DeliveryUncertain as doubt:  # stays in sending/, as if the run had been killed there
            self._log(now, claimed.name, "interrupted", doubt.message)
            run.unconfirmed.append((claimed.name, doubt.message))
            return
        sent = self._move(claimed, SENT)
        detail = ", ".join(address for address in mail.recipients if address not in refused)
        if refused:
            reasons = "; ".join(f"{address}: {reason}" for address, reason in refused.items())
            detail += f"; refused {reasons}"
            run.refused.append((sent.name, reasons))
        self._log(now, sent.name, "sent", detail)
        run.sent.append(sent.name)

    def _files(self, state: str) -> list[Path]:
        folder = self.folder(state)
        return sorted(folder.glob("*.eml")) if folder.is_dir() else []

    def _move(self, path: Path, state: str) -> Path:
        """Rename into another state's folder; a name already there (a stray file's) gets a suffix, never replaced."""
        target = self.folder(state) / path.name
        copy = 1
        while os.path.lexists(target):
            copy += 1
            target = target.with_name(f"{path.stem}-{copy}{path.suffix}")
        os.replace(path, target)
        return target

    def _prepare(self) -> None:
        for state in STATE_NAMES:
            self.folder(state).mkdir(parents=True, exist_ok=True)
        ignore = self.root / ".gitignore"
        if not ignore.is_file() or ignore.is_symlink():  # written atomically: never half, never through a link
            write_atomic(ignore, "# this clone's mail: never committed (sdesk notify)\n*\n")

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
        path = self.root / LOG
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(path, flags, 0o666)
        except OSError as error:
            raise SdeskError(f"cannot write the delivery log: {error.strerror}", path) from None
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InvalidData("is not a regular file: sdesk logs deliveries only to its own file", path)
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _last_attempts(self) -> dict[str, str]:
        path = self.root / LOG
        attempts: dict[str, str] = {}
        if not path.exists():
            return attempts
        text = files.read_bytes(path, None, MAX_LOG_BYTES).decode("utf-8", errors="replace")
        for line in text.splitlines():
            try:
                entry = json.loads(line)
                attempts[entry["mail"]] = f"{entry['outcome']} {entry['at']}" + (
                    f": {entry['detail']}" if entry["outcome"] != "sent" else ""
                )
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by a crash says nothing
        return attempts


def held_event(path: Path) -> tuple[str, int, datetime] | None:
    """The ticket, event number and moment (to the second) a mail's name says it is about; None if it says none."""
    match = _HELD_NAME.match(path.name)
    if match is None or not ids.is_ticket_id(match[2]):
        return None
    try:
        at = datetime.strptime(match[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return match[2], int(match[3]), at


def _load(path: Path) -> Outgoing:
    """A stored mail, checked to be one sdesk can send as it is; Unsendable says why not."""
    raw = _read(path)
    try:
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        senders = _mailboxes(mail, "sender", "From")
        recipients = _mailboxes(mail, "recipient", "To", "Cc")
        ticket, kind, subject = (
            one_line(str(mail.get(key, ""))) for key in ("X-Sdesk-Ticket", "X-Sdesk-Mail", "Subject")
        )
    except (ValueError, LookupError, TypeError, AttributeError, MessageError) as error:  # email's parser on garbage
        raise Unsendable(f"not a mail message: {one_line(str(error))[:200]}") from None
    if len(senders) != 1:
        raise Unsendable("no From address" if not senders else "more than one From address")
    if not recipients:
        raise Unsendable("no recipients (To, Cc)")
    return Outgoing(raw, senders[0], tuple(dict.fromkeys(recipients)), ticket, kind, subject)


def _mailboxes(mail: EmailMessage, role: str, *headers: str) -> list[str]:
    """The mailboxes these headers name; one that sdesk would never have written makes the file unsendable."""
    found = []
    for header in headers:
        for value in mail.get_all(header, []):
            for address in value.addresses:
                if not is_mailbox(address.addr_spec):
                    raise Unsendable(f"the {role} {excerpt(address.addr_spec)} is not one plain email address")
                found.append(address.addr_spec)
    return found


def _read(path: Path) -> bytes:
    """A mail file's bytes, read as an untrusted file (no link followed, at most MAX_MAIL_BYTES); else Unsendable."""
    try:
        return files.read_bytes(path, None, MAX_MAIL_BYTES)
    except SdeskError as error:
        raise Unsendable(error.message) from None


class Smtp:
    """One SMTP session: plain, STARTTLS or implicit TLS, the server's certificate verified; a login if asked.

    A password never crosses the network in clear unless the caller says so
    (``insecure_login``), and that is refused before any connection is made.
    """

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        user: str | None,
        password: str | None,
        timeout: float,
        insecure_login: bool,
    ):
        if user is not None and security == PLAIN and not insecure_login:
            raise Refused(
                f"--user {user} would send its password to {host}:{port} unencrypted: "
                "add --starttls or --tls (--insecure-login if the network is trusted)"
            )
        self.host, self.port, self.security, self.timeout = host, port, security, timeout
        self.user, self.password = user, password
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> Smtp:
        where = f"{self.host}:{self.port}"
        try:
            context = ssl.create_default_context()  # the system's CAs, or the file SSL_CERT_FILE names
            if self.security == TLS:
                self.connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                self.connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == STARTTLS:
                    self.connection.starttls(context=context)
            if self.user is not None:
                self.connection.login(self.user, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            self._close()
            raise SdeskError(f"{where} refused the login of {self.user}: {_reply(error)}") from None
        except ssl.SSLCertVerificationError as error:
            self._close()
            raise SdeskError(
                f"cannot deliver through {where}: its certificate is not trusted ({one_line(error.verify_message)}); "
                "sdesk trusts the system's CAs, or those in the file SSL_CERT_FILE names"
            ) from None
        except ssl.SSLError as error:
            self._close()
            raise SdeskError(f"cannot deliver through {where}: TLS failed: {_reply(error)}") from None
        except (smtplib.SMTPException, OSError) as error:
            self._close()
            raise SdeskError(f"cannot deliver through {where}: {_reply(error)}") from None
        return self

    def __exit__(self, *_: object) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()

    def deliver(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, str]:
        """MAIL, RCPT and DATA one by one, so a failure is known to come before or after the message went out."""
        connection = self.connection
        assert connection is not None
        if connection.sock is None:
            raise DeliveryFailed("not tried: the connection was lost")
        refused: dict[str, tuple[int, bytes]] = {}
        try:
            connection.ehlo_or_helo_if_needed()
            code, text = connection.mail(sender)
            if code != 250:
                raise _refusal(f"sender {sender} refused: {_reply((code, text))}", code)
            for recipient in recipients:
                code, text = connection.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = (code, text)
            if len(refused) == len(recipients):
                everyone = "; ".join(f"{who}: {_reply(reply)}" for who, reply in refused.items())
                raise _refusal(f"recipients refused: {everyone}", *(code for code, _ in refused.values()))
            connection.putcmd("data")
            code, text = connection.getreply()
            if code != 354:
                raise _refusal(f"the server would not take the message: {_reply((code, text))}", code)
            connection.send(_data(raw))
        except (DeliveryFailed, DeliveryRefused):
            self._reset()
            raise
        except (smtplib.SMTPException, OSError) as error:  # the message did not go out whole: the server has nothing
            raise DeliveryFailed(f"not sent: {_reply(error)}") from None
        try:
            code, text = connection.getreply()
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryUncertain(f"the server took the message but never confirmed it: {_reply(error)}") from None
        if 400 <= code < 600:
            raise _refusal(f"message refused: {_reply((code, text))}", code)
        if not 200 <= code < 300:  # a garbled verdict is no verdict, and the session is trusted with no more mail
            connection.close()
            raise DeliveryUncertain(f"the server took the message but answered nonsense: {_reply((code, text))}")
        return {address: _reply(reply) for address, reply in refused.items()}

    def _reset(self) -> None:
        """End a refused transaction (RSET) so the next message starts clean; a connection that fails it is closed."""
        assert self.connection is not None
        try:
            self.connection.rset()
        except (smtplib.SMTPException, OSError):
            self.connection.close()

    def _close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _refusal(reason: str, *codes: int) -> DeliveryFailed | DeliveryRefused:
    """Parked when every reply is a permanent (5xx) refusal of the message, else kept for the next run."""
    permanent = all(500 <= code < 600 and code not in SESSION_REFUSALS for code in codes)
    return DeliveryRefused(reason) if permanent else DeliveryFailed(reason)


def _data(raw: bytes) -> bytes:
    """A message as DATA carries it: CRLF line ends only (no bare CR or LF to smuggle an end), dots doubled."""
    lines = re.sub(rb"\r\n|\r|\n", b"\r\n", raw)
    if not lines.endswith(b"\r\n"):
        lines += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", lines) + b".\r\n"


def _reply(error: Any) -> str:
    """An SMTP reply's code and text, or an OS or TLS error's reason, on one line."""
    if isinstance(error, tuple) and len(error) == 2:
        code, text = error
    else:
        code, text = getattr(error, "smtp_code", None), getattr(error, "smtp_error", None) or str(error)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    words = one_line(_SSL_SOURCE.sub("", str(text))) or type(error).__name__
    return f"{code} {words}" if code else words
