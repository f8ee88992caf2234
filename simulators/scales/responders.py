"""What each protocol's scale answers, given what the host sent: the scale side, sans-IO.

A responder takes host bytes (in any pieces) and the `ScaleState`, and returns the frames to send back;
the simulator applies faults and puts them on the line. Streaming scales produce frames from `tick`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from devices.errors import DeviceConfigError
from devices.scales.dialog06 import checksum_record
from devices.scales.enq import bcc
from devices.scales.reading import KG_PER_UNIT
from simulators.scales.state import ScaleState

STX, ETX, EOT, ENQ, ACK, NAK, ESC = b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\x15", b"\x1b"


class Responder(ABC):
    continuous = False

    @abstractmethod
    def receive(self, data: bytes, state: ScaleState) -> list[bytes]: ...

    def tick(self, state: ScaleState) -> list[bytes]:
        return []


class _LineResponder(Responder):
    """Buffers host bytes and hands over each complete command (7-bit, split on `terminator`)."""

    terminator = b"\n"

    def __init__(self) -> None:
        self._buffer = b""

    def receive(self, data: bytes, state: ScaleState) -> list[bytes]:
        self._buffer += bytes(b & 0x7F for b in data)
        *commands, self._buffer = self._buffer.split(self.terminator)
        return [frame for command in commands for frame in self.command(command.strip(b"\r"), state)]

    @abstractmethod
    def command(self, command: bytes, state: ScaleState) -> list[bytes]: ...


class ToledoResponder(Responder):
    """8217 (kg, `00.000`) and 8213 (lb, `000.00`): one letter per command, echo mode after `E`."""

    def __init__(self, unit: str = "kg") -> None:
        self._unit = unit
        self._echo = False

    def receive(self, data: bytes, state: ScaleState) -> list[bytes]:
        out: list[bytes] = []
        for char in bytes(b & 0x7F for b in data):
            out += self._one(bytes([char]), state)
        return out

    def _one(self, char: bytes, state: ScaleState) -> list[bytes]:
        if self._echo:
            self._echo = char != b"F"
            return [char] if self._echo else []
        if char == b"E":
            self._echo = True
            return [STX + b"E\r"]
        if char == b"W":
            return [self.weight_frame(state)]
        if char == b"Z":
            state.zero()
        elif char == b"T":
            state.tare()
        elif char == b"C":
            state.net = False
        return []

    def weight_frame(self, state: ScaleState) -> bytes:
        status = 0x40 | (0x20 if state.net else 0)
        if state.over or not state.stable or state.under:
            status |= 0x02 if state.over else 0x01 if not state.stable else 0x04
            return STX + b"?" + bytes([status]) + b"\r"
        if self._unit == "lb":
            text = f"{_in_unit(state.weight_kg, 'lb', 2):06.2f}"
        else:
            text = f"{state.weight_kg.quantize(Decimal('0.001')):06.3f}"
        return STX + text.encode() + (b"N" if state.net else b"") + b"\r"


def _in_unit(weight_kg: Decimal, unit: str, places: int) -> Decimal:
    return (weight_kg / KG_PER_UNIT[unit]).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


class Dialog06Responder(Responder):
    """A price-computing scale: unit price records, EOT ENQ weighings, status 08/09, checksum 11/10."""

    def __init__(
        self,
        *,
        require_price: bool = False,
        checksum_every: int = 0,
        z: bytes = b";2",
        cs: int = 0x4711,
        kw: int = 0xF336,
        minimum_kg: Decimal = Decimal("0.040"),
    ) -> None:
        self.require_price, self.checksum_every, self.z = require_price, checksum_every, z
        self._cs, self._kw, self._minimum = cs, kw, minimum_kg
        self._buffer = b""
        self._status = 0
        self._weighings = 0
        self.checksum_ok: bool | None = None

    def receive(self, data: bytes, state: ScaleState) -> list[bytes]:
        self._buffer += bytes(b & 0x7F for b in data).replace(EOT, b"")
        out: list[bytes] = []
        while self._buffer:
            if self._buffer[:1] == ENQ:
                self._buffer = self._buffer[1:]
                out += self._weighing(state)
            elif self._buffer[:1] == STX:
                end = self._buffer.find(ETX)
                if end < 0:
                    break
                record, self._buffer = self._buffer[1:end], self._buffer[end + 1 :]
                out += self._record(record.split(ESC), state)
            else:
                self._buffer = self._buffer[1:]
        return out

    def _record(self, fields: list[bytes], state: ScaleState) -> list[bytes]:
        number = fields[0]
        if number in (b"01", b"03", b"04", b"05"):
            price = fields[1] if len(fields) > 1 else b""
            if len(price) != 6 or not price.isdigit():
                return self._nak(11)
            state.unit_price = Decimal(price.decode()).scaleb(-2)
            return [ACK]
        if number == b"08":
            return [STX + b"09" + ESC + f"{self._status:02d}".encode() + ETX]
        if number == b"10":
            expected = checksum_record(self.z, self._cs, self._kw)
            self.checksum_ok = EOT + STX + ESC.join(fields) + ETX == expected
            return [STX + b"11" + ESC + (b"1" if self.checksum_ok else b"0") + ETX]
        if number == b"31":
            state.zero()
            return [ACK]
        return self._nak(10)

    def _nak(self, code: int) -> list[bytes]:
        self._status = code
        return [NAK]

    def _weighing(self, state: ScaleState) -> list[bytes]:
        self._weighings += 1
        if self.checksum_every and self._weighings % self.checksum_every == 0:
            return [STX + b"11" + ESC + b"2" + self.z + ETX]
        code = self._condition(state)
        if code:
            return self._nak(code)
        self._status = 0
        price = state.unit_price or Decimal(0)
        weight = state.weight_kg.quantize(Decimal("0.001"))
        amount = (weight * price).quantize(Decimal("0.01"), ROUND_HALF_UP)
        fields = (b"3", _digits(weight, 3, 5), _digits(price, 2, 6), _digits(amount, 2, 6))
        return [STX + b"02" + b"".join(ESC + f for f in fields) + ETX]

    def _condition(self, state: ScaleState) -> int:
        """The record 09 code for why this weighing cannot be sold, or 0."""
        for code, failing in (
            (20, not state.stable),
            (32, state.over or state.weight_kg >= 100),
            (31, state.under),
            (30, state.weight_kg < self._minimum),
            (22, self.require_price and state.unit_price is None),
        ):
            if failing:
                return code
        return 0


def _digits(value: Decimal, places: int, width: int) -> bytes:
    return f"{int(value.scaleb(places)):0{width}d}".encode()


class EnqResponder(Responder):
    """ENQ → ACK, DC1 → `SOH STX STA SIGN W(6) kg BCC ETX EOT`."""

    def receive(self, data: bytes, state: ScaleState) -> list[bytes]:
        out: list[bytes] = []
        for byte in bytes(b & 0x7F for b in data):
            if byte == 0x05:
                out.append(ACK)
            elif byte == 0x11:
                out.append(self.weight_frame(state))
        return out

    @staticmethod
    def weight_frame(state: ScaleState) -> bytes:
        status = b"S" if state.stable else b"U"
        sign = b"F" if state.over else b"-" if state.under else b" "
        weight = f"{abs(state.weight_kg).quantize(Decimal('0.001')):06.3f}".encode()
        body = status + sign + weight + b"kg"
        return b"\x01" + STX + body + bytes([bcc(body)]) + ETX + EOT


class MtSicsResponder(_LineResponder):
    def command(self, command: bytes, state: ScaleState) -> list[bytes]:
        handlers: dict[bytes, Callable[[ScaleState], bytes]] = {
            b"S": lambda s: self._weight(s, wait=True),
            b"SI": lambda s: self._weight(s, wait=False),
            b"Z": self._zero,
            b"T": self._tare,
        }
        handler = handlers.get(command)
        return [(handler(state) if handler else b"ES") + b"\r\n"]

    @staticmethod
    def _weight(state: ScaleState, *, wait: bool) -> bytes:
        if state.over or state.under:
            return b"S +" if state.over else b"S -"
        if not state.stable and wait:
            return b"S I"  # a real balance would wait for stability; answering "busy" keeps the sim simple
        return b"S " + (b"S" if state.stable else b"D") + _sics_value(state.weight_kg)

    @staticmethod
    def _zero(state: ScaleState) -> bytes:
        state.zero()
        return b"Z A"

    @staticmethod
    def _tare(state: ScaleState) -> bytes:
        return b"T S" + _sics_value(state.tare())


def _sics_value(weight_kg: Decimal) -> bytes:
    return f"{weight_kg.quantize(Decimal('0.001')):>11} kg".encode()


class Cas22Responder(Responder):
    """Streams `ST,GS,<id><lamp>,<weight> kg CR LF` every tick; ignores the host."""

    continuous = True

    def receive(self, data: bytes, state: ScaleState) -> list[bytes]:
        return []

    def tick(self, state: ScaleState) -> list[bytes]:
        head = b"OL" if state.over else b"ST" if state.stable else b"US"
        lamp = (
            (0x40 if state.stable else 0)
            | (0x02 if state.net else 0x04)
            | (0x01 if state.weight_kg == 0 else 0)
        )
        weight = f"{state.weight_kg.quantize(Decimal('0.001')):>8}".encode()[:8]
        return [
            head + b"," + (b"NT" if state.net else b"GS") + b",1" + bytes([lamp]) + b"," + weight + b" kg\r\n"
        ]


RESPONDERS: Mapping[str, Callable[..., Responder]] = {
    "toledo8217": lambda **kw: ToledoResponder("kg", **kw),
    "toledo8213": lambda **kw: ToledoResponder("lb", **kw),
    "dialog06": Dialog06Responder,
    "casecr12": Dialog06Responder,
    "cas22": Cas22Responder,
    "mtsics": MtSicsResponder,
    "enq": EnqResponder,
}


def make_responder(protocol: str, **options: Any) -> Responder:
    try:
        factory = RESPONDERS[protocol]
    except KeyError:
        raise DeviceConfigError(
            f"no simulator for scale protocol {protocol!r}; valid: {', '.join(sorted(RESPONDERS))}"
        ) from None
    return factory(**options)
