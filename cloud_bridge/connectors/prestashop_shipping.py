"""What a PrestaShop cart's delivery costs, worked out from the Webservice's rows the way the shop's
`Cart::getPackageShippingCost` (PrestaShop 8) does, so a phone order's `total_paid` is the cart's total and
validateOrder does not make it in "Payment error". Pure: `prestashop_phone` reads the rows.

The rules, in PrestaShop's order: an inactive carrier or one with `is_free` costs nothing; the order's
products total (with tax) at or over `PS_SHIPPING_FREE_PRICE`, or its weight at or over
`PS_SHIPPING_FREE_WEIGHT` (each when above 0), ships free; otherwise the price of the carrier's range
(`price_ranges` or `weight_ranges` by `shipping_method`: 1 weight, 2 price, 0 the shop's
`PS_SHIPPING_METHOD`, 3 free) holding the total, `delimiter1` ≤ x < `delimiter2`, in the delivery
address's zone (its country's `id_zone`), from `deliveries`; out of every range, the highest range's price
(`range_behavior` 0) or, with `range_behavior` 1, PrestaShop gives the cart another carrier, so the bridge
refuses rather than guess (`OutOfRange`); then `PS_SHIPPING_HANDLING` when the carrier has
`shipping_handling`, each product's `additional_shipping_cost` × quantity, and the carrier's tax (its
`id_tax_rules_group`'s rule for the country) unless `PS_TAX` is off or `PS_ATCP_SHIPWRAP` is on; rounded
half up to the cent.

Uncertain, and left as PrestaShop's defaults: a shop in another currency than the cart's (the ranges
are in the default currency, converted), a state's own zone (the bridge's addresses carry no state),
carrier modules that price delivery themselves (`shipping_external`), several tax rules for one country
(the first counts). Cart rules are `prestashop_cartrules`'s: `Parcel.products` is the total after their
discounts, and a free-shipping rule skips this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from cloud_bridge.connectors._values import Invalid, amount, as_obj

BY_WEIGHT, BY_PRICE, FREE = 1, 2, 3
CONFIGURATION: Final = (
    "PS_SHIPPING_FREE_PRICE",
    "PS_SHIPPING_FREE_WEIGHT",
    "PS_SHIPPING_HANDLING",
    "PS_SHIPPING_METHOD",
    "PS_TAX",
    "PS_ATCP_SHIPWRAP",
)
_CENT: Final = Decimal("0.01")


class OutOfRange(Exception):
    """The carrier does not deliver this cart (no range holds it and it is disabled out of range)."""


@dataclass(frozen=True)
class Carrier:
    id: str
    reference: str  # `id_reference`: the same through every edit (PrestaShop edits a carrier by copying it)
    deleted: bool
    active: bool
    free: bool
    method: int  # 0 the shop's default, 1 by weight, 2 by price, 3 free
    range_behavior: int  # 0 the highest range's price, 1 disabled, out of every range
    handling: bool
    tax_group: str


@dataclass(frozen=True)
class ShopShipping:
    """The shop's shipping settings (Shipping › Preferences)."""

    free_price: Decimal = Decimal(0)
    free_weight: Decimal = Decimal(0)
    handling: Decimal = Decimal(0)
    default_by_weight: bool = False
    taxed: bool = True


@dataclass(frozen=True)
class Parcel:
    """What the cart's delivery cost depends on: products total with tax, weight (kg), and the sum of
    the products' `additional_shipping_cost` × quantity."""

    products: Decimal
    weight: Decimal
    additional: Decimal


@dataclass(frozen=True)
class Band:
    low: Decimal
    high: Decimal
    price: Decimal


def _flag(row: Mapping[str, Any], name: str, default: str = "0") -> bool:
    value = str(row.get(name, default) or default).strip()
    if value not in ("0", "1"):
        raise Invalid(f"carrier {name}: {value[:20]!r} is not 0 or 1")
    return value == "1"


def _small(row: Mapping[str, Any], name: str, allowed: range) -> int:
    value = str(row.get(name, "0") or "0").strip()
    if not (value.isascii() and value.isdigit()) or int(value) not in allowed:
        raise Invalid(f"carrier {name}: {value[:20]!r} is not one of {list(allowed)}")
    return int(value)


def carrier_of(value: Any) -> Carrier:
    """A `carriers` row as the Webservice sends it (JSON: every value a string); `Invalid` otherwise."""
    row = as_obj(value, "carrier")
    ids = {
        name: str(row.get(name, "0") or "0").strip() for name in ("id", "id_reference", "id_tax_rules_group")
    }
    for name, text in ids.items():
        if not (text.isascii() and text.isdigit()):
            raise Invalid(f"carrier {name}: {text[:20]!r} is not an id")
    return Carrier(
        id=ids["id"],
        reference=ids["id_reference"],
        deleted=_flag(row, "deleted"),
        active=_flag(row, "active", "1"),
        free=_flag(row, "is_free"),
        method=_small(row, "shipping_method", range(4)),
        range_behavior=_small(row, "range_behavior", range(2)),
        handling=_flag(row, "shipping_handling"),
        tax_group=ids["id_tax_rules_group"],
    )


