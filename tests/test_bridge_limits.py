"""Per-box rate limits and bounded queues in a bridge worker, with a real mosquitto and SQLite: one box that
floods the bridge (catalog requests, journals, telemetry) cannot stall the other boxes, and what was held
back is counted where `bridge status` shows it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud_bridge import models as m
from cloud_bridge.config import BridgeConfig
from cloud_bridge.status import fleet_view, render
from cloud_bridge.worker import Worker
from simulators.broker import Broker
from simulators.shops import WooCommerceSimulator
from tests.bridge_helpers import (
    PlayedBox,
    bridge_config,
    broker,
    database_url,
    postgres,
    shop_config,
    started_worker,
    wait_for,
    woo,
)
from wire import CatalogRequest, build_topic, encode
from wire import Kind as K

__all__ = ["broker", "database_url", "postgres", "woo"]  # fixtures

PRODUCTS = 3000


@pytest.fixture
def config(database_url: str, broker: Broker, woo: WooCommerceSimulator) -> BridgeConfig:
    return bridge_config(database_url, broker.url, [shop_config("corner", woo, ["till-1", "till-2"])])


@pytest.fixture
def worker(config: BridgeConfig) -> Iterator[Worker]:
    w = started_worker(config)
    with w.db.write():
        rows = [
            {"shop": "corner", "sku": f"BIG-{i:05d}", "name": f"Product {i}", "price_cents": 100 + i,
             "barcodes": "[]", "version": 1, "deleted": False}
            for i in range(PRODUCTS)
        ]  # fmt: skip
        m.CatalogItem.insert_many(rows).execute()
    yield w
    w.stop()


def flood(broker: Broker, topic: str, payload: bytes, count: int) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="flooder")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for _ in range(count)]
    for info in infos:
        info.wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def test_a_box_asking_for_the_catalog_in_a_loop_does_not_stall_the_other_boxes(
    worker: Worker, broker: Broker, config: BridgeConfig
) -> None:
    """Issue 13, finding 8: each catalog/request built a full snapshot on the apply thread; one box asking
    in a loop held every other box's journal back for half a minute."""
    other = PlayedBox("corner", "till-2", broker.url)
    try:
        request = encode(CatalogRequest(None, "boot"))
        flood(broker, build_topic("corner", "till-1", K.CATALOG_REQUEST), request, 60)
        started = time.monotonic()
        other.sell("SKU-000")
        other.wait_acked(timeout=20)
        assert time.monotonic() - started < 2.0, "the other box's sale waited behind the catalog requests"
        wait_for(lambda: "catalog/request" in render(fleet_view(config)), what="the limit in bridge status")
        text = render(fleet_view(config))
        assert "till-1" in text and "rate-limited" in text
    finally:
        other.close()
