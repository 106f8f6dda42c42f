"""Signing in without a password: a contact asks for a link, the mail brings it, the link opens a session.

Whoever asks hears the same answer whether or not the address may sign in, and the mail goes out after
the answer, so neither the words nor the time tell a stranger who the desk's contacts are. A link is
good once and briefly; following it shows a page whose button signs in (a mail scanner that fetches the
link signs nobody in). Every step leaves an audit line, and asking too often is refused for a while.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, closing
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sdesk.errors import SdeskError
from sdesk.mail.compose import SIGN_IN, Templates
from sdesk.mail.smtp import Transport
from sdesk.policy.rules import Rules
from sdesk.portal import audit
from sdesk.portal.access import Viewer, viewer_for
from sdesk.portal.credentials import Credentials, Holder

HOUR = 3600
LINKS_PER_ADDRESS = 20  # an hour, whoever asks: nobody floods a contact's inbox
LINKS_PER_ADDRESS_AND_CLIENT = 5  # an hour from one network: a stranger uses up a few, not the contact's own
ASKS_PER_CLIENT = 20  # an hour, from one network address
CONFIRMS_PER_CLIENT = 30  # an hour: guessing a 256-bit link is hopeless anyway, this keeps the log short

Connection = Callable[[], AbstractContextManager[Transport]]


class Limited(SdeskError):
    """Asked too often: wait a while."""


class SignIn:
    """The sign-in steps over the credentials file and the audit log of the runner's clone."""

    def __init__(self, credentials: Path, audit_log: Path, desk_root: Path, url: str, connection: Connection):
        self.credentials, self.audit_log, self.desk_root = credentials, audit_log, desk_root
        self.url, self.connection = url, connection

    def ask(self, rules: Rules, address: str, client: str, now: datetime) -> None:
        """Mail ``address`` a link when it is a contact's who may sign in; raises Limited when asked too
        often. Says nothing else: the caller answers every address alike, and whose address it is is looked
        up after the answer (a contact's link and mail take longer than a stranger's nothing)."""
        address = " ".join(address.split())[:254]
        with self._store() as store:
            store.purge(now.timestamp())
            counted = (
                (f"ask:{network(client)}", ASKS_PER_CLIENT),
                (f"address:{address.lower()} {network(client)}", LINKS_PER_ADDRESS_AND_CLIENT),
                (f"address:{address.lower()}", LINKS_PER_ADDRESS),
            )
            for key, most in counted:
                if not store.allow(key, now.timestamp(), most, HOUR):
                    raise self._limited(store, key, address, client, now)
        threading.Thread(target=self._mail_link, args=(rules, address, client, now), daemon=True).start()

    def link_for(self, rules: Rules, token: str, now: datetime) -> Viewer | None:
        """Whom the link would sign in (it stays unused), while it is good."""
        with self._store() as store:
            return _current(rules, store.peek_link(token[:100], now.timestamp()))

    def link_holder(self, rules: Rules, token: str, client: str, now: datetime) -> Viewer | None:
        """Whom the link signs in, used up now; None (audited) when it is unknown, used, expired or its
        contact no longer may sign in."""
        with self._store() as store:
            key = f"confirm:{network(client)}"
            if not store.allow(key, now.timestamp(), CONFIRMS_PER_CLIENT, HOUR):
                raise self._limited(store, key, "", client, now)
            holder = store.use_link(token[:100], now.timestamp())
        viewer = _current(rules, holder)
        if viewer is None:
            audit.record(self.audit_log, now, "link-refused", holder.address if holder else "", client)
        return viewer

    def open_session(self, viewer: Viewer, client: str, now: datetime) -> str:
        with self._store() as store:
            session = store.open_session(Holder(viewer.address, viewer.customer), now.timestamp())
        audit.record(self.audit_log, now, "signed-in", viewer.address, client)
        return session

    def viewer(self, rules: Rules, session: str, now: datetime) -> Viewer | None:
        """Who holds ``session``, as rules.yaml says now; None once it ended, idled, aged or its contact went
        (which ends it: it does not come back with the contact)."""
        if not session:
            return None
        settings = rules.portal
        with self._store() as store:
            holder = store.session(session[:100], now.timestamp(), settings.idle_minutes, settings.session_hours)
            viewer = _current(rules, holder)
            if holder is not None and viewer is None:
                store.end_session(session[:100], now.timestamp())
        return viewer

    def sign_out(self, viewer: Viewer, session: str, client: str, now: datetime) -> None:
        with self._store() as store:
            store.end_session(session[:100], now.timestamp())
        audit.record(self.audit_log, now, "signed-out", viewer.address, client)

    def allow(self, key: str, now: datetime, most: float, amount: float = 1, window: float = HOUR) -> bool:
        """Whether ``amount`` more of what ``key`` counts stays within ``most`` a window (counted if so)."""
        with self._store() as store:
            return store.allow(key, now.timestamp(), most, window, amount)

    def _link(self, token: str) -> str:
        return f"{self.url}/sign-in/{token}"

    def _limited(self, store: Credentials, key: str, address: str, client: str, now: datetime) -> Limited:
        """The refusal of a request over the limit ``key`` counts, audited once an hour for that key: a flood
        of refused requests leaves one line, not one each."""
        if store.allow(f"audited:{key}", now.timestamp(), 1, HOUR):
            audit.record(self.audit_log, now, "limited", address, client)
        return Limited("too many sign-in requests")

    def _store(self) -> closing[Credentials]:
        """The credentials file, open for one step and closed after it (each request thread its own)."""
        return closing(Credentials(self.credentials))

    def _mail_link(self, rules: Rules, address: str, client: str, now: datetime) -> None:
        """After the answer: a link and its mail for a contact who may sign in; a line in the audit for anyone.
        A failure is audited, the contact asks again."""
        viewer = viewer_for(rules, address)
        if viewer is None:
            audit.record(self.audit_log, now, "stranger", address, client)
            return
        with self._store() as store:
            holder = Holder(viewer.address, viewer.customer)
            token = store.issue_link(holder, now.timestamp(), rules.portal.link_minutes)
        try:
            message = sign_in_mail(Templates(self.desk_root, rules.timezone), rules, viewer, self._link(token), now)
            audit.record(self.audit_log, now, "link-sent", viewer.address, client)
            with self.connection() as transport:
                sender = message["From"].addresses[0].addr_spec
                refused = transport.deliver(message.as_bytes(), sender, [viewer.address], lambda: None)
            if refused:
                raise SdeskError(f"the mail server refused {viewer.address}")
        except SdeskError as error:
            audit.record(self.audit_log, now, "link-failed", viewer.address, f"{client} ({error.message})")


