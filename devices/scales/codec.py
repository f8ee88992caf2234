"""The shape every scale protocol has: bytes in, readings out, bytes to send back — and no I/O.

Like h11, a codec never touches a port: `request()` says what to send to poll, `feed()` takes whatever came
back (whole, in pieces, with noise) and `data_to_send()` holds what the protocol wants answered at once
(Dialog 06's ACK → EOT ENQ, a checksum handshake). A frame that is cut out but malformed becomes a
`ScaleReading` with `error` set and no weight; bytes between frames are dropped and counted in `skipped`.
Nothing a peer sends can make `feed` raise.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import ClassVar

from devices.errors import DeviceConfigError, ProtocolError
from devices.scales.framing import Framer, Incomplete
from devices.scales.reading import ScaleEvent, ScaleReading
from devices.scales.settings import SerialSettings


class ScaleCodec(ABC):
    """Base of every protocol; subclasses give the frame pattern and turn one frame into events."""

    name: ClassVar[str]
    title: ClassVar[str]
    """What an installer would recognise: maker, model family, unit."""
    defaults: ClassVar[SerialSettings]
    unit: ClassVar[str] = "kg"
    continuous: ClassVar[bool] = False
    """True when the scale streams on its own and `request()` is empty."""
    max_frame: ClassVar[int]
    """Longest frame in bytes: bounds the buffer, so noise can never make it grow."""

    def __init__(self, *, mask_bit7: bool | None = None) -> None:
        mask = self.defaults.bytesize == 7 if mask_bit7 is None else mask_bit7
        self._framer = Framer(
            self._frame_pattern(), self._incomplete(), max_len=self.max_frame, mask_bit7=mask
        )
        self._outgoing = bytearray()

    @classmethod
    @abstractmethod
    def _frame_pattern(cls) -> re.Pattern[bytes]: ...

    @classmethod
    @abstractmethod
    def _incomplete(cls) -> Incomplete: ...

    @abstractmethod
    def _on_frame(self, frame: bytes) -> list[ScaleEvent]:
        """Decode one frame; raise `ProtocolError` if it is malformed (it becomes an error reading).

        Messages stay free of frame bytes (those are in `raw`), so a status built from them is stable.
        """

    @abstractmethod
    def request(self) -> bytes:
        """What to send to ask for a weight; b"" for a scale that streams continuously."""

    def feed(self, data: bytes) -> list[ScaleEvent]:
        events: list[ScaleEvent] = []
        for frame in self._framer.feed(data):
            try:
                events.extend(self._on_frame(frame))
            except ProtocolError as exc:
                events.append(ScaleReading.failed(f"{self.name}: {exc}", frame, self.unit))
        return events

    def data_to_send(self) -> bytes:
        """Bytes the protocol wants sent now, in answer to what was fed; empty most of the time."""
        out = bytes(self._outgoing)
        self._outgoing.clear()
        return out

    def _send(self, data: bytes) -> None:
        self._outgoing += data

    @property
    def busy(self) -> bool:
        """True while a multi-step exchange is under way (a reading alone does not end it)."""
        return False

    @property
    def skipped(self) -> int:
        """Bytes dropped as noise so far: rising with no frames means a wrong setting or a bad line."""
        return self._framer.skipped

    @property
    def buffered(self) -> int:
        """Bytes held as the start of a frame still to complete (never more than `max_frame`)."""
        return len(self._framer.pending)

    def reset(self) -> None:
        """Start a fresh exchange: drop a partial frame and anything queued to send."""
        self._framer.reset()
        self._outgoing.clear()

    def restart(self) -> None:
        """Forget everything learned from the line too: after a reconnect or a silent spell."""
        self.reset()

    def zero(self) -> bytes:
        raise DeviceConfigError(f"scale protocol {self.name} has no zero command")

    def tare(self) -> bytes:
        raise DeviceConfigError(f"scale protocol {self.name} has no tare command")


_NUMBER = re.compile(rb" *([+-]?) *(\d+\.?\d*|\.\d+) *")


def parse_number(text: bytes, what: str = "weight") -> Decimal:
    """A space-padded, optionally signed decimal field, exactly; anything else is a ProtocolError."""
    match = _NUMBER.fullmatch(text)
    if not match:
        raise ProtocolError(f"{what} field is not a number")
    return Decimal((match[1] + match[2]).decode("ascii"))
