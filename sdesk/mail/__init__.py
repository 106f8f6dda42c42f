"""Mail to customers: which events mail whom (``notifications``), the message from its template
(``compose``, templates in ``templates/``), holding it while a change is saved (``holding``), and the
outbox delivered over SMTP (``outbox``).

May import: the foundation modules, sdesk.formats, calendar, tickets, policy, clocks, service and storage.
"""
