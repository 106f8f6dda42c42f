"""sdesk: a service desk that lives in a git repository.

The packages, from the bottom up (each may import only those before it):
``formats`` (reading desk files), ``calendar`` (business time), ``tickets``
(the ticket), ``policy`` (rules.yaml), ``clocks`` and ``service`` (SLA
clocks; time, surveys, announcements), ``storage`` (the desk on disk and git),
``mail``, ``website``, ``actions`` (what a command does), ``portal`` (the live
customer portal) and ``cli``. The
foundation modules here (``deadline``, ``errors``, ``output``, ``progress``, ``terminal``,
``words``) may be imported by all and import none of them. tests/test_layout.py holds
every package to this.
"""

__version__ = "0.13.0"  # the one place the version is written: pyproject.toml reads it from here
