"""Online orders from the shop to the tills, end to end: a real mosquitto, the bridge on SQLite and on
PostgreSQL, a WooCommerce-style shop, and real boxes (store, core loop, link, print worker, virtual printer).

One order, one ticket: only the box holding the shop's `orders` role prints it, the ticket moves to another
box when that one is away too long, and nothing prints twice when it returns. Every box knows the order, so
the customer's code is verified at either till. An order is delivered when the box acks it, not when the
broker has it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloud_bridge import models as m
from cloud_bridge.config import BridgeConfig
from cloud_bridge.worker import Worker
from devices.barcodes import encode_pickup
from simulators.broker import Broker, free_port
from simulators.printer import VirtualPrinter
from simulators.shops import WooCommerceSimulator
from tests.bridge_helpers import (
    FAST,
    bridge_config,
    broker,
    customer_code,
    database_url,
    postgres,
    query,
    running_worker,
    shop_config,
    wait_for,
    woo,
)
from tests.mqtt_helpers import SHOP, rows, spawn_box
from tests.till_process import TillProcess
from wire import Kind, build_topic

__all__ = ["broker", "database_url", "postgres", "woo"]  # fixtures

FAILOVER_S = 5.0


@pytest.fixture
def config(database_url: str, broker: Broker, woo: Any) -> BridgeConfig:
    shop = replace(shop_config(SHOP, woo, ["till-1", "till-2"]), orders_failover_s=FAILOVER_S)
    return bridge_config(database_url, broker.url, [shop], timing=replace(FAST, orders_resend_s=1.0))


@pytest.fixture
def worker(config: BridgeConfig) -> Iterator[Worker]:
    with running_worker(config) as w:
        yield w


@dataclass
class Till:
    process: TillProcess
    printer: VirtualPrinter
    data_dir: Path

    def order_jobs(self) -> list[tuple[Any, ...]]:
        return rows(self.data_dir, "SELECT id, state FROM print_job WHERE kind = 'order'")

    def order(self, order_id: str) -> dict[str, Any] | None:
        """The order as this till keeps it (its latest revision), or None."""
        found = rows(self.data_dir, "SELECT payload FROM inbound_order WHERE order_id = ?", (order_id,))
        return json.loads(found[0][0]) if found else None


@contextlib.contextmanager
def till(tmp_path: Path, broker: Broker, box: str) -> Iterator[Till]:
    """A till in its own process (one store per process, as in production) with its virtual printer."""
    data_dir = tmp_path / box
    data_dir.mkdir(exist_ok=True)
    with VirtualPrinter() as printer:
        process = TillProcess(data_dir, broker.port, box, printer.url).start()
        try:
            yield Till(process, printer, data_dir)
        finally:
            process.stop()


def delivered(worker: Worker, box: str, order_id: str | None) -> bool:
    """The bridge has the box's ack for the latest revision of its view of the order (None: of the key)."""

    def read() -> bool:
        ref = "key" if order_id is None else f"order/{order_id}"
        row = m.Delivery.get_or_none(m.Delivery.shop == SHOP, m.Delivery.box == box, m.Delivery.ref == ref)
        return row is not None and row.acked >= row.rev

    return bool(query(worker, read))


def test_one_order_prints_one_ticket_at_a_shop_with_two_tills_and_either_till_checks_the_code(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator, worker: Worker
) -> None:
    with till(tmp_path, broker, "till-1") as one, till(tmp_path, broker, "till-2") as two:
        order_id = str(woo.place_order("SKU-001", 2, pickup=True, customer="Lucía"))
        [ticket] = one.printer.wait_for_tickets(1)
        assert f"#{order_id}" in ticket.text and "Lucía" in ticket.text
        for box in ("till-1", "till-2"):
            wait_for(partial(delivered, worker, box, order_id), what=f"{box} acks the order")
            wait_for(partial(delivered, worker, box, None), what=f"{box} acks the pickup key")
        assert (two.order(order_id) or {}).get("ticket") is False
        assert two.order_jobs() == [] and two.printer.tickets == []
        wait_for(lambda: query(worker, lambda: m.ShopOrder.get().printed_by) == "till-1", what="printed_by")

        code = customer_code(SHOP, order_id)
        assert two.process.scan(encode_pickup(order_id, "AAAAAAAA")) == (
            "error",
            f"wrong pickup code for order {order_id}",
        )
        assert two.process.scan(encode_pickup(order_id, code)) == ("ok", f"order {order_id} collected")
        wait_for(
            lambda: woo.order_status(int(order_id)) == "completed", what="the order completed in the shop"
        )
        # the bridge tells the other till, which now refuses the code too
        collected = lambda: (one.order(order_id) or {}).get("state") == "collected"  # noqa: E731
        wait_for(collected, what="till-1 hears the order was collected")
        scanned = one.process.scan(encode_pickup(order_id, code))
        assert scanned == ("error", f"order {order_id} was already collected")
        assert len(one.printer.tickets) == 1 and two.printer.tickets == []


