"""The desk on disk: finding it, reading and writing its files atomically under locks (``store``), the
ticket index (``index``, ``parallel``), git (``gitrepo``), merging two clones' versions of a ticket
(``merge``) and git's merge driver (``mergedriver``), the files customers sent (``attachments``), an
agent's running timer in this clone (``timers``) and creating a new desk (``scaffold``).

May import: the foundation modules, sdesk.formats, calendar, tickets, policy and service.
"""
