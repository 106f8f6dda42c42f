"""Desk files as an attacker or a clumsy colleague leaves them: sdesk reads, refuses, never leaks or hangs.

Every file in a desk arrives by `git pull`, a pull request or mail, and CI
runs `sdesk check` on it. Each test here reproduces one way in (a symbolic
link to a private key, a FIFO, an alias bomb, a catastrophic pattern, a
template that reaches for Python's internals …) and asserts what a user
sees: a clear one-line error naming the file, or a correct result; never a
traceback, a hang, a disclosure or a lost change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Run, ok, owed_mail
from tests.test_store import assert_one_line_error, good_text, ticket_path, write_broken

NewTicket = Callable[..., dict[str, Any]]
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
SECRET_PART = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA"
OTHER_ID = "2Q3ZZZ-AAAAA"


@pytest.fixture
def in_desk(desk: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(desk)
    return desk


def sdesk(desk: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """sdesk as a real process (a hang fails the test at ``timeout`` instead of stalling the suite)."""
    return subprocess.run(
        [sys.executable, "-m", "sdesk", *args],
        cwd=desk,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


# --- symbolic links, FIFOs, devices, huge files ---------------------------------------------------------


def test_a_ticket_linked_to_a_private_key_is_refused_without_showing_the_key(
    in_desk: Path, tmp_path: Path, run: Run, new_ticket: NewTicket
) -> None:
    good = new_ticket()["id"]
    key = tmp_path / "id_ed25519"
    key.write_text(KEY)
    ticket_path(in_desk, OTHER_ID).symlink_to(key)

    checked = run("check")
    assert checked.exit_code == 1
    assert f"tickets/{OTHER_ID}.yaml: is a symbolic link that leads outside the desk: refused" in checked.stdout
    assert SECRET_PART not in checked.output and "BEGIN" not in checked.output
    assert str(key) not in checked.output  # not even where it points

    listed = run("list", "--format", "json")
    assert listed.exit_code == 0
    assert [row["id"] for row in json.loads(listed.stdout)] == [good]
    assert "leads outside the desk" in listed.stderr and SECRET_PART not in listed.output
    assert_one_line_error(run("show", OTHER_ID), "leads outside the desk")
    assert key.read_text() == KEY


def test_a_link_that_stays_inside_the_desk_is_followed(in_desk: Path, run: Run) -> None:
    policy = in_desk / "policy"
    policy.mkdir()
    (in_desk / "rules.yaml").rename(policy / "rules.yaml")
    (in_desk / "rules.yaml").symlink_to(Path("policy") / "rules.yaml")
    assert "OK" in ok(run("rules", "check"))


def test_rules_linked_out_of_the_desk_are_refused(in_desk: Path, tmp_path: Path, run: Run) -> None:
    outside = tmp_path / "elsewhere.yaml"
    shutil.copy(REPO / "rules.yaml", outside)
    (in_desk / "rules.yaml").unlink()
    (in_desk / "rules.yaml").symlink_to(outside)
    assert_one_line_error(run("list"), "rules.yaml: is a symbolic link that leads outside the desk")
    # Named on the command line, a file is the user's own choice.
    assert "OK" in ok(run("rules", "check", str(in_desk / "rules.yaml")))


def test_a_fifo_or_a_device_never_hangs_a_listing(in_desk: Path, new_ticket: NewTicket) -> None:
    good = new_ticket()["id"]
    os.mkfifo(ticket_path(in_desk, OTHER_ID))
    ticket_path(in_desk, "2Q3ZZZ-BBBBB").symlink_to("/dev/zero")

    listed = sdesk(in_desk, "list", "--format", "json")
    no_traceback(listed)
    assert listed.returncode == 0
    assert [row["id"] for row in json.loads(listed.stdout)] == [good]
    assert f"tickets/{OTHER_ID}.yaml: is a FIFO (named pipe), not a regular file" in listed.stderr
    assert "tickets/2Q3ZZZ-BBBBB.yaml: is a symbolic link that leads outside the desk" in listed.stderr

    checked = sdesk(in_desk, "check")
    no_traceback(checked)
    assert checked.returncode == 1
    assert "FIFO" in checked.stdout and "leads outside the desk" in checked.stdout


def test_a_huge_file_is_refused_before_it_is_read(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    new_ticket()
    with open(ticket_path(in_desk, OTHER_ID), "wb") as huge:
        huge.truncate(600 * 1024 * 1024)  # sparse: 600 MB on paper, nothing on disk
    listed = run("list")
    assert listed.exit_code == 0
    assert f"tickets/{OTHER_ID}.yaml: is 629,145,600 bytes, more than sdesk reads" in listed.stderr
    assert_one_line_error(run("show", OTHER_ID), "more than sdesk reads")


def test_a_dangling_link_is_one_broken_file_not_a_missing_folder(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    good = new_ticket()["id"]
    ticket_path(in_desk, OTHER_ID).symlink_to(in_desk / "tickets" / "gone.yaml")
    listed = run("list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert [row["id"] for row in json.loads(listed.stdout)] == [good]
    assert f"tickets/{OTHER_ID}.yaml: is a symbolic link to a file that does not exist" in listed.stderr
    checked = run("check")
    assert checked.exit_code == 1 and "does not exist" in checked.stdout


# --- files sdesk would silently stop seeing --------------------------------------------------------------


def test_check_names_every_ticket_that_dropped_out_of_sight(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    numbers = [new_ticket(title=f"Ticket {n}")["id"] for n in range(4)]
    tickets = in_desk / "tickets"
    lower = tickets / f"{numbers[0]}.yaml"
    lower.rename(tickets / f"{numbers[0].lower()}.yaml")
    (tickets / f"{numbers[1]}.yaml").rename(tickets / f"{numbers[1]}.yml")
    (tickets / "archive").mkdir()
    (tickets / f"{numbers[2]}.yaml").rename(tickets / "archive" / f"{numbers[2]}.yaml")
    (in_desk / "announcements").mkdir()
    (in_desk / "announcements" / "maintenance.yml").write_text("title: x\n")

    listed = run("list", "--format", "json")
    assert [row["id"] for row in json.loads(listed.stdout)] == [numbers[3]]

    checked = run("check")
    assert checked.exit_code == 1
    assert sorted(checked.stdout.splitlines()) == sorted(
        [
            f"tickets/{numbers[0].lower()}.yaml: not a name sdesk reads, so it is never listed "
            f"(did you mean {numbers[0]}.yaml?)",
            f"tickets/{numbers[1]}.yml: not a name sdesk reads, so it is never listed "
            f"(did you mean {numbers[1]}.yaml?)",
            "tickets/archive: a folder: sdesk reads only the files directly in tickets/",
            "announcements/maintenance.yml: not a name sdesk reads, so it is never listed "
            "(expected announcements/<NUMBER>.yaml)",
        ]
    )


def test_a_missing_or_misplaced_tickets_folder_is_one_line(tmp_path: Path, run: Run) -> None:
    root = tmp_path / "bare"
    root.mkdir()
    shutil.copy(REPO / "rules.yaml", root / "rules.yaml")
    assert_one_line_error(run("--desk", str(root), "list"), "tickets", "is missing")
    assert_one_line_error(run("--desk", str(root), "check"), "is missing")
    (root / "tickets").write_text("not a folder\n")
    assert_one_line_error(run("--desk", str(root), "list"), "tickets", "is a file, not a folder")


@pytest.fixture
def immutable() -> Iterator[Callable[[Path], None]]:
    """Make folders read-only even for root (chattr +i), and writable again afterwards."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: no way to make a folder read-only for root")
    frozen: list[Path] = []

    def freeze(folder: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"this file system has no immutable flag: {done.stderr.strip()}")
        frozen.append(folder)

    yield freeze
    for folder in frozen:
        subprocess.run(["chattr", "-i", str(folder)], check=False)


