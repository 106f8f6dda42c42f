"""Ready-made set-ups that run `sdesk run` every few minutes: a crontab line, a systemd timer, a CI job."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

SMTP = "--smtp mail.example.com:587 --starttls --user servicedesk"
IMAP = "--imap imap.example.com:993 --imap-user servicedesk"  # customers' mail in (README, "Mail in")
EVERY_MINUTES = 5


def example(kind: str, desk_root: Path) -> str:
    """The set-up of ``kind`` (cron, systemd or ci), filled in with this desk and this sdesk."""
    desk = shlex.quote(str(desk_root))
    sdesk = shlex.quote(shutil.which("sdesk") or "sdesk")
    site = shlex.quote(str(desk_root.parent / "site"))
    command = f"{sdesk} run --desk {desk} {IMAP} {SMTP} --export {site}"
    if kind == "cron":
        return (
            "# crontab -e on the server, in the runner's own clone of the desk; the passwords in a file only\n"
            "# the runner's user reads (chmod 600): export SDESK_SMTP_PASSWORD=... SDESK_IMAP_PASSWORD=...\n"
            "# (without --imap … no mail is received; --maildir DIR reads what fetchmail or an MTA delivers)\n"
            f"*/{EVERY_MINUTES} * * * * . $HOME/.sdesk-secrets && {command} >> $HOME/sdesk-run.log 2>&1\n"
        )
    if kind == "systemd":
        return (
            "# /etc/systemd/system/sdesk-run.service\n"
            "[Unit]\nDescription=sdesk runner: one cycle (pull, sweep, push, mail, portal)\n"
            "After=network-online.target\nWants=network-online.target\n\n"
            "[Service]\nType=oneshot\nUser=sdesk\n"
            "# SDESK_SMTP_PASSWORD=... and SDESK_IMAP_PASSWORD=... in a file only root and the sdesk user read\n"
            "EnvironmentFile=/etc/sdesk/runner.env\n"
            f"ExecStart={command}\n\n"
            "# /etc/systemd/system/sdesk-run.timer\n"
            "[Unit]\nDescription=Run the sdesk cycle every few minutes\n\n"
            f"[Timer]\nOnBootSec=1min\nOnUnitActiveSec={EVERY_MINUTES}min\nPersistent=true\n\n"
            "[Install]\nWantedBy=timers.target\n\n"
            "# then: systemctl daemon-reload && systemctl enable --now sdesk-run.timer\n"
        )
    return (
        "# .github/workflows/sdesk-run.yml: the runner as a CI job, after each push and every few minutes.\n"
        "# Needs the repository secrets SDESK_SMTP_PASSWORD and SDESK_IMAP_PASSWORD, and write access for the\n"
        "# job (contents: write).\n"
        "name: sdesk run\n"
        "on:\n  push:\n    branches: [main]\n"
        f"  schedule:\n    - cron: '*/{EVERY_MINUTES} * * * *'\n"
        "concurrency: sdesk-run  # one cycle at a time\n"
        "permissions:\n  contents: write\n"
        "jobs:\n  run:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n"
        "      - uses: actions/setup-python@v5\n        with:\n          python-version: '3.11'\n"
        "      - run: pip install sdesk  # the sdesk the desk uses: a version, a wheel or a git URL\n"
        "      - run: git config user.name 'sdesk runner' && git config user.email runner@servicedesk.example\n"
        "      - run: sdesk git setup\n"
        f"      - run: sdesk run {IMAP} {SMTP} --export site\n"
        "        env:\n          SDESK_SMTP_PASSWORD: ${{ secrets.SDESK_SMTP_PASSWORD }}\n"
        "          SDESK_IMAP_PASSWORD: ${{ secrets.SDESK_IMAP_PASSWORD }}\n"
        "      # The journal of a CI runner lives only as long as the job: a job killed between sending and\n"
        "      # recording leaves its mail 'claimed', and notify list shows it (sdesk run --retry claimed).\n"
    )
