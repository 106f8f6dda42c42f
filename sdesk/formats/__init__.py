"""The files a desk is made of, and how they are read: safely, strictly, declared once.

Owns reading a desk file as untrusted input (``files``), YAML in and out
(``yamlio``), strict reading with located errors and did-you-mean
(``reader``), the declaration language each file format is written in
once, for both the strict reader and the JSON Schema (``declare``,
``patterns``), the sandboxed templates a desk overrides (``templating``), and the large files an
import reads a piece at a time: a JSON list (``jsonlist``) and a CSV file (``csvfile``).

May import: the foundation modules (sdesk.errors, output, terminal, words). Nothing else.
"""
