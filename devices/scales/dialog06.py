"""Dialog 06 (Bizerba/Mettler convention; Dibal, Cely, Ohaus Aviator) — reference §1.2.

A price-computing scale: the POS may send a unit price (record 01, with tare 03, with text 04, both 05),
asks for the weighing with `EOT ENQ` and gets record 02 (weight, unit price, amount) — or a NAK, after which
record 08 fetches the reason as record 09. At any time the scale may demand the checksum handshake
(record 11 → record 10). What the POS sends next is a pure function of (state, what came), kept in one
table, `_TRANSITIONS`, so the whole conversation is testable without a port.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import ClassVar

from devices.errors import DeviceConfigError, ProtocolError
from devices.scales.codec import ScaleCodec, parse_number
from devices.scales.framing import Incomplete, until
from devices.scales.reading import ScaleEvent, ScaleReading, ScaleReply
from devices.scales.settings import SerialSettings

STX, ETX, EOT, ENQ, ACK, NAK, ESC = b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\x15", b"\x1b"
WEIGHT_REQUEST = EOT + ENQ
STATUS_REQUEST = EOT + STX + b"08" + ETX
MAX_FRAME = 48

STATUS_CODES: Mapping[int, str] = {
    0: "no error",
    1: "general error",
    2: "parity error or buffer overflow",
    10: "invalid record number",
    11: "invalid unit price",
    12: "invalid tare",
    13: "invalid text",
    20: "scale in motion",
    21: "no weight change since last weighing",
    22: "measurement not finished or no valid article data",
    30: "weight below minimum",
    31: "weight below zero",
    32: "overload",
    33: "selling price overflow",
    34: "invalid weight",
}
WEIGHING_CONDITIONS = frozenset({0, 20, 21, 22, 30, 31, 32})
"""Record 09 codes that describe the load, not a fault: the scale is healthy, just not sellable now."""

UNITS: Mapping[bytes, tuple[str, int]] = {
    # s → (unit, decimal places of the 5 weight digits). s=0 is lb:oz in the spec; like Odoo's driver we
    # read it as lb/100 because no source documents the lb:oz digit layout.
    b"0": ("lb", 2),
    b"1": ("lb", 2),
    b"2": ("lb", 3),
    b"3": ("kg", 3),
}


def record(number: bytes, *fields: bytes) -> bytes:
    """A POS → scale record: `EOT STX nn (ESC field)* ETX`."""
    return EOT + STX + number + b"".join(ESC + f for f in fields) + ETX


def _digits(value: Decimal, scale: int, width: int, what: str) -> bytes:
    scaled = value * scale
    if scaled != scaled.to_integral_value() or not 0 <= scaled < 10**width:
        raise DeviceConfigError(f"Dialog 06 {what} {value} does not fit {width} digits at 1/{scale}")
    return f"{int(scaled):0{width}d}".encode()


@dataclass(frozen=True)
class Article:
    """What the POS tells a price-computing scale before a weighing (prices in currency units)."""

    unit_price: Decimal
    tare_kg: Decimal | None = None
    text: str | None = None

    def encode(self) -> bytes:
        price = _digits(self.unit_price, 100, 6, "unit price")
        tare = _digits(self.tare_kg, 1000, 4, "tare") if self.tare_kg is not None else None
        text = self._text()
        if tare is None and text is None:
            return record(b"01", price, b"")
        if text is None:
            return record(b"03", price, tare or b"")
        if tare is None:
            return record(b"04", price, text)
        return record(b"05", price, tare, text)

    def _text(self) -> bytes | None:
        if self.text is None:
            return None
        if len(self.text) > 13 or not self.text.isascii() or not self.text.isprintable():
            raise DeviceConfigError(f"Dialog 06 article text {self.text!r}: at most 13 printable ASCII chars")
        return self.text.ljust(13).encode("ascii")


def _rotl16(value: int, n: int) -> int:
    n %= 16
    return ((value << n) | (value >> (16 - n))) & 0xFFFF


def _rotr16(value: int, n: int) -> int:
    return _rotl16(value, 16 - n % 16)


def z_nibbles(z: bytes) -> tuple[int, int]:
    """Z as one raw byte (high, low nibble) or as two characters 0x30+n (Cely sends e.g. ";2")."""
    if len(z) >= 2:
        return z[0] & 0x0F, z[1] & 0x0F
    if len(z) == 1:
        return z[0] >> 4, z[0] & 0x0F
    return 0, 0


def checksum_record(z: bytes, cs: int = 0x4711, kw: int = 0xF336) -> bytes:
    """Record 10: CS rotated left by Z's high nibble, KW rotated right by its low nibble, as hex."""
    high, low = z_nibbles(z)
    return record(b"10", f"{_rotl16(cs, high):04X}{_rotr16(kw, low):04X}".encode())


