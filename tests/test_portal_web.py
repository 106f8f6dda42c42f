"""The live portal (`sdesk serve`) through Flask's test client: signing in, what each contact sees and may do,
and everything a stranger or another customer might try. The browser and the real server are in
tests/test_portal_browser.py."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from sdesk.portal.web import Config, create_app
from tests.conftest import AGENT, ok, png

URL = "http://127.0.0.1:8080"
SAME_ORIGIN = {"Origin": URL}
OLIVIA = "olivia.hughes@brightwave.example"  # Brightwave, English, site 5001
ELS = "els.vermeulen@zonnebloem.example"  # Zonnebloem, sites 2101 and 2102
SOFIE = "sofie.peeters@zonnebloem.example"  # Zonnebloem, sees only site 2102 (portal: sites)
PIETER = "pieter.janssens@fod-dt.example"  # FOD Digitale Transformatie


class Outbox:
    """A mail server that keeps what it is handed (the sign-in mail goes out after the answer)."""

    def __init__(self) -> None:
        self.mail: list[email.message.EmailMessage] = []

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def deliver(self, raw: bytes, sender: str, recipients: list[str], ending: Callable[[], None]) -> dict[str, str]:
        ending()
        self.mail.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        return {}

    def link_for(self, address: str, since: int = 0) -> str:
        """The sign-in link the last mail to ``address`` after the first ``since`` brings (waits for it a moment:
        the mail is written after the answer)."""
        for _ in range(100):
            found = [m for m in self.mail[since:] if m["To"].addresses[0].addr_spec == address]
            if found:
                body = found[-1].get_body().get_content()
                return re.search(r"http://\S+", body).group(0).removeprefix(URL)
            time.sleep(0.02)
        raise AssertionError(f"no mail to {address}")


class Customer:
    """A browser of one contact: their cookies, and the form token of their pages."""

    def __init__(self, client: FlaskClient, outbox: Outbox):
        self.client, self.outbox, self.csrf = client, outbox, ""
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.8"  # the pages before signing in follow it

    def sign_in(self, address: str) -> Customer:
        since = len(self.outbox.mail)
        self.client.post("/sign-in", data={"email": address}, headers=SAME_ORIGIN)
        answer = self.client.post(self.outbox.link_for(address, since), headers=SAME_ORIGIN)
        assert answer.status_code == 303, answer.text
        self.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', self.get("/new").text).group(1)
        return self

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})}, headers=SAME_ORIGIN, **kwargs)

    def open_ticket(self, **values: Any) -> str:
        answer = self.post("/new", values, content_type="multipart/form-data")
        assert answer.status_code == 303, answer.text
        return re.fullmatch(r"/([0-9A-Z]{6}-[0-9A-Z]{5})\.html\?done=created", answer.location).group(1)


INCIDENT = {
    "type": "incident",
    "title": "The care dossier does not open",
    "product": "care-dossier",
    "site": "5001",
    "description": "Since this morning the dossier of resident 1182 does not open.",
    "urgency": "high",
}


@pytest.fixture
def portal(desk: Path) -> Iterator[tuple[Callable[[], Customer], Outbox]]:
    outbox = Outbox()
    app = create_app(Config(desk, URL, lambda: outbox))
    yield (lambda: Customer(app.test_client(), outbox)), outbox


@pytest.fixture
def browser(portal: tuple[Callable[[], Customer], Outbox]) -> Callable[[], Customer]:
    return portal[0]


def ticket_file(desk: Path, ticket_id: str) -> str:
    return (desk / "tickets" / f"{ticket_id}.yaml").read_text(encoding="utf-8")


# --- signing in ----------------------------------------------------------------------------------------------


def test_a_contact_signs_in_with_the_link_mailed_to_them_once(portal, desk):
    make, outbox = portal
    customer = make()
    assert customer.get("/").location == "/sign-in"
    sent = customer.client.post("/sign-in", data={"email": "Olivia.Hughes@Brightwave.example"}, headers=SAME_ORIGIN)
    assert "a sign-in link is on its way" in sent.text
    link = outbox.link_for(OLIVIA)
    mail = outbox.mail[-1]
    assert mail["Subject"] == "Your sign-in link for Care Solutions Service Desk"
    assert "15 minutes" in mail.get_body().get_content()
    shown = customer.get(link)  # a mail scanner fetching the link signs nobody in
    assert shown.status_code == 200 and OLIVIA in shown.text and customer.get("/").status_code == 303
    signed = customer.client.post(link, headers=SAME_ORIGIN)
    cookie = signed.headers["Set-Cookie"]
    assert signed.location == "/" and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = customer.get("/")
    assert home.status_code == 200 and "Brightwave Ltd" in home.text and "Signed in as Olivia Hughes" in home.text
    again = make().client.post(link, headers=SAME_ORIGIN)
    assert again.status_code == 410 and "no longer works" in again.text
    events = [json.loads(line)["event"] for line in (desk / ".sdesk" / "portal" / "audit.log").open()]
    assert events == ["link-sent", "signed-in", "link-refused"]


def test_a_stranger_hears_the_same_and_gets_no_mail(portal, desk):
    make, outbox = portal
    for address in ("jan@zonnebloem.example", AGENT, "servicedesk@caresolutions.example"):
        answer = make().client.post("/sign-in", data={"email": address}, headers=SAME_ORIGIN)
        assert answer.status_code == 200 and f"If {address} may sign in" in answer.text
    time.sleep(0.2)
    assert outbox.mail == []
    assert make().get("/sign-in/" + "A" * 43).status_code == 410


def test_the_answer_to_a_sign_in_request_is_given_before_the_desk_looks_who_asked(portal, monkeypatch):
    """Before, a contact's answer came after their link was stored and its mail written, twice as late as a
    stranger's: the time told a stranger which addresses are the desk's contacts."""
    from sdesk.portal import signin

    go_on = threading.Event()
    looked_up = signin.viewer_for
    monkeypatch.setattr(signin, "viewer_for", lambda rules, address: go_on.wait(10) and looked_up(rules, address))
    make, outbox = portal
    asked = [make().client.post("/sign-in", data={"email": a}, headers=SAME_ORIGIN) for a in (OLIVIA, "jan@x.example")]
    assert [answer.status_code for answer in asked] == [200, 200] and outbox.mail == []
    go_on.set()
    assert outbox.link_for(OLIVIA).startswith("/sign-in/") and len(outbox.mail) == 1


def test_a_link_expires_and_a_session_ends_at_sign_out(portal, at):
    make, outbox = portal
    customer = make()
    customer.client.post("/sign-in", data={"email": OLIVIA}, headers=SAME_ORIGIN)
    link = outbox.link_for(OLIVIA)
    at("2026-11-23 10:16")  # the example desk's links last 15 minutes
    assert customer.client.post(link, headers=SAME_ORIGIN).status_code == 410
    olivia = make().sign_in(OLIVIA)
    cookie = olivia.client.get_cookie("sdesk").value
    assert olivia.post("/sign-out").status_code == 200
    thief = make()
    thief.client.set_cookie("sdesk", cookie)
    assert thief.get("/").location == "/sign-in"


def test_asking_for_links_too_often_is_refused_for_the_hour_but_a_stranger_cannot_lock_a_contact_out(portal):
    make, outbox = portal

    def ask(client: str) -> int:
        asked = make().client.post(
            "/sign-in", data={"email": OLIVIA}, headers=SAME_ORIGIN, environ_base={"REMOTE_ADDR": client}
        )
        return int(asked.status_code)

    assert [ask("198.51.100.7") for _ in range(6)] == [200] * 5 + [429]
    assert ask("192.0.2.33") == 200  # Olivia, at her office, still gets her link
    assert [ask(f"203.0.113.{n}") for n in range(20)].count(429) == 6  # 20 links an hour to one address at most


def test_a_flood_of_refused_sign_in_requests_leaves_one_audit_line_an_hour(portal, desk):
    """Before, each refused request wrote its line: a client hammering the sign-in pages filled the disk."""
    client = portal[0]().client
    asked = [client.post("/sign-in", data={"email": f"x{n}@x.example"}, headers=SAME_ORIGIN) for n in range(40)]
    assert [answer.status_code for answer in asked] == [200] * 20 + [429] * 20
    followed = [client.post("/sign-in/" + "A" * 43, headers=SAME_ORIGIN) for _ in range(40)]
    assert [answer.status_code for answer in followed] == [410] * 30 + [429] * 10
    events = [json.loads(line)["event"] for line in (desk / ".sdesk" / "portal" / "audit.log").open()]
    assert (events.count("link-refused"), events.count("limited")) == (30, 2)


def test_a_client_is_counted_by_its_ipv6_network_not_by_each_of_its_addresses(portal):
    """Before, each IPv6 address was a client of its own: anyone with a /64 (any rented server) asked and
    followed links without limit, each time a line in the audit and rows in the credentials file."""
    client = portal[0]().client

    def ask(number: int, address: str) -> int:
        data, where = {"email": f"x{number}@x.example"}, {"REMOTE_ADDR": address}
        return client.post("/sign-in", data=data, headers=SAME_ORIGIN, environ_base=where).status_code

    assert [ask(n, f"2001:db8::{n}") for n in range(1, 22)] == [200] * 20 + [429]
    assert ask(22, "2001:db8:0:1::1") == 200  # the next /64 is another client


def test_a_contact_removed_from_rules_yaml_is_out_at_once(browser, desk):
    olivia = browser().sign_in(OLIVIA)
    rules = desk / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(OLIVIA, "olivia@elsewhere.example"), encoding="utf-8")
    assert olivia.get("/").location == "/sign-in"


def test_a_session_refused_once_its_contact_lost_the_portal_stays_ended_when_it_comes_back(browser, desk):
    """Before, a session (a stolen one, say) refused while rules.yaml said `portal: none` was kept alive by its
    requests and let in again as soon as the portal was given back."""
    olivia = browser().sign_in(OLIVIA)
    rules = desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    mine = f"        email: {OLIVIA}\n"
    rules.write_text(text.replace(mine, mine + "        portal: none\n"), encoding="utf-8")
    assert olivia.get("/").location == "/sign-in"
    rules.write_text(text, encoding="utf-8")
    assert olivia.get("/").location == "/sign-in"
    assert browser().sign_in(OLIVIA).get("/").status_code == 200


# --- forms that come from elsewhere ------------------------------------------------------------------------


def test_a_change_needs_the_sessions_token_and_the_portals_own_origin(browser, desk):
    olivia = browser().sign_in(OLIVIA)
    ticket = olivia.open_ticket(**INCIDENT)
    before = ticket_file(desk, ticket)
    client = olivia.client
    attempts = [
        client.post(f"/{ticket}/answer", data={"text": "x"}, headers=SAME_ORIGIN),  # no token
        client.post(f"/{ticket}/answer", data={"text": "x", "csrf": "0" * 64}, headers=SAME_ORIGIN),
        client.post(
            f"/{ticket}/answer", data={"text": "x", "csrf": olivia.csrf}, headers={"Origin": "https://evil.example"}
        ),
        client.post(f"/{ticket}/answer", data={"text": "x", "csrf": olivia.csrf}),  # no Origin, no Referer
        client.post(
            f"/{ticket}/answer", data={"text": "x", "csrf": olivia.csrf}, headers={"Referer": "https://evil.example/"}
        ),
    ]
    assert [answer.status_code for answer in attempts] == [403] * 5
    assert ticket_file(desk, ticket) == before
    assert olivia.post(f"/{ticket}/answer", {"text": "x"}).status_code == 303


def test_forms_come_from_the_portal_however_its_address_is_written(desk):
    """Before, a portal at https://Support.Caresolutions.example:443 refused every form, sign-in first: a
    browser's Origin has the host in lower case and no default port."""
    app = create_app(Config(desk, "https://Support.Caresolutions.example:443", lambda: Outbox()))
    origin = {"Origin": "https://support.caresolutions.example"}
    assert app.test_client().post("/sign-in", data={"email": OLIVIA}, headers=origin).status_code == 200


