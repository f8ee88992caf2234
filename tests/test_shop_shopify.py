"""The Shopify connector against the Shopify simulator, over real HTTP, on a shared manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from cloud_bridge.connectors import OrderState, StockChange, StockDelta, shift_stock
from cloud_bridge.errors import (
    NotApplied,
    RequestRejected,
    ShopAuthError,
    StaleStock,
    StockNotManaged,
    UnknownSku,
)
from simulators.shops import ManualClock, ShopifySimulator
from tests.shop_helpers import SMALL, many, shopify


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[ShopifySimulator]:
    with ShopifySimulator(SMALL, clock=clock) as shop:
        yield shop


def test_stock_is_read_set_and_adjusted(sim: ShopifySimulator, clock: ManualClock) -> None:
    connector = shopify(sim, clock)
    level = connector.get_stock(["OIL-1L", "NOPE"])
    assert list(level) == ["OIL-1L"] and level["OIL-1L"].quantity == 24 and level["OIL-1L"].version
    assert connector.set_stock([StockChange("OIL-1L", 10)])[0].quantity == 10
    [adjusted] = connector.adjust_stock([StockDelta("OIL-1L", -3)], "sale-1")
    assert adjusted.quantity == 7 and sim.stock("OIL-1L") == 7


def test_the_same_idempotency_key_applies_once(sim: ShopifySimulator, clock: ManualClock) -> None:
    connector = shopify(sim, clock)
    first = connector.adjust_stock([StockDelta("MILK-1L", -2), StockDelta("BREAD", 5)], "journal-42")
    again = connector.adjust_stock([StockDelta("MILK-1L", -2), StockDelta("BREAD", 5)], "journal-42")
    assert first == again
    assert (sim.stock("MILK-1L"), sim.stock("BREAD")) == (46, 20)
    [other] = connector.adjust_stock([StockDelta("MILK-1L", -9)], "journal-42")
    assert (
        isinstance(other.error, RequestRejected) and other.error.code == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    )
    assert sim.stock("MILK-1L") == 46


def test_a_timed_out_adjustment_retried_with_its_key_is_applied_once(clock: ManualClock) -> None:
    with ShopifySimulator(SMALL, clock=clock) as sim:
        connector = shopify(sim, clock, timeout=0.3)
        connector.get_stock(["OIL-1L"])
        sim.slow_next(0.8, match="inventoryAdjustQuantities")  # applied, but after the client gave up
        [result] = connector.adjust_stock([StockDelta("OIL-1L", -1)], "sale-7")
        assert result.ok
        assert sim.wait_idle()  # the slow first attempt has now been applied too, or deduplicated
        assert sim.calls["graphql inventoryAdjustQuantities"] == 2
        assert sim.stock("OIL-1L") == 23


def test_compare_and_swap_refuses_a_stale_quantity_and_reports_the_fresh_one(
    sim: ShopifySimulator, clock: ManualClock
) -> None:
    connector = shopify(sim, clock)
    connector.get_stock(["BREAD"])
    sim.place_order("BREAD", 2)
    [result] = connector.set_stock([StockChange("BREAD", 20, expected=15)])
    assert isinstance(result.error, StaleStock) and result.error.current == 13
    assert sim.stock("BREAD") == 13


def test_a_stale_read_is_retried_with_the_fresh_value(sim: ShopifySimulator, clock: ManualClock) -> None:
    connector = shopify(sim, clock)
    sim.before_next(lambda: sim.place_order("OIL-1L", 2), match="inventorySetQuantities")
    [result] = shift_stock(connector, [StockDelta("OIL-1L", -5)], "unused", use_deltas=False)
    assert result.ok and result.quantity == 24 - 2 - 5 == sim.stock("OIL-1L")
    assert sim.calls["graphql inventorySetQuantities"] == 2


def test_one_failing_item_holds_back_its_request_and_the_others_are_resent(
    sim: ShopifySimulator, clock: ManualClock
) -> None:
    connector = shopify(sim, clock)
    connector.get_stock(["OIL-1L", "MILK-1L", "BREAD"])
    sim.variants[next(v.id for v in sim.variants.values() if v.sku == "MILK-1L")].stocked = False
    adjusted = connector.adjust_stock([StockDelta("OIL-1L", -1), StockDelta("MILK-1L", -1)], "k-1")
    assert isinstance(adjusted[0].error, NotApplied) and isinstance(adjusted[1].error, StockNotManaged)
    assert sim.stock("OIL-1L") == 24  # all or nothing
    written = connector.set_stock([StockChange("BREAD", 1), StockChange("MILK-1L", 1)])
    assert written[0].ok and isinstance(written[1].error, StockNotManaged)
    assert sim.stock("BREAD") == 1


def test_untracked_and_unknown_skus_are_refused_without_a_mutation(
    sim: ShopifySimulator, clock: ManualClock
) -> None:
    sim.add_product("SERVICE", "Montaje", 500, 0, tracked=False)
    connector = shopify(sim, clock)
    results = connector.adjust_stock([StockDelta("SERVICE", 1), StockDelta("NOPE", 1)], "k")
    assert isinstance(results[0].error, StockNotManaged) and isinstance(results[1].error, UnknownSku)
    assert "graphql inventoryAdjustQuantities" not in sim.calls


def test_queries_wait_for_the_cost_bucket_instead_of_being_throttled(clock: ManualClock) -> None:
    with ShopifySimulator(many(50), clock=clock, bucket_size=1000, restore_rate=50) as sim:
        connector = shopify(sim, clock)
        skus = [f"SKU-{i:04d}" for i in range(50)]
        for _ in range(6):
            assert len(connector.get_stock(skus)) == 50  # 402 points each
        assert sim.throttled == 0
        assert sim.calls["graphql productVariants"] == 6
        assert clock.sleeps and all(
            wait <= 403 / 50 + 0.05 for wait in clock.sleeps
        )  # never more than needed
        assert sum(clock.sleeps) == pytest.approx((6 * 402 - 1000) / 50, abs=0.5)


def test_a_throttled_query_waits_for_the_refill_it_needs(clock: ManualClock) -> None:
    with ShopifySimulator(many(50), clock=clock, bucket_size=1000, restore_rate=50) as sim:
        sim.spend(900)  # another worker of the same app emptied the bucket
        connector = shopify(sim, clock)
        assert len(connector.get_stock([f"SKU-{i:04d}" for i in range(50)])) == 50
        assert sim.throttled == 1
        assert max(clock.sleeps) >= (402 - 100) / 50


def test_a_bad_token_is_a_permanent_error(sim: ShopifySimulator, clock: ManualClock) -> None:
    with pytest.raises(ShopAuthError, match="demo-shopify"):
        shopify(sim, clock, access_token="shpat_wrong").get_stock(["OIL-1L"])
    assert sim.total_calls == 1


def test_orders_are_polled_and_a_pickup_is_fulfilled(sim: ShopifySimulator, clock: ManualClock) -> None:
    connector = shopify(sim, clock)
    order_id = sim.place_order("BREAD", 2, pickup=True)
    orders, cursor = connector.orders_since(None)
    assert [(o.order_id, o.state, o.pickup, o.lines[0].qty, o.total_cents) for o in orders] == [
        (order_id, OrderState.PAID, True, 2, 360)
    ]
    assert sim.stock("BREAD") == 13 and sim.on_hand("BREAD") == 15
    assert connector.orders_since(cursor)[0] == []
    done = connector.complete_order(order_id)
    assert done.state is OrderState.COMPLETED and sim.is_fulfilled(order_id)
    assert sim.on_hand("BREAD") == 13
    assert [o.state for o in connector.orders_since(cursor)[0]] == [OrderState.COMPLETED]


def test_price_changes_appear_in_products_since(sim: ShopifySimulator, clock: ManualClock) -> None:
    connector = shopify(sim, clock)
    products, cursor = connector.products_since(None)
    assert {p.sku: p.price_cents for p in products} == {"OIL-1L": 1095, "MILK-1L": 99, "BREAD": 180}
    sim.set_price("MILK-1L", 105)
    changed, _ = connector.products_since(cursor)
    assert [(p.sku, p.price_cents, p.name) for p in changed] == [("MILK-1L", 105, "Leche 1 L")]


def test_the_simulator_requires_idempotency_from_2026_04(sim: ShopifySimulator) -> None:
    query = (
        'mutation { inventoryAdjustQuantities(input: {name: "available", reason: "correction", changes: []})'
        " { userErrors { code } } }"
    )
    reply = requests.post(
        f"{sim.url}/admin/api/2026-04/graphql.json",
        json={"query": query},
        headers={"X-Shopify-Access-Token": sim.access_token},
        timeout=5,
    ).json()
    assert "idempotent" in reply["errors"][0]["message"]
    older = requests.post(
        f"{sim.url}/admin/api/2026-01/graphql.json",
        json={"query": query},
        headers={"X-Shopify-Access-Token": sim.access_token},
        timeout=5,
    ).json()
    assert older["data"]["inventoryAdjustQuantities"] == {"userErrors": []}


def test_a_write_of_600_skus_goes_in_mutations_of_at_most_250(clock: ManualClock) -> None:
    with ShopifySimulator(many(600), clock=clock, bucket_size=20000, restore_rate=20000) as sim:
        connector = shopify(sim, clock)
        skus = [f"SKU-{i:04d}" for i in range(600)]
        results = connector.adjust_stock([StockDelta(s, -1) for s in skus], "burst")
        assert all(r.ok for r in results) and {sim.stock(s) for s in skus} == {9}
        assert sim.calls["graphql inventoryAdjustQuantities"] == 3  # 250 + 250 + 100
        results = connector.set_stock([StockChange(s, 4, expected=9) for s in skus])
        assert all(r.ok for r in results) and sim.calls["graphql inventorySetQuantities"] == 3


def test_the_simulator_refuses_more_than_250_changes_in_one_mutation(sim: ShopifySimulator) -> None:
    changes = ", ".join(
        '{delta: -1, inventoryItemId: "gid://shopify/InventoryItem/1", locationId: "gid://shopify/Location/1"}'
        for _ in range(251)
    )
    query = (
        'mutation { inventoryAdjustQuantities(input: {reason: "correction", name: "available", '
        f"changes: [{changes}]}}) {{ userErrors {{ code message }} }} }}"
    )
    reply = requests.post(
        f"{sim.url}/admin/api/2025-10/graphql.json",
        json={"query": query},
        headers={"X-Shopify-Access-Token": sim.access_token},
        timeout=5,
    )
    assert "greater than the maximum allowed of 250" in reply.json()["errors"][0]["message"]
    assert sim.stock("OIL-1L") == 24  # nothing applied
