"""The live portal (`sdesk serve`, issue 22) as customers use it: headless Chromium against a real server.

The desk is shared as a team shares it: a bare origin, An's clone where she works with the CLI, and the
runner's clone, where `sdesk serve` runs as a subprocess and `sdesk run` cycles. Sign-in links go to a
real SMTP server on 127.0.0.1 and are read from the mail that arrived. The server, the cycles and An work
at one pinned moment: the server reads SDESK_NOW too, and its clock cannot move while it runs. The
browser reaches nothing but the portal; any other request is aborted and recorded. Each test has a desk
and a server of its own, stopped when it ends, however it ends.

Before signing in, the pages speak the desk's language (Dutch); after, the contact's: Olivia of
Brightwave reads English, Marieke of Van Dijk Dutch.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from tests.chromium import Tab, launched, open_tab
from tests.clones import git, pull, run_cycle, runner_clone, share, shared_desk, this_sdesk_first
from tests.conftest import NOW, Run, example_rules_text, png
from tests.mailserver import Recorder, recording_server
from tests.portalserver import serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Response

AN = "an.wouters@caresolutions.example"
OLIVIA = "olivia.hughes@brightwave.example"  # Brightwave's general reference person: English, site 5001
MARIEKE = "m.devries@vandijk.example"  # Van Dijk's: Dutch
STRANGER = "someone@elsewhere.example"
MADE_UP = "0QH7KD-4M2ZP"  # a ticket number no desk here has
SCREENSHOT_NAME = "error-on-save.png"
SCREENSHOT = png(24, 16, (200, 30, 30))
MAIL_SECONDS = 15


def portal_rules() -> str:
    """The example desk's rules without the portal's address: the server's own, on a free port, is the portal's."""
    text = example_rules_text()
    address = "  url: https://support.caresolutions.example"
    assert address in text
    return text.replace(address, "")


# --- the parts: mail, the server, the browser ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def outside_any_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    this_sdesk_first(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Recorder, int]]:
    with recording_server() as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as started:
        yield started


@dataclass(frozen=True)
class Portal:
    url: str  # where the browser reaches it: http://127.0.0.1:PORT
    runner: Path  # the runner's clone, where it runs
    agent: Path  # An's clone
    mail: Recorder  # what reached the SMTP server
    log: Path  # what the server wrote to stderr


@pytest.fixture
def portal(tmp_path: Path, run: Run, smtp: tuple[Recorder, int]) -> Iterator[Portal]:
    recorder, smtp_port = smtp
    origin, agent = shared_desk(tmp_path, run, AN, portal_rules())
    runner = runner_clone(origin, tmp_path / "runner")
    log = tmp_path / "serve.log"
    with serving(runner, smtp_port, log) as url:
        yield Portal(url, runner, agent, recorder, log)


@contextmanager
def browsing(browser: Browser, url: str) -> Iterator[Tab]:
    """A tab of its own (its own cookies) that may reach the portal only, in a Flemish browser: the pages
    before signing in speak its language, those after the contact's."""
    tab = open_tab(browser, allowed=(url + "/", "data:"), locale="nl-BE")
    try:
        yield tab
    finally:
        tab.page.context.close()


def mail_to(recorder: Recorder, address: str, since: int) -> EmailMessage:
    """The mail ``address`` got after the first ``since`` arrived (it goes out just after the page answers)."""
    deadline = time.monotonic() + MAIL_SECONDS
    while time.monotonic() < deadline:
        for arrival in recorder.arrived[since:]:
            if address in arrival.rcpt_tos:
                return arrival.message
        time.sleep(0.05)
    raise AssertionError(f"no mail reached {address}")


# --- what a user does and sees -----------------------------------------------------------------------------------


def submit(tab: Tab, button: str) -> Response:
    """Press the button as a user does, and wait for the page the form leads to (after any redirect)."""
    with tab.page.expect_navigation() as navigation:
        tab.page.get_by_role("button", name=button, exact=True).click()
    response = navigation.value
    assert response is not None
    return response


