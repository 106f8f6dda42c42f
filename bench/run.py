"""The sdesk benchmark: whole-process timings on desks of 1,000, 10,000 and 100,000 tickets.

    .venv/bin/python bench/run.py [--sizes 1000,10000,100000] [--runs 5] [--output bench/RESULTS.md]

For each size it generates (or reuses) a desk with bench/generate.py and
times, as whole processes (median of --runs runs), the commands an agent
types, cold (the desk's cache folder deleted before each run) and warm
(after one untimed run); then, in the same run on the same machine, the
floors no implementation can beat: Python's start-up, `import click`, a
`python -c` that stats every ticket file, and one that parses every file
with PyYAML's C loader in one process and split over two. Taskwarrior, the
peer, gets the same number of tasks (up to --taskwarrior-max). It prints
each figure as it is measured, and writes the tables and the targets (see
report.py) to --output.

`sdesk new` tickets are deleted, and the ticket `update` and `comment`
change is restored, after each run (untimed), so every run sees a desk of
exactly the size it claims and the cached desk stays as generated.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import generate
import report
import taskwarrior
from timing import Outcome, Sample, measure

from sdesk.tickets import ids

BENCH = Path(__file__).resolve().parent
DESKS = BENCH / ".desks"
SDESK = Path(sys.executable).parent / "sdesk"
NOW = generate.NOW.isoformat()
USER = "agent@caresolutions.example"
CACHE_DIR = Path(".sdesk") / "cache"  # what "cold" deletes
OUTBOX_DIR = "outbox"
SEED = 1
CREATED_PREFIX = ids.new_id(generate.NOW)[: ids.TIME_CHARS]  # of the tickets `sdesk new` opens at NOW

NEW_TICKET = (
    "new",
    *("--title", "Zorgdossier opent niet – fout bij aanmelden", "--type", "incident"),
    *("--customer", "zonnebloem", "--requester", "els.vermeulen@zonnebloem.example"),
    *("--product", "care-dossier", "--site", "2101", "--impact", "department", "--urgency", "medium"),
    *("--description", "Sinds vanochtend krijgt Ine een foutmelding bij het aanmelden op afdeling Duinroos 😟"),
)
TASK_ADD = ("add", "Zorgdossier opent niet – fout bij aanmelden", "project:zonnebloem", "priority:M")


@dataclass(frozen=True)
class Command:
    """An sdesk command as the benchmark runs it; ``{id}`` stands for the desk's in-progress target ticket,
    ``{site}`` for a folder beside the desk that `export html` rewrites."""

    name: str
    args: tuple[str, ...]
    changes_desk: bool = False
    accept: tuple[int, ...] = (0,)


COMMANDS = (
    Command("--help", ("--help",)),
    Command("new", NEW_TICKET, changes_desk=True),
    Command("show ID", ("show", "{id}")),
    Command("update ID", ("update", "{id}", "--status", "on-hold", "--note", "Wacht op de leverancier."), True),
    Command("comment ID", ("comment", "{id}", "Waarschijnlijk DNS – nagaan bij de provider.", "--internal"), True),
    Command("list", ("list",)),
    Command("list --customer --priority", ("list", "--customer", "zonnebloem", "--priority", "P2")),
    Command("queue", ("queue",)),
    Command("sla", ("sla",), accept=(0, 1)),  # exit 1 says clocks are listed: a real desk has overdue ones
    Command("check", ("check",)),
    Command("export html", ("export", "html", "{site}")),
)

_PARSE = (
    "import os, sys, yaml\n"
    "folder, part, parts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])\n"
    "names = sorted(n for n in os.listdir(folder) if n.endswith('.yaml'))\n"
    "for name in names[part::parts]:\n"
    "    with open(os.path.join(folder, name), encoding='utf-8') as f:\n"
    "        yaml.load(f.read(), Loader=yaml.CSafeLoader)\n"
)
_STAT = "import os, sys\nfor entry in os.scandir(sys.argv[1]):\n    entry.stat()\n"


def floor_commands(tickets: str) -> dict[str, list[list[str]]]:
    """The floors, by name: each a list of processes started together."""
    python = sys.executable
    return {
        report.PYTHON_FLOOR: [[python, "-c", "pass"]],
        report.CLICK_FLOOR: [[python, "-c", "import click"]],
        report.STAT_FLOOR: [[python, "-c", _STAT, tickets]],
        report.PARSE_FLOOR: [[python, "-c", _PARSE, tickets, "0", "1"]],
        report.PARSE2_FLOOR: [[python, "-c", _PARSE, tickets, str(part), "2"] for part in range(2)],
    }


class Desk:
    """One generated desk while it is benchmarked: its environment, and undoing what commands change."""

    def __init__(self, root: Path, info: generate.DeskInfo):
        self.root = root
        self.info = info
        self.target = info.target
        self.target_path = root / "tickets" / f"{info.target}.yaml"
        self.original = self.target_path.read_bytes()
        self.env = {**os.environ, "SDESK_DIR": str(root), "SDESK_NOW": NOW, "SDESK_USER": USER}

    def argv(self, command: Command) -> list[str]:
        site = str(self.root.parent / f"{self.root.name}-site")
        return [str(SDESK), *(arg.replace("{id}", self.target).replace("{site}", site) for arg in command.args)]

    def make_cold(self) -> None:
        shutil.rmtree(self.root / CACHE_DIR, ignore_errors=True)

    def undo(self, outcome: Outcome) -> None:
        """Delete the ticket `sdesk new` created, restore the target, and drop the mail the commands queued."""
        created = re.search(r"^Created (\S+)", outcome.stdout, re.MULTILINE)
        if created:
            (self.root / "tickets" / f"{created.group(1)}.yaml").unlink()
        self._restore_target()

    def restore(self) -> None:
        """Undo whatever an interrupted run left: tickets numbered at NOW are the benchmark's, never generated."""
        for path in (self.root / "tickets").glob(f"{CREATED_PREFIX}-*.yaml"):
            path.unlink()
        self._restore_target()

    def _restore_target(self) -> None:
        self.target_path.write_bytes(self.original)
        shutil.rmtree(self.root / OUTBOX_DIR, ignore_errors=True)


