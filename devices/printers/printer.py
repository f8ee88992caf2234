"""A receipt printer: print bytes, ask for status. Policy lives here; the transports only move bytes."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from types import TracebackType

from devices.printers.config import PrinterConfig
from devices.printers.render import TicketBuilder
from devices.printers.status import DEFAULT_QUERIES, PrinterStatus, StatusQuery, StatusReader
from devices.printers.transports import TRANSPORTS, Transport

_READ_CHUNK = 64


class Printer:
    """One printer, shared by threads (the print queue and the status page).

    The link opens on first use and stays open; after a failure it is closed, and the next call opens it
    again. A job is only known to be on paper once `query_status()` answers `ready` after it: over TCP, a
    write into a link the printer has just dropped can succeed and still be lost.
    """

    def __init__(self, config: PrinterConfig, transport: Transport | None = None) -> None:
        self.config = config
        self._transport = transport or TRANSPORTS[config.kind](config)
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> Printer:
        return cls(PrinterConfig.from_url(url))

    @property
    def name(self) -> str:
        return self.config.url

    def builder(self) -> TicketBuilder:
        """A builder for this printer's paper width, code page and profile."""
        return TicketBuilder(self.config.page)

    def print_bytes(self, data: bytes) -> None:
        """Send one job; failures are `DeviceUnavailable`, `DeviceIOError` or `DeviceTimeout`."""
        with self._lock:
            self._transport.open()
            self._transport.write(data)

    def query_status(
        self, timeout: float = 1.0, queries: Sequence[StatusQuery] = DEFAULT_QUERIES
    ) -> PrinterStatus:
        """Ask the printer how it is; what it does not answer within `timeout` stays unknown."""
        reader = StatusReader(queries)
        with self._lock:
            self._transport.open()
            while self._transport.read(_READ_CHUNK, 0):
                pass  # a late reply to an earlier query would be taken for this one's
            self._transport.write(reader.request())
            deadline = time.monotonic() + timeout
            while (remaining := deadline - time.monotonic()) > 0:
                data = self._transport.read(_READ_CHUNK, remaining)
                if not data:
                    break
                if answered := reader.feed(data):
                    return answered[0]
        return reader.expire()

    def close(self) -> None:
        with self._lock:
            self._transport.close()

    def __enter__(self) -> Printer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
