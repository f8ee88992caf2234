"""The PrestaShop simulator's cart rules: the ones without a code that `CartRule::autoAddToCart` puts on a
cart when validateOrder totals it, and what they take off.

Tables (GET only through the Webservice): `cart_rules` (the ObjectModel's fields: `code`, `active`,
`date_from`/`date_to` in the shop's time, `quantity` left, `quantity_per_user`, `id_customer`,
`minimum_amount` with `minimum_amount_tax`, `reduction_percent`, `reduction_amount` with `reduction_tax`,
`free_shipping`, `priority` and the restriction flags) and `order_cart_rules` (a rule used by an order).
A rule applies to a cart when it is active, has no code, some quantity left, now is in its dates, it is
for everyone or this customer, this customer has used it fewer than `quantity_per_user` times (orders not
in "Payment error") and the products' total reaches its minimum; the rules apply by `priority`, a
percent off the products' total left, an amount off (at most what is left), free shipping. An order made
from the cart takes one of each rule's `quantity`. Not modelled (such a rule applies as if its
restriction were met): countries, carriers, groups, shops, product selections, gifts, reductions on one
product, currencies, taxes (prices have none here), and rules that may not be combined.

The cart's total is `Calculator::getTotal`'s under the shop's `PS_ROUND_TYPE` (1 each item, 2 each line,
the install's default, 3 the total) and `PS_PRICE_ROUND_MODE` (`ps_round`): rows are unit prices to 6
decimals × quantities, rounded per item (units), per line (rows) or not at all; the products' first total
(per item the rounded units, otherwise unrounded) is rounded once; each percent comes off every row as
rounded by the round type (an amount off them by weight), and the discounts, summed unrounded and at most
the products' first total, are rounded once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
)
from typing import Any, Final

Row = dict[str, Any]

TABLES: Final = (("cart_rules", "cart_rule"), ("order_cart_rules", "order_cart_rule"))
PAYMENT_ERROR: Final = "8"
_STAMP: Final = "%Y-%m-%d %H:%M:%S"
ROUND_ITEM, ROUND_LINE, ROUND_TOTAL = 1, 2, 3
_MODES: Final = {0: ROUND_CEILING, 1: ROUND_FLOOR, 2: ROUND_HALF_UP, 3: ROUND_HALF_DOWN, 4: ROUND_HALF_EVEN}


def add_rule(rows: dict[str, dict[int, Row]], ids: Iterator[int], name: str, **fields: Any) -> int:
    """A cart rule with PrestaShop's defaults (active, no code, 1 to use, once per customer) but for
    `fields`, given as the Webservice shows them."""
    rid = next(ids)
    rows["cart_rules"][rid] = {
        "id": rid,
        "id_customer": "0",
        "date_from": "2000-01-01 00:00:00",
        "date_to": "2099-12-31 23:59:59",
        "description": "",
        "quantity": "1",
        "quantity_per_user": "1",
        "priority": "1",
        "partial_use": "1",
        "code": "",
        "minimum_amount": "0.000000",
        "minimum_amount_tax": "0",
        "minimum_amount_currency": "1",
        "minimum_amount_shipping": "0",
        "country_restriction": "0",
        "carrier_restriction": "0",
        "group_restriction": "0",
        "cart_rule_restriction": "0",
        "product_restriction": "0",
        "shop_restriction": "0",
        "free_shipping": "0",
        "reduction_percent": "0.00",
        "reduction_amount": "0.000000",
        "reduction_tax": "1",
        "reduction_currency": "1",
        "reduction_product": "0",
        "reduction_exclude_special": "0",
        "gift_product": "0",
        "gift_product_attribute": "0",
        "highlight": "0",
        "active": "1",
        "name": name,
        **{key: str(value) for key, value in fields.items()},
    }
    return rid


def _used(rows: Mapping[str, Mapping[int, Row]], rule_id: int, customer: str) -> int:
    mine = {
        str(oid)
        for oid, order in rows["orders"].items()
        if order.get("id_customer") == customer and order["current_state"] != PAYMENT_ERROR
    }
    return sum(
        1
        for used in rows["order_cart_rules"].values()
        if used["id_cart_rule"] == str(rule_id) and used["id_order"] in mine
    )


def automatic(
    rows: Mapping[str, Mapping[int, Row]], customer: str, products: Decimal, now: datetime
) -> list[Row]:
    """The rules `autoAddToCart` puts on a cart of `customer` whose products total `products` (euros),
    by priority; `now` in the shop's time."""
    stamp = now.strftime(_STAMP)
    found = []
    for rid, rule in rows["cart_rules"].items():
        if (
            rule["active"] == "1"
            and rule["code"] == ""
            and int(rule["quantity"]) > 0
            and rule["date_from"] <= stamp <= rule["date_to"]
            and rule["id_customer"] in ("0", customer)
            and _used(rows, rid, customer) < int(rule["quantity_per_user"])
            and products >= Decimal(rule["minimum_amount"])
        ):
            found.append(rule)
    return sorted(found, key=lambda r: (int(r["priority"]), int(r["id"])))