def test_every_answer_carries_the_headers_that_keep_pages_inert(browser):
    olivia = browser().sign_in(OLIVIA)
    for page in (olivia.get("/"), olivia.get("/new"), olivia.client.get("/sign-in"), olivia.get("/nothing")):
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert "<script" not in page.text


# --- one customer, another's tickets --------------------------------------------------------------------------


def test_no_contact_reaches_anything_of_another_customers_tickets(browser, desk):
    olivia, els, pieter = browser().sign_in(OLIVIA), browser().sign_in(ELS), browser().sign_in(PIETER)
    theirs = {
        "olivia": (olivia, olivia.open_ticket(**INCIDENT, files=[(png_file(), "screen.png")])),
        "els": (els, els.open_ticket(**{**INCIDENT, "site": "2101"}, files=[(png_file(), "screen.png")])),
        "pieter": (
            pieter,
            pieter.open_ticket(
                **{**INCIDENT, "product": "web-platform", "site": "4711"}, files=[(png_file(), "x.png")]
            ),
        ),
    }
    made_up = "2Q400G-ZZZZZ"
    for name, (viewer, _) in theirs.items():
        nothing = viewer.get(f"/{made_up}.html")
        assert nothing.status_code == 404
        for other, (owner, ticket) in theirs.items():
            page = owner.get(f"/{ticket}.html")
            file_link = re.search(r'href="(files/[^"]+)"', page.text).group(1)
            if other == name:
                assert (
                    viewer.get(f"/{ticket}.html").status_code == 200 and viewer.get("/" + file_link).status_code == 200
                )
                continue
            before = ticket_file(desk, ticket)
            answers = [
                viewer.get(f"/{ticket}.html"),
                viewer.get("/" + file_link),
                viewer.post(f"/{ticket}/answer", {"text": "mine now"}),
                viewer.post(f"/{ticket}/accept", {}),
                viewer.post(f"/{ticket}/reopen", {"reason": "again"}),
                viewer.post(f"/{ticket}/rate", {"score": "1"}),
            ]
            assert [answer.status_code for answer in answers] == [404] * 6, (name, other)
            assert all(answer.text == nothing.text for answer in answers[:2])
            assert ticket not in viewer.get("/").text
            assert ticket_file(desk, ticket) == before


