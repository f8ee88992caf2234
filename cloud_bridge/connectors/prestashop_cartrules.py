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
others that apply) is refused naming it (`Uncomputable`), before
the order is made. PrestaShop rounds a percent per product row with some rounding settings
(`PS_ROUND_TYPE`); the bridge rounds the order's, half up: a cent apart, the order lands in "Payment
error" and is parked saying so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from cloud_bridge.connectors._values import Invalid, amount, as_obj

_CENT: Final = Decimal("0.01")
_TIME: Final = "%Y-%m-%d %H:%M:%S"
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


def reduction(rules: Sequence[CartRule], gross: Decimal) -> Decimal:
    """What the rules take off the products' total with tax, rounded half up to the cent."""
    off = Decimal(0)
    for rule in rules:
        if rule.percent > 0:
            off += gross * rule.percent / 100
        if rule.amount > 0:
            off += min(rule.amount, gross)
    return min(off, gross).quantize(_CENT, ROUND_HALF_UP)


def ships_free(rules: Sequence[CartRule]) -> bool:
    return any(rule.free_shipping for rule in rules)
