"""sdesk: a service desk that lives in a git repository."""

__version__ = "0.7.0"
