"""The benchmark's results: the machine, the tables, and whether each performance target holds.

The Markdown has a fixed layout (sections, rows and columns in the same
order every run) so that two results files diff line by line. Every ratio
in the targets is computed from figures of one and the same run.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import generate
import yaml
from timing import MAX_SLOW_RUNS, Sample

PYTHON_FLOOR = 'python -c "pass"'
CLICK_FLOOR = 'python -c "import click"'
STAT_FLOOR = "stat every ticket file"
PARSE_FLOOR = "parse every file, C loader, 1 process"
PARSE2_FLOOR = "parse every file, C loader, 2 processes"
TASK_LIST = "task list"
TASK_ADD = "task add"
SMALL, MID, LARGE = 1000, 10000, 100000
MODES = ("cold", "warm")
STARTUP_LIMIT = 1.5


@dataclass
class Results:
    """Every figure of one run, keyed by size, name and mode."""

    sizes: list[int]
    runs: int
    slow_seconds: float
    machine: dict[str, str] = field(default_factory=dict)
    desks: dict[int, generate.DeskInfo] = field(default_factory=dict)
    startup: dict[str, Sample] = field(default_factory=dict)
    floors: dict[tuple[int, str], Sample] = field(default_factory=dict)
    commands: dict[tuple[int, str, str], Sample] = field(default_factory=dict)
    tasks: dict[tuple[int, str], Sample] = field(default_factory=dict)

    def command(self, size: int, name: str, mode: str) -> float | None:
        return _median(self.commands.get((size, name, mode)))

    def floor(self, size: int, name: str) -> float | None:
        return _median(self.floors.get((size, name)))

    def task(self, size: int, name: str) -> float | None:
        return _median(self.tasks.get((size, name)))

    def command_names(self) -> list[str]:
        """The sdesk commands measured, in the order they were."""
        return list(dict.fromkeys(name for _, name, _ in self.commands))


def _median(sample: Sample | None) -> float | None:
    return sample.median if sample is not None else None


@dataclass(frozen=True)
class Target:
    goal: str
    measured: str
    holds: bool | None  # None: not measured in this run


# --- the machine -----------------------------------------------------------------------------


def describe_machine(sdesk: str, task_version: str | None) -> dict[str, str]:
    """What the figures were measured on, in the order the report lists it."""
    version = subprocess.run([sdesk, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    libyaml = "with libyaml (CSafeLoader)" if yaml.__with_libyaml__ else "WITHOUT libyaml: no C loader"
    return {
        "CPU": _proc_value("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "Cores": str(os.cpu_count()),
        "Memory": _memory(),
        "OS": f"{_os_name()}, {platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "PyYAML": f"{yaml.__version__} {libyaml}",
        "sdesk": version.rsplit(" ", 1)[-1] or "unknown",
        "taskwarrior": task_version or "not installed",
        "Date": date.today().isoformat(),
    }


def _proc_value(path: str, key: str) -> str | None:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    found = (line.split(":", 1)[1].strip() for line in lines if line.split(":", 1)[0].strip() == key)
    return next(found, None)


def _memory() -> str:
    total = _proc_value("/proc/meminfo", "MemTotal")
    return f"{int(total.split()[0]) / 2**20:.1f} GiB" if total else "unknown"


def _os_name() -> str:
    try:
        release = platform.freedesktop_os_release()
    except OSError:
        return platform.platform()
    return release.get("PRETTY_NAME", release.get("NAME", "Linux"))


def machine_text(machine: dict[str, str]) -> str:
    return "\n".join(f"{key + ':':<13}{value}" for key, value in machine.items())


# --- the targets -----------------------------------------------------------------------------


def targets(results: Results) -> list[Target]:
    """Each target of the issue, computed from this run's medians."""
    found = []
    for name in ("new", "show ID", "update ID", "comment ID"):
        for mode in MODES:
            found.append(
                _ratio(
                    f"`sdesk {name}` {mode} at 100,000 within 1.2× of 1,000",
                    results.command(LARGE, name, mode),
                    results.command(SMALL, name, mode),
                    lambda ratio: ratio <= 1.2,
                )
            )
    found.append(
        _ratio(
            "`sdesk new` warm faster than `task add` at 10,000 (sdesk ÷ task)",
            results.command(MID, "new", "warm"),
            results.task(MID, TASK_ADD),
            lambda ratio: ratio < 1,
        )
    )
    found.append(_startup_target(results))
    for name in ("list", "queue", "sla"):
        found.append(
            _ratio(
                f"warm `sdesk {name}` at 10,000 at least 3× faster than `task list` (task ÷ sdesk)",
                results.task(MID, TASK_LIST),
                results.command(MID, name, "warm"),
                lambda ratio: ratio >= 3,
            )
        )
    stat, click = results.floor(LARGE, STAT_FLOOR), results.floor(LARGE, CLICK_FLOOR)
    floor = stat + click if stat is not None and click is not None else None
    for name in ("list", "queue", "sla"):
        found.append(
            _ratio(
                f"warm `sdesk {name}` at 100,000 within 2× of (stat floor + `import click`)",
                results.command(LARGE, name, "warm"),
                floor,
                lambda ratio: ratio <= 2,
            )
        )
    found.append(_parse_target(results))
    found.append(_cores_target(results))
    return found


