"""The automatic cart rules PrestaShop puts on a phone order's cart, and what they take off, so the bridge's
`total_paid` is the cart's total (else validateOrder makes the order in "Payment error"). Pure:
`prestashop_phone` reads the rows.

When validateOrder totals the cart, `Cart::getCartRules` first runs `CartRule::autoAddToCart`: every rule
that is `active`, has no `code`, `quantity` > 0, `date_from` ≤ now ≤ `date_to` (the shop's local time),
and is for everyone (`id_customer` 0) or for this customer, and that `checkValidity` accepts: not used
`quantity_per_user` times by this customer (orders not in "Payment error"), the products' total (with
tax when `minimum_amount_tax`) at least `minimum_amount`, and its restrictions met. The bridge computes the
unconditional kinds: a percent off the order (`reduction_percent`, `reduction_product` 0), an amount off
it (`reduction_amount`, with tax, at most the products' total), free shipping, each with or without a
minimum amount. A rule that may apply and depends on what the bridge does not read (country, carrier,
group, shop or product restrictions, a gift, a reduction on one product or the cheapest, products on
sale excluded, another currency, an amount without tax on a taxed cart, a minimum counting shipping,
several reductions at once whose order PrestaShop decides, rules that may not be combined with the
others that apply) is refused naming it (`Uncomputable`), before the order is made.

The total is PrestaShop's cart calculator's (`Calculator::getTotal`), which `PS_ROUND_TYPE` shapes: each
row is a unit price with tax to 6 decimals × its quantity, rounded per item (1), per line (2, the
install's default) or not at all (3, the total); the products' total is the rows' sum as the shop
first saw them (per item: the rounded units; otherwise unrounded) rounded once; a percent off the order
is taken off each row as rounded by the round type, the discounts summed unrounded and rounded once;
the delivery is added rounded. `Tools::ps_round` rounds to the cent by `PS_PRICE_ROUND_MODE` (0 up, 1
down, 2 half up, the default, 3 half down, 4 half even, 5 half odd). The minimum amount compares the
products' total as `getOrderTotal(ONLY_PRODUCTS)` gives it: the rows rounded by the round type, summed
and rounded. Without these settings (a key that cannot read `configurations`) the bridge rounds each
item half up, as the Webservice's prices at their default of 2 decimals did before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
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

from cloud_bridge.connectors._values import Invalid, amount, as_obj

_CENT: Final = Decimal("0.01")
_TIME: Final = "%Y-%m-%d %H:%M:%S"
ROUND_ITEM, ROUND_LINE, ROUND_TOTAL = 1, 2, 3  # `PS_ROUND_TYPE` (Order::ROUND_*)
HALF_UP, HALF_ODD = 2, 5  # two of `PS_PRICE_ROUND_MODE`'s values
ROUNDING_SETTINGS: Final = ("PS_ROUND_TYPE", "PS_PRICE_ROUND_MODE")
# `PS_PRICE_ROUND_MODE` -> Decimal's mode (half odd has none: `_half_odd`)
_MODES: Final = {0: ROUND_CEILING, 1: ROUND_FLOOR, 2: ROUND_HALF_UP, 3: ROUND_HALF_DOWN, 4: ROUND_HALF_EVEN}
# flag -> why the bridge cannot tell whether, or how much, the rule takes off
_RESTRICTIONS: Final = {
    "country_restriction": "it is limited to some countries",
    "carrier_restriction": "it is limited to some carriers",
    "group_restriction": "it is limited to some customer groups",
    "shop_restriction": "it is limited to some shops",
    "product_restriction": "it is limited to some products",
    "reduction_exclude_special": "it excludes products on sale",
}


class Uncomputable(Exception):
    """A rule PrestaShop may put on the cart whose effect the bridge cannot work out."""


@dataclass(frozen=True)
class CartRule:
    id: str
    name: str
    customer: str  # "0": everyone
    percent: Decimal
    amount: Decimal
    amount_with_tax: bool
    amount_currency: str
    free_shipping: bool
    minimum: Decimal
    minimum_with_tax: bool
    minimum_currency: str
    per_customer: int
    exclusive: bool  # `cart_rule_restriction`: combined only with the rules it names
    problem: str  # why the bridge cannot compute it ("" when it can)

    def label(self) -> str:
        return f"cart rule {self.id} ({self.name})" if self.name else f"cart rule {self.id}"


def _flag(row: Mapping[str, Any], name: str) -> bool:
    value = str(row.get(name) or "0").strip()
    if value not in ("0", "1"):
        raise Invalid(f"cart rule {name}: {value[:20]!r} is not 0 or 1")
    return value == "1"


def _whole(row: Mapping[str, Any], name: str) -> int:
    value = str(row.get(name) or "0").strip()
    if not (value.isascii() and value.lstrip("-").isdigit()):
        raise Invalid(f"cart rule {name}: {value[:20]!r} is not a whole number")
    return int(value)


def _name(value: Any) -> str:
    """A multilingual field: `[{"id": "1", "value": "…"}]` with display=full, else a plain string."""
    if isinstance(value, list):
        value = as_obj(value[0], "cart rule name").get("value") if value else ""
    return " ".join(str(value or "").split())[:80]


def _moment(value: Any, name: str, tz: tzinfo) -> datetime:
    """A rule's date in the shop's time; MySQL's zero date sorts before every other (as `NOW() BETWEEN`
    compares it)."""
    text = str(value or "").strip()
    if text.startswith("0000-00-00"):
        return datetime.min.replace(tzinfo=tz)
    try:
        return datetime.strptime(text, _TIME).replace(tzinfo=tz)
    except ValueError as exc:
        raise Invalid(f"cart rule {name}: {str(value)[:30]!r} is not a date") from exc


def is_automatic(row: Mapping[str, Any], now: datetime, customer: str, tz: tzinfo) -> bool:
    """Whether `autoAddToCart` would look at this `cart_rules` row for this customer's cart now."""
    return (
        _flag(row, "active")
        and not str(row.get("code") or "").strip()
        and _whole(row, "quantity") > 0
        and _moment(row.get("date_from"), "date_from", tz)
        <= now
        <= _moment(row.get("date_to"), "date_to", tz)
        and str(row.get("id_customer") or "0").strip() in ("0", customer)
    )


