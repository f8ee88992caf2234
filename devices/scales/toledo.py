"""Mettler-Toledo 8217 ("weight only", POS) and 8213 (lb) — reference §1.1.

Host sends one ASCII letter (`W` weight, `Z` zero, `T` tare, `C` clear tare); the scale answers
`STX weight ['N'] CR` when it has a reportable weight, `STX '?' status CR` when it has not. Only bits 0–5 of
the status byte are decoded: bit 6 is set in every real capture and its meaning is unverified.
"""

from __future__ import annotations

import enum
import re
from dataclasses import replace
from typing import ClassVar

from devices.errors import ProtocolError
from devices.scales.codec import ScaleCodec, parse_number
from devices.scales.framing import MASK_7BIT, Incomplete, until
from devices.scales.reading import ScaleEvent, ScaleReading, ScaleReply
from devices.scales.settings import SerialSettings

STX, CR = b"\x02", b"\r"
MAX_FRAME = 16
_WEIGHT = re.compile(rb"( *[0-9.]+) *(N?)")

PROBE_REQUEST = b"Ehello"
PROBE_REPLY = b"\x02E\rhello"
PROBE_EXIT = b"F"  # leaves echo mode (meaning unverified, reference §1.1)


class ToledoStatus(enum.IntFlag):
    """The status byte after `?` (bit 7 is parity, bit 6 unverified, both ignored)."""

    MOTION = 0x01
    OVER_CAPACITY = 0x02
    UNDER_ZERO = 0x04
    OUTSIDE_ZERO_CAPTURE = 0x08
    CENTER_OF_ZERO = 0x10
    NET = 0x20

    @classmethod
    def decode(cls, byte: int) -> ToledoStatus:
        return cls(byte & 0x3F)


_NOT_A_PLAIN_WEIGHT = (
    ToledoStatus.MOTION
    | ToledoStatus.OVER_CAPACITY
    | ToledoStatus.UNDER_ZERO
    | ToledoStatus.OUTSIDE_ZERO_CAPTURE
    | ToledoStatus.CENTER_OF_ZERO
)


def probe_request() -> bytes:
    """What discovery sends to tell a Toledo 8217 from other devices on a port: the echo test."""
    return PROBE_REQUEST


def probe_matches(data: bytes) -> bool:
    """True when `data` (read as 8N1 or 7E1) holds the 8217's echo answer `STX 'E' CR "hello"`."""
    return PROBE_REPLY in data.translate(MASK_7BIT)


class _ToledoCodec(ScaleCodec):
    defaults: ClassVar[SerialSettings] = SerialSettings(9600, 7, "E", 1)
    max_frame = MAX_FRAME

    def __init__(self, *, mask_bit7: bool | None = None, keep_last: bool = True) -> None:
        """`keep_last`: some scales answer a repeated `W` with a bare status until the weight changes
        (pywebdriver); such an all-clear status then repeats the last weight instead of hiding it."""
        super().__init__(mask_bit7=mask_bit7)
        self._keep_last = keep_last
        self._last: ScaleReading | None = None

    def restart(self) -> None:
        super().restart()
        self._last = None  # the load may have changed while the line was down

    @classmethod
    def _frame_pattern(cls) -> re.Pattern[bytes]:
        return re.compile(rb"\x02(?:\?[^\x02\r]|[^\x02\r?]{0,14})\r")

    @classmethod
    def _incomplete(cls) -> Incomplete:
        return until(CR, STX, MAX_FRAME)

    def request(self) -> bytes:
        return b"W"

    def zero(self) -> bytes:
        return b"Z"

    def tare(self) -> bytes:
        return b"T"

    def clear_tare(self) -> bytes:
        return b"C"

    def _on_frame(self, frame: bytes) -> list[ScaleEvent]:
        body = frame[1:-1]
        if body[:1] == b"?":
            return [self._status(ToledoStatus.decode(body[1]), frame)]
        if body == b"E":
            return [ScaleReply("echo", True, "echo mode", frame)]
        match = _WEIGHT.fullmatch(body)
        if not match:
            self._last = None
            raise ProtocolError("malformed weight frame")
        value = parse_number(match[1])
        reading = ScaleReading.weighed(value, self.unit, raw=frame, stable=True, net=bool(match[2]))
        self._last = reading
        return [reading]

    def _status(self, status: ToledoStatus, frame: bytes) -> ScaleReading:
        net = ToledoStatus.NET in status
        last, self._last = self._last, None
        if self._keep_last and last is not None and not status & _NOT_A_PLAIN_WEIGHT and last.net == net:
            self._last = last
            return replace(last, raw=frame)
        return ScaleReading(
            weight_kg=None,
            unit=self.unit,
            stable=ToledoStatus.MOTION not in status,
            net=net,
            zero=ToledoStatus.CENTER_OF_ZERO in status,
            under=ToledoStatus.UNDER_ZERO in status,
            over=ToledoStatus.OVER_CAPACITY in status,
            error="outside zero-capture range" if ToledoStatus.OUTSIDE_ZERO_CAPTURE in status else None,
            raw=frame,
        )


class Toledo8217Codec(_ToledoCodec):
    """Weights in kg, e.g. `STX "01.234" CR`; `N` suffix = net."""

    name = "toledo8217"
    title = "Mettler-Toledo 8217 weight-only, kg (W/Z/T/C)"
    unit = "kg"

    probe_request = staticmethod(probe_request)
    probe_matches = staticmethod(probe_matches)


class Toledo8213Codec(_ToledoCodec):
    """Weights in lb, `STX "XXX.XX" CR` (PS60 default 9600 7E1); same status byte as the 8217."""

    name = "toledo8213"
    title = "Mettler-Toledo 8213, lb (W)"
    unit = "lb"
