"""A catalog snapshot streamed to the box chunk by chunk through a real mosquitto: staged in the store as it
arrives, the old catalog live for the scans until the last chunk switches the new one in, resumed after a
kill -9 or a broker restart, the missing chunks asked for by number, a hostile chunk refused by name.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devices.readings import ScanRead
from firmware_agent.link import Link
from simulators.broker import Broker
from tests.mqtt_helpers import (
    WAIT_S,
    CloudPeer,
    LogWatch,
    RunningBox,
    broker,
    new_box_id,
    rows,
    running_box,
    settle,
    spawn_box,
)
from wire import CatalogRequest, CatalogSnapshotChunk, Kind, Product

__all__ = ["broker"]

MILK = "8410000000023"  # "Leche entera" in the sample catalog the boxes start with
VERSION = 7


def snapshot(chunks: int = 3) -> list[CatalogSnapshotChunk]:
    """Version 7 of the catalog: the milk renamed and repriced, 30 more products, in `chunks` chunks."""
    products = [Product("MILK", "Leche NUEVA", 105, (MILK,), 40)]
    products += [Product(f"NEW-{i:02d}", f"Nuevo {i}", 100 + i, (), 5) for i in range(30)]
    size = -(-len(products) // chunks)
    return [
        CatalogSnapshotChunk(VERSION, i, chunks, tuple(products[i * size : (i + 1) * size]))
        for i in range(chunks)
    ]


def live_version(data_dir: Path) -> str | None:
    found = rows(data_dir, "SELECT value FROM setting WHERE key = 'catalog_version'")
    return found[0][0] if found else None


def staged_chunks(data_dir: Path) -> list[int]:
    return [chunk for (chunk,) in rows(data_dir, "SELECT chunk FROM catalog_stage_chunk ORDER BY chunk")]


def products(data_dir: Path) -> int:
    return int(rows(data_dir, "SELECT COUNT(*) FROM product")[0][0])


def scan(box: RunningBox, code: str) -> str:
    """What the till's operator sees for a scan (the link's own calls on the loop are passed over)."""
    box.core.post(ScanRead("till", code))
    while not isinstance((applied := box.running.next()).event, ScanRead):
        pass
    return applied.outcome.message


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Polls another process's store (no event crosses processes) until `condition` or a deadline."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Broker]:
    with Broker(tmp_path / "broker") as running:
        yield running


def test_scans_during_the_stream_see_the_old_catalog_until_the_last_chunk_switches_it_in(tmp_path, broker):
    box_id = new_box_id()
    cloud = CloudPeer(broker.port, box=box_id)
    try:
        with running_box(tmp_path, broker.url, box_id) as box:
            first, second, last = snapshot()
            cloud.send(first)
            cloud.send(second)
            settle(box, lambda: staged_chunks(tmp_path) == [0, 1], what="two chunks staged")
            assert "Leche entera" in scan(box, MILK)
            assert products(tmp_path) == 4 and live_version(tmp_path) is None
            cloud.send(last)
            settle(box, lambda: live_version(tmp_path) == str(VERSION), what="version 7 live")
            assert products(tmp_path) == 31 and staged_chunks(tmp_path) == []
            assert "Leche NUEVA" in scan(box, MILK)
    finally:
        cloud.close()


def test_a_hostile_chunk_is_refused_by_name_and_harms_neither_the_stage_nor_the_catalog(tmp_path, broker):
    box_id = new_box_id()
    cloud = CloudPeer(broker.port, box=box_id)
    first, second, last = snapshot()
    try:
        with running_box(tmp_path, broker.url, box_id) as box:
            cloud.send(first)
            settle(box, lambda: staged_chunks(tmp_path) == [0], what="the first chunk staged")
            hostile = {
                "catalog.chunk: expected an integer from 0 to 2, got 3": _chunk_json(VERSION, 3, 3),
                "catalog.products[0].price_cents: expected an integer ≥ 0": _chunk_json(VERSION, 1, 3, -5),
                "bytes is over the limit": _chunk_json(VERSION, 1, 3, name="N" * 300_000),
            }
            for problem, payload in hostile.items():
                with LogWatch(problem) as watch:
                    cloud.send_raw(Kind.CATALOG, payload)
                    watch.wait()
            assert staged_chunks(tmp_path) == [0] and products(tmp_path) == 4
            cloud.send(second)
            cloud.send(last)
            settle(box, lambda: live_version(tmp_path) == str(VERSION), what="version 7 live")
            assert products(tmp_path) == 31
    finally:
        cloud.close()


def test_a_box_missing_a_chunk_asks_for_exactly_that_one(tmp_path, broker, monkeypatch):
    monkeypatch.setattr(Link, "catalog_missing_after_s", 0.5)
    box_id = new_box_id()
    cloud = CloudPeer(broker.port, box=box_id)
    first, second, last = snapshot()
    try:
        with running_box(tmp_path, broker.url, box_id) as box:
            cloud.send(first)
            cloud.send(last)  # the second never comes
            settle(box, lambda: staged_chunks(tmp_path) == [0, 2], what="two chunks staged")
            asked = cloud.wait(
                lambda s: any(isinstance(m, CatalogRequest) and m.missing for _, m, _ in s.messages)
            ).messages
            request = next(m for _, m, _ in asked if isinstance(m, CatalogRequest) and m.missing)
            assert request == CatalogRequest(None, "missing", VERSION, (1,))
            cloud.send(second)
            settle(box, lambda: live_version(tmp_path) == str(VERSION), what="version 7 live")
            assert products(tmp_path) == 31
    finally:
        cloud.close()


def test_a_box_killed_mid_stream_keeps_what_it_staged_and_completes_after_its_restart(tmp_path, own_broker):
    box_id = new_box_id()
    cloud = CloudPeer(own_broker.port, box=box_id)
    first, second, last = snapshot()
    process = spawn_box(tmp_path, own_broker.port, box_id)
    try:
        cloud.wait_for(Kind.STATE)  # the box's birth: its subscriptions are in place
        cloud.send(first)
        cloud.send(second)
        wait_until(lambda: staged_chunks(tmp_path) == [0, 1], "two chunks staged")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert staged_chunks(tmp_path) == [0, 1] and products(tmp_path) == 4  # the old catalog, whole
        process = spawn_box(tmp_path, own_broker.port, box_id)
        cloud.wait_for(Kind.STATE, 3)  # its birth, its Last Will, its birth again
        cloud.send(last)
        wait_until(lambda: live_version(tmp_path) == str(VERSION), "version 7 live")
        assert products(tmp_path) == 31 and staged_chunks(tmp_path) == []
    finally:
        process.kill()
        process.wait(timeout=10)
        cloud.close()


def test_a_broker_restart_mid_stream_loses_no_staged_chunk(tmp_path, own_broker):
    box_id = new_box_id()
    cloud = CloudPeer(own_broker.port, box=box_id, client_id=f"cloud-{box_id}", clean=False)
    first, second, last = snapshot()
    try:
        with running_box(tmp_path, own_broker.url, box_id) as box:
            cloud.send(first)
            settle(box, lambda: staged_chunks(tmp_path) == [0], what="the first chunk staged")
            births = len(cloud.wait_for(Kind.STATE))
            own_broker.stop()
            box.link.online.clear()
            own_broker.start()
            assert box.link.online.wait(WAIT_S), "the box did not reconnect"
            cloud.wait_for(Kind.STATE, births + 1)  # the cloud is back too: it sees the box's birth again
            wait_until(cloud.client.is_connected, "the cloud peer to be connected")
            cloud.send(second)
            cloud.send(last)
            settle(box, lambda: live_version(tmp_path) == str(VERSION), what="version 7 live")
            assert products(tmp_path) == 31
    finally:
        cloud.close()


def _chunk_json(version: int, chunk: int, chunks: int, price: int = 100, name: str = "X") -> bytes:
    product = {"sku": "X", "name": name, "price_cents": price}
    chunk_of = {"v": 1, "type": "snapshot", "version": version, "chunk": chunk, "chunks": chunks}
    return json.dumps({**chunk_of, "products": [product]}).encode()
