"""Time as the desk counts it: opening hours, holidays and business-time arithmetic,
the moment now (``SDESK_NOW``), and dates in Dutch and English words. Pure.

May import: the foundation modules and sdesk.formats.
"""
