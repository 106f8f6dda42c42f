"""Letters become RFC 5322 messages through templates a desk can override.

The package ships a template per mail kind and language
(``sdesk/templates/mail/<language>/<kind>.txt``); a desk overrides any of them
with a file at the same place under its own ``templates/mail/``. A template
defines a ``subject`` and a ``body`` block (Jinja2). Headers are built from
objects, never from text pasted together, and a subject is folded to one line,
so a title or name with a newline cannot add a header.
"""

from __future__ import annotations

import email.policy
import traceback
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from sdesk.errors import InvalidData
from sdesk.notifications import MAIL_KINDS, Letter
from sdesk.rules import LANGUAGES

PACKAGE_TEMPLATES = Path(__file__).parent / "templates" / "mail"
DESK_TEMPLATES = Path("templates") / "mail"  # inside the desk
BLOCKS = ("subject", "body")
# The mails, and the pieces they include.
TEMPLATE_NAMES = (*MAIL_KINDS, "greeting", "footer")

_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}
_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
}
_AT = {"en": "at", "nl": "om"}


def spoken_moment(moment: datetime, language: str, zone: ZoneInfo) -> str:
    """'Monday 23 November 2026 at 13:30' / 'maandag 23 november 2026 om 13:30', in the desk's time zone."""
    local = moment.astimezone(zone)
    words = language if language in _DAYS else "en"
    day, month = _DAYS[words][local.weekday()], _MONTHS[words][local.month - 1]
    return f"{day} {local.day} {month} {local.year} {_AT[words]} {local:%H:%M}"


class Templates:
    """The desk's mail templates over the package's defaults."""

    def __init__(self, desk_root: Path, zone: ZoneInfo):
        self.desk_folder = desk_root / DESK_TEMPLATES
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(self.desk_folder), str(PACKAGE_TEMPLATES)]),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain text mail
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

        @jinja2.pass_context
        def when(context: jinja2.runtime.Context, moment: datetime) -> str:
            return spoken_moment(moment, context["language"], zone)

        self.environment.filters["when"] = when

    def render(self, letter: Letter) -> tuple[str, str]:
        """The subject (one line) and the body of a letter."""
        name = f"{letter.language}/{letter.kind}.txt"
        try:
            template = self.environment.get_template(name)
        except jinja2.TemplateSyntaxError as error:
            raise InvalidData(f"mail template: {error.message}", error.filename, error.lineno) from None
        except jinja2.TemplateNotFound:
            raise InvalidData(f"no mail template {name} (in {self.desk_folder} or the package)") from None
        missing = [block for block in BLOCKS if block not in template.blocks]
        if missing:
            raise InvalidData(f"mail template {name} needs a {{% block {missing[0]} %}}", template.filename)
        context = template.new_context({**letter.values, "language": letter.language})
        try:
            try:
                subject, body = ("".join(template.blocks[block](context)) for block in BLOCKS)
            except Exception:
                self.environment.handle_exception()  # re-raises with the template's own lines in the traceback
        except Exception as error:  # a template is code a desk writes: any mistake in it is reported, located
            filename, line = _template_frame(error)
            raise InvalidData(f"mail template {name}: {error}", filename, line) from None
        return " ".join(subject.split()), body.strip("\n") + "\n"

    def check(self) -> list[InvalidData]:
        """Every desk override that sdesk would not use or that does not compile, located, for `sdesk check`."""
        problems = []
        for path in sorted(self.desk_folder.glob("*/*.txt")) if self.desk_folder.is_dir() else []:
            if path.parent.name not in LANGUAGES or path.stem not in TEMPLATE_NAMES:
                expected = f"<{'|'.join(LANGUAGES)}>/<{'|'.join(TEMPLATE_NAMES)}>.txt"
                problems.append(InvalidData(f"mail template sdesk never uses: the names are {expected}", path))
                continue
            try:
                self.environment.get_template(f"{path.parent.name}/{path.name}")
            except jinja2.TemplateSyntaxError as error:
                problems.append(InvalidData(f"mail template: {error.message}", path, error.lineno))
        return problems


def _template_frame(error: Exception) -> tuple[Path | None, int | None]:
    """Where in a template a rendering error happened (Jinja2 puts template lines in the traceback)."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(".txt"):
            return Path(frame.filename), frame.lineno
    return None, None


def message(letter: Letter, templates: Templates) -> EmailMessage:
    """The letter as an RFC 5322 message with CRLF line ends, ready to store and to send."""
    subject, body = templates.render(letter)
    mail = EmailMessage(policy=email.policy.SMTP)
    headers: dict[str, Any] = {
        "From": letter.sender,
        "To": letter.to,
        "Cc": letter.cc or None,
        "Subject": subject,
        "Date": format_datetime(letter.at),
        "Message-ID": letter.message_id,
        "In-Reply-To": letter.thread_id if letter.kind != "created" else None,
        "References": letter.thread_id if letter.kind != "created" else None,
        "Auto-Submitted": "auto-generated",  # RFC 3834: out-of-office replies should stay quiet
        "X-Sdesk-Ticket": letter.ticket,
        "X-Sdesk-Mail": letter.kind,
    }
    try:
        for key, value in headers.items():
            if value is not None:
                mail[key] = value
    except (ValueError, TypeError) as error:
        raise InvalidData(f"cannot mail {letter.ticket}: {error}") from None
    mail.set_content(body, cte="quoted-printable")
    return mail
