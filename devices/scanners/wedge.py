"""Keyboard-wedge decoding: evdev key events in, complete scans out, with no I/O.

A wedge scanner is a keyboard that types very fast. The decoder tracks Shift, AltGr, Ctrl and Caps Lock
itself (a grabbed device has no console to do it), types with the scanner's layout, and ends a scan on the
configured terminator keys. It keeps the key strokes next to the text so the scan can be forwarded to the
till PC as key codes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from devices.errors import DeviceConfigError
from devices.readings import KeyStroke, ScanRead
from devices.scanners.keycodes import (
    ALTGR_KEYS,
    CTRL_KEYS,
    EV_KEY,
    KEY_CAPSLOCK,
    KEY_DOWN,
    KEY_UP,
    SHIFT_KEYS,
    TERMINATOR_KEYS,
)
from devices.scanners.layouts import Layout, Level, get_layout, select_level

log = logging.getLogger(__name__)

DEFAULT_TERMINATORS = ("enter", "kpenter", "tab")
_MODIFIER_KEYS = SHIFT_KEYS | CTRL_KEYS | ALTGR_KEYS
_CAPS_LEVELS = (Level.PLAIN, Level.SHIFT)


class InputEventLike(Protocol):
    """What the decoder reads from an event: `evdev.InputEvent` has these, and so has a test's tuple."""

    @property
    def type(self) -> int: ...
    @property
    def code(self) -> int: ...
    @property
    def value(self) -> int: ...


def terminator_codes(names: Iterable[str]) -> frozenset[int]:
    codes = set()
    for name in names:
        try:
            codes.add(TERMINATOR_KEYS[name.lower()])
        except KeyError:
            known = ", ".join(TERMINATOR_KEYS)
            raise DeviceConfigError(f"unknown scan terminator {name!r}: use some of {known}") from None
    if not codes:
        raise DeviceConfigError("a wedge scanner needs at least one terminator key")
    return frozenset(codes)


class WedgeDecoder:
    """Feed it key events one at a time; it returns a `ScanRead` when a terminator ends a non-empty scan.

    Acts on key-down only; auto-repeat counts only for modifiers (a repeated Shift is still held). Caps Lock
    toggles letters only and is folded into the recorded strokes' Shift, so the strokes type the same text
    on a host whose Caps Lock is off.
    """

    def __init__(
        self,
        layout: Layout | str = "us",
        terminators: Iterable[str] = DEFAULT_TERMINATORS,
        *,
        source: str = "",
        max_length: int = 4096,
    ) -> None:
        self.layout = get_layout(layout)
        self.source = source
        self.max_length = max_length
        self._terminators = terminator_codes(terminators)
        self._held: set[int] = set()
        self._modifier_level: Level | None = Level.PLAIN
        self._caps = False
        self._text: list[str] = []
        self._keys: list[KeyStroke] = []
        self._overflowed = False

    @property
    def pending(self) -> bool:
        """True while a scan has started and no terminator has ended it."""
        return bool(self._text)

    def feed(self, event_type: int, code: int, value: int) -> ScanRead | None:
        if event_type != EV_KEY:
            return None
        if code in _MODIFIER_KEYS:
            self._track(code, value)
            return None
        if value != KEY_DOWN:
            return None
        if code == KEY_CAPSLOCK:
            self._caps = not self._caps
        elif code in self._terminators:
            return self._finish(code)
        else:
            self._type(code)
        return None

    def feed_events(self, events: Iterable[InputEventLike]) -> list[ScanRead]:
        """Feed a batch (what one `read()` of an input device returns); every scan it completes."""
        scans = []
        for event in events:
            scan = self.feed(event.type, event.code, event.value)
            if scan is not None:
                scans.append(scan)
        return scans

    def flush(self) -> ScanRead | None:
        """End the scan in progress without a terminator: for scanners configured with no suffix."""
        return self._finish(None)

    def reset(self) -> None:
        """Forget a partial scan and the held modifiers: the device went away mid-scan."""
        self._held.clear()
        self._modifier_level = Level.PLAIN
        self._caps = False
        self._clear()

    def _track(self, code: int, value: int) -> None:
        """Modifiers change rarely: the level they select is worked out here, not for every key."""
        held = self._held
        if value == KEY_UP:
            held.discard(code)
        else:
            held.add(code)
        self._modifier_level = select_level(
            shift=not SHIFT_KEYS.isdisjoint(held),
            altgr=not ALTGR_KEYS.isdisjoint(held) and self.layout.has_altgr,
            ctrl=not CTRL_KEYS.isdisjoint(held),
        )

    def _level(self, code: int) -> Level | None:
        level = self._modifier_level
        if self._caps and level in _CAPS_LEVELS and code in self.layout.caps_keys:
            return Level.PLAIN if level is Level.SHIFT else Level.SHIFT
        return level

    def _type(self, code: int) -> None:
        level = self._level(code)
        if level is None:
            return
        key = (code, level)
        ch = self.layout.chars.get(key)
        if ch is None:
            return
        if len(self._text) >= self.max_length:
            self._overflowed = True
            return
        self._text.append(ch)
        self._keys.append(self.layout.strokes[key])

    def _finish(self, terminator: int | None) -> ScanRead | None:
        text, keys, overflowed = "".join(self._text), tuple(self._keys), self._overflowed
        self._clear()
        if overflowed:
            log.warning("scanner %s: dropped a scan longer than %d characters", self.source, self.max_length)
            return None
        if not text:
            return None
        if terminator is not None:
            keys += (KeyStroke(terminator),)
        return ScanRead(self.source, text, keys)

    def _clear(self) -> None:
        self._text.clear()
        self._keys.clear()
        self._overflowed = False
