"""A Shopify order moved to another location after the bridge learned it (`fulfillmentOrderMove`), against
the real simulator over HTTP, on SQLite and PostgreSQL: its hold here is released and it leaves the boxes'
floor; a split order whose part here moves away keeps only what is still here; an order at another
location never reaches the ledger or the boxes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.db import Database
from cloud_bridge.sync import ShopDriver
from simulators.shops import ShopifySimulator
from tests.bridge_helpers import (
    Clock,
    RecordingPublisher,
    database,
    driver,
    postgres,
    run,
    seed,
    shop_config,
    start_simulator,
)

__all__ = ["database", "postgres"]  # fixtures

BOXES = ["till-1", "till-2"]
HERE = "gid://shopify/Location/1"
OTHER_STORE = "gid://shopify/Location/2"
THIRD_STORE = "gid://shopify/Location/3"


@contextmanager
def shop(db: Database) -> Iterator[tuple[ShopifySimulator, ShopDriver, RecordingPublisher, Clock]]:
    sim = start_simulator("shopify", seed(3, 20))
    assert isinstance(sim, ShopifySimulator)
    try:
        publisher, clock = RecordingPublisher(), Clock()
        d = driver(db, shop_config("shop", sim, BOXES), publisher, clock)
        d.run_pass(force=True)
        yield sim, d, publisher, clock
    finally:
        sim.stop()


def next_second() -> None:
    """Waits for the shop's clock to show the next second, so the move is a new `updatedAt` (Shopify's
    precision: the feed tells an order's versions apart by it)."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


def held(sku: str) -> tuple[int, int]:
    """(on hand, reserved) of a sku in the ledger."""
    level = ledger.levels("shop", [sku])[sku]
    return level.on_hand, level.reserved


def floor(publisher: RecordingPublisher, box: str, order_id: str) -> tuple[str, list[tuple[str, int]]]:
    """The box's latest view of an order: its state and lines (sku, qty)."""
    latest = [o for o in publisher.orders(box) if o.order_id == order_id][-1]
    return latest.state, [(line.sku, line.qty) for line in latest.lines]


def test_an_order_moved_to_another_location_gives_its_units_back_and_leaves_the_boxes_floor(
    database: Database,
) -> None:
    """The feed stopped returning a moved order, so its hold stayed for ever: the tills' stock stayed short
    by its units and its ticket and pickup stayed on their floor."""
    with shop(database) as (sim, d, publisher, clock):
        order_id = sim.place_order("SKU-001", 2, pickup=True)
        run(d, clock)
        assert held("SKU-001") == (20, 2)
        assert all(floor(publisher, box, order_id) == ("open", [("SKU-001", 2)]) for box in BOXES)
        next_second()
        sim.move_order(order_id, OTHER_STORE)
        run(d, clock)
        assert held("SKU-001") == (20, 0)
        assert all(floor(publisher, box, order_id)[0] == "cancelled" for box in BOXES)
        assert sim.stock("SKU-001") == 20  # the shop's own number, which the bridge left alone


def test_an_order_at_another_location_never_reaches_the_ledger_or_the_boxes(database: Database) -> None:
    with shop(database) as (sim, d, publisher, clock):
        theirs = sim.place_order("SKU-000", 2, pickup=True, location=OTHER_STORE)
        run(d, clock)
        assert held("SKU-000") == (20, 0)
        assert publisher.orders("till-1") == [] and publisher.orders("till-2") == []
        assert not m.ShopOrder.select().where(m.ShopOrder.order_id == theirs).exists()


def test_a_split_order_whose_part_here_moves_away_holds_only_what_is_still_here_then_leaves(
    database: Database,
) -> None:
    with shop(database) as (sim, d, publisher, clock):
        split = sim.place_split_order(
            [("SKU-000", 2, HERE), ("SKU-001", 5, OTHER_STORE), ("SKU-002", 3, HERE)]
        )
        run(d, clock)
        assert (held("SKU-000"), held("SKU-001"), held("SKU-002")) == ((20, 2), (20, 0), (20, 3))
        next_second()
        sim.move_order(split, THIRD_STORE, quantities={"SKU-000": 2, "SKU-002": 1})
        run(d, clock)
        assert (held("SKU-000"), held("SKU-002")) == ((20, 0), (20, 2))
        assert all(floor(publisher, box, split) == ("open", [("SKU-002", 2)]) for box in BOXES)
        next_second()
        sim.move_order(split, THIRD_STORE)  # the rest of its part here
        run(d, clock)
        assert (held("SKU-000"), held("SKU-002")) == ((20, 0), (20, 0))
        assert all(floor(publisher, box, split)[0] == "cancelled" for box in BOXES)
        assert (sim.stock("SKU-000"), sim.stock("SKU-002")) == (20, 20)
