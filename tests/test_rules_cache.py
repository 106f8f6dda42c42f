"""rules.yaml is checked once and kept in the clone's cache: never stale, never trusted when not ours."""

from __future__ import annotations

import pickle
from datetime import date
from pathlib import Path

from sdesk.storage import rulescache
from sdesk.storage.store import Desk
from tests.conftest import Run, ok

CACHE = Path(".sdesk") / rulescache.FILE


def test_the_rules_are_kept_and_read_from_the_cache_until_the_file_changes(run: Run, desk: Path) -> None:
    ok(run("list"))
    assert (desk / CACHE).is_file()
    first = Desk(desk).rules
    assert first.desk_name == "Care Solutions Service Desk"
    rules = (desk / "rules.yaml").read_text(encoding="utf-8")
    (desk / "rules.yaml").write_text(rules.replace("Care Solutions Service Desk", "Andere Desk", 1), encoding="utf-8")
    assert Desk(desk).rules.desk_name == "Andere Desk"  # the cache is for the file it was made from
    broken = rules.replace("  default_team: servicedesk", "  default_team: nobody", 1)
    (desk / "rules.yaml").write_text(broken, encoding="utf-8")
    result = run("list")
    assert result.exit_code == 1 and "nobody" in result.output  # an invalid file is never hidden by a cache


def test_the_cache_keeps_holidays_and_open_time_so_a_command_need_not_work_them_out(run: Run, desk: Path) -> None:
    ok(run("list"))
    cached = rulescache.load(desk / ".sdesk", rulescache.fingerprint((desk / "rules.yaml").read_bytes()))
    assert cached is not None
    office = cached.service.calendars["office"]
    this_year = date.today().year
    assert this_year in office.worked.holiday_years and this_year in office.worked.open_before  # filled when kept
    assert not office.worked.days  # the day-by-day windows it took are not kept: quick to redo, big to keep
    assert any(name.startswith("Kerstmis") or "Christmas" in name for name in office.public_holidays(2026).values())


def test_a_cache_that_does_not_read_is_rebuilt(run: Run, desk: Path) -> None:
    ok(run("list"))
    (desk / CACHE).write_bytes(rulescache.MAGIC + b"\0" * 40)
    ok(run("list"))
    assert rulescache.load(desk / ".sdesk", rulescache.fingerprint((desk / "rules.yaml").read_bytes())) is not None


class _Planted:
    """What a colleague could commit with git add -f: a pickle that runs code when it is loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.marker), "owned"))  # type: ignore[return-value]


def test_a_cache_not_signed_on_this_machine_is_never_unpickled(run: Run, desk: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = pickle.dumps(_Planted(marker))
    (desk / CACHE).parent.mkdir(parents=True)
    (desk / CACHE).write_bytes(rulescache.MAGIC + b"\x00" * 32 + payload)
    ok(run("list"))
    assert not marker.exists()


def test_another_time_zone_database_is_another_key_for_the_rules_and_what_is_kept_under_them(tmp_path: Path) -> None:
    """A tzdata release moves DST rules: the open-time tables and the clocks' facts must be worked out again."""
    import zoneinfo

    source = b"desk: {name: x}\n"
    before = rulescache.fingerprint(source)
    assert rulescache.fingerprint(source) == before
    try:
        zoneinfo.reset_tzpath([str(tmp_path)])  # as PYTHONTZPATH=/elsewhere would
        assert rulescache.fingerprint(source) != before
    finally:
        zoneinfo.reset_tzpath()
    assert rulescache.fingerprint(source) == before