def test_every_form_answers_404_for_a_ticket_the_contact_may_not_see_whatever_it_carries(browser):
    """Before, a form with nothing to say, a bad score or a refused file sent the browser back to whatever
    number the address held (/\\evil.example.html: another site, to a browser) before the ticket was looked at."""
    olivia = browser().sign_in(OLIVIA)
    theirs = browser().sign_in(ELS).open_ticket(**{**INCIDENT, "site": "2101"})
    for number in (theirs, "2Q400G-ZZZZZ", "\\evil.example"):
        answers = [
            olivia.post(f"/{number}/answer", {"text": " "}),
            olivia.post(f"/{number}/answer", {"text": "x", "files": [(file_of(b"<svg/>"), "a.svg")]}),
            olivia.post(f"/{number}/reopen", {"reason": ""}),
            olivia.post(f"/{number}/rate", {"score": "9"}),
        ]
        assert [answer.status_code for answer in answers] == [404] * 4, number


def test_form_tampering_cannot_open_a_ticket_for_another_customers_site_or_product(browser, desk):
    olivia = browser().sign_in(OLIVIA)
    for tampered in ({"site": "2101"}, {"product": "fleet-telemetry"}, {"type": "nonsense"}, {"customer": "vandijk"}):
        answer = olivia.post("/new", {**INCIDENT, **tampered})
        if "customer" in tampered:  # not a field of the form: the ticket is Olivia's customer's all the same
            assert answer.status_code == 303
            assert "customer: brightwave" in ticket_file(desk, answer.location[1:13])
            continue
        assert answer.status_code == 422 and "Choose one from the list." in answer.text


