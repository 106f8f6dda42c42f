"""What a person wrote in a mail, without the quoted conversation, the signature or the HTML. Pure.

Mail clients quote differently: ``>`` lines, an "On … wrote:" / "Op …
schreef …:" line above the quote, Outlook's "-----Original Message-----" or a
block of From:/Van: headers, and a signature after "-- ". The text before the
first of these is what the person added; the full text stays in the mail's
record under inbox/.
"""

from __future__ import annotations

import re
from html import unescape

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
MAX_TAG_CHARS = 4000  # a "<" with no ">" this close is text
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")


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
    """Readable text from an HTML part: block elements break lines, quotes become ``>`` lines, scripts go.

    A scanner of its own, in one pass: Python's html.parser takes quadratic time on unclosed tags
    (``<a <a <a …``), which a sender can fill a message with.
    """
    html = html[:MAX_HTML_CHARS]
    parts: list[str] = []
    hidden = quoted = 0
    position, end = 0, len(html)
    while position < end:
        opening = html.find("<", position)
        if opening < 0:
            opening = end
        if opening > position and not hidden:
            text = unescape(html[position:opening])
            parts.append("> " + text.replace("\n", "\n> ") if quoted else text)
        if opening >= end:
            break
        if html.startswith("<!--", opening):
            closing = html.find("-->", opening + 4)
            position = end if closing < 0 else closing + 3
            continue
        closing = html.find(">", opening + 1, opening + MAX_TAG_CHARS)
        if closing < 0:  # a lone "<": text
            if not hidden:
                parts.append("<")
            position = opening + 1
            continue
        tag = _TAG.match(html, opening, closing + 1)
        position = closing + 1
        if tag is None:
            continue
        name, ending = tag.group(2).lower(), bool(tag.group(1))
        if name in _HIDDEN:
            hidden = max(0, hidden + (-1 if ending else 1))
        elif name == "blockquote":
            quoted = max(0, quoted + (-1 if ending else 1))
        if name in _BLOCKS:
            parts.append("\n")
    lines = [" ".join(line.split()) for line in "".join(parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