def main() -> None:
    args = _arguments()
    task_version = taskwarrior.version()
    results = report.Results(sizes=args.sizes, runs=args.runs, slow_seconds=args.slow_seconds)
    results.machine = report.describe_machine(str(SDESK), task_version)
    print(report.machine_text(results.machine), flush=True)
    if task_version is None:
        print(f"taskwarrior: `task` is not on PATH, the comparison is skipped (install: {taskwarrior.INSTALL_HINT})")
    for size in args.sizes:
        desk = _desk(size)
        results.desks[size] = desk.info
        try:
            if size == args.sizes[0]:
                _startup(desk, results)
            _floors(desk, size, results)
            _commands(desk, size, results)
            if task_version is not None:
                _taskwarrior(desk, size, results, args.taskwarrior_max)
        finally:
            desk.restore()
        args.output.write_text(report.markdown(results), encoding="utf-8")
    print()
    print(report.targets_text(results))
    print(f"\nWritten: {args.output}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark sdesk on generated desks (see bench/run.py).")
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10000, 100000], help="comma-separated desk sizes")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (median); default 5")
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=10.0,
        help="a figure with a run slower than this is taken over at most 3 runs; default 10",
    )
    parser.add_argument(
        "--taskwarrior-max",
        type=int,
        default=10000,
        help="largest size imported into taskwarrior (importing 100,000 tasks takes long); default 10000",
    )
    args = parser.parse_args()
    if not SDESK.exists():
        parser.error(f"{SDESK} not found: run with the Python of sdesk's venv (.venv/bin/python bench/run.py)")
    return args


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < len(generate.STATUS_WEIGHTS):
        raise argparse.ArgumentTypeError(f"sizes must be at least {len(generate.STATUS_WEIGHTS)} (every status)")
    return sizes


