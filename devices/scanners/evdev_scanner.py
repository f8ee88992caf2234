"""USB keyboard-wedge scanners read through evdev, grabbed so their keys reach no console or other program.

Choose the scanner by a stable link (`/dev/input/by-path/…` names the USB port, so two identical scanners
on two ports are two devices; `/dev/input/by-id/…` names the model) or by a part of its name. The link is
resolved again on every reconnect, so a scanner unplugged and plugged back into the same port comes back
without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from devices.errors import DeviceConfigError, DeviceUnavailable
from devices.readings import ScanRead
from devices.scanners.base import Backoff, ReconnectingScanner, os_error
from devices.scanners.evdev_input import EvdevInputSource, InputDeviceInfo, InputHandle, InputSource
from devices.scanners.layouts import Layout, get_layout
from devices.scanners.wedge import DEFAULT_TERMINATORS, WedgeDecoder, terminator_codes


class _EvdevLink:
    def __init__(self, handle: InputHandle, decoder: WedgeDecoder, path: str, end_after_idle: float | None):
        self._handle = handle
        self._decoder = decoder
        self._path = path
        self._end_after_idle = end_after_idle
        self._last_event = time.monotonic()

    def read(self, timeout: float) -> list[ScanRead]:
        try:
            events = self._handle.read_events(timeout)
        except OSError as exc:
            raise os_error(self._path, exc) from exc
        if events:
            self._last_event = time.monotonic()
            return self._decoder.feed_events(events)
        return self._flush_if_idle()

    def _flush_if_idle(self) -> list[ScanRead]:
        idle = self._end_after_idle
        if idle is None or not self._decoder.pending or time.monotonic() - self._last_event < idle:
            return []
        scan = self._decoder.flush()
        return [] if scan is None else [scan]

    def close(self) -> None:
        self._handle.close()


class EvdevScanner(ReconnectingScanner):
    """A wedge scanner: give exactly one of `path` (a stable link, preferred) or `match` (part of its name).

    `end_after_idle` (seconds) ends a scan after a pause, for scanners configured without a suffix key.
    """

    def __init__(
        self,
        name: str,
        *,
        path: str | None = None,
        match: str | None = None,
        layout: Layout | str = "us",
        terminators: Iterable[str] = DEFAULT_TERMINATORS,
        grab: bool = True,
        end_after_idle: float | None = None,
        source: InputSource | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(name, backoff=backoff)
        if (path is None) == (match is None):
            raise DeviceConfigError(
                f"scanner {name!r}: give either path (a /dev/input/by-path link) or match"
            )
        self.path = path
        self.match = match
        self.layout = get_layout(layout)
        self.terminators = tuple(terminators)
        terminator_codes(self.terminators)  # fail at configuration time, not at the first scan
        self.grab = grab
        self.end_after_idle = end_after_idle
        self._source = source

    def connect(self) -> tuple[_EvdevLink, str]:
        source = self._input_source()
        path = self.path or self._find_by_name(source)
        try:
            handle = source.open(path)
        except OSError as exc:
            raise os_error(path, exc) from exc
        try:
            if self.grab:
                handle.grab()
        except OSError as exc:
            handle.close()
            raise os_error(path, exc) from exc
        decoder = WedgeDecoder(self.layout, self.terminators, source=self.name)
        link = _EvdevLink(handle, decoder, path, self.end_after_idle)
        return link, f"{path} ({self.layout.name}{', grabbed' if self.grab else ''})"

    def _input_source(self) -> InputSource:
        if self._source is None:
            self._source = EvdevInputSource()  # python-evdev is imported here, in the scanner's thread
        return self._source

    def _find_by_name(self, source: InputSource) -> str:
        wanted = (self.match or "").lower()
        found = [d for d in source.list_devices() if d.has_keys and wanted in d.name.lower()]
        if not found:
            raise DeviceUnavailable(f"no input device whose name contains {self.match!r}")
        if len(found) > 1:
            paths = ", ".join(_stable_name(d) for d in found)
            raise DeviceConfigError(
                f"{len(found)} input devices match {self.match!r} ({paths}): set path to one of these"
            )
        return found[0].path


def _stable_name(device: InputDeviceInfo) -> str:
    by_path = [link for link in device.links if "/by-path/" in link]
    return (by_path or list(device.links) or [device.path])[0]
