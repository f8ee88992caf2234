"""Serial and USB-CDC scanners, opened by pyserial URL (a device path, `loop://`, `spy://`, a pty).

Prefer a stable link such as `/dev/serial/by-id/…` or `/dev/serial/by-path/…`: it is opened again on each
reconnect, so a scanner unplugged and plugged back in comes back without a restart. Serial scans carry no
key codes; HID forwarding types them with the till PC's layout (`devices.hid.keystrokes_for_text`).
"""

from __future__ import annotations

import logging
from typing import Any

from devices.errors import DeviceConfigError, DeviceUnavailable
from devices.readings import ScanRead
from devices.scanners.base import Backoff, ReconnectingScanner, os_error
from devices.scanners.framing import LineFramer, terminator_bytes

log = logging.getLogger(__name__)

_PARITIES = ("N", "E", "O", "M", "S")


class _SerialLink:
    def __init__(self, port: Any, framer: LineFramer, name: str) -> None:
        self._port = port
        self._framer = framer
        self._name = name

    def read(self, timeout: float) -> list[ScanRead]:
        overflows = self._framer.overflows
        try:
            if self._port.timeout != timeout:
                self._port.timeout = timeout  # pyserial reconfigures the port on every assignment
            data = self._port.read(max(1, self._port.in_waiting))
        except OSError as exc:  # pyserial's SerialException is an OSError
            raise DeviceUnavailable(f"{self._port.name}: read failed, unplugged? ({exc})") from exc
        scans = [ScanRead(self._name, text) for text in self._framer.feed(data)]
        if self._framer.overflows != overflows:
            log.warning(
                "scanner %s: dropped data with no %r suffix: check the terminator",
                self._name,
                self._framer.terminator,
            )
        return scans

    def close(self) -> None:
        self._port.close()


class SerialScanner(ReconnectingScanner):
    """A scanner that sends each scan followed by `terminator` (CR, CRLF, LF or TAB) over a serial line."""

    def __init__(
        self,
        name: str,
        *,
        url: str,
        terminator: str = "CR",
        baudrate: int = 9600,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
        encoding: str = "utf-8",
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(name, backoff=backoff)
        terminator_bytes(terminator)  # fail at configuration time, not at the first scan
        if parity.upper() not in _PARITIES or bytesize not in (5, 6, 7, 8) or stopbits not in (1, 1.5, 2):
            raise DeviceConfigError(
                f"scanner {name!r}: bad serial settings {bytesize}{parity}{stopbits} "
                f"(data bits 5-8, parity one of {''.join(_PARITIES)}, stop bits 1, 1.5 or 2)"
            )
        self.url = url
        self.terminator = terminator
        self.encoding = encoding
        self.settings: dict[str, Any] = {
            "baudrate": baudrate,
            "bytesize": bytesize,
            "parity": parity.upper(),
            "stopbits": stopbits,
        }

    def connect(self) -> tuple[_SerialLink, str]:
        import serial  # pyserial

        try:
            port = serial.serial_for_url(self.url, timeout=self.poll_interval, **self.settings)
        except OSError as exc:
            raise os_error(self.url, exc) from exc
        except ValueError as exc:
            raise DeviceConfigError(f"{self.url}: {exc}") from exc
        framer = LineFramer(self.terminator, encoding=self.encoding)
        link = _SerialLink(port, framer, self.name)
        return link, f"{self.url} {self.settings['baudrate']} baud, suffix {self.terminator}"
