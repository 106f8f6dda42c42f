"""The portal's credentials: a sign-in link works once and only in time, a session ends as it should, and a
copy of the file signs nobody in."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from sdesk.errors import SdeskError
from sdesk.portal.credentials import Credentials, Holder

ELS = Holder("els.vermeulen@zonnebloem.example", "zonnebloem")
NOW = 1_795_000_000.0


@pytest.fixture
def kept(tmp_path: Path) -> Credentials:
    return Credentials(tmp_path / "portal" / "portal.sqlite3")


def test_a_link_signs_its_holder_in_once_and_only_before_it_expires(kept: Credentials) -> None:
    token = kept.issue_link(ELS, NOW, minutes=15)
    assert kept.use_link(token, NOW + 60) == ELS
    assert kept.use_link(token, NOW + 61) is None  # used: a forwarded mail signs nobody else in
    late = kept.issue_link(ELS, NOW, minutes=15)
    assert kept.use_link(late, NOW + 15 * 60) is None
    assert kept.use_link("not-a-token", NOW) is None and kept.use_link("", NOW) is None


def test_two_requests_with_one_link_sign_in_one(tmp_path: Path) -> None:
    path = tmp_path / "portal.sqlite3"
    token = Credentials(path).issue_link(ELS, NOW, minutes=15)
    results: list[Holder | None] = []

    def use() -> None:
        own = Credentials(path)  # a connection per thread, as a server's threads have
        results.append(own.use_link(token, NOW + 1))
        own.close()

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=lambda found: found is None) == [ELS] + [None] * 7


def test_a_session_idles_out_ages_out_and_ends_at_sign_out(kept: Credentials) -> None:
    session = kept.open_session(ELS, NOW)
    assert kept.session(session, NOW + 110 * 60, idle_minutes=120, most_hours=12) == ELS
    assert kept.session(session, NOW + 220 * 60, idle_minutes=120, most_hours=12) == ELS  # each use restarts it
    assert kept.session(session, NOW + 341 * 60, idle_minutes=120, most_hours=12) is None  # idle for 121 minutes
    busy = kept.open_session(ELS, NOW)
    for minute in range(0, 12 * 60, 60):
        assert kept.session(busy, NOW + minute * 60, idle_minutes=120, most_hours=12) == ELS
    assert kept.session(busy, NOW + 12 * 3600, idle_minutes=120, most_hours=12) is None  # 12 hours at most
    ended = kept.open_session(ELS, NOW)
    kept.end_session(ended, NOW + 5)
    assert kept.session(ended, NOW + 6, idle_minutes=120, most_hours=12) is None
    assert kept.open_session(ELS, NOW) != kept.open_session(ELS, NOW)


def test_the_file_holds_no_token_and_only_its_owner_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "portal" / "portal.sqlite3"
    kept = Credentials(path)
    secrets = [kept.issue_link(ELS, NOW, minutes=15), kept.open_session(ELS, NOW)]
    kept.close()
    data = path.read_bytes()
    assert all(secret.encode() not in data for secret in secrets)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_symbolic_link_for_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("", encoding="utf-8")
    (tmp_path / "portal.sqlite3").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(SdeskError, match="symbolic link"):
        Credentials(tmp_path / "portal.sqlite3")


def test_a_rate_limit_counts_within_its_window_and_forgets_after(kept: Credentials) -> None:
    key = "link:els.vermeulen@zonnebloem.example"
    assert [kept.allow(key, NOW + second, most=3, window_seconds=900) for second in range(4)] == [
        True, True, True, False
    ]  # fmt: skip
    assert kept.allow("link:other@zonnebloem.example", NOW + 5, most=3, window_seconds=900)  # its own count
    assert kept.allow(key, NOW + 900, most=3, window_seconds=900)  # the first hit is out of the window


def test_what_can_sign_nobody_in_any_more_is_forgotten(kept: Credentials) -> None:
    old = kept.issue_link(ELS, NOW, 15)
    kept.open_session(ELS, NOW)
    kept.allow("ask:192.0.2.7", NOW, 5, 3600)
    fresh = kept.issue_link(ELS, NOW + 2 * 86400, 15)
    kept.purge(NOW + 2 * 86400)
    counts = [kept.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("links", "sessions", "hits")]
    assert counts == [1, 1, 0]  # the new link; the session, though idle, is kept until a month has gone
    assert kept.use_link(old, NOW + 2 * 86400) is None and kept.use_link(fresh, NOW + 2 * 86400) == ELS
    kept.purge(NOW + 40 * 86400)
    assert kept.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
