"""The bridge's side of orders on the boxes (`cloud_bridge.delivery`), on SQLite and PostgreSQL with a real
WooCommerce-style shop and a publisher that records what would go to the broker: resent until the box acks,
refusals parked, the ticket with the `orders` role and its failover, pickup keys and their rotation.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from cloud_bridge import delivery, fleet
from cloud_bridge import models as m
from cloud_bridge.db import Database
from cloud_bridge.parking import open_problems
from cloud_bridge.sync import ShopDriver
from simulators.shops import WooCommerceSimulator
from tests.bridge_helpers import (
    PICKUP_SECRET,
    Clock,
    RecordingPublisher,
    customer_code,
    database,
    driven_shop,
    postgres,
    run,
)
from wire import Kind, Order, OrderAck, PickupKey, State, now_ts, pickup_hash

__all__ = ["database", "postgres"]  # fixtures

BOXES = ["till-1", "till-2"]


@contextmanager
def shop(
    db: Database, **kw: object
) -> Iterator[tuple[WooCommerceSimulator, ShopDriver, RecordingPublisher, Clock]]:
    with driven_shop("woocommerce", db, count=3, boxes=BOXES, **kw) as (sim, d, publisher, clock):
        assert isinstance(sim, WooCommerceSimulator)
        yield sim, d, publisher, clock


def ack(db: Database, d: ShopDriver, box: str, message: OrderAck) -> None:
    with db.write():
        delivery.on_ack(d.shop, box, message, time.time())


def presence(db: Database, box: str, online: bool, at: float) -> None:
    state = State(True, "1", 1, "x", now_ts()) if online else State.offline(1)
    with db.write():
        fleet.on_state("shop", box, state, at)
        delivery.sync_presence("shop", box, at)


def test_an_order_goes_to_every_box_with_one_ticket_and_is_sent_again_until_acked(database: Database) -> None:
    with shop(database) as (sim, d, publisher, clock):
        order_id = str(sim.place_order("SKU-001", 1, pickup=True))
        run(d, clock)
        [one], [two] = publisher.orders("till-1"), publisher.orders("till-2")
        assert (one.ticket, two.ticket) == (True, False) and one.rev == two.rev == 1
        code = customer_code("shop", order_id)
        key = delivery.shop_pickup_key(PICKUP_SECRET.encode(), "shop", 1)
        assert one.pickup_hash == pickup_hash(key, order_id, code) and code not in repr(one)
        assert PickupKey(1, key.hex()) in publisher.messages("till-2", Kind.ORDERS)
        ack(database, d, "till-1", OrderAck(order_id, 1))
        run(d, clock, d.timing.orders_resend_s + 1)  # till-2 did not ack: it gets the order again, till-1 not
        assert len(publisher.orders("till-1")) == 1 and len(publisher.orders("till-2")) == 2
        ack(database, d, "till-2", OrderAck(order_id, 1))
        run(d, clock, d.timing.orders_resend_s + 1)
        assert len(publisher.orders("till-2")) == 2


def test_the_same_birth_again_does_not_send_a_box_its_unacked_orders_again(database: Database) -> None:
    """Every worker gets every retained birth, and gets them all again at each reconnect to the broker: the
    same birth twice is not a box coming back. On SQLite it was, and every box got its unacked orders again.
    """
    with shop(database) as (sim, d, publisher, clock):
        presence(database, "till-2", True, clock())
        sim.place_order("SKU-001", 1)
        run(d, clock)
        assert len(publisher.orders("till-2")) == 1
        presence(database, "till-2", True, clock())  # the retained birth, received again
        run(d, clock)
        assert len(publisher.orders("till-2")) == 1


def test_a_box_that_refuses_an_order_parks_it_with_the_reason_and_it_is_not_sent_again(
    database: Database,
) -> None:
    with shop(database) as (sim, d, publisher, clock):
        order_id = str(sim.place_order("SKU-001", 1))
        run(d, clock)
        ack(database, d, "till-2", OrderAck(order_id, refused="orders.lines[0].qty: expected an integer ≥ 1"))
        run(d, clock, d.timing.orders_resend_s + 1)
        assert len(publisher.orders("till-2")) == 1
        [problem] = open_problems("shop")
        assert problem.key == f"order/{order_id}/till-2" and "lines[0].qty" in problem.error


def test_an_ack_for_a_revision_the_bridge_never_sent_does_not_count_as_delivered(database: Database) -> None:
    with shop(database) as (sim, d, publisher, clock):
        order_id = str(sim.place_order("SKU-001", 1))
        run(d, clock)
        sim.cancel_order(int(order_id))
        run(d, clock)
        assert [o.state for o in publisher.orders("till-1")] == ["open", "cancelled"]
        ack(database, d, "till-1", OrderAck(order_id, 1))  # a late ack of the first revision
        run(d, clock, d.timing.orders_resend_s + 1)
        assert [o.rev for o in publisher.orders("till-1")] == [1, 2, 2]
        ack(database, d, "till-1", OrderAck(order_id, 99))  # more than was sent: counts as the latest
        run(d, clock, d.timing.orders_resend_s + 1)
        assert [o.rev for o in publisher.orders("till-1")] == [1, 2, 2]


def test_the_ticket_follows_the_orders_role_and_moves_only_off_a_box_away_too_long(
    database: Database,
) -> None:
    with shop(database, orders_box="till-2", orders_failover_s=60.0) as (sim, d, publisher, clock):
        presence(database, "till-1", True, clock())
        presence(database, "till-2", True, clock())
        first = str(sim.place_order("SKU-001", 1))
        run(d, clock)
        assert [o.ticket for o in publisher.orders("till-2")] == [True]
        presence(database, "till-2", False, clock())
        second = str(sim.place_order("SKU-002", 1))
        run(d, clock, 30)
        assert [o.order_id for o in publisher.orders("till-2")] == [first]  # offline: nothing sent to it
        run(d, clock, 31)  # away 61 s: its unacked tickets move to till-1, the first one too
        tickets = {(o.order_id, o.rev) for o in publisher.orders("till-1") if o.ticket}
        assert tickets == {(first, 2), (second, 2)}
        presence(database, "till-2", True, clock())
        run(d, clock)
        back = {o.order_id: o for o in publisher.orders("till-2")[1:]}
        assert {k: (v.rev, v.ticket) for k, v in back.items()} == {first: (2, False), second: (2, False)}


def test_an_order_the_role_holder_acked_stays_its_own_to_print(database: Database) -> None:
    with shop(database, orders_failover_s=60.0) as (sim, d, publisher, clock):
        for box in BOXES:
            presence(database, box, True, clock())
        order_id = str(sim.place_order("SKU-001", 1))
        run(d, clock)
        ack(database, d, "till-1", OrderAck(order_id, 1))
        presence(database, "till-1", False, clock())
        run(d, clock, 120)
        assert {(o.rev, o.ticket) for o in publisher.orders("till-2")} == {(1, False)}  # resent, never moved


def test_a_new_pickup_key_reaches_every_box_and_open_orders_are_hashed_with_it(database: Database) -> None:
    with shop(database) as (sim, d, publisher, clock):
        order_id = str(sim.place_order("SKU-001", 1, pickup=True))
        run(d, clock)
        d.shop = replace(d.shop, pickup_key_id=2)
        run(d, clock)
        key2 = delivery.shop_pickup_key(PICKUP_SECRET.encode(), "shop", 2)
        assert PickupKey(2, key2.hex()) in publisher.messages("till-1", Kind.ORDERS)
        latest: Order = publisher.orders("till-1")[-1]
        assert (latest.rev, latest.pickup_key) == (2, 2)
        assert latest.pickup_hash == pickup_hash(key2, order_id, customer_code("shop", order_id))
        with database.db.connection_context():
            assert m.Delivery.get(m.Delivery.box == "till-1", m.Delivery.ref == "key").rev == 2
