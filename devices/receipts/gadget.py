"""The box as a USB printer: the POS PC prints to the Pi's printer gadget (/dev/g_printer0, made by
systemd/printer-gadget-setup.sh), and the box forwards every byte to the real printer — USB, serial or
network, any `devices.printers` transport — with the printer's status replies going back to the POS.

The forwarding is `relay()`, shared with the TCP proxy; only the two ends differ. A USB printer class link
has no end of job (the host just writes), so the relay runs until the host or the printer goes away; then
both are reopened after a pause, with one log line per outage. Tests drive it through its seam: any
character device or pseudo-terminal path stands in for the gadget node (there is no USB device controller
in a test machine).
"""

from __future__ import annotations

import errno
import logging
import os
import select
import threading

from devices.errors import DeviceError
from devices.printers import Transport
from devices.receipts.forward import RelayResult, Side, relay
from devices.receipts.tap import CaptureQueue

log = logging.getLogger(__name__)

READ_SLICE = 0.05
RETRY_S = (0.5, 1.0, 2.0, 5.0)
GADGET_NODE = "/dev/g_printer0"


def gadget_side(fd: int, name: str, ended: threading.Event, stop: threading.Event) -> Side:
    def read() -> bytes:
        while not (ended.is_set() or stop.is_set()):
            if select.select([fd], [], [], READ_SLICE)[0]:
                data = os.read(fd, 65536)
                if not data:
                    raise OSError(errno.ENODEV, f"{name}: the host went away")
                return data
        raise OSError(errno.EBADF, f"{name}: stopping")

    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    return Side(name, read, write, lambda: None, ended.set)


def printer_side(printer: Transport, ended: threading.Event, stop: threading.Event) -> Side:
    def read() -> bytes:
        while not (ended.is_set() or stop.is_set()):
            try:
                data = printer.read(65536, READ_SLICE)
            except DeviceError as exc:
                raise OSError(errno.EIO, str(exc)) from exc
            if data:
                return data
        raise OSError(errno.EBADF, f"printer {printer.name}: stopping")

    def write(data: bytes) -> None:
        try:
            printer.write(data)
        except DeviceError as exc:
            raise OSError(errno.EIO, str(exc)) from exc

    return Side(f"printer {printer.name}", read, write, lambda: None, ended.set)


class GadgetPrinterBridge:
    """`run()` until `stop`: open the gadget node and the printer, relay, and start again when one fails."""

    def __init__(
        self,
        printer: Transport,
        tap: CaptureQueue | None = None,
        node: str = GADGET_NODE,
        stop: threading.Event | None = None,
    ) -> None:
        self.printer, self.tap, self.node = printer, tap, node
        self.stop = stop or threading.Event()
        self.relays = 0

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            result = self.once()
            failures = 0 if result is not None and result.to_printer else failures + 1
            self.stop.wait(RETRY_S[min(failures, len(RETRY_S) - 1)] if failures else 0.1)

    def once(self) -> RelayResult | None:
        """One relay from opening both ends until one of them fails; None when they could not be opened."""
        try:
            fd = os.open(self.node, os.O_RDWR | os.O_NOCTTY)
        except OSError as exc:
            log.warning("USB printer gadget %s cannot be opened (%s): is the gadget set up?", self.node, exc)
            return None
        try:
            try:
                self.printer.open()
            except DeviceError as exc:
                log.warning("USB printer gadget: the real printer cannot be reached (%s)", exc)
                return None
            ended = threading.Event()
            result = relay(
                gadget_side(fd, f"POS on USB ({self.node})", ended, self.stop),
                printer_side(self.printer, ended, self.stop),
                self.tap,
            )
            self.relays += 1
            if not self.stop.is_set():
                log.warning(
                    "USB printer gadget: the relay to printer %s ended (%d bytes to it, %d back); reopening",
                    self.printer.name,
                    result.to_printer,
                    result.to_pos,
                )
            return result
        finally:
            os.close(fd)
            self.printer.close()
