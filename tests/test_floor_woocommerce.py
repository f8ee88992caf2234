"""A pizzeria's WooCommerce orders as the kitchen needs them, against the WooCommerce simulator over real
HTTP: toppings from item meta, the customer's note kept, the slot, address, payment; the floor's stages
and the pickup code reaching the customer as customer notes; a phone order created once per ref."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_bridge.connectors.base import FloorStage, LineOption, StageChange
from cloud_bridge.connectors.orderfacts import screen
from cloud_bridge.connectors.woocommerce import parse_order, read_order
from simulators.shops import ManualClock, WooCommerceSimulator
from tests.shop_helpers import SMALL, phone_draft, woo


@pytest.fixture
def sim() -> Iterator[WooCommerceSimulator]:
    with WooCommerceSimulator(SMALL) as shop:
        shop.add_product("PIZ-4Q", "Pizza cuatro quesos", 1150, 40, categories=["Pizzas"])
        shop.add_product("CANA", "Caña", 250, 90, categories=["Bebidas"])
        yield shop


def test_a_food_order_reads_with_toppings_note_slot_address_and_cash_due(sim: WooCommerceSimulator) -> None:
    order_id = sim.place_food_order(
        [
            ("PIZ-4Q", 2, {"Tamaño": "Familiar", "Extra": "Champiñones", "Nota": "bien hecha"}),
            ("CANA", 1, {}),
        ],
        pickup=False,
        customer="Begoña Núñez",
        note="Llamar al timbre. Soy celíaca, sin gluten por favor",
        meta={"_delivery_date": "2026-12-06", "_delivery_time": "21:30"},
        phone="+34 600 123 456",
        address={"address_1": "Calle Año Nuevo 5", "postcode": "28013", "city": "Madrid"},
        paid=False,
    )
    connector = woo(sim, ManualClock(), timezone="Europe/Madrid")
    order = connector.get_order(str(order_id))
    pizza, drink = order.lines
    assert pizza.options == (LineOption("Tamaño", "Familiar"), LineOption("Extra", "Champiñones"))
    assert (pizza.note, pizza.tags, drink.tags) == ("bien hecha", ("Pizzas",), ("Bebidas",))
    assert order.note == "Llamar al timbre. Soy celíaca, sin gluten por favor"  # as written, not "#1042"
    assert order.allergies == "Soy celíaca, sin gluten por favor"
    assert order.requested_at == datetime(2026, 12, 6, 20, 30, tzinfo=UTC)  # 21:30 in Madrid
    assert order.phone == "+34 600 123 456" and order.address == "Calle Año Nuevo 5, 28013 Madrid"
    assert (order.pickup, order.paid, order.due_cents) == (False, False, 2550)


def test_stages_and_the_pickup_code_reach_the_customer_as_mailed_notes(sim: WooCommerceSimulator) -> None:
    order_id = sim.place_food_order([("PIZ-4Q", 1, {})], pickup=True)
    connector = woo(sim, ManualClock())
    connector.tell_customer(str(order_id), "Your pickup code: K7Q2XZ4A")
    connector.set_stage(
        StageChange(str(order_id), FloorStage.ACCEPTED, "Accepted: ready in 20 min", eta_minutes=20)
    )
    connector.set_stage(StageChange(str(order_id), FloorStage.READY, "Your order is ready to collect"))
    assert sim.orders[order_id].status == "processing"
    connector.set_stage(StageChange(str(order_id), FloorStage.COLLECTED, "Thank you!"))
    assert sim.orders[order_id].status == "completed"
    mailed = [(n["note"], n["customer_note"]) for n in sim.order_notes(order_id)]
    assert mailed == [
        ("Your pickup code: K7Q2XZ4A", True),
        ("Accepted: ready in 20 min", True),
        ("Your order is ready to collect", True),
        ("Thank you!", True),
    ]


def test_a_phone_order_is_created_in_the_shop_once_per_ref_and_reads_back_like_an_online_one(
    sim: WooCommerceSimulator,
) -> None:
    connector = woo(sim, ManualClock())
    draft = phone_draft("PIZ-4Q", 1)
    first = connector.create_order(draft)
    again = connector.create_order(draft)  # the request repeated after a lost answer
    assert first.order_id == again.order_id and len(sim.orders) == 1
    assert (
        first.lines[0].options == (LineOption("Extra", "Aceitunas"),) and first.lines[0].note == "sin cebolla"
    )
    assert (first.pickup, first.paid, first.customer, first.phone) == (True, False, "Luis Peña", "600111222")
    assert first.requested_at == datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    assert sim.stock("PIZ-4Q") == 39  # one stock truth: the shop took the unit


def test_odd_input_prints_with_warnings_instead_of_being_refused() -> None:
    raw = _raw_order(
        [{"id": 1, "name": "Pizza\x1b@ rara", "quantity": 500, "sku": "", "total": "1.00", "meta_data": []}]
    )
    order = screen(parse_order(raw))
    assert order.problem is None and order.lines[0].name == "Pizza@ rara"
    assert order.warnings == (
        "Pizza@ rara: not a product the shop knows (no sku)",
        "500 x Pizza@ rara: check the quantity",
        "control characters removed from the order's text",
    )


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
META = st.lists(
    st.fixed_dictionaries({"key": st.text(max_size=12), "value": JSONISH}, optional={"display_key": JSONISH}),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(item_meta=META, order_meta=META, note=JSONISH, shipping=JSONISH, paid=JSONISH)
def test_any_meta_note_or_address_reads_or_names_its_problem(
    item_meta, order_meta, note, shipping, paid
) -> None:
    line = {"id": 1, "name": "Pizza", "quantity": 1, "sku": "PIZ", "total": "9.50", "meta_data": item_meta}
    raw = {**_raw_order([line]), "meta_data": order_meta, "customer_note": note, "shipping": shipping}
    raw["date_paid_gmt"] = paid
    order = screen(read_order(raw))
    assert order.problem is None or order.problem
    assert all(isinstance(o.value, str) and o.value for o in order.lines[0].options) if order.lines else True


def _raw_order(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": 77,
        "number": "77",
        "status": "processing",
        "currency": "EUR",
        "total": "9.50",
        "date_created_gmt": "2026-12-06T19:00:00",
        "date_modified_gmt": "2026-12-06T19:00:00",
        "billing": {"first_name": "Ana"},
        "line_items": lines,
        "shipping_lines": [],
    }


def test_a_phone_order_for_a_product_the_shop_no_longer_has_is_refused_not_retried(
    sim: WooCommerceSimulator,
) -> None:
    """The simulator answered 500 (a server error the bridge retries for ever); WooCommerce answers 400."""
    from cloud_bridge.errors import RequestRejected

    connector = woo(sim, ManualClock())
    with pytest.raises(RequestRejected, match="woocommerce_rest_product_invalid_id"):
        connector.create_order(phone_draft("GONE-1", 1))
    assert sim.orders == {}
