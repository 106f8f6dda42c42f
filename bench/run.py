"""The sdesk benchmark: whole-process timings and peak memory on desks of 1,000, 10,000 and 100,000 tickets.

    .venv/bin/python bench/run.py [--sizes 1000,10000,100000] [--runs 5] [--output bench/RESULTS.md]
                                  [--cold-max SIZE] [--no-old-open] [--no-git]

For each size it generates (or reuses) a desk with bench/generate.py and
times, as whole processes (median of --runs runs, with the peak resident
memory of the worst run), the commands an agent types, cold (the desk's
cache folder deleted before each run) and warm (after one untimed run);
then, in the same run on the same machine, the floors no implementation can
beat: Python's start-up, `import click` (and `import click, yaml`, what any
command of a YAML desk loads), a `python -c` that stats every ticket file,
and one that parses every file with PyYAML's C loader in one process and
split over two. Taskwarrior, the peer, gets the same number of tasks (up to
--taskwarrior-max).

Issue 19 adds two kinds of desk beside the realistic one: the old-open
desk of the same size (80 % of its tickets open, for years), where `list`,
`queue` and `sla` are timed again (--no-old-open skips it); and the desk in
git (bench/gitdesk.py: an origin, the runner's clone, an agent's clone),
where the runner's cycle is timed after an agent pushed changes to 10
tickets, and `check --changed` with 3 tickets touched (--no-git skips it).
It prints each figure as it is measured, and writes the tables and the
targets (see report.py) to --output.

The ticket `sdesk new` opens is deleted, and the ticket `update`, `comment`,
`close`, `log` and `priority` change is restored, after each run (untimed),
so every run sees a desk of exactly the size it claims and the cached desk
stays as generated. The desks are kept out of any enclosing git repository
(the benchmark's own checkout): the plain desks are not in git, the git desk
is its own.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import generate
import gitdesk
import report
import taskwarrior
from timing import CommandFailed, Outcome, Sample, measure

from sdesk.storage.index import RECENT_NS
from sdesk.tickets import ids

BENCH = Path(__file__).resolve().parent
DESKS = BENCH / ".desks"
SDESK = Path(sys.executable).parent / "sdesk"
NOW = generate.NOW.isoformat()
USER = "an.wouters@caresolutions.example"  # one of the example desk's agents (rules.yaml agents:)
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
    ``{level}`` for a priority level it does not have, ``{site}`` for a folder beside the desk that
    `export html` rewrites. ``touch``: the target is changed (untimed) before each run. ``later``: each run a
    minute after the one before, as a runner exports: clocks move on between two exports."""

    name: str
    args: tuple[str, ...]
    changes_desk: bool = False
    accept: tuple[int, ...] = (0,)
    touch: bool = False
    later: bool = False


