"""The mail committed history owes, and where each mail stands.

What `sdesk show` lists under a ticket, what `sdesk notify` reports and what
the runner delivers (:mod:`sdesk.actions.deliver`): a mail is owed when the
history has its event after the mail baseline (:mod:`sdesk.mail.baseline`),
and its record (:mod:`sdesk.mail.records`) says whether it went out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct

from sdesk.errors import NotFound, SdeskError
from sdesk.mail import baseline, notifications, owed, records
from sdesk.mail.notifications import Letter
from sdesk.mail.records import Record
from sdesk.storage.store import Desk

if TYPE_CHECKING:
    from sdesk.mail.received import Received


class Owed(Struct, frozen=True):
    """A mail history owes, with its standing record (None: never tried)."""

    letter: Letter
    standing: Record | None

    @property
    def state(self) -> str:
        return self.standing.state if self.standing is not None else records.OWED


def history_mail(
    desk: Desk, only: set[str] | None = None, include_sent: bool = True, since: str | None = None
) -> tuple[list[Owed], list[str]]:
    """The mail history owes since the baseline, with its standing record; and the tickets that cannot say.

    Only the tickets of ``only``, and only those whose file or records changed since the commit ``since``
    (when everything was settled), are looked at; a mail sent long ago is not composed unless
    ``include_sent``. A desk without a baseline yet (the runner's first cycle sets it) owes tickets' mail
    only from then on; the gateway's auto-replies are owed from their record.
    """
    problems: list[str] = []
    replies = _replies(desk, include_sent, problems) if only is None else []
    sha = baseline.commit(desk.root)
    if sha is None:
        return replies, problems
    changed = baseline.changed_since(desk.root, sha, only)
    if since is not None:
        recent = baseline.touched_since(desk.root, since)
        if recent is not None:
            changed = recent if changed is None else changed & recent
    wanted = sorted(changed if changed is not None else desk.ticket_ids())
    if only is not None:
        wanted = [ticket_id for ticket_id in wanted if ticket_id in only]
    before = baseline.known(desk.root, sha, wanted)
    found: list[Owed] = []
    for ticket_id in wanted:
        try:
            standing = records.states(records.read(desk.root, ticket_id))
            sent = (
                frozenset() if include_sent else {key for key, held in standing.items() if held.state == records.SENT}
            )
            letters = owed.letters(desk.read(ticket_id), desk.rules, before[ticket_id], sent.__contains__)
        except NotFound:
            continue  # deleted since the baseline: check reports that
        except SdeskError as error:  # its mail waits until the file is mended
            problems.append(f"{ticket_id}: {error}")
            continue
        found.extend(Owed(letter, standing.get(letter.key)) for letter in letters)
    return found + replies, problems


def _replies(desk: Desk, include_sent: bool, problems: list[str]) -> list[Owed]:
    """The gateway's auto-replies: owed from the moment it recorded the message it answers."""
    from sdesk.mail import received  # the gateway's records: never needed for one ticket's mail

    found = []
    for record_id in records.owners_of_replies(desk.root):
        try:
            standing = records.states(records.read(desk.root, record_id))
            owed_keys = [key for key, held in standing.items() if include_sent or held.state != records.SENT]
            if not owed_keys:
                continue
            message = received.read(desk.root, record_id)
        except SdeskError as error:
            problems.append(f"{record_id}: {error}")
            continue
        letter = reply_letter(desk, message)
        if letter is not None and letter.key in owed_keys:
            found.append(Owed(letter, standing.get(letter.key)))
    return found


def reply_letter(desk: Desk, message: Received) -> Letter | None:
    """The auto-reply a received message's record says it owes, if any."""
    if not message.reply or message.sender is None:
        return None
    language = message.language or desk.rules.language
    answers = message.key if message.key.startswith("<") else None
    return notifications.refusal(
        message.id,
        message.sender,
        message.reply,
        language,
        message.subject or "",
        answers,
        message.received,
        message.reply_digest,
        desk.rules,
    )


def ticket_mail(desk: Desk, ticket_id: str) -> list[Owed]:
    """The mail one ticket's history owes since the baseline, with where each stands (`sdesk show`)."""
    found, _ = history_mail(desk, only={ticket_id})
    return found
