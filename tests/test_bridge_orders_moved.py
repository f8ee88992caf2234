"""A Shopify order moved to another location after the bridge learned it (`fulfillmentOrderMove`), against
the real simulator over HTTP, on SQLite and PostgreSQL: its hold here is released and it leaves the boxes'
floor; a split order whose part here moves away keeps only what is still here; an order at another
location never reaches the ledger or the boxes. Moved back here, it holds its units again and is back on
the floor; a stale read or an order handed over never holds units again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from cloud_bridge import delivery, ledger, orders
from cloud_bridge import models as m
from cloud_bridge.connectors import ShopOrder
from cloud_bridge.db import Database
from cloud_bridge.sync import ShopDriver
from simulators.shops import ShopifySimulator
from tests.bridge_helpers import (
    Clock,
    RecordingPublisher,
    database,
    driven_shop,
    postgres,
    run,
)
from wire import OrderAck

__all__ = ["database", "postgres"]  # fixtures

BOXES = ["till-1", "till-2"]
HERE = "gid://shopify/Location/1"
OTHER_STORE = "gid://shopify/Location/2"
THIRD_STORE = "gid://shopify/Location/3"


@contextmanager
def shop(db: Database) -> Iterator[tuple[ShopifySimulator, ShopDriver, RecordingPublisher, Clock]]:
    with driven_shop("shopify", db, count=3, boxes=BOXES) as (sim, d, publisher, clock):
        assert isinstance(sim, ShopifySimulator)
        yield sim, d, publisher, clock


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


def ack_all(db: Database, d: ShopDriver, publisher: RecordingPublisher, order_id: str) -> int:
    """Every box acks the latest revision it got of the order; returns the highest."""
    revs = []
    with db.write():
        for box in BOXES:
            latest = [o for o in publisher.orders(box) if o.order_id == order_id][-1]
            delivery.on_ack(d.shop, box, OrderAck(order_id, latest.rev), time.time())
            revs.append(latest.rev)
    return max(revs)


def apply(db: Database, d: ShopDriver, order: ShopOrder) -> None:
    """The bridge applies this read of an order (one it read earlier: a stale or out-of-order read)."""
    with db.write():
        orders.apply_orders("shop", [order], BOXES, d.secret, time.time())


def test_an_order_moved_away_and_back_holds_its_units_again_and_is_back_on_the_boxes_floor(
    database: Database,
) -> None:
    """Moved back here, Shopify committed its units again while the ledger kept its lines released ("an
    order is counted once"): the tills could sell the units the online order owns (an oversell), and the
    order never came back to the boxes' floor."""
    with shop(database) as (sim, d, publisher, clock):
        order_id = sim.place_order("SKU-001", 2, pickup=True)
        run(d, clock)
        next_second()
        sim.move_order(order_id, OTHER_STORE)
        run(d, clock)
        cancelled = ack_all(database, d, publisher, order_id)
        run(d, clock)  # every box has it cancelled: it is off the floor
        assert m.OrderTicket.get(m.OrderTicket.order_id == order_id).done
        next_second()
        sim.move_order(order_id, HERE, from_location=OTHER_STORE)
        run(d, clock)
        assert held("SKU-001") == (20, 2) and sim.stock("SKU-001") == 18
        assert ledger.levels("shop", ["SKU-001"])["SKU-001"].available == 18  # what the tills can sell
        assert all(floor(publisher, box, order_id) == ("open", [("SKU-001", 2)]) for box in BOXES)
        back = {box: [o for o in publisher.orders(box) if o.order_id == order_id][-1] for box in BOXES}
        assert all(view.rev > cancelled for view in back.values())  # a box ignores a revision it has
        assert (back["till-1"].ticket, back["till-2"].ticket) == (True, False)  # withdrawn unprinted


def test_a_split_orders_part_moved_back_here_holds_its_units_again(database: Database) -> None:
    with shop(database) as (sim, d, publisher, clock):
        split = sim.place_split_order(
            [("SKU-000", 2, HERE), ("SKU-001", 5, OTHER_STORE), ("SKU-002", 3, HERE)]
        )
        run(d, clock)
        next_second()
        sim.move_order(split, THIRD_STORE, quantities={"SKU-000": 2, "SKU-002": 1})
        run(d, clock)
        assert (held("SKU-000"), held("SKU-002")) == ((20, 0), (20, 2))
        next_second()
        sim.move_order(split, HERE, from_location=THIRD_STORE)
        run(d, clock)
        assert (held("SKU-000"), held("SKU-001"), held("SKU-002")) == ((20, 2), (20, 0), (20, 3))
        assert (sim.stock("SKU-000"), sim.stock("SKU-002")) == (18, 17)
        assert all(
            floor(publisher, box, split) == ("open", [("SKU-000", 2), ("SKU-002", 3)]) for box in BOXES
        )


def test_a_stale_read_from_before_an_order_moved_away_does_not_hold_its_units_again(
    database: Database,
) -> None:
    with shop(database) as (sim, d, publisher, clock):
        order_id = sim.place_order("SKU-001", 2, pickup=True)
        run(d, clock)
        before = d.connector.get_order(order_id)  # paid, here
        next_second()
        sim.move_order(order_id, OTHER_STORE)
        run(d, clock)
        sent = len(publisher.orders("till-1"))
        apply(database, d, before)
        run(d, clock)
        assert held("SKU-001") == (20, 0)
        assert (
            len(publisher.orders("till-1")) == sent and floor(publisher, "till-1", order_id)[0] == "cancelled"
        )


def test_an_order_handed_over_and_seen_again_as_paid_is_not_held_again(database: Database) -> None:
    with shop(database) as (sim, d, _, clock):
        order_id = sim.place_order("SKU-001", 2)
        run(d, clock)
        paid = d.connector.get_order(order_id)
        next_second()
        d.connector.complete_order(order_id)  # shipped from here
        run(d, clock)
        assert held("SKU-001") == (18, 0)
        apply(database, d, paid)
        assert held("SKU-001") == (18, 0)
