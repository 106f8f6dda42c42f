"""Regular expressions that mean the same in Python and in JSON Schema.

The strict readers match a file's values with Python's ``re``; an editor
checks the same values against the JSON Schema's ``pattern``, which is
ECMA-262 (yaml-language-server compiles it with the ``u`` flag). The two
dialects disagree on ``\\d``, ``\\w``, ``\\s`` and ``\\b`` (Unicode in
Python, narrower in ECMA), on ``.`` and ``$`` (Python's ``$`` also matches
before a final line break) and on flags. So every pattern both sides share
is written in the subset where they agree: explicit character classes, no
flags, no named groups, and whole-value matching spelt out by
:func:`anchored`. tests/test_formats.py runs each shared pattern through
Python, the jsonschema package and, where node is installed, ECMA-262 itself.
"""

from __future__ import annotations

import re

# Exactly the characters str.isspace() treats as white space, so str.split() and str.strip() agree with it.
SPACE_CHARS = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SPACE = f"[{SPACE_CHARS}]"
NOT_SPACE = f"[^{SPACE_CHARS}]"
ASCII_SPACE = r"[\t-\r ]"  # what `\s` matches under re.ASCII


def caseless(word: str) -> str:
    """A fragment that matches ``word``'s letters in either case, as re.IGNORECASE | re.ASCII would."""
    if "\\" in word or "[" in word:
        raise ValueError(f"caseless() takes plain words and groups, not {word!r}")
    return "".join(f"[{char.lower()}{char.upper()}]" if char.isascii() and char.isalpha() else char for char in word)


def anchored(pattern: Grammar) -> str:
    """The JSON Schema ``pattern`` that holds where ``pattern.fullmatch`` does.

    JSON Schema searches; ``^`` and a look-ahead for "no character follows"
    pin the match to the whole value in both dialects (``$`` would not: in
    Python it also matches before a final line break).
    """
    return rf"^(?:{pattern.pattern})(?![\s\S])"


class Deferred:
    """A regular expression compiled the first time it matches.

    The long grammars of rules.yaml (targets, opening windows, weekdays) take
    milliseconds to compile, and a command that finds the policy in the rules'
    cache never matches them: it need not pay for them.
    """

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return self._compiled

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.compiled().fullmatch(text)


Grammar = re.Pattern[str] | Deferred  # what a declared pattern may be
