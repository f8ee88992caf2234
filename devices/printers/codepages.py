"""The character tables a receipt printer selects with `ESC t n`, shared by the renderer and the decoder.

Slot numbers follow the default profile of escpos-printer-db (and Epson's TM-T20/TM-T88 tables). Keeping
them in one place is what lets the virtual printer prove that a ticket rendered for CP858 prints € and ñ.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from devices.errors import DeviceConfigError

REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class CodePage:
    name: str  # as written in configs: "CP858"
    slot: int  # n in ESC t n
    codec: str  # Python codec that maps its bytes 0x80-0xFF

    def decode_table(self) -> dict[int, str]:
        """`str.translate` table from latin-1-decoded bytes to this page; controls become U+FFFD."""
        table: dict[int, str] = {}
        for byte in range(0x7F, 0x100):
            char = bytes([byte]).decode(self.codec, errors="replace")
            table[byte] = REPLACEMENT if unicodedata.category(char) == "Cc" else char
        return table


CODEPAGES: dict[str, CodePage] = {
    page.name: page
    for page in (
        CodePage("CP437", 0, "cp437"),
        CodePage("CP850", 2, "cp850"),
        CodePage("CP1252", 16, "cp1252"),
        CodePage("CP858", 19, "cp858"),
        CodePage("ISO-8859-15", 40, "iso8859_15"),
    )
}
BY_SLOT: dict[int, CodePage] = {page.slot: page for page in CODEPAGES.values()}
POWER_ON_SLOT = 0  # what a printer selects after power-on or ESC @


def codepage(name: str) -> CodePage:
    """Look a code page up by its config name, forgiving case and `_`/`-` spelling."""
    key = name.strip().upper().replace("_", "-")
    try:
        return CODEPAGES[key]
    except KeyError:
        known = ", ".join(CODEPAGES)
        raise DeviceConfigError(f"unknown printer code page {name!r}; known: {known}") from None
