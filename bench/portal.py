"""The live portal's answer times: a contact's home page and one ticket's page, on the benchmark's desks.

    .venv/bin/python bench/portal.py [--sizes 1000,10000,100000] [--runs 5] [--output bench/RESULTS.md]

Requests go through the portal's web application in one process (Flask's test client: no network, no
server threads), signed in as the first contact of the customer with the most tickets, with the desk's
index warm (one untimed request first) as a running portal has it. Each figure is the median wall time of
--runs requests, in milliseconds, with the size of the page. The desks are bench/run.py's realistic ones
(made by bench/generate.py when missing); the portal's credentials are made in a scratch folder of the
desk's state and removed afterwards. The section "The live portal" of --output is written (or replaced).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import re
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

from sdesk.portal.web import Config, create_app  # noqa: E402
from sdesk.storage.store import Desk  # noqa: E402

URL = "http://127.0.0.1:8080"
HEADING = "## The live portal (ms)"


class Outbox:
    """Keeps the sign-in mail instead of sending it."""

    raw = b""

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def deliver(self, raw: bytes, sender: str, recipients: list[str], ending: Any) -> dict[str, str]:
        Outbox.raw = raw
        return {}


def measure(root: Path, runs: int) -> dict[str, tuple[float, int, int]]:
    """Median milliseconds, page bytes and tickets listed of the home page and a ticket's page."""
    desk = Desk(root)
    counts = Counter(
        path.read_text(encoding="utf-8").split("\ncustomer: ", 1)[1].split("\n", 1)[0]
        for path in list(desk.tickets_dir.glob("*.yaml"))[:2000]
    )
    customer = desk.rules.customers[counts.most_common(1)[0][0]]
    address = customer.contacts[0].email
    app = create_app(Config(root, URL, lambda: Outbox()))
    client = app.test_client()
    same = {"Origin": URL}
    client.post("/sign-in", data={"email": address}, headers=same)
    for _ in range(100):
        if Outbox.raw:
            break
        time.sleep(0.05)
    body = email.message_from_bytes(Outbox.raw, policy=email.policy.default).get_body().get_content()  # type: ignore[union-attr]
    client.post(re.search(r"http://\S+", body).group(0).removeprefix(URL), headers=same)  # type: ignore[union-attr]
    home = client.get("/")  # untimed: the index as a running portal has it
    ticket = "/" + re.findall(r'href="([0-9A-Z]{6}-[0-9A-Z]{5}\.html)"', home.text)[0]
    found = {}
    for name, path in (("home page (the contact's tickets)", "/"), ("a ticket's page", ticket)):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert answer.status_code == 200, answer.status_code
        found[name] = (statistics.median(times), len(answer.data), answer.text.count('<td class="id">'))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the live portal's pages (see bench/portal.py).")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    arguments = parser.parse_args()
    os.environ.setdefault("SDESK_NOW", generate.NOW.isoformat())
    os.environ["GIT_CEILING_DIRECTORIES"] = str(BENCH / ".desks")  # not a folder of the benchmark's own checkout
    rows = []
    for size in (int(part) for part in arguments.sizes.split(",")):
        root = BENCH / ".desks" / str(size)
        if not root.is_dir():
            generate.generate(root, size, 1)
        state = root / ".sdesk" / "portal"
        try:
            for name, (millis, size_bytes, listed) in measure(root, arguments.runs).items():
                print(
                    f"{size:,} tickets: {name}: {millis:.1f} ms, {size_bytes / 1024:.0f} KB, {listed} listed",
                    flush=True,
                )
                rows.append((size, name, millis, size_bytes, listed))
        finally:
            shutil.rmtree(state, ignore_errors=True)
    write(arguments.output, rows, arguments.runs)


def write(output: Path, rows: list[tuple[int, str, float, int, int]], runs: int) -> None:
    lines = [
        HEADING,
        "",
        f"Measured with `.venv/bin/python bench/portal.py --runs {runs}`: the median of {runs} requests through the "
        "portal's web application in one process, signed in as a contact of the customer with the most tickets, "
        "the index warm. A running portal adds the network and waitress's thread hand-over. The home page lists the "
        "customer's open tickets and those closed in the last 30 days; the generated desks give one customer "
        "thousands at 100,000, where half the time is the index's look at every file and half the tickets' views.",
        "",
        "| tickets | page | ms | page size (KB) | tickets listed |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {size:,} | {name} | {millis:.1f} | {size_bytes / 1024:.0f} | {listed:,} |"
            for size, name, millis, size_bytes, listed in rows
        ),
        "",
    ]
    text = output.read_text(encoding="utf-8") if output.exists() else ""
    if HEADING in text:
        start = text.index(HEADING)
        following = text.find("\n## ", start + len(HEADING))
        text = text[:start] + text[following + 1 :] if following != -1 else text[:start]
    output.write_text(text.rstrip("\n") + "\n\n" + "\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
