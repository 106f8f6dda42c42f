"""What a new desk and `sdesk run --example` give a support lead to set the runner up with."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import Run, ok


def test_init_starts_the_mail_of_every_event_and_points_at_the_runner_set_ups(tmp_path: Path, run: Run) -> None:
    result = run("init", str(tmp_path / "fresh"), "--name", "Test desk")
    ok(result)
    assert (tmp_path / "fresh" / "deliveries" / "baseline.yaml").read_text(encoding="utf-8").count("commit: none") == 1
    assert "sdesk run --example cron|systemd|ci" in result.stderr


def test_the_cron_example_is_one_crontab_line_running_a_cycle_on_this_desk(desk: Path, run: Run) -> None:
    text = ok(run("run", "--example", "cron"))
    (line,) = [line for line in text.splitlines() if line and not line.startswith("#")]
    schedule, command = line.split(" ", 5)[:5], line.split(" ", 5)[5]
    assert schedule == ["*/5", "*", "*", "*", "*"]
    assert f"run --desk {desk}" in command and "--smtp " in command and "--export " in command
    assert "export SDESK_SMTP_PASSWORD" in text  # a sourced file must export it, or sdesk never sees it


def test_the_systemd_example_is_a_oneshot_service_and_its_timer(desk: Path, run: Run) -> None:
    text = ok(run("run", "--example", "systemd"))
    service, timer = text.split("# /etc/systemd/system/sdesk-run.timer")
    assert "Type=oneshot" in service and "ExecStart=" in service and f"--desk {desk}" in service
    assert "EnvironmentFile=" in service
    assert "OnUnitActiveSec=5min" in timer and "WantedBy=timers.target" in timer


def test_the_ci_example_is_a_workflow_that_runs_a_cycle_after_each_push_and_on_a_schedule(desk: Path, run: Run) -> None:
    workflow = yaml.safe_load(ok(run("run", "--example", "ci")))
    triggers = workflow[True]  # YAML 1.1 reads the key on as true, as GitHub's own parser does not
    assert "push" in triggers and triggers["schedule"][0]["cron"] == "*/5 * * * *"
    assert workflow["concurrency"] == "sdesk-run" and workflow["permissions"] == {"contents": "write"}
    steps = [step.get("run", "") for step in workflow["jobs"]["run"]["steps"]]
    assert any(step.startswith("sdesk run --imap ") and " --smtp " in step for step in steps)
    checkout = workflow["jobs"]["run"]["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0


def test_a_desk_without_git_runs_a_cycle_that_sweeps_and_counts_the_mail_owed(desk: Path, run: Run, new_ticket) -> None:
    new_ticket()
    result = run("run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "pull: no remote: this clone is the whole desk",
        "sweep: nothing to do",
        "mail: 1 mail owed, none sent (no --smtp given)",
    ]
    dry = run("run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines()[-1].startswith("mail: would send created about ")


def test_check_names_a_broken_baseline_and_files_in_deliveries_sdesk_never_reads(desk: Path, run: Run) -> None:
    assert run("check").exit_code == 0
    (desk / "deliveries" / "baseline.yaml").write_text("commit: latest\n", encoding="utf-8")
    (desk / "deliveries" / "notes.txt").write_text("hello\n", encoding="utf-8")
    result = run("check")
    assert result.exit_code == 1
    assert "deliveries/baseline.yaml:1:1: commit: expected a 40-character commit id, or none" in result.stdout
    assert "deliveries/notes.txt: is not a ticket's delivery records (TICKET.jsonl)" in result.stdout


def test_a_desk_in_a_folder_of_a_larger_repository_gets_a_clean_start_too(
    tmp_path: Path, run: Run, monkeypatch
) -> None:
    import subprocess

    from tests.conftest import isolate_git

    isolate_git(tmp_path, monkeypatch)
    repository = tmp_path / "repo"
    desk = repository / "servicedesk"
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    for key, value in (("user.email", "runner@caresolutions.example"), ("user.name", "Runner")):
        subprocess.run(["git", "-C", str(repository), "config", key, value], check=True)
    ok(run("init", str(desk), "--name", "Desk"))
    (repository / "README").write_text("the team's other files\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(repository), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repository), "commit", "-q", "-m", "desk"], check=True)
    monkeypatch.setenv("SDESK_DIR", str(desk))
    (desk / "tickets" / ".gitkeep").write_text("half written by a killed cycle", encoding="utf-8")
    lines = ok(run("run")).splitlines()
    assert "prepare: put back 1 file(s) a killed cycle or portal left half-done" in lines
    assert (desk / "tickets" / ".gitkeep").read_text(encoding="utf-8") == ""
    (repository / "README").write_text("edited by a person\n", encoding="utf-8")
    refused = run("run")
    assert refused.exit_code == 1 and "changes a cycle did not make (../README)" in refused.stderr


def test_a_second_cycle_in_the_same_clone_leaves_the_running_one_alone(desk: Path, run: Run) -> None:
    from sdesk.storage import sync
    from tests.conftest import held_by_another_process

    lock = sync.runner_dir(desk, desk / ".sdesk") / "run.lock"
    with held_by_another_process(lock):
        result = run("run")
    assert result.exit_code == 1
    assert result.stderr == "Error: another sdesk run is working in this clone; this cycle leaves it alone\n"
    ok(run("run"))
