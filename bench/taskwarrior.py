"""Taskwarrior as the peer: the same tickets imported as tasks, in a folder of its own.

Taskwarrior is what a terminal user would otherwise pick to track work, so
the benchmark times `task list` and `task add` beside `sdesk list` and
`sdesk new` on the same number of items. Each ticket becomes one task:
description = title, project = customer, pending while open and completed
(with its end date) once closed, priority H/M/L from P1/P2/P3 (P4 has
none: taskwarrior's lowest level), entry = created. The imported folder is
cached beside the desk; the benchmark works on a copy so the cache stays as
imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

PRIORITIES = {"P1": "H", "P2": "M", "P3": "L"}
MARKER = ".bench-imported"
INSTALL_HINT = "apt-get install taskwarrior (Debian/Ubuntu), brew install task (macOS)"


def version() -> str | None:
    """Taskwarrior's version, or None when `task` is not on PATH."""
    if shutil.which("task") is None:
        return None
    result = subprocess.run(["task", "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def environment(data: Path) -> dict[str, str]:
    """Run `task` on ``data`` alone: its own rc file, no confirmations, no chatter, no hooks."""
    rc = data / "taskrc"
    if not rc.exists():
        rc.write_text(
            f"data.location={data}\nconfirmation=off\nverbose=nothing\nhooks=off\n",
            encoding="utf-8",
        )
    return {**os.environ, "TASKRC": str(rc), "TASKDATA": str(data)}


def prepare(tickets_dir: Path, cache: Path, work: Path, stamp: str) -> Path:
    """A fresh copy of the imported tasks in ``work``; imports them into ``cache`` first unless ``stamp`` matches.

    ``stamp`` names the desk the tasks come from, so a regenerated desk is imported again.
    """
    marker = cache / MARKER
    if not marker.exists() or marker.read_text(encoding="utf-8") != stamp:
        _import(tickets_dir, cache)
        marker.write_text(stamp, encoding="utf-8")
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(cache, work)
    (work / "taskrc").unlink()
    environment(work)  # its rc file names the copy
    return work


def _import(tickets_dir: Path, cache: Path) -> None:
    """Import every ticket as a task, then run one report so the garbage collection is done and cached."""
    if cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    env = environment(cache)
    tasks = cache.parent / f"{cache.name}.json"
    tasks.write_text(json.dumps(tasks_from(tickets_dir), ensure_ascii=False), encoding="utf-8")
    subprocess.run(["task", "import", str(tasks)], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["task", "list"], env=env, check=False, stdout=subprocess.DEVNULL)
    tasks.unlink()


def tasks_from(tickets_dir: Path) -> list[dict[str, Any]]:
    """The tickets as taskwarrior's import format, oldest first."""
    tasks = []
    for path in sorted(tickets_dir.glob("*.yaml")):
        ticket = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        tasks.append(_task(ticket))
    return tasks


def _task(ticket: dict[str, Any]) -> dict[str, Any]:
    task = {
        "description": ticket["title"],
        "project": ticket["customer"],
        "entry": _stamp(ticket["created"]),
        "status": "pending",
    }
    if ticket["priority"] in PRIORITIES:
        task["priority"] = PRIORITIES[ticket["priority"]]
    closes = [event["at"] for event in ticket["history"] if event["event"] in ("closed", "auto-closed")]
    if ticket["status"] == "closed" and closes:
        task["status"] = "completed"
        task["end"] = _stamp(closes[-1])
    return task


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
