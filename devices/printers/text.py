"""Fitting text into a fixed number of columns: receipt printers wrap on their own, but mid-word and
without keeping a price on the right, so layouts do it before the bytes are made."""

from __future__ import annotations

import textwrap
import unicodedata

_BLANKS = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85")  # tabs and what str.splitlines() splits on


def printable(text: str) -> str:
    """`text` with nothing a printer could take for a command: every control character (ESC, GS, DLE, NUL,
    a line break inside a line, …) becomes a space or `?`, invisible format characters are dropped.

    ESC/POS commands are control bytes followed by arguments that may be any byte, so removing or
    transcoding only some bytes is not enough (`ESC p 0 25 ú` kicks the drawer in every code page): no
    control character of the text may reach the printer at all. Text from outside (a customer's name,
    notes, product names) is printed only through this.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char in _BLANKS or category[0] == "Z":  # a no-break space or a line separator: a space
            out.append(" ")
        elif category == "Cf":  # zero-width joiners, direction marks: nothing to print
            continue
        else:
            out.append("?" if category[0] == "C" else char)
    return "".join(out)


def wrap(text: str, width: int) -> list[str]:
    """Word-wrap to `width` columns, breaking words longer than a line; empty text is one empty line."""
    lines = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False)
    return lines or [""]


def truncate(text: str, width: int) -> str:
    """Cut to `width` columns, marking the cut with a final '.'."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "." if width > 0 else ""


def pair(left: str, right: str, width: int) -> list[str]:
    """`left` wrapped on the left, `right` flush right on the first line (an item and its price)."""
    right = truncate(right, width)
    room = width - len(right) - 1
    if room < 1:
        return [*wrap(left, width), right.rjust(width)]
    first, *rest = wrap(left, room)
    return [first.ljust(room) + " " + right, *rest]


def rule(width: int, char: str = "-") -> str:
    return char * width