def test_a_contact_who_sees_only_their_site_sees_only_its_tickets(browser):
    els, sofie = browser().sign_in(ELS), browser().sign_in(SOFIE)
    brugge = els.open_ticket(**{**INCIDENT, "site": "2101"})
    oostende = els.open_ticket(**{**INCIDENT, "site": "2102"})
    assert sofie.get(f"/{brugge}.html").status_code == 404 and sofie.get(f"/{oostende}.html").status_code == 200
    home = sofie.get("/").text
    assert oostende in home and brugge not in home
    assert "2101" not in sofie.get("/new").text  # she picks only her own site
    assert sofie.post("/new", {**INCIDENT, "site": "2101"}).status_code == 422


# --- opening a ticket ---------------------------------------------------------------------------------------------


def test_the_form_asks_what_the_type_needs_as_sdesk_new_does(browser):
    olivia = browser().sign_in(OLIVIA)
    form = olivia.get("/new").text
    assert "needed for: Incident, Service request, Change" in form  # product
    assert 'value="+44 20 7946 0321"' in form and '<option value="5001" selected>' in form  # hers, from rules.yaml
    answer = olivia.post("/new", {"type": "change", "title": "New report", "url": "ftp://files.example"})
    assert answer.status_code == 422
    errors = re.findall(r'<p class="error" id="e-(\w+)">([^<]+)</p>', answer.text)
    assert ("url", "Start the address with http:// or https://.") in errors
    answer = olivia.post("/new", {"type": "change", "title": "New report", "site": "5001"})
    assert ("description", "Needed for a ticket of this type.") in re.findall(r'id="e-(\w+)">([^<]+)<', answer.text)
    assert 'value="New report"' in answer.text  # what was typed stays


