"""The service around the tickets: time registration and billing (``timelog``), satisfaction surveys
(``satisfaction``), announcements of maintenance and outages (``announcements``). Pure.

May import: the foundation modules, sdesk.formats, calendar, tickets and policy.
"""
