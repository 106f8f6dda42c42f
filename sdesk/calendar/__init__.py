"""Time as the desk counts it: opening hours, holidays and business-time arithmetic,
the moment now (``SDESK_NOW``), and dates in English, Dutch, French and German words. Pure.

May import: the foundation modules and sdesk.formats.
"""
