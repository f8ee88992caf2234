"""Keyboard layout tables: the reference's xkbcommon facts, known per-country keys, and both directions."""

from __future__ import annotations

import string

import pytest
from evdev import ecodes

from devices.errors import BarcodeError, DeviceConfigError
from devices.readings import KeyStroke
from devices.scanners import keycodes
from devices.scanners.keycodes import (
    KEY_0,
    KEY_2,
    KEY_3,
    KEY_7,
    KEY_APOSTROPHE,
    KEY_BACKSLASH,
    KEY_LEFTBRACE,
    KEY_MINUS,
    KEY_Q,
    KEY_RIGHTBRACE,
    KEY_SEMICOLON,
    KEY_SLASH,
    KEY_Y,
    KEY_Z,
)
from devices.scanners.layouts import GS, LAYOUTS, get_layout

ALL = sorted(LAYOUTS)
PLAIN, SHIFT, ALTGR = KeyStroke, lambda code: KeyStroke(code, shift=True), lambda c: KeyStroke(c, altgr=True)

# devices.md §2.2: the same evdev key on us / es / fr / de, as xkbcommon decodes it (pc105). "" = dead key.
REFERENCE = [
    (PLAIN(KEY_MINUS), {"us": "-", "es": "'", "fr": ")", "de": "ß"}),
    (PLAIN(KEY_SLASH), {"us": "/", "es": "-", "fr": "!", "de": "-"}),
    (SHIFT(KEY_7), {"us": "&", "es": "/", "fr": "7", "de": "/"}),
    (SHIFT(KEY_2), {"us": "@", "es": '"', "fr": "2", "de": '"'}),
    (PLAIN(KEY_Y), {"us": "y", "es": "y", "fr": "y", "de": "z"}),
    (PLAIN(KEY_Z), {"us": "z", "es": "z", "fr": "w", "de": "y"}),
    (PLAIN(KEY_Q), {"us": "q", "es": "q", "fr": "a", "de": "q"}),
    (PLAIN(KEY_SEMICOLON), {"us": ";", "es": "ñ", "fr": "m", "de": "ö"}),
    (PLAIN(KEY_APOSTROPHE), {"us": "'", "es": "", "fr": "ù", "de": "ä"}),
    (PLAIN(KEY_LEFTBRACE), {"us": "[", "es": "", "fr": "", "de": "ü"}),
]


@pytest.mark.parametrize(("stroke", "expected"), REFERENCE)
def test_reference_table(stroke: KeyStroke, expected: dict[str, str]) -> None:
    assert {name: get_layout(name).char_for(stroke) for name in expected} == expected


@pytest.mark.parametrize(
    ("layout", "stroke"),
    [
        ("es", ALTGR(KEY_2)),
        ("fr", ALTGR(KEY_0)),
        ("de", ALTGR(KEY_Q)),
        ("it", ALTGR(KEY_SEMICOLON)),
        ("pt", ALTGR(KEY_2)),
        ("uk", SHIFT(KEY_APOSTROPHE)),
        ("us", SHIFT(KEY_2)),
    ],
)
def test_at_sign_is_typed_where_that_country_types_it(layout: str, stroke: KeyStroke) -> None:
    table = get_layout(layout)
    assert table.char_for(stroke) == "@"
    assert table.stroke_for("@") == stroke


@pytest.mark.parametrize(
    ("layout", "stroke", "char"),
    [
        ("uk", SHIFT(KEY_2), '"'),
        ("uk", SHIFT(KEY_3), "£"),
        ("uk", PLAIN(KEY_BACKSLASH), "#"),
        ("es", PLAIN(KEY_BACKSLASH), "ç"),
        ("es", ALTGR(KEY_3), "#"),
        ("it", ALTGR(KEY_APOSTROPHE), "#"),
        ("it", PLAIN(KEY_LEFTBRACE), "è"),
        ("pt", PLAIN(KEY_SEMICOLON), "ç"),
        ("pt", PLAIN(KEY_LEFTBRACE), "+"),
        ("de", PLAIN(KEY_BACKSLASH), "#"),
        ("de", SHIFT(KEY_3), "§"),
    ],
)
def test_known_characters_of_other_layouts(layout: str, stroke: KeyStroke, char: str) -> None:
    assert get_layout(layout).char_for(stroke) == char


