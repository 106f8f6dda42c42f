"""What agents and the desk do, start to end: the agents' actions as pure decisions (``workflow``),
recorded (``record``), the mail history owes delivered once (``deliver``), the mail gateway
(``receive``) and an agent's decisions on what it held (``triage``), the runner's cycle
(``cycle``), the desk checked for CI (``check``), and its tickets exported and imported
(``transfer``, ``movein``: another helpdesk's export). The CLI and the portals
call these.

May import: everything but sdesk.cli.
"""
