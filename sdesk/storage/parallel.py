"""Reading many ticket files on every core.

Parsing YAML is the cost of a cold listing or of `sdesk check` on a large
desk, and it is CPU-bound, so many files are split over worker processes.
They are forked, so they start in milliseconds and inherit what the parent
has in memory (the rules, for a check) without it being pickled. Few files,
one core or a platform without fork: the files are read in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

Shared = TypeVar("Shared")
Result = TypeVar("Result")
PARALLEL_FROM = 400  # below this many files, starting workers costs more than it saves
CHUNK = 128  # files per task: few enough messages, even enough spread

_job: tuple[Callable[[Any, Path], Any], Any] | None = None  # what forked workers run, inherited from the parent


def map_files(
    read: Callable[[Shared, Path], Result],
    shared: Shared,
    paths: Sequence[Path],
    workers: int | None = None,
    parallel_from: int | None = None,
) -> Iterator[Result]:
    """``read(shared, path)`` for every path, results in the order of ``paths``."""
    global _job
    workers = workers or os.cpu_count() or 1
    few = len(paths) < (parallel_from or PARALLEL_FROM)
    if workers < 2 or few or "fork" not in multiprocessing.get_all_start_methods():
        yield from (read(shared, path) for path in paths)
        return
    _job = (read, shared)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_run, paths, chunksize=min(CHUNK, max(1, len(paths) // (4 * workers))))
    finally:
        _job = None


def _run(path: Path) -> Any:
    assert _job is not None, "a worker runs only what its parent set up before forking"
    read, shared = _job
    return read(shared, path)
