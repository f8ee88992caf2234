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
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud_bridge.connectors import prestashop_cartrules as rules
from cloud_bridge.connectors._values import Invalid
from cloud_bridge.errors import RequestRejected
from simulators.shops import ManualClock, PrestaShopSimulator
from tests.shop_helpers import SMALL, phone_draft, presta

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
    assert Decimal(0) <= rules.reduction(kept, Decimal("23.00")) <= Decimal("23.00")
