"""The mail gateway: one received message becomes a comment, a survey answer, a new ticket or a triage entry.

What a message becomes is decided from the message and the desk alone, in
this order: a message already recorded is recognised and left alone; the
desk's own mail and machine mail (auto-replies, bounces, lists) are recorded
and never answered; a sender who floods is held in triage; a message that
names a ticket (our Message-ID in In-Reply-To/References, the plus address
``desk+TICKET@``, or ``[TICKET]`` in the subject) is a reply, from someone
on the ticket or of its customer; any other is a new ticket, the rules
applied exactly as `sdesk new` applies them. What the rules refuse goes to
triage with an auto-reply that says why and what to do. Every message leaves
its record (:mod:`sdesk.mail.received`), so nothing is dropped unseen.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from sdesk.actions import record, workflow
from sdesk.errors import InvalidData, NotFound, Refused, SdeskError
from sdesk.mail import inbound, notifications, quoting, received, records
from sdesk.mail.inbound import Inbound
from sdesk.mail.mailboxes import Incoming
from sdesk.mail.received import Received
from sdesk.mail.senders import Senders
from sdesk.output import plural
from sdesk.policy import decisions
from sdesk.policy.mailgateway import MAX_WATCHERS
from sdesk.policy.rules import Customer
from sdesk.service import satisfaction
from sdesk.storage import attachments, sync
from sdesk.storage.store import Desk
from sdesk.tickets import ids
from sdesk.tickets.model import CLOSING_KINDS, Event, Ticket

GATEWAY = "sdesk mail"  # who records what a message could not say itself (dismissals are agents')
# A survey answer's first line: the score, on the scale of 5 if one is named, then nothing or a remark after a
# separator ("4", "Note : 4 sur 5", "4 - snel geholpen"). A digit followed by words ("2 users still cannot log
# in", "Note : 3 postes …") is a reply, not a score.
_SCORE_WORDS = r"(?:(?:score|cijfer|rating|beoordeling|tevredenheid|note|satisfaction|bewertung|zufriedenheit)\s{0,3})?"
_SCALE_WORDS = r"(?:/|van|of|out of|op|sur|von)"
_SCORE = re.compile(
    rf"{_SCORE_WORDS}(?:[:=]\s{{0,3}})?([1-5])(?:\s{{0,3}}{_SCALE_WORDS}\s{{0,3}}5)?(?![0-9.,])"
    r"\s{0,3}(?:[-–—:.,!)]\s*(.*))?",
    re.IGNORECASE,
)
# A first line that gives a score on another scale or out of range ("4 sur 10", "Bewertung: -1 von 5"): held.
_OTHER_SCORE = re.compile(
    rf"{_SCORE_WORDS}(?:[:=]\s{{0,3}})?-?\d{{1,3}}\s{{0,3}}{_SCALE_WORDS}\s{{0,3}}\d{{1,3}}\b.*", re.IGNORECASE
)
_SUBJECT_ID = re.compile(r"\[\s*([0-9A-Za-z]{6}-[0-9A-Za-z]{5})\s*\]")
_OUR_ID = re.compile(r"<([0-9A-Z]{6}-[0-9A-Z]{5})\.[0-9a-f]{1,16}\.[a-z-]+@")
_THREAD_ID = re.compile(r"<([0-9A-Z]{6}-[0-9A-Z]{5})\.1\.created@")
# Lines in a new message that give a ticket field, in English, Dutch, French and German ("Site: 2101"):
# at least the words the refused mail asks for in each language.
FIELD_LINES = {
    "site": "site",
    "vestiging": "site",
    "locatie": "site",
    "standort": "site",
    "product": "product",
    "produit": "product",
    "produkt": "product",
    "url": "url",
    "phone": "contact_phone",
    "telefoon": "contact_phone",
    "téléphone": "contact_phone",
    "telefon": "contact_phone",
    "telefonnummer": "contact_phone",
    "tel.": "contact_phone",
    "tél.": "contact_phone",
    "gsm": "contact_phone",
    "error": "error_message",
    "error message": "error_message",
    "foutmelding": "error_message",
    "erreur": "error_message",
    "message d'erreur": "error_message",
    "fehlermeldung": "error_message",
}
_FIELD_LINE = re.compile(
    rf"^\s*({'|'.join(re.escape(word) for word in sorted(FIELD_LINES, key=len, reverse=True))})\s*:\s*(\S.*)$", re.I
)


class Outcome(Struct, frozen=True):
    record_id: str
    outcome: str  # what the message became (received.OUTCOMES), or "duplicate"
    ticket: str | None
    line: str  # what happened, for the log

    @property
    def recorded(self) -> bool:
        return self.outcome != "duplicate"


def receive(desk: Desk, raw: bytes, now: datetime, senders: Senders, too_large: bool = False) -> Outcome:
    """Record one message; returns what it became. Raises only when the desk cannot be written."""
    message = inbound.parse(raw, too_large)
    if received.exists(desk.root, message.record_id):
        try:
            earlier = received.read(desk.root, message.record_id)
        except SdeskError:
            return Outcome(message.record_id, "duplicate", None, f"{message.record_id}: already received: left alone")
        if earlier.digest in (None, message.digest):
            was = earlier.outcome + (f" {earlier.ticket}" if earlier.ticket else "")
            return Outcome(earlier.id, "duplicate", None, f"{earlier.id}: already received ({was}): left alone")
        # The same Message-ID on other words (a careless sender or tool): another message, named by both.
        message = replace(message, key=f"{message.key} {message.digest}")
        if received.exists(desk.root, message.record_id):
            return Outcome(message.record_id, "duplicate", None, f"{message.record_id}: already received: left alone")
    record_id = message.record_id
    base = Received(
        id=record_id,
        key=message.key,
        digest=message.digest,
        received=now,
        outcome="ignored",
        sender=message.sender,
        name=message.sender_name or None,
        to=list(message.to),
        cc=list(message.cc),
        subject=message.subject or None,
        text=message.text or None,
    )
    gateway = Gateway(desk, message, base, now, senders)
    try:
        done = gateway.decide()
    except Exception as error:  # noqa: BLE001 - one message the desk cannot take must not stop the mail behind it
        if isinstance(error, SdeskError) and not isinstance(error, (Refused, InvalidData, NotFound)):
            raise  # the desk cannot be written: the whole batch waits (stdin: the MTA tries again)
        gateway.undo_files()
        said = error.message if isinstance(error, SdeskError) else f"{type(error).__name__}: {error}"
        done = replace(base, outcome="triage", reason=f"could not be processed: {' '.join(said.split())[:300]}")
        done.attachments = gateway.unkept("not kept: the mail could not be processed (ask the sender for it again)")
    received.write(desk.root, done)
    if done.reply and done.sender is not None:  # owed from now on: the runner delivers it once
        key = f"{done.id}.{done.reply_digest}.{notifications.REFUSED}"
        records.append(desk.root, done.id, [records.Record(key, records.OWED, now.isoformat(), GATEWAY, done.sender)])
    problems = f" ({'; '.join(message.problems)})" if message.problems else ""
    about = f" {done.ticket}" if done.ticket else ""
    why = f": {done.reason}" if done.reason else ""
    replied = "; auto-reply owed" if done.reply else ""
    line = f"{record_id} from {message.sender or 'an unknown sender'}: {done.outcome}{about}{why}{replied}{problems}"
    return Outcome(record_id, done.outcome, done.ticket, line)


RECEIVED_PATHS = (received.INBOX, received.TRIAGE, "tickets", attachments.FOLDER, records.FOLDER)


def receive_all(
    desk: Desk,
    messages: Iterable[Incoming],
    now: datetime,
    senders: Senders,
    recorded: Callable[[], None] = lambda: None,
) -> list[tuple[Incoming, Outcome]]:
    """Record each message in turn, calling ``recorded`` after each (the caller stages it, commits, shares,
    takes the messages out of the mailbox and saves ``senders``)."""
    done: list[tuple[Incoming, Outcome]] = []
    try:
        for message in messages:
            done.append((message, receive(desk, message.raw, now, senders, message.too_large)))
            recorded()
    except SdeskError as error:  # the mailbox or the desk failed: what was recorded is committed all the same
        raise PartlyReceived(done, error) from None
    return done


class PartlyReceived(SdeskError):
    """Receiving stopped at a failure; ``done`` holds what was recorded before it."""

    def __init__(self, done: list[tuple[Incoming, Outcome]], error: SdeskError):
        super().__init__(error.message)
        self.done, self.error = done, error


def commit_message(done: list[tuple[Incoming, Outcome]]) -> str:
    counts: dict[str, int] = {}
    for _, outcome in done:
        if outcome.recorded:
            counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
    what = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    return f"{sync.RECEIVED_SUBJECT} {plural(sum(counts.values()), 'message')} ({what})"


def _what_to_send(plan: workflow.NewTicket) -> list[str]:
    """The auto-reply's notices: the lines to add, and what else keeps the mail from being a ticket.

    Maintenance cannot be judged without a product: the sender is asked for the product, not told
    that "no product was given" twice.
    """
    missing = list(plan.assessment.missing)
    failed = list(plan.assessment.failed_eligibility)
    if not plan.values.get("product") and any(check.name == "maintenance" for check in failed):
        failed = [check for check in failed if check.name != "maintenance"]
        missing += [] if "product" in missing else ["product"]
    return ([f"missing:{','.join(missing)}"] if missing else []) + [f"not-eligible:{c.detail}" for c in failed]


class Gateway:
    """The decision for one message, step by step; each step returns the record as it ends."""

    def __init__(self, desk: Desk, message: Inbound, base: Received, now: datetime, senders: Senders):
        self.desk, self.rules, self.message, self.base, self.now, self.senders = (
            desk,
            desk.rules,
            message,
            base,
            now,
            senders,
        )
        self.written: list[Path] = []  # files kept for this message, removed again when it cannot be taken

    def decide(self) -> Received:
        message, sender = self.message, self.message.sender
        if sender is not None and self._is_desk(sender):
            return self._ignored("sent by the desk itself (never answered)")
        if message.automatic is not None:
            return self._ignored(f"machine mail, never answered: {message.automatic}")
        if sender is None:
            return self._triage("the sender could not be read (From names no single mailbox)", reply=None)
        if self.senders.count(sender) > self.rules.mail.per_sender_per_hour:
            limit = self.rules.mail.per_sender_per_hour
            return self._triage(f"throttled: more than {limit} mails from {sender} in an hour", reply=None)
        unverified = self._unverified(sender)
        if unverified:
            return self._triage(unverified, reply=None)
        if message.truncated:
            return self._triage(f"the message is over {inbound.MAX_MESSAGE_BYTES // 2**20} MB", reply=["too-large"])
        ticket = self._ticket_named()
        if ticket is not None:
            return self._reply(ticket)
        return self._new()

    # --- what the message is ----------------------------------------------------------------

    def _is_desk(self, address: str) -> bool:
        own = {self.rules.desk_email, self.rules.mail.address, *(team.email for team in self.rules.teams.values())}
        local, _, domain = address.lower().partition("@")
        plain = f"{local.split('+')[0]}@{domain}"
        return plain in {found.lower() for found in own if found}

    def _unverified(self, sender: str) -> str | None:
        """With mail.verified_by set, From counts only when that server's Authentication-Results vouch for it.

        Only the topmost header counts: the receiving server adds its own on top, and anything below it
        came with the message, where a sender may write what they like.
        """
        server = self.rules.mail.verified_by
        if server is None:
            return None
        domain = re.escape(sender.rpartition("@")[2].lower())
        top = self.message.authentication[0] if self.message.authentication else ""
        authserv, _, results = top.partition(";")
        words = results.lower()
        if authserv.split()[:1] == [server] and (
            re.search(rf"\bdmarc=pass\b[^;]*\bheader\.from={domain}(?![\w.-])", words)
            or re.search(rf"\bdkim=pass\b[^;]*\bheader\.d={domain}(?![\w.-])", words)
        ):
            return None
        return f"the sender could not be verified: {server} reports no DKIM or DMARC pass for {sender}"

    def _ticket_named(self) -> Ticket | None:
        """The ticket the message answers: our Message-ID, the plus address or [TICKET] in the subject."""
        candidates: list[str] = []
        for answered in self.message.answers:
            found = _OUR_ID.match(answered) or _THREAD_ID.match(answered)
            if found:
                candidates.append(found.group(1))
        gateway = self.rules.mail.address
        if gateway is not None:
            local, _, domain = gateway.lower().partition("@")
            for address in self.message.to:
                mine, _, theirs = address.partition("@")
                if theirs.lower() == domain and mine.lower().startswith(local + "+"):
                    candidates.append(mine[len(local) + 1 :].upper())
        candidates += [found.upper() for found in _SUBJECT_ID.findall(self.message.subject)]
        for candidate in candidates:
            if ids.ID_PATTERN.fullmatch(candidate):
                try:
                    return self.desk.read(candidate)
                except SdeskError:
                    continue  # gone, or a broken file (check names it): the mail is treated as new
        return None

    # --- a reply ---------------------------------------------------------------------------

    def _reply(self, ticket: Ticket) -> Received:
        sender = str(self.message.sender)
        customer = self.rules.customers.get(ticket.customer)
        if not ticket.is_participant(sender) and (customer is None or customer.contact(sender) is None):
            return self._triage(
                f"{sender} wrote about {ticket.id} but is not on it nor a reference person of its customer",
                ticket=ticket.id,
                reply=[f"foreign:{ticket.id}"],
            )
        text = quoting.new_text(self.message.text)
        outcome = "comment"
        if self.rules.is_final(ticket.status):
            survey = self._survey(ticket, text)
            if survey is not None:
                return survey
            closed = next((event.at for event in reversed(ticket.history) if event.kind in CLOSING_KINDS), None)
            limit = timedelta(days=self.rules.mail.reopen_within_days)
            if closed is None or self.now - closed > limit:
                return self._new(follows=ticket)
            reason = f"The customer replied by mail after it was closed ({self.message.subject or 'no subject'})"
            reopened = record.change(
                self.desk,
                ticket.id,
                lambda current: replace(
                    workflow.reopen(current, self.rules, reason, sender, self.now), from_customer=True
                ),
            )
            ticket, outcome = reopened.ticket, "reopened"
        event = record.change(self.desk, ticket.id, lambda current: self.comment_event(current, text))
        return self._settled(outcome, event.ticket.id)

    def comment_event(self, ticket: Ticket, text: str) -> Event:
        kept = self.keep_files(ticket.id)
        body = text or ("(attachments only)" if kept else "(an empty reply)")
        if attachments.not_kept_notes(kept):
            body += "\n\n" + "\n".join(attachments.not_kept_notes(kept))
        event = workflow.comment(ticket, self.rules, body, str(self.message.sender), self.now, from_customer=True)
        return replace(event, mail=self.base.id, attachments=attachments.stored_names(kept))

    def _survey(self, ticket: Ticket, text: str) -> Received | None:
        """A reply to a closed ticket whose survey waits, starting with a score, is the answer (once)."""
        if satisfaction.survey_request(ticket) is None:
            return None
        lines = [line for line in text.splitlines() if line.strip()]
        first = lines[0].strip()[:200] if lines else ""
        found = _SCORE.fullmatch(first)
        if found is None:
            if _OTHER_SCORE.fullmatch(first):
                return self._triage(f"a survey answer for {ticket.id} not on the scale of 1 to 5", ticket=ticket.id)
            return None
        answered = satisfaction.answer(ticket)
        if answered is not None:
            return self._triage(
                f"a second survey answer for {ticket.id} (answered {answered.at:%Y-%m-%d} with {answered.score})",
                ticket=ticket.id,
                reply=None,
            )
        remark = "\n".join([found.group(2) or "", *lines[1:]]).strip() or None
        score = int(found.group(1))
        sender = str(self.message.sender)
        record.change(
            self.desk,
            ticket.id,
            lambda current: replace(
                workflow.survey(current, self.rules, score, remark, sender, self.now), mail=self.base.id
            ),
        )
        return self._settled("survey", ticket.id)

    # --- a new ticket -----------------------------------------------------------------------

    def _new(self, follows: Ticket | None = None) -> Received:
        sender = str(self.message.sender)
        customer = self.customer_of(sender, follows)
        if isinstance(customer, str):
            return self._triage(customer, reply=["unknown-sender"])
        values = self.ticket_values(customer, follows)
        if not values.get("type"):
            return self._triage("rules.yaml gives mail no ticket type (mail.new_tickets.type or a mail route)")
        try:
            plan = workflow.plan_new(self.rules, values, self.now)
        except SdeskError as error:
            return self._triage(f"cannot open a ticket: {error.message}")
        refusals = [*plan.missing_fields(), *plan.ineligibility()]
        if refusals:
            return self._triage("; ".join(refusals), reply=_what_to_send(plan))
        watchers = self._watchers(customer)
        if watchers:
            plan.values["watchers"] = ", ".join(watchers)

        def make() -> Ticket:
            costs = "stated in the created mail"
            return self.opened(workflow.create(self.rules, plan, sender, self.now, accept_costs=True, costs_note=costs))

        opened = record.open_ticket(self.desk, make)
        return self._settled("created", opened.ticket.id)

    def customer_of(self, sender: str, follows: Ticket | None) -> Customer | str:
        """The sender's customer from the reference persons; else why not (a string)."""
        found = [customer for customer in self.rules.customers.values() if customer.contact(sender) is not None]
        if follows is not None and follows.customer in self.rules.customers:
            if not found or follows.customer in (customer.key for customer in found):
                return self.rules.customers[follows.customer]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(customer.key for customer in found)
            return f"{sender} is a reference person of several customers ({names}): an agent chooses"
        return f"{sender} is not a designated reference person of any customer"

    def ticket_values(self, customer: Customer, follows: Ticket | None) -> dict[str, str | None]:
        text = quoting.new_text(self.message.text)
        sender = str(self.message.sender)
        values: dict[str, str | None] = {"customer": customer.key, "requester": sender}
        values.update(self.rules.mail.new_tickets)
        subject = re.sub(r"^\s*((re|fw|fwd|antw|doorst|tr|aw|wg)\s*:\s*)+", "", self.message.subject, flags=re.I)
        first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
        values["title"] = (subject or first_line or "(no subject)")[:200]
        values["description"] = text or None
        facts = decisions.facts(self.rules, {**values, "description": text})
        for route in self.rules.mail.routes:
            if route.to is not None and route.to.lower() not in (address.lower() for address in self.message.to):
                continue
            if route.when is not None and not route.when.evaluate(facts).passed:
                continue
            values.update(route.values)
            break
        if follows is not None:
            for name in ("type", "product", "site", "category"):
                values[name] = values.get(name) or follows.value(name)
            values["description"] = f"Follows up on {follows.id} (closed).\n\n{text}".strip()
        person = customer.contact(sender)
        if person is not None and len(person.sites) == 1 and not values.get("site"):
            values["site"] = person.sites[0]
        for line in text.splitlines():
            # as mail programs write them: composed accents, the typographic apostrophe of "Message d’erreur"
            found = _FIELD_LINE.match(unicodedata.normalize("NFC", line).replace("\u2019", "'"))
            if found is None:
                continue
            name, value = FIELD_LINES[found.group(1).lower()], found.group(2).strip()
            try:
                values[name] = workflow.check_value(self.rules, name, value)
            except SdeskError:
                continue  # a value the desk does not know counts as not given: the auto-reply asks for it
        return values

    def _watchers(self, customer: Customer) -> list[str]:
        policy = self.rules.mail.watchers
        if policy == "none":
            return []
        sender = str(self.message.sender).lower()
        found = []
        for address in self.message.cc:
            if address.lower() == sender or self._is_desk(address):
                continue
            if policy == "contacts" and customer.contact(address) is None:
                continue
            found.append(address)
        return found[:MAX_WATCHERS]

    # --- endings ----------------------------------------------------------------------------

    def keep_files(self, ticket_id: str) -> list[attachments.Kept]:
        given = [(item.name, item.data) for item in self.message.attachments]
        kept = attachments.keep(self.desk.root, ticket_id, given, self.rules.mail.max_attachment_bytes)
        where = attachments.folder(self.desk.root, ticket_id)
        self.written += [where / item.file for item in kept if item.new and item.file]
        entries = ({"name": i.name, "size": i.size, "kept": bool(i.file), "file": i.file, "why": i.why} for i in kept)
        self.base.attachments = [{key: value for key, value in entry.items() if value is not None} for entry in entries]
        return kept

    def opened(self, ticket: Ticket, note: str | None = None) -> Ticket:
        """A ticket just made from this mail: its opening event names the mail and the files kept of it."""
        first = ticket.history[-1]
        kept = self.keep_files(ticket.id)
        text = "\n".join(filter(None, [first.text, note, *attachments.not_kept_notes(kept)])) or None
        ticket.history[-1] = replace(first, mail=self.base.id, attachments=attachments.stored_names(kept), text=text)
        return ticket

    def unkept(self, why: str) -> list[dict[str, Any]]:
        """The message's attachments, named in its record as not kept, and why."""
        return [
            {"name": " ".join(item.name.split())[:200], "size": len(item.data), "kept": False, "why": why}
            for item in self.message.attachments
        ]

    def undo_files(self) -> None:
        """Remove the files this message's attempt kept (nothing else refers to them)."""
        for path in self.written:
            path.unlink(missing_ok=True)
            if path.parent.is_dir() and not any(path.parent.iterdir()):
                path.parent.rmdir()
        self.written.clear()

    def _settled(self, outcome: str, ticket_id: str) -> Received:
        return replace(self.base, outcome=outcome, ticket=ticket_id)

    def _ignored(self, why: str) -> Received:
        return replace(self.base, outcome="ignored", reason=why)

    def _triage(self, why: str, ticket: str | None = None, reply: Iterable[str] | None = ()) -> Received:
        """Held for an agent; ``reply`` names what the auto-reply tells the sender (None: no reply at all)."""
        notices = [] if reply is None else list(reply) or [f"held:{why}"]
        sender = self.message.sender
        customer = next((c for c in self.rules.customers.values() if sender and c.contact(sender)), None)
        # A stranger hears once a day whatever they send; a reference person once a day for each reason.
        about = sender if customer is None else f"{sender}#{';'.join(notices)}"
        if notices and (sender is None or not self.senders.may_reply(str(about))):
            notices = []
        language = customer.language if customer is not None else self.rules.language
        if customer is not None and reply is not None:  # kept until an agent decides: accepted, they go to the ticket
            self.keep_files(self.base.id)
        else:  # a stranger's files would grow every clone of the desk for good: named, not kept
            self.base.attachments = self.unkept(
                "not kept: the sender is not known to the desk (ask for it again once a ticket exists)"
            )
        return replace(
            self.base,
            outcome="triage",
            ticket=ticket,
            reason=why,
            reply=notices,
            language=language if notices else None,
        )
