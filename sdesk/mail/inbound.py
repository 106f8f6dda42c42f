"""A received message read as untrusted input: who sent it, what it answers, its text and its files. Pure.

Everything here is bounded: the size of the message, how deep its parts
nest, how many parts and recipients are looked at, how much text is kept.
Nothing a stranger writes may raise; what cannot be read is said in
``problems`` and the message is still accounted for.

Headers are decoded once, and only the address inside the angle brackets
counts: an encoded word or a quoted display name that looks like a
reference person's address (``"els@zonnebloem.example" <x@evil.example>``)
names nobody. A From the two parsers of Python's email package read
differently, or that holds more than one mailbox, names nobody either.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from collections.abc import Iterator
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses

from msgspec import Struct

from sdesk.mail import quoting
from sdesk.mail.notifications import is_mailbox, one_line

MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # beyond what any mail server passes on; not parsed at all
MAX_PARTS = 100
MAX_DEPTH = 8
MAX_HEADER_CHARS = 16_000  # of one header: 10,000 recipients are not read one by one
MAX_ADDRESSES = 50
MAX_TEXT_CHARS = 100_000
MAX_IDS = 30  # message ids read from In-Reply-To and References
MAX_FROM_CHARS = 1000  # one mailbox and its name: more is a trick on the address parser's recursion
MAX_PARAMETER_HEADER = 2000  # a Content-Type longer than this is not parsed for parameters (quadratic in Python)
_MESSAGE_ID = re.compile(r"<([\x21-\x3b\x3d\x3f-\x7e]{1,250})>")  # printable ASCII without < > or space
MAX_BOUNDARIES = 4 * MAX_PARTS
# Headers servers add in transit: a message delivered again differs in them alone.
_TRACE = {
    b"received",
    b"return-path",
    b"delivered-to",
    b"x-original-to",
    b"authentication-results",
    b"arc-seal",
    b"arc-message-signature",
    b"arc-authentication-results",
    b"x-spam-status",
    b"x-spam-score",
}
_AUTOMATIC_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
_DAEMONS = ("mailer-daemon", "postmaster")


class Attachment(Struct, frozen=True):
    name: str  # as the sender named it (decoded, not yet made safe)
    content_type: str
    data: bytes


class Inbound(Struct, frozen=True):
    key: str  # what names the message however often it arrives: its Message-ID, else a digest of its content
    message_id: str | None
    sender: str | None  # the one mailbox in From, None when there is not exactly one
    sender_name: str
    to: tuple[str, ...]  # To, Delivered-To and X-Original-To: where a plus address names a ticket
    cc: tuple[str, ...]
    subject: str
    answers: tuple[str, ...]  # the message ids In-Reply-To and References name
    text: str  # the whole text (HTML made readable), quotes and signature still in
    attachments: tuple[Attachment, ...]
    automatic: str | None  # why this is machine mail that is never answered (RFC 3834 and list headers)
    authentication: tuple[str, ...]  # Authentication-Results headers as the receiving servers wrote them
    problems: tuple[str, ...]
    size: int

    @property
    def record_id(self) -> str:
        """The message's name in the desk (inbox/ and triage/): short, and the same in every clone."""
        return "m-" + hashlib.sha256(self.key.encode("utf-8", "replace")).hexdigest()[:16]

    @property
    def digest(self) -> str:
        """What the message says, however it travelled (line ends, trace headers): tells a re-delivery from
        another message under the same Message-ID."""
        content = hashlib.sha256()
        for part in (self.sender or "", self.subject, self.text.replace("\r\n", "\n")):
            content.update(part.encode("utf-8", "replace") + b"\0")
        for attachment in self.attachments:
            content.update(hashlib.sha256(attachment.data).digest())
        return content.hexdigest()[:16]

    @property
    def truncated(self) -> bool:
        return any("only its headers were read" in problem for problem in self.problems)


