"""PrestaShop phone orders and the shop's automatic cart rules (no code: "10 % off from 30 €", "free
delivery"), which validateOrder puts on the cart: `total_paid` takes them off as the shop will, so the
order is made awaiting payment rather than in "Payment error"; a rule the bridge cannot compute is refused
naming it before the order is made. Against the simulator, whose rules follow `autoAddToCart` on their
own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud_bridge.connectors import prestashop_cartrules as rules
from cloud_bridge.connectors._values import Invalid
from cloud_bridge.errors import RequestRejected
from simulators.shops import ManualClock, PrestaShopSimulator
from tests.mqtt_helpers import LogWatch
from tests.shop_helpers import SMALL, phone_draft, presta
from wire import PhoneLine

PAYMENT_ERROR = 8
MANY = {"quantity": "1000", "quantity_per_user": "1000"}


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator(SMALL, clock=ManualClock()) as shop:
        shop.add_product("PIZ-4Q", "Pizza 4 quesos", 1150, 40)
        yield shop


def _order(sim: PrestaShopSimulator, qty: int, ref: str = "till-1-p7", **kw: Any) -> int:
    order = presta(sim, ManualClock(), **kw).create_order(replace(phone_draft("PIZ-4Q", qty), ref=ref))
    assert sim.order_state(int(order.order_id)) != PAYMENT_ERROR
    return order.total_cents


def test_an_automatic_percent_off_from_a_minimum_is_taken_off_the_phone_order_s_total(
    sim: PrestaShopSimulator,
) -> None:
    """Before, `total_paid` was the products' sum: PrestaShop made the order in "Payment error", took no
    stock, and the bridge parked it."""
    sim.add_cart_rule("10 % desde 30 €", reduction_percent="10", minimum_amount="30.000000", **MANY)
    assert _order(sim, 3) == 3450 - 345  # 3 x 11.50 = 34.50, from 30: 10 % off
    assert _order(sim, 2, ref="till-1-p8") == 2300  # 23.00: under the minimum
    assert sim.stock("PIZ-4Q") == 35


@pytest.mark.parametrize(
    ("fields", "total"),
    [
        pytest.param({"reduction_amount": "5.000000"}, 2300 - 500 + 300, id="an-amount-off"),
        pytest.param({"reduction_amount": "50.000000"}, 300, id="an-amount-off-above-the-total"),
        pytest.param({"free_shipping": "1"}, 2300, id="free-delivery"),
        pytest.param({"reduction_percent": "10", "code": "PIZZA10"}, 2300 + 300, id="a-code-s-rule-waits"),
        pytest.param({"reduction_percent": "10", "active": "0"}, 2300 + 300, id="inactive"),
        pytest.param({"reduction_percent": "10", "date_to": "2020-01-01 00:00:00"}, 2300 + 300, id="expired"),
        pytest.param({"reduction_percent": "10", "quantity": "0"}, 2300 + 300, id="used-up"),
        pytest.param(
            {"reduction_percent": "10", "date_to": "0000-00-00 00:00:00"}, 2300 + 300, id="zero-end-date"
        ),
    ],
)
def test_a_delivery_phone_order_is_totalled_with_the_shop_s_automatic_rules(
    sim: PrestaShopSimulator, fields: dict[str, str], total: int
) -> None:
    carrier = sim.add_carrier("Reparto", [("0", "1000", 300)])
    sim.add_cart_rule("Promo", **fields)
    delivered = replace(phone_draft("PIZ-4Q", 2), pickup=False, address="Calle Mayor 1")
    order = presta(sim, ManualClock(), phone_delivery_carrier=carrier).create_order(delivered)
    assert sim.order_state(int(order.order_id)) != PAYMENT_ERROR
    assert order.total_cents == total


def test_the_shop_s_free_delivery_threshold_counts_the_discounted_total(sim: PrestaShopSimulator) -> None:
    """PrestaShop compares `PS_SHIPPING_FREE_PRICE` with the products' total after discounts."""
    sim.set_configuration("PS_SHIPPING_FREE_PRICE", "30")
    carrier = sim.add_carrier("Reparto", [("0", "1000", 300)])
    sim.add_cart_rule("20 %", reduction_percent="20", **MANY)
    delivered = replace(phone_draft("PIZ-4Q", 3), pickup=False, address="Calle Mayor 1")
    order = presta(sim, ManualClock(), phone_delivery_carrier=carrier).create_order(delivered)
    assert sim.order_state(int(order.order_id)) != PAYMENT_ERROR
    assert order.total_cents == 3450 - 690 + 300  # 27.60 after the discount: under 30, delivery paid


