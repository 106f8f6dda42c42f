"""The policy of rules.yaml: read strictly (``rules``, ``servicelevels``, ``conditions``, ``agents``), and what it
decides for a ticket and why (``decisions``, ``priority``, ``eligibility``, ``explain``), and where
tickets no longer agree with it (``checks``); the mapping of another helpdesk's export onto it
(``importmap``). Pure: no I/O, no clock.

May import: the foundation modules, sdesk.formats, calendar and tickets.
"""
