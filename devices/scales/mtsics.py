"""Mettler-Toledo MT-SICS (bench and lab balances, IND terminals) — reference §1.6.

ASCII commands and replies, each terminated CR LF. The poll is `SI` (weight now, stable or not) rather than
`S`, which makes the balance wait for stability and would stall the poll. Replies are recognised anchored to
the end of the line: every reply opens with a capital letter, so noise before one is skipped, and noise in
front of a reply on the same line does not hide it.
"""

from __future__ import annotations

import re
import string
from typing import ClassVar

from devices.errors import DeviceConfigError, ProtocolError
from devices.scales.codec import ScaleCodec, parse_number
from devices.scales.framing import Incomplete, line
from devices.scales.reading import ScaleEvent, ScaleReading, ScaleReply
from devices.scales.settings import SerialSettings

CRLF = b"\r\n"
MAX_LINE = 64
_WEIGHT = re.compile(rb"S ([SD]) +([-+]? *[0-9.]+) +([A-Za-z]+) *\r?\n\Z")
_WEIGHT_STATUS = re.compile(rb"S ([I+\-]) *\r?\n\Z")
_TARE = re.compile(rb"TI? (?:([SD]) +([-+]? *[0-9.]+) +([A-Za-z]+)|([I+\-])) *\r?\n\Z")
_ZERO = re.compile(rb"ZI? ([ASDI+\-]) *\r?\n\Z")
_ERROR = re.compile(rb"(E[STL]) *\r?\n\Z")
ERRORS = {b"ES": "syntax error", b"ET": "transmission error", b"EL": "logical error"}
_REFUSALS = {b"I": "not executable now", b"+": "upper limit exceeded", b"-": "lower limit exceeded"}


class MtSicsCodec(ScaleCodec):
    name = "mtsics"
    title = "Mettler-Toledo MT-SICS (S/SI, Z, T)"
    defaults: ClassVar[SerialSettings] = SerialSettings(9600, 8, "N", 1)
    max_frame = MAX_LINE

    def __init__(self, *, mask_bit7: bool | None = None, command: str = "SI") -> None:
        super().__init__(mask_bit7=mask_bit7)
        if command not in ("S", "SI"):
            raise DeviceConfigError(f"MT-SICS poll command {command!r} must be 'S' or 'SI'")
        self._command = command.encode() + CRLF

    @classmethod
    def _frame_pattern(cls) -> re.Pattern[bytes]:
        return re.compile(rb"[A-Z][^\n]{0,62}\n")

    @classmethod
    def _incomplete(cls) -> Incomplete:
        return line(b"\n", MAX_LINE, starts=string.ascii_uppercase.encode())

    def request(self) -> bytes:
        return self._command

    def zero(self) -> bytes:
        return b"Z" + CRLF

    def tare(self) -> bytes:
        return b"T" + CRLF

    def _on_frame(self, frame: bytes) -> list[ScaleEvent]:
        for pattern, decode in (
            (_ERROR, self._error),
            (_TARE, self._tare),
            (_ZERO, self._zero),
            (_WEIGHT, self._weight),
            (_WEIGHT_STATUS, self._weight_status),
        ):
            match = pattern.search(frame)
            if match:
                return [decode(match, frame)]
        raise ProtocolError("unrecognised reply")

    @staticmethod
    def _error(match: re.Match[bytes], frame: bytes) -> ScaleEvent:
        return ScaleReading.failed(f"mtsics: {match[1].decode()} {ERRORS[match[1]]}", frame)

    @staticmethod
    def _weight(match: re.Match[bytes], frame: bytes) -> ScaleEvent:
        value = parse_number(match[2].replace(b" ", b""))
        return ScaleReading.weighed(value, match[3].decode(), raw=frame, stable=match[1] == b"S")

    @staticmethod
    def _weight_status(match: re.Match[bytes], frame: bytes) -> ScaleEvent:
        kind = match[1]
        return ScaleReading(None, stable=False, under=kind == b"-", over=kind == b"+", raw=frame)

    @staticmethod
    def _tare(match: re.Match[bytes], frame: bytes) -> ScaleEvent:
        if match[4]:
            return ScaleReply("tare", False, _REFUSALS[match[4]], frame)
        return ScaleReply("tare", True, f"{match[2].decode().replace(' ', '')} {match[3].decode()}", frame)

    @staticmethod
    def _zero(match: re.Match[bytes], frame: bytes) -> ScaleEvent:
        code = match[1]
        return ScaleReply("zero", code in b"ASD", _REFUSALS.get(code, "zeroed"), frame)