def test_a_rule_once_per_customer_applies_to_the_caller_s_first_phone_order_only(
    sim: PrestaShopSimulator,
) -> None:
    """The same phone number is the same guest customer in the shop: its second order pays in full."""
    sim.add_cart_rule("Primer pedido", reduction_amount="3.000000", quantity="100", quantity_per_user="1")
    assert _order(sim, 1) == 1150 - 300
    assert _order(sim, 1, ref="till-1-p8") == 1150


def test_a_rule_the_bridge_cannot_compute_is_refused_naming_it_before_the_order_is_made(
    sim: PrestaShopSimulator,
) -> None:
    rule = sim.add_cart_rule("2x1 en pizzas", reduction_percent="50", product_restriction="1", **MANY)
    with pytest.raises(
        RequestRejected, match=rf"cart rule {rule} \(2x1 en pizzas\).*limited to some products"
    ):
        _order(sim, 2)
    assert sim.phone_order_parts()["orders"] == 0 and sim.stock("PIZ-4Q") == 40
    sim.add_cart_rule("Otra", reduction_percent="5", **MANY)
    sim.rows["cart_rules"][rule]["minimum_amount"] = "100.000000"  # now out of reach: it cannot apply
    sim.add_cart_rule("Y otra", reduction_amount="1.000000", **MANY)
    with pytest.raises(RequestRejected, match="in which order"):  # but two reductions at once would
        _order(sim, 2, ref="till-1-p8")
    assert sim.phone_order_parts()["orders"] == 0


def test_rules_that_may_not_be_combined_are_refused_rather_than_guessed(sim: PrestaShopSimulator) -> None:
    sim.add_cart_rule("Envío gratis", free_shipping="1", cart_rule_restriction="1", **MANY)
    sim.add_cart_rule("5 %", reduction_percent="5", cart_rule_restriction="1", **MANY)
    with pytest.raises(RequestRejected, match="not all combine"):
        _order(sim, 1)
    assert sim.phone_order_parts()["orders"] == 0


VALUES = st.one_of(st.text(max_size=6), st.integers(-2, 200), st.none(), st.booleans(), st.floats())
FIELDS = [
    "id",
    "name",
    "code",
    "active",
    "quantity",
    "quantity_per_user",
    "id_customer",
    "date_from",
    "date_to",
    "minimum_amount",
    "minimum_amount_tax",
    "reduction_percent",
    "reduction_amount",
    "reduction_tax",
    "reduction_product",
    "free_shipping",
    "product_restriction",
    "cart_rule_restriction",
]


@given(st.lists(st.dictionaries(st.sampled_from(FIELDS), VALUES), max_size=4))
def test_any_cart_rules_answer_reads_as_a_total_or_as_invalid_or_refused(rows: list[dict[str, Any]]) -> None:
    """What the shop sends is outside input: a total off of at most the products', `Invalid` (an
    unreadable answer, tried again) or `Uncomputable` (refused naming the rule), nothing else."""
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    try:
        found = [rules.rule_of(r, "1") for r in rows if rules.is_automatic(r, now, "5", UTC)]
        kept = rules.applying(found, {}, Decimal("23.00"), Decimal("23.00"))
    except (Invalid, rules.Uncomputable):
        return
    lines = [rules.Line(Decimal("11.50"), 2)]
    assert Decimal(0) <= rules.reduction(kept, lines, rules.Rounding()) <= Decimal("23.00")


