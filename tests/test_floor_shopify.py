"""A pizzeria's Shopify orders as the kitchen needs them, against the Shopify simulator over real HTTP:
line-item properties as toppings, the order's note kept, the slot from a note attribute, the outstanding
amount; "ready" marks the pickup prepared (Shopify's own "ready for pickup" notification)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_bridge.connectors.base import (
    FloorStage,
    LineOption,
    OrderDraft,
    OrderState,
    StageChange,
)
from cloud_bridge.connectors.shopify import read_order
from cloud_bridge.errors import RequestRejected, UnknownSku
from simulators.shops import ManualClock, ShopifySimulator
from tests.shop_helpers import SMALL, phone_draft, shopify
from wire import PhoneLine


@pytest.fixture
def sim() -> Iterator[ShopifySimulator]:
    with ShopifySimulator(SMALL, clock=ManualClock()) as shop:
        shop.add_product("PIZ-4Q", "Pizza cuatro quesos", 1150, 40)
        shop.categorise("PIZ-4Q", "Pizzas", ["horno"])
        yield shop


def test_a_food_order_reads_with_properties_note_slot_address_and_what_is_due(sim: ShopifySimulator) -> None:
    order_gid = sim.place_food_order(
        [("PIZ-4Q", 2, {"Masa": "Fina", "Extra": "Champiñones", "Note": "bien hecha", "_app_id": "x"})],
        pickup=False,
        customer="Begoña Núñez",
        note="Timbre 2ºB",
        attributes={"Delivery time": "2026-12-06T21:30:00+01:00", "Alergias": "frutos secos"},
        phone="+34 600 123 456",
        address={"address1": "Calle Año Nuevo 5", "zip": "28013", "city": "Madrid"},
        paid=False,
    )
    order = shopify(sim, ManualClock()).get_order(order_gid)
    [pizza] = order.lines
    assert pizza.options == (LineOption("Masa", "Fina"), LineOption("Extra", "Champiñones"))
    assert (pizza.note, pizza.tags) == ("bien hecha", ("Pizzas", "horno"))
    assert (order.note, order.allergies, order.phone) == ("Timbre 2ºB", "frutos secos", "+34 600 123 456")
    assert order.requested_at == datetime(2026, 12, 6, 20, 30, tzinfo=UTC)
    assert order.address == "Calle Año Nuevo 5, 28013 Madrid"
    assert (order.pickup, order.paid, order.due_cents) == (False, False, 2300)


def test_ready_sends_shopify_s_pickup_notification_and_the_code_goes_in_a_note_attribute(
    sim: ShopifySimulator,
) -> None:
    order_gid = sim.place_food_order([("PIZ-4Q", 1, {})], pickup=True, attributes={"Pickup time": "asap"})
    connector = shopify(sim, ManualClock())
    connector.tell_customer(order_gid, "Your pickup code: K7Q2XZ4A")
    connector.set_stage(StageChange(order_gid, FloorStage.ACCEPTED, "Ready in 15 min", eta_minutes=15))
    prepared, attributes, _ = sim.customer_view(order_gid)
    assert not prepared and attributes == [("Pickup time", "asap"), ("Tillbridge", "Ready in 15 min")]
    connector.set_stage(StageChange(order_gid, FloorStage.READY, "Ready to collect"))
    assert sim.customer_view(order_gid)[0] is True and sim.customer_view(order_gid)[2] == ["ready_for_pickup"]
    connector.set_stage(StageChange(order_gid, FloorStage.COLLECTED, "Thanks"))
    assert sim.is_fulfilled(order_gid)


PAIRS = st.lists(
    st.fixed_dictionaries(
        {"key": st.text(max_size=10), "value": st.none() | st.text(max_size=20) | st.integers()}
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(
    attributes=PAIRS, properties=PAIRS, note=st.none() | st.text(max_size=30), outstanding=st.text(max_size=6)
)
def test_any_properties_attributes_or_amounts_read_or_name_their_problem(
    attributes, properties, note, outstanding
):
    node = {
        "id": "gid://shopify/Order/9",
        "name": "#1009",
        "createdAt": "2026-12-06T19:00:00Z",
        "updatedAt": "2026-12-06T19:00:00Z",
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "note": note,
        "customAttributes": attributes,
        "totalOutstandingSet": {"shopMoney": {"amount": outstanding}},
        "lineItems": {
            "nodes": [
                {
                    "id": "gid://shopify/LineItem/1",
                    "sku": "PIZ",
                    "quantity": 1,
                    "customAttributes": properties,
                }
            ]
        },
    }
    order = read_order(node)
    assert order.problem is None or "totalOutstandingSet" in order.problem or order.problem
    if order.problem is None:
        assert all(o.value for o in order.lines[0].options)


def test_a_phone_order_is_created_once_per_ref_unpaid_and_reads_back_as_a_phone_order(
    sim: ShopifySimulator,
) -> None:
    connector = shopify(sim, ManualClock())
    draft = phone_draft("PIZ-4Q", 2)
    first = connector.create_order(draft)
    again = connector.create_order(draft)  # the request repeated after a lost answer
    assert first.order_id == again.order_id and len(sim.orders) == 1 and len(sim.drafts) == 1
    assert (
        first.lines[0].options == (LineOption("Extra", "Aceitunas"),) and first.lines[0].note == "sin cebolla"
    )
    assert (first.source, first.pickup, first.customer, first.phone) == (
        "phone",
        True,
        "Luis Peña",
        "600111222",
    )
    assert (first.state, first.paid, first.due_cents) == (OrderState.PAID, False, 2300)  # made now, paid here
    assert first.requested_at == datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    assert sim.stock("PIZ-4Q") == 38  # one stock truth: the shop took the units


def test_a_phone_order_whose_completion_failed_completes_its_draft_on_resend_not_a_second_one(
    sim: ShopifySimulator,
) -> None:
    connector = shopify(sim, ManualClock())
    sim.fail_next(400, match="draftOrderComplete")
    with pytest.raises(RequestRejected):
        connector.create_order(phone_draft("PIZ-4Q", 1))
    assert len(sim.drafts) == 1 and sim.orders == {} and sim.stock("PIZ-4Q") == 40  # a draft holds nothing
    created = connector.create_order(phone_draft("PIZ-4Q", 1))
    assert len(sim.drafts) == 1 and list(sim.orders) == [int(created.order_id.rpartition("/")[2])]
    assert sim.stock("PIZ-4Q") == 39


def test_a_phone_order_the_shop_refuses_names_the_sku_or_the_field(sim: ShopifySimulator) -> None:
    connector = shopify(sim, ManualClock())
    with pytest.raises(UnknownSku, match="NOPE"):
        connector.create_order(OrderDraft(ref="r1", lines=(PhoneLine("NOPE", 1),), customer="Ana"))
    with pytest.raises(RequestRejected, match=r"lineItems\.0\.quantity"):
        connector.create_order(OrderDraft(ref="r2", lines=(PhoneLine("PIZ-4Q", 0),), customer="Ana"))
    assert sim.orders == {} and sim.stock("PIZ-4Q") == 40
