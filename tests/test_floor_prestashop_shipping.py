"""PrestaShop phone orders that are delivered: `total_paid` carries the delivery's cost as the shop totals
the cart (the carrier's range in the address's zone, the shop's free-delivery thresholds, handling, the
products' additional cost, the carrier's tax), so validateOrder makes the order awaiting payment rather
than in "Payment error"; and a try that died half way leaves no twins behind. Against the simulator,
whose totals follow `Cart::getPackageShippingCost` on its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud_bridge.connectors import prestashop_shipping as ship
from cloud_bridge.connectors._values import Invalid
from cloud_bridge.connectors.base import OrderState
from cloud_bridge.errors import RequestRejected, ShopError
from simulators.shops import ManualClock, PrestaShopSimulator
from tests.shop_helpers import SMALL, phone_draft, presta

UNPAID = 13  # "Awaiting cash on delivery validation"
PAYMENT_ERROR = 8


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator(SMALL, clock=ManualClock()) as shop:
        shop.add_product("PIZ-4Q", "Pizza 4 quesos", 1150, 40)
        yield shop


def delivered(qty: int = 2) -> Any:
    return replace(phone_draft("PIZ-4Q", qty), pickup=False, address="Calle Mayor 1, 2ºB")


def test_a_delivery_phone_order_with_a_paid_carrier_is_made_awaiting_payment_with_the_delivery_in_its_total(
    sim: PrestaShopSimulator,
) -> None:
    """Before, `total_paid` was the products' sum: PrestaShop made the order in "Payment error", took no
    stock, and the bridge parked it."""
    carrier = sim.add_carrier("Reparto", [("0", "20", 300), ("20", "1000", 150)], tax_percent="10")
    connector = presta(sim, ManualClock(), phone_state=UNPAID, phone_delivery_carrier=carrier)
    order = connector.create_order(delivered())  # 2 x 11.50 = 23.00; 20 to 1000: 1.50 + 10 % = 1.65
    assert sim.order_state(int(order.order_id)) == UNPAID
    assert sim.rows["orders"][int(order.order_id)]["id_carrier"] == str(carrier)
    assert (order.state, order.paid, order.pickup) == (OrderState.PAID, False, False)
    assert (order.total_cents, order.due_cents) == (2465, 2465)
    assert order.address == "Calle Mayor 1, 2ºB" and sim.stock("PIZ-4Q") == 38


@pytest.mark.parametrize(
    ("setup", "qty", "total"),
    [
        pytest.param({"ranges": [("0", "20", 300), ("20", "1000", 150)]}, 1, 1450, id="lower-price-range"),
        pytest.param({"ranges": [("0", "10", 300), ("10", "20", 200)]}, 2, 2500, id="above-every-range"),
        pytest.param(
            {"ranges": [("0", "20", 300)], "config": {"PS_SHIPPING_FREE_PRICE": "20"}},
            2,
            2300,
            id="free-from-20",
        ),
        pytest.param(
            {
                "ranges": [("0", "1", 200), ("1", "5", 400)],
                "method": 1,
                "weight": "0.6",
                "handling": True,
                "config": {"PS_SHIPPING_HANDLING": "0.50"},
            },
            2,
            2300 + 400 + 50,
            id="by-weight-with-handling",
        ),
        pytest.param(
            {"ranges": [("0", "100", 100)], "additional": "0.25", "tax": "21"},
            2,
            2300 + 182,  # (1.00 + 2 x 0.25) x 1.21 = 1.815
            id="additional-cost-and-tax-rounded-half-up",
        ),
        pytest.param(
            {"ranges": [("0", "100", 300)], "config": {"PS_SHIPPING_METHOD": "1"}, "method": 0},
            1,
            1150 + 300,
            id="the-shop-s-default-method-weight",
        ),
    ],
)
def test_the_delivery_is_totalled_as_the_shop_totals_it(
    sim: PrestaShopSimulator, setup: dict[str, Any], qty: int, total: int
) -> None:
    if "weight" in setup or "additional" in setup:
        sim.set_shipping_facts(
            "PIZ-4Q", weight=setup.get("weight", ""), additional=setup.get("additional", "")
        )
    for name, value in setup.get("config", {}).items():
        sim.set_configuration(name, value)
    carrier = sim.add_carrier(
        "Reparto",
        setup["ranges"],
        method=setup.get("method", 2),
        handling=setup.get("handling", False),
        tax_percent=setup.get("tax", ""),
    )
    order = presta(sim, ManualClock(), phone_delivery_carrier=carrier).create_order(delivered(qty))
    assert sim.order_state(int(order.order_id)) != PAYMENT_ERROR
    assert order.total_cents == total


def test_a_pickup_goes_with_the_free_carrier_while_deliveries_go_with_the_paid_one(
    sim: PrestaShopSimulator,
) -> None:
    carrier = sim.add_carrier("Reparto", [("0", "1000", 200)])
    connector = presta(sim, ManualClock(), pickup_carriers=[1], phone_delivery_carrier=carrier)
    order = connector.create_order(phone_draft("PIZ-4Q", 1))
    assert sim.rows["orders"][int(order.order_id)]["id_carrier"] == "1" and order.total_cents == 1150
    assert order.pickup


def test_a_carrier_disabled_out_of_its_ranges_is_refused_naming_it_rather_than_ordered_in_payment_error(
    sim: PrestaShopSimulator,
) -> None:
    """PrestaShop gives such a cart another carrier, whose cost the bridge cannot know."""
    carrier = sim.add_carrier("Reparto", [("0", "20", 300)], range_behavior=1)
    connector = presta(sim, ManualClock(), phone_delivery_carrier=carrier)
    with pytest.raises(RequestRejected, match=f"carrier {carrier} has no range for 23.00"):
        connector.create_order(delivered())
    assert sim.phone_order_parts()["orders"] == 0 and sim.stock("PIZ-4Q") == 40


def test_a_carrier_edited_in_the_back_office_is_followed_to_its_new_id_and_price(
    sim: PrestaShopSimulator,
) -> None:
    """PrestaShop saves an edited carrier as a copy with a new id; before, phone orders kept going with
    the old, deleted one at its old price."""
    carrier = sim.add_carrier("Reparto", [("0", "1000", 200)])
    edited = sim.edit_carrier(carrier, price_cents=350)
    order = presta(sim, ManualClock(), phone_delivery_carrier=carrier).create_order(delivered())
    assert sim.rows["orders"][int(order.order_id)]["id_carrier"] == str(edited)
    assert order.total_cents == 2300 + 350 and sim.order_state(int(order.order_id)) != PAYMENT_ERROR


def test_a_retry_after_a_try_died_before_its_cart_finds_the_guest_and_address_again(
    sim: PrestaShopSimulator,
) -> None:
    """Before, every try made another address for the same guest."""
    connector = presta(sim, ManualClock())
    sim.fail_next(503, times=4, match="POST /api/carts")
    with pytest.raises(ShopError):
        connector.create_order(delivered())
    assert sim.phone_order_parts() == {"customers": 1, "addresses": 1, "carts": 0, "orders": 0}
    order = connector.create_order(delivered())
    assert sim.phone_order_parts() == {"customers": 1, "addresses": 1, "carts": 1, "orders": 1}
    again = connector.create_order(replace(delivered(1), ref="till-1-p8"))  # the same caller, next week
    assert again.order_id != order.order_id
    assert sim.phone_order_parts() == {"customers": 1, "addresses": 1, "carts": 2, "orders": 2}
    moved = connector.create_order(replace(delivered(1), ref="till-1-p9", address="Plaza Nueva 3"))
    assert sim.phone_order_parts()["addresses"] == 2 and moved.address == "Plaza Nueva 3"


VALUES = st.one_of(st.text(max_size=8), st.integers(-5, 5), st.none(), st.booleans(), st.floats())
ROWS = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "id_reference",
            "deleted",
            "active",
            "is_free",
            "shipping_method",
            "range_behavior",
            "shipping_handling",
            "id_tax_rules_group",
            "name",
            "value",
            "id_shop",
            "delimiter1",
            "delimiter2",
            "price",
            "id_range_price",
            "id_range_weight",
        ]
    ),
    VALUES,
)


@given(ROWS, st.lists(ROWS, max_size=4), st.lists(ROWS, max_size=4), st.lists(ROWS, max_size=4))
def test_any_carrier_configuration_or_price_rows_read_as_a_cost_or_as_invalid(
    carrier_row: dict[str, Any], config: list[Any], deliveries: list[Any], ranges: list[Any]
) -> None:
    """What the shop sends is outside input: it gives a cost of at least 0, or `Invalid` (an unreadable
    answer the bridge tries again), never another exception."""
    try:
        carrier = ship.carrier_of(carrier_row)
        shop = ship.shop_shipping(config, "1")
        priced = ship.bands(deliveries, ranges, by_weight=False)
        parcel = ship.Parcel(Decimal(23), Decimal(0), Decimal(0))
        found = ship.cost(carrier, shop, parcel, priced, Decimal(10))
    except (Invalid, ship.OutOfRange):
        return
    assert found >= 0 or any(b.price < 0 for b in priced)
