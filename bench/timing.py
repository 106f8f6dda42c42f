"""Whole-process timings: wall time, the CPU time and the peak memory of the processes, over several runs.

What a user waits for is the whole process, interpreter start-up included, so
every figure is a subprocess from start to exit. CPU time (user + system,
children included) over wall time says how many cores a command kept busy:
about 1 for one core, up to 2 on this benchmark's two-core machines.

Each process is reaped with os.wait4, whose resource usage is that process's
alone (with the children it waited for), so neither the benchmark's own
helpers nor a process started between runs count. Its ru_maxrss is the
peak resident memory of the largest single process of that tree (the command
itself, a git it ran, or one worker of a pool: not their sum), in KiB on Linux.
A forked process counts what its parent held until it starts its program
(Linux keeps the larger peak at exec), so the benchmark keeps itself small:
it keeps at most a megabyte of what a process prints.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

MAX_SLOW_RUNS = 3  # a measurement with a run over the slow limit takes at most this many runs
READ_LIMIT = 1 << 20  # bytes of a process's output kept
MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux and the BSDs


class CommandFailed(SystemExit):
    """A benchmarked command exited with a code it should not: the figures would be meaningless."""


@dataclass(frozen=True)
class Sample:
    """The runs of one measurement."""

    walls: tuple[float, ...]  # seconds
    cpus: tuple[float, ...]  # user + system seconds of the processes and their children
    peaks: tuple[int, ...]  # bytes: the largest process's peak resident memory in each run

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def peak(self) -> int:
        """Bytes: the most any run's largest process held (a limit is about the worst run, not the typical)."""
        return max(self.peaks)

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
    peak: int  # bytes
    stdout: str


def run(commands: Sequence[Sequence[str]], env: Mapping[str, str], accept: Sequence[int] = (0,)) -> Outcome:
    """Start the commands together and wait for all of them; fail loudly on an unexpected exit code."""
    outputs = [(tempfile.TemporaryFile(), tempfile.TemporaryFile()) for _ in commands]
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, stdout=out, stderr=err, env=dict(env), stdin=subprocess.DEVNULL)
        for command, (out, err) in zip(commands, outputs, strict=True)
    ]
    reaped = [_reap(process) for process in processes]
    wall = time.perf_counter() - started
    codes = [code for code, _, _ in reaped]
    cpu = sum(cpu for _, cpu, _ in reaped)
    peak = max(peak for _, _, peak in reaped)
    texts = [(_read(out), _read(err)) for out, err in outputs]
    for command, code, (stdout, stderr) in zip(commands, codes, texts, strict=True):
        if code not in accept:
            shown = " ".join(command)
            raise CommandFailed(
                f"benchmark: `{shown}` exited {code}\n--- stderr:\n{stderr}\n--- stdout:\n{stdout[:2000]}"
            )
    return Outcome(wall, cpu, peak, texts[0][0])


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
    outcomes: list[Outcome] = []
    wanted = runs
    while len(outcomes) < wanted:
        outcome = cycle()
        outcomes.append(outcome)
        if outcome.wall > slow_seconds:
            wanted = min(wanted, MAX_SLOW_RUNS)
    return Sample(
        tuple(outcome.wall for outcome in outcomes),
        tuple(outcome.cpu for outcome in outcomes),
        tuple(outcome.peak for outcome in outcomes),
    )


def _reap(process: subprocess.Popen[bytes]) -> tuple[int, float, int]:
    """Wait for the process with wait4: its exit code, its CPU seconds and its peak memory in bytes."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    return process.returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * MAXRSS_UNIT


def _read(handle: IO[bytes]) -> str:
    """The start of what a process printed (enough for "Created …" and an error): never all of a listing of
    100,000 tickets, which would grow this process, and every process it starts after, by hundreds of MB."""
    handle.seek(0)
    text = handle.read(READ_LIMIT).decode("utf-8", errors="replace")
    handle.close()
    return text
