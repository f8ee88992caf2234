"""`drain_real_bridge`: a box's 100k-entry backlog to the last application ack through the real bridge.

Ours: a box process (store, core loop, link; batches of 500 entries, 8 in flight) drains 100,000 journal
entries through mosquitto to a real bridge worker process on PostgreSQL, which applies them to the ledger
and acks each batch after its commit; timed from the box's link being ready to the ack naming the last seq.
Baseline, alternated with it on the same broker: raw paho publishing the same 100,000 entries as single
QoS 1 messages (up to 5,000 in flight) to a subscriber that only counts them, the most a link without
batching could do. Needs PostgreSQL on 127.0.0.1:5432 (trust auth) and mosquitto.
"""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from bench.bench_link import _client, _subscribe, raw_publish_rate
from bench.common import Result, alternate, running_broker
from tests.bridge_helpers import (
    FAST,
    PostgresServer,
    WorkerProcess,
    bridge_config,
    seed,
    shop_config,
    start_simulator,
)
from tests.mqtt_helpers import SHOP, spawn_box
from wire import Ack, Kind, build_topic, decode

BACKLOG = 100_000
ROUNDS = 2
OPTIONS = {"batch_entries": 500, "batch_kb": 128, "inflight_batches": 8}


def run() -> list[Result]:
    server = PostgresServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return [drain_real_bridge(server, Path(tmp))]
    finally:
        server.drop()


def drain_real_bridge(server: PostgresServer, folder: Path) -> Result:
    boxes = [f"drain-{n}" for n in range(ROUNDS + 1)]
    names = iter(boxes)
    with running_broker(folder) as broker:
        sim = start_simulator("woocommerce", seed(10, 10**6))
        timing = replace(FAST, poll_s=5.0, orders_s=600.0, products_s=600.0)
        config = bridge_config(server.url, broker.url, [shop_config(SHOP, sim, boxes)], timing=timing)
        worker = WorkerProcess(config, folder / "worker").start()
        try:

            def ours() -> float:
                return _drain(folder, broker.port, next(names))

            def baseline() -> float:
                return raw_publish_rate(broker.port, BACKLOG)

            rounds = alternate(ROUNDS, ours, baseline)
        finally:
            worker.stop()
            sim.stop()
    return rounds.throughput("drain_real_bridge", "entries/s")


def _drain(folder: Path, port: int, box: str) -> float:
    """Entries/s from the box's link being ready to the bridge's ack of its last seq."""
    done, last = threading.Event(), [0]
    watcher = _client(port, f"watch-{box}")

    def on_ack(_c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        ack = decode(Kind.ACK, bytes(msg.payload))
        assert isinstance(ack, Ack)
        last[0] = max(last[0], ack.upto)
        if last[0] >= BACKLOG:
            done.set()

    watcher.on_message = on_ack
    _subscribe(watcher, build_topic(SHOP, box, Kind.ACK))
    process = spawn_box(folder / box, port, box, seed=BACKLOG, **OPTIONS)
    started = time.perf_counter()
    try:
        if not done.wait(600):
            raise AssertionError(f"the real bridge acked {box} only up to {last[0]} of {BACKLOG}")
        return BACKLOG / (time.perf_counter() - started)
    finally:
        process.kill()
        process.wait()
        watcher.disconnect()
        watcher.loop_stop()


__all__ = ["drain_real_bridge", "run"]
