"""Stock as people read it: stock and journal deltas count grams, millilitres or millimetres for what is
sold by the kilogram, litre or metre (`wire.BASE_UNITS`); a shopkeeper reads `4,650 kg`, not `4650`.
"""

from __future__ import annotations

from wire import BASE_UNITS


def stock_text(amount: int, unit: str, decimal: str = ",") -> str:
    """`24` for what is counted, `4,650 kg` for 4,650 g of ham, `-0,250 l` for oil sold below zero."""
    if not BASE_UNITS.get(unit):
        return str(amount)
    whole, rest = divmod(abs(amount), 1000)
    return f"{'-' if amount < 0 else ''}{whole}{decimal}{rest:03d} {unit}"


def change_text(before: int, after: int, unit: str, decimal: str = ",") -> str:
    """`24→23`, or `5,000→4,650 kg` with the unit said once."""
    if not BASE_UNITS.get(unit):
        return f"{before}→{after}"
    return f"{stock_text(before, unit, decimal).removesuffix(' ' + unit)}→{stock_text(after, unit, decimal)}"