def test_a_cost_warning_must_be_accepted_and_the_acceptance_is_recorded(browser, desk, run):
    olivia = browser().sign_in(OLIVIA)
    question = {"type": "question", "title": "Our label printer does not print", "description": "The printer in room 2"}
    warned = olivia.post("/new", question)
    assert warned.status_code == 200 and "This may cost extra" in warned.text
    assert "Hardware falls outside the contract." in warned.text
    assert not list((desk / "tickets").glob("*.yaml"))
    ticket = olivia.open_ticket(**question, accept_costs="yes")
    shown = json.loads(ok(run("show", ticket, "--format", "json")))
    assert shown["exclusions"] == ["hardware"]
    assert "May cost extra (hardware), accepted on the portal" in shown["history"][0]["text"]
    assert shown["history"][0]["by"] == OLIVIA and shown["requester"] == OLIVIA
    assert "Outside the contract" in olivia.get(f"/{ticket}.html").text


def test_screenshots_are_kept_and_shown_as_images_other_files_only_downloaded(browser, desk):
    olivia = browser().sign_in(OLIVIA)
    page_bytes = b"<html><script>alert(1)</script></html>"
    ticket = olivia.open_ticket(**INCIDENT, files=[(png_file(), "screen.png"), (file_of(page_bytes), "notes.txt")])
    page = olivia.get(f"/{ticket}.html").text
    links = dict((name, href) for href, name in re.findall(r'href="(files/[^"]+)" download>([^<]+)<', page))
    image, text = olivia.get("/" + links["screen.png"]), olivia.get("/" + links["notes.txt"])
    assert image.data == png() and image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline")
    assert text.headers["Content-Type"] == "application/octet-stream"
    assert text.headers["Content-Disposition"].startswith("attachment") and text.data == page_bytes
    assert "sandbox" in text.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("page.html", b"<script>", "page.html: files of this type are not accepted."),
        ("logo.svg", b"<svg/>", "logo.svg: files of this type are not accepted."),
        ("empty.png", b"", "empty.png is empty."),
        ("big.png", b"\x89PNG" + b"0" * (10 * 2**20), "big.png is larger than 10 MB."),
    ],
)
def test_a_file_the_portal_does_not_take_refuses_the_form_and_says_why(browser, desk, name, data, said):
    olivia = browser().sign_in(OLIVIA)
    answer = olivia.post("/new", {**INCIDENT, "files": [(file_of(data), name)]}, content_type="multipart/form-data")
    assert answer.status_code == 422 and said in answer.text
    assert not list((desk / "tickets").glob("*.yaml")) and not (desk / "attachments").exists()


