"""What a scale codec hands out: weight readings and the non-weight replies of a conversation.

Weights are `Decimal` end to end: a certified scale's figure must reach the till digit for digit, and
binary floats cannot promise that (legal-for-trade).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from devices.errors import ProtocolError

KG_PER_UNIT: dict[str, Decimal] = {
    "kg": Decimal(1),
    "g": Decimal("0.001"),
    "mg": Decimal("0.000001"),
    "lb": Decimal("0.45359237"),  # exact by definition (international pound, 1959)
    "oz": Decimal("0.028349523125"),  # lb / 16, also exact
}


def to_kg(value: Decimal, unit: str) -> Decimal:
    """Convert exactly: every factor above is a finite decimal, so no rounding happens here."""
    try:
        return value * KG_PER_UNIT[unit]
    except KeyError:
        raise ProtocolError(f"unknown weight unit {unit!r}") from None


@dataclass(frozen=True)
class ScaleReading:
    """One answer from a scale about the load on it.

    `weight_kg` is None whenever the scale did not send a weight (motion, overload, a status-only or
    malformed frame). `value`/`unit` keep the figure exactly as the scale sent it, for display and for the
    record; `weight_kg` is the same figure converted exactly to kilograms. `zero` is "centre of zero",
    `under` means below zero, `over` means over capacity. `error` is set when the frame was malformed or the
    scale reported a fault; such a reading never carries a weight. Dialog 06 style price-computing scales
    also send the unit price and the amount they computed (the till must use the scale's amount).
    """

    weight_kg: Decimal | None
    unit: str = "kg"
    stable: bool = False
    net: bool = False
    zero: bool = False
    under: bool = False
    over: bool = False
    error: str | None = None
    raw: bytes = b""
    value: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None

    @classmethod
    def weighed(
        cls, value: Decimal, unit: str, *, raw: bytes, stable: bool, net: bool = False
    ) -> ScaleReading:
        """A reading that carries a weight; `under` and `zero` follow from the figure itself."""
        return cls(
            weight_kg=to_kg(value, unit),
            unit=unit,
            stable=stable,
            net=net,
            zero=value == 0,
            under=value < 0,
            raw=raw,
            value=value,
        )

    @classmethod
    def failed(cls, error: str, raw: bytes, unit: str = "kg") -> ScaleReading:
        return cls(weight_kg=None, unit=unit, error=error, raw=raw)

    @property
    def sellable(self) -> bool:
        """Only a stable, positive, in-range weight with no error may enter a sale (legal-for-trade)."""
        return (
            self.error is None
            and self.stable
            and not self.under
            and not self.over
            and self.weight_kg is not None
            and self.weight_kg > 0
        )


@dataclass(frozen=True)
class ScaleReply:
    """A non-weight answer: ACK/NAK, a status code, a checksum verdict, a zero/tare confirmation, an echo.

    `kind` names the exchange ("ack", "nak", "status", "checksum", "zero", "tare", "echo"); `ok` says
    whether the scale accepted what was asked.
    """

    kind: str
    ok: bool
    detail: str = ""
    raw: bytes = b""


ScaleEvent = ScaleReading | ScaleReply