def text(tab: Tab, selector: str = "main") -> str:
    return tab.page.inner_text(selector)


ON_ATTRIBUTES = "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes]).filter(a => /^on/i.test(a.name))"


def clean(tab: Tab) -> None:
    """What a browser must never see on a portal page: a complaint, a request elsewhere, a script."""
    assert tab.problems() == []
    assert tab.js("document.querySelectorAll('script').length") == 0
    assert tab.js(f"{ON_ATTRIBUTES}.length") == 0


def csrf(tab: Tab) -> str:
    """The session's form token, as every form on the open page carries it."""
    tokens = set(tab.js("[...document.querySelectorAll('input[name=csrf]')].map(input => input.value)"))
    assert len(tokens) == 1 and "" not in tokens, tokens
    return str(tokens.pop())


def ask_for_link(tab: Tab, url: str, address: str) -> str:
    """Ask for a sign-in link as anyone can, on the desk's (Dutch) page; the words of the answer."""
    tab.page.goto(url + "/")
    assert tab.page.url == url + "/sign-in"  # not signed in: sent to sign in
    tab.page.get_by_label("Uw e-mailadres").fill(address)
    asked = submit(tab, "Mail mij een aanmeldlink")
    assert (asked.status, text(tab, "h1")) == (200, "Kijk in uw mailbox")
    clean(tab)
    return text(tab)


def sign_in(tab: Tab, portal: Portal, address: str, button: str) -> str:
    """Sign in as a contact does: type the address, open the mailed link, press ``button`` (in their language).
    The words the sign-in page answered with."""
    since = len(portal.mail.arrived)
    answer = ask_for_link(tab, portal.url, address)
    body = mail_to(portal.mail, address, since).get_content()
    links = re.findall(rf"{re.escape(portal.url)}/sign-in/\S+", body)
    assert len(links) == 1, body
    opened = tab.page.goto(links[0])
    assert opened is not None and opened.status == 200
    assert address in text(tab)  # a page that asks first: a mail scanner fetching the link signs nobody in
    submit(tab, button)
    assert tab.page.url == portal.url + "/"
    clean(tab)
    used = tab.page.goto(links[0])
    assert used is not None and used.status == 410  # a link works once
    assert [problem for problem in tab.problems() if "status of 410" not in problem] == []  # Chromium logs it
    tab.page.goto(portal.url + "/")
    return answer


def ticket_number(tab: Tab, url: str) -> str:
    """The number of the ticket just opened, from the address its page is at."""
    found = re.fullmatch(rf"{re.escape(url)}/([0-9A-Z]{{6}}-[0-9A-Z]{{5}})\.html\?done=created", tab.page.url)
    assert found, tab.page.url
    return found.group(1)


def open_incident(tab: Tab, url: str) -> str:
    """From the portal's home page: an incident with the fields an incident needs and a screenshot; its number."""
    tab.page.get_by_role("link", name="New ticket").click()
    tab.page.wait_for_url(url + "/new")
    clean(tab)
    form = tab.page
    form.select_option("#f-type", "incident")
    form.fill("#f-title", "Care Dossier shows an error when saving a resident's file")
    form.select_option("#f-product", "care-dossier")
    form.select_option("#f-site", "5001")
    form.fill("#f-description", "Saving the file of resident 1182 fails with an error since this morning.")
    form.fill("#f-contact_phone", "+44 20 7946 0321")
    form.set_input_files("#f-files", {"name": SCREENSHOT_NAME, "mimeType": "image/png", "buffer": SCREENSHOT})
    submit(tab, "Open the ticket")
    clean(tab)
    return ticket_number(tab, url)


def shown_in(run: Run, clone: Path, ticket_id: str) -> dict[str, Any]:
    """The ticket as `sdesk show --format json` prints it in ``clone``."""
    result = run("show", ticket_id, "--format", "json", env={"SDESK_DIR": str(clone), "SDESK_NOW": NOW})
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


# --- the story ---------------------------------------------------------------------------------------------------


