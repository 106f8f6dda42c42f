"""Where received mail comes from: a Maildir on disk, or an IMAP mailbox over TLS.

A message is taken from its mailbox only after the desk recorded it (and,
in a runner, after that record was pushed): :meth:`Incoming.done` is called
then. A crash in between leaves the message where it was; the next fetch
brings it again and the desk recognises it (same Message-ID, same record),
so it is recorded once. A Maildir message moves from ``new/`` to ``cur/``
with the Seen flag in one rename; an IMAP message gets the ``\\Seen`` flag
and the keyword ``$SdeskRecorded`` (the search skips it from then on), or is
moved to a folder.
"""

from __future__ import annotations

import base64
import imaplib
import os
import re
import ssl
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from msgspec import Struct

from sdesk.errors import SdeskError
from sdesk.mail.inbound import MAX_MESSAGE_BYTES

RECORDED = "$SdeskRecorded"
PASSWORD_VARIABLE = "SDESK_IMAP_PASSWORD"
MAX_PER_FETCH = 200  # a cycle takes at most this many; the rest wait for the next
IMAP_TIMEOUT = 60.0
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class Incoming(Struct):
    raw: bytes
    where: str  # for the log: the file or the IMAP uid
    done: Callable[[], None]  # take it out of the mailbox: recorded for good
    too_large: bool = False  # only its start was read: the message is over inbound.MAX_MESSAGE_BYTES


class MailboxError(SdeskError):
    """The mailbox cannot be read (not a Maildir, the IMAP server refused): nothing was taken from it."""


def read_limited(fd: int) -> tuple[bytes, bool]:
    """A message's bytes, and whether it was too large to read whole (then its first megabyte: the headers)."""
    chunks, size = [], 0
    limit = MAX_MESSAGE_BYTES + 1
    while size < limit and (chunk := os.read(fd, min(1 << 20, limit - size))):
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    return (data, False) if size <= MAX_MESSAGE_BYTES else (data[: 1 << 20], True)


def maildir(folder: Path) -> Iterator[Incoming]:
    """The messages in ``folder/new`` (oldest first); done moves each to ``cur`` flagged Seen."""
    new, cur = folder / "new", folder / "cur"
    for place in (new, cur):
        if not place.is_dir() or place.is_symlink():
            raise MailboxError(f"is not a Maildir (it needs new/, cur/ and tmp/ folders): {place} is missing", folder)
    entries = []
    for entry in os.scandir(new):
        if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
            continue  # a link or a folder in new/ is no message a mail server delivered
        entries.append((entry.stat(follow_symlinks=False).st_mtime, entry.name))
    for _, name in sorted(entries)[:MAX_PER_FETCH]:
        path = new / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue  # taken by another reader since the listing
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            raw, too_large = read_limited(fd)
        finally:
            os.close(fd)
        yield Incoming(raw, str(path), _mover(path, cur / f"{name.split(':')[0]}:2,S"), too_large)


def _mover(source: Path, target: Path) -> Callable[[], None]:
    def move() -> None:
        try:
            os.rename(source, target)
        except FileNotFoundError:
            pass  # moved already (a second reader): recorded once all the same
        except OSError as error:
            raise MailboxError(f"cannot move {source.name} to cur/ once recorded: {error.strerror}") from None

    return move


class ImapAccount(Struct, frozen=True):
    host: str
    port: int
    user: str
    folder: str = "INBOX"
    move_to: str | None = None  # a folder recorded mail moves to; else it is flagged where it is
    cafile: str | None = None  # a CA bundle for a server whose certificate is not in the system's store

    def password(self) -> str:
        found = os.environ.get(PASSWORD_VARIABLE)
        if not found:
            raise MailboxError(f"the IMAP password goes in the environment variable {PASSWORD_VARIABLE}")
        return found


@contextmanager
def imap(account: ImapAccount) -> Iterator[Iterator[Incoming]]:
    """A session with the mailbox over TLS, yielding its unrecorded messages (oldest first)."""
    context = ssl.create_default_context(cafile=account.cafile)
    try:
        session = imaplib.IMAP4_SSL(account.host, account.port, ssl_context=context, timeout=IMAP_TIMEOUT)
    except (OSError, ssl.SSLError, imaplib.IMAP4.error) as error:
        raise MailboxError(f"cannot reach IMAP server {account.host}:{account.port}: {_said(error)}") from None
    try:
        try:
            _login(session, account.user, account.password())
            status, _ = session.select(_quoted(account.folder))
            if status != "OK":
                raise MailboxError(f"IMAP folder {account.folder} cannot be opened")
            # A folder to move to that is not there must stop us before anything is recorded, not after.
            if account.move_to and session.status(_quoted(account.move_to), "(MESSAGES)")[0] != "OK":
                raise MailboxError(f"IMAP folder {account.move_to} (--imap-move-to) does not exist: create it first")
        except (imaplib.IMAP4.error, OSError) as error:
            raise MailboxError(f"IMAP {account.host}: {_said(error)}") from None
        yield _messages(session, account)
    finally:
        try:
            session.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _login(session: imaplib.IMAP4, user: str, password: str) -> None:
    """LOGIN for ASCII credentials; AUTHENTICATE PLAIN (UTF-8, RFC 4616) for others, which LOGIN cannot carry."""
    if user.isascii() and password.isascii():
        session.login(user, password)
    else:
        session.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())