class State(enum.Enum):
    IDLE = "idle"
    PRICE_SENT = "price sent"  # waiting for ACK/NAK
    WEIGHT_REQUESTED = "weight requested"  # waiting for record 02 or NAK
    STATUS_REQUESTED = "status requested"  # waiting for record 09
    CHECKSUM_SENT = "checksum sent"  # waiting for record 11 with the verdict


class Action(enum.Enum):
    """What the POS sends next; the value is the bytes."""

    NOTHING = b""
    REQUEST_WEIGHT = WEIGHT_REQUEST
    REQUEST_STATUS = STATUS_REQUEST
    RELEASE = EOT  # one driver sends it after every scale reply; harmless, and the spec's vector shows it


# (state, what came) → (next state, what to send). Record 11 is handled beside the table (any state).
_TRANSITIONS: Mapping[tuple[State, str], tuple[State, Action]] = {
    (State.PRICE_SENT, "ack"): (State.WEIGHT_REQUESTED, Action.REQUEST_WEIGHT),
    (State.PRICE_SENT, "nak"): (State.STATUS_REQUESTED, Action.REQUEST_STATUS),
    (State.WEIGHT_REQUESTED, "nak"): (State.STATUS_REQUESTED, Action.REQUEST_STATUS),
    (State.WEIGHT_REQUESTED, "02"): (State.IDLE, Action.RELEASE),
    (State.STATUS_REQUESTED, "09"): (State.IDLE, Action.NOTHING),
}


