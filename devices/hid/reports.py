"""Boot keyboard reports for a scan, and the reverse (what a host types from them), with no I/O.

Each key becomes a press report (its modifiers and one usage) followed by an all-zero release, so a
repeated character is two presses, never one held key, and the host's auto-repeat never fires.
"""

from __future__ import annotations

from collections.abc import Iterable

from devices.errors import BarcodeError, ProtocolError
from devices.hid.usages import (
    HID_KEYBOARD,
    ISO_USAGE_FOR_CODE,
    MOD_CTRL,
    MOD_LCTRL,
    MOD_LSHIFT,
    MOD_RALT,
    MOD_SHIFT,
    USAGE_FOR_CODE,
)
from devices.readings import KeyStroke
from devices.scanners.keycodes import TERMINATOR_KEYS
from devices.scanners.layouts import Layout, get_layout

REPORT_SIZE = 8
RELEASE = bytes(REPORT_SIZE)


def press_report(stroke: KeyStroke, *, iso: bool = False) -> bytes:
    usages = ISO_USAGE_FOR_CODE if iso else USAGE_FOR_CODE
    try:
        usage = usages[stroke.code]
    except KeyError:
        raise BarcodeError(f"key code {stroke.code} has no boot keyboard usage to forward") from None
    modifiers = (MOD_LSHIFT if stroke.shift else 0) | (MOD_RALT if stroke.altgr else 0)
    modifiers |= MOD_LCTRL if stroke.ctrl else 0
    return bytes((modifiers, 0, usage, 0, 0, 0, 0, 0))


def reports_for_scan(keys: Iterable[KeyStroke], *, iso: bool = False) -> bytes:
    """Press and release reports for each stroke, in order: what to write to /dev/hidg0."""
    return b"".join(press_report(stroke, iso=iso) + RELEASE for stroke in keys)


def keystrokes_for_text(
    text: str, layout: Layout | str, *, terminator: str | None = "enter"
) -> tuple[KeyStroke, ...]:
    """Strokes that type `text` on a host using `layout`, then the terminator key (for scans without keys)."""
    strokes = get_layout(layout).strokes_for(text)
    return strokes if terminator is None else (*strokes, KeyStroke(TERMINATOR_KEYS[terminator]))


def decode_reports(data: bytes, layout: Layout | str) -> str:
    """What a host set to `layout` types from a stream of boot keyboard reports (Enter as "\\n").

    Like a host, it acts on keys that appear in a report and were not in the previous one.
    """
    if len(data) % REPORT_SIZE:
        raise ProtocolError(f"{len(data)} bytes is not a whole number of {REPORT_SIZE}-byte reports")
    host = get_layout(layout)
    typed: list[str] = []
    held: set[int] = set()
    for start in range(0, len(data), REPORT_SIZE):
        report = data[start : start + REPORT_SIZE]
        pressed = [usage for usage in report[2:] if usage]
        for usage in pressed:
            if usage not in held and usage < len(HID_KEYBOARD):
                typed.append(host.char_for(_stroke(report[0], HID_KEYBOARD[usage])))
        held = set(pressed)
    return "".join(typed)


def _stroke(modifiers: int, code: int) -> KeyStroke:
    return KeyStroke(
        code,
        shift=bool(modifiers & MOD_SHIFT),
        altgr=bool(modifiers & MOD_RALT),
        ctrl=bool(modifiers & MOD_CTRL),
    )
