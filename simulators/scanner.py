"""Scanners in software, for the demo and the tests: a scripted scanner, a serial scanner on a pty pair, and
the key events a wedge scanner would send for a text.

What they do not model: the time between a wedge scanner's keys, a scanner's own settings menu and beeps,
and scanners that exist only as kernel input devices (the evdev backend is tested through its seam).
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import tempfile
import threading
import time
import tty
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from devices.errors import BarcodeError, DeviceUnavailable
from devices.hid.reports import keystrokes_for_text
from devices.readings import DeviceState, DeviceStatus, KeyStroke, Post, ScanRead
from devices.scanners.framing import terminator_bytes
from devices.scanners.keycodes import (
    EV_KEY,
    EV_SYN,
    KEY_DOWN,
    KEY_LEFTCTRL,
    KEY_LEFTSHIFT,
    KEY_RIGHTALT,
    KEY_UP,
    SYN_REPORT,
)
from devices.scanners.layouts import Layout

log = logging.getLogger(__name__)

Event = tuple[int, int, int]
"""(type, code, value), the three fields of an evdev event the decoder reads."""


def events_for_strokes(strokes: Iterable[KeyStroke]) -> list[Event]:
    """Modifiers down, key down, sync, key up, modifiers up, sync: what a USB keyboard's reports become."""
    events: list[Event] = []
    for stroke in strokes:
        modifiers = [
            code
            for code, held in (
                (KEY_LEFTCTRL, stroke.ctrl),
                (KEY_LEFTSHIFT, stroke.shift),
                (KEY_RIGHTALT, stroke.altgr),
            )
            if held
        ]
        events += [(EV_KEY, code, KEY_DOWN) for code in modifiers]
        events += [(EV_KEY, stroke.code, KEY_DOWN), (EV_SYN, SYN_REPORT, 0), (EV_KEY, stroke.code, KEY_UP)]
        events += [(EV_KEY, code, KEY_UP) for code in reversed(modifiers)]
        events.append((EV_SYN, SYN_REPORT, 0))
    return events


def key_events_for(text: str, layout: Layout | str = "us", terminator: str | None = "enter") -> list[Event]:
    """The events a wedge scanner configured for `layout` sends for `text` and its terminator key."""
    return events_for_strokes(keystrokes_for_text(text, layout, terminator=terminator))


class SimulatedScanner:
    """Scans `barcodes`, one every `interval` seconds, and anything given to `scan()`, like a wedge scanner.

    Each `ScanRead` carries the key strokes of `layout`, so HID forwarding works in the demo.
    """

    def __init__(
        self,
        name: str = "sim",
        *,
        barcodes: Iterable[str] = (),
        interval: float = 0.0,
        layout: Layout | str = "us",
        terminator: str = "enter",
    ) -> None:
        self.name = name
        self.interval = interval
        self.layout = layout
        self.terminator = terminator
        self._script: Iterator[str] = iter(barcodes)
        self._on_demand: queue.Queue[str] = queue.Queue()

    def scan(self, text: str) -> None:
        """Scan `text` now (from any thread); the `run` thread posts it."""
        self._on_demand.put(text)

    def run(self, post: Post, stop: threading.Event) -> None:
        post(DeviceStatus(self.name, DeviceState.OK, "simulated"))
        script: Iterator[str] | None = self._script
        due = time.monotonic() + self.interval
        while not stop.is_set():
            timeout = 0.1 if script is None else min(0.1, max(0.0, due - time.monotonic()))
            try:
                post(self._read(self._on_demand.get(timeout=timeout)))
                continue
            except queue.Empty:
                pass
            if script is not None and time.monotonic() >= due:
                text = next(script, None)
                if text is None:
                    script = None
                else:
                    post(self._read(text))
                    due += self.interval

    def _read(self, text: str) -> ScanRead:
        try:
            keys = keystrokes_for_text(text, self.layout, terminator=self.terminator)
        except BarcodeError:
            log.warning("simulated scanner %s: %r has characters the layout cannot type", self.name, text)
            keys = ()
        return ScanRead(self.name, text, keys)


class VirtualSerialScanner:
    """A serial scanner on a pty pair. `port_path` is a link to the pty, like `/dev/serial/by-id/…`, and
    `unplug()` / `plug()` behave like pulling the USB adapter and putting it back (same link, new tty).
    """

    def __init__(self, terminator: str = "CR", *, encoding: str = "utf-8") -> None:
        self.terminator = terminator_bytes(terminator)
        self.encoding = encoding
        self._dir = Path(tempfile.mkdtemp(prefix="tillbridge-scanner-"))
        self.port_path = str(self._dir / "usb-Virtual_Scanner-if00")
        self._master: int | None = None
        self._slave: int | None = None
        self.plug()

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def plug(self) -> None:
        if self.plugged:
            return
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no CR to LF translation: bytes arrive as the scanner sent them
        Path(self.port_path).symlink_to(os.ttyname(self._slave))

    def unplug(self) -> None:
        """The reader's next read fails with EIO, and the link is gone until `plug()`."""
        Path(self.port_path).unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def scan(self, text: str) -> None:
        self.send(text.encode(self.encoding) + self.terminator)

    def send(self, data: bytes) -> None:
        """Raw bytes, as line noise or a misconfigured suffix would arrive."""
        if self._master is None:
            raise DeviceUnavailable(f"{self.port_path}: the virtual serial scanner is unplugged")
        os.write(self._master, data)

    def close(self) -> None:
        self.unplug()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> VirtualSerialScanner:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
