"""What agents and the desk do, start to end: the agents' actions as pure decisions (``workflow``),
recorded with the mail they owe (``record``), and the desk checked for CI (``check``). The CLI, and
the runner, gateway and portals after it, call these.

May import: everything but sdesk.cli.
"""
