"""The ticket: its number, its fields and append-only history, its file form, its export form
(``transfer``), and selecting tickets for a listing. Pure.

May import: the foundation modules and sdesk.formats.
"""