def parse(raw: bytes, too_large: bool = False) -> Inbound:
    """Read one RFC 5322 message (``too_large``: only its start came); never raises on what a sender wrote."""
    try:
        return _parse(raw, too_large)
    except Exception as error:  # noqa: BLE001 - a parser's surprise must not stop the mailbox behind this message
        key = "sha256:" + hashlib.sha256(_without_trace(raw)).hexdigest()
        problem = f"not a readable message ({type(error).__name__})"
        return Inbound(key, None, None, "", (), (), "", (), "", (), None, (), (problem,), len(raw))


def _parse(raw: bytes, too_large: bool) -> Inbound:
    problems: list[str] = []
    if too_large or len(raw) > MAX_MESSAGE_BYTES:
        problems.append(f"the message is over {MAX_MESSAGE_BYTES // 2**20} MB: only its headers were read")
        raw = _headers_only(raw)
    elif raw.count(b"\n--") > MAX_BOUNDARIES:  # each boundary costs the parser a part: millions cost gigabytes
        problems.append(f"the message has over {MAX_BOUNDARIES:,} MIME boundaries: only its headers were read")
        raw = _headers_only(raw)
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except (RecursionError, ValueError, TypeError, LookupError, MessageError) as error:
        problems.append(f"not a readable message ({type(error).__name__})")
        message = email.message_from_bytes(b"", policy=email.policy.compat32)
    if message.defects:
        problems.append("malformed MIME: " + ", ".join(sorted({type(d).__name__ for d in message.defects}))[:300])
    sender, sender_name = _sender(message, problems)
    texts: list[str] = []
    attachments: list[Attachment] = []
    for part in _parts(message, problems):
        _read_part(part, texts, attachments, problems)
    text = "\n\n".join(texts)
    if len(text) > MAX_TEXT_CHARS:
        problems.append(f"the text was cut at {MAX_TEXT_CHARS:,} characters")
        text = text[:MAX_TEXT_CHARS]
    message_id = _ids(_header(message, "Message-ID"))[:1]
    subject = one_line(_decoded(_header(message, "Subject")))[:500]
    key = f"<{message_id[0]}>" if message_id else "sha256:" + hashlib.sha256(_without_trace(raw)).hexdigest()
    return Inbound(
        key=key,
        message_id=f"<{message_id[0]}>" if message_id else None,
        sender=sender,
        sender_name=sender_name,
        to=_addresses(message, ("To", "Delivered-To", "X-Original-To")),
        cc=_addresses(message, ("Cc",)),
        subject=subject,
        answers=tuple(f"<{found}>" for found in _ids(_header(message, "In-Reply-To") + _header(message, "References"))),
        text=text,
        attachments=tuple(attachments),
        automatic=_automatic(message, sender),
        authentication=tuple(_all(message, "Authentication-Results")),
        problems=tuple(problems),
        size=len(raw),
    )


def _without_trace(raw: bytes) -> bytes:
    """The message without the headers servers add on the way, which a re-delivery changes: what names it
    when it has no Message-ID."""
    head, separator, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
    kept, skipping = [], False
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":", 1)[0].strip().lower() in _TRACE
        if not skipping:
            kept.append(line)
    return b"\n".join(kept) + separator + body


def _headers_only(raw: bytes) -> bytes:
    head = raw[:1_000_000]
    ends = [found for found in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if found >= 0]
    return head[: min(ends)] + b"\n\n" if ends else b""


def _header(message: Message, name: str) -> str:
    found = _raw_values(message, name, 1)
    return _text_of(found[0])[:MAX_HEADER_CHARS] if found else ""


def _all(message: Message, name: str) -> list[str]:
    return [" ".join(_text_of(value)[:MAX_HEADER_CHARS].split()) for value in _raw_values(message, name, 10)]


def _raw_values(message: Message, name: str, most: int) -> list[str]:
    """A header's values as they came (compat32's get() turns raw UTF-8 into replacement characters)."""
    wanted = name.lower()
    return [str(value) for key, value in message.raw_items() if key.lower() == wanted][:most]


def _text_of(value: object) -> str:
    """A header as text: raw UTF-8 in a header (RFC 6532) is read as UTF-8, not as bytes Python could not name."""
    text = str(value)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return text


def _decoded(value: str) -> str:
    """A header's encoded words decoded; what does not decode is kept as it came."""
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError, AssertionError, MessageError):
        return value