def test_a_customer_signs_in_opens_answers_and_rates_and_another_reaches_none_of_it(
    browser: Browser, portal: Portal, run: Run
) -> None:
    url, runner, agent = portal.url, portal.runner, portal.agent

    def an(*args: str) -> str:
        """An, in her clone, with the CLI."""
        result = run(*args, env={"SDESK_DIR": str(agent), "SDESK_NOW": NOW, "SDESK_USER": AN})
        assert result.exit_code == 0, result.output
        return str(result.stdout)

    def cycle() -> None:
        """`sdesk run` in the runner's clone: it pulls An's work and pushes the portal's."""
        run_cycle(runner, NOW)

    with browsing(browser, url) as olivia:
        documents: list[tuple[str, dict[str, str]]] = []  # every page and redirect the tab got: address, headers

        def arrived(response: Response) -> None:
            if response.request.resource_type == "document":
                documents.append((urlsplit(response.url).path, response.headers))

        olivia.page.on("response", arrived)

        # Olivia signs in from the link in her mail; the session cookie is out of scripts' and other sites' reach.
        asked = sign_in(olivia, portal, OLIVIA, "Sign in")
        assert "Signed in as Olivia Hughes, Brightwave Ltd" in text(olivia, "header")
        (cookie,) = olivia.page.context.cookies()
        assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == ("sdesk", True, "Lax")

        # An incident with a screenshot: its page shows its number and the file, which comes back as the image.
        incident = open_incident(olivia, url)
        assert f"Ticket {incident} is opened." in text(olivia)
        assert text(olivia, "h1").startswith(f"{incident}: Care Dossier shows an error")
        screenshot = olivia.page.get_by_role("link", name=SCREENSHOT_NAME)
        with olivia.page.expect_download() as download:
            screenshot.click()
        assert Path(download.value.path()).read_bytes() == SCREENSHOT
        file_url = screenshot.evaluate("link => link.href")
        assert file_url.startswith(f"{url}/files/{incident}/")
        kept = olivia.page.request.get(file_url)
        assert (kept.status, kept.body()) == (200, SCREENSHOT)
        assert kept.headers["content-type"] == "image/png"
        assert kept.headers["content-disposition"] == f"inline; filename={SCREENSHOT_NAME}"
        assert kept.headers["x-content-type-options"] == "nosniff"
        clean(olivia)

        # A question about a printer: hardware, outside the contract. The form warns before the ticket opens.
        olivia.page.goto(url + "/new")
        form = olivia.page
        form.select_option("#f-type", "question")
        form.fill("#f-title", "The printer at reception prints blank pages")
        form.fill("#f-description", "Since yesterday the printer at reception only prints blank pages.")
        warned = submit(olivia, "Open the ticket")
        assert (warned.status, olivia.page.url) == (200, url + "/new")
        clean(olivia)
        costs = text(olivia, ".costs")
        assert "This may cost extra" in costs
        assert "Hardware falls outside the contract." in costs
        assert form.input_value("#f-title") == "The printer at reception prints blank pages"
        form.get_by_label("I have read this and want the ticket opened").check()
        submit(olivia, "Open the ticket")
        question = ticket_number(olivia, url)
        clean(olivia)
        assert "Outside the contract" in text(olivia)
        assert "Hardware falls outside the contract." in text(olivia)

        # An asks a question on the incident; once the runner pulled it, the portal says it is Olivia's turn.
        cycle()
        pull(agent)
        an("update", incident, "--status", "waiting-for-customer")
        an("comment", incident, "Which error message do you see, word for word?")
        share(agent, f"Asked Olivia about {incident}")
        cycle()
        olivia.page.goto(f"{url}/{incident}.html")
        clean(olivia)
        assert "Your turn (Waiting for customer): please reply to our last message." in text(olivia)
        assert "Which error message do you see, word for word?" in text(olivia)
        assert "We are waiting for your answer" in text(olivia)

        # Olivia answers: the ticket goes back to the desk, and An sees both once the runner pushed.
        olivia.page.get_by_label("Your answer").fill("It says: Record locked by another session (E-4711).")
        submit(olivia, "Send")
        clean(olivia)
        assert "Your answer was added." in text(olivia)
        assert olivia.page.locator("dl.facts dd").first.inner_text() == "In progress"
        cycle()
        pull(agent)
        seen = json.loads(an("show", incident, "--format", "json"))
        assert seen["status"] == "in-progress"
        answered = seen["history"][-1]
        assert (answered["event"], answered["by"], answered["text"]) == (
            "comment",
            OLIVIA,
            "It says: Record locked by another session (E-4711).",
        )
        assert {"field": "status", "from": "waiting-for-customer", "to": "in-progress"} in answered["changes"]
        subject = git(agent, "log", "-1", "--format=%s", "--", f"tickets/{incident}.yaml").stdout
        assert subject.startswith("sdesk portal:"), subject

        # An closes it; Olivia rates it 4 with a remark, once.
        an("close", incident, "--resolution", "Released the stale lock; saving works again.")
        share(agent, f"Closed {incident}")
        cycle()
        olivia.page.goto(f"{url}/{incident}.html")
        assert "Released the stale lock; saving works again." in text(olivia)
        olivia.page.get_by_label("4: satisfied").check()
        olivia.page.get_by_label("Remark (optional)").fill("Quick and clear.")
        submit(olivia, "Send my rating")
        clean(olivia)
        assert "Thank you for your rating." in text(olivia)
        assert "You rated this ticket 4 out of 5." in text(olivia)
        assert olivia.page.locator("form[action$='/rate']").count() == 0
        again = olivia.page.request.post(
            f"{url}/{incident}/rate", form={"csrf": csrf(olivia), "score": "1"}, headers={"Origin": url}
        )
        assert again.status == 409 and "already answered" in again.text()
        surveys = [event for event in shown_in(run, runner, incident)["history"] if event["event"] == "survey"]
        assert [(event["score"], event["text"]) for event in surveys] == [(4, "Quick and clear.")]

        # Every page came with the headers that keep it to itself.
        pages = {"/sign-in", "/", "/new", f"/{incident}.html", f"/{question}.html", f"/{incident}/rate"}
        assert pages <= {path for path, _ in documents}
        for path, headers in documents:
            assert headers.get("x-content-type-options") == "nosniff", path
            assert "default-src 'none'" in headers.get("content-security-policy", ""), path

    # A stranger hears what Olivia heard, gets no link and reaches no ticket.
    with browsing(browser, url) as stranger:
        assert ask_for_link(stranger, url, STRANGER) == asked.replace(OLIVIA, STRANGER)
        stranger.page.goto(f"{url}/{incident}.html")
        assert stranger.page.url == url + "/sign-in"

    # Marieke of Van Dijk: whatever she asks of Brightwave's tickets is answered as a number that does not exist.
    before = brightwave_files(runner, (incident, question))
    last = git(runner, "rev-parse", "HEAD").stdout.strip()
    with browsing(browser, url) as marieke:
        sign_in(marieke, portal, MARIEKE, "Aanmelden")
        assert not [arrival for arrival in portal.mail.arrived if STRANGER in arrival.rcpt_tos]  # asked before her
        assert incident not in text(marieke) and question not in text(marieke)
        reach_nothing(marieke, url, (incident, question), file_url.rsplit("/", 1)[1])
        tampered = tamper(marieke, url)
        clean(marieke)
    assert brightwave_files(runner, (incident, question)) == before
    opened = shown_in(run, runner, tampered)
    assert (opened["customer"], opened["requester"]) == ("vandijk", MARIEKE)
    made = git(runner, "log", "--format=%s", f"{last}..HEAD").stdout.splitlines()
    assert made == [f"sdesk portal: opened {tampered}"]
    assert "Traceback" not in portal.log.read_text(encoding="utf-8")


