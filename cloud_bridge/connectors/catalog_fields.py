"""Where a shop keeps what a till needs beyond sku, name and price: barcodes and the unit an item is sold by.

Each platform has its own barcode fields (WooCommerce `global_unique_id`, PrestaShop `ean13`/`upc`/`isbn`,
Shopify `barcode`), and many shops keep more in a plugin's meta key (`_ean`, `_barcode`, `_alg_ean`). No
platform knows "sold by weight": shops use an attribute, a meta key or a metafield, so the shop's config
names it (`unit_key`) and nothing is guessed from a product's name. Values are taken as the shop sent them;
the bridge checks and normalises barcodes (wire.barcodes) and parks a product it cannot use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from cloud_bridge.connectors._values import Invalid, to_cents
from cloud_bridge.connectors.base import ShopProduct

SHOP_UNITS: Final = {
    "each": "each",
    "unit": "each",
    "kg": "kg",
    "kilo": "kg",
    "g": "g",
    "l": "l",
    "m": "m",
}
PER_GRAM: Final = Decimal(1000)  # a price per gram, times this, is the price per kilogram the wire carries


@dataclass(frozen=True)
class CatalogFields:
    """A shop's catalog settings: `barcode_keys` are extra meta keys (or attribute / metafield names) that
    hold barcodes; `unit_key` names the one that holds the unit (kg, g, l, m, each); empty: all "each".
    """

    barcode_keys: tuple[str, ...] = ()
    unit_key: str = ""


def barcodes(values: Iterable[Any]) -> tuple[str, ...]:
    """The non-empty barcodes among `values` (strings or numbers, as shops send them), once each, in order."""
    found: list[str] = []
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip() and value.strip() not in found:
            found.append(value.strip())
        elif value not in (None, "", False) and not isinstance(value, str):
            raise Invalid(f"barcode: expected text, got {type(value).__name__}")
    return tuple(found)


def unit(value: Any) -> str | None:
    """The unit a shop's value names (None when empty); `Invalid` names the value when it is none we know."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text is None or text not in SHOP_UNITS:
        shown = repr(value[:20]) if isinstance(value, str) else type(value).__name__
        raise Invalid(f"unit {shown} is not one of {', '.join(sorted(set(SHOP_UNITS.values())))}")
    return SHOP_UNITS[text]


def keyed(pairs: Sequence[tuple[str, Any]], keys: Iterable[str]) -> list[Any]:
    """The values of `pairs` whose name is one of `keys` (case-insensitive), in the order of `keys`."""
    wanted = [key.lower() for key in keys]
    by_name: dict[str, list[Any]] = {}
    for name, value in pairs:
        by_name.setdefault(name.lower(), []).append(value)
    return [value for key in wanted for value in by_name.get(key, [])]


def derived_sku(platform_id: str) -> str:
    """The key a product without a SKU is kept under: stable (the shop's own id) and unlike any typed SKU."""
    return f"id:{platform_id}"


def product_or_problem(
    sku: str,
    product_id: str,
    updated_at: datetime,
    read: Callable[[], tuple[str, Decimal, tuple[str, ...], str | None]],
    *,
    tax_included: bool = True,
) -> ShopProduct:
    """The product from `read()` → (name, price as a decimal amount, barcodes, unit); when one of its own
    values is unreadable (a price of "abc", a unit of "lb"), the product with that problem in `problem`: the
    bridge parks that one product and the rest of the page syncs. An item priced per gram becomes one
    priced per kilogram (unit "kg"), its stock still counted in grams.
    """
    try:
        name, price, codes, sold_by = read()
        if sold_by == "g":
            price, sold_by = price * PER_GRAM, "kg"
        price_cents = to_cents(price, "price")
    except Invalid as exc:
        return ShopProduct(sku, "", 0, updated_at, product_id, tax_included, problem=str(exc))
    return ShopProduct(sku, name, price_cents, updated_at, product_id, tax_included, codes, sold_by)
