"""The thin I/O side: open a port by URL and run one poll exchange through a codec.

Frames end on their terminator, not on a read timeout: the exchange returns as soon as the codec has a
reading and no follow-up is pending, so a poll costs the scale's answer time plus microseconds, not the
≥ 1 s of a driver that reads until its timeout (reference §1.0).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from devices.errors import DeviceConfigError, DeviceIOError, DeviceUnavailable
from devices.scales.codec import ScaleCodec
from devices.scales.reading import ScaleEvent, ScaleReading
from devices.scales.settings import SerialSettings

try:
    import termios

    PORT_ERRORS: tuple[type[Exception], ...] = (OSError, termios.error)
    """What a vanished port raises: pyserial's SerialException (an OSError), or termios.error from a flush."""
except ImportError:  # pragma: no cover - not POSIX
    PORT_ERRORS = (OSError,)

READ_SLICE = 0.05
"""Longest a single read blocks: bounds how late a stop request or a deadline is noticed."""


class SerialPort(Protocol):
    """The part of pyserial's `Serial` the scale transport uses (a test may pass anything shaped so)."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


def open_port(url: str, settings: SerialSettings) -> SerialPort:
    """Open a device path or a pyserial URL (`loop://`, `spy://…`, `socket://…`, a pty path)."""
    try:
        import serial
    except ImportError as exc:  # pragma: no cover - pyserial is a dependency
        raise DeviceUnavailable("pyserial is not installed") from exc
    try:
        port: SerialPort = serial.serial_for_url(url, timeout=READ_SLICE, **settings.pyserial_kwargs())
    except ValueError as exc:
        raise DeviceConfigError(f"scale port {url}: cannot use settings {settings}: {exc}") from exc
    except OSError as exc:  # SerialException is an OSError
        raise DeviceUnavailable(f"scale port {url}: cannot open: {exc}") from exc
    return port


@dataclass(frozen=True)
class Exchange:
    events: list[ScaleEvent]
    received: int
    """Bytes that came in: with no reading, zero means silence and more means noise."""

    @property
    def readings(self) -> list[ScaleReading]:
        return [e for e in self.events if isinstance(e, ScaleReading)]


def exchange(port: SerialPort, codec: ScaleCodec, timeout: float) -> Exchange:
    """Poll once (or, for a streaming scale, wait for the next frame) and collect what comes back."""
    try:
        if not codec.continuous:
            codec.reset()
            port.reset_input_buffer()  # a late answer to the previous poll must not pass for this one
            port.write(codec.request())
        return _collect(port, codec, time.monotonic() + timeout)
    except PORT_ERRORS as exc:
        raise DeviceIOError(f"scale port I/O failed: {exc}") from exc


def _collect(port: SerialPort, codec: ScaleCodec, deadline: float) -> Exchange:
    events: list[ScaleEvent] = []
    received = 0
    while time.monotonic() < deadline:
        data = port.read(max(1, port.in_waiting))
        if not data:
            continue
        received += len(data)
        events += codec.feed(data)
        answer = codec.data_to_send()
        if answer:
            port.write(answer)
        if not codec.busy and any(isinstance(e, ScaleReading) for e in events):
            break
    return Exchange(events, received)
