"""The static site `sdesk export html` writes: customer portals, the desk dashboard, announcements.

``portal``, ``dashboard`` and ``noticeboard`` decide what a page may show,
``charts`` lays out the SVG charts and ``phrases`` holds the words (all
pure); ``pages`` renders the templates (in ``templates/``), ``build`` makes
every page in one pass over the tickets, ``publish`` writes the folder and
``export`` does it all from a desk.

May import: the foundation modules, sdesk.formats, calendar, tickets, policy, clocks, service and storage.
"""