COMMANDS = (
    Command("--help", ("--help",)),
    Command("new", NEW_TICKET, changes_desk=True),
    Command("show ID", ("show", "{id}")),
    Command("update ID", ("update", "{id}", "--status", "on-hold", "--note", "Wacht op de leverancier."), True),
    Command("comment ID", ("comment", "{id}", "Waarschijnlijk DNS – nagaan bij de provider.", "--internal"), True),
    Command("close ID", ("close", "{id}", "--resolution", "DNS-record bij de provider gecorrigeerd."), True),
    Command("log ID", ("log", "{id}", "45m", "--note", "Logbestanden van de aanmeldserver nagekeken."), True),
    Command("priority ID", ("priority", "{id}", "{level}", "--reason", "De hele afdeling kan niet aanmelden."), True),
    Command("list", ("list",)),
    Command("list --customer --priority", ("list", "--customer", "zonnebloem", "--priority", "P2")),
    Command("list --all --format json", ("list", "--all", "--format", "json")),
    Command("queue", ("queue",)),
    Command("sla", ("sla",), accept=(0, 1)),  # exit 1 says clocks are listed: a real desk has overdue ones
    Command("check", ("check",)),
    Command("export html", ("export", "html", "{site}"), later=True),
    Command(report.EXPORT_CHANGED, ("export", "html", "{site}"), touch=True, later=True),
)
OLD_OPEN_COMMANDS = tuple(command for command in COMMANDS if command.name in report.OLD_OPEN_NAMES)

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
        report.STARTUP_FLOOR: [[python, "-c", "import click, yaml"]],
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
        self.level = _other_level(self.original.decode("utf-8"))
        self.env = {
            **os.environ,
            "SDESK_DIR": str(root),
            "SDESK_NOW": NOW,
            "SDESK_USER": USER,
            "GIT_CEILING_DIRECTORIES": str(DESKS),  # not a folder of the benchmark's own checkout
        }
        self.touches = 0
        self.minutes_later = 0

    def argv(self, command: Command) -> list[str]:
        site = str(self.root.parent / f"{self.root.name}-site")
        places = {"{id}": self.target, "{level}": self.level, "{site}": site}
        return [str(SDESK), *(_fill(arg, places) for arg in command.args)]

    def move_on(self) -> None:
        """A minute later than the last run (untimed)."""
        self.minutes_later += 1
        self.env["SDESK_NOW"] = (generate.NOW + timedelta(minutes=self.minutes_later)).isoformat()

    def back_to_now(self) -> None:
        self.minutes_later = 0
        self.env["SDESK_NOW"] = NOW

    def make_cold(self) -> None:
        shutil.rmtree(self.root / CACHE_DIR, ignore_errors=True)

    def touch(self) -> None:
        """Change the target as an agent would (untimed): a public comment that differs each run, so each
        export has one ticket's change to publish."""
        self._restore_target()
        self.touches += 1
        text = f"Stand van zaken {self.touches}: de leverancier test de correctie."
        argv = [str(SDESK), "comment", self.target, text]
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise CommandFailed(f"benchmark: `{' '.join(argv)}` exited {done.returncode}\n--- stderr:\n{done.stderr}")

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


def _other_level(ticket: str) -> str:
    """A priority level the ticket does not have, for `sdesk priority` to move it to."""
    current = re.search(r"^priority: *(\S+)", ticket, re.MULTILINE)
    return "P2" if current and current.group(1) == "P1" else "P1"


def _fill(arg: str, places: dict[str, str]) -> str:
    for place, value in places.items():
        arg = arg.replace(place, value)
    return arg


def main() -> None:
    args = _arguments()
    _compile_sdesk()
    task_version = taskwarrior.version()
    results = report.Results(sizes=args.sizes, runs=args.runs, slow_seconds=args.slow_seconds, cold_max=args.cold_max)
    results.machine = report.describe_machine(str(SDESK), task_version)
    print(report.machine_text(results.machine), flush=True)
    if task_version is None:
        print(f"taskwarrior: `task` is not on PATH, the comparison is skipped (install: {taskwarrior.INSTALL_HINT})")
    for size in args.sizes:
        desk = _desk(size, generate.REALISTIC)
        results.desks[size, generate.REALISTIC] = desk.info
        try:
            if size == args.sizes[0]:
                _startup(desk, results)
            _floors(desk, size, results)
            _commands(desk, size, results, args.cold_max)
            if task_version is not None:
                _taskwarrior(desk, size, results, args.taskwarrior_max)
            if not args.no_git:
                _git_desk(desk, size, results)
        finally:
            desk.restore()
        if not args.no_old_open:
            _old_open(size, results, args.cold_max)
        args.output.write_text(report.markdown(results), encoding="utf-8")
    print()
    print(report.targets_text(results))
    print(f"\nWritten: {args.output}")