def rule_of(value: Any, currency: str) -> CartRule:
    """A `cart_rules` row as the Webservice sends it (every value a string); `Invalid` otherwise."""
    row = as_obj(value, "cart rule")
    rule_id = str(row.get("id") or "").strip()
    if not (rule_id.isascii() and rule_id.isdigit()):
        raise Invalid(f"cart rule id: {rule_id[:20]!r} is not an id")
    problems = [why for flag, why in _RESTRICTIONS.items() if _flag(row, flag)]
    if _whole(row, "gift_product"):
        problems.append("it gives a product")
    target = _whole(row, "reduction_product")
    percent = amount(row.get("reduction_percent") or "0", "cart rule reduction_percent")
    off = amount(row.get("reduction_amount") or "0", "cart rule reduction_amount")
    if target and (percent or off):
        problems.append("it takes off one product or the cheapest, not the order")
    minimum = amount(row.get("minimum_amount") or "0", "cart rule minimum_amount")
    if minimum > 0 and _flag(row, "minimum_amount_shipping"):
        problems.append("its minimum amount counts the delivery")
    rule = CartRule(
        id=rule_id,
        name=_name(row.get("name")),
        customer=str(row.get("id_customer") or "0").strip(),
        percent=percent,
        amount=off,
        amount_with_tax=_flag(row, "reduction_tax"),
        amount_currency=str(row.get("reduction_currency") or "0").strip(),
        free_shipping=_flag(row, "free_shipping"),
        minimum=minimum,
        minimum_with_tax=_flag(row, "minimum_amount_tax"),
        minimum_currency=str(row.get("minimum_amount_currency") or "0").strip(),
        per_customer=_whole(row, "quantity_per_user"),
        exclusive=_flag(row, "cart_rule_restriction"),
        problem="",
    )
    if rule.amount > 0 and rule.amount_currency not in ("0", currency):
        problems.append(f"its amount is in currency {rule.amount_currency}, the cart's is {currency}")
    if rule.minimum > 0 and rule.minimum_currency not in ("0", currency):
        problems.append(f"its minimum is in currency {rule.minimum_currency}, the cart's is {currency}")
    return replace(rule, problem="; ".join(problems))


def applying(
    rules: Sequence[CartRule], used: Mapping[str, int], gross: Decimal, net: Decimal
) -> list[CartRule]:
    """The rules `checkValidity` keeps for a cart whose products total `gross` with tax and `net`
    without; `used` counts this customer's earlier uses of each. `Uncomputable` names a rule that may
    apply and that the bridge cannot compute."""
    kept = []
    for rule in rules:
        if used.get(rule.id, 0) + 1 > rule.per_customer:
            continue
        if rule.minimum > 0 and (gross if rule.minimum_with_tax else net) < rule.minimum:
            continue
        if rule.problem:
            raise Uncomputable(f"{rule.label()} may apply and the bridge cannot compute it: {rule.problem}")
        if rule.amount > 0 and not rule.amount_with_tax and gross != net:
            raise Uncomputable(f"{rule.label()} takes an amount without tax off a taxed cart")
        kept.append(rule)
    if len(kept) > 1 and any(r.exclusive for r in kept):
        names = ", ".join(r.label() for r in kept)
        raise Uncomputable(f"{names} may apply and not all combine: the bridge cannot tell which stays")
    reducing = [r for r in kept if r.percent > 0 or r.amount > 0]
    if len(reducing) > 1:
        names = ", ".join(r.label() for r in reducing)
        raise Uncomputable(f"{names} would all take money off: the bridge cannot tell in which order")
    return kept


