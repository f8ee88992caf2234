"""What the simulated shops start with, and the helpers they share for times and money."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class SeedProduct(Protocol):
    """Anything with these fields (`simulators.catalog.SampleProduct` fits) can stock a simulated shop."""

    @property
    def sku(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def price_cents(self) -> int: ...

    @property
    def stock(self) -> int: ...


@dataclass(frozen=True)
class Item:
    """A product a simulated shop starts with. `barcodes` go where the platform keeps them (WooCommerce
    `global_unique_id` and the `_ean` meta, PrestaShop `ean13`/`upc`, Shopify `barcode`); a `unit` other
    than "each" goes where a shop would say it: the `_unit` meta, the `unity` field, a `custom.unit`
    metafield.
    """

    sku: str
    name: str
    price_cents: int
    stock: int
    barcodes: tuple[str, ...] = ()
    unit: str = "each"


def default_seed() -> list[SeedProduct]:
    from simulators.catalog import SAMPLE_CATALOG

    return list(SAMPLE_CATALOG)


def items(seed: Iterable[SeedProduct] | None) -> list[Item]:
    return [
        Item(
            p.sku,
            p.name,
            p.price_cents,
            p.stock,
            tuple(getattr(p, "barcodes", ())),
            getattr(p, "unit", "each"),
        )
        for p in (default_seed() if seed is None else seed)
    ]


class OutOfStock(ValueError):
    """An online order for more than the shop has: the shop's checkout refuses it."""


def now_s() -> datetime:
    """The shop's idea of now, to the second (the precision all three APIs show)."""
    return datetime.now(UTC).replace(microsecond=0)


def decimal(cents: int, places: int = 2) -> str:
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{units}.{rest:02d}" + "0" * (places - 2)
