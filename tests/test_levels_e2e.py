"""A real box, a second till, the bridge and an online shop agree on every sku after every channel's change.

Real mosquitto, the bridge worker on SQLite and on PostgreSQL, the WooCommerce simulator, the box's own core
loop and MQTT link; the second till is played with the wire contract.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloud_bridge.orders import pickup_code
from cloud_bridge.worker import Worker
from devices.barcodes import encode_pickup
from devices.readings import ScanRead
from firmware_agent.domain import Mode
from firmware_agent.events import ModeRequest
from firmware_agent.store.orders import find_order
from simulators.shops import Item, WooCommerceSimulator
from tests.bridge_helpers import (
    PICKUP_SECRET,
    PlayedBox,
    bridge_config,
    database_url,
    postgres,
    shop_config,
    started_worker,
    wait_for,
)
from tests.mqtt_helpers import SHOP, broker, new_box_id, running_box, settle

__all__ = ["broker", "database_url", "postgres"]  # fixtures

MILK = "8410000000023"


@pytest.fixture
def woo() -> Iterator[WooCommerceSimulator]:
    sim = WooCommerceSimulator([Item("MILK", "Leche entera", 99, 24), Item("OIL-1L", "Aceite 1 L", 1095, 10)])
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def bridge(database_url, broker, woo) -> Iterator[tuple[Worker, str]]:
    box = new_box_id()
    worker = started_worker(
        bridge_config(database_url, broker.url, [shop_config(SHOP, woo, [box, "till-2"])])
    )
    yield worker, box
    worker.stop()


def stock(box, sku: str = "MILK") -> int:
    return int(box.core.call(lambda store: store.product(sku).stock))


def agree(box, woo: WooCommerceSimulator, expected: int, what: str) -> None:
    settle(
        box,
        lambda: stock(box) == expected and woo.stock("MILK") == expected,
        what=f"{what}: both at {expected}",
    )


def test_the_box_and_the_shop_agree_after_click_and_collect_and_a_sale_at_a_second_till(
    tmp_path, broker, woo, bridge
):
    _, box_id = bridge
    other = PlayedBox(SHOP, "till-2", broker.url)
    try:
        with running_box(tmp_path, broker.url, box_id) as box:
            agree(box, woo, 24, "at the start")
            order_id = woo.place_order("MILK", 2, pickup=True)
            agree(box, woo, 22, "after the online order")  # the box showed 24 while the shop showed 22
            assert other.next_order().order_id == str(order_id)
            code = pickup_code(PICKUP_SECRET.encode(), SHOP, str(order_id))  # on the customer's confirmation
            settle(box, lambda: box.core.call(lambda store: find_order(store, str(order_id))) is not None)
            box.core.post(ScanRead("counter", encode_pickup(str(order_id), code)))
            wait_for(lambda: woo.order_status(order_id) == "completed", what="the order completed")
            agree(box, woo, 22, "after the hand-over")
            other.sell("MILK", 3)
            agree(box, woo, 19, "after a sale at the second till")
            box.core.post(ScanRead("front", MILK))
            agree(box, woo, 18, "after a sale at this till")
    finally:
        other.close()


def test_a_count_at_the_till_keeps_an_online_order_and_a_sale_at_another_till_made_meanwhile(
    tmp_path, broker, woo, database_url
):
    box_id = new_box_id()
    config = bridge_config(database_url, broker.url, [shop_config(SHOP, woo, [box_id, "till-2"])])
    worker = started_worker(config)
    other = PlayedBox(SHOP, "till-2", broker.url)
    try:
        with running_box(tmp_path, broker.url, box_id, ack_timeout_s=0.5) as box:  # resends soon
            woo.place_order("MILK", 2, status="completed")  # shipped online
            other.sell("MILK", 3)
            agree(box, woo, 19, "before the count")  # the box knows both: it shows 24 - 5
            worker.stop()  # the bridge is away: nothing of what follows reaches the box before its count
            box.core.post(ModeRequest(Mode.COUNT, "button"))
            for _ in range(17):
                box.core.post(ScanRead("front", MILK))  # 17 on the shelf as the box saw it (2 turned up)
            settle(box, lambda: stock(box) == 17, what="the box counted 17")
            woo.place_order("MILK", 1, status="completed")  # meanwhile, another online order shipped ...
            other.sell("MILK", 4)  # ... and the other till sold 4
            worker = started_worker(config)
            # neither erased (17) nor subtracted twice (17 - 5 - 5): 17 less what happened meanwhile
            agree(box, woo, 12, "after the count")
    finally:
        other.close()
        worker.stop()


def test_a_box_back_from_offline_shows_what_another_till_and_the_shop_did_meanwhile(
    tmp_path, broker, woo, bridge
):
    _, box_id = bridge
    other = PlayedBox(SHOP, "till-2", broker.url)
    try:
        with running_box(tmp_path, broker.url, box_id) as box:
            agree(box, woo, 24, "at the start")
        other.sell("MILK", 5)  # while the box is off
        woo.place_order("MILK", 3, pickup=True)
        wait_for(lambda: woo.stock("MILK") == 16, what="the shop at 16")
        with running_box(tmp_path, broker.url, box_id) as box:
            agree(box, woo, 16, "back online")
    finally:
        other.close()