def _priced(sim: PrestaShopSimulator, lines: list[tuple[str, int]], ref: str) -> list[tuple[str, int]]:
    """(sku, quantity) of a product of its own for each (price to 6 decimals, quantity)."""
    found = []
    for i, (price, qty) in enumerate(lines):
        sku = f"R-{ref}-{i}"
        sim.add_product(sku, f"Producto {i}", 100, 50)
        sim.set_exact_price(sku, Decimal(price))
        found.append((sku, qty))
    return found


def _exact_order(sim: PrestaShopSimulator, lines: list[tuple[str, int]], ref: str = "till-1-p9") -> int:
    """A pickup phone order of (price to 6 decimals, quantity) lines; its total in cents, once made out
    of "Payment error"."""
    drafted = tuple(PhoneLine(sku, qty, (), "") for sku, qty in _priced(sim, lines, ref))
    draft = replace(phone_draft("PIZ-4Q", 1), ref=ref, lines=drafted)
    order = presta(sim, ManualClock()).create_order(draft)
    assert sim.order_state(int(order.order_id)) != PAYMENT_ERROR
    return order.total_cents


TEN_OFF = [("2.272727", 3), ("6.363636", 2)]  # 8 units of 2.50 and 7.00 with 10 % of tax taken out
FIFTEEN_OFF = [("2.272727", 1), ("5.454545", 3)]


def test_a_phone_order_with_a_percent_rule_on_a_shop_rounding_per_line_is_not_parked_a_cent_apart(
    sim: PrestaShopSimulator,
) -> None:
    """PrestaShop's install rounds each line (`PS_ROUND_TYPE` 2): products 19.545453 -> 19.55, 10 % of
    the rounded lines 6.82 + 12.73 -> 1.96 off, 17.59 to pay. Before, the bridge read prices rounded to
    the cent and took 10 % of 19.53: 17.58, the order made in "Payment error" and parked."""
    sim.add_cart_rule("10 %", reduction_percent="10", **MANY)
    assert _exact_order(sim, TEN_OFF) == 1759


@pytest.mark.parametrize(
    ("round_type", "mode", "rule", "lines", "total"),
    [
        # each item: 2.27 x 3 + 6.36 x 2 = 19.53, 10 % = 1.953 -> 1.95
        pytest.param("1", "2", "10", TEN_OFF, 1758, id="10-each-item"),
        # the total: 19.545453 -> 19.55, 10 % = 1.9545453 -> 1.95
        pytest.param("3", "2", "10", TEN_OFF, 1760, id="10-the-total"),
        # each line, half down: 19.55, 10 % of 6.82 + 12.73 = 1.955 -> 1.95
        pytest.param("2", "3", "10", TEN_OFF, 1760, id="10-each-line-half-down"),
        # each item: 2.27 + 5.45 x 3 = 18.62, 15 % = 2.793 -> 2.79
        pytest.param("1", "2", "15", FIFTEEN_OFF, 1583, id="15-each-item"),
        # each line: 18.636362 -> 18.64, 15 % of 2.27 + 16.36 = 2.7945 -> 2.79
        pytest.param("2", "2", "15", FIFTEEN_OFF, 1585, id="15-each-line"),
        # the total: 18.64, 15 % of 18.636362 = 2.7954543 -> 2.80
        pytest.param("3", "2", "15", FIFTEEN_OFF, 1584, id="15-the-total"),
        # each line, down: 18.63, 15 % of 2.27 + 16.36 = 2.7945 -> 2.79
        pytest.param("2", "1", "15", FIFTEEN_OFF, 1584, id="15-each-line-down"),
    ],
)
def test_a_percent_rule_s_phone_order_is_totalled_as_the_shop_rounds_it(
    sim: PrestaShopSimulator, round_type: str, mode: str, rule: str, lines: list[tuple[str, int]], total: int
) -> None:
    sim.set_configuration("PS_ROUND_TYPE", round_type)
    sim.set_configuration("PS_PRICE_ROUND_MODE", mode)
    sim.add_cart_rule("Promo", reduction_percent=rule, **MANY)
    assert _exact_order(sim, lines) == total


