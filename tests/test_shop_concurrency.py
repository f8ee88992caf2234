"""Online orders placed from another thread while a connector writes stock: where the API has atomic
deltas or compare-and-swap the end numbers are exact; with absolute writes the lost update is real and
visible in the orders feed, which is how the bridge corrects it.
"""

from __future__ import annotations

import random
import threading
from collections import Counter

from cloud_bridge.connectors import StockChange, StockDelta, shift_stock
from simulators.shops import ManualClock, ShopifySimulator, WooCommerceSimulator
from tests.shop_helpers import many, shopify, woo

SKUS = [f"SKU-{i:04d}" for i in range(5)]


class OnlineShoppers(threading.Thread):
    """Places `count` one-unit orders on random skus, as fast as the shop takes them."""

    def __init__(self, sim: ShopifySimulator | WooCommerceSimulator, count: int) -> None:
        super().__init__(daemon=True)
        self.sim, self.count = sim, count
        self.bought: Counter[str] = Counter()
        self.go = threading.Event()

    def run(self) -> None:
        self.go.wait(5)
        rng = random.Random(3)
        for _ in range(self.count):
            sku = rng.choice(SKUS)
            self.sim.place_order(sku, 1)
            self.bought[sku] += 1


def test_idempotent_deltas_and_concurrent_orders_add_up_exactly() -> None:
    clock = ManualClock()
    with ShopifySimulator(many(5, stock=500), clock=clock) as sim:
        connector = shopify(sim, clock)
        shoppers = OnlineShoppers(sim, 60)
        shoppers.start()
        sold: Counter[str] = Counter()
        sim.fail_next(503, times=2, match="inventoryAdjustQuantities")
        shoppers.go.set()
        for n in range(30):
            sku = SKUS[n % len(SKUS)]
            [result] = connector.adjust_stock([StockDelta(sku, -2)], f"till-{n}")
            assert result.ok
            sold[sku] += 2
        shoppers.join(10)
        for sku in SKUS:
            assert sim.stock(sku) == 500 - sold[sku] - shoppers.bought[sku]


def test_compare_and_swap_writes_never_lose_an_online_sale() -> None:
    clock = ManualClock()
    with ShopifySimulator(many(5, stock=500), clock=clock) as sim:
        connector = shopify(sim, clock)
        shoppers = OnlineShoppers(sim, 60)
        shoppers.start()
        shoppers.go.set()
        for n in range(20):
            sku = SKUS[n % len(SKUS)]
            [result] = shift_stock(connector, [StockDelta(sku, -1)], f"k{n}", use_deltas=False, attempts=20)
            assert result.ok
        shoppers.join(10)
        for sku in SKUS:
            assert sim.stock(sku) == 500 - 4 - shoppers.bought[sku]


def test_absolute_writes_can_lose_a_sale_and_the_orders_feed_shows_it() -> None:
    clock = ManualClock()
    with WooCommerceSimulator(many(5, stock=50)) as sim:
        connector = woo(sim, clock)
        _, cursor = connector.orders_since(None)
        level = connector.get_stock(["SKU-0001"])["SKU-0001"].quantity
        assert level == 50
        sim.before_next(lambda: sim.place_order("SKU-0001", 3), match="batch")
        [written] = connector.set_stock([StockChange("SKU-0001", level - 1)])  # a till sale of one
        assert written.quantity == 49 and sim.stock("SKU-0001") == 49  # the web sale of 3 was overwritten
        orders, _ = connector.orders_since(cursor)
        assert [(o.lines[0].sku, o.lines[0].qty) for o in orders] == [("SKU-0001", 3)]
        corrected = 50 - 1 - 3
        [fixed] = connector.set_stock([StockChange("SKU-0001", corrected, expected=49)])
        assert fixed.ok and sim.stock("SKU-0001") == 46


def test_absolute_writes_under_concurrent_orders_stay_consistent_with_what_the_shop_answered() -> None:
    clock = ManualClock()
    with WooCommerceSimulator(many(5, stock=500)) as sim:
        connector = woo(sim, clock)
        _, cursor = connector.orders_since(None)
        shoppers = OnlineShoppers(sim, 40)
        shoppers.start()
        shoppers.go.set()
        for n in range(15):
            results = connector.set_stock([StockChange(sku, 400 + n) for sku in SKUS])
            assert all(r.ok for r in results)
        shoppers.join(10)
        seen: Counter[str] = Counter()
        while True:
            orders, cursor = connector.orders_since(cursor)
            if not orders:
                break
            for order in orders:
                seen[order.lines[0].sku] += order.lines[0].qty
        assert seen == shoppers.bought  # every online sale is reported, so the bridge can correct