def _current(rules: Rules, holder: Holder | None) -> Viewer | None:
    """The viewer a link or session is for, while rules.yaml still lets them in as that customer's contact."""
    if holder is None:
        return None
    viewer = viewer_for(rules, holder.address)
    return viewer if viewer is not None and viewer.customer == holder.customer else None


def network(client: str) -> str:
    """Whom a limit per client counts: the client's address, or for IPv6 its /64, which one subscriber (any
    rented server) holds whole."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def sender_address(rules: Rules) -> str | None:
    """Who sign-in mails come from: the desk's address, else the default team's."""
    team = rules.teams.get(rules.default_team)
    return rules.desk_email or (team.email if team is not None else None)


def sign_in_mail(templates: Templates, rules: Rules, viewer: Viewer, link: str, now: datetime) -> EmailMessage:
    """The mail that brings ``viewer`` their link, in their language."""
    sender = sender_address(rules)
    if sender is None:
        raise SdeskError("rules.yaml gives the desk no email address (desk.email): sign-in links cannot be mailed")
    values = {
        "desk": {"name": rules.desk_name, "email": sender},
        "person": {"name": viewer.name, "email": viewer.address},
        "link": link,
        "minutes": rules.portal.link_minutes,
    }
    subject, body = templates.render_kind(SIGN_IN, viewer.language, values)
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(" ".join(rules.desk_name.split()), addr_spec=sender)
    message["To"] = viewer.address
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("signin", sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    message["X-Sdesk-Mail"] = SIGN_IN
    message.set_content(body, cte="quoted-printable")
    return message
