"""The live portal attacked on the network, as a stranger or a flaky client would: a real `sdesk serve`
(waitress) on 127.0.0.1, sign-in mail to a recording SMTP server, raw HTTP from the test. One server for the
whole module; each test takes what it needs of it. What Flask's test client shows is in tests/test_portal_web.py.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.clones import this_sdesk_first
from tests.conftest import example_rules_text
from tests.mailserver import Recorder, recording_server
from tests.portalserver import serving


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
