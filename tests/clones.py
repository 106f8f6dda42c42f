"""A desk shared the way a team shares it: a bare origin, agents' clones and the runner's clone, with real git.

git runs as a subprocess, so a merge runs the ticket merge driver as git does: the `sdesk` found on PATH
(this virtualenv's, put first). The runner is what cron starts: a real `sdesk run` process in its clone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Run, example_rules_text, isolate_git

BIN = Path(sys.executable).parent
SDESK = str(BIN / "sdesk")
RUNNER = "runner@caresolutions.example"


def this_sdesk_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git never looks above tmp_path, reads no user's config and finds this virtualenv's sdesk first."""
    isolate_git(tmp_path, monkeypatch)
    folders = [folder for folder in os.environ["PATH"].split(os.pathsep) if not (Path(folder) / "sdesk").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join([str(BIN), *folders]))


def git(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} in {folder.name} failed:\n{done.stdout}{done.stderr}")
    return done


def identify(clone: Path, email_address: str) -> None:
    git(clone, "config", "user.name", email_address.split("@")[0])
    git(clone, "config", "user.email", email_address)


def commit(clone: Path, message: str) -> None:
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", message)


def pull(clone: Path) -> None:
    done = git(clone, "pull", "--no-rebase", "--no-edit", "origin", "main")
    assert "CONFLICT" not in done.stdout + done.stderr


def share(clone: Path, message: str) -> None:
    """What an agent does: commit, pull (the merge driver merges ticket files), push."""
    commit(clone, message)
    pull(clone)
    git(clone, "push", "-q", "origin", "main")


def head(clone: Path, ref: str = "HEAD") -> str:
    return git(clone, "rev-parse", ref).stdout.strip()


def shared_desk(root: Path, run: Run, maker: str, rules: str | None = None) -> tuple[Path, Path]:
    """A bare origin (root/origin.git) with a new desk on main, made and pushed by ``maker`` from root/a;
    rules.yaml is ``rules``, else the example desk's. Returns the origin and the maker's clone."""
    origin, clone = root / "origin.git", root / "a"
    git(root, "init", "-q", "--bare", "--initial-branch=main", str(origin))
    git(root, "init", "-q", "--initial-branch=main", str(clone))
    identify(clone, maker)
    result = run("init", str(clone), "--name", "Test desk")
    assert result.exit_code == 0, result.output
    (clone / "rules.yaml").write_text(rules if rules is not None else example_rules_text(), encoding="utf-8")
    commit(clone, "A new desk")
    git(clone, "remote", "add", "origin", str(origin))
    git(clone, "push", "-q", "-u", "origin", "main")
    return origin, clone


def agent_clone(origin: Path, clone: Path, who: str, run: Run) -> Path:
    """An agent's clone, with the merge driver registered as `sdesk git setup` does it."""
    git(origin.parent, "clone", "-q", "--branch", "main", str(origin), str(clone))
    identify(clone, who)
    result = run("git", "setup", env={"SDESK_DIR": str(clone)})
    assert result.exit_code == 0, result.output
    return clone


def runner_clone(origin: Path, clone: Path) -> Path:
    git(origin.parent, "clone", "-q", "--branch", "main", str(origin), str(clone))
    identify(clone, RUNNER)  # no `sdesk git setup`: the runner registers the driver itself
    return clone


def runner_env(when: str) -> dict[str, str]:
    """The environment cron gives the runner (no desk or agent chosen), its clock at ``when``."""
    env = {key: value for key, value in os.environ.items() if key not in ("SDESK_DIR", "SDESK_USER")}
    env["SDESK_NOW"] = when
    return env


def run_cycle(clone: Path, when: str, *args: str, status: int = 0) -> list[str]:
    """One `sdesk run` as cron starts it; its stdout lines (stderr must be empty unless it fails)."""
    done = subprocess.run(
        [SDESK, "run", *args],
        cwd=clone,
        env=runner_env(when),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == status, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    if status == 0:
        assert done.stderr == "", done.stderr
    return done.stdout.splitlines() + done.stderr.splitlines()
