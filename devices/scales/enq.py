"""Generic ENQ/DC1 (Ohaus Aviator "Type 1", CAS SW-II-like, many Asian POS scales) — reference §1.4.

`ENQ` → `ACK` (or `NAK`: not ready); `DC1` → `SOH STX STA SIGN W(6) U(2) BCC ETX EOT`, STA `S`/`U`
stable/unstable, SIGN space, `-` or `F` (overflow). BCC is the XOR of STA through the unit — the same as
the XOR of every byte but STX/ETX including SOH, since SOH⊕STX⊕ETX = 0. The BCC may be any byte, even
ETX, so the frame is cut by length.
"""

from __future__ import annotations

import enum
import re
from functools import reduce
from operator import xor
from typing import ClassVar

from devices.errors import ProtocolError
from devices.scales.codec import ScaleCodec, parse_number
from devices.scales.framing import Incomplete, fixed
from devices.scales.reading import ScaleEvent, ScaleReading, ScaleReply
from devices.scales.settings import SerialSettings

SOH, STX, ETX, EOT, ENQ, ACK, NAK, DC1 = (
    b"\x01",
    b"\x02",
    b"\x03",
    b"\x04",
    b"\x05",
    b"\x06",
    b"\x15",
    b"\x11",
)
FRAME_LENGTH = 13  # STX STA SIGN W×6 U×2 BCC ETX (SOH before and EOT after are noise to the framer)


def bcc(body: bytes) -> int:
    return reduce(xor, body, 0)


class _State(enum.Enum):
    IDLE = "idle"
    ENQUIRED = "enquired"  # ENQ sent, waiting for ACK/NAK
    REQUESTED = "requested"  # DC1 sent, waiting for the weight frame


class EnqCodec(ScaleCodec):
    name = "enq"
    title = "Generic ENQ/DC1 with BCC (Ohaus Aviator Type 1, Asian POS scales)"
    defaults: ClassVar[SerialSettings] = SerialSettings(9600, 8, "N", 1)
    max_frame = FRAME_LENGTH

    def __init__(self, *, mask_bit7: bool | None = None, handshake: bool = True) -> None:
        """`handshake=False` skips ENQ/ACK and sends DC1 straight away (many scales accept that)."""
        super().__init__(mask_bit7=mask_bit7)
        self._handshake = handshake
        self._state = _State.IDLE

    @classmethod
    def _frame_pattern(cls) -> re.Pattern[bytes]:
        return re.compile(rb"\x02[\s\S]{11}\x03|\x06|\x15")

    @classmethod
    def _incomplete(cls) -> Incomplete:
        return fixed(FRAME_LENGTH, (STX,))

    @property
    def busy(self) -> bool:
        return self._state is not _State.IDLE

    def request(self) -> bytes:
        self._state = _State.ENQUIRED if self._handshake else _State.REQUESTED
        return ENQ if self._handshake else DC1

    def reset(self) -> None:
        super().reset()
        self._state = _State.IDLE

    def _on_frame(self, frame: bytes) -> list[ScaleEvent]:
        if frame == ACK:
            if self._state is _State.ENQUIRED:
                self._state = _State.REQUESTED
                self._send(DC1)
            return [ScaleReply("ack", True, raw=frame)]
        if frame == NAK:
            self._state = _State.IDLE
            return [ScaleReply("nak", False, "scale not ready", frame), ScaleReading(None, raw=frame)]
        self._state = _State.IDLE
        return [self._weight(frame)]

    @staticmethod
    def _weight(frame: bytes) -> ScaleReading:
        body, check = frame[1:11], frame[11]
        if bcc(body) != check:
            raise ProtocolError("BCC mismatch")
        status, sign, digits, unit = body[0:1], body[1:2], body[2:8], body[8:10].decode("latin-1").strip()
        if status not in (b"S", b"U") or sign not in (b" ", b"-", b"F"):
            raise ProtocolError("malformed status or sign byte")
        if sign == b"F":
            return ScaleReading(None, unit, stable=False, over=True, raw=frame)
        value = parse_number(sign.strip() + digits)
        return ScaleReading.weighed(value, unit, raw=frame, stable=status == b"S")
