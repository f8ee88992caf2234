"""AIM symbology identifiers (`]cm`): which symbology the scanner read, when it is set to say so.

The identifier decides how the rest is read: `]C1` means GS1 element strings follow, `]C0` plain Code 128.
Scanners without the prefix leave that to guessing from the data (see `interpret`).
"""

from __future__ import annotations

EAN_UPC = frozenset({"]E0"})
"""EAN-13, UPC-A (sometimes as 13 digits with a leading 0) and UPC-E."""
EAN8 = frozenset({"]E4"})
EAN_ADDON = frozenset({"]E1", "]E2", "]E3"})
"""EAN/UPC with a 2- or 5-digit add-on appended; which modifier means which varies by vendor."""
GS1 = frozenset({"]C1", "]d2", "]Q3", "]e0", "]J1"})
"""GS1-128, GS1 DataMatrix, GS1 QR, GS1 DataBar, GS1 DotCode: element strings after an implied FNC1."""
ITF = frozenset({"]I0", "]I1", "]I3"})


def split_symbology(data: str) -> tuple[str | None, str]:
    """Split a leading `]` + symbology letter + modifier off `data`; `(None, data)` when there is none."""
    if data[:1] == "]" and data[1:3].isascii() and data[1:2].isalpha() and data[2:3].isalnum():
        return data[:3], data[3:]
    return None, data