def test_french_digits_need_shift() -> None:
    """A US-configured scanner on a French decoder yields `&é"'(` for 12345 (devices.md §2.2)."""
    us, fr = get_layout("us"), get_layout("fr")
    strokes = us.strokes_for("12345")
    assert "".join(fr.char_for(stroke) for stroke in strokes) == "&é\"'("
    assert fr.strokes_for("12345") == tuple(KeyStroke(stroke.code, shift=True) for stroke in strokes)


@pytest.mark.parametrize("layout", ALL)
def test_every_layout_types_digits_letters_and_barcode_punctuation(layout: str) -> None:
    table = get_layout(layout)
    assert set(string.digits + string.ascii_letters + "-./+%$ ]") <= table.charset


@pytest.mark.parametrize("layout", ALL)
def test_inverse_map_types_back_every_character(layout: str) -> None:
    table = get_layout(layout)
    for char in table.charset:
        assert table.char_for(table.stroke_for(char)) == char


@pytest.mark.parametrize("layout", ALL)
def test_gs_is_ctrl_right_brace_position_on_every_layout(layout: str) -> None:
    table = get_layout(layout)
    assert table.stroke_for(GS) == KeyStroke(KEY_RIGHTBRACE, ctrl=True)
    assert table.char_for(KeyStroke(KEY_RIGHTBRACE, ctrl=True)) == GS


def test_ctrl_letters_follow_the_layout() -> None:
    """EOT (Ctrl+D) closes ISO/IEC 15434 envelopes; on AZERTY Ctrl+A sits where US has Q."""
    assert get_layout("fr").char_for(KeyStroke(KEY_Q, ctrl=True)) == "\x01"
    assert get_layout("us").char_for(KeyStroke(KEY_Q, ctrl=True)) == "\x11"


def test_dead_keys_type_nothing() -> None:
    assert get_layout("es").char_for(PLAIN(KEY_APOSTROPHE)) == ""
    assert get_layout("pt").char_for(PLAIN(KEY_RIGHTBRACE)) == ""


def test_us_has_no_altgr_level() -> None:
    us = get_layout("us")
    assert not us.has_altgr
    assert us.char_for(ALTGR(KEY_Q)) == "q"


def test_shift_altgr_fourth_level_types_nothing() -> None:
    assert get_layout("de").char_for(KeyStroke(KEY_Q, shift=True, altgr=True)) == ""


def test_caps_lock_keys_are_letters_only() -> None:
    fr, es = get_layout("fr"), get_layout("es")
    assert KEY_Q in fr.caps_keys and KEY_SEMICOLON in es.caps_keys  # a, ñ
    assert KEY_2 not in fr.caps_keys  # é/2: Caps Lock does not make AZERTY digits
    assert KEY_MINUS not in es.caps_keys


def test_layout_names_and_errors() -> None:
    assert get_layout("GB") is get_layout("uk")
    assert get_layout(get_layout("de")).name == "de"
    with pytest.raises(DeviceConfigError, match="unknown keyboard layout 'xx'"):
        get_layout("xx")
    with pytest.raises(BarcodeError, match="'ñ' cannot be typed on the 'us' layout"):
        get_layout("us").stroke_for("ñ")


def test_key_codes_match_the_kernel() -> None:
    ours = {name: value for name, value in vars(keycodes).items() if name.startswith(("KEY_", "EV_", "SYN_"))}
    ours = {name: value for name, value in ours.items() if isinstance(value, int)}
    for name in ("KEY_UP", "KEY_DOWN", "KEY_REPEAT"):  # event values, not codes
        del ours[name]
    assert ours == {name: getattr(ecodes, name) for name in ours}