def test_only_a_signed_in_contacts_form_with_files_may_be_large(browser):
    """A body without files is read whole into memory: past what a form holds it is refused unread, from
    anyone; a stranger's may not bring files at all (before, 50 MB of either was read for a stranger)."""
    stranger = browser()
    assert stranger.client.post("/sign-in", data={"email": "x" * 2**20}, headers=SAME_ORIGIN).status_code == 413
    files = {"email": OLIVIA, "files": [(file_of(b"0" * 2**20), "a.png")]}
    upload = stranger.client.post("/sign-in", data=files, headers=SAME_ORIGIN, content_type="multipart/form-data")
    assert upload.status_code == 413
    olivia = browser().sign_in(OLIVIA)
    ticket = olivia.open_ticket(**INCIDENT, files=[(file_of(png() + b"0" * 2**20), "screen.png")])
    assert olivia.post(f"/{ticket}/answer", {"text": "x" * 2**20}).status_code == 413


def test_a_contact_sends_at_most_a_days_upload_volume(browser, desk, run):
    rules = desk / "rules.yaml"
    rules.write_text(rules.read_text().replace("upload_mb_per_day: 200", "upload_mb_per_day: 1"), encoding="utf-8")
    olivia = browser().sign_in(OLIVIA)
    ticket = olivia.open_ticket(**INCIDENT, files=[(file_of(png() + b"0" * 600_000), "a.png")])
    refused = olivia.post(f"/{ticket}/answer", {"text": "b", "files": [(file_of(png() + b"1" * 600_000), "b.png")]})
    assert refused.status_code == 422 and "the most the portal takes in a day" in refused.text
    assert olivia.post(f"/{ticket}/answer", {"text": "words still go"}).status_code == 303
    assert [event["event"] for event in json.loads(ok(run("show", ticket, "--format", "json")))["history"]] == [
        "created",
        "comment",
    ]


def test_opening_more_tickets_in_an_hour_than_rules_yaml_allows_is_refused(browser, desk):
    rules = desk / "rules.yaml"
    rules.write_text(rules.read_text().replace("new_tickets_per_hour: 10", "new_tickets_per_hour: 2"), encoding="utf-8")
    olivia = browser().sign_in(OLIVIA)
    olivia.open_ticket(**INCIDENT)
    olivia.open_ticket(**INCIDENT)
    third = olivia.post("/new", INCIDENT)
    assert third.status_code == 429 and "the most the portal takes" in third.text
    assert len(list((desk / "tickets").glob("*.yaml"))) == 2


# --- working on a ticket -------------------------------------------------------------------------------------


def test_an_answer_puts_a_waiting_ticket_back_with_the_desk(browser, run, desk):
    olivia = browser().sign_in(OLIVIA)
    ticket = olivia.open_ticket(**INCIDENT)
    ok(run("update", ticket, "--status", "waiting-for-customer", "--note", "Which browser do you use?"))
    page = olivia.get(f"/{ticket}.html").text
    assert "We are waiting for your answer" in page and "Which browser do you use?" in page
    answered = olivia.post(f"/{ticket}/answer", {"text": "Edge", "files": [(png_file(), "edge.png")]})
    assert answered.location == f"/{ticket}.html?done=answered"
    shown = json.loads(ok(run("show", ticket, "--format", "json")))
    assert shown["status"] == "in-progress"
    last = shown["history"][-1]
    assert (last["event"], last["text"], last["by"], last.get("from_customer")) == ("comment", "Edge", OLIVIA, True)
    assert last["attachments"][0].endswith("-edge.png")
    assert "Your answer was added." in olivia.get(answered.location).text


