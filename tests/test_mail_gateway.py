"""The mail gateway: what a customer's mail becomes, through `sdesk mail receive` (stdin and a Maildir).

The IMAP mailbox, against a real Dovecot, is tests/test_imap.py; the runner
receiving in a team's clone is tests/test_runner.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml

from sdesk.mail import inbound, quoting
from tests.conftest import NOW, Run, ok, owed_mail

NOW_MOMENT = datetime.fromisoformat(NOW)
ELS = "els.vermeulen@zonnebloem.example"  # a reference person of zonnebloem, sites 2101 and 2102
TOM = "tom.claeys@zonnebloem.example"  # another of zonnebloem
STRANGER = "jan@zonnebloem.example"
DESK = "servicedesk@caresolutions.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def mail(
    sender: str = ELS,
    subject: str = "Dossier opent niet",
    body: str = "Het dossier van bewoner 12 opent niet.\nProduct: care-dossier\nVestiging: 2101\n",
    message_id: str | None = "<m1@zonnebloem.example>",
    to: str = DESK,
    files: tuple[tuple[str, bytes], ...] = (),
    **headers: str,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    for name, data in files:
        message.add_attachment(data, maintype="image", subtype="png", filename=name)
    return message.as_bytes()


@pytest.fixture
def receive(run: Run, desk: Path) -> Callable[..., Any]:
    def send(raw: bytes, *args: str) -> Any:
        return run("mail", "receive", *args, input=raw)  # type: ignore[arg-type]

    return send


def tickets(desk: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted((desk / "tickets").glob("*.yaml"))]


def triage(run: Run) -> list[dict[str, Any]]:
    held: list[dict[str, Any]] = json.loads(ok(run("mail", "triage", "--format", "json")))
    return held


# --- reading a message -------------------------------------------------------------------------------


def test_the_sender_is_the_address_in_angle_brackets_never_a_display_name_that_looks_like_one() -> None:
    forged = inbound.parse(f'From: "{ELS}" <mallory@evil.example>\r\nSubject: hi\r\n\r\nhi\r\n'.encode())
    assert forged.sender == "mallory@evil.example"
    unquoted = inbound.parse(f"From: {ELS} <mallory@evil.example>\r\n\r\nhi\r\n".encode())
    assert unquoted.sender in (None, "mallory@evil.example")
    encoded_word = "=?utf-8?q?els.vermeulen=40zonnebloem.example?="
    encoded = inbound.parse(f"From: {encoded_word} <mallory@evil.example>\r\n\r\nhi\r\n".encode())
    assert encoded.sender == "mallory@evil.example"
    two = inbound.parse(mail(sender=f"{ELS}, mallory@evil.example"))
    assert two.sender is None and any("From" in problem for problem in two.problems)
    tricky = inbound.parse(mail(sender=f"{ELS})<mallory@evil.example>"))
    assert tricky.sender is None


def test_a_message_without_message_id_is_named_by_its_content_so_a_redelivery_is_the_same() -> None:
    first = inbound.parse(mail(message_id=None))
    again = inbound.parse(b"Received: from relay2.example by mx.example\r\n" + mail(message_id=None))
    assert first.key.startswith("sha256:") and first.key == again.key
    assert inbound.parse(mail(message_id=None, body="Iets anders\n")).key != first.key


def test_machine_mail_is_recognised_by_its_headers() -> None:
    assert inbound.parse(mail(Auto_Submitted="auto-replied")).automatic
    assert inbound.parse(mail(Precedence="bulk")).automatic
    assert inbound.parse(mail(List_Id="<list.example>")).automatic
    assert inbound.parse(mail(Return_Path="<>")).automatic
    assert inbound.parse(mail(sender="MAILER-DAEMON@mx.example")).automatic
    assert inbound.parse(mail(Auto_Submitted="no")).automatic is None
    assert inbound.parse(mail()).automatic is None


def test_what_the_sender_added_leaves_quotes_signatures_and_html_behind() -> None:
    assert quoting.new_text("Dank u!\n\nOp 5 dec. 2026 om 10:00 schreef Desk <d@x.example>:\n> oud\n") == "Dank u!"
    assert quoting.new_text("Yes\nOn Sat, Dec 5, 2026 at 10:00 Desk <d@x.example> wrote:\n> old\n") == "Yes"
    assert quoting.new_text("Zie bijlage\n-- \nEls Vermeulen\nWZC De Zonnebloem\n") == "Zie bijlage"
    assert quoting.new_text("Ok\n\n-----Original Message-----\nFrom: desk\n") == "Ok"
    html = "<html><style>p{}</style><body><p>Hallo <b>daar</b></p><div>Regel 2<br>Regel 3</div>"
    html += "<blockquote>oud bericht</blockquote><script>alert(1)</script></body></html>"
    text = quoting.html_to_text(html)
    assert text == "Hallo daar\n\nRegel 2\nRegel 3\n\n> oud bericht"
    assert quoting.new_text(text) == "Hallo daar\n\nRegel 2\nRegel 3"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe\x00garbage without headers",
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" * 200,
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n"
        + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 3000,
        b"From: =?utf-8?b?!!!notbase64?= <x@y.example>\r\nSubject: =?x-unknown?q?hi?=\r\n\r\nhi",
        b"To: " + b", ".join(b"p%d@x.example" % n for n in range(10_000)) + b"\r\nFrom: a@b.example\r\n\r\nhi",
        b"From: a@b.example\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\n\xe9\xe9",
        b"From: a@b.example\r\nContent-Type: text/html\r\n\r\n<p" + b"<" * 100_000,
        b"From: a@b.example\r\nContent-Type: text/html\r\n\r\n" + b"<a " * 200_000,
        b"From: a@b.example\r\nContent-Type: text/html\r\n\r\n" + b"<!--" * 200_000,
        b"From: a@b.example\r\nContent-Type: text/plain; charset=idna\r\n\r\nhallo",
        b"From: a@b.example " + b"(" * 2000 + b"\r\nCc: " + b"g:" * 5000 + b"\r\n\r\nhi",
        b"From: a@b.example\r\nContent-Type: text/plain" + b"; a=b" * 200_000 + b"\r\n\r\nhi",
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\n\n" * 1_000_000,
    ],
    ids=[
        "empty",
        "binary",
        "many-parts",
        "deep-nesting",
        "bad-encoded-words",
        "10000-recipients",
        "charset",
        "html",
        "unclosed-tags",
        "unclosed-comments",
        "idna-charset",
        "nested-comments-and-groups",
        "200000-parameters",
        "a-million-boundaries",
    ],
)
def test_a_hostile_message_is_read_without_an_exception(raw: bytes) -> None:
    found = inbound.parse(raw)
    assert len(found.to) <= inbound.MAX_ADDRESSES
    assert len(found.text) <= inbound.MAX_TEXT_CHARS


# --- a new message -----------------------------------------------------------------------------------


def test_a_reference_persons_mail_opens_a_ticket_with_the_rules_applied_and_owes_the_created_mail(
    receive: Callable[..., Any], desk: Path, run: Run
) -> None:
    out = ok(receive(mail(subject="Storing: dossier opent niet", Cc=f"{TOM}, outsider@elsewhere.example")))
    assert "created" in out
    [ticket] = tickets(desk)
    assert (ticket["customer"], ticket["requester"], ticket["type"]) == ("zonnebloem", ELS, "incident")
    assert (ticket["product"], ticket["site"], ticket["urgency"]) == ("care-dossier", "2101", "high")
    assert ticket["priority"] == "P2" and ticket["team"] == "servicedesk"  # as `sdesk new` decides
    assert ticket["contact"]["phone"] == "+32 50 44 12 10"  # the reference person's, from rules.yaml
    assert ticket["watchers"] == TOM  # a reference person on Cc; the outsider is not one
    assert ticket["history"][0]["by"] == ELS and ticket["history"][0]["mail"].startswith("m-")
    created = next(message for key, message in owed_mail(desk).items() if key.endswith(".created"))
    assert [address.addr_spec for address in created["To"].addresses] == [ELS]
    assert [address.addr_spec for address in created["Cc"].addresses] == [TOM]
    assert created["Reply-To"].addresses[0].addr_spec == f"servicedesk+{ticket['id']}@caresolutions.example"
    assert f"[{ticket['id']}]" in created["Subject"]


def test_a_stranger_is_refused_politely_and_kept_in_triage_until_an_agent_decides(
    receive: Callable[..., Any], desk: Path, run: Run
) -> None:
    out = ok(receive(mail(sender=STRANGER, message_id="<s1@zonnebloem.example>")))
    assert "triage" in out and "not a designated reference person" in out
    assert tickets(desk) == []
    [held] = triage(run)
    assert held["from"] == STRANGER and held["reply_owed"] is True
    [refusal] = owed_mail(desk).values()
    assert refusal["To"] == STRANGER and refusal["In-Reply-To"] == "<s1@zonnebloem.example>"
    body = refusal.get_content()
    assert "referentiepersonen" in body  # zonnebloem speaks Dutch; the desk does too
    assert refusal["Auto-Submitted"] == "auto-generated"

    accepted = ok(run("mail", "accept", held["id"][:8], "--customer", "zonnebloem", "--override", "Belde ook"))
    assert "opened ticket" in accepted
    [ticket] = tickets(desk)
    assert ticket["requester"] == STRANGER and "Belde ook" in ticket["history"][0]["text"]
    assert triage(run) == []
    shown = ok(run("mail", "show", held["id"]))
    assert "accepted by agent@caresolutions.example" in shown and ticket["id"] in shown


def test_a_held_mail_is_dismissed_only_with_a_reason(receive: Callable[..., Any], run: Run) -> None:
    ok(receive(mail(sender="spam@elsewhere.example", message_id="<spam@x.example>")))
    [held] = triage(run)
    refused = run("mail", "dismiss", held["id"], "--reason", "  ")
    assert refused.exit_code == 1 and "reason" in refused.output
    ok(run("mail", "dismiss", held["id"], "--reason", "spam"))
    assert triage(run) == []
    unknown = run("mail", "accept", held["id"])
    assert unknown.exit_code == 1 and "no mail waiting in triage" in unknown.output


def test_a_mail_missing_what_the_type_requires_is_answered_with_the_fields_to_send(
    receive: Callable[..., Any], desk: Path, run: Run
) -> None:
    ok(receive(mail(subject="Storing", body="Het werkt niet.\n", message_id="<m9@zonnebloem.example>")))
    [held] = triage(run)
    assert "needs --product" in held["reason"]
    [refusal] = owed_mail(desk).values()
    assert "Product:" in refusal.get_content()


@pytest.mark.parametrize(
    ("subject", "lines"),
    [
        (
            "TR: Le dossier ne s'ouvre pas",
            "Produit : care-dossier\nSite : 2101\nTéléphone : +32 50 44 12 11\nErreur : 500",
        ),
        (
            "WG: Dossier öffnet nicht",
            "Produkt: care-dossier\nStandort: 2101\nTelefon: +32 50 44 12 11\nFehlermeldung: 500",
        ),
    ],
    ids=["fr", "de"],
)
def test_the_lines_the_refused_mail_asks_for_are_read_in_french_and_german(
    receive: Callable[..., Any], desk: Path, subject: str, lines: str
) -> None:
    ok(receive(mail(subject=subject, body=f"Le dossier 12 / Das Dossier 12.\n{lines}\n")))
    [ticket] = tickets(desk)
    assert ticket["title"] == subject[4:]  # without the forward prefix
    assert (ticket["product"], ticket["site"], ticket["error_message"]) == ("care-dossier", "2101", "500")
    assert ticket["contact"]["phone"] == "+32 50 44 12 11"


def test_exclusions_flag_the_ticket_and_the_created_mail_states_the_cost(
    receive: Callable[..., Any], desk: Path
) -> None:
    body = "De printer in de verpleegpost drukt niet af.\nProduct: care-dossier\nVestiging: 2101\n"
    ok(receive(mail(subject="Vraag over printer", body=body)))
    [ticket] = tickets(desk)
    assert ticket["exclusions"] == ["hardware"]
    assert "stated in the created mail" in ticket["history"][0]["text"]
    created = next(message for key, message in owed_mail(desk).items() if key.endswith(".created"))
    assert "- Hardware valt buiten het contract. We stellen een diagnose" in created.get_content()


def test_the_same_message_twice_is_recorded_once(receive: Callable[..., Any], desk: Path) -> None:
    ok(receive(mail()))
    again = ok(receive(mail()))
    assert "already received" in again
    assert len(tickets(desk)) == 1


def test_machine_mail_and_the_desks_own_mail_are_recorded_never_answered(
    receive: Callable[..., Any], desk: Path, run: Run
) -> None:
    out = ok(receive(mail(message_id="<ooo@x.example>", Auto_Submitted="auto-replied")))
    assert "ignored" in out and "Auto-Submitted" in out
    out = ok(receive(mail(sender=DESK, message_id="<own@x.example>")))
    assert "ignored" in out and "desk itself" in out
    assert tickets(desk) == [] and triage(run) == [] and owed_mail(desk) == {}
    assert len(list((desk / "inbox").glob("*/*.yaml"))) == 2  # logged, not dropped


def test_a_flooding_sender_is_held_unanswered(receive: Callable[..., Any], desk: Path, run: Run) -> None:
    for number in range(22):
        ok(receive(mail(sender=STRANGER, message_id=f"<flood{number}@x.example>", subject=f"Vraag {number}")))
    held = triage(run)
    assert len(held) == 22
    assert sum("throttled" in item["reason"] for item in held) == 2
    assert len(owed_mail(desk)) == 1  # one auto-reply a day to one sender


def test_a_message_on_stdin_that_cannot_be_recorded_asks_the_mta_to_try_again(
    receive: Callable[..., Any], desk: Path
) -> None:
    (desk / "inbox").write_text("a file where the records go\n", encoding="utf-8")
    result = receive(mail())
    assert result.exit_code == 75 and "try again later" in result.output and "Traceback" not in result.output
    (desk / "inbox").unlink()
    assert "created" in ok(receive(mail()))


# --- replies -------------------------------------------------------------------------------------


@pytest.fixture
def opened(receive: Callable[..., Any], desk: Path) -> str:
    ok(receive(mail(message_id="<open@zonnebloem.example>")))
    [ticket] = tickets(desk)
    ticket_id: str = ticket["id"]
    return ticket_id


def reply(ticket_id: str, body: str, number: int = 1, **headers: str) -> bytes:
    quoted = f"{body}\n\nOp 23 nov. 2026 om 10:00 schreef Servicedesk <{DESK}>:\n> Wij hebben uw melding ontvangen\n"
    headers.setdefault("In_Reply_To", f"<{ticket_id}.1.created@caresolutions.example>")
    return mail(
        subject=f"Re: [{ticket_id}] Dossier", body=quoted, message_id=f"<r{number}@zonnebloem.example>", **headers
    )


def test_a_reply_with_a_screenshot_becomes_a_comment_and_a_waiting_ticket_resumes(
    receive: Callable[..., Any], desk: Path, run: Run, opened: str
) -> None:
    ok(run("update", opened, "--status", "waiting-for-customer"))
    out = ok(receive(reply(opened, "Zie de schermafdruk.", files=(("../../etc/scherm afdruk.png", PNG),))))
    assert f"comment {opened}" in out
    [ticket] = tickets(desk)
    event = ticket["history"][-1]
    assert (event["event"], event["visibility"], event["from_customer"]) == ("comment", "public", True)
    assert event["text"] == "Zie de schermafdruk."  # the quote stays in the mail's record
    assert ticket["status"] == "in-progress"
    [name] = event["attachments"]
    assert name.endswith("-scherm afdruk.png") and "/" not in name
    assert (desk / "attachments" / opened / name).read_bytes() == PNG
    shown = ok(run("show", opened))
    assert f"attachment: attachments/{opened}/{name}" in shown and "by mail: m-" in shown
    assert "Wij hebben uw melding ontvangen" in ok(run("mail", "show", event["mail"]))
    checked = run("check")
    assert checked.exit_code == 0 and "0 problems" in checked.output


def test_the_same_screenshot_twice_is_kept_once(receive: Callable[..., Any], desk: Path, opened: str) -> None:
    ok(receive(reply(opened, "Eerste", 1, files=(("a.png", PNG),))))
    ok(receive(reply(opened, "Nog eens", 2, files=(("b.png", PNG),))))
    assert len(list((desk / "attachments" / opened).iterdir())) == 1


def test_an_attachment_over_the_limit_is_kept_out_and_said(
    receive: Callable[..., Any], desk: Path, opened: str
) -> None:
    rules = (desk / "rules.yaml").read_text(encoding="utf-8").replace("max_attachment_mb: 10", "max_attachment_mb: 1")
    (desk / "rules.yaml").write_text(rules, encoding="utf-8")
    ok(receive(reply(opened, "Groot bestand", files=(("groot.png", b"x" * (2 * 1024 * 1024)),))))
    [ticket] = tickets(desk)
    assert "not kept" in ticket["history"][-1]["text"] and "attachments" not in ticket["history"][-1]
    assert not (desk / "attachments" / opened).exists()


def test_a_reply_found_by_its_plus_address_alone(receive: Callable[..., Any], desk: Path, opened: str) -> None:
    raw = mail(
        subject="Nog iets",
        body="Extra info\n",
        message_id="<plus@x.example>",
        to=f"servicedesk+{opened}@caresolutions.example",
    )
    assert f"comment {opened}" in ok(receive(raw))


def test_someone_not_on_the_ticket_cannot_add_to_it(
    receive: Callable[..., Any], desk: Path, run: Run, opened: str
) -> None:
    out = ok(receive(reply(opened, "Ik ben niemand", sender="mallory@evil.example")))
    assert "triage" in out
    [ticket] = tickets(desk)
    assert [event["event"] for event in ticket["history"]] == ["created"]
    [held] = triage(run)
    assert ok(run("mail", "accept", held["id"])).startswith(f"Accepted {held['id']}: added as a comment to {opened}")


def test_a_survey_reply_is_the_answer_once(receive: Callable[..., Any], desk: Path, run: Run, opened: str) -> None:
    ok(run("close", opened, "--resolution", "Opgelost"))
    out = ok(
        receive(reply(opened, "4\nSnel geholpen, dank u.", In_Reply_To=f"<{opened}.abc.survey@caresolutions.example>"))
    )
    assert f"survey {opened}" in out
    [ticket] = tickets(desk)
    assert ticket["history"][-1]["score"] == 4 and ticket["history"][-1]["text"] == "Snel geholpen, dank u."
    second = ok(receive(reply(opened, "5", 2)))
    assert "triage" in second and "second survey answer" in second
    [ticket] = tickets(desk)
    assert ticket["status"] == "closed" and ticket["history"][-1]["score"] == 4


@pytest.mark.parametrize(
    "line", ["5", "Score: 3", "cijfer 2 van 5", "4/5 prima", "Note : 4 sur 5", "Bewertung: 4 von 5", "3 - ça va"]
)
def test_survey_scores_are_read_in_every_language(
    receive: Callable[..., Any], desk: Path, run: Run, opened: str, line: str
) -> None:
    ok(run("close", opened, "--resolution", "Opgelost"))
    assert "survey" in ok(receive(reply(opened, line)))


def test_a_reply_soon_after_closing_reopens_later_it_opens_a_follow_up(
    receive: Callable[..., Any], desk: Path, run: Run, opened: str, at: Callable[[str], None]
) -> None:
    ok(run("close", opened, "--resolution", "Opgelost"))
    at("2026-11-25 09:00")
    assert f"reopened {opened}" in ok(receive(reply(opened, "Het probleem is terug.")))
    [ticket] = tickets(desk)
    assert ticket["status"] == "open" and ticket["history"][-1]["event"] == "comment"
    ok(run("close", opened, "--resolution", "Echt opgelost"))
    at("2026-12-20 09:00")
    out = ok(receive(reply(opened, "Weer hetzelfde probleem.", 2)))
    assert "created" in out
    follow = next(ticket for ticket in tickets(desk) if ticket["id"] != opened)
    assert f"Follows up on {opened}" in follow["description"] and follow["customer"] == "zonnebloem"


# --- a Maildir ---------------------------------------------------------------------------------------


def maildir(root: Path) -> Path:
    for part in ("new", "cur", "tmp"):
        (root / part).mkdir(parents=True, exist_ok=True)
    return root


def test_a_maildir_message_moves_to_cur_once_recorded(run: Run, desk: Path, tmp_path: Path) -> None:
    box = maildir(tmp_path / "Maildir")
    (box / "new" / "1.host").write_bytes(mail())
    (box / "new" / "2.host").write_bytes(mail(sender=STRANGER, message_id="<s@x.example>"))
    os.symlink(desk / "rules.yaml", box / "new" / "3.host")  # not a delivered message: left alone
    out = ok(run("mail", "receive", "--maildir", str(box)))
    assert "created" in out and "triage" in out
    assert sorted(path.name for path in (box / "cur").iterdir()) == ["1.host:2,S", "2.host:2,S"]
    assert [path.name for path in (box / "new").iterdir()] == ["3.host"]
    assert "no new mail" in ok(run("mail", "receive", "--maildir", str(box)))
    (box / "new" / "4.host").write_bytes(mail())  # delivered again by the MTA
    assert "already received" in ok(run("mail", "receive", "--maildir", str(box)))
    assert len(tickets(desk)) == 1


def test_a_folder_that_is_no_maildir_is_a_clear_error(run: Run, desk: Path, tmp_path: Path) -> None:
    result = run("mail", "receive", "--maildir", str(tmp_path))
    assert result.exit_code == 1 and "is not a Maildir" in result.output
    both = run("mail", "receive", "--maildir", str(tmp_path), "--imap", "127.0.0.1:993")
    assert both.exit_code == 2


def test_check_names_a_changed_attachment_and_a_broken_record(
    receive: Callable[..., Any], desk: Path, run: Run, opened: str
) -> None:
    ok(receive(reply(opened, "Zie bijlage", files=(("a.png", PNG),))))
    [stored] = (desk / "attachments" / opened).iterdir()
    stored.write_bytes(b"changed")
    (desk / "inbox" / "zz").mkdir()
    (desk / "inbox" / "zz" / "m-zz00000000000000.yaml").write_text("id: [\n", encoding="utf-8")
    result = run("check")
    assert result.exit_code == 1
    assert "does not hold what its name's digest says" in result.output
    assert "m-zz00000000000000.yaml" in result.output


def test_the_portal_links_the_files_a_customer_sent(
    receive: Callable[..., Any], desk: Path, run: Run, opened: str, tmp_path: Path
) -> None:
    ok(receive(reply(opened, "Zie bijlage", files=(("scherm.png", PNG),))))
    ok(run("export", "html", str(tmp_path / "site")))
    portal = tmp_path / "site" / "customers" / "zonnebloem"
    page = (portal / f"{opened}.html").read_text(encoding="utf-8")
    [stored] = (desk / "attachments" / opened).iterdir()
    assert f'href="files/{opened}/{stored.name}"' in page
    assert (portal / "files" / opened / stored.name).read_bytes() == PNG


def test_with_verified_by_only_the_receiving_servers_top_header_vouches_for_the_sender(
    receive: Callable[..., Any], desk: Path, run: Run
) -> None:
    rules = (desk / "rules.yaml").read_text(encoding="utf-8")
    rules = rules.replace("  address: servicedesk@", "  verified_by: mx.caresolutions.example\n  address: servicedesk@")
    (desk / "rules.yaml").write_text(rules, encoding="utf-8")
    passed = "mx.caresolutions.example; dkim=pass header.d=zonnebloem.example; dmarc=pass"
    forged = "mx.caresolutions.example; dmarc=pass header.from=zonnebloem.example"
    failed = "mx.caresolutions.example; dkim=none; dmarc=fail header.from=zonnebloem.example"
    assert "created" in ok(receive(mail(Authentication_Results=passed)))
    # The receiving server's verdict is on top; a header the sender wrote below it does not count.
    raw = f"Authentication-Results: {failed}\r\n".encode() + mail(
        message_id="<m2@zonnebloem.example>", Authentication_Results=forged
    )
    out = ok(receive(raw))
    assert "triage" in out and "could not be verified" in out and "auto-reply" not in out
    assert len(tickets(desk)) == 1


def test_raw_utf8_headers_are_read_as_utf8() -> None:
    raw = "From: Els <els.vermeulen@zonnebloem.example>\r\nSubject: Café kapot — dringend\r\n\r\nhi\r\n"
    assert inbound.parse(raw.encode("utf-8")).subject == "Café kapot — dringend"


def test_without_message_id_a_copy_with_other_trace_headers_is_the_same_and_another_file_is_not() -> None:
    raw = mail(message_id=None, files=(("a.png", PNG),))
    first = inbound.parse(raw)
    copy = inbound.parse(b"X-Original-To: noc@caresolutions.example\r\nReceived: from mx2\r\n" + raw)
    other = inbound.parse(raw.replace(b"AAAAAAAA", b"AAAAAAAB", 1))  # another file, the same words
    assert first.key == copy.key != other.key


# --- what the gateway cannot take never blocks what comes after it ------------------------------------


def test_a_message_the_desk_cannot_take_waits_in_triage_and_the_next_one_is_recorded(
    run: Run, desk: Path, tmp_path: Path
) -> None:
    rules = (desk / "rules.yaml").read_text(encoding="utf-8")
    rules = rules.replace(
        "    next: [open]                                          # reopening starts over", "    next: []"
    )
    (desk / "rules.yaml").write_text(rules, encoding="utf-8")
    ok(run("mail", "receive", input=mail(message_id="<open@x.example>")))  # type: ignore[arg-type]
    [ticket] = tickets(desk)
    ok(run("close", ticket["id"], "--resolution", "Geannuleerd"))
    box = maildir(tmp_path / "Maildir")
    long_name = "文" * 80 + ".png"
    (box / "new" / "1").write_bytes(reply(ticket["id"], "Toch nog een vraag"))  # closed allows no way out
    (box / "new" / "2").write_bytes(mail(message_id="<m2@x.example>", files=((long_name, PNG),)))
    os.utime(box / "new" / "2", (2_000_000_000, 2_000_000_000))  # after 1
    out = ok(run("mail", "receive", "--maildir", str(box)))
    assert "could not be processed" in out and "no way out of closed" in out
    assert len(tickets(desk)) == 2  # the second message opened its ticket
    [kept] = next(item for item in tickets(desk) if item["id"] != ticket["id"])["history"][0]["attachments"]
    assert len(kept.encode("utf-8")) < 255 and kept.endswith(".png")
    assert sorted(path.name for path in (box / "cur").iterdir()) == ["1:2,S", "2:2,S"]
    assert [item["reason"].split(":")[0] for item in triage(run)] == ["could not be processed"]
    assert not any((desk / "attachments").glob(f"{ticket['id']}/*"))  # the failed reply left no file behind


def test_a_page_or_script_is_kept_under_a_name_no_browser_runs() -> None:
    from sdesk.storage.attachments import safe_name

    assert safe_name("evil.html") == "evil.html.txt" and safe_name("x.SVG") == "x.SVG.txt"
    assert safe_name("rapport.pdf") == "rapport.pdf"


def test_a_strangers_attachments_are_named_not_kept(receive: Callable[..., Any], desk: Path, run: Run) -> None:
    ok(receive(mail(sender="spam@elsewhere.example", message_id="<big@x.example>", files=(("a.png", PNG),))))
    assert not (desk / "attachments").exists()
    [held] = triage(run)
    assert "not kept: the sender is not known" in ok(run("mail", "show", held["id"]))


def test_an_attachment_link_planted_by_a_commit_is_never_read_nor_published(
    receive: Callable[..., Any], desk: Path, run: Run, opened: str, tmp_path: Path
) -> None:
    ok(receive(reply(opened, "Zie bijlage", files=(("a.png", PNG),))))
    [stored] = (desk / "attachments" / opened).iterdir()
    stored.unlink()
    stored.symlink_to(desk / "rules.yaml")  # inside the desk, as a colleague's commit could make it
    ok(run("export", "html", str(tmp_path / "site")))
    assert not (tmp_path / "site" / "customers" / "zonnebloem" / "files").exists()
    assert run("check").exit_code == 1


def test_a_held_mails_record_naming_another_file_never_copies_it_into_a_ticket(
    receive: Callable[..., Any], desk: Path, run: Run
) -> None:
    body = "Het werkt niet.\n"  # a reference person's incident without product: held, its file kept
    ok(receive(mail(subject="Storing", body=body, message_id="<h@x.example>", files=(("a.png", PNG),))))
    [held] = triage(run)
    record = next((desk / "inbox").glob("*/*.yaml"))
    text = record.read_text(encoding="utf-8")
    [stored] = (desk / "attachments" / held["id"]).iterdir()
    record.write_text(text.replace(stored.name, "../../rules.yaml"), encoding="utf-8")
    ok(run("mail", "accept", held["id"], "--product", "care-dossier", "--site", "2101"))
    [ticket] = tickets(desk)
    assert "attachments" not in ticket["history"][0]
    assert not (desk / "attachments" / ticket["id"]).exists()


def test_a_batch_that_cannot_be_committed_is_undone_and_the_mta_tries_again(
    run: Run, desk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git = git_desk(desk, tmp_path, monkeypatch)
    lock = desk / ".git" / "index.lock"
    lock.write_text("")  # a git that is busy (or died) in this clone
    result = run("mail", "receive", input=mail())  # type: ignore[arg-type]
    assert result.exit_code == 75 and "try again later" in result.output
    assert tickets(desk) == [] and not list(desk.glob("inbox/*/*.yaml"))
    lock.unlink()
    assert "created" in ok(run("mail", "receive", input=mail()))  # type: ignore[arg-type]
    assert git("log", "--format=%s", "-1").startswith("sdesk mail: received 1 message (1 created)")


def git_desk(desk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """The desk committed in a git repository of its own; returns git in the desk's folder."""
    from tests.conftest import isolate_git

    isolate_git(tmp_path, monkeypatch)

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=desk, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    (desk / ".gitignore").write_text("/.sdesk/\n", encoding="utf-8")  # as sdesk init writes it
    for args in (
        ["init", "-q"],
        ["config", "user.email", "runner@x.example"],
        ["add", "-A"],
        ["commit", "-qm", "desk"],
    ):
        git(*args)
    return git


