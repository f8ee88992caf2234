"""CAS 22-byte continuous format (CI-600D, PDI, NT-200 manuals) — reference §1.3.

`ST|US|OL , GS|NT , <id><lamp> , <8-byte weight> ' ' <unit> CR LF`, streamed without a request. The id and
lamp bytes are binary (the lamp may even equal CR or LF), so frames are cut by length from their header, not
on the terminator. Lamp bits: 6 stable, 4 hold, 2 gross, 1 tare, 0 zero point.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import ClassVar

from devices.errors import ProtocolError
from devices.scales.codec import ScaleCodec, parse_number
from devices.scales.framing import Incomplete, fixed
from devices.scales.reading import ScaleEvent, ScaleReading
from devices.scales.settings import SerialSettings

FRAME_LENGTH = 22
HEADERS = tuple(f"{a},{b},".encode() for a in ("ST", "US", "OL") for b in ("GS", "NT"))
LAMP_ZERO, LAMP_TARE, LAMP_GROSS, LAMP_HOLD, LAMP_STABLE = 0x01, 0x02, 0x04, 0x10, 0x40


class Cas22Codec(ScaleCodec):
    """Continuous: `request()` is empty; the driver just keeps reading."""

    name = "cas22"
    title = "CAS 22-byte continuous (CI-600D, PDI, NT-200)"
    defaults: ClassVar[SerialSettings] = SerialSettings(9600, 8, "N", 1)  # not in the reference: a guess
    continuous = True
    max_frame = FRAME_LENGTH

    @classmethod
    def _frame_pattern(cls) -> re.Pattern[bytes]:
        return re.compile(rb"(?:ST|US|OL),(?:GS|NT),[\s\S]{14}\r\n")

    @classmethod
    def _incomplete(cls) -> Incomplete:
        return fixed(FRAME_LENGTH, HEADERS)

    def request(self) -> bytes:
        return b""

    def _on_frame(self, frame: bytes) -> list[ScaleEvent]:
        if frame[8:9] != b"," or frame[17:18] != b" ":
            raise ProtocolError("malformed frame")
        unit = frame[18:20].decode("latin-1").strip()
        state, lamp = frame[0:2], frame[7]
        net = frame[3:5] == b"NT"
        if state == b"OL":
            return [ScaleReading(None, unit or "kg", stable=False, net=net, over=True, raw=frame)]
        value = parse_number(frame[9:17])
        reading = ScaleReading.weighed(value, unit, raw=frame, stable=state == b"ST", net=net)
        return [replace(reading, zero=reading.zero or bool(lamp & LAMP_ZERO))]