def test_a_solution_awaiting_acceptance_is_accepted_and_the_ticket_closes(browser, run):
    olivia = browser().sign_in(OLIVIA)
    ticket = olivia.open_ticket(**INCIDENT)
    ok(run("update", ticket, "--status", "in-progress"))
    assert "Accept the solution" not in olivia.get(f"/{ticket}.html").text
    ok(run("update", ticket, "--status", "awaiting-acceptance", "--note", "Index rebuilt: please check"))
    assert "Accept the solution" in olivia.get(f"/{ticket}.html").text
    assert olivia.post(f"/{ticket}/accept", {"remark": "Works again"}).status_code == 303
    shown = json.loads(ok(run("show", ticket, "--format", "json")))
    assert (shown["status"], shown["resolution"]) == ("closed", "Solution accepted by the customer")
    assert shown["history"][-1]["text"] == "Accepted the solution: Works again"
    assert olivia.post(f"/{ticket}/accept", {}).status_code == 409


def test_a_closed_ticket_is_rated_once_and_reopened_only_within_the_period(browser, run, at):
    olivia = browser().sign_in(OLIVIA)
    ticket = olivia.open_ticket(**INCIDENT)
    ok(run("close", ticket, "--resolution", "Restarted the service"))
    page = olivia.get(f"/{ticket}.html").text
    assert "How did we do?" in page and "You can reopen this ticket until" in page
    assert olivia.post(f"/{ticket}/rate", {"score": "9"}).location == f"/{ticket}.html"
    assert olivia.post(f"/{ticket}/rate", {"score": "4", "remark": "Quick"}).status_code == 303
    again = olivia.post(f"/{ticket}/rate", {"score": "1"})
    assert again.status_code == 409 and "already answered" in again.text
    shown = json.loads(ok(run("show", ticket, "--format", "json")))
    assert [(event["score"], event["text"]) for event in shown["history"] if event["event"] == "survey"] == [
        (4, "Quick")
    ]
    assert "You rated this ticket 4 out of 5." in olivia.get(f"/{ticket}.html").text
    at("2026-12-08 10:00")  # 15 days later: the example desk reopens within 14
    olivia = browser().sign_in(OLIVIA)
    assert "Reopen the ticket" not in olivia.get(f"/{ticket}.html").text
    assert olivia.post(f"/{ticket}/reopen", {"reason": "Broken again"}).status_code == 409
    at("2026-11-24 10:00")
    olivia = browser().sign_in(OLIVIA)
    assert olivia.post(f"/{ticket}/reopen", {"reason": "Broken again"}).status_code == 303
    assert json.loads(ok(run("show", ticket, "--format", "json")))["status"] == "open"


def test_a_change_in_git_is_committed_at_once_for_the_runner_to_push(browser, desk, tmp_path):
    in_git(desk)
    olivia = browser().sign_in(OLIVIA)
    ticket = olivia.open_ticket(**INCIDENT, files=[(png_file(), "screen.png")])
    olivia.post(f"/{ticket}/answer", {"text": "One more thing"})
    assert git_log(desk)[:2] == [f"sdesk portal: answered {ticket}", f"sdesk portal: opened {ticket}"]
    assert git_status(desk) == ""


def test_a_portal_commit_holds_the_customers_change_and_nothing_else_in_the_clone(browser, desk, run):
    """Before, it took whatever else was staged (rules.yaml edited in the runner's clone, a killed cycle's
    half-done files) and every changed ticket: committed as a customer's change, which the next cycle pushes
    past its refusal of changes a cycle did not make."""
    in_git(desk)
    olivia = browser().sign_in(OLIVIA)
    ticket, other = olivia.open_ticket(**INCIDENT), olivia.open_ticket(**INCIDENT)
    rules = desk / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "# edited in the runner's clone\n", encoding="utf-8")
    subprocess.run(["git", "add", "rules.yaml"], cwd=desk, check=True)
    ok(run("comment", other, "Written by a cycle that was killed"))
    olivia.post(f"/{ticket}/answer", {"text": "Edge", "files": [(png_file(), "edge.png")]})
    committed = subprocess.run(["git", "show", "--name-only", "--format=", "HEAD"], cwd=desk, capture_output=True)
    assert committed.stdout.decode().split() == [f"attachments/{ticket}/{png_name()}", f"tickets/{ticket}.yaml"]
    assert git_status(desk) == f" M tickets/{other}.yaml\n"