def _cent(value: Fraction, mode: int) -> Fraction:
    """Rounding to the cent spelled out, one mode at a time (values are never negative here)."""
    x = value * 100
    lower, upper = floor(x), ceil(x)
    tie = x - lower == Fraction(1, 2)
    if mode == 0:
        whole = upper
    elif mode == 1:
        whole = lower
    elif not tie:
        whole = floor(x + Fraction(1, 2))
    else:
        whole = {3: lower, 4: lower if lower % 2 == 0 else upper, 5: lower if lower % 2 else upper}.get(
            mode, upper
        )
    return Fraction(whole, 100)


def _reference(lines: list[tuple[Fraction, int]], percent: Fraction, kind: int, mode: int) -> Fraction:
    """The cart's total as PrestaShop's calculator makes it, written out for each round type: the
    discount never above the products' unrounded total (it can be, rounding each line up)."""
    if kind == 1:
        rows = [_cent(unit, mode) * qty for unit, qty in lines]
        whole = sum(rows, Fraction(0))
        return _cent(whole, mode) - _cent(whole * percent / 100, mode)
    whole = sum((unit * qty for unit, qty in lines), Fraction(0))
    if kind == 2:
        rows = [_cent(unit * qty, mode) for unit, qty in lines]
    else:
        rows = [unit * qty for unit, qty in lines]
    return _cent(whole, mode) - _cent(min(whole, sum(rows, Fraction(0)) * percent / 100), mode)


@given(
    st.lists(st.tuples(st.integers(0, 30_000_000), st.integers(1, 12)), min_size=1, max_size=5),
    st.integers(1, 100),
    st.sampled_from([1, 2, 3]),
    st.integers(0, 5),
)
def test_the_bridge_totals_a_percent_rule_as_the_written_out_reference_for_every_rounding(
    micros: list[tuple[int, int]], percent: int, kind: int, mode: int
) -> None:
    lines = [rules.Line(Decimal(m).scaleb(-6), q) for m, q in micros]
    found = rules.rule_of({"id": "1", "reduction_percent": str(percent)}, "1")
    got = rules.discounted([found], lines, rules.Rounding(kind, mode))
    want = _reference([(Fraction(m, 1_000_000), q) for m, q in micros], Fraction(percent), kind, mode)
    assert Fraction(got) == want


def test_a_key_that_cannot_read_the_settings_keeps_rounding_each_item_and_says_so_once(
    sim: PrestaShopSimulator,
) -> None:
    """Without GET on `configurations` the bridge cannot know `PS_ROUND_TYPE`: it rounds each item half
    up, as before it read it, and logs that once, not at every order."""
    sim.denied.add("configurations")
    sim.set_configuration("PS_ROUND_TYPE", "1")
    sim.add_cart_rule("10 %", reduction_percent="10", **MANY)
    maker = presta(sim, ManualClock())
    with LogWatch("settings not read", "cloud_bridge.connectors.prestashop_phone") as said:
        for ref in ("till-1-p9", "till-1-p10"):
            lines = tuple(PhoneLine(sku, qty, (), "") for sku, qty in _priced(sim, TEN_OFF, ref))
            order = maker.create_order(replace(phone_draft("PIZ-4Q", 1), ref=ref, lines=lines))
            assert sim.order_state(int(order.order_id)) != PAYMENT_ERROR
            assert order.total_cents == 1758
    assert said.count == 1
