"""The PrestaShop simulator's carriers and what a cart's delivery costs, as `Cart::getPackageShippingCost`
(PrestaShop 8) computes it when the payment module's validateOrder totals the cart.

Tables (all GET only through the Webservice): `carriers` (`is_free`, `shipping_method` 0 the shop's
default `PS_SHIPPING_METHOD`, 1 by weight, 2 by price, 3 free; `range_behavior` 0 "the highest range's
price when out of range", 1 "carrier disabled"; `shipping_handling`, `id_tax_rules_group`, `active`,
`deleted`, `id_reference`), `deliveries` (a price per carrier × zone × range), `price_ranges` and
`weight_ranges` (`delimiter1` ≤ x < `delimiter2`), `countries` (`id_zone`), `configurations`
(`PS_SHIPPING_FREE_PRICE`, `PS_SHIPPING_FREE_WEIGHT`, `PS_SHIPPING_HANDLING`, `PS_SHIPPING_METHOD`,
`PS_TAX`, `PS_ATCP_SHIPWRAP`), `tax_rules` and `taxes` (a carrier's tax by its group and the country).

A fresh simulator has PrestaShop's two install carriers, both free here so orders total their products:
1 (click and collect) and 2 ("My carrier"); `add_carrier` makes a paid one. Not modelled: carrier zones
other than through `deliveries`, customer groups, carrier modules (`shipping_external`), currencies other
than the default, states' zones, and PrestaShop choosing another carrier for a cart whose carrier is out
of its ranges with `range_behavior` 1 (here it costs 0, as `getPackageShippingCost` itself answers).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

Row = dict[str, Any]

TABLES: Final = (
    ("carriers", "carrier"),
    ("deliveries", "delivery"),
    ("price_ranges", "price_range"),
    ("weight_ranges", "weight_range"),
    ("countries", "country"),
    ("configurations", "configuration"),
    ("tax_rules", "tax_rule"),
    ("taxes", "tax"),
)
SPAIN: Final = 6  # a default install's ids: Spain is country 6, in zone 1 (Europe)
EUROPE: Final = 1
BY_WEIGHT, BY_PRICE, FREE = 1, 2, 3
CONFIGURATION: Final = {
    "PS_SHIPPING_FREE_PRICE": "0",
    "PS_SHIPPING_FREE_WEIGHT": "0",
    "PS_SHIPPING_HANDLING": "0",
    "PS_SHIPPING_METHOD": "0",
    "PS_TAX": "1",
    "PS_ATCP_SHIPWRAP": "0",
    "PS_ROUND_TYPE": "2",  # each line (Order::ROUND_LINE), as PrestaShop installs
    "PS_PRICE_ROUND_MODE": "2",  # half up
}
_CENT: Final = Decimal("0.01")


def seed(rows: dict[str, dict[int, Row]]) -> None:
    """Countries, the install's two (free) carriers and the shipping configuration (ids of their own, so
    the other tables' ids stay as they were)."""
    rows["countries"][SPAIN] = {"id": SPAIN, "iso_code": "ES", "id_zone": str(EUROPE), "active": "1"}
    rows["countries"][21] = {"id": 21, "iso_code": "US", "id_zone": "2", "active": "1"}
    for cid, name in ((1, "Recogida en tienda"), (2, "My carrier")):
        rows["carriers"][cid] = _carrier(cid, name, free=True, method=0, handling=False, behavior=0, tax=0)
    for cid, (name, value) in enumerate(CONFIGURATION.items(), start=1):
        rows["configurations"][cid] = _setting(cid, name, value)


def _setting(cid: int, name: str, value: str) -> Row:
    return {"id": cid, "name": name, "value": value, "id_shop": "", "id_shop_group": ""}


def _carrier(cid: int, name: str, *, free: bool, method: int, handling: bool, behavior: int, tax: int) -> Row:
    return {
        "id": cid,
        "id_reference": str(cid),
        "name": name,
        "active": "1",
        "deleted": "0",
        "is_free": "1" if free else "0",
        "shipping_method": str(method),
        "shipping_handling": "1" if handling else "0",
        "range_behavior": str(behavior),
        "id_tax_rules_group": str(tax),
        "shipping_external": "0",
        "need_range": "1",
        "max_weight": "0.000000",
    }


def set_configuration(rows: dict[str, dict[int, Row]], ids: Iterator[int], name: str, value: str) -> None:
    """A global configuration value (`id_shop` and `id_shop_group` empty, as PrestaShop shows them)."""
    for row in rows["configurations"].values():
        if row["name"] == name:
            row["value"] = value
            return
    cid = next(ids)
    rows["configurations"][cid] = _setting(cid, name, value)