def test_the_ticket_moves_when_the_orders_box_is_away_and_does_not_print_again_when_it_returns(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator, worker: Worker
) -> None:
    with till(tmp_path, broker, "till-2") as two:
        with till(tmp_path, broker, "till-1"):
            wait_for(lambda: _online(worker, "till-1"), what="till-1 online")
        wait_for(lambda: not _online(worker, "till-1"), what="till-1 offline (its Will)")
        order_id = str(woo.place_order("SKU-002", 1, pickup=True))
        [ticket] = two.printer.wait_for_tickets(1, timeout=4 * FAILOVER_S)
        assert f"#{order_id}" in ticket.text
        with till(tmp_path, broker, "till-1") as one:
            wait_for(lambda: delivered(worker, "till-1", order_id), what="till-1 acks the order")
            assert (one.order(order_id) or {}).get("ticket") is False
            assert one.order_jobs() == [] and one.printer.tickets == []
            code = customer_code(SHOP, order_id)
            assert one.process.scan(encode_pickup(order_id, code)) == ("ok", f"order {order_id} collected")
        assert len(two.printer.tickets) == 1


def _online(worker: Worker, box: str) -> bool:
    row = query(worker, lambda: m.Presence.get_or_none(m.Presence.shop == SHOP, m.Presence.box == box))
    return bool(row is not None and row.online)


def test_an_order_whose_copy_the_broker_lost_with_the_box_s_session_is_sent_again_until_acked(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator, worker: Worker
) -> None:
    """The box hangs (SIGSTOP: its connection stays up, the broker takes the order and PUBACKs it), its
    session is wiped by a client-id takeover, then it is killed (-9) and starts again: the broker's copy is
    gone with the session, so the bridge, which has no ack from the box, sends the order again."""
    data_dir = tmp_path / "till-1"
    data_dir.mkdir()
    process = spawn_box(data_dir, broker.port, "till-1", keepalive_s=30)
    try:
        wait_for(lambda: _online(worker, "till-1"), what="till-1 online")
        os.kill(process.pid, signal.SIGSTOP)
        order_id = str(woo.place_order("SKU-000", 1, pickup=True))
        wait_for(lambda: _sent(worker, "till-1", order_id), what="the broker has the order")
        _wipe_session("till-1", broker)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    assert rows(data_dir, "SELECT order_id FROM inbound_order") == []
    process = spawn_box(data_dir, broker.port, "till-1")
    try:
        wait_for(lambda: delivered(worker, "till-1", order_id), timeout=30, what="the order acked by the box")
        assert rows(data_dir, "SELECT order_id FROM inbound_order") == [(order_id,)]
    finally:
        process.terminate()
        process.wait(10)


def _sent(worker: Worker, box: str, order_id: str) -> bool:
    row = query(
        worker,
        lambda: m.Delivery.get_or_none(
            m.Delivery.shop == SHOP, m.Delivery.box == box, m.Delivery.ref == f"order/{order_id}"
        ),
    )
    return row is not None and row.sent > 0


