"""The live portal attacked on the network, as a stranger or a flaky client would: a real `sdesk serve`
(waitress) on 127.0.0.1, sign-in mail to a recording SMTP server, raw HTTP from the test. One server for the
whole module; each test takes what it needs of it. What Flask's test client shows is in tests/test_portal_web.py.
"""

from __future__ import annotations

import http.client
import io
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.clones import this_sdesk_first
from tests.conftest import example_rules_text, png
from tests.mailserver import Recorder, recording_server
from tests.portalserver import serving

OLIVIA = "olivia.hughes@brightwave.example"  # Brightwave, English, site 5001
INCIDENT = {
    "type": "incident",
    "title": "Saving fails",
    "product": "care-dossier",
    "site": "5001",
    "description": "Error 500",
}
FORM = "application/x-www-form-urlencoded"
MAIL_SECONDS = 15


@dataclass(frozen=True)
class Server:
    url: str
    port: int
    mail: Recorder
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`sdesk serve` on a desk of the example's rules (no git: what is tested here is the network)."""
    root = tmp_path_factory.mktemp("attacks")
    desk = root / "desk"
    (desk / "tickets").mkdir(parents=True)
    rules = example_rules_text().replace("  url: https://support.caresolutions.example", "")
    (desk / "rules.yaml").write_text(rules, encoding="utf-8")
    with recording_server() as (recorder, smtp_port), serving(desk, smtp_port, root / "serve.log") as url:
        yield Server(url, urlsplit(url).port or 0, recorder, root / "serve.log")


@pytest.fixture(autouse=True)
def outside_any_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    this_sdesk_first(tmp_path, monkeypatch)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class Client:
    """One browser: its session cookie and form token, speaking plain HTTP/1.1 to the server."""

    server: Server
    cookie: str = ""
    csrf: str = ""

    def request(self, method: str, path: str, body: bytes = b"", **headers: str) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            sent = {"Origin": self.server.url, **({"Cookie": self.cookie} if self.cookie else {}), **headers}
            connection.request(method, path, body, sent)
            answer = connection.getresponse()
            return Answer(answer.status, answer.headers, answer.read())
        finally:
            connection.close()

    def form(self, path: str, values: dict[str, str], files: dict[str, bytes] | None = None) -> Answer:
        """A form as a browser sends it: urlencoded, or multipart with files (name: bytes)."""
        fields = MultiDict([("csrf", self.csrf), *values.items()])
        if not files:
            return self.request("POST", path, urlencode(fields).encode(), **{"Content-Type": FORM})
        for name, data in files.items():
            fields.add("files", FileStorage(io.BytesIO(data), name))
        boundary, body = encode_multipart(fields)
        return self.request("POST", path, body, **{"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def sign_in(self, address: str) -> Client:
        """Ask for a link, follow the one the mail brings, and keep the session and its form token."""
        since = len(self.server.mail.arrived)
        self.form("/sign-in", {"email": address})
        link = re.search(rf"{re.escape(self.server.url)}(/sign-in/\S+)", mail_to(self.server.mail, address, since))
        assert link is not None
        self.cookie = self.form(link.group(1), {}).headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', self.request("GET", "/new").text)
        assert token is not None
        self.csrf = token.group(1)
        return self


def mail_to(recorder: Recorder, address: str, since: int) -> str:
    """The body of the mail ``address`` got after the first ``since`` arrived."""
    deadline = time.monotonic() + MAIL_SECONDS
    while time.monotonic() < deadline:
        for arrival in recorder.arrived[since:]:
            if address in arrival.rcpt_tos:
                return str(arrival.message.get_body().get_content())
        time.sleep(0.05)
    raise AssertionError(f"no mail reached {address}")


# --- what a request may send ---------------------------------------------------------------------------------


def test_a_body_larger_than_any_form_may_be_is_refused_before_it_is_sent(server):
    """The example desk takes 5 files of 10 MB: a client announcing 500 MB hears 413 at once, and the server
    neither waits for nor stores a byte of it (waitress would otherwise take up to 1 GB of it to disk first)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(
            f"POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {server.url}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500000000\r\n\r\n".encode()
        )
        assert connection.recv(100).startswith(b"HTTP/1.1 413 ")


# --- what the server sends back --------------------------------------------------------------------------------


def test_a_file_whose_name_is_not_latin_1_downloads_under_its_name(server):
    """Before, waitress could not write the header that names the file (a header holds Latin-1 only): a Polish
    customer's screenshot answered 500 with waitress's own page, and a traceback in the server's log."""
    olivia = Client(server).sign_in(OLIVIA)
    opened = olivia.form("/new", INCIDENT, {"zażółć.png": png()})
    assert opened.status == 303
    page = olivia.request("GET", opened.headers["Location"])
    file_link = re.search(r'href="(files/[^"]+)" download>zażółć.png<', page.text)
    assert file_link is not None
    answer = olivia.request("GET", "/" + file_link.group(1))
    assert answer.status == 200 and answer.body == png()
    assert (
        answer.headers["Content-Disposition"]
        == "inline; filename=zazoc.png; filename*=UTF-8''za%C5%BC%C3%B3%C5%82%C4%87.png"
    )
    assert "Traceback" not in server.log.read_text(encoding="utf-8")
