"""The Shopify orders feed within its cost budget and for one location: however many orders change inside
the polling overlap window, each comes once without a raised page limit, re-reading the window costs one
cheap listing query, and an order assigned to another location is not this store's (one moved away after
it was placed comes withdrawn).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cloud_bridge.connectors import shopify_queries as q
from cloud_bridge.connectors.base import OrderState, ShopOrder
from cloud_bridge.connectors.shopify import ShopifyConnector
from simulators.shops import ManualClock, ShopifySimulator
from tests.shop_helpers import many, shopify

LOCATION = "gid://shopify/Location/1"
OTHER_STORE = "gid://shopify/Location/2"
THIRD_STORE = "gid://shopify/Location/3"


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


def next_second() -> None:
    """Waits for the shop's clock to show the next second: a change in the same second as the last one
    keeps the order's `updatedAt` (Shopify's precision), and the feed tells versions apart by it."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


def withdrawn(order: ShopOrder) -> bool:
    """The order as the feed gives one with nothing here: cancelled here, no lines, nothing held."""
    return (order.state, order.lines, order.holds_stock) == (OrderState.CANCELLED, (), False) and (
        order.status.endswith("/MOVED")
    )


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
    orders, _ = connector.orders_since(cursor)
    by_id = {o.order_id: o for o in orders}
    assert set(by_id) == {theirs, ours} and by_id[ours].lines and by_id[ours].state is OrderState.PAID
    assert withdrawn(by_id[theirs])  # nothing of it here: the bridge records none of it
    assert sim.stock("SKU-0000") == 1000  # its units came from the other location


def test_an_order_moved_to_another_location_comes_withdrawn_and_its_units_are_available_again(
    sim: ShopifySimulator, connector: ShopifyConnector
) -> None:
    """The merchant moved the order's fulfillment order away after the feed had returned it: the feed used
    to stop returning it, so the bridge held its units and kept it on the boxes for ever."""
    _, cursor, _ = drain(connector, None)
    order_id = sim.place_order("SKU-0000", 2, pickup=True)
    orders, cursor = connector.orders_since(cursor)
    assert [(o.order_id, o.state, len(o.lines)) for o in orders] == [(order_id, OrderState.PAID, 1)]
    next_second()
    sim.move_order(order_id, OTHER_STORE)
    assert sim.stock("SKU-0000") == 1000 and sim.on_hand("SKU-0000") == 1000
    [moved], _ = connector.orders_since(cursor)
    assert moved.order_id == order_id and withdrawn(moved)
    assert withdrawn(connector.get_order(order_id))


def test_a_split_order_whose_part_here_moves_away_keeps_only_what_is_still_here(
    sim: ShopifySimulator, connector: ShopifyConnector
) -> None:
    _, cursor, _ = drain(connector, None)
    split = sim.place_split_order(
        [("SKU-0000", 2, LOCATION), ("SKU-0001", 5, OTHER_STORE), ("SKU-0002", 3, LOCATION)]
    )
    _, cursor = connector.orders_since(cursor)
    next_second()
    sim.move_order(split, THIRD_STORE, quantities={"SKU-0000": 2, "SKU-0002": 1})
    assert sim.stock("SKU-0000") == 1000 and sim.stock("SKU-0002") == 998
    [shrunk], cursor = connector.orders_since(cursor)
    assert [(line.sku, line.qty) for line in shrunk.lines] == [("SKU-0002", 2)]
    assert shrunk.state is OrderState.PAID and shrunk.holds_stock
    next_second()
    sim.move_order(split, THIRD_STORE)  # the rest of its part here
    assert sim.stock("SKU-0002") == 1000
    [gone], _ = connector.orders_since(cursor)
    assert withdrawn(gone) and withdrawn(connector.get_order(split))


def test_an_order_split_over_two_locations_holds_and_completes_only_this_stores_lines(
    sim: ShopifySimulator, connector: ShopifyConnector
) -> None:
    """Shopify assigned two of three lines here and one to the other store: the order used to count whole
    here (the other store's units held, on the ticket, fulfilled by this till)."""
    _, cursor, _ = drain(connector, None)
    split = sim.place_split_order(
        [("SKU-0000", 2, LOCATION), ("SKU-0001", 5, OTHER_STORE), ("SKU-0002", 1, LOCATION)]
    )
    orders, _ = connector.orders_since(cursor)
    assert [o.order_id for o in orders] == [split]
    assert sorted((line.sku, line.qty) for line in orders[0].lines) == [("SKU-0000", 2), ("SKU-0002", 1)]
    assert connector.get_order(split).lines == orders[0].lines
    split_cost = connector.budget.costs["order split lines"]
    assert split_cost == q.split_lines_cost() <= 300  # the simulator's count of the second query

    done = connector.complete_order(split)
    assert sim.split_closed(split) == {LOCATION: True, OTHER_STORE: False}
    assert not sim.is_fulfilled(split)  # the other store still ships its line
    assert done.state is OrderState.COMPLETED and len(done.lines) == 2
    assert sim.on_hand("SKU-0000") == 998 and sim.on_hand("SKU-0002") == 999
    assert sim.stock("SKU-0001") == 1000 and sim.on_hand("SKU-0001") == 1000  # the other store's units


def test_an_order_at_one_location_costs_no_second_query(
    sim: ShopifySimulator, connector: ShopifyConnector
) -> None:
    _, cursor, _ = drain(connector, None)
    sim.place_order("SKU-0000", 2)
    before = connector.calls
    orders, _ = connector.orders_since(cursor)
    assert [(line.sku, line.qty) for line in orders[0].lines] == [("SKU-0000", 2)]
    assert connector.calls - before == 2  # the listing and the full order
    assert "order split lines" not in connector.budget.costs
