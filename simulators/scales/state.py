"""The physical side of a simulated scale: what lies on the platter and what is wrong with the scale."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

GARBAGE = b"#%&~\x7f#%&~\x7f"
"""Noise that can never form a frame in any supported protocol (no STX/ETX/CR/LF/ACK/NAK, no digits)."""


class Fault(enum.Enum):
    NONE = "none"
    GARBAGE = "garbage"  # every answer replaced by noise holding no frame
    CORRUPT = "corrupt"  # every answer's last digit replaced by '#': malformed, never a weight
    PARTIAL = "partial"  # only the first half of every answer is sent
    NOISE = "noise"  # good answers wrapped in noise: readings must still come through


@dataclass
class ScaleState:
    """Mutable: the simulator guards it with a lock; responders read and (for zero/tare) change it."""

    weight_kg: Decimal = Decimal("0.000")
    stable: bool = True
    net: bool = False
    over: bool = False
    powered: bool = True
    fault: Fault = Fault.NONE
    unit_price: Decimal | None = None

    @property
    def under(self) -> bool:
        return self.weight_kg < 0

    def zero(self) -> None:
        self.weight_kg, self.net = Decimal("0.000"), False

    def tare(self) -> Decimal:
        """Take the load as tare: the display goes to net zero. Returns the tare taken."""
        taken, self.weight_kg, self.net = self.weight_kg, Decimal("0.000"), True
        return taken


def apply_fault(fault: Fault, frame: bytes) -> bytes:
    """What actually reaches the wire when the scale has `fault` and meant to send `frame`."""
    if fault is Fault.GARBAGE:
        return (GARBAGE * (len(frame) // len(GARBAGE) + 1))[: max(len(frame), 4)]
    if fault is Fault.CORRUPT:
        digits = [i for i, b in enumerate(frame) if 0x30 <= b <= 0x39]
        return frame[: digits[-1]] + b"#" + frame[digits[-1] + 1 :] if digits else frame
    if fault is Fault.PARTIAL:
        return frame[: len(frame) // 2]
    if fault is Fault.NOISE:
        return b"\x00#~" + frame + b"~#"
    return frame


def with_parity(data: bytes, parity: str) -> bytes:
    """Set bit 7 as a 7E1/7O1 scale's parity bit, as an 8N1 reader would see it."""
    odd = parity == "O"
    return bytes(b | (0x80 if (b.bit_count() % 2 == 1) != odd else 0) for b in data)
