"""The byte pipes to a printer: TCP 9100, serial, a device file, raw USB.

These are our own, not python-escpos's `Network`/`Serial`/`File`/`Usb`: those open on first attribute
access, read a fixed 16 bytes with one timeout for everything (60 s by default on the network), log on the
root logger, and report failures as their own exceptions or a bare RuntimeError. A status poll needs a
per-call read timeout, and the print queue needs errors it can sort into "retry" and "fix the config".

Every transport: `open()` (idempotent, reconnects a dead link), `write(data)`, `read(size, timeout)` which
returns b"" when nothing came in time, `close()`. Absent hardware or library → `DeviceUnavailable`.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import select
import socket
import time
from collections.abc import Callable
from typing import Any, Protocol

from devices.errors import DeviceIOError, DeviceTimeout, DeviceUnavailable
from devices.printers.config import Kind, PrinterConfig


class Transport(Protocol):
    name: str

    def open(self) -> None: ...
    def write(self, data: bytes) -> None: ...
    def read(self, size: int, timeout: float) -> bytes: ...
    def close(self) -> None: ...


class TcpTransport:
    """A raw TCP connection (JetDirect / port 9100), kept open between jobs."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.name = f"tcp://{host}:{port}"
        self._address = (host, port)
        self._timeout = timeout
        self._sock: socket.socket | None = None

    def open(self) -> None:
        if self._sock is not None and not _peer_closed(self._sock):
            return
        self.close()
        try:
            self._sock = socket.create_connection(self._address, timeout=self._timeout)
        except OSError as exc:
            raise DeviceUnavailable(f"printer {self.name}: cannot connect: {_reason(exc)}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # status queries go out at once

    def write(self, data: bytes) -> None:
        sock = self._connected()
        try:
            sock.settimeout(self._timeout)
            sock.sendall(data)
        except TimeoutError as exc:
            self.close()
            raise DeviceTimeout(f"printer {self.name}: not accepting data for {self._timeout} s") from exc
        except OSError as exc:
            self.close()
            raise DeviceIOError(f"printer {self.name}: write failed: {_reason(exc)}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        sock = self._connected()
        try:
            if not select.select([sock], [], [], max(timeout, 0.0))[0]:
                return b""
            data = sock.recv(size)
        except OSError as exc:
            self.close()
            raise DeviceIOError(f"printer {self.name}: read failed: {_reason(exc)}") from exc
        if not data:
            self.close()
            raise DeviceIOError(f"printer {self.name}: the printer closed the connection")
        return data

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _connected(self) -> socket.socket:
        """The open socket; only `open()` replaces one the printer hung up, never a read or write halfway
        through a status query."""
        if self._sock is None:
            self.open()
        assert self._sock is not None
        return self._sock


class SerialTransport:
    """A serial line through pyserial; 8N1 at the configured baud rate."""

    def __init__(self, port: str, baud: int, timeout: float) -> None:
        self.name = f"serial://{port}"
        self._port, self._baud, self._timeout = port, baud, timeout
        self._serial: Any = None

    def open(self) -> None:
        if self._serial is not None:
            return
        import serial  # pyserial; imported here so a network-only box never loads it

        try:
            self._serial = serial.Serial(self._port, self._baud, write_timeout=self._timeout)
        except (serial.SerialException, OSError) as exc:
            raise DeviceUnavailable(f"printer {self.name}: cannot open: {exc}") from exc

    def write(self, data: bytes) -> None:
        import serial

        self.open()
        try:
            self._serial.write(data)
        except serial.SerialTimeoutException as exc:
            self.close()
            raise DeviceTimeout(f"printer {self.name}: not accepting data for {self._timeout} s") from exc
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise DeviceIOError(f"printer {self.name}: write failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        import serial

        self.open()
        try:
            # pyserial's read(size) waits for all `size` bytes: wait for one, then take what is there
            self._serial.timeout = max(timeout, 0.0)
            data: bytes = self._serial.read(1)
            if data:
                data += self._serial.read(min(self._serial.in_waiting, size - 1))
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise DeviceIOError(f"printer {self.name}: read failed: {exc}") from exc
        return data

    def close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(OSError):
                self._serial.close()
            self._serial = None


class FileTransport:
    """A device node such as /dev/usb/lp0 (kernel usblp driver); read back only where the node allows it.

    The file must exist: creating it would turn an unplugged printer into a growing regular file.
    """

    def __init__(self, path: str, timeout: float) -> None:
        self.name = f"file://{path}"
        self._path, self._timeout = path, timeout
        self._fd: int | None = None
        self._readable = False

    def open(self) -> None:
        if self._fd is not None:
            return
        flags = os.O_NOCTTY | os.O_NONBLOCK | os.O_APPEND
        try:
            try:
                self._fd, self._readable = os.open(self._path, flags | os.O_RDWR), True
            except PermissionError:
                self._fd, self._readable = os.open(self._path, flags | os.O_WRONLY), False
        except OSError as exc:
            raise DeviceUnavailable(f"printer {self.name}: cannot open: {_reason(exc)}") from exc

    def write(self, data: bytes) -> None:
        self.open()
        assert self._fd is not None
        view, deadline = memoryview(data), time.monotonic() + self._timeout
        try:
            while view:
                if not select.select([], [self._fd], [], max(deadline - time.monotonic(), 0.0))[1]:
                    raise DeviceTimeout(f"printer {self.name}: not accepting data for {self._timeout} s")
                with contextlib.suppress(BlockingIOError):
                    view = view[os.write(self._fd, view) :]
        except DeviceTimeout:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise DeviceIOError(f"printer {self.name}: write failed: {_reason(exc)}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        self.open()
        if not self._readable or self._fd is None:
            return b""
        try:
            if not select.select([self._fd], [], [], max(timeout, 0.0))[0]:
                return b""
            return os.read(self._fd, size)
        except BlockingIOError:
            return b""
        except OSError as exc:
            self.close()
            raise DeviceIOError(f"printer {self.name}: read failed: {_reason(exc)}") from exc

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class UsbTransport:
    """Raw USB bulk endpoints through pyusb (an optional library), detaching the kernel's usblp driver."""

    def __init__(self, vendor_id: int, product_id: int, timeout: float) -> None:
        self.name = f"usb://{vendor_id:04x}:{product_id:04x}"
        self._ids, self._timeout_ms = (vendor_id, product_id), int(timeout * 1000)
        self._device: Any = None
        self._out: Any = None
        self._in: Any = None

    def open(self) -> None:
        if self._device is not None:
            return
        core, util = _pyusb(self.name)
        try:
            device = core.find(idVendor=self._ids[0], idProduct=self._ids[1])
            if device is None:
                raise DeviceUnavailable(f"printer {self.name}: not found on the USB bus; is it plugged in?")
            if device.is_kernel_driver_active(0):
                device.detach_kernel_driver(0)
            device.set_configuration()
        except (core.USBError, core.NoBackendError) as exc:
            raise DeviceUnavailable(f"printer {self.name}: cannot claim it (udev rule?): {exc}") from exc
        interface = device.get_active_configuration()[(0, 0)]
        self._out = util.find_descriptor(interface, custom_match=_direction(util, util.ENDPOINT_OUT))
        self._in = util.find_descriptor(interface, custom_match=_direction(util, util.ENDPOINT_IN))
        self._device = device

    def write(self, data: bytes) -> None:
        self.open()
        core, _ = _pyusb(self.name)
        try:
            self._out.write(data, timeout=self._timeout_ms)
        except core.USBError as exc:
            self.close()
            if exc.errno == errno.ETIMEDOUT:
                raise DeviceTimeout(f"printer {self.name}: not accepting data: {exc}") from exc
            raise DeviceIOError(f"printer {self.name}: write failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        self.open()
        if self._in is None:
            return b""
        core, _ = _pyusb(self.name)
        try:
            return bytes(self._in.read(size, timeout=max(int(timeout * 1000), 1)))
        except core.USBError as exc:
            if exc.errno == errno.ETIMEDOUT:
                return b""
            self.close()
            raise DeviceIOError(f"printer {self.name}: read failed: {exc}") from exc

    def close(self) -> None:
        if self._device is not None:
            _, util = _pyusb(self.name)
            util.dispose_resources(self._device)
            self._device = self._out = self._in = None


def _pyusb(name: str) -> tuple[Any, Any]:
    try:
        return importlib.import_module("usb.core"), importlib.import_module("usb.util")
    except ImportError as exc:
        raise DeviceUnavailable(f"printer {name}: USB printing needs pyusb, which is not installed") from exc


def _direction(util: Any, wanted: int) -> Callable[[Any], bool]:
    return lambda endpoint: bool(util.endpoint_direction(endpoint.bEndpointAddress) == wanted)


def _peer_closed(sock: socket.socket) -> bool:
    """True when the printer hung up since the last job (it restarted, or closed an idle link)."""
    try:
        if not select.select([sock], [], [], 0)[0]:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


TRANSPORTS: dict[Kind, Callable[[PrinterConfig], Transport]] = {
    "network": lambda c: TcpTransport(c.host, c.port, c.timeout),
    "serial": lambda c: SerialTransport(c.device, c.baud, c.timeout),
    "file": lambda c: FileTransport(c.device, c.timeout),
    "usb": lambda c: UsbTransport(c.vendor_id, c.product_id, c.timeout),
}
