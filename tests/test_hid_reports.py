"""Boot keyboard reports: built from key strokes, and typed back by a host with a given layout."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import BarcodeError, ProtocolError
from devices.hid import (
    BOOT_KEYBOARD_DESCRIPTOR,
    RELEASE,
    decode_reports,
    keystrokes_for_text,
    press_report,
    reports_for_scan,
)
from devices.readings import KeyStroke
from devices.scanners.keycodes import (
    KEY_0,
    KEY_1,
    KEY_102ND,
    KEY_A,
    KEY_BACKSLASH,
    KEY_ENTER,
    KEY_KPENTER,
    KEY_RIGHTBRACE,
    KEY_Z,
)
from devices.scanners.layouts import GS, LAYOUTS, get_layout
from simulators.scanner import key_events_for
from tests.scanner_helpers import decode

ALL = sorted(LAYOUTS)
REFERENCE_DESCRIPTOR = (  # devices.md §4, HID 1.11 Appendix B.1
    "05 01 09 06 a1 01 05 07 19 e0 29 e7 15 00 25 01 75 01 95 08 81 02 95 01 75 08 81 03 95 05 75 01 05 08 "
    "19 01 29 05 91 02 95 01 75 03 91 03 95 06 75 08 15 00 25 65 05 07 19 00 29 65 81 00 c0"
)


def test_boot_keyboard_descriptor() -> None:
    assert bytes.fromhex(REFERENCE_DESCRIPTOR) == BOOT_KEYBOARD_DESCRIPTOR
    assert len(BOOT_KEYBOARD_DESCRIPTOR) == 63


@pytest.mark.parametrize(
    ("stroke", "report"),
    [
        (KeyStroke(KEY_A), "00 00 04 00 00 00 00 00"),
        (KeyStroke(KEY_Z, shift=True), "02 00 1d 00 00 00 00 00"),
        (KeyStroke(KEY_1), "00 00 1e 00 00 00 00 00"),
        (KeyStroke(KEY_0, altgr=True), "40 00 27 00 00 00 00 00"),
        (KeyStroke(KEY_ENTER), "00 00 28 00 00 00 00 00"),
        (KeyStroke(KEY_KPENTER), "00 00 58 00 00 00 00 00"),
        (KeyStroke(KEY_102ND), "00 00 64 00 00 00 00 00"),
        (KeyStroke(KEY_BACKSLASH), "00 00 31 00 00 00 00 00"),
        (KeyStroke(KEY_RIGHTBRACE, ctrl=True), "01 00 30 00 00 00 00 00"),
    ],
)
def test_press_reports(stroke: KeyStroke, report: str) -> None:
    assert press_report(stroke) == bytes.fromhex(report)


def test_iso_hosts_get_the_non_us_hash_usage() -> None:
    assert press_report(KeyStroke(KEY_BACKSLASH), iso=True)[2] == 0x32


def test_each_press_is_followed_by_a_release() -> None:
    data = reports_for_scan(keystrokes_for_text("00", "us", terminator=None))
    press = bytes.fromhex("00 00 27 00 00 00 00 00")
    assert data == press + RELEASE + press + RELEASE


def test_without_the_release_a_host_sees_one_held_key() -> None:
    """Why the release matters: two identical reports in a row are one key held down."""
    press = press_report(KeyStroke(KEY_0))
    assert decode_reports(press + press + RELEASE, "us") == "0"
    assert decode_reports(reports_for_scan([KeyStroke(KEY_0)] * 2), "us") == "00"


@pytest.mark.parametrize("layout", ALL)
def test_gs_is_forwarded_as_ctrl_right_bracket(layout: str) -> None:
    keys = keystrokes_for_text(f"01{GS}10", layout)
    assert reports_for_scan(keys)[32:40] == bytes.fromhex("01 00 30 00 00 00 00 00")
    assert decode_reports(reports_for_scan(keys), layout) == f"01{GS}10\n"


@pytest.mark.parametrize("layout", ALL)
def test_a_wedge_scan_forwarded_types_the_same_on_a_host_with_the_same_layout(layout: str) -> None:
    text = "]C1010950600013435210ABC123" + GS + "3103000250"
    [scan] = decode(key_events_for(text, layout), layout)
    assert decode_reports(reports_for_scan(scan.keys), layout) == text + "\n"


def test_key_codes_not_text_the_pcs_layout_applies() -> None:
    """A German PC types the forwarded US `Z` key as `Y`, exactly as with the scanner plugged into it."""
    assert decode_reports(reports_for_scan(keystrokes_for_text("Zy", "us")), "de") == "Yz\n"


def test_text_without_key_codes_is_typed_with_the_hosts_layout() -> None:
    for layout in ALL:
        assert decode_reports(reports_for_scan(keystrokes_for_text("a@1", layout)), layout) == "a@1\n"


def test_untypeable_text_and_unknown_keys_are_errors() -> None:
    with pytest.raises(BarcodeError, match="'€' cannot be typed on the 'us' layout"):
        keystrokes_for_text("5€", "us")
    with pytest.raises(BarcodeError, match="key code 240 has no boot keyboard usage"):
        press_report(KeyStroke(240))


def test_decoder_rejects_partial_reports_and_ignores_unknown_usages() -> None:
    with pytest.raises(ProtocolError, match="12 bytes is not a whole number of 8-byte reports"):
        decode_reports(bytes(12), "us")
    assert decode_reports(bytes.fromhex("00 00 01 00 00 00 00 00") + RELEASE, "us") == ""  # ErrorRollOver
    assert decode_reports(bytes.fromhex("00 00 e0 00 00 00 00 00") + RELEASE, "us") == ""


@st.composite
def layout_and_text(draw: st.DrawFn) -> tuple[str, str]:
    layout = draw(st.sampled_from(ALL))
    alphabet = sorted(get_layout(layout).charset | {GS})
    return layout, draw(st.text(st.sampled_from(alphabet), max_size=40))


@settings(max_examples=200, deadline=None)
@given(case=layout_and_text())
def test_any_text_round_trips_through_reports(case: tuple[str, str]) -> None:
    layout, text = case
    assert decode_reports(reports_for_scan(keystrokes_for_text(text, layout)), layout) == text + "\n"


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=120).map(lambda b: b[: len(b) - len(b) % 8]), layout=st.sampled_from(ALL))
def test_no_reports_crash_the_decoder(data: bytes, layout: str) -> None:
    assert isinstance(decode_reports(data, layout), str)
