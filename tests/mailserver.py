"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message that arrived, for the runner and portal tests."""

from __future__ import annotations

import email
import email.message
import email.policy
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Arrival:
    rcpt_tos: tuple[str, ...]
    message_id: str
    content: bytes

    @property
    def ticket_kind(self) -> tuple[str, str]:
        """<TICKET.EVENT.KIND@domain>: the ticket and the kind of mail."""
        ticket, _, rest = self.message_id.strip("<>").partition(".")
        return ticket, rest.split("@")[0].rsplit(".", 1)[-1]

    @property
    def message(self) -> email.message.EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        return parsed


@dataclass
class Recorder:
    """Keeps every message that arrived; ``at_rcpt`` / ``at_data`` run when a RCPT / a whole message comes in."""

    arrived: list[Arrival] = field(default_factory=list)
    at_rcpt: Callable[[], None] | None = None
    at_data: Callable[[], None] | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if self.at_rcpt is not None:
            self.at_rcpt()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content)
        message_id = "".join(str(message["Message-ID"]).split())
        self.arrived.append(Arrival(tuple(envelope.rcpt_tos), message_id, envelope.content))
        if self.at_data is not None:
            self.at_data()
        return "250 Message accepted for delivery"


@contextmanager
def recording_server() -> Iterator[tuple[Recorder, int]]:
    """The server and its port, stopped when the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