def test_a_change_git_does_not_commit_is_not_saved_and_leaves_nothing_behind(browser, desk, run):
    """Before, the customer read "Nothing was saved" while the new ticket stayed in tickets/: on their page,
    and in the commit of the next change anyone made on the portal. It was put back only when the whole
    clone could be (not with an edit of rules.yaml in it, nor while git's index was locked)."""
    in_git(desk)
    hook = desk / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    rules = desk / "rules.yaml"
    edited = rules.read_text(encoding="utf-8") + "# edited in the runner's clone\n"
    rules.write_text(edited, encoding="utf-8")
    olivia = browser().sign_in(OLIVIA)
    refused = olivia.post("/new", {**INCIDENT, "files": [(png_file(), "screen.png")]})
    assert refused.status_code == 500 and "Nothing was saved" in refused.text
    assert git_status(desk) == "" and not list((desk / "tickets").glob("*.yaml"))
    assert "The care dossier does not open" not in olivia.get("/").text
    assert rules.read_text(encoding="utf-8") == edited  # not the portal's: left as it is
    hook.unlink()
    ticket = olivia.open_ticket(**{**INCIDENT, "title": "Printing fails"})
    assert git_log(desk)[0] == f"sdesk portal: opened {ticket}"
    assert [path.stem for path in (desk / "tickets").glob("*.yaml")] == [ticket]
    ok(run("check"))


# --- the command ---------------------------------------------------------------------------------------------


def test_serve_says_what_it_needs_before_it_listens(desk, run):
    assert "needs --smtp HOST:PORT" in run("serve").output
    wrong = run("serve", "--smtp", "127.0.0.1:2525", "--url", "http://support.example.com")
    assert wrong.exit_code == 2 and "customers sign in over https" in wrong.output
    port = run("serve", "--smtp", "127.0.0.1:2525", "--url", "https://support.example.com:99999")
    assert port.exit_code == 2 and "the port is a number from 1 to 65535" in port.output
    rules = desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("  url: https://support.caresolutions.example", ""), encoding="utf-8")
    assert "give --url" in run("serve", "--smtp", "127.0.0.1:2525", "--host", "0.0.0.0").output
    rules.write_text(text.replace("  url: https://support", "  url: ftp://support"), encoding="utf-8")
    broken = run("rules", "check")
    assert broken.exit_code == 1 and "portal.url" in broken.output and "is not a web address" in broken.output


def test_a_list_never_loads_the_web_server(desk, run):
    import sys

    probe = (
        "import sys\nfrom click.testing import CliRunner\nfrom sdesk.cli import main\n"
        "assert CliRunner().invoke(main, ['list']).exit_code == 0\n"
        "print(sorted(m for m in ('flask', 'waitress', 'werkzeug') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- helpers -------------------------------------------------------------------------------------------------


def in_git(desk: Path) -> None:
    """The desk in a git repository of its own, committed, as the runner's clone is."""
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "desk"]):
        subprocess.run(["git", "-c", "user.email=runner@x.example", "-c", "user.name=R", *args], cwd=desk, check=True)
    subprocess.run(["git", "config", "user.email", "runner@x.example"], cwd=desk, check=True)
    subprocess.run(["git", "config", "user.name", "Runner"], cwd=desk, check=True)


def git_log(desk: Path) -> list[str]:
    return subprocess.run(["git", "log", "--format=%s"], cwd=desk, capture_output=True, text=True).stdout.split("\n")


def git_status(desk: Path) -> str:
    """What git sees changed in the desk's own files (tickets, attachments): empty when all is committed."""
    listed = ["git", "status", "--porcelain", "--untracked-files=all", "tickets", "attachments"]
    return subprocess.run(listed, cwd=desk, capture_output=True, text=True).stdout


def file_of(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def png_file() -> Any:
    return file_of(png())


def png_name(name: str = "edge.png") -> str:
    """The name conftest.png() is kept under as ``name``."""
    return f"{hashlib.sha256(png()).hexdigest()[:12]}-{name}"
