"""A generated desk in git as a team has it, for the runner's cycle and `sdesk check --changed`.

Issue 19 asks that `sdesk run` on a 100,000-ticket desk with 10 changed
tickets take under 5 s, and `sdesk check --changed` with 3 tickets touched
under 1 s. Both need the desk in git: a bare origin, the runner's clone and
an agent's clone. Adding 100,000 files to git, packing and cloning them takes
minutes, so the set-up is cached beside the desk (``100000-git``) and reused
while its marker names the same desk. The set-up also runs the first cycle
(the baseline of owed mail, the sweep of the generated backlog, the first
export of the site), so a timed cycle is what a runner sees every few
minutes: what an agent pushed since the last one.

Git runs with no system or global configuration (a user's ~/.gitconfig is not
the desk's), never looks for a repository above bench/.desks, and finds this
virtualenv's sdesk first on PATH (the ticket merge driver). Mail goes to an
SMTP server on 127.0.0.1 that accepts every message (aiosmtpd, one of sdesk's
test extras), so delivery is real and nothing leaves the machine; without
aiosmtpd the cycle runs without --smtp and only counts the mail owed.

Between runs the desk keeps its size: the agent comments on the same 10
tickets each cycle (their histories grow by one event a cycle), and the
3 tickets `check --changed` sees are put back byte for byte after each run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from timing import Outcome

from sdesk.storage import scaffold, store

SETUP_VERSION = 1  # bump when the set-up changes, so cached ones are rebuilt
MARKER = ".bench-git.json"
BRANCH = "main"
AGENT = "an.wouters@caresolutions.example"  # one of the generator's agents
RUNNER = "runner@caresolutions.example"
CHANGED = 10  # tickets the agent changes before each timed cycle
TOUCHED = 3  # tickets changed and not committed before each `check --changed`
FIRST_CYCLE_EXITS = (0, 1)  # the first cycle parks the mail of a years-old backlog: exit 1 says so
COMMENT = "Nagekeken met de leverancier; de oplossing wordt vanmiddag uitgerold ({mark})."
TOUCH = "Logbestanden opgevraagd bij de klant."


@dataclass(frozen=True)
class Setup:
    """A cached git desk (its marker file's content)."""

    stamp: str  # the generated desk it was made from, and SETUP_VERSION
    tickets: list[str]  # open tickets `sdesk check` passed after the first cycle: the agent's work
    seconds: float  # how long the set-up took (when it was made)


class GitDesk:
    """The git desk while it is benchmarked: its clones, their environments, and the agent's work."""

    def __init__(self, folder: Path, setup: Setup, sdesk: Path, now: str):
        self.folder, self.setup, self.sdesk = folder, setup, str(sdesk)
        self.origin, self.runner, self.agent = paths(folder)
        self.site = folder / "site"
        self.git_env = git_environment(folder.parent, sdesk)
        self.runner_env = sdesk_environment(self.git_env, self.runner, now, RUNNER)
        self.agent_env = sdesk_environment(self.git_env, self.agent, now, AGENT)
        self._saved: dict[Path, bytes] = {}

    def cycle(self, smtp: str | None) -> list[str]:
        """The runner's `sdesk run`: with the local SMTP server when there is one, and the site's export."""
        mail = ["--smtp", smtp] if smtp else []
        return [self.sdesk, "run", *mail, "--export", str(self.site)]

    def check_changed(self) -> list[str]:
        return [self.sdesk, "check", "--changed"]

    def agent_work(self) -> None:
        """What reaches the runner before a cycle: an agent pulls, comments on 10 tickets, commits and pushes.

        Each comment names the commit it was made on, so no two cycles record the same words.
        """
        _git(self.agent, self.git_env, "pull", "--quiet", "--no-rebase", "--no-edit", "origin", BRANCH)
        mark = _git(self.agent, self.git_env, "rev-parse", "--short", "HEAD").strip()
        for ticket in self.setup.tickets[:CHANGED]:
            _sdesk(self.sdesk, self.agent_env, "comment", ticket, COMMENT.format(mark=mark))
        _git(self.agent, self.git_env, "commit", "--quiet", "--all", "-m", f"Comments on {CHANGED} tickets")
        _git(self.agent, self.git_env, "push", "--quiet", "origin", f"HEAD:{BRANCH}")

    def touch(self) -> None:
        """Three tickets changed by sdesk and not committed, as a pre-commit hook finds them."""
        for ticket in self.setup.tickets[:TOUCHED]:
            path = self.agent / store.TICKETS_DIR / f"{ticket}.yaml"
            self._saved.setdefault(path, path.read_bytes())
            _sdesk(self.sdesk, self.agent_env, "comment", ticket, TOUCH, "--internal")

    def untouch(self, outcome: Outcome | None = None) -> None:
        """Put the touched tickets back byte for byte: git sees the agent's clone unchanged again."""
        for path, data in self._saved.items():
            path.write_bytes(data)
        self._saved.clear()

    def tidy(self) -> None:
        """Drop what an interrupted benchmark left uncommitted in the agent's clone (the runner cleans its own)."""
        self.untouch()
        _git(self.agent, self.git_env, "reset", "--quiet", "--hard", "HEAD")


def paths(folder: Path) -> tuple[Path, Path, Path]:
    """The bare origin, the runner's clone and the agent's clone of a git desk."""
    return folder / "origin.git", folder / "runner", folder / "agent"


def git_environment(ceiling: Path, sdesk: Path) -> dict[str, str]:
    """git without a user's or the system's configuration, never above ``ceiling``, this sdesk first on PATH."""
    path = os.pathsep.join([str(sdesk.parent), os.environ.get("PATH", "")])
    return {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CEILING_DIRECTORIES": str(ceiling),
        "PATH": path,
    }


def sdesk_environment(git_env: Mapping[str, str], clone: Path, now: str, user: str) -> dict[str, str]:
    return {**git_env, "SDESK_DIR": str(clone), "SDESK_NOW": now, "SDESK_USER": user}


def load_marker(folder: Path) -> Setup | None:
    """The marker of a completely made set-up; None while it is missing (never made, or interrupted)."""
    try:
        return Setup(**json.loads((folder / MARKER).read_text(encoding="utf-8")))
    except (FileNotFoundError, TypeError, ValueError):
        return None


def prepare(folder: Path, desk_root: Path, stamp: str, sdesk: Path, now: str, smtp: str | None) -> GitDesk:
    """The git desk of the desk at ``desk_root``: reused when its marker names ``stamp``, else made anew."""
    stamp = f"{stamp}, git set-up {SETUP_VERSION}"
    known = load_marker(folder)
    if known is not None and known.stamp == stamp:
        return GitDesk(folder, known, sdesk, now)
    started = time.perf_counter()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    made = GitDesk(folder, Setup(stamp, [], 0.0), sdesk, now)
    _agent_repository(made, desk_root)
    _origin_and_runner(made)
    _first_cycle(made, smtp)
    setup = Setup(stamp, _worked_tickets(made), round(time.perf_counter() - started, 1))
    (folder / MARKER).write_text(json.dumps(asdict(setup), indent=2) + "\n", encoding="utf-8")
    return GitDesk(folder, setup, sdesk, now)


def _agent_repository(made: GitDesk, desk_root: Path) -> None:
    """The agent's clone is where the desk enters git: a copy of the generated files, one commit, packed.

    Packed as a desk that has lived in git is, and so that no `git gc --auto` starts during a timed run.
    """
    agent, env = made.agent, made.git_env
    agent.mkdir()
    shutil.copyfile(desk_root / store.RULES_FILE, agent / store.RULES_FILE)
    shutil.copytree(desk_root / store.TICKETS_DIR, agent / store.TICKETS_DIR)
    lines = [f"{comment}\n{line}" if comment else line for comment, line in scaffold.GITIGNORE_LINES]
    (agent / ".gitignore").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _git(agent, env, "init", "--quiet", "--initial-branch", BRANCH)
    _identify(agent, env, AGENT)
    _sdesk(made.sdesk, made.agent_env, "git", "setup")
    _git(agent, env, "add", "--all")
    _git(agent, env, "-c", "gc.auto=0", "commit", "--quiet", "-m", "The generated desk")  # no gc in the background
    _git(agent, env, "gc", "--quiet")


def _origin_and_runner(made: GitDesk) -> None:
    """A bare origin cloned from the agent's repository, the agent sharing through it, the runner's clone."""
    env = made.git_env
    _git(made.folder, env, "clone", "--quiet", "--bare", str(made.agent), str(made.origin))
    _git(made.agent, env, "remote", "add", "origin", str(made.origin))
    _git(made.agent, env, "fetch", "--quiet", "origin")
    _git(made.agent, env, "branch", "--quiet", "--set-upstream-to", f"origin/{BRANCH}")
    _git(made.folder, env, "clone", "--quiet", str(made.origin), str(made.runner))
    _identify(made.runner, env, RUNNER)
    _sdesk(made.sdesk, made.runner_env, "git", "setup")


def _first_cycle(made: GitDesk, smtp: str | None) -> None:
    """The runner's first cycle: the baseline, the sweep of the generated backlog, the first export."""
    done = subprocess.run(made.cycle(smtp), env=made.runner_env, capture_output=True, text=True, check=False)
    if done.returncode not in FIRST_CYCLE_EXITS:
        raise SystemExit(f"benchmark: the first `sdesk run` in {made.runner} exited {done.returncode}:\n{done.stderr}")


def _worked_tickets(made: GitDesk) -> list[str]:
    """Open tickets the agent comments on, as of the first cycle: the first 10 that `sdesk check` passes.

    The first cycle's sweep can leave a ticket `sdesk check` reports (a breach dated when its clock ran
    out, before events already in the history); `check --changed` on such a ticket would time a failure.
    """
    _git(made.agent, made.git_env, "pull", "--quiet", "--no-rebase", "--no-edit", "origin", BRANCH)
    listed = json.loads(_sdesk(made.sdesk, made.agent_env, "list", "--format", "json"))
    problems = json.loads(_sdesk(made.sdesk, made.agent_env, "check", "--format", "json", accept=(0, 1)))
    reported = {Path(problem["file"]).stem for problem in problems}
    found = sorted(entry["id"] for entry in listed if entry["id"] not in reported)[:CHANGED]
    if len(found) < CHANGED:
        raise SystemExit(f"benchmark: {made.agent} has {len(found)} open tickets `sdesk check` passes, not {CHANGED}")
    return found


def _identify(clone: Path, env: Mapping[str, str], email: str) -> None:
    _git(clone, env, "config", "user.name", email.split("@")[0])
    _git(clone, env, "config", "user.email", email)


def _git(folder: Path, env: Mapping[str, str], *args: str) -> str:
    """git in ``folder`` (never the folder's parents: the environment sets a ceiling), failing loudly."""
    done = subprocess.run(["git", "-C", str(folder), *args], env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark: `git {' '.join(args)}` in {folder} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def _sdesk(sdesk: str, env: Mapping[str, str], *args: str, accept: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run([sdesk, *args], env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode not in accept:
        raise SystemExit(f"benchmark: `sdesk {' '.join(args)}` exited {done.returncode}:\n{done.stderr}")
    return done.stdout


# --- mail ------------------------------------------------------------------------------------


@contextmanager
def smtp_server() -> Iterator[str | None]:
    """HOST:PORT of an SMTP server on 127.0.0.1 that accepts every message, while the block runs.

    None when aiosmtpd is not installed (`pip install -e '.[test]'` brings it): the cycle then sends nothing.
    """
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        yield None
        return
    port = _free_port()
    controller = Controller(_Accept(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        controller.stop()


class _Accept:
    """aiosmtpd's handler: every message is accepted and dropped."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
