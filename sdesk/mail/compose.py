"""Letters become RFC 5322 messages through templates a desk can override.

The package ships a template per mail kind and language
(``sdesk/mail/templates/<language>/<kind>.txt``); a desk overrides any of them
with a file at the same place under its own ``templates/mail/``. A template
defines a ``subject`` and a ``body`` block (Jinja2). Headers are built from
objects, never from text pasted together, and a subject or name is folded to
one line without control characters, so a title or name with a newline or an
escape sequence cannot add a header or reach a mail reader's terminal.
"""

from __future__ import annotations

import email.policy
from datetime import datetime
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from sdesk.calendar.spoken import moment as spoken_moment
from sdesk.errors import InvalidData, SdeskError
from sdesk.formats import templating
from sdesk.mail.notifications import MAIL_KINDS, REFUSED, Letter, one_line
from sdesk.policy.rules import LANGUAGES

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
DESK_TEMPLATES = Path("templates") / "mail"  # inside the desk
BLOCKS = ("subject", "body")
SIGN_IN = "signin"  # the live portal's sign-in link, about no ticket
# The mails, and the pieces they include.
TEMPLATE_NAMES = (*MAIL_KINDS, REFUSED, SIGN_IN, "greeting", "footer")


class Templates:
    """The desk's mail templates over the package's defaults."""

    def __init__(self, desk_root: Path, zone: ZoneInfo):
        self.desk_root = desk_root
        self.desk_folder = desk_root / DESK_TEMPLATES
        self.environment = templating.environment(desk_root, self.desk_folder, PACKAGE_TEMPLATES, autoescape=False)

        @jinja2.pass_context
        def when(context: jinja2.runtime.Context, moment: datetime) -> str:
            return spoken_moment(moment, context["language"], zone)

        self.environment.filters["when"] = when

    def render(self, letter: Letter) -> tuple[str, str]:
        """The subject (one line) and the body of a letter."""
        return self.render_kind(letter.kind, letter.language, letter.values)

    def render_kind(self, kind: str, language: str, values: dict[str, Any]) -> tuple[str, str]:
        """The subject (one line) and the body of the mail ``kind`` in ``language``, filled in with ``values``."""
        name = f"{language}/{kind}.txt"
        template = templating.load(self.environment, name, "mail", self.desk_folder)
        missing = [block for block in BLOCKS if block not in template.blocks]
        if missing:
            raise InvalidData(f"mail template {name} needs a {{% block {missing[0]} %}}", template.filename)
        context = template.new_context({**values, "language": language})
        with templating.reported(self.environment, "mail", name):
            subject, body = (templating.collect(template.blocks[block](context)) for block in BLOCKS)
        return one_line(subject), body.strip("\n") + "\n"

    def check(self) -> list[SdeskError]:
        """Every desk override that sdesk would not use, that does not compile or that the sandbox forbids."""

        def used(name: str) -> bool:
            language, _, file = name.partition("/")
            return language in LANGUAGES and file.removesuffix(".txt") in TEMPLATE_NAMES and file.endswith(".txt")

        names = f"<{'|'.join(LANGUAGES)}>/<{'|'.join(TEMPLATE_NAMES)}>.txt"
        return templating.compile_problems(
            self.environment, self.desk_root, self.desk_folder, "*/*.txt", used, names, "mail"
        )


def message(letter: Letter, templates: Templates) -> EmailMessage:
    """The letter as an RFC 5322 message with CRLF line ends, ready to store and to send."""
    subject, body = templates.render(letter)
    mail = EmailMessage(policy=email.policy.SMTP)
    answers = letter.answers or (letter.thread_id if letter.kind != "created" else None)
    headers: dict[str, Any] = {
        "From": letter.sender,
        "To": letter.to,
        "Cc": letter.cc or None,
        "Reply-To": letter.reply_to,
        "Subject": subject,
        "Date": format_datetime(letter.at),
        "Message-ID": letter.message_id,
        "In-Reply-To": answers,
        "References": answers,
        "Auto-Submitted": "auto-generated",  # RFC 3834: out-of-office replies should stay quiet
        "X-Sdesk-Ticket": letter.ticket,
        "X-Sdesk-Mail": letter.kind,
    }
    try:
        for key, value in headers.items():
            if value is not None:
                mail[key] = value
        mail.set_content(body, cte="quoted-printable")
        written = email.message_from_bytes(mail.as_bytes(), policy=email.policy.default)
    except (ValueError, TypeError, MessageError) as error:  # a lone surrogate, a header Python will not write
        raise InvalidData(f"cannot mail {letter.ticket}: {' '.join(str(error).split())}") from None
    if _header_names(written) != _header_names(mail) or _recipients(written) != _recipients(mail):
        raise InvalidData(f"cannot mail {letter.ticket}: a header would not come out as it was written")
    return mail


def _header_names(mail: EmailMessage) -> list[str]:
    return sorted(name.lower() for name in mail.keys())


def _recipients(mail: EmailMessage) -> list[str]:
    return [
        address.addr_spec
        for key in ("To", "Cc", "Bcc")
        for value in mail.get_all(key, [])
        for address in value.addresses
    ]