class Dialog06Codec(ScaleCodec):
    """POS side of Dialog 06. Give an `Article` when the scale insists on a unit price (status 22)."""

    name = "dialog06"
    title = "Dialog 06 price-computing (Bizerba, Mettler, Dibal, Cely, Ohaus)"
    defaults: ClassVar[SerialSettings] = SerialSettings(9600, 7, "O", 1)
    max_frame = MAX_FRAME
    units: ClassVar[Mapping[bytes, tuple[str, int]]] = UNITS

    def __init__(
        self,
        *,
        mask_bit7: bool | None = None,
        article: Article | None = None,
        cs: int = 0x4711,
        kw: int = 0xF336,
        rotate: bool = True,
    ) -> None:
        super().__init__(mask_bit7=mask_bit7)
        self.article = article
        self._cs, self._kw, self._rotate = cs, kw, rotate
        self.state = State.IDLE
        self._interrupted: tuple[State, bytes] | None = None
        self._last_sent = b""

    @classmethod
    def _frame_pattern(cls) -> re.Pattern[bytes]:
        return re.compile(rb"\x02[^\x02\x03]{0,46}\x03|\x06|\x15")

    @classmethod
    def _incomplete(cls) -> Incomplete:
        return until(ETX, STX, MAX_FRAME)

    @property
    def busy(self) -> bool:
        return self.state is not State.IDLE

    def request(self) -> bytes:
        if self.article is not None:
            return self._start(State.PRICE_SENT, self.article.encode())
        return self._start(State.WEIGHT_REQUESTED, WEIGHT_REQUEST)

    def zero(self) -> bytes:
        raise DeviceConfigError("Dialog 06 has no zero command: zero the scale on its keypad")

    def reset(self) -> None:
        super().reset()
        self.state, self._interrupted = State.IDLE, None

    def _start(self, state: State, data: bytes) -> bytes:
        self.state, self._last_sent = state, data
        return data

    def _on_frame(self, frame: bytes) -> list[ScaleEvent]:
        if frame == ACK:
            return self._advance("ack", [ScaleReply("ack", True, raw=frame)])
        if frame == NAK:
            return self._advance("nak", [ScaleReply("nak", False, raw=frame)])
        fields = frame[1:-1].split(ESC)
        number = fields[0]
        if number == b"02":
            return self._advance("02", [self._result(fields, frame)])
        if number == b"09":
            return self._advance("09", self._status(fields, frame))
        if number == b"11":
            return self._checksum(fields, frame)
        raise ProtocolError("unexpected record number")

    def _advance(self, came: str, events: list[ScaleEvent]) -> list[ScaleEvent]:
        self.state, action = _TRANSITIONS.get((self.state, came), (self.state, Action.NOTHING))
        if action is not Action.NOTHING:
            self._last_sent = action.value
            self._send(action.value)
        return events

    def _result(self, fields: list[bytes], frame: bytes) -> ScaleReading:
        if len(fields) != 5 or fields[1] not in self.units:
            raise ProtocolError("malformed record 02")
        unit, places = self.units[fields[1]]
        value = self._unsigned(fields[2], "weight").scaleb(-places)
        price = self._unsigned(fields[3], "unit price").scaleb(-2)
        amount = self._unsigned(fields[4], "amount").scaleb(-2)
        reading = ScaleReading.weighed(value, unit, raw=frame, stable=True)
        return replace(reading, unit_price=price, amount=amount)

    @staticmethod
    def _unsigned(text: bytes, what: str) -> Decimal:
        if not (text.isdigit() and 1 <= len(text) <= 8):
            raise ProtocolError(f"{what} field is not a number")
        return parse_number(text, what)

    def _status(self, fields: list[bytes], frame: bytes) -> list[ScaleEvent]:
        if len(fields) != 2 or len(fields[1]) != 2 or not fields[1].isdigit():
            raise ProtocolError("malformed record 09")
        code = int(fields[1])
        text = f"{code:02d} {STATUS_CODES.get(code, 'unknown status')}"
        reading = ScaleReading(
            weight_kg=None,
            unit=self.unit,
            stable=code not in (20, 22),
            zero=code == 30,
            under=code == 31,
            over=code == 32,
            error=None if code in WEIGHING_CONDITIONS else f"scale status {text}",
            raw=frame,
        )
        return [ScaleReply("status", code in WEIGHING_CONDITIONS, text, frame), reading]

    def _checksum(self, fields: list[bytes], frame: bytes) -> list[ScaleEvent]:
        verdict = fields[1][:1] if len(fields) == 2 else b""
        if verdict == b"2":
            if self.state is not State.CHECKSUM_SENT:
                self._interrupted = (self.state, self._last_sent)
            self.state = State.CHECKSUM_SENT
            z = fields[1][1:] if self._rotate else b""
            self._send(checksum_record(z, self._cs, self._kw))
            return [ScaleReply("checksum", True, "checksum requested", frame)]
        if verdict == b"1":
            self._resume()
            return [ScaleReply("checksum", True, "checksum accepted", frame)]
        if verdict == b"0":
            self.state, self._interrupted = State.IDLE, None
            return [ScaleReading.failed("dialog06: scale rejected the POS checksum (CS/KW)", frame)]
        raise ProtocolError("malformed record 11")

    def _resume(self) -> None:
        """After an accepted checksum, repeat what the handshake interrupted (price record or EOT ENQ)."""
        interrupted, self._interrupted = self._interrupted, None
        if self.state is not State.CHECKSUM_SENT:
            return  # an unsolicited "valid" (after power-on): nothing was interrupted
        if interrupted is None or interrupted[0] is State.IDLE:
            self.state = State.IDLE
            return
        self.state, self._last_sent = interrupted
        self._send(self._last_sent)


CAS_ECR12_UNITS: Mapping[bytes, tuple[str, int]] = {
    b"3": ("kg", 3),
    b"2": ("g", 3),
    b"1": ("oz", 3),
    b"0": ("lb", 3),
}


class CasEcr12Codec(Dialog06Codec):
    """CAS PDN "ECR type 12" (reference §1.3): Dialog-06-like, its own unit codes, weight always ÷1000.

    The unit codes and divisors come from one source (Peakboard's driver); `g` ÷1000 is unverified.
    """

    name = "casecr12"
    title = "CAS PDN ECR type 12 (Dialog-06-like, EOT ENQ)"
    units = CAS_ECR12_UNITS

    def zero(self) -> bytes:
        return EOT + STX + b"31" + ETX