def _sender(message: Message, problems: list[str]) -> tuple[str | None, str]:
    """The one mailbox in From, when both of Python's parsers agree on it; and its display name."""
    raw = _header(message, "From")[:MAX_FROM_CHARS]
    try:
        found = [(name, spec) for name, spec in getaddresses([raw]) if spec]
        strict = email.policy.default.header_factory("From", raw).addresses
        agreed = [address.addr_spec for address in strict]
    except (ValueError, TypeError, LookupError, IndexError, AttributeError, MessageError, RecursionError):
        found, agreed = [], []
    if len(found) != 1 or agreed != [found[0][1]] or not is_mailbox(found[0][1]):
        if raw:
            problems.append(f"From does not name one plain mailbox: {one_line(raw)[:120]}")
        return None, ""
    name, spec = found[0]
    return spec, one_line(_decoded(name))[:200]


def _addresses(message: Message, names: tuple[str, ...]) -> tuple[str, ...]:
    found: list[str] = []
    for name in names:
        try:
            parsed = getaddresses(_all(message, name))
        except (ValueError, TypeError, IndexError, RecursionError):  # nested groups and comments a sender wrote
            continue
        for _, spec in parsed:
            if is_mailbox(spec) and spec.lower() not in (seen.lower() for seen in found):
                found.append(spec)
            if len(found) >= MAX_ADDRESSES:
                return tuple(found)
    return tuple(found)


def _ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value)[:MAX_IDS]


def _parts(message: Message, problems: list[str]) -> Iterator[Message]:
    """The leaf parts, depth first, within the bounds; a forwarded message's parts count as its own."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            problems.append(f"only the first {MAX_PARTS} parts were read")
            return
        if part.is_multipart():
            if depth >= MAX_DEPTH:
                problems.append(f"parts nested over {MAX_DEPTH} deep were not read")
                continue
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))
            continue
        yield part


def _read_part(part: Message, texts: list[str], attachments: list[Attachment], problems: list[str]) -> None:
    if any(len(str(part.get(header, ""))) > MAX_PARAMETER_HEADER for header in ("Content-Type", "Content-Disposition")):
        problems.append("a part with an oversized Content-Type was kept as an unnamed file")
        attachments.append(Attachment("attachment", "application/octet-stream", _payload(part)))
        return
    content_type = part.get_content_type()
    try:
        name = part.get_filename()
    except (ValueError, LookupError, UnicodeError, TypeError, MessageError, RecursionError):
        name = "attachment"
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    data = _payload(part)
    if name is None and disposition != "attachment" and content_type in ("text/plain", "text/html"):
        text = _text(part, data)
        texts.append(quoting.html_to_text(text) if content_type == "text/html" else text)
        return
    if content_type.startswith("multipart/") or content_type == "message/delivery-status":
        return
    attachments.append(Attachment(_decoded(name or "attachment"), content_type, data))


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError):
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "replace") if isinstance(payload, str) else b""


def _text(part: Message, data: bytes) -> str:
    charset = part.get_content_charset() or "utf-8"
    try:
        text = data.decode(charset, errors="replace")
    except (LookupError, UnicodeError, TypeError):  # a charset Python does not know, or one that is no text codec
        text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _automatic(message: Message, sender: str | None) -> str | None:
    """Why the message is machine mail (an answer could start a loop), or None for a person's mail."""
    submitted = " ".join(_header(message, "Auto-Submitted").split()).lower()
    if submitted and not submitted.startswith("no"):
        return f"Auto-Submitted: {submitted[:40]}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in _AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond"):
        if message.get(name) is not None:
            return f"{name} header (a mailing list or an auto-reply)"
    if _header(message, "X-Auto-Response-Suppress").strip().lower() in ("all", "oof", "autoreply"):
        return "X-Auto-Response-Suppress"
    if _header(message, "Return-Path").strip() == "<>":
        return "Return-Path <> (a bounce)"
    if message.get_content_type() == "multipart/report":
        return "a delivery or read report"
    if sender is not None and sender.split("@")[0].lower() in _DAEMONS:
        return f"sent by {sender.split('@')[0].lower()}"
    return None
