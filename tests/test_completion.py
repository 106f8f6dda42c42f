"""Tab completion: what sdesk offers the shell, asked and read as the shell's completion script does.

The script sets _SDESK_COMPLETE, COMP_WORDS and COMP_CWORD and runs sdesk;
zsh reads three lines per completion (type, value, help), fish one (type,
value, a tab, the help), bash one (type, value). The tests speak that protocol
through Click's CliRunner, and one runs the bash script itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from sdesk.cli import completers, main
from tests.conftest import AGENT, REPO, example_rules_text, ok
from tests.test_hostile_output import hand_written

Offered = list[tuple[str, str | None]]


def tab(line: str, shell: str = "zsh") -> Offered:
    """What Tab offers at the end of ``line``, each value with its help (None where the shell shows none)."""
    words = line.split(" ")
    env = {
        "_SDESK_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": words[-1] if shell == "fish" else str(len(words) - 1),
    }
    result = CliRunner().invoke(main, [], env=env, prog_name="sdesk", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.removesuffix("\n").split("\n") if result.stdout.strip() else []
    if shell == "zsh":
        assert len(lines) % 3 == 0, lines
        triples = list(zip(lines[::3], lines[1::3], lines[2::3], strict=True))
        assert {kind for kind, _, _ in triples} <= {"plain"}
        return [(value, None if help_text == "_" else help_text) for _, value, help_text in triples]
    assert all(line.startswith("plain,") for line in lines), lines
    if shell == "fish":
        pairs = [line.removeprefix("plain,").split("\t") for line in lines]
        assert all(len(pair) <= 2 for pair in pairs), lines
        return [(pair[0], pair[1] if len(pair) == 2 else None) for pair in pairs]
    return [(line.removeprefix("plain,"), None) for line in lines]


def values(line: str, shell: str = "zsh") -> list[str]:
    return [value for value, _ in tab(line, shell)]


@pytest.fixture
def three(desk, run, new_ticket, at) -> list[str]:
    """Three tickets opened five minutes apart; the first is closed at 10:20."""
    numbers = []
    for minute, title in (("00", "Medicatielijst leeg"), ("05", "Zorgplan opent niet"), ("10", "Zorgdossier traag")):
        at(f"2026-11-23 10:{minute}")
        numbers.append(new_ticket(title=title)["id"])
    at("2026-11-23 10:20")
    ok(run("close", numbers[0], "--resolution", "Lijst hersteld"))
    return numbers


# --- ticket numbers --------------------------------------------------------------------------


def test_ticket_numbers_come_open_first_with_their_titles(three):
    first, second, third = three
    assert tab("sdesk show ") == [
        (third, "open: Zorgdossier traag"),
        (second, "open: Zorgplan opent niet"),
        (first, "closed: Medicatielijst leeg"),
    ]
    assert tab("sdesk log ", "fish") == tab("sdesk show ")
    assert values("sdesk show ", "bash") == [third, second, first]


def test_each_command_is_offered_the_tickets_it_takes(three):
    first, second, third = three
    assert values("sdesk reopen ") == values("sdesk survey ") == [first]
    for command in ("close", "update", "comment", "priority", "callback", "link"):
        assert values(f"sdesk {command} ") == [third, second], command
    assert values("sdesk rules explain ") == values("sdesk sla --explain ") == [third, second, first]


def test_a_prefix_of_the_number_or_of_its_random_part_narrows_the_offer(three):
    first, second, _ = three
    random_part = second.split("-")[1]
    assert values(f"sdesk show {random_part[:3].lower()}") == [second]
    assert values(f"sdesk show {second[:8]}") == [second]
    assert values(f"sdesk show {first.replace('-', '').lower()}") == [first]
    assert values("sdesk show ../rules") == []


def test_the_offer_is_capped_and_the_newest_changes_come_first(three, monkeypatch):
    monkeypatch.setattr(completers, "MOST_TICKETS", 1)
    assert values("sdesk show ") == [three[2]]


def test_tickets_the_index_could_not_read_yet_are_offered_without_a_title(three, new_ticket, monkeypatch):
    """With more changed files than a Tab may read, the index answers as it stands: the new number comes first."""
    assert len(tab("sdesk show ")) == 3  # the index now knows the three
    fourth = new_ticket(title="Nieuw")["id"]
    monkeypatch.setattr(completers, "MOST_UNREAD", 0)
    offered = tab("sdesk show ")
    assert offered[0] == (fourth, None)
    assert offered[1:] == [
        (three[2], "open: Zorgdossier traag"),
        (three[1], "open: Zorgplan opent niet"),
        (three[0], "closed: Medicatielijst leeg"),
    ]
    monkeypatch.setattr(completers, "MOST_UNREAD", 100)
    assert tab("sdesk show ")[0] == (fourth, "open: Nieuw")


def test_the_desk_is_the_one_the_command_would_use(three, desk, tmp_path, monkeypatch):
    other = tmp_path / "other"
    (other / "tickets").mkdir(parents=True)
    shutil.copy(REPO / "rules.yaml", other / "rules.yaml")
    assert values(f"sdesk --desk {other} show ") == []
    assert values(f"sdesk show --desk {other} ") == []
    monkeypatch.delenv("SDESK_DIR")
    monkeypatch.chdir(desk / "tickets")  # the nearest desk above
    assert len(values("sdesk show ")) == 3


# --- names from rules.yaml ------------------------------------------------------------------


def test_statuses_types_and_priorities_come_from_rules_yaml(desk):
    statuses = tab("sdesk list --status ")
    assert [value for value, _ in statuses] == [
        "open",
        "in-progress",
        "waiting-for-customer",
        "on-hold",
        "scheduled",
        "awaiting-acceptance",
        "closed",
    ]
    assert ("in-progress", "In behandeling") in statuses  # the desk speaks Dutch
    assert values("sdesk list --status w") == ["waiting-for-customer"]
    assert values("sdesk close X --status ") == ["closed"]
    assert values("sdesk list --type ") == ["incident", "service-request", "change", "question", "complaint"]
    assert values("sdesk list --priority p") == ["P1", "P2", "P3", "P4"]
    assert values("sdesk priority X ") == ["P1", "P2", "P3", "P4"]


def test_update_offers_the_moves_rules_yaml_allows_the_ticket(desk, new_ticket):
    ticket = new_ticket()["id"]
    assert values(f"sdesk update {ticket} --status ") == ["in-progress", "waiting-for-customer", "on-hold", "scheduled"]
    assert "closed" not in values("sdesk update NOSUCH --status ")  # any open status, closing is sdesk close


def test_customers_teams_and_categories(desk):
    customers = tab("sdesk new --customer ")
    assert ("vandijk", "Van Dijk Logistiek B.V.") in customers
    assert values("sdesk list --customer zon") == ["zonnebloem"]
    assert values("sdesk report time --customer van") == values("sdesk export html out --customer van") == ["vandijk"]
    assert "noc" in values("sdesk queue --team ")
    assert "network" in values("sdesk new --category ")
    assert values("sdesk announce new --customers vandijk,zon") == ["vandijk,zonnebloem"]
    assert values("sdesk announce new --customers a") == ["all"]


def test_products_and_sites_are_the_chosen_customers(desk, new_ticket):
    assert values("sdesk new --customer vandijk --product ") == ["fleet-telemetry", "warehouse-network"]
    assert tab("sdesk new --customer vandijk --site ") == [("3001", "DC Tilburg"), ("3002", "DC Venlo")]
    everything = values("sdesk new --product ")
    assert {"care-dossier", "fleet-telemetry", "warehouse-network"} <= set(everything)
    assert {"2101", "3001"} <= set(values("sdesk new --site "))
    ticket = new_ticket()["id"]  # zonnebloem's
    assert values(f"sdesk update {ticket} --product ") == ["care-dossier", "medication"]
    assert "els.vermeulen@zonnebloem.example" in values("sdesk new --customer zonnebloem --requester ")


def test_assignees_are_me_none_and_the_agents_on_tickets(desk, new_ticket):
    new_ticket(assignee="me")
    offered = values("sdesk list --assignee ")
    assert offered == ["me", "none", AGENT]
    assert values("sdesk queue --assignee n") == ["none"]
    assert values("sdesk update X --assignee ") == offered


def test_assignees_are_the_declared_agents_with_their_names_where_rules_yaml_declares_them(desk, new_ticket):
    new_ticket(assignee="me")  # the desk declares no agents yet: whoever tickets are assigned to
    (desk / "rules.yaml").write_text(example_rules_text(agents=True), encoding="utf-8")
    offered = tab("sdesk update X --assignee ")
    assert offered[:2] == [("me", "yourself (--as, $SDESK_USER or git config user.email)"), ("none", "nobody")]
    assert ("bram.de.smet@caresolutions.example", "Bram De Smet") in offered
    assert AGENT not in values("sdesk update X --assignee ")  # not declared: cannot be assigned
    assert values("sdesk list --assignee bram") == ["bram.de.smet@caresolutions.example"]


def test_outages_and_announcements(desk, run, at):
    start = ["--start", "2026-11-23T09:00", "--customers", "all"]
    outage = ok(run("announce", "new", "--kind", "outage", "--title", "Zorgdossier plat", *start, "--format", "json"))
    at("2026-11-23 10:05")
    window = ["--start", "2026-11-28T22:00", "--end", "2026-11-28T23:00"]
    maintenance = ok(run("announce", "new", "--kind", "maintenance", "--title", "Update", *window, "--format", "json"))
    outage_id, maintenance_id = (text.split('"id": "')[1][:12] for text in (outage, maintenance))
    assert tab("sdesk link X --outage ") == [(outage_id, "Zorgdossier plat")]
    assert values("sdesk new --outage ") == [outage_id]
    assert values("sdesk announce resolve ") == [maintenance_id, outage_id]  # newest first


def test_held_mail_is_offered_with_its_sender_and_subject(desk, run):
    from tests.test_mail_gateway import STRANGER, mail

    ok(run("mail", "receive", input=mail(sender=STRANGER, subject="Printer kapot")))
    held = json.loads(ok(run("mail", "triage", "--format", "json")))[0]["id"]
    assert tab("sdesk mail accept ") == [(held, f"{STRANGER}: Printer kapot")]
    assert values("sdesk mail dismiss m") == values("sdesk mail show ") == [held]
    ok(run("mail", "dismiss", held, "--reason", "Spam"))
    assert values("sdesk mail accept ") == []  # decided: no longer waiting


def test_command_names_come_with_their_summaries(desk):
    assert tab("sdesk comp") == [("completion", "Print the script that makes Tab complete sdesk in bash, zsh or fish.")]
    assert "--desk" in values("sdesk --")


# --- a broken desk, hostile files ------------------------------------------------------------


def test_a_missing_or_broken_desk_offers_nothing_and_says_nothing(three, desk, monkeypatch, tmp_path):
    (desk / "tickets" / "2Q3XN5-V4T3T.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    assert len(values("sdesk show ")) == 3  # a broken ticket file is left out
    assert values(f"sdesk --desk {tmp_path / 'nowhere'} show ") == []
    (desk / "rules.yaml").write_text("statuses: [\n", encoding="utf-8")
    for line in ("sdesk show ", "sdesk list --status ", "sdesk new --site "):
        assert tab(line) == [], line
    monkeypatch.delenv("SDESK_DIR")
    assert tab("sdesk show ") == []


def test_a_title_cannot_break_the_protocol_or_reach_the_terminal_raw(desk, new_ticket):
    ticket = new_ticket()["id"]
    hand_written(desk, ticket, "title", '"Eerste\\nregel\\twas \\e[2J\\u2028weg ' + "lang " * 20 + '"')
    for shell in ("zsh", "fish"):
        ((value, help_text),) = tab("sdesk show ", shell)
        assert value == ticket
        assert help_text is not None and len(help_text) == completers.HELP_WIDTH
        assert help_text.startswith("open: Eerste regel was \\u001b[2J weg lang")
        assert help_text.endswith("…")


def test_only_words_a_shell_takes_back_unquoted_are_offered(desk, new_ticket):
    new_ticket(assignee="jan@vandijk.example")
    hand_written(desk, new_ticket(assignee="me")["id"], "assignee", '"o\'brien@vandijk.example"')
    assert values("sdesk list --assignee ") == ["me", "none", "jan@vandijk.example"]


# --- the scripts ------------------------------------------------------------------------------


def test_the_completion_command_prints_each_shells_script(run):
    assert "complete -o nosort -F _sdesk_completion sdesk" in ok(run("completion", "bash"))
    assert ok(run("completion", "zsh")).startswith("#compdef sdesk")
    fish = ok(run("completion", "fish"))
    assert 'string split -m 1 "," $completion' in fish  # a title's commas stay in its description
    assert "complete --no-files --keep-order --command sdesk" in fish  # open tickets first, as offered
    assert run("completion", "tcsh").exit_code == 2
    assert 'eval "$(sdesk completion bash)"' in ok(run("completion", "--help"))


@pytest.fixture
def installed(tmp_path) -> dict[str, str]:
    """The environment of a shell where `sdesk` is this checkout's, as installed: a program named sdesk on PATH
    (Click names the completion variable after the program)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    lines = ("import sys", f"sys.path.insert(0, {str(REPO)!r})", "from sdesk.cli import main", "sys.exit(main())")
    (bin_dir / "sdesk").write_text(f"#!{sys.executable}\n" + "\n".join(lines) + "\n", encoding="utf-8")
    (bin_dir / "sdesk").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def shell(program: str, script: str, env: dict[str, str]) -> str:
    done = subprocess.run([program, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_ticket_numbers_through_its_script(three, installed):
    """The real thing: bash sources the script and calls its function as it does on Tab."""
    script = (
        "source <(sdesk completion bash)\n"
        'COMP_WORDS=(sdesk reopen ""); COMP_CWORD=2; _sdesk_completion sdesk; echo "${COMPREPLY[*]}"\n'
        'COMPREPLY=(); COMP_WORDS=(sdesk show ""); COMP_CWORD=2; _sdesk_completion sdesk; echo "${COMPREPLY[*]}"\n'
    )
    first, second, third = three
    assert shell("bash", script, installed).splitlines() == [first, f"{third} {second} {first}"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_keeps_sdesks_order_and_whole_titles(three, run, installed):
    first, second, third = three
    ok(run("update", second, "--title", "Zorgplan, medicatie en rapport openen niet"))
    script = 'sdesk completion fish | source; complete --do-complete "sdesk show "'
    assert shell("fish", script, installed).splitlines() == [
        f"{second}\topen: Zorgplan, medicatie en rapport openen niet",
        f"{third}\topen: Zorgdossier traag",
        f"{first}\tclosed: Medicatielijst leeg",
    ]
