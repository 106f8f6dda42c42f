"""`sdesk serve` as a real process on a free port of 127.0.0.1, for the tests that need waitress itself: the
browser's story (tests/test_portal_browser.py) and the attacks on the network (tests/test_portal_attacks.py)."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.clones import SDESK, runner_env
from tests.conftest import NOW

SERVER_START_SECONDS = 30


@contextmanager
def serving(clone: Path, smtp_port: int, log: Path) -> Iterator[str]:
    """`sdesk serve` in the runner's clone, its clock at NOW, writing to ``log``: its address, until the block
    ends; then it is stopped as systemd stops it (SIGTERM) and must end cleanly."""
    with log.open("wb") as errors:
        server = subprocess.Popen(
            [SDESK, "serve", "--port", "0", "--smtp", f"127.0.0.1:{smtp_port}"],
            cwd=clone,
            env=runner_env(NOW),
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not (found := re.search(r" at (http://127\.0\.0\.1:\d+) ", log.read_text(encoding="utf-8"))):
            assert server.poll() is None, f"sdesk serve stopped: {log.read_text(encoding='utf-8')}"
            assert time.monotonic() < deadline, "sdesk serve did not start listening"
            time.sleep(0.05)
        yield found.group(1)
    finally:
        server.terminate()
        stopped = server.wait(timeout=30)
    assert stopped == 0, f"sdesk serve ended with {stopped}: {log.read_text(encoding='utf-8')[-2000:]}"
