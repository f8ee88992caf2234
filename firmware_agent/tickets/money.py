"""Money on tickets: amounts are int cents everywhere; only the printed text knows about separators."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MoneyFormat:
    symbol: str = "€"
    decimal: str = ","
    thousands: str = "."
    symbol_first: bool = False

    def __call__(self, cents: int) -> str:
        """`1250` → `12,50 €` (EUR) or `£12.50` (GBP)."""
        units, rest = divmod(abs(cents), 100)
        number = f"{units:,}".replace(",", self.thousands) + f"{self.decimal}{rest:02d}"
        sign = "-" if cents < 0 else ""
        return f"{sign}{self.symbol}{number}" if self.symbol_first else f"{sign}{number} {self.symbol}"


EUR = MoneyFormat()
GBP = MoneyFormat("£", ".", ",", symbol_first=True)