def settings_of(rows: Sequence[Any], names: Sequence[str], shop_id: str) -> dict[str, str]:
    """The values of `names` in `configurations` rows (a row for this shop wins over the global one)."""
    chosen: dict[str, tuple[bool, str]] = {}  # name -> (the shop's own row, value)
    for value in rows:
        row = as_obj(value, "configuration")
        name, shop = str(row.get("name", "")), str(row.get("id_shop") or "0")
        if name not in names or shop not in ("0", shop_id):
            continue
        mine = shop != "0"
        if name not in chosen or (mine and not chosen[name][0]):
            chosen[name] = (mine, str(row.get("value") or ""))
    return {name: text for name, (_, text) in chosen.items()}


def shop_shipping(rows: Sequence[Any], shop_id: str) -> ShopShipping:
    """The settings from `configurations` rows (`settings_of`)."""
    value_of = settings_of(rows, CONFIGURATION, shop_id)

    def number(name: str) -> Decimal:
        return max(Decimal(0), amount(value_of.get(name) or "0", f"configuration {name}"))

    return ShopShipping(
        free_price=number("PS_SHIPPING_FREE_PRICE"),
        free_weight=number("PS_SHIPPING_FREE_WEIGHT"),
        handling=number("PS_SHIPPING_HANDLING"),
        default_by_weight=value_of.get("PS_SHIPPING_METHOD", "0") not in ("", "0"),
        taxed=value_of.get("PS_TAX", "1") != "0" and value_of.get("PS_ATCP_SHIPWRAP", "0") in ("", "0"),
    )


def method(carrier: Carrier, shop: ShopShipping) -> int:
    if carrier.free or carrier.method == FREE:
        return FREE
    if carrier.method == 0:
        return BY_WEIGHT if shop.default_by_weight else BY_PRICE
    return carrier.method


def ships_free(carrier: Carrier, shop: ShopShipping, parcel: Parcel) -> bool:
    """Whether the cart's delivery costs nothing before any range is looked at."""
    if not carrier.active or method(carrier, shop) == FREE:
        return True
    if shop.free_price > 0 and parcel.products >= shop.free_price:
        return True
    return shop.free_weight > 0 and parcel.weight >= shop.free_weight


def bands(deliveries: Sequence[Any], ranges: Sequence[Any], by_weight: bool) -> list[Band]:
    """The zone's prices by range: `deliveries` rows (already of the carrier and zone) joined to
    `price_ranges` / `weight_ranges` rows by id."""
    column = "id_range_weight" if by_weight else "id_range_price"
    limits: dict[str, tuple[Decimal, Decimal]] = {}
    for value in ranges:
        row = as_obj(value, "range")
        low, high = amount(row.get("delimiter1"), "range delimiter1"), amount(row.get("delimiter2"), "range")
        limits[str(row.get("id"))] = (low, high)
    found = []
    for value in deliveries:
        row = as_obj(value, "delivery")
        limit = limits.get(str(row.get(column, "0")))
        if limit is not None:
            found.append(Band(limit[0], limit[1], amount(row.get("price"), "delivery price")))
    return found


def cost(
    carrier: Carrier, shop: ShopShipping, parcel: Parcel, priced: Sequence[Band], tax_percent: Decimal
) -> Decimal:
    """The delivery's cost with tax, as the cart totals it (see the module's docstring)."""
    if ships_free(carrier, shop, parcel):
        return Decimal(0)
    measure = parcel.weight if method(carrier, shop) == BY_WEIGHT else parcel.products
    within = sorted((b for b in priced if b.low <= measure < b.high), key=lambda b: b.low)
    if within:
        price = within[0].price
    elif carrier.range_behavior == 1:
        raise OutOfRange(
            f"carrier {carrier.id} has no range for {measure} "
            f"{'kg' if method(carrier, shop) == BY_WEIGHT else '(order total)'} in the address's zone "
            "and is disabled out of range: PrestaShop would give the order another carrier"
        )
    else:
        price = max(priced, key=lambda b: b.high).price if priced else Decimal(0)
    if carrier.handling:
        price += shop.handling
    price += parcel.additional
    if shop.taxed:
        price *= 1 + tax_percent / 100
    return price.quantize(_CENT, ROUND_HALF_UP)
