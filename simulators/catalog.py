"""A small grocer's catalog and a day at its till: the demo's data, also used by tests and benchmarks.

Barcodes carry real EAN-13 check digits; the ham is sold by weight through a scale label
(`20IIIIIWWWWWC`: item 00042, weight in grams), the layout the box uses by default; the cheese is weighed on
the scale beside the till, whose stable reading the scan takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from devices.barcodes import Cancel, Mode, Quantity, SetMode, encode_command, with_check_digit


@dataclass(frozen=True)
class SampleProduct:
    sku: str
    name: str
    price_cents: int
    unit: str  # "each", or "kg" with stock in grams
    stock: int
    barcodes: tuple[str, ...]


SAMPLE_CATALOG: tuple[SampleProduct, ...] = (
    SampleProduct("OIL-1L", "Aceite de oliva virgen extra 1 L", 1095, "each", 24, ("8410000000016",)),
    SampleProduct("MILK-1L", "Leche entera 1 L", 99, "each", 48, ("8410000000023",)),
    SampleProduct("BREAD", "Pan de pueblo", 180, "each", 15, ("8410000000030",)),
    SampleProduct("COFFEE", "Café molido 250 g", 349, "each", 20, ("8410000000047",)),
    SampleProduct("EGGS-12", "Huevos camperos (12)", 325, "each", 12, ("8410000000054",)),
    SampleProduct("WATER", "Agua mineral 1,5 L", 55, "each", 60, ("8410000000061",)),
    SampleProduct("CHOCO", "Chocolate negro 70 %", 215, "each", 3, ("8410000000078",)),
    SampleProduct("HAM", "Jamón serrano al corte", 2490, "kg", 5000, ("2000042000004",)),
    SampleProduct("CHEESE", "Queso manchego", 1890, "kg", 3000, ("8410000000085",)),  # weighed at the till
)

UNKNOWN_EAN = "8410000000108"  # a valid EAN-13 the shop never entered
BAD_CHECK_DIGIT = "8410000000017"

DAY_AT_THE_TILL: tuple[str, ...] = (
    "8410000000016",  # olive oil
    "8410000000023",  # milk
    encode_command(Quantity(6)),
    "8410000000061",  # six bottles of water
    "2000042003500",  # 350 g of ham from the scale's label
    "8410000000085",  # cheese weighed on the till's scale
    UNKNOWN_EAN,
    BAD_CHECK_DIGIT,
    encode_command(SetMode(Mode.RECEIVE)),
    encode_command(Quantity(12)),
    "8410000000054",  # a delivery of 12 boxes of eggs
    encode_command(SetMode(Mode.LOOKUP)),
    "8410000000047",  # what does the coffee cost?
    encode_command(SetMode(Mode.SALE)),
    encode_command(Quantity(4)),
    encode_command(Cancel()),
    "8410000000078",  # chocolate: stock runs low
    "8410000000078",
    "8410000000078",
    "8410000000078",  # ...and below zero: recorded, flagged
)


def generated_catalog(count: int) -> Iterator[SampleProduct]:
    """A large synthetic catalog (benchmarks: 50,000 products) with valid, distinct EAN-13s."""
    for i in range(count):
        yield SampleProduct(
            f"SKU{i:06d}", f"Producto {i}", 100 + i % 5000, "each", 100, (with_check_digit(f"99{i:010d}"),)
        )
