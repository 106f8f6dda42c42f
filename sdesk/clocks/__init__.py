"""The SLA clocks and what follows from them: a ticket's clocks and their timeline (``sla``), the
queue order (``workqueue``), what the sweep owes a ticket (``sweep``), compliance figures
(``slareport``) and clocks in words (``slaviews``). Pure.

May import: the foundation modules, sdesk.formats, calendar, tickets and policy.
"""
