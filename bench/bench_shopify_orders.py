"""What re-reading the Shopify orders feed's overlap window costs, in Shopify's cost points, when many
orders fall in it: the connector's listing (ids, times and statuses, 250 a query) against the baseline of
re-reading the window's full orders (lines, totals, fulfillment orders: six a query), the way the feed
read before. Through the real connector against the Shopify simulator over HTTP, its bucket charging the
requested cost of each query as Shopify does.

Points are what a poll costs the shop's bucket (refilled at 100 points/s on a standard plan), so they say
how long the feed keeps the bucket busy; `SHOPIFY_ORDERS_BENCH_N` sets the orders in the window (120).
"""

from __future__ import annotations

import os

from bench.common import Result, alternate
from cloud_bridge.connectors import ConnectorOptions
from cloud_bridge.connectors import shopify_queries as q
from cloud_bridge.connectors.shopify import ShopifyConnector
from simulators.shops import ManualClock, ShopifySimulator
from simulators.shops.seed import Item

ROUNDS = 5


def run() -> list[Result]:
    count = int(os.environ.get("SHOPIFY_ORDERS_BENCH_N", "120"))
    clock = ManualClock()
    seed = [Item(f"SKU-{n}", f"Item {n}", 100, 100_000) for n in range(3)]
    with ShopifySimulator(seed, clock=clock, bucket_size=1_000_000.0) as sim:
        for n in range(count):
            sim.place_order(f"SKU-{n % 3}", 1)
        options = ConnectorOptions(clock=clock, max_pages=1000)
        connector = ShopifyConnector("bench", sim.url, sim.access_token, "1", options=options)
        cursor = None
        while True:  # drain: the window now holds `count` orders the cursor has returned
            found, cursor = connector.orders_since(cursor)
            if not found:
                break
        window = cursor

        def points(poll: object) -> float:
            before = sim.bucket.level()
            assert callable(poll)
            poll()
            return before - sim.bucket.level()

        def ours() -> float:
            return points(lambda: connector.orders_since(window))

        def baseline() -> float:
            search = "updated_at:>'2000-01-01T00:00:00Z'"
            variables = {"query": search, "first": q.ORDER_PAGE}
            return points(lambda: connector._pages("orders", q.ORDERS, variables, q.orders_cost(), 1000))

        samples = alternate(ROUNDS, ours, baseline)
        connector.close()
    return [samples.duration(f"shopify_orders_window_repoll_{count}", "cost points")]