def add_carrier(
    rows: dict[str, dict[int, Row]],
    ids: Iterator[int],
    name: str,
    ranges: Sequence[tuple[str, str, int]],
    *,
    method: int = BY_PRICE,
    zones: Sequence[int] = (EUROPE,),
    handling: bool = False,
    range_behavior: int = 0,
    tax_percent: str = "",
) -> int:
    """A paid carrier: `ranges` are (delimiter1, delimiter2, price in cents without tax) of its method
    (0: the shop's `PS_SHIPPING_METHOD` now), the same price in each of `zones`; `tax_percent` gives it
    a tax rules group with that rate in every country."""
    tax_group = 0
    if tax_percent:
        tax_group, tax_id = next(ids), next(ids)
        rows["taxes"][tax_id] = {"id": tax_id, "rate": f"{Decimal(tax_percent):.3f}", "active": "1"}
        for country in list(rows["countries"]):
            rid = next(ids)
            rows["tax_rules"][rid] = {
                "id": rid,
                "id_tax_rules_group": str(tax_group),
                "id_country": str(country),
                "id_state": "0",
                "id_tax": str(tax_id),
                "behavior": "0",
            }
    cid = next(ids)
    rows["carriers"][cid] = _carrier(
        cid, name, free=False, method=method, handling=handling, behavior=range_behavior, tax=tax_group
    )
    default = next(
        (r["value"] for r in rows["configurations"].values() if r["name"] == "PS_SHIPPING_METHOD"), "0"
    )
    by_weight = method == BY_WEIGHT or (method == 0 and default not in ("", "0"))
    table = "weight_ranges" if by_weight else "price_ranges"
    for low, high, cents in ranges:
        rid = next(ids)
        rows[table][rid] = {"id": rid, "id_carrier": str(cid), "delimiter1": low, "delimiter2": high}
        for zone in zones:
            did = next(ids)
            rows["deliveries"][did] = {
                "id": did,
                "id_carrier": str(cid),
                "id_range_price": str(rid) if table == "price_ranges" else "0",
                "id_range_weight": str(rid) if table == "weight_ranges" else "0",
                "id_zone": str(zone),
                "id_shop": "",
                "id_shop_group": "",
                "price": f"{Decimal(cents) / 100:.6f}",
            }
    return cid


def shipping(
    rows: Mapping[str, Mapping[int, Row]],
    carrier_id: int,
    country_id: int,
    products: Decimal,
    weight: Decimal,
    additional: Decimal,
) -> Decimal:
    """What the cart's delivery costs with tax: `products` the products' total with tax and discounts,
    `weight` their total weight, `additional` the products' `additional_shipping_cost` × quantities."""
    carrier = rows["carriers"].get(carrier_id)
    if carrier is None or carrier["active"] != "1" or carrier["is_free"] == "1":
        return Decimal(0)
    config = {row["name"]: row["value"] for row in rows["configurations"].values()}
    method = int(carrier["shipping_method"])
    if method == 0:
        method = BY_WEIGHT if int(config.get("PS_SHIPPING_METHOD") or 0) else BY_PRICE
    free_price = Decimal(config.get("PS_SHIPPING_FREE_PRICE") or 0)
    free_weight = Decimal(config.get("PS_SHIPPING_FREE_WEIGHT") or 0)
    if method == FREE or (free_price > 0 and products >= free_price):
        return Decimal(0)
    if free_weight > 0 and weight >= free_weight:
        return Decimal(0)
    country = rows["countries"].get(country_id)
    zone = country["id_zone"] if country is not None else str(EUROPE)
    measure, table, column = (
        (weight, "weight_ranges", "id_range_weight")
        if method == BY_WEIGHT
        else (products, "price_ranges", "id_range_price")
    )
    priced: list[tuple[Decimal, Decimal, Decimal]] = []
    for delivery in rows["deliveries"].values():
        found = rows[table].get(int(delivery[column] or 0))
        if delivery["id_carrier"] == str(carrier_id) and delivery["id_zone"] == zone and found is not None:
            low, high = Decimal(found["delimiter1"]), Decimal(found["delimiter2"])
            priced.append((low, high, Decimal(delivery["price"])))
    within = sorted(p for p in priced if p[0] <= measure < p[1])
    if within:
        cost = within[0][2]
    elif priced and carrier["range_behavior"] == "0":
        cost = max(priced, key=lambda p: p[1])[2]  # the highest range's price
    else:
        cost = Decimal(0)
    if carrier["shipping_handling"] == "1":
        cost += Decimal(config.get("PS_SHIPPING_HANDLING") or 0)
    cost += additional
    if config.get("PS_TAX") == "1" and config.get("PS_ATCP_SHIPWRAP") != "1":
        cost *= 1 + _tax_rate(rows, carrier, country_id) / 100
    return cost.quantize(_CENT, ROUND_HALF_UP)


def _tax_rate(rows: Mapping[str, Mapping[int, Row]], carrier: Row, country_id: int) -> Decimal:
    group = carrier["id_tax_rules_group"]
    for rule in rows["tax_rules"].values():
        if rule["id_tax_rules_group"] == group and rule["id_country"] == str(country_id):
            tax = rows["taxes"].get(int(rule["id_tax"]))
            return Decimal(tax["rate"]) if tax is not None and tax["active"] == "1" else Decimal(0)
    return Decimal(0)


def edit_carrier(
    rows: dict[str, dict[int, Row]], ids: Iterator[int], cid: int, price_cents: int | None
) -> int:
    """The back office's carrier wizard saving carrier `cid`: a copy with a new id and the same
    `id_reference` takes its place, with its ranges and prices (each price `price_cents` if given), and
    `cid` stays, `deleted`, for the orders that name it."""
    old = rows["carriers"][cid]
    new = next(ids)
    rows["carriers"][new] = {**old, "id": new}
    old["deleted"] = "1"
    for table, column in (("price_ranges", "id_range_price"), ("weight_ranges", "id_range_weight")):
        for rid, found in list(rows[table].items()):
            if found["id_carrier"] != str(cid):
                continue
            copy = next(ids)
            rows[table][copy] = {**found, "id": copy, "id_carrier": str(new)}
            for delivery in list(rows["deliveries"].values()):
                if delivery["id_carrier"] == str(cid) and delivery[column] == str(rid):
                    did = next(ids)
                    price = (
                        f"{Decimal(price_cents) / 100:.6f}" if price_cents is not None else delivery["price"]
                    )
                    rows["deliveries"][did] = {
                        **delivery,
                        "id": did,
                        "id_carrier": str(new),
                        column: str(copy),
                        "price": price,
                    }
    return new
