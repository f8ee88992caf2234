"""Fitting text into a fixed number of columns: receipt printers wrap on their own, but mid-word and
without keeping a price on the right, so layouts do it before the bytes are made."""

from __future__ import annotations

import textwrap


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