def ps_round(value: Decimal, places: int, mode: int) -> Decimal:
    """`Tools::ps_round` with `PS_PRICE_ROUND_MODE` `mode` (5: half to the odd neighbour)."""
    step = Decimal(1).scaleb(-places)
    if mode != 5:
        return value.quantize(step, _MODES.get(mode, ROUND_HALF_UP))
    down = value.quantize(step, ROUND_DOWN)
    if abs(value - down) * 2 != step:
        return value.quantize(step, ROUND_HALF_UP)
    return down if int(down.scaleb(places)) % 2 else down + step.copy_sign(value)


def cart_total(
    lines: list[tuple[Decimal, int]], rules: list[Row], round_type: int, mode: int
) -> tuple[Decimal, Decimal]:
    """(the products' total less the rules, what the rules took off) for rows of (unit price, quantity),
    both rounded to the cent as `Calculator::getTotal` does."""
    units = [(_cent(unit, mode) if round_type == ROUND_ITEM else unit, qty) for unit, qty in lines]
    first = [unit * qty for unit, qty in units]
    rows = [_cent(row, mode) if round_type == ROUND_LINE else row for row in first]
    off = Decimal(0)
    for rule in rules:
        percent = Decimal(rule["reduction_percent"])
        off += sum((row * percent / 100 for row in rows), Decimal(0))
        rows = [row - row * percent / 100 for row in rows]
        left = sum(rows, Decimal(0))
        flat = min(Decimal(rule["reduction_amount"]), left)
        off += flat
        rows = [row - flat * row / left for row in rows] if left else rows
    discount = _cent(min(off, sum(first, Decimal(0))), mode)
    return _cent(sum(first, Decimal(0)), mode) - discount, discount


def products_total(lines: list[tuple[Decimal, int]], round_type: int, mode: int) -> Decimal:
    """`getOrderTotal(ONLY_PRODUCTS)`: the rows rounded by the round type, summed, rounded."""
    if round_type == ROUND_ITEM:
        return _cent(sum((_cent(unit, mode) * qty for unit, qty in lines), Decimal(0)), mode)
    rows = (unit * qty for unit, qty in lines)
    return _cent(sum((_cent(r, mode) if round_type == ROUND_LINE else r for r in rows), Decimal(0)), mode)


def _cent(value: Decimal, mode: int) -> Decimal:
    return ps_round(value, 2, mode)


def ships_free(rules: list[Row]) -> bool:
    return any(rule["free_shipping"] == "1" for rule in rules)


def record(rows: dict[str, dict[int, Row]], ids: Iterator[int], rules: list[Row], order_id: int) -> None:
    """The order used these rules: one less of each left, and a row in `order_cart_rules`."""
    for rule in rules:
        rule["quantity"] = str(max(0, int(rule["quantity"]) - 1))
        uid = next(ids)
        rows["order_cart_rules"][uid] = {
            "id": uid,
            "id_order": str(order_id),
            "id_cart_rule": str(rule["id"]),
            "name": rule["name"],
            "free_shipping": rule["free_shipping"],
        }
