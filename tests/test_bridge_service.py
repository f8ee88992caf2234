"""A bridge worker end to end: a real mosquitto, boxes played with the wire contract, a simulated shop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import requests
from paho.mqtt.enums import CallbackAPIVersion

from cloud_bridge import models as m
from cloud_bridge.config import BridgeConfig
from cloud_bridge.intake import Inbound
from cloud_bridge.status import fleet_view, render
from cloud_bridge.worker import Worker
from simulators.broker import Broker, free_port
from simulators.shops import WooCommerceSimulator
from tests.bridge_helpers import (
    FAST,
    PlayedBox,
    batch,
    bridge_config,
    broker,
    customer_code,
    running_worker,
    sale,
    shop_config,
    wait_for,
    woo,
)
from wire import CatalogRequest, CatalogSnapshotChunk, State, Telemetry, build_topic, encode, now_ts
from wire import Kind as K

__all__ = ["broker", "woo"]  # fixtures


@pytest.fixture
def config(tmp_path: Path, broker: Broker, woo: WooCommerceSimulator) -> BridgeConfig:
    shop = shop_config("corner", woo, ["till-1", "till-2"])
    return bridge_config(f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop])


@pytest.fixture
def worker(config: BridgeConfig) -> Iterator[Worker]:
    with running_worker(config) as w:
        yield w


@pytest.fixture
def till(broker: Broker) -> Iterator[PlayedBox]:
    box = PlayedBox("corner", "till-1", broker.url)
    yield box
    box.close()


def publish(broker: Broker, topic: str, payload: bytes, retain: bool = False) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="tester")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_a_sale_at_the_till_lowers_the_online_stock_and_is_acked(
    worker: Worker, till: PlayedBox, woo: WooCommerceSimulator
) -> None:
    till.sell("SKU-001", 2)
    till.sell("SKU-001")
    till.wait_acked()
    wait_for(lambda: woo.stock("SKU-001") == 7, what="the shop to show 7")


def test_an_online_pickup_order_prints_at_the_till_and_closes_when_collected(
    worker: Worker, till: PlayedBox, woo: WooCommerceSimulator, broker: Broker
) -> None:
    other = PlayedBox("corner", "till-2", broker.url)
    try:
        order_id = woo.place_order("SKU-002", 2, pickup=True)
        order = till.next_order()
        assert order.order_id == str(order_id) and order.kind == "pickup" and order.pickup_hash
        assert other.next_order().order_id == str(order_id)
        code = customer_code("corner", str(order_id))
        till.record("order_collected", order_id=str(order_id), pickup_code=code)
        wait_for(lambda: woo.order_status(order_id) == "completed", what="the order completed in the shop")
        assert woo.stock("SKU-002") == 8
    finally:
        other.close()


def test_the_fleet_view_follows_births_wills_and_telemetry(
    worker: Worker, broker: Broker, config: BridgeConfig
) -> None:
    birth = State(True, "0.1.0", 7, "cafe", now_ts())
    publish(broker, build_topic("corner", "till-1", K.STATE), encode(birth), retain=True)
    telemetry = Telemetry(60, 4, {"scanner": "ok"}, 100.0, 0.5, None, now_ts())
    publish(broker, build_topic("corner", "till-1", K.TELEMETRY), encode(telemetry))
    wait_for(lambda: m.Box.get_or_none(m.Box.box == "till-1", m.Box.telemetry.is_null(False)) is not None)
    publish(broker, build_topic("corner", "till-1", K.STATE), encode(State.offline(6)))  # a late Will
    publish(broker, build_topic("corner", "till-9", K.STATE), encode(State.offline(1)))  # not in the config
    ignored = "state from a box not in the config"
    wait_for(lambda: worker.intake.report()["dropped"].get(ignored) == 1, what="till-9's state ignored")
    [shop] = fleet_view(config).shops
    boxes = {box.box: box for box in shop.boxes}
    assert boxes["till-1"].online is True and boxes["till-1"].backlog == 4
    assert boxes["till-2"].online is None and "till-9" not in boxes
    text = render(fleet_view(config))
    assert "box till-1: online, v0.1.0" in text and "till-9" not in text


def test_telemetry_among_journal_batches_is_recorded_and_every_batch_applied(worker: Worker) -> None:
    """Telemetry waiting in a worker's queue between journal batches is recorded after them, in one go,
    instead of cutting the run of batches in two."""
    _, first_payload = batch(sale(1, "SKU-000", -1), acked=0)
    _, second_payload = batch(sale(2, "SKU-001", -1), acked=1)
    telemetry = Telemetry(60, 0, {"scanner": "ok"}, 100.0, 0.5, None, now_ts())
    worker.handle_all(
        [
            Inbound(build_topic("corner", "till-1", K.JOURNAL), first_payload),
            Inbound(build_topic("corner", "till-2", K.TELEMETRY), encode(telemetry)),
            Inbound(build_topic("corner", "till-1", K.JOURNAL), second_payload),
        ]
    )
    with worker.db.db.connection_context():
        stream = m.Stream.get(m.Stream.shop == "corner", m.Stream.box == "till-1")
        reported = m.Box.get(m.Box.shop == "corner", m.Box.box == "till-2")
    assert stream.last_seq == 2
    assert json.loads(reported.telemetry)["devices"] == {"scanner": "ok"}


def test_a_box_that_asks_for_the_catalog_gets_a_snapshot(
    worker: Worker, till: PlayedBox, broker: Broker
) -> None:
    publish(broker, build_topic("corner", "till-1", K.CATALOG_REQUEST), encode(CatalogRequest(None, "boot")))
    wait_for(lambda: bool(till.catalog), what="a snapshot")
    # The shop's first start also sends every box the catalog: the broker may hold that copy for this
    # box's persistent session, so the answer can come second. Each copy is the whole catalog.
    for chunk in till.catalog:
        assert isinstance(chunk, CatalogSnapshotChunk)
        assert [(p.sku, p.stock) for p in chunk.products] == [
            ("SKU-000", 10),
            ("SKU-001", 10),
            ("SKU-002", 10),
        ]


def test_a_box_missing_from_the_config_is_not_acked_and_is_parked(worker: Worker, broker: Broker) -> None:
    stranger = PlayedBox("corner", "till-7", broker.url)
    try:
        stranger.sell("SKU-000")
        wait_for(lambda: m.Parked.select().where(m.Parked.key == "box/till-7").exists(), what="parked box")
        assert stranger.acked == 0 and m.Movement.select().count() == 0
    finally:
        stranger.close()


def test_garbage_is_dropped_and_the_worker_carries_on(
    worker: Worker, till: PlayedBox, broker: Broker
) -> None:
    publish(broker, build_topic("corner", "till-1", K.JOURNAL), b'{"v": 1, "entries": [{"seq": "x"}]}')
    publish(broker, build_topic("corner", "till-1", K.JOURNAL), b"\xff" * 10)
    till.sell("SKU-000")
    till.wait_acked()
    assert m.Movement.select().count() == 1


def test_an_unreadable_batch_is_parked_naming_the_field_and_an_absurd_entry_does_not_stall_the_box(
    worker: Worker, broker: Broker, woo: WooCommerceSimulator
) -> None:
    """Issue 13 finding 9 end to end: a delta of 2**63 - 1 never reaches the shop, and later sales do."""
    topic = build_topic("corner", "till-2", K.JOURNAL)
    publish(broker, topic, b'{"v": 1, "epoch": "a1b2c3d4e5f60718", "entries": [{"seq": "x"}]}')
    wait_for(lambda: m.Parked.select().where(m.Parked.key == "batch/till-2").exists(), what="parked batch")
    assert "journal.entries[0].seq: expected an integer" in m.Parked.get(m.Parked.key == "batch/till-2").error
    entries = [
        {"seq": seq, "kind": "sale", "ts": now_ts(), "sku": "SKU-000", "delta": delta, "stock_after": 0}
        for seq, delta in ((1, 2**63 - 1), (2, -2))
    ]
    batch = {"v": 1, "epoch": "a1b2c3d4e5f60718", "acked": 0, "entries": entries}
    publish(broker, topic, json.dumps(batch).encode())
    wait_for(lambda: woo.stock("SKU-000") == 8, what="the sale after the absurd entry in the shop")
    parked = m.Parked.get(m.Parked.key == "entry/till-2/a1b2c3d4e5f60718/1")
    assert "delta: expected an integer from -1000000000 to 1000000000" in parked.error
    text = render(fleet_view(worker.config))
    assert "entry/till-2/a1b2c3d4e5f60718/1" in text and "journal applied to seq 2" in text


def test_a_webhook_brings_an_order_without_waiting_for_the_next_poll(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator, till: PlayedBox
) -> None:
    port = free_port()
    shop = shop_config("corner", woo, ["till-1"])
    shop = replace(shop, credentials={**shop.credentials, "webhook_secrets": ["whsec-test"]})
    slow_polls = replace(FAST, orders_s=3600.0, products_s=3600.0)
    config = bridge_config(
        f"sqlite:///{tmp_path / 'hooks.db'}",
        broker.url,
        [shop],
        timing=slow_polls,
        webhook_listen=f"127.0.0.1:{port}",
    )
    worker = Worker(config).start()
    try:
        assert worker.ready(10)
        wait_for(lambda: m.ShopState.select().where(m.ShopState.name == "initialised").exists())
        url = f"http://127.0.0.1:{port}/webhooks/corner"
        hook = {"name": "bridge", "topic": "order.created", "delivery_url": url, "secret": "whsec-test"}
        auth = (woo.consumer_key, woo.consumer_secret)
        assert requests.post(f"{woo.url}/wp-json/wc/v3/webhooks", json=hook, auth=auth, timeout=5).ok
        order_id = woo.place_order("SKU-000", 1, pickup=True)
        assert till.next_order(timeout=5).order_id == str(order_id)
        forged = requests.post(url, data=b'{"id": 1}', headers={"X-WC-Webhook-Signature": "AAAA"}, timeout=5)
        assert forged.status_code == 401
        assert (
            requests.post(f"http://127.0.0.1:{port}/webhooks/elsewhere", data=b"{}", timeout=5).status_code
            == 404
        )
    finally:
        worker.stop()
