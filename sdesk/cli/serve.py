"""`sdesk serve`: the live customer portal, on a production WSGI server (waitress), in the runner's clone."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from sdesk.cli import context
from sdesk.cli.notify import smtp_connection_options
from sdesk.cli.options import desk_options
from sdesk.errors import SdeskError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
IDLE_SECONDS = 30  # a connection that sends nothing this long is closed (waitress's own: 120)
CONNECTIONS = 500  # at once; a reverse proxy that buffers requests keeps slow clients off them


@click.command("serve")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="The address to listen on (behind a proxy: loopback)."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="The port (0: any free one)."
)
@click.option(
    "--url",
    metavar="URL",
    help="Where customers reach the portal (the proxy's https address), for sign-in links and the forms' origin. "
    "Default: rules.yaml portal.url, else http://HOST:PORT on this machine.",
)
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Requests served at once.")
@click.option(
    "--trusted-proxy",
    metavar="ADDRESS",
    help="The reverse proxy's address: its X-Forwarded-For names the client (for rate limits and the audit).",
)
@smtp_connection_options
@desk_options()
def serve(host: str, port: int, url: str | None, threads: int, trusted_proxy: str | None, connection: Any) -> None:
    """Serve the live customer portal: contacts sign in with a mailed link and work on their tickets.

    They open tickets, follow them, answer, attach files, accept a solution,
    reopen and rate, each seeing only their customer's tickets.
    Run it in the runner's clone (the one `sdesk run` cycles in), behind a
    reverse proxy that speaks TLS (README, "The live portal"). Every change is
    recorded as the CLI records it and committed at once; the next cycle
    pushes it. Needs --smtp: sign-in links go out by mail. Ctrl-C stops it.
    """
    from sdesk.policy.portalsettings import url_problem
    from sdesk.portal.changes import LOCK_WAIT_SECONDS
    from sdesk.portal.signin import sender_address

    desk = context.desk()
    rules = desk.rules
    if connection is None:
        raise click.UsageError("sdesk serve needs --smtp HOST:PORT: contacts sign in with a link sent by mail")
    if sender_address(rules) is None:
        raise SdeskError("rules.yaml gives the desk no email address (desk.email): sign-in links cannot be mailed")
    public = url or rules.portal.url
    if public is not None:
        problem = url_problem(public)
        if problem:
            raise click.BadParameter(problem, param_hint="--url")
    elif host not in LOOPBACK:
        raise click.UsageError(f"give --url (or portal.url in rules.yaml): where do customers reach {host}?")
    from waitress.server import create_server

    from sdesk.portal.web import Config, body_limit, create_app

    app: Any = None  # made once the port is known: its links name it
    proxied = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": {"x-forwarded-for"}} if trusted_proxy else {}
    try:
        server: Any = create_server(
            lambda environ, start: app(environ, start),
            host=host,
            port=port,
            threads=threads,
            ident="sdesk",
            clear_untrusted_proxy_headers=True,
            max_request_body_size=body_limit(rules.portal),  # refused at once, not first taken to disk
            channel_timeout=IDLE_SECONDS,
            connection_limit=CONNECTIONS,
            **proxied,
        )
    except OSError as error:
        raise SdeskError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    listening = server.effective_port
    public = (public or f"http://{host}:{listening}").rstrip("/")
    app = create_app(Config(desk.root, public, connection))
    click.echo(
        f"Serving the portal of {rules.desk_name} at {public} (listening on {host}:{listening}); Ctrl-C stops.",
        err=True,
    )
    sys.stderr.flush()
    signal.signal(signal.SIGTERM, _interrupt)  # systemctl stop: as Ctrl-C
    try:
        server.run()  # returns at Ctrl-C, having stopped taking requests
    except KeyboardInterrupt:
        pass
    finally:
        # A change being written finishes and is committed (it may first wait for a cycle's lock).
        server.task_dispatcher.shutdown(timeout=LOCK_WAIT_SECONDS + 10)
        server.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
