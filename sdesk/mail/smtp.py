"""Handing a message to an SMTP server: plain, STARTTLS or TLS, with a verdict for every message.

A delivery fails before the message went out (:class:`DeliveryFailed`: try
again), is refused for good (:class:`DeliveryRefused`: park it), or went out
without a clear answer (:class:`DeliveryUncertain`: it may have arrived, so it
is never sent again on its own). The caller is told just before the final
dot that ends the message, the one moment after which the server may have it.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from sdesk import deadline
from sdesk.errors import Refused, SdeskError
from sdesk.mail.notifications import one_line

PLAIN, STARTTLS, TLS = "plain", "starttls", "tls"
# 5xx replies about the session (login needed, too weak, encryption needed), not the message: the next run
# with the right options sends it, so the mail stays owed instead of parked.
SESSION_REFUSALS = frozenset({530, 534, 538})
SESSION_WAITS = 4  # a connection, or one message, may take this many --timeout waits in all
_SSL_SOURCE = re.compile(r"\s*\(_ssl\.c:\d+\)")


class DeliveryFailed(SdeskError):
    """The server did not take this message this time; it is tried again."""


class DeliveryRefused(SdeskError):
    """The server refused this message for good (5xx); it is parked until an agent retries it."""


class DeliveryUncertain(SdeskError):
    """The message went out but the server's verdict never came: it may have arrived, so it is not resent."""


class Transport(Protocol):
    def deliver(self, raw: bytes, sender: str, recipients: list[str], ending: Callable[[], None]) -> dict[str, str]:
        """Hand a message over, calling ``ending`` just before the final dot; returns the recipients refused.

        Raises DeliveryFailed, DeliveryRefused or DeliveryUncertain when it did not take the message.
        """
        ...


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
        with _within(self.timeout, "the connection"):
            return self._open()

    def _open(self) -> Smtp:
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
                with _within(self.timeout, "saying goodbye"):
                    self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()

    def deliver(self, raw: bytes, sender: str, recipients: list[str], ending: Callable[[], None]) -> dict[str, str]:
        """MAIL, RCPT and DATA one by one, so a failure is known to come before or after the message went out.

        The whole message gets a deadline too: a server that drips a line now and then never times a read out.
        """
        with _within(self.timeout, "the message"):
            return self._deliver(raw, sender, recipients, ending)

    def _deliver(self, raw: bytes, sender: str, recipients: list[str], ending: Callable[[], None]) -> dict[str, str]:
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
            ending()  # from here on the server may have the message
            connection.send(b".\r\n")
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


def _within(timeout: float, what: str) -> AbstractContextManager[None]:
    """A connection, or one message, may take SESSION_WAITS waits in all: TimeoutError (an OSError) after."""
    seconds = SESSION_WAITS * timeout
    return deadline.within(seconds, lambda: TimeoutError(f"{what} took longer than {seconds:g} s"))


def _refusal(reason: str, *codes: int) -> DeliveryFailed | DeliveryRefused:
    """Parked when every reply is a permanent (5xx) refusal of the message, else kept for the next run."""
    permanent = all(500 <= code < 600 and code not in SESSION_REFUSALS for code in codes)
    return DeliveryRefused(reason) if permanent else DeliveryFailed(reason)


def _data(raw: bytes) -> bytes:
    """A message as DATA carries it, but for the final dot: CRLF line ends only (no bare CR or LF to
    smuggle an end), dots doubled."""
    lines = re.sub(rb"\r\n|\r|\n", b"\r\n", raw)
    if not lines.endswith(b"\r\n"):
        lines += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", lines)


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
