"""The `sdesk` command: parse, call the domain, render. Errors are translated once, here."""

from __future__ import annotations

from typing import Any

import click

from sdesk import __version__
from sdesk.cli.options import desk_options
from sdesk.errors import SdeskError


class SdeskGroup(click.Group):
    """Turns every SdeskError into Click's one-line `Error: …` and exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # the order of a working day, not the alphabet

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SdeskError as error:
            # One line, always: a value echoed back with a line break in it shows the break.
            raise click.ClickException(str(error).replace("\r", "\\r").replace("\n", "\\n")) from None


@click.group(cls=SdeskGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sdesk")
@desk_options(envvars=True)
def main() -> None:
    """A service desk that lives in a git repository.

    Policy lives in rules.yaml, every ticket is one YAML file under tickets/.
    Set SDESK_NOW (ISO-8601 with offset) to replay a moment in time.
    """


def _register() -> None:
    from sdesk.cli import announce, desk, notify, policy, reports, sla, tickets, timekeeping

    for command in (
        tickets.new,
        tickets.list_tickets,
        tickets.show,
        tickets.update,
        tickets.comment,
        tickets.priority,
        tickets.close,
        tickets.reopen,
        timekeeping.log,
        timekeeping.survey,
        announce.link,
        sla.queue,
        sla.sla_command,
        sla.sweep_command,
        notify.notify,
        announce.announce,
        reports.report,
        desk.init,
        desk.check,
        policy.rules,
        policy.schema,
    ):
        main.add_command(command)


_register()