def test_read_only_folders_give_one_line_errors(
    in_desk: Path, run: Run, new_ticket: NewTicket, immutable: Callable[[Path], None]
) -> None:
    ticket = new_ticket()["id"]
    shutil.rmtree(in_desk / ".sdesk", ignore_errors=True)
    before = ticket_path(in_desk, ticket).read_bytes()
    immutable(in_desk)
    immutable(in_desk / "tickets")
    for args in (
        ["comment", ticket, "Hallo"],
        [
            "new",
            "--title",
            "x",
            "--type",
            "question",
            "--customer",
            "vandijk",
            "--product",
            "fleet-telemetry",
            "--requester",
            "j.bakker@vandijk.example",
        ],
        ["announce", "new", "--kind", "outage", "--title", "Storing", "--start", "2026-11-22T18:00"],
        ["export", "html", "site"],
    ):
        result = sdesk(in_desk, *args)
        no_traceback(result)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith("Error: ") and "Operation not permitted" in result.stderr, result.stderr
    assert ticket_path(in_desk, ticket).read_bytes() == before
    listed = sdesk(in_desk, "list")  # reading needs no writable folder: the index falls back to memory
    assert listed.returncode == 0 and ticket in listed.stdout


def test_bytes_that_are_not_utf8_never_reach_a_file(in_desk: Path, new_ticket: NewTicket) -> None:
    ticket = new_ticket()["id"]
    before = ticket_path(in_desk, ticket).read_bytes()
    argument = subprocess.run(
        [sys.executable, "-m", "sdesk", "comment", ticket, os.fsdecode(b"hallo \x9b\xff")],
        cwd=in_desk,
        capture_output=True,
        text=True,
        check=False,
    )
    assert argument.returncode == 2
    assert argument.stderr == "Error: an argument is not UTF-8 text (is the terminal set to UTF-8?)\n"
    piped = subprocess.run(
        [sys.executable, "-m", "sdesk", "comment", ticket, "-"],
        cwd=in_desk,
        input=b"hallo \xff\n",
        capture_output=True,
        check=False,
    )
    assert piped.returncode == 1
    assert piped.stderr == b"Error: the comment on standard input is not UTF-8 text\n"
    assert ticket_path(in_desk, ticket).read_bytes() == before