def _desk(size: int) -> Desk:
    """The desk of this size, generated unless a complete one is cached."""
    root = DESKS / str(size)
    cached = generate.load_marker(root)
    print(f"\n== {size:,} tickets: {root}", flush=True)
    info = generate.generate(root, size, SEED)
    print(f"   desk {'reused' if cached == info else f'generated in {info.seconds:.1f} s'}", flush=True)
    return Desk(root, info)


def _startup(desk: Desk, results: report.Results) -> None:
    """`sdesk CMD --help` for every command `sdesk --help` lists, beside `import click`."""
    click = [[sys.executable, "-c", "import click"]]
    results.startup[report.CLICK_FLOOR] = _timed("start-up", report.CLICK_FLOOR, click, desk, results)
    for argv in [["--help"], *([name, "--help"] for name in _command_names(desk))]:
        label = " ".join(["sdesk", *argv])
        results.startup[label] = _timed("start-up", label, [[str(SDESK), *argv]], desk, results)


def _command_names(desk: Desk) -> list[str]:
    """The commands `sdesk --help` lists, in its order."""
    text = subprocess.run([str(SDESK), "--help"], env=desk.env, capture_output=True, text=True, check=True).stdout
    listing = text.split("Commands:", 1)[1]
    return re.findall(r"^  (\S+)", listing, re.MULTILINE)


def _floors(desk: Desk, size: int, results: report.Results) -> None:
    commands = floor_commands(str(desk.root / "tickets"))
    for name, processes in commands.items():
        results.floors[size, name] = _timed(f"{size:,}", name, processes, desk, results)


def _commands(desk: Desk, size: int, results: report.Results) -> None:
    for command in COMMANDS:
        for mode in report.MODES:
            sample = measure(
                [desk.argv(command)],
                desk.env,
                results.runs,
                warm_up=mode == "warm",
                before=desk.make_cold if mode == "cold" else None,
                after=desk.undo if command.changes_desk else None,
                slow_seconds=results.slow_seconds,
                accept=command.accept,
            )
            results.commands[size, command.name, mode] = sample
            _print(f"{size:,}", f"sdesk {command.name}", sample, mode)


def _taskwarrior(desk: Desk, size: int, results: report.Results, largest: int) -> None:
    if size > largest:
        print(f"   taskwarrior skipped at {size:,}: importing that many tasks takes long (--taskwarrior-max {size})")
        return
    info = desk.info
    stamp = f"size {info.size}, seed {info.seed}, generator {info.generator}"
    data = taskwarrior.prepare(desk.root / "tickets", DESKS / f"task-{size}", DESKS / f"task-{size}-work", stamp)
    env = taskwarrior.environment(data)
    for name, args in ((report.TASK_LIST, ("list",)), (report.TASK_ADD, TASK_ADD)):
        sample = measure([["task", *args]], env, results.runs, warm_up=True, accept=(0, 1))
        results.tasks[size, name] = sample
        _print(f"{size:,}", name, sample, "warm")


def _timed(where: str, name: str, processes: Sequence[Sequence[str]], desk: Desk, results: report.Results) -> Sample:
    """A figure that changes nothing and has no cache: taken after one untimed run."""
    sample = measure(processes, desk.env, results.runs, warm_up=True, slow_seconds=results.slow_seconds)
    _print(where, name, sample, "")
    return sample


def _print(where: str, name: str, sample: Sample, mode: str) -> None:
    figure = f"{sample.median * 1000:9.1f} ms  n={sample.runs:<2}  cpu/wall {sample.cpu_ratio:.2f}"
    print(f"   {where:>9}  {name:<40} {mode:<4} {figure}", flush=True)


if __name__ == "__main__":
    main()
