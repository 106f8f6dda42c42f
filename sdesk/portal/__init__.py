"""The live customer portal (`sdesk serve`, issue 22): customers' contacts sign in with one-time links
and follow, open and answer their tickets. ``credentials`` keeps the links, sessions and rate-limit
counts in the runner's own clone, ``access`` says who is a customer's contact and what they may see,
``audit`` writes a line per sign-in event.

May import: everything but sdesk.cli.
"""