def _ratio(goal: str, numerator: float | None, denominator: float | None, test: Callable[[float], bool]) -> Target:
    if numerator is None or denominator is None:
        return Target(goal, "not measured", None)
    ratio = numerator / denominator
    return Target(goal, f"{ratio:.2f}× ({_ms(numerator)} / {_ms(denominator)} ms)", test(ratio))


def _startup_target(results: Results) -> Target:
    goal = f"`sdesk --help` and every `sdesk CMD --help` within {STARTUP_LIMIT}× of `{CLICK_FLOOR}`"
    click = results.startup.get(CLICK_FLOOR)
    commands = {name: sample for name, sample in results.startup.items() if name != CLICK_FLOOR}
    if click is None or not commands:
        return Target(goal, "not measured", None)
    slowest = max(commands, key=lambda name: commands[name].median)
    ratio = commands[slowest].median / click.median
    return Target(goal, f"slowest `{slowest}`: {ratio:.2f}×", ratio <= STARTUP_LIMIT)


def _parse_target(results: Results) -> Target:
    """Against the two-process floor, since sdesk parses on both cores; the one-process ratio for reference."""
    goal = "cold `sdesk list` at 10,000 within 1.3× of the C-loader parse floor (2 processes)"
    listing = results.command(MID, "list", "cold")
    target = _ratio(goal, listing, results.floor(MID, PARSE2_FLOOR), lambda ratio: ratio <= 1.3)
    single = results.floor(MID, PARSE_FLOOR)
    if listing is None or single is None:
        return target
    return Target(goal, f"{target.measured}; 1-process floor: {listing / single:.2f}×", target.holds)


def _cores_target(results: Results) -> Target:
    goal = "cold `sdesk check` at 100,000 uses both cores (CPU time ÷ wall time > 1.3)"
    sample = results.commands.get((LARGE, "check", "cold"))
    if sample is None:
        return Target(goal, "not measured", None)
    return Target(goal, f"{sample.cpu_ratio:.2f}", sample.cpu_ratio > 1.3)


def targets_text(results: Results) -> str:
    lines = ["Targets:"]
    for target in targets(results):
        lines.append(f"  {_verdict(target.holds):<13}  {target.goal}: {target.measured}")
    return "\n".join(lines)


def _verdict(holds: bool | None) -> str:
    return "not measured" if holds is None else "holds" if holds else "does not hold"


# --- Markdown --------------------------------------------------------------------------------


def markdown(results: Results) -> str:
    sections = (
        _introduction(results),
        _machine_section(results),
        _desks_section(results),
        _commands_section(results),
        _cpu_section(results),
        _floors_section(results),
        _startup_section(results),
        _taskwarrior_section(results),
        _targets_section(results),
    )
    return "\n\n".join(sections) + "\n"


def _introduction(results: Results) -> str:
    sizes = ",".join(str(size) for size in results.sizes)
    return (
        "# sdesk benchmark\n\n"
        f"Measured with `.venv/bin/python bench/run.py --sizes {sizes} --runs {results.runs}`. Every figure is a "
        f"whole process, start-up included: the median wall time in milliseconds of {results.runs} runs (a figure "
        f"with a run slower than {results.slow_seconds:g} s is taken over at most {MAX_SLOW_RUNS} runs and says "
        "`n=`). **Cold**: the desk's cache folder `.sdesk/cache/` is deleted before each run; **warm**: after one "
        "untimed run. The operating system's page cache is warm in both. Desks come from `bench/generate.py` "
        f"(seed 1, now pinned at {generate.NOW.isoformat()}); the ticket `sdesk new` opens is deleted, and the "
        "ticket `update` and `comment` change restored, after each run, so the desk keeps its size. `sdesk sla` "
        "exits 1 when it lists clocks, as on these desks with overdue tickets."
    )


def _machine_section(results: Results) -> str:
    rows = [[key, value] for key, value in results.machine.items()]
    return "## Machine\n\n" + _table(["", ""], rows)


