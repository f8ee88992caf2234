"""The Shopify orders feed within its cost budget and for one location: however many orders change inside
the polling overlap window, each comes once without a raised page limit, re-reading the window costs one
cheap listing query, and an order assigned to another location is not this store's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloud_bridge.connectors import shopify_queries as q
from cloud_bridge.connectors.shopify import ShopifyConnector
from simulators.shops import ManualClock, ShopifySimulator
from tests.shop_helpers import many, shopify

OTHER_STORE = "gid://shopify/Location/2"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[ShopifySimulator]:
    with ShopifySimulator(many(3, stock=1000), clock=clock) as shop:
        yield shop


@pytest.fixture
def connector(sim: ShopifySimulator, clock: ManualClock) -> Iterator[ShopifyConnector]:
    made = shopify(sim, clock)
    yield made
    made.close()


def drain(connector: ShopifyConnector, cursor: str | None) -> tuple[list[str], str, int]:
    """Calls `orders_since` until it returns nothing: (order ids in order, last cursor, calls made)."""
    found: list[str] = []
    for calls in range(1, 100):
        orders, cursor = connector.orders_since(cursor)
        found += [o.order_id for o in orders]
        if not orders:
            return found, cursor, calls
    raise AssertionError("the orders feed never ran dry")


def test_a_burst_of_orders_inside_one_overlap_window_comes_once_each_without_a_raised_page_limit(
    sim: ShopifySimulator, connector: ShopifyConnector
) -> None:
    """120 orders in the same seconds: the old feed re-read the 10 s window at ~930 points a page of 10 and
    could not get past ~50 orders with the default five pages."""
    _, cursor, _ = drain(connector, None)
    placed = [sim.place_order(f"SKU-000{n % 3}", 1) for n in range(120)]
    found, cursor, calls = drain(connector, cursor)
    assert sorted(found) == sorted(placed) and len(set(found)) == 120
    per_call = 5 * q.ORDER_PAGE  # the default five pages of full orders a call
    assert calls == -(-120 // per_call) + 1  # then one call that finds nothing
    before = connector.calls
    assert connector.orders_since(cursor)[0] == []
    assert connector.calls - before == 1  # re-reading the window: one listing query
    assert connector.budget.costs["orders listing"] == q.order_list_cost() <= 260


def test_an_order_assigned_to_another_location_is_not_this_stores(
    sim: ShopifySimulator, connector: ShopifyConnector
) -> None:
    _, cursor, _ = drain(connector, None)
    theirs = sim.place_order("SKU-0000", 2, pickup=True, location=OTHER_STORE)
    ours = sim.place_order("SKU-0001", 1, pickup=True)
    found, _, _ = drain(connector, cursor)
    assert found == [ours] and theirs not in found
    assert sim.stock("SKU-0000") == 1000  # its units came from the other location