# --- the index sees every edit ---------------------------------------------------------------------------


def test_an_edit_that_keeps_size_and_restores_mtime_is_still_seen(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    ticket = new_ticket(title="Zebra hapert")["id"]
    ok(run("list"))  # the index now holds the ticket
    path = ticket_path(in_desk, ticket)
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Zebra hapert", "Zwaan hapert"), encoding="utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns

    assert ticket in ok(run("list", "--search", "zwaan"))
    assert ok(run("list", "--search", "zebra")) == ""


# --- what a rewrite would lose ---------------------------------------------------------------------------


def test_a_hand_written_comment_is_never_silently_dropped(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    ticket = new_ticket()["id"]
    path = ticket_path(in_desk, ticket)
    text = path.read_text(encoding="utf-8").replace("status: open\n", "status: open  # klant belt vrijdag terug\n")
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("status: open  # klant belt vrijdag terug") + 1

    for args in (["comment", ticket, "Hallo"], ["update", ticket, "--status", "in-progress"]):
        assert_one_line_error(
            run(*args),
            f"tickets/{ticket}.yaml:{line}:15: holds a hand-written comment that rewriting the file would lose",
        )
    assert path.read_text(encoding="utf-8") == text
    # A '#' inside a value is no comment.
    path.write_text(text.replace("  # klant belt vrijdag terug", ""), encoding="utf-8")
    ok(run("comment", ticket, "Zie ticket #12 van vorige week # en url http://x/#a"))
    ok(run("comment", ticket, "Nog eens"))


def test_a_read_only_ticket_is_refused_and_a_file_keeps_its_permissions(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    ticket = new_ticket()["id"]
    path = ticket_path(in_desk, ticket)
    path.chmod(0o444)
    assert_one_line_error(run("comment", ticket, "Hallo"), "is read-only (-r--r--r--): make it writable (chmod u+w)")
    path.chmod(0o640)
    ok(run("comment", ticket, "Hallo"))
    assert path.stat().st_mode & 0o777 == 0o640


# --- YAML that expands, overflows or hides ---------------------------------------------------------------

BOMB = "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 10))


def test_an_alias_bomb_in_rules_is_refused_at_once(in_desk: Path, run: Run) -> None:
    rules = in_desk / "rules.yaml"
    rules.write_text("l0: &l0 [lol]\n" + BOMB + rules.read_text(encoding="utf-8"), encoding="utf-8")
    message = "rules.yaml:1:5: YAML anchors and aliases (&name, *name) are not allowed in desk files"
    assert_one_line_error(run("list"), message)
    checked = run("rules", "check")
    assert checked.exit_code == 1 and message in checked.stdout


def test_an_anchored_text_reused_in_a_ticket_is_refused(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    good = new_ticket()["id"]
    text = good_text(in_desk, good).replace(good, OTHER_ID)
    text = text.replace("description: ", "description: &big ", 1) + "".join(
        f"- at: 2026-11-23T10:0{n}:00+01:00\n  by: agent@caresolutions.example\n  event: comment\n  text: *big\n"
        for n in range(3)
    )
    write_broken(in_desk, text, OTHER_ID)
    listed = run("list", "--format", "json")
    assert [row["id"] for row in json.loads(listed.stdout)] == [good]
    assert f"tickets/{OTHER_ID}.yaml:" in listed.stderr and "anchors and aliases" in listed.stderr
    assert (in_desk / ".sdesk" / "cache" / "index.sqlite3").stat().st_size < 1_000_000


@pytest.mark.parametrize("where", ["ticket", "rules"])
def test_a_number_of_thousands_of_digits_is_a_located_error(
    where: str, in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    good = new_ticket()["id"]
    if where == "ticket":
        write_broken(in_desk, good_text(in_desk, good).replace(good, OTHER_ID) + "  minutes: " + "9" * 5000, OTHER_ID)
        checked = run("check")
        assert checked.exit_code == 1
        assert re.search(
            rf"tickets/{OTHER_ID}\.yaml:\d+:\d+: invalid YAML: a number of 5,000 characters", checked.stdout
        )
        assert len(checked.stdout) < 500
    else:
        rules = in_desk / "rules.yaml"
        rules.write_text(rules.read_text(encoding="utf-8") + "extra: " + "9" * 5000 + "\n", encoding="utf-8")
        assert_one_line_error(run("list"), "rules.yaml:", "a number of 5,000 characters is too long")


# --- values that only look valid ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "requester",
    ["a@x.example,b@y.example", "a@x.example\r\nBcc: all@x.example", "a@x.example\n", "Jan <a@x.example>"],
)
def test_a_requester_that_is_not_one_address_is_refused(
    requester: str, in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    good = new_ticket()["id"]
    text = good_text(in_desk, good).replace(good, OTHER_ID)
    text = re.sub(r"^requester: .*$", f"requester: {json.dumps(requester)}", text, flags=re.MULTILINE)
    write_broken(in_desk, text, OTHER_ID)
    checked = run("check")
    assert checked.exit_code == 1
    assert re.search(rf"tickets/{OTHER_ID}\.yaml:\d+:\d+: requester: .* is not an email address", checked.stdout)
    created = run("new", "--title", "x", "--type", "question", "--customer", "zonnebloem", "--requester", requester)
    assert created.exit_code != 0 and "Traceback" not in created.output


def test_a_number_or_key_with_a_trailing_line_break_is_not_taken_for_a_good_one(in_desk: Path, run: Run) -> None:
    rules = in_desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("\n  noc:\n", '\n  "noc\\n":\n', 1), encoding="utf-8")
    checked = run("rules", "check")
    assert checked.exit_code == 1
    assert "teams.noc\n" in checked.stdout or "teams.noc\\n" in checked.stdout
    assert "Traceback" not in checked.output


def test_error_messages_quote_only_a_short_excerpt_of_a_bad_value(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    new_ticket()
    write_broken(in_desk, KEY * 50, OTHER_ID)  # a key pasted (or linked) where a ticket should be
    checked = run("check")
    line = next(line for line in checked.stdout.splitlines() if OTHER_ID in line)
    assert "expected a mapping" in line
    assert len(line) < 160, line
    assert KEY.splitlines()[1] not in line


# --- patterns that could stall the desk --------------------------------------------------------------------


def test_a_catastrophic_pattern_cannot_stall_a_new_ticket(in_desk: Path) -> None:
    rules = in_desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    text = text.replace(
        "exclusions:\n",
        "exclusions:\n  - name: herhaling\n    message: x\n    when: {title: {matches: '^(a+)+$'}}\n",
        1,
    )
    rules.write_text(text, encoding="utf-8")

    def excluded(title: str) -> list[str]:
        result = sdesk(
            in_desk,
            "new",
            "--dry-run",
            "--format",
            "json",
            "--title",
            title,
            "--type",
            "question",
            "--customer",
            "zonnebloem",
            "--requester",
            "els.vermeulen@zonnebloem.example",
            "--product",
            "care-dossier",
        )
        no_traceback(result)
        return list(json.loads(result.stdout)["excluded"])

    assert excluded("a" * 48 + "!") == []  # 2^48 steps for a backtracking engine: here, an answer at once
    assert excluded("a" * 48) == ["herhaling"]


def test_a_pattern_the_linear_engine_cannot_run_is_a_rules_check_error(in_desk: Path, run: Run) -> None:
    rules = in_desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        text.replace(
            "exclusions:\n",
            "exclusions:\n  - name: dubbel\n    message: x\n    when: {title: {matches: '(a)\\1'}}\n",
            1,
        ),
        encoding="utf-8",
    )
    checked = run("rules", "check")
    assert checked.exit_code == 1
    assert (
        "exclusions.0.when.title.matches: bad regular expression /(a)\\1/: invalid escape sequence at position 3"
        in (checked.stdout)
    )
    assert checked.stderr.count("\n") == 1  # no engine log lines on stderr


def test_a_condition_nested_to_the_parsers_limit_is_an_error_not_a_crash(in_desk: Path, run: Run) -> None:
    deep = "{not: " * 990 + "{category: network}" + "}" * 990
    rules = in_desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        text.replace("exclusions:\n", f"exclusions:\n  - name: diep\n    message: x\n    when: {deep}\n", 1),
        encoding="utf-8",
    )
    checked = run("rules", "check")
    assert checked.exit_code == 1
    assert "nested more than 32 levels deep: simplify the condition" in checked.stdout
    assert_one_line_error(run("list"), "nested more than 32 levels deep")


# --- templates are data ------------------------------------------------------------------------------------

ESCAPE = "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}"


def new_question(run: Run) -> Any:
    """`sdesk new` of a question for zonnebloem, whose created mail renders the desk's templates."""
    return run(
        "new",
        "--title",
        "x",
        "--type",
        "question",
        "--customer",
        "zonnebloem",
        "--requester",
        "els.vermeulen@zonnebloem.example",
        "--product",
        "care-dossier",
    )


def override(desk: Path, name: str, text: str) -> Path:
    path = desk / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_template_that_reaches_for_python_is_refused_by_check_and_never_runs(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    override(
        in_desk,
        "mail/nl/created.txt",
        "{% block subject %}x{% endblock %}{% block body %}\n" + ESCAPE + "\n{% endblock %}\n",
    )
    override(in_desk, "html/home.html", "<p>{{ portal['__class__'] }}</p>\n")
    checked = run("check")
    assert checked.exit_code == 1
    assert "templates/mail/nl/created.txt:2: mail template: '__init__' is Python's internals" in checked.stdout
    assert "templates/mail/nl/created.txt:2: mail template: '__globals__' is Python's internals" in checked.stdout
    assert "templates/html/home.html:1: html template: '__class__' is Python's internals" in checked.stdout

    created = new_question(run)
    assert created.exit_code == 1 and "Traceback" not in created.output
    assert "not allowed in a desk template" in created.stderr
    assert not (in_desk / "PWNED").exists() and not Path("PWNED").exists()
    assert list((in_desk / "tickets").glob("*.yaml")) == []


@pytest.mark.parametrize("expression", ["'x' * 10 ** 9", "10 ** 100000", "'ab' * 600000"])
def test_template_arithmetic_cannot_exhaust_memory(in_desk: Path, run: Run, expression: str) -> None:
    override(
        in_desk,
        "mail/nl/created.txt",
        "{% block subject %}x{% endblock %}{% block body %}{{ " + expression + " }}{% endblock %}\n",
    )
    created = new_question(run)
    assert created.exit_code == 1
    assert "mail/nl/created.txt:1: mail template nl/created.txt: not allowed in a desk template: " in created.stderr


def test_a_template_linked_out_of_the_desk_is_refused(in_desk: Path, tmp_path: Path, run: Run) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(KEY)
    path = in_desk / "templates" / "mail" / "nl" / "created.txt"
    path.parent.mkdir(parents=True)
    path.symlink_to(secret)
    checked = run("check")
    assert "templates/mail/nl/created.txt: is a symbolic link that leads outside the desk" in checked.stdout
    assert SECRET_PART not in checked.output


# --- a ticket that moves to another customer ---------------------------------------------------------------


def test_moving_a_ticket_needs_the_new_customers_requester(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    ticket = new_ticket()["id"]
    assert_one_line_error(
        run("update", ticket, "--customer", "vandijk", "--product", "fleet-telemetry", "--site", ""),
        f"cannot move {ticket} to vandijk: its requester els.vermeulen@zonnebloem.example is not a reference person",
    )
    assert_one_line_error(
        run(
            "update",
            ticket,
            "--customer",
            "vandijk",
            "--product",
            "fleet-telemetry",
            "--requester",
            "j.bakker@vandijk.example",
        ),
        "site 2101 is not one of Van Dijk",
    )
    ok(
        run(
            "update",
            ticket,
            "--customer",
            "vandijk",
            "--product",
            "fleet-telemetry",
            "--requester",
            "j.bakker@vandijk.example",
            "--site",
            "3001",
        )
    )
    assert "0 problems" in run("check").stderr


def test_the_new_customers_portal_shows_nothing_from_before_the_move(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    ticket = new_ticket(description="Bewoner 1182 van De Zonnebloem")["id"]
    ok(run("comment", ticket, "Wij bekijken het dossier van bewoner 1182"))
    ok(
        run(
            "update",
            ticket,
            "--customer",
            "vandijk",
            "--product",
            "fleet-telemetry",
            "--requester",
            "j.bakker@vandijk.example",
            "--site",
            "3001",
        )
    )
    ok(run("comment", ticket, "Dit ticket hoort bij Van Dijk"))
    ok(run("export", "html", "site"))
    pages = {
        path.name: path.read_text(encoding="utf-8")
        for path in (in_desk / "site" / "customers" / "vandijk").glob("*.html")
    }
    page = pages[f"{ticket}.html"]
    assert "Dit ticket hoort bij Van Dijk" in page
    assert "1182" not in page and "Zonnebloem" not in page and "els.vermeulen" not in page
    assert not (in_desk / "site" / "customers" / "zonnebloem" / f"{ticket}.html").exists()


def test_check_flags_a_moved_ticket_whose_requester_stayed_behind(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    ticket = new_ticket()["id"]
    ok(
        run(
            "update",
            ticket,
            "--customer",
            "vandijk",
            "--product",
            "fleet-telemetry",
            "--requester",
            "j.bakker@vandijk.example",
            "--site",
            "3001",
        )
    )
    path = ticket_path(in_desk, ticket)
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "requester: j.bakker@vandijk.example", "requester: els.vermeulen@zonnebloem.example"
        ),
        encoding="utf-8",
    )
    checked = run("check")
    assert checked.exit_code == 1
    assert "requester: els.vermeulen@zonnebloem.example is not a reference person of Van Dijk Logistiek B.V., " in (
        checked.stdout
    )


# --- derived folders stay out of git -----------------------------------------------------------------------


def test_init_ignores_every_folder_sdesk_derives(tmp_path: Path, run: Run) -> None:
    folder = tmp_path / "newdesk"
    ok(run("init", str(folder)))
    ignored = (folder / ".gitignore").read_text(encoding="utf-8").splitlines()
    for line in (".sdesk/", "outbox/", "tickets/.*.tmp", "announcements/.*.tmp"):
        assert line in ignored
    (folder / ".gitignore").write_text("# mine\n.sdesk/\n", encoding="utf-8")
    shutil.rmtree(folder / "tickets")
    (folder / "rules.yaml").unlink()
    ok(run("init", str(folder)))
    lines = (folder / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["# mine", ".sdesk/"] and lines.count(".sdesk/") == 1 and "outbox/" in lines


# --- what the outside review found (issue 15) ----------------------------------------------------------


def test_an_encoded_word_in_a_title_adds_no_header_to_the_mail(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    new_ticket(title="Tracker =?utf-8?q?stuk=0D=0ACc:_attacker@evil.example?=")
    (mail,) = owed_mail(in_desk).values()
    assert mail.get_all("Cc") is None and mail.get_all("Bcc") is None
    assert [address.addr_spec for address in mail["To"].addresses] == ["els.vermeulen@zonnebloem.example"]
    assert "attacker@evil.example" in str(mail["Subject"])  # shown as the text it is, in the subject alone


@pytest.mark.parametrize("where", ["templates", "tickets"])
def test_a_linked_folder_cannot_take_reads_or_writes_out_of_the_desk(
    where: str, in_desk: Path, tmp_path: Path, run: Run, new_ticket: NewTicket
) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "id_ed25519").write_text(KEY)
    if where == "templates":
        new_ticket()
        (in_desk / "templates" / "html").mkdir(parents=True)
        (in_desk / "templates" / "html" / "inc").symlink_to(secret)
        override(in_desk, "html/portal.html", '<pre>{% include "inc/id_ed25519" %}</pre>\n')
        exported = run("export", "html", "site")
        assert exported.exit_code == 1 and "a symbolic link takes outside the desk" in exported.stderr
        checked = run("check")
        assert "templates/html/inc: is a symbolic link that leads outside the desk: refused" in checked.stdout
        assert SECRET_PART not in exported.output + checked.output
        assert not (in_desk / "site").exists() or SECRET_PART not in "".join(
            path.read_text(encoding="utf-8") for path in (in_desk / "site").rglob("*.html")
        )
    else:
        shutil.rmtree(in_desk / "tickets")
        (in_desk / "tickets").symlink_to(secret)
        assert_one_line_error(run("list"), "tickets: is a folder that a symbolic link takes outside the desk")
        created = new_question(run)
        assert created.exit_code == 1 and "symbolic link takes outside the desk" in created.stderr
        assert sorted(path.name for path in secret.iterdir()) == ["id_ed25519"]


def test_an_index_that_is_not_sdesks_own_is_rebuilt_not_believed(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    import sqlite3

    ticket = new_ticket(title="Eerlijke titel")["id"]
    ok(run("list"))
    index = in_desk / ".sdesk" / "cache" / "index.sqlite3"
    with sqlite3.connect(index) as db:
        db.execute("DELETE FROM tickets")
        db.execute(
            "CREATE TRIGGER evil AFTER INSERT ON tickets BEGIN "
            "UPDATE tickets SET summary = json_set(summary, '$.title', 'Gelogen titel') WHERE id = NEW.id; END"
        )
    listed = ok(run("list", "--format", "json"))
    assert [row["title"] for row in json.loads(listed) if row["id"] == ticket] == ["Eerlijke titel"]
    with sqlite3.connect(index) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall() == []


@pytest.mark.parametrize("number", ["0x" + "f" * 5000, "0b" + "1" * 20000, "1" + ":59" * 3000, "1" * 41])
def test_a_number_too_long_in_any_base_is_a_located_error(
    number: str, in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    good = new_ticket()["id"]
    write_broken(
        in_desk,
        good_text(in_desk, good).replace(good, OTHER_ID).replace("title: ", f"title: {number}\nx: ", 1),
        OTHER_ID,
    )
    result = sdesk(in_desk, "check", timeout=60)
    no_traceback(result)
    assert re.search(
        rf"tickets/{OTHER_ID}\.yaml:\d+:\d+: invalid YAML: a number of [\d,]+ characters is too long", result.stdout
    )
    assert_one_line_error(run("show", OTHER_ID), "characters is too long")


def test_a_date_sdesk_cannot_count_with_is_refused_at_its_line(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    good = new_ticket()["id"]
    text = re.sub(r"^created: .*$", "created: 9999-12-31T23:59:59+01:00", good_text(in_desk, good), flags=re.M)
    ticket_path(in_desk, good).write_text(text, encoding="utf-8")
    checked = run("check")
    assert checked.exit_code == 1
    assert re.search(
        r"created: 9999-12-31T23:59:59\+01:00 is not a date sdesk works with \(1970 to 2999\)", checked.stdout
    )
    for args in (["show", good], ["sla"], ["sweep", "--dry-run"]):
        result = run(*args)
        assert "Traceback" not in result.output, args


@pytest.mark.parametrize("separator", ["\r", "\x85", "\u2028", "\u2029"])
def test_a_comment_after_any_line_break_yaml_knows_is_kept(
    separator: str, in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    ticket = new_ticket()["id"]
    path = ticket_path(in_desk, ticket)
    text = path.read_text(encoding="utf-8").replace("status: open\n", f"status: open{separator}# KEEP-ME\n")
    path.write_bytes(text.encode("utf-8"))
    assert_one_line_error(run("comment", ticket, "x"), "holds a hand-written comment")
    assert path.read_bytes() == text.encode("utf-8")


def test_a_pattern_too_complex_to_run_on_every_ticket_is_refused(in_desk: Path, run: Run) -> None:
    rules = in_desk / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            "exclusions:\n",
            "exclusions:\n  - name: zwaar\n    message: x\n    when: {text: {matches: '\\w{1000}c'}}\n",
            1,
        ),
        encoding="utf-8",
    )
    checked = run("rules", "check")
    assert checked.exit_code == 1
    assert "is too complex (" in checked.stdout and "write it simpler" in checked.stdout


@pytest.mark.parametrize(
    "reach", ["ticket|attr('__class__')", "(ticket.history|first)|attr('__init__')", "ticket.title|attr('__class__')"]
)
def test_a_page_template_reads_the_tickets_fields_but_not_through_them_into_python(
    in_desk: Path, run: Run, new_ticket: NewTicket, reach: str
) -> None:
    new_ticket()
    override(in_desk, "html/ticket.html", "<h1>{{ ticket.title }} {{ ticket.history[0].what }}</h1>\n")
    ok(run("export", "html", "site"))
    (page,) = (in_desk / "site" / "customers" / "zonnebloem").glob("*-*.html")
    assert page.read_text(encoding="utf-8").startswith("<h1>Zorgdossier opent niet ")
    override(in_desk, "html/ticket.html", "<h1>{{ " + reach + " }}</h1>\n")
    exported = run("export", "html", "site2")
    assert exported.exit_code == 1 and "Traceback" not in exported.output
    assert "not allowed in a desk template" in exported.stderr


@pytest.mark.parametrize(
    "expression",
    ['""|center(1000000000)', '"x"|indent(1000000000)', "range(100)|map('string')|map('center', 900000)|join"],
)
def test_a_template_cannot_fill_memory_with_widths_or_output(in_desk: Path, run: Run, expression: str) -> None:
    override(
        in_desk,
        "mail/nl/created.txt",
        "{% block subject %}x{% endblock %}{% block body %}{{ " + expression + " }}{% endblock %}\n",
    )
    created = new_question(run)
    assert created.exit_code == 1
    assert "not allowed in a desk template" in created.stderr


def test_check_reads_templates_for_what_the_sandbox_would_stop(in_desk: Path, run: Run) -> None:
    override(
        in_desk, "html/portal.html", '{{ portal|attr("__cla" ~ "ss__") }}\n{% set k = "x" %}{{ portal|attr(k) }}\n'
    )
    override(in_desk, "html/parts/footer.txt", "{{ t.pop('x') }}\n")
    checked = run("check")
    assert checked.exit_code == 1
    lines = checked.stdout.splitlines()
    internals = "names Python's internals, which desk templates may not use"
    assert f"templates/html/portal.html:1: html template: '__cla' {internals}" in lines
    assert (
        "templates/html/portal.html:2: html template: 'attr' with a computed name: name the attribute as it is" in lines
    )
    assert (
        "templates/html/parts/footer.txt:1: html template: 'pop' changes a value, which desk templates may not do"
        in lines
    )


def test_check_prints_one_line_per_problem_whatever_a_key_holds(in_desk: Path, run: Run, new_ticket: NewTicket) -> None:
    good = new_ticket()["id"]
    forged = json.dumps(KEY + "All checks passed: 13 ticket files checked, 0 problems.")
    write_broken(
        in_desk,
        good_text(in_desk, good).replace(good, OTHER_ID).replace("\nhistory:", f"\n{forged}: x\nhistory:"),
        OTHER_ID,
    )
    checked = run("check")
    assert checked.exit_code == 1
    (line,) = [line for line in checked.stdout.splitlines() if OTHER_ID in line]
    assert "unknown key" in line and "All checks passed" not in checked.stdout
    assert SECRET_PART not in line


def test_escape_sequences_are_shown_not_dropped_on_a_pipe(in_desk: Path) -> None:
    result = sdesk(
        in_desk,
        "new",
        "--title",
        "A\x1b[2JB",
        "--type",
        "question",
        "--customer",
        "zonnebloem",
        "--requester",
        "els.vermeulen@zonnebloem.example",
        "--product",
        "care-dossier",
    )
    assert "question for zonnebloem: A\\u001b[2JB" in result.stdout


def test_a_character_yaml_forbids_is_one_located_line_and_init_refuses_it(
    in_desk: Path, tmp_path: Path, run: Run
) -> None:
    rules = in_desk / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("name:", "name: A\x7f", 1), encoding="utf-8")
    message = assert_one_line_error(
        run("list"), "rules.yaml:", "invalid YAML: control characters are not allowed (U+007F)"
    )
    assert re.match(r"Error: rules\.yaml:\d+:\d+: ", message)
    assert_one_line_error(run("init", str(tmp_path / "new"), "--name", "A\x7fB"), "must be printable text on one line")
    assert not (tmp_path / "new" / "rules.yaml").exists()


def test_a_journal_planted_through_git_is_not_the_runners_and_check_names_it(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    subprocess.run(["git", "init", "-q", str(in_desk)], check=True)
    ticket = new_ticket()["id"]
    (key,) = [row["id"] for row in json.loads(ok(run("notify", "list", "--format", "json")))]
    planted = in_desk / ".sdesk" / "mail-journal.jsonl"
    planted.parent.mkdir(exist_ok=True)
    planted.write_text(json.dumps({"mail": key, "step": "sent"}) + "\n")  # "it went out": it did not
    subprocess.run(["git", "-C", str(in_desk), "add", "-f", str(planted)], check=True)
    sent = run("notify", "send", "--smtp", "127.0.0.1:9")  # the runner's journal lives in .git/: it still tries
    assert_one_line_error(sent, "cannot deliver through 127.0.0.1:9")
    assert [row["state"] for row in json.loads(ok(run("notify", "list", "--format", "json")))] == ["owed"]
    checked = run("check")
    assert ".sdesk/mail-journal.jsonl: is committed to git, but belongs to one clone" in checked.stdout
    assert ticket


@pytest.mark.parametrize("kind", ["fifo", "link"])
def test_delivery_records_that_are_a_fifo_or_a_link_hold_the_mail_back_and_say_why(
    kind: str, in_desk: Path, tmp_path: Path, new_ticket: NewTicket
) -> None:
    ticket = new_ticket()["id"]
    records = in_desk / "deliveries" / f"{ticket}.jsonl"
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text("")
    if kind == "fifo":
        os.mkfifo(records)
    else:
        records.symlink_to(elsewhere)
    listed = sdesk(in_desk, "notify", "list", timeout=30)
    no_traceback(listed)
    assert f"Warning: {ticket}: " in listed.stderr and "No mail owed." in listed.stderr
    sent = sdesk(in_desk, "notify", "send", "--smtp", "127.0.0.1:9", "--timeout", "1", timeout=30)
    no_traceback(sent)
    assert sent.returncode == 0 and "Sent 0 mails" in sent.stderr  # nothing tried: no second copy of sent mail
    assert elsewhere.read_text() == ""


def test_a_history_change_to_the_tickets_number_or_creation_is_refused_where_it_is(
    in_desk: Path, run: Run, new_ticket: NewTicket
) -> None:
    ticket = new_ticket()["id"]
    ok(run("update", ticket, "--status", "in-progress"))
    text = good_text(in_desk, ticket)
    assert "- field: status" in text
    write_broken(in_desk, text.replace("- field: status", "- field: created", 1), ticket)
    error = assert_one_line_error(run("show", ticket), "created")
    assert f"tickets/{ticket}.yaml:" in error  # named with its line, never applied