def _desks_section(results: Results) -> str:
    statuses = list(generate.STATUS_WEIGHTS)
    rows = []
    for size in results.sizes:
        info = results.desks.get(size)
        if info is None:
            continue
        rows.append(
            [
                f"{size:,}",
                *(f"{info.statuses[status]:,}" for status in statuses),
                f"{info.events / size:.1f}",
                f"{info.megabytes:,.1f}",
                f"{info.seconds:.1f}",
            ]
        )
    header = ["tickets", *statuses, "events per ticket", "MB", "generated in (s)"]
    return "## Desks\n\n" + _table(header, rows)


def _size_columns(results: Results) -> list[str]:
    return [f"{size:,} {mode}" for size in results.sizes for mode in MODES]


def _commands_section(results: Results) -> str:
    rows = []
    for name in results.command_names():
        cells = [results.commands.get((size, name, mode)) for size in results.sizes for mode in MODES]
        rows.append([f"`sdesk {name}`", *(_cell(sample, results.runs) for sample in cells)])
    return "## sdesk commands (ms)\n\n" + _table(["command", *_size_columns(results)], rows)


def _cpu_section(results: Results) -> str:
    rows = []
    for name in results.command_names():
        cells = [results.commands.get((size, name, mode)) for size in results.sizes for mode in MODES]
        rows.append([f"`sdesk {name}`", *(f"{sample.cpu_ratio:.2f}" if sample else "" for sample in cells)])
    intro = "User + system CPU time of the process and its children over wall time: above 1, both cores worked.\n\n"
    return "## CPU time ÷ wall time\n\n" + intro + _table(["command", *_size_columns(results)], rows)


def _floors_section(results: Results) -> str:
    names = (PYTHON_FLOOR, CLICK_FLOOR, STAT_FLOOR, PARSE_FLOOR, PARSE2_FLOOR)
    rows = [
        [name, *(_cell(results.floors.get((size, name)), results.runs) for size in results.sizes)] for name in names
    ]
    intro = (
        "What no implementation can beat, measured in the same run: bare `python -c` processes (after one untimed "
        "run). The two-process parse starts two processes together, each parsing half of the files.\n\n"
    )
    return "## Floors (ms)\n\n" + intro + _table(["floor", *(f"{size:,}" for size in results.sizes)], rows)


def _startup_section(results: Results) -> str:
    click = results.startup.get(CLICK_FLOOR)
    rows = []
    for name, sample in results.startup.items():
        ratio = sample.median / click.median if click else None
        verdict = "" if ratio is None or name == CLICK_FLOOR else _verdict(ratio <= STARTUP_LIMIT)
        rows.append([f"`{name}`", _cell(sample, results.runs), f"{ratio:.2f}" if ratio else "", verdict])
    header = ["command", "ms", "× import click", f"within {STARTUP_LIMIT}×"]
    return "## Start-up (ms)\n\n" + _table(header, rows)


def _taskwarrior_section(results: Results) -> str:
    if results.machine.get("taskwarrior") == "not installed":
        return "## Taskwarrior\n\nNot installed: the comparison was skipped (`apt-get install taskwarrior`)."
    rows = []
    for size in results.sizes:
        task_list, task_add = results.tasks.get((size, TASK_LIST)), results.tasks.get((size, TASK_ADD))
        sdesk_list = results.commands.get((size, "list", "warm"))
        sdesk_new = results.commands.get((size, "new", "warm"))
        if task_list is None or task_add is None:
            rows.append([f"{size:,}", "not measured (above --taskwarrior-max)", "", "", "", "", ""])
            continue
        rows.append(
            [
                f"{size:,}",
                _cell(task_list, results.runs),
                _cell(sdesk_list, results.runs),
                _times(task_list, sdesk_list),
                _cell(task_add, results.runs),
                _cell(sdesk_new, results.runs),
                _times(sdesk_new, task_add),
            ]
        )
    header = ["tasks", "`task list`", "`sdesk list` warm", "task ÷ sdesk", "`task add`", "`sdesk new` warm"]
    header.append("sdesk ÷ task")
    intro = (
        "The same tickets imported as tasks (description = title, project = customer, pending or completed with "
        "its end date, priority H/M/L from P1/P2/P3, entry = created); `task add` adds to a copy of the import.\n\n"
    )
    return "## Taskwarrior (ms)\n\n" + intro + _table(header, rows)


def _targets_section(results: Results) -> str:
    rows = [[target.goal, target.measured, _verdict(target.holds)] for target in targets(results)]
    return "## Targets\n\n" + _table(["target", "measured", "verdict"], rows)


def _times(numerator: Sample | None, denominator: Sample | None) -> str:
    return f"{numerator.median / denominator.median:.2f}" if numerator and denominator else ""


def _cell(sample: Sample | None, runs: int) -> str:
    if sample is None:
        return ""
    return _ms(sample.median) + ("" if sample.runs == runs else f" (n={sample.runs})")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