def _wipe_session(client_id: str, broker: Broker) -> None:
    """Connects under the box's client id with a clean start and no session expiry, then leaves."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    client.connect("127.0.0.1", broker.port, clean_start=True, properties=props)
    client.loop_start()
    wait_for(client.is_connected, what="the takeover connection")
    client.disconnect()
    client.loop_stop()


def test_a_box_killed_between_receiving_an_order_and_printing_it_prints_it_once_after_restart(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator, worker: Worker
) -> None:
    data_dir = tmp_path / "till-1"
    data_dir.mkdir()
    unplugged = f"tcp://127.0.0.1:{free_port()}"  # nothing listens: the ticket waits in the print queue
    first = TillProcess(data_dir, broker.port, "till-1", unplugged).start()
    try:
        wait_for(lambda: _online(worker, "till-1"), what="till-1 online")
        order_id = str(woo.place_order("SKU-001", 1, pickup=True))
        wait_for(lambda: delivered(worker, "till-1", order_id), what="the order on the box's disk")
        # not printed: queued, or "printing" while the worker tries the printer that is not there
        [(state,)] = rows(data_dir, "SELECT state FROM print_job")
        assert state in ("queued", "printing")
    finally:
        first.kill()
    with VirtualPrinter() as printer:
        again = TillProcess(data_dir, broker.port, "till-1", printer.url).start()
        try:
            [ticket] = printer.wait_for_tickets(1)
            assert f"#{order_id}" in ticket.text
            printed_by = lambda: query(worker, lambda: m.ShopOrder.get().printed_by)  # noqa: E731
            wait_for(lambda: printed_by() == "till-1", what="order_printed reaches the bridge")
            wait_for(lambda: rows(data_dir, "SELECT 1 FROM journal") == [], what="the journal acked")
            assert rows(data_dir, "SELECT state FROM print_job") == [("done",)]
            assert len(printer.tickets) == 1
        finally:
            again.stop()


def test_malformed_order_acks_are_dropped_naming_the_field_and_orders_still_arrive(
    tmp_path: Path,
    broker: Broker,
    woo: WooCommerceSimulator,
    worker: Worker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    topic = build_topic(SHOP, "till-1", Kind.ORDERS_ACK)
    with caplog.at_level(logging.WARNING, "cloud_bridge"):
        for bad in (b'{"v": 1, "rev": 2}', b'{"v": 1, "order_id": "104"}', b"{not json"):
            _publish(broker, topic, bad)
        with till(tmp_path, broker, "till-1") as one:
            order_id = str(woo.place_order("SKU-001", 1))
            one.printer.wait_for_tickets(1)
            wait_for(lambda: delivered(worker, "till-1", order_id), what="the order acked")
    dropped = [r.getMessage() for r in caplog.records if "dropped a message on" in r.getMessage()]
    assert any("orders/ack.order_id: expected exactly one of order_id and key_id" in line for line in dropped)
    assert any("orders/ack.rev: required field is missing" in line for line in dropped)
    assert any("not valid JSON" in line for line in dropped)


def _publish(broker: Broker, topic: str, payload: bytes) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="tester", protocol=paho.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_an_order_cancelled_in_the_shop_takes_back_its_unprinted_ticket_and_is_refused_at_the_till(
    tmp_path: Path, broker: Broker, woo: WooCommerceSimulator, worker: Worker
) -> None:
    one_dir = tmp_path / "till-1"
    one_dir.mkdir()
    unplugged = f"tcp://127.0.0.1:{free_port()}"  # the ticket waits in till-1's print queue
    one = TillProcess(one_dir, broker.port, "till-1", unplugged).start()
    try:
        with till(tmp_path, broker, "till-2") as two:
            wait_for(lambda: _online(worker, "till-1"), what="till-1 online")
            order_id = str(woo.place_order("SKU-001", 1, pickup=True))
            wait_for(lambda: delivered(worker, "till-1", order_id), what="till-1 has the order")
            assert [state for _, state in rows(one_dir, "SELECT id, state FROM print_job")] == ["queued"]
            woo.cancel_order(int(order_id))
            cancelled = lambda: (two.order(order_id) or {}).get("state") == "cancelled"  # noqa: E731
            wait_for(cancelled, what="till-2 hears of the cancellation")
            code = customer_code(SHOP, order_id)
            refused = ("error", f"order {order_id} was cancelled: do not hand it over")
            assert two.process.scan(encode_pickup(order_id, code)) == refused
            withdrawn = lambda: rows(one_dir, "SELECT state FROM print_job") == [("withdrawn",)]  # noqa: E731
            wait_for(withdrawn, what="till-1 takes its ticket back")
            assert one.scan(encode_pickup(order_id, code)) == refused
            assert two.printer.tickets == []
    finally:
        one.stop()
