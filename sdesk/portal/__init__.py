"""The live customer portal (`sdesk serve`, issue 22): customers' contacts sign in with one-time links
and follow, open and answer their tickets. ``credentials`` keeps the links, sessions and rate-limit
counts in the runner's own clone.

May import: everything but sdesk.cli.
"""