def brightwave_files(clone: Path, numbers: tuple[str, ...]) -> dict[str, bytes]:
    """Brightwave's ticket files and the files kept with them, as they are in the runner's clone."""
    paths = [clone / "tickets" / f"{number}.yaml" for number in numbers]
    paths += [path for number in numbers for path in sorted((clone / "attachments" / number).glob("*"))]
    return {str(path.relative_to(clone)): path.read_bytes() for path in paths}


def reach_nothing(tab: Tab, url: str, numbers: tuple[str, ...], file_name: str) -> None:
    """Every page, file and form of the tickets ``numbers`` answers exactly as MADE_UP does: 404, same words.
    Each form is sent as the portal's own pages send it: from its origin, with the session's valid token."""
    token, request, origin = csrf(tab), tab.page.request, {"Origin": url}
    upload = {"name": "note.txt", "mimeType": "text/plain", "buffer": b"mine now"}

    def answers(number: str) -> list[tuple[int, str]]:
        responses = [
            request.get(f"{url}/{number}.html"),
            request.get(f"{url}/files/{number}/{file_name}"),
            request.post(
                f"{url}/{number}/answer", multipart={"csrf": token, "text": "Mine now", "files": upload}, headers=origin
            ),
            request.post(f"{url}/{number}/accept", form={"csrf": token, "remark": "fine"}, headers=origin),
            request.post(f"{url}/{number}/reopen", form={"csrf": token, "reason": "again"}, headers=origin),
            request.post(f"{url}/{number}/rate", form={"csrf": token, "score": "1"}, headers=origin),
        ]
        return [(response.status, response.text()) for response in responses]

    nothing = answers(MADE_UP)
    assert {status for status, _ in nothing} == {404}
    for number in numbers:
        assert answers(number) == nothing, number