def _messages(session: imaplib.IMAP4, account: ImapAccount) -> Iterator[Incoming]:
    try:
        status, data = session.uid("SEARCH", "UNSEEN", "UNKEYWORD", RECORDED, "NOT", "DELETED")
    except (imaplib.IMAP4.error, OSError) as error:
        raise MailboxError(f"IMAP search failed: {_said(error)}") from None
    found = (data[0] or b"").split() if status == "OK" and data else []
    uids = [uid.decode() for uid in found if uid.isdigit()]
    keyword = _keeps_keywords(session)
    for uid in uids[:MAX_PER_FETCH]:
        try:
            fetched = _fetch(session, uid)
        except (imaplib.IMAP4.error, OSError) as error:
            raise MailboxError(f"IMAP fetch of message {uid} failed: {_said(error)}") from None
        if fetched is not None:
            raw, too_large = fetched
            yield Incoming(raw, f"imap uid {uid}", _recorder(session, uid, account, keyword), too_large)


def _fetch(session: imaplib.IMAP4, uid: str) -> tuple[bytes, bool] | None:
    """The message, or only its headers when it is too large to read whole."""
    _, data = session.uid("FETCH", uid, "(RFC822.SIZE)")
    sizes = [_SIZE.search(part) for part in data or [] if isinstance(part, bytes)]
    size = next((int(found.group(1)) for found in sizes if found), 0)
    too_large = size > MAX_MESSAGE_BYTES
    status, data = session.uid("FETCH", uid, "(BODY.PEEK[HEADER])" if too_large else "(BODY.PEEK[])")
    if status != "OK":
        return None
    for part in data or []:
        if isinstance(part, tuple) and len(part) == 2:
            return bytes(part[1]), too_large
    return None


def _keeps_keywords(session: imaplib.IMAP4) -> bool:
    """Does the folder keep a keyword of ours (PERMANENTFLAGS with \\*)? Exchange does not: \\Seen alone then."""
    flags = b" ".join(part for part in session.untagged_responses.get("PERMANENTFLAGS", []) if isinstance(part, bytes))
    return b"\\*" in flags or RECORDED.encode() in flags


def _recorder(session: imaplib.IMAP4, uid: str, account: ImapAccount, keyword: bool) -> Callable[[], None]:
    def recorded() -> None:
        try:
            status, _ = session.uid("STORE", uid, "+FLAGS", f"(\\Seen {RECORDED})" if keyword else "(\\Seen)")
            if status != "OK":
                raise MailboxError(f"IMAP refused to flag message {uid} as read: it would be fetched again")
            if account.move_to:
                status, _ = session.uid("MOVE", uid, _quoted(account.move_to))
                if status != "OK":
                    raise MailboxError(f"IMAP cannot move message {uid} to {account.move_to}")
        except (imaplib.IMAP4.error, OSError) as error:
            raise MailboxError(f"IMAP could not mark message {uid} recorded: {_said(error)}") from None

    return recorded


def _quoted(folder: str) -> str:
    """A folder name as IMAP spells it (RFC 3501 5.1.3: modified UTF-7), quoted."""
    if not folder or any(char in folder for char in '"\\\r\n') or not folder.isprintable():
        raise MailboxError(f"not an IMAP folder name sdesk passes on: {folder!r}")
    spelt, pending = [], ""
    for char in folder + "\0":  # the NUL flushes what is pending; it is never written
        if " " <= char <= "~" or char == "\0":
            if pending:
                coded = base64.b64encode(pending.encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
                spelt.append(f"&{coded}-")
                pending = ""
            if char != "\0":
                spelt.append("&-" if char == "&" else char)
        else:
            pending += char
    return '"' + "".join(spelt) + '"'


def _said(error: BaseException) -> str:
    """What went wrong in words: a certificate's verdict or the system's message, not an error number."""
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        text: object = f"the server's certificate is not trusted ({error.verify_message})"
    elif isinstance(error, OSError) and error.strerror:
        text = error.strerror
    else:
        text = error.args[0] if len(error.args) == 1 else error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())[:300] or type(error).__name__
