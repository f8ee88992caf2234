"""The WooCommerce connector against the WooCommerce simulator, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from cloud_bridge.connectors import OrderState, StockChange, StockDelta
from cloud_bridge.errors import (
    NotApplied,
    RequestRejected,
    StaleStock,
    StockNotManaged,
    UnknownSku,
    UnsupportedOperation,
)
from simulators.shops import ManualClock, WooCommerceSimulator
from tests.shop_helpers import SMALL, many, woo


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim() -> Iterator[WooCommerceSimulator]:
    with WooCommerceSimulator(SMALL) as shop:
        yield shop


def test_stock_is_read_and_written_by_sku(sim: WooCommerceSimulator, clock: ManualClock) -> None:
    connector = woo(sim, clock)
    assert connector.get_stock(["OIL-1L", "BREAD"])["OIL-1L"].quantity == 24
    results = connector.set_stock([StockChange("OIL-1L", 7), StockChange("BREAD", 0)])
    assert [(r.sku, r.quantity, r.ok) for r in results] == [("OIL-1L", 7, True), ("BREAD", 0, True)]
    assert sim.stock("OIL-1L") == 7
    level = connector.get_stock(["OIL-1L"])["OIL-1L"]
    assert level.quantity == 7 and level.version is not None


def test_unknown_skus_are_absent_from_reads_and_refused_per_item(
    sim: WooCommerceSimulator, clock: ManualClock
) -> None:
    connector = woo(sim, clock)
    assert connector.get_stock(["NOPE"]) == {}
    results = connector.set_stock([StockChange("NOPE", 3), StockChange("MILK-1L", 40)])
    assert isinstance(results[0].error, UnknownSku) and "NOPE" in str(results[0].error)
    assert results[1].ok and sim.stock("MILK-1L") == 40


def test_250_items_go_in_three_batches_and_a_failing_item_is_reported_on_that_item(
    clock: ManualClock,
) -> None:
    with WooCommerceSimulator(many(250)) as sim:
        sim.reject_writes("SKU-0123")
        connector = woo(sim, clock)
        results = connector.set_stock([StockChange(f"SKU-{i:04d}", i % 7) for i in range(250)])
        assert sim.calls["POST /products/batch"] == 3
        assert sim.calls["GET /products"] == 3  # sku lookups, 100 per request
        failed = [r for r in results if not r.ok]
        assert [r.sku for r in failed] == ["SKU-0123"]
        assert isinstance(failed[0].error, RequestRejected)
        assert failed[0].error.code == "woocommerce_rest_cannot_edit"
        assert sim.stock("SKU-0122") == 122 % 7 and sim.stock("SKU-0124") == 124 % 7
        assert sim.stock("SKU-0123") == 10


def test_the_simulator_refuses_batches_above_100_with_413(sim: WooCommerceSimulator) -> None:
    body = {"update": [{"id": 101, "stock_quantity": 1}] * 101}
    reply = requests.post(
        f"{sim.url}/wp-json/wc/v3/products/batch",
        json=body,
        auth=(sim.consumer_key, sim.consumer_secret),
        timeout=5,
    )
    assert reply.status_code == 413
    assert reply.json()["code"] == "woocommerce_rest_request_entity_too_large"
    too_many = requests.get(
        f"{sim.url}/wp-json/wc/v3/products",
        params={"per_page": "101"},
        auth=(sim.consumer_key, sim.consumer_secret),
        timeout=5,
    )
    assert too_many.status_code == 400 and too_many.json()["code"] == "rest_invalid_param"


def test_variations_are_written_through_their_parent(sim: WooCommerceSimulator, clock: ManualClock) -> None:
    parent = sim.add_variable_product("Camiseta", [("TEE-S", "S", 1500, 4), ("TEE-M", "M", 1500, 6)])
    connector = woo(sim, clock)
    results = connector.set_stock([StockChange("TEE-M", 2), StockChange("OIL-1L", 1)])
    assert all(r.ok for r in results)
    assert sim.stock("TEE-M") == 2 and sim.stock("TEE-S") == 4
    assert sim.calls["POST /products/{id}/variations/batch"] == 1
    assert sim.calls["POST /products/batch"] == 1
    assert parent in sim.products


def test_unmanaged_stock_is_refused_before_writing(sim: WooCommerceSimulator, clock: ManualClock) -> None:
    sim.add_product("GIFT-CARD", "Tarjeta regalo", 2000, None)
    connector = woo(sim, clock)
    assert connector.get_stock(["GIFT-CARD"])["GIFT-CARD"].quantity is None
    [result] = connector.set_stock([StockChange("GIFT-CARD", 5)])
    assert isinstance(result.error, StockNotManaged)
    assert "POST /products/batch" not in sim.calls


def test_a_product_deleted_after_lookup_is_reported_then_unknown(
    sim: WooCommerceSimulator, clock: ManualClock
) -> None:
    connector = woo(sim, clock)
    connector.get_stock(["BREAD"])
    sim.delete_product("BREAD")
    [first] = connector.set_stock([StockChange("BREAD", 3)])
    assert isinstance(first.error, NotApplied)
    [second] = connector.set_stock([StockChange("BREAD", 3)])
    assert isinstance(second.error, UnknownSku)


def test_expected_quantity_is_checked_just_before_writing(
    sim: WooCommerceSimulator, clock: ManualClock
) -> None:
    connector = woo(sim, clock)
    sim.place_order("OIL-1L", 2)
    [stale] = connector.set_stock([StockChange("OIL-1L", 30, expected=24)])
    assert isinstance(stale.error, StaleStock) and stale.error.current == 22
    assert sim.stock("OIL-1L") == 22
    [fresh] = connector.set_stock([StockChange("OIL-1L", 30, expected=22)])
    assert fresh.ok and sim.stock("OIL-1L") == 30


def test_deltas_are_refused_as_unsupported(sim: WooCommerceSimulator, clock: ManualClock) -> None:
    with pytest.raises(UnsupportedOperation, match="demo-woo"):
        woo(sim, clock).adjust_stock([StockDelta("OIL-1L", -1)], "key")


def test_orders_are_polled_with_a_cursor_that_loses_nothing_and_repeats_nothing(
    sim: WooCommerceSimulator, clock: ManualClock
) -> None:
    connector = woo(sim, clock)
    first = sim.place_order("MILK-1L", 2, pickup=True)
    orders, cursor = connector.orders_since(None)
    assert [(o.order_id, o.state, o.pickup, o.holds_stock) for o in orders] == [
        (str(first), OrderState.PAID, True, True)
    ]
    assert orders[0].lines[0].sku == "MILK-1L" and orders[0].total_cents == 198
    assert connector.orders_since(cursor)[0] == []
    second = sim.place_order("BREAD", 1)  # within the same second as the first, most likely
    orders, cursor = connector.orders_since(cursor)
    assert [o.order_id for o in orders] == [str(second)]
    sim.cancel_order(first)
    orders, cursor = connector.orders_since(cursor)
    assert [(o.order_id, o.state, o.holds_stock) for o in orders] == [
        (str(first), OrderState.CANCELLED, False)
    ]
    assert sim.stock("MILK-1L") == 48


def test_click_and_collect_is_completed_in_the_shop(sim: WooCommerceSimulator, clock: ManualClock) -> None:
    order_id = sim.place_order("OIL-1L", 1, pickup=True)
    order = woo(sim, clock).complete_order(str(order_id))
    assert order.state is OrderState.COMPLETED and sim.order_status(order_id) == "completed"
    assert sim.stock("OIL-1L") == 23


def test_price_changes_appear_in_products_since(sim: WooCommerceSimulator, clock: ManualClock) -> None:
    connector = woo(sim, clock)
    products, cursor = connector.products_since(None)
    assert {p.sku: p.price_cents for p in products} == {"OIL-1L": 1095, "MILK-1L": 99, "BREAD": 180}
    assert connector.products_since(cursor)[0] == []
    sim.set_price("BREAD", 195)
    changed, _ = connector.products_since(cursor)
    assert [(p.sku, p.price_cents) for p in changed] == [("BREAD", 195)]
