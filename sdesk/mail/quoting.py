"""What a person wrote in a mail, without the quoted conversation, the signature or the HTML. Pure.

Mail clients quote differently: ``>`` lines, an "On … wrote:" / "Op …
schreef …:" line above the quote, Outlook's "-----Original Message-----" or a
block of From:/Van: headers, and a signature after "-- ". The text before the
first of these is what the person added; the full text stays in the mail's
record under inbox/.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_QUOTE_STARTS = re.compile(
    r"^(?:"
    r"-{2,}\s*(?:original message|oorspronkelijk bericht|origineel bericht|forwarded message|doorgestuurd bericht)"
    r".*"
    r"|(?:on|op|le|am)\b.{0,200}\b(?:wrote|schreef|a écrit|schrieb)\b.{0,200}:"
    r"|(?:from|van|de|von)\s*:.{0,300}"
    r"|_{20,}"
    r")$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")
_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "pre", "hr"}
_HIDDEN = {"script", "style", "head", "title"}
MAX_HTML_CHARS = 2_000_000


def new_text(text: str) -> str:
    """The lines the sender added: up to the first quote header, quoted line or signature."""
    kept: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if _SIGNATURE.match(line) or _QUOTE_STARTS.match(stripped):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text from an HTML part: block elements break lines, quotes become ``>`` lines, scripts go."""
    reader = _Text()
    try:
        reader.feed(html[:MAX_HTML_CHARS])
        reader.close()
    except (AssertionError, ValueError):  # html.parser on input it cannot make sense of
        pass
    lines = [" ".join(line.split()) for line in "".join(reader.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.quoted = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        if tag == "blockquote":
            self.quoted += 1
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        if tag == "blockquote":
            self.quoted = max(0, self.quoted - 1)
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if self.quoted:  # kept as a quote: the full text has it, what the sender added does not
            data = "> " + data.replace("\n", "\n> ")
        self.parts.append(data)
