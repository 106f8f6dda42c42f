"""Mail to customers and agents: which events mail whom (``notifications``), what a ticket's history
owes (``owed``) since the desk's mail baseline (``baseline``), the message from its template
(``compose``, templates in ``templates/``), the committed delivery records (``records``), the SMTP
session (``smtp``) and moving a clone's outbox of old into the records (``legacy``). Mail in: a
received message read as untrusted input (``inbound``), what its sender added (``quoting``), its
committed record and the triage list (``received``), a runner's memory of senders (``senders``), and the
Maildir and IMAP mailboxes (``mailboxes``).

May import: the foundation modules, sdesk.formats, calendar, tickets, policy, clocks, service and storage.
"""
