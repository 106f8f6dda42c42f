"""The live portal speaks the customer's language: every word the English portal says, in Dutch, French and
German."""

from __future__ import annotations

import re
import string

import pytest

from sdesk.policy.rules import LANGUAGES
from sdesk.portal.phrases import PHRASES


def placeholders(phrase: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(phrase) if name}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_portal_phrase_is_said_in_every_language_with_what_the_english_one_is_given(language):
    words = PHRASES[language]
    assert words.keys() == PHRASES["en"].keys()
    for key, english in PHRASES["en"].items():
        assert placeholders(words[key]) <= placeholders(english) and words[key].strip(), (key, words[key])


def test_french_puts_a_no_break_space_before_its_colons_and_question_marks():
    for key, phrase in PHRASES["fr"].items():
        assert not re.search(r"(^|[^\u00a0])[:;?]($|\s)", phrase), (key, phrase)
