"""What a key press types on a given keyboard layout, and which key press types a given character.

A keyboard-wedge scanner sends key codes for the keyboard country it is configured for, so the box must
decode with that same layout (`es` scanners type `@` as AltGr+2, AZERTY digits need Shift). The inverse
map lets the box type text it received without key codes (serial scanners, simulators) through the HID
gadget. Both directions work on `(code, level)` pairs so the decoder's hot path is one dict lookup.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from devices.errors import BarcodeError, DeviceConfigError
from devices.readings import KeyStroke
from devices.scanners.keycodes import (
    KEY_6,
    KEY_102ND,
    KEY_BACKSLASH,
    KEY_ENTER,
    KEY_KPENTER,
    KEY_LEFTBRACE,
    KEY_MINUS,
    KEY_RIGHTBRACE,
    KEY_TAB,
)
from devices.scanners.layout_tables import KEYPAD_KEYS, TABLES, Rows

GS = "\x1d"


class Level(enum.IntEnum):
    PLAIN = 0
    SHIFT = 1
    ALTGR = 2
    CTRL = 3
    CTRL_SHIFT = 4


# Control characters typed with Ctrl at fixed key positions (the US ASCII control positions), whatever the
# layout: xkb applies Ctrl only to the bracket keysym, so on es/de Ctrl+] would type `+` (devices.md §2.3).
CONTROL_POSITIONS: Mapping[int, str] = {
    KEY_LEFTBRACE: "\x1b",
    KEY_BACKSLASH: "\x1c",
    KEY_RIGHTBRACE: GS,
    KEY_6: "\x1e",  # RS, Ctrl+^ (ISO/IEC 15434 envelopes)
    KEY_MINUS: "\x1f",  # US, Ctrl+_
}
_WHITESPACE_KEYS: Mapping[int, str] = {KEY_TAB: "\t", KEY_ENTER: "\n", KEY_KPENTER: "\n"}


def select_level(*, shift: bool, altgr: bool, ctrl: bool) -> Level | None:
    """The level held modifiers select; None for Shift+AltGr, a fourth level no table here models.

    AltGr wins over Ctrl, as on hosts that send AltGr as Ctrl+Alt. Pass `altgr=False` for a layout without
    a third level: there right Alt is a plain Alt and types the base levels.
    """
    if altgr:
        return None if shift else Level.ALTGR
    if ctrl:
        return Level.CTRL_SHIFT if shift else Level.CTRL
    return Level.SHIFT if shift else Level.PLAIN


class Layout:
    """One keyboard layout: lookups in both directions, built once from its table."""

    def __init__(self, name: str, rows: Rows, *, iso: bool = True) -> None:
        self.name = name
        self.has_altgr = any(row[2] is not None for code, row in rows.items() if code not in KEYPAD_KEYS)
        self.chars: dict[tuple[int, Level], str] = _chars(rows)
        self.strokes: dict[tuple[int, Level], KeyStroke] = {key: _stroke(*key) for key in self.chars}
        self.caps_keys = frozenset(code for code, row in rows.items() if _is_letter_key(row))
        self._inverse = _inverse(self.chars, self.caps_keys, iso=iso)
        self.charset = frozenset(ch for ch in self._inverse if ch.isprintable())

    def __repr__(self) -> str:
        return f"Layout({self.name!r})"

    def char_for(self, stroke: KeyStroke) -> str:
        """What a host set to this layout types for the stroke ("" for dead or unmapped keys)."""
        level = select_level(shift=stroke.shift, altgr=stroke.altgr and self.has_altgr, ctrl=stroke.ctrl)
        return "" if level is None else self.chars.get((stroke.code, level), "")

    def stroke_for(self, ch: str) -> KeyStroke:
        try:
            return self._inverse[ch]
        except KeyError:
            raise BarcodeError(f"character {ch!r} cannot be typed on the {self.name!r} layout") from None

    def strokes_for(self, text: str) -> tuple[KeyStroke, ...]:
        return tuple(self.stroke_for(ch) for ch in text)


def _chars(rows: Rows) -> dict[tuple[int, Level], str]:
    chars: dict[tuple[int, Level], str] = {}
    for code, row in rows.items():
        for level, ch in zip((Level.PLAIN, Level.SHIFT, Level.ALTGR), row, strict=True):
            if ch is not None:
                chars[code, level] = ch
    for code, ch in _WHITESPACE_KEYS.items():
        chars[code, Level.PLAIN] = chars[code, Level.SHIFT] = ch
    for code, ch in _controls(rows).items():
        chars[code, Level.CTRL] = chars[code, Level.CTRL_SHIFT] = ch
    return chars


def _controls(rows: Rows) -> dict[int, str]:
    """Ctrl+letter follows the layout (AZERTY's Ctrl+A is at KEY_Q); the punctuation controls do not."""
    letters = {code: row[0] for code, row in rows.items() if row[0] and "a" <= row[0] <= "z"}
    return {code: chr(ord(letter) - 0x60) for code, letter in letters.items()} | dict(CONTROL_POSITIONS)


def _stroke(code: int, level: Level) -> KeyStroke:
    return KeyStroke(
        code,
        shift=level in (Level.SHIFT, Level.CTRL_SHIFT),
        altgr=level is Level.ALTGR,
        ctrl=level in (Level.CTRL, Level.CTRL_SHIFT),
    )


def _is_letter_key(row: tuple[str | None, ...]) -> bool:
    """Caps Lock acts on letters only: keys whose Shift level is the capital of their plain level."""
    plain, shifted = row[0], row[1]
    return bool(plain and plain.isalpha() and shifted == plain.upper() != plain)


def _inverse(
    chars: Mapping[tuple[int, Level], str], letter_keys: frozenset[int], *, iso: bool
) -> dict[str, KeyStroke]:
    """For each character the stroke a host most likely types it with, so forwarded text survives.

    Main block before keypad, fewer modifiers first, and AltGr on letter keys last: those are xkb's extras
    (AltGr+Q is `@` on it and es too), while Windows has `@` on AltGr+ò (it) and AltGr+2 (es). Without ISO
    (`us`), KEY_102ND is left out: ANSI keyboards lack that key and US hosts map it elsewhere. RS and US
    are typed as Ctrl+Shift, as US needs for ^ and _; "\\r" as Ctrl+M.
    """

    def rank(key: tuple[int, Level]) -> tuple[bool, Level, bool, int]:
        code, level = key
        return code in KEYPAD_KEYS, level, level is Level.ALTGR and code in letter_keys, code

    inverse: dict[str, KeyStroke] = {"\t": KeyStroke(KEY_TAB), "\n": KeyStroke(KEY_ENTER)}
    usable = [key for key in chars if (iso or key[0] != KEY_102ND) and key[0] != KEY_KPENTER]
    for code, level in sorted(usable, key=rank):
        inverse.setdefault(chars[code, level], _stroke(code, level))
    inverse[CONTROL_POSITIONS[KEY_6]] = _stroke(KEY_6, Level.CTRL_SHIFT)
    inverse[CONTROL_POSITIONS[KEY_MINUS]] = _stroke(KEY_MINUS, Level.CTRL_SHIFT)
    return inverse


LAYOUTS: Mapping[str, Layout] = {
    name: Layout(name, rows, iso=name != "us") for name, rows in sorted(TABLES.items())
}
_ALIASES = {"gb": "uk"}


def get_layout(layout: Layout | str) -> Layout:
    """A layout by name (`us`, `uk`/`gb`, `es`, `fr`, `de`, `it`, `pt`), or the layout itself."""
    if isinstance(layout, Layout):
        return layout
    name = _ALIASES.get(layout.lower(), layout.lower())
    try:
        return LAYOUTS[name]
    except KeyError:
        known = ", ".join(LAYOUTS)
        raise DeviceConfigError(f"unknown keyboard layout {layout!r}: use one of {known}") from None