@dataclass(frozen=True)
class Rounding:
    """How the shop rounds a cart: `PS_ROUND_TYPE` and `PS_PRICE_ROUND_MODE`. The defaults are the
    bridge's own before it read them (each item, half up), which it keeps when it cannot read them."""

    type: int = ROUND_ITEM
    mode: int = HALF_UP

    def cent(self, value: Decimal) -> Decimal:
        """`Tools::ps_round(value, 2)`: a mode PrestaShop does not know rounds half up, as its switch."""
        if self.mode == HALF_ODD:
            return _half_odd(value)
        return value.quantize(_CENT, _MODES.get(self.mode, ROUND_HALF_UP))


@dataclass(frozen=True)
class Line:
    """A cart row: its unit price (to 6 decimals, as the cart calculator takes it) and quantity."""

    unit: Decimal
    qty: int


def _half_odd(value: Decimal) -> Decimal:
    cut = value.quantize(_CENT, ROUND_DOWN)
    if abs(value - cut) != _CENT / 2:
        return value.quantize(_CENT, ROUND_HALF_UP)
    return cut if int(cut / _CENT) % 2 else cut + _CENT.copy_sign(value)


def rounding_of(settings: Mapping[str, str]) -> Rounding:
    """The shop's `ROUNDING_SETTINGS` values; one missing or unknown counts as its fallback (each item,
    half up)."""

    def number(name: str, fallback: int) -> int:
        text = settings.get(name, "").strip()
        return int(text) if text.isascii() and text.isdigit() else fallback

    kind = number("PS_ROUND_TYPE", ROUND_ITEM)
    kind = kind if kind in (ROUND_ITEM, ROUND_LINE, ROUND_TOTAL) else ROUND_ITEM
    return Rounding(kind, number("PS_PRICE_ROUND_MODE", HALF_UP))


def _first(line: Line, rounding: Rounding) -> Decimal:
    """A row as `CartRow` first totals it (`initialTotalPrice`): per item, the unit rounded."""
    unit = rounding.cent(line.unit) if rounding.type == ROUND_ITEM else line.unit
    return unit * line.qty


def _row(line: Line, rounding: Rounding) -> Decimal:
    """A row as the cart rules see it (`finalTotalPrice` after `applyRound`): per line, rounded."""
    if rounding.type == ROUND_LINE:
        return rounding.cent(line.unit * line.qty)
    return _first(line, rounding)


def products(lines: Sequence[Line], rounding: Rounding) -> Decimal:
    """The products' total as `getOrderTotal(ONLY_PRODUCTS)` gives it: what a minimum amount is
    compared with, and a free-delivery threshold before the discounts."""
    return rounding.cent(sum((_row(line, rounding) for line in lines), Decimal(0)))


def reduction(rules: Sequence[CartRule], lines: Sequence[Line], rounding: Rounding) -> Decimal:
    """What the rules take off (`getDiscountTotal`): a percent off each row as rounded, an amount off
    the rows' sum (at most it), the whole at most the products' first total, rounded once."""
    rows = sum((_row(line, rounding) for line in lines), Decimal(0))
    off = Decimal(0)
    for rule in rules:
        if rule.percent > 0:
            off += sum((_row(line, rounding) * rule.percent / 100 for line in lines), Decimal(0))
        if rule.amount > 0:
            off += min(rule.amount, rows)
    return rounding.cent(min(off, sum((_first(line, rounding) for line in lines), Decimal(0))))


def discounted(rules: Sequence[CartRule], lines: Sequence[Line], rounding: Rounding) -> Decimal:
    """The products' total less the rules, as `Calculator::getTotal` makes it before the delivery: the
    rows' first totals summed and rounded, less the rounded discount."""
    first = rounding.cent(sum((_first(line, rounding) for line in lines), Decimal(0)))
    return first - reduction(rules, lines, rounding)


def ships_free(rules: Sequence[CartRule]) -> bool:
    return any(rule.free_shipping for rule in rules)