def test_receiving_in_a_clone_with_someones_uncommitted_work_is_refused_and_the_work_kept(
    run: Run, desk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_desk(desk, tmp_path, monkeypatch)
    (desk / "tickets" / "draft.txt").write_text("an agent's notes\n", encoding="utf-8")
    result = run("mail", "receive", input=mail())  # type: ignore[arg-type]
    assert result.exit_code == 75 and "uncommitted changes" in result.output
    assert (desk / "tickets" / "draft.txt").read_text(encoding="utf-8") == "an agent's notes\n"
    assert tickets(desk) == []


def test_a_message_that_cannot_be_written_leaves_nothing_half_done_and_the_rest_is_committed(
    run: Run, desk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git = git_desk(desk, tmp_path, monkeypatch)
    box = maildir(tmp_path / "Maildir")
    first, second = mail(message_id="<a@x.example>"), mail(message_id="<b@x.example>", subject="Tweede")
    (box / "new" / "1").write_bytes(first)
    (box / "new" / "2").write_bytes(second)
    os.utime(box / "new" / "2", (2_000_000_000, 2_000_000_000))
    blocked = desk / "inbox" / inbound.parse(second).record_id[2:4]
    blocked.parent.mkdir()
    blocked.write_text("a file where the second record's folder goes\n", encoding="utf-8")  # a full disk, say
    git("add", "-A")
    git("commit", "-qm", "a colleague's mistake")
    result = run("mail", "receive", "--maildir", str(box))
    assert result.exit_code == 1 and "cannot record received mail" in result.output
    assert [ticket["title"] for ticket in tickets(desk)] == ["Dossier opent niet"]  # no ticket without its record
    assert git("status", "--porcelain") == ""  # the first message committed, nothing of the second left
    assert [path.name for path in (box / "new").iterdir()] == ["2"]  # the mailbox keeps what was not recorded
    git("rm", "-q", str(blocked.relative_to(desk)))
    git("commit", "-qm", "mended")
    ok(run("mail", "receive", "--maildir", str(box)))
    assert sorted(ticket["title"] for ticket in tickets(desk)) == ["Dossier opent niet", "Tweede"]


def test_a_message_id_used_again_for_other_words_is_another_message(receive: Callable[..., Any], desk: Path) -> None:
    ok(receive(mail(message_id="<same@monitor.example>")))
    out = ok(receive(mail(message_id="<same@monitor.example>", subject="Iets anders", body="Ander bericht\n")))
    assert "already received" not in out
    assert len(list((desk / "inbox").glob("*/*.yaml"))) == 2


def test_a_message_too_large_to_read_is_answered_so(desk: Path) -> None:
    from sdesk.actions.receive import receive as record
    from sdesk.mail.senders import Senders
    from sdesk.storage.store import Desk

    found = Desk(desk)
    outcome = record(found, mail(), NOW_MOMENT, Senders(desk / ".sdesk", NOW_MOMENT), too_large=True)
    assert outcome.outcome == "triage" and "over 40 MB" in outcome.line
    [refusal] = owed_mail(desk).values()
    assert "groter dan we kunnen ontvangen" in refusal.get_content()
