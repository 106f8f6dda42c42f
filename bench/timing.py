"""Whole-process timings: wall time and the CPU time the processes used, median of several runs.

What a user waits for is the whole process, interpreter start-up included, so
every figure is a subprocess from start to exit. CPU time (user + system,
children included) over wall time says how many cores a command kept busy:
about 1 for one core, up to 2 on this benchmark's two-core machines.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

MAX_SLOW_RUNS = 3  # a measurement with a run over the slow limit takes at most this many runs


class CommandFailed(SystemExit):
    """A benchmarked command exited with a code it should not: the figures would be meaningless."""


@dataclass(frozen=True)
class Sample:
    """The runs of one measurement."""

    walls: tuple[float, ...]  # seconds
    cpus: tuple[float, ...]  # user + system seconds of the processes and their children

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu_ratio(self) -> float:
        """Median of CPU time over wall time: above 1 means more than one core was busy."""
        return statistics.median(cpu / wall for cpu, wall in zip(self.cpus, self.walls, strict=True))

    @property
    def runs(self) -> int:
        return len(self.walls)


@dataclass(frozen=True)
class Outcome:
    wall: float
    cpu: float
    stdout: str


def run(commands: Sequence[Sequence[str]], env: Mapping[str, str], accept: Sequence[int] = (0,)) -> Outcome:
    """Start the commands together and wait for all of them; fail loudly on an unexpected exit code."""
    outputs = [(tempfile.TemporaryFile(), tempfile.TemporaryFile()) for _ in commands]
    before = _children_cpu()
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, stdout=out, stderr=err, env=dict(env), stdin=subprocess.DEVNULL)
        for command, (out, err) in zip(commands, outputs, strict=True)
    ]
    codes = [process.wait() for process in processes]
    wall = time.perf_counter() - started
    cpu = _children_cpu() - before
    texts = [(_read(out), _read(err)) for out, err in outputs]
    for command, code, (stdout, stderr) in zip(commands, codes, texts, strict=True):
        if code not in accept:
            shown = " ".join(command)
            raise CommandFailed(
                f"benchmark: `{shown}` exited {code}\n--- stderr:\n{stderr}\n--- stdout:\n{stdout[:2000]}"
            )
    return Outcome(wall, cpu, texts[0][0])


def measure(
    commands: Sequence[Sequence[str]],
    env: Mapping[str, str],
    runs: int,
    *,
    warm_up: bool = False,
    before: Callable[[], None] | None = None,
    after: Callable[[Outcome], None] | None = None,
    slow_seconds: float = 10.0,
    accept: Sequence[int] = (0,),
) -> Sample:
    """``runs`` timed runs, after an untimed one if asked; at most MAX_SLOW_RUNS once one exceeds ``slow_seconds``.

    ``before`` and ``after`` run outside the timing around every run: the
    first to make it cold, the second to undo what a run changed.
    """

    def cycle() -> Outcome:
        if before is not None:
            before()
        outcome = run(commands, env, accept)
        if after is not None:
            after(outcome)
        return outcome

    if warm_up:
        cycle()
    walls: list[float] = []
    cpus: list[float] = []
    wanted = runs
    while len(walls) < wanted:
        outcome = cycle()
        walls.append(outcome.wall)
        cpus.append(outcome.cpu)
        if outcome.wall > slow_seconds:
            wanted = min(wanted, MAX_SLOW_RUNS)
    return Sample(tuple(walls), tuple(cpus))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    text = handle.read().decode("utf-8", errors="replace")
    handle.close()
    return text
