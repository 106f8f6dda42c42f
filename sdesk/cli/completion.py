"""`sdesk completion SHELL`: the script that makes Tab complete sdesk in bash, zsh or fish.

The scripts are Click's own; on each Tab they run sdesk, whose completers
(``completers``) read the desk. Fish gets Click's script with two changes:
it keeps sdesk's order (open tickets first) instead of sorting, and it keeps
a description whole where Click's script cuts it at its first comma.
"""

from __future__ import annotations

import click
from click.shell_completion import BashComplete, FishComplete, ShellComplete, ZshComplete

PROGRAM = "sdesk"
COMPLETE_VAR = "_SDESK_COMPLETE"


class _Fish(FishComplete):
    source_template = FishComplete.source_template.replace(
        'string split "," $completion', 'string split -m 1 "," $completion'
    ).replace("complete --no-files --command", "complete --no-files --keep-order --command")


SHELLS: dict[str, type[ShellComplete]] = {"bash": BashComplete, "zsh": ZshComplete, "fish": _Fish}


@click.command()
@click.argument("shell", type=click.Choice(list(SHELLS)))
def completion(shell: str) -> None:
    """Print the script that makes Tab complete sdesk in bash, zsh or fish.

    Tab then completes commands, options, ticket numbers with their titles (open tickets first), and the
    statuses, types, customers, teams, agents, products and sites of the desk at hand.

    \b
    bash, a line in ~/.bashrc:
        eval "$(sdesk completion bash)"
    zsh, a line in ~/.zshrc (after compinit):
        eval "$(sdesk completion zsh)"
    fish, once:
        sdesk completion fish > ~/.config/fish/completions/sdesk.fish
    """
    root = click.get_current_context().find_root().command
    click.echo(SHELLS[shell](root, {}, PROGRAM, COMPLETE_VAR).source(), nl=False)