def tamper(tab: Tab, url: str) -> str:
    """A new ticket with Brightwave's customer, requester and site slipped into the form: Brightwave's site is
    refused as no choice of hers, and the customer and requester are not read: the ticket opened; its number."""
    mine = {"csrf": csrf(tab), "type": "question", "title": "Whose ticket is this?", "product": "fleet-telemetry"}
    theirs = {"customer": "brightwave", "requester": OLIVIA}
    request, origin = tab.page.request, {"Origin": url}
    refused = request.post(f"{url}/new", form={**mine, **theirs, "site": "5001"}, headers=origin)
    assert refused.status == 422 and "Kies er een uit de lijst." in refused.text()
    opened = request.post(f"{url}/new", form={**mine, **theirs}, headers=origin, max_redirects=0)
    assert opened.status == 303, opened.text()
    found = re.fullmatch(r"/([0-9A-Z]{6}-[0-9A-Z]{5})\.html\?done=created", opened.headers["location"])
    assert found, opened.headers["location"]
    return found.group(1)


# --- what the portal does not do yet (the lead fixes these in sdesk/) ------------------------------------------


def test_the_cycle_pushes_what_the_portal_committed(browser: Browser, portal: Portal) -> None:
    with browsing(browser, portal.url) as olivia:
        sign_in(olivia, portal, OLIVIA, "Sign in")
        incident = open_incident(olivia, portal.url)
        run_cycle(portal.runner, NOW)
        still = olivia.page.goto(f"{portal.url}/{incident}.html")
        assert still is not None and still.status == 200, "the customer's ticket is gone from the portal"
    pull(portal.agent)
    assert (portal.agent / "tickets" / f"{incident}.yaml").is_file()
    kept = [path.name.split("-", 1)[1] for path in (portal.agent / "attachments" / incident).iterdir()]
    assert kept == [SCREENSHOT_NAME]


def test_a_screenshot_opened_in_a_tab_shows_without_console_errors(browser: Browser, portal: Portal) -> None:
    with browsing(browser, portal.url) as olivia:
        sign_in(olivia, portal, OLIVIA, "Sign in")
        open_incident(olivia, portal.url)
        screenshot = olivia.page.get_by_role("link", name=SCREENSHOT_NAME)
        shown = olivia.page.goto(screenshot.evaluate("link => link.href"))
        assert shown is not None and shown.headers["content-type"] == "image/png"
        assert olivia.js("[document.contentType, document.images[0].naturalWidth]") == ["image/png", 24]
        assert olivia.problems() == []
