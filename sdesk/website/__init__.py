"""The static site `sdesk export html` writes: customer portals, the desk dashboard, announcements.

``portal`` and ``dashboard`` decide what a page may show (pure), ``charts``
lays out the SVG charts (pure), ``pages`` renders the templates and
``publish`` writes the files.
"""