def _compile_sdesk() -> None:
    """Write sdesk's bytecode first, as installing it does: where PYTHONDONTWRITEBYTECODE is set, an edited
    module would otherwise be compiled again by every timed process."""
    package = Path(__file__).resolve().parent.parent / "sdesk"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True, stdout=subprocess.DEVNULL)


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
    parser.add_argument(
        "--cold-max",
        type=int,
        default=sys.maxsize,
        help=f"above this size only {', '.join(report.ALWAYS_COLD)} are timed cold (each cold run rebuilds the index)",
    )
    parser.add_argument(
        "--no-old-open",
        action="store_true",
        help="skip the old-open desks (80 %% of the tickets open for years: list, queue and sla again)",
    )
    parser.add_argument(
        "--no-git",
        action="store_true",
        help="skip the desks in git (the runner's cycle, check --changed); their first set-up takes long",
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


def _desk(size: int, mix: str) -> Desk:
    """The desk of this size and mix, generated unless a complete one is cached."""
    root = generate.folder(DESKS, size, mix)
    cached = generate.load_marker(root)
    print(f"\n== {size:,} tickets, {mix}: {root}", flush=True)
    info = generate.generate(root, size, SEED, mix)
    print(f"   desk {'reused' if cached == info else f'generated in {info.seconds:.1f} s'}", flush=True)
    if cached != info:
        _settle()
    return Desk(root, info)


def _settle() -> None:
    """Wait until files just written are old enough for sdesk's cache to trust them.

    The cache re-reads a file changed in the last moments (its signature could still change unseen), so
    warm figures taken right after a desk was written would count re-reading the newest files each run.
    """
    time.sleep(RECENT_NS / 1e9 + 0.5)


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


def _commands(
    desk: Desk, size: int, results: report.Results, cold_max: int, commands: Sequence[Command] = COMMANDS
) -> None:
    for command in commands:
        name = command.name if desk.info.mix == generate.REALISTIC else report.on_old_open(command.name)
        for mode in report.MODES:
            if mode == "cold" and size > cold_max and command.name not in report.ALWAYS_COLD:
                continue
            sample = measure(
                [desk.argv(command)],
                desk.env,
                results.runs,
                warm_up=mode == "warm",
                before=_before(desk, command, mode),
                after=desk.undo if command.changes_desk or command.touch else None,
                slow_seconds=results.slow_seconds,
                accept=command.accept,
            )
            desk.back_to_now()
            results.commands[size, name, mode] = sample
            _print(f"{size:,}", f"sdesk {name}", sample, mode)


def _before(desk: Desk, command: Command, mode: str) -> Callable[[], None] | None:
    """What runs untimed before each run: the ticket's change first (sdesk then finds its cache), then cold."""
    wanted_steps = ((desk.move_on, command.later), (desk.touch, command.touch), (desk.make_cold, mode == "cold"))
    steps = [step for step, wanted in wanted_steps if wanted]
    if not steps:
        return None

    def before() -> None:
        for step in steps:
            step()

    return before


def _old_open(size: int, results: report.Results, cold_max: int) -> None:
    """`list`, `queue` and `sla` again on the old-open desk of this size, cold and warm."""
    desk = _desk(size, generate.OLD_OPEN)
    results.desks[size, generate.OLD_OPEN] = desk.info
    try:
        _commands(desk, size, results, cold_max, OLD_OPEN_COMMANDS)
    finally:
        desk.restore()


def _git_desk(desk: Desk, size: int, results: report.Results) -> None:
    """The runner's cycle after an agent pushed changes to 10 tickets, and `check --changed` with 3 touched.

    Warm only: the runner's and the agent's clones are long-lived, their caches as the last command left them.
    """
    info = desk.info
    stamp = f"size {info.size}, seed {info.seed}, generator {info.generator}, mix {info.mix}"
    folder = DESKS / f"{size}-git"
    cached = gitdesk.load_marker(folder)
    print(f"   git desk: {folder}", flush=True)
    with gitdesk.smtp_server() as smtp:
        results.runner_mail = report.RUNNER_MAIL_SENT if smtp else report.RUNNER_MAIL_OWED
        git = gitdesk.prepare(folder, desk.root, stamp, SDESK, NOW, smtp)
        built = cached is None or cached.stamp != git.setup.stamp
        print(f"   git desk {f'set up in {git.setup.seconds:.1f} s' if built else 'reused'}", flush=True)
        if built:
            _settle()
        results.git_setups[size] = git.setup.seconds
        git.tidy()
        try:
            _warm(size, report.CHECK_CHANGED, git.check_changed(), git.agent_env, results, git.touch, git.untouch)
            _warm(size, report.RUNNER_CYCLE, git.cycle(smtp), git.runner_env, results, git.agent_work)
        finally:
            git.untouch()


def _warm(
    size: int,
    name: str,
    argv: list[str],
    env: dict[str, str],
    results: report.Results,
    before: Callable[[], None],
    after: Callable[[Outcome], None] | None = None,
) -> None:
    """A command of a long-lived clone: timed warm only, ``before`` and ``after`` untimed around each run."""
    sample = measure(
        [argv], env, results.runs, warm_up=True, before=before, after=after, slow_seconds=results.slow_seconds
    )
    results.commands[size, name, "warm"] = sample
    _print(f"{size:,}", f"sdesk {name}", sample, "warm")


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
