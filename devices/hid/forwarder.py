"""Types scans into the till PC through the Pi's USB HID keyboard gadget (`/dev/hidg0`).

The box sits between scanner and till: the PC sees a keyboard that types each scan as the scanner would
have. Wedge scans are forwarded as the scanner's own key codes, so the PC's layout applies as before;
scans without key codes (serial) are typed with `layout`, which must be the PC's layout. A missing gadget
or a host that does not read is a status, never a crash, and a scan that cannot be typed now is dropped
rather than typed late into whatever the cashier is doing then.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import select
import threading
from collections.abc import Callable

from devices.errors import DeviceError, DeviceIOError, DeviceTimeout, DeviceUnavailable
from devices.hid.reports import REPORT_SIZE, keystrokes_for_text, reports_for_scan
from devices.readings import DeviceState, KeyStroke, Post, ScanRead
from devices.scanners.base import StatusReporter
from devices.scanners.layouts import Layout, get_layout

log = logging.getLogger(__name__)

DEFAULT_GADGET = "/dev/hidg0"


class HidForwarder:
    """`send` types one scan now (raising typed errors); `forward` queues it for the `run` thread."""

    def __init__(
        self,
        path: str = DEFAULT_GADGET,
        *,
        layout: Layout | str = "us",
        iso: bool = False,
        name: str = "hid",
        write_timeout: float = 1.0,
        max_queue: int = 64,
    ) -> None:
        self.path = path
        self.layout = get_layout(layout)
        self.iso = iso
        self.name = name
        self.write_timeout = write_timeout
        self._queue: queue.Queue[ScanRead] = queue.Queue(max_queue)
        self._fd: int | None = None

    def keys_for(self, scan: ScanRead) -> tuple[KeyStroke, ...]:
        return scan.keys or keystrokes_for_text(scan.data, self.layout)

    def send(self, scan: ScanRead) -> None:
        data = reports_for_scan(self.keys_for(scan), iso=self.iso)
        fd = self._open()
        try:
            for start in range(0, len(data), REPORT_SIZE):
                self._write(fd, data[start : start + REPORT_SIZE])
        except DeviceError:
            self.close()  # the next scan reopens: the gadget may have been rebound meanwhile
            raise

    def forward(self, scan: ScanRead) -> None:
        """Queue a scan for `run`; never blocks the caller (a full queue drops the scan, with a warning)."""
        try:
            self._queue.put_nowait(scan)
        except queue.Full:
            log.warning("hid %s: %d scans waiting, dropped %r", self.name, self._queue.qsize(), scan.data)

    def run(self, post: Post, stop: threading.Event) -> None:
        status = StatusReporter(self.name, post)
        self._check(status, self._open)
        while not stop.is_set():
            try:
                scan = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self._check(status, functools.partial(self.send, scan))
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _check(self, status: StatusReporter, action: Callable[[], object]) -> None:
        try:
            action()
        except DeviceUnavailable as exc:
            status.report(DeviceState.ABSENT, str(exc))
        except DeviceError as exc:
            status.report(DeviceState.ERROR, str(exc))
        except Exception as exc:  # the forwarding thread must outlive a bug
            log.exception("hid %s: unexpected error", self.name)
            status.report(DeviceState.ERROR, f"unexpected error: {exc!r}")
        else:
            status.report(DeviceState.OK, self.path)

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except FileNotFoundError as exc:
                raise DeviceUnavailable(
                    f"{self.path}: no HID gadget (run hid-gadget-setup.sh; needs dtoverlay=dwc2 and a USB "
                    "device port: Pi Zero, 4, 5 USB-C)"
                ) from exc
            except OSError as exc:
                raise DeviceIOError(f"{self.path}: cannot open ({exc})") from exc
        return self._fd

    def _write(self, fd: int, report: bytes) -> None:
        while True:
            try:
                written = os.write(fd, report)
            except BlockingIOError:
                self._wait_writable(fd)
                continue
            except OSError as exc:  # ESHUTDOWN: the cable is not in a host
                raise DeviceIOError(
                    f"{self.path}: write failed ({exc}): is the USB cable in the till PC?"
                ) from exc
            if written != len(report):
                raise DeviceIOError(f"{self.path}: wrote {written} of {len(report)} bytes of a report")
            return

    def _wait_writable(self, fd: int) -> None:
        _, ready, _ = select.select([], [fd], [], self.write_timeout)
        if not ready:
            raise DeviceTimeout(
                f"{self.path}: the host took no report for {self.write_timeout} s (PC asleep?)"
            )
