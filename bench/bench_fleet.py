"""`fleet_1000`: a thousand boxes in a hundred shops at a live till's pace, through the real bridge.

1,000 light boxes (bench/fleet.py, one process) in 100 shops journal one sale each every 30 s (phases spread
at random, skus picked Zipf-like) through mosquitto to two bridge worker processes on one shared subscription,
on PostgreSQL, each shop a simulated WooCommerce answering in 20 ms, the bridge at its default timings and
coalescing window. Each box publishes its birth (retained, with its Will) on connecting and its telemetry
once a minute, as real boxes do, so the bridge also pushes every level to each box that comes online.

Reported, each against a baseline measured in the same run:
- sale → application ack, p99 — against the same fleet acked by an echo client that acks every batch the
  moment it arrives (the broker's round trip: the floor for any bridge). The echo rounds run before and
  after the bridge's, and their median is the baseline (A B A: one bridge round is minutes long).
- entries lost: entries never acknowledged, plus stock the shops never saw; the goal is 0.
- shop calls per shop per minute — against one call per movement (an uncoalesced bridge).
- bridge peak RSS — against the same worker idle before the load.
`TILLBRIDGE_BENCH_FLEET_S` shortens the bridge's round (default 300 s), `TILLBRIDGE_BENCH_FLEET_BOXES` the
fleet (default 1000; ten boxes a shop).
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import Result, duration, percentile, running_broker
from bench.fleet import Fleet
from cloud_bridge.config import ShopConfig, Timing
from simulators.broker import Broker
from tests.bridge_helpers import (
    PostgresServer,
    WorkerProcess,
    bridge_config,
    seed,
    shop_config,
    start_simulator,
)
from wire import Ack, JournalBatch, Kind, WireError, build_topic, decode, encode, parse_topic

ROUND_S = float(os.environ.get("TILLBRIDGE_BENCH_FLEET_S", "300"))
BOXES = int(os.environ.get("TILLBRIDGE_BENCH_FLEET_BOXES", "1000"))
PER_SHOP = 10
SKUS = 50
EVERY_S = 30.0
TELEMETRY_S = 60.0  # the box's default `telemetry_s`
ECHO_S = min(60.0, ROUND_S)
DRAIN_S = 120.0  # after the last sale: every ack, and every shop in step
WINDOW = ShopConfig.write_window_s  # the default coalescing window (the test helper's default is 0)


def run() -> list[Result]:
    _open_files(BOXES * 2 + 500)  # a socket a box, here and in the broker this process starts
    server = PostgresServer()
    try:
        with tempfile.TemporaryDirectory() as tmp, running_broker(Path(tmp)) as broker:
            return _fleet(server, broker, Path(tmp))
    finally:
        server.drop()


def _fleet(server: PostgresServer, broker: Broker, folder: Path) -> list[Result]:
    shops = [f"shop-{n:03d}" for n in range(BOXES // PER_SHOP)]
    echo_a = _echo_round(broker, shops, "echo-a")
    sims = [start_simulator("woocommerce", seed(SKUS, 10**6), delay=0.02) for _ in shops]
    try:
        configs = [
            shop_config(shop, sim, [f"{shop}-till-{n}" for n in range(PER_SHOP)], window=WINDOW)
            for shop, sim in zip(shops, sims, strict=True)
        ]
        config = bridge_config(server.url, broker.url, configs, timing=Timing())
        workers = [WorkerProcess(replace(config, worker_id=f"fleet-{n}"), folder) for n in range(2)]
        for worker in workers:
            worker.start(timeout=120)
        idle_mb = statistics.mean(_rss_mb(w) for w in workers)
        try:
            ours = _bridge_round(broker, shops, sims, workers)
        finally:
            for worker in workers:
                worker.stop()
    finally:
        for sim in sims:
            sim.stop()
    echo_b = _echo_round(broker, shops, "echo-b")
    echo_p99 = statistics.median([echo_a, echo_b])
    minutes = ROUND_S / 60
    movements_per_shop_min = PER_SHOP * 60 / EVERY_S
    return [
        duration("fleet_1000.ack_p99_s", ours["ack_p99_s"], echo_p99, "s"),
        Result("fleet_1000.entries_lost", ours["lost"], "entries", 0.0),
        duration(
            "fleet_1000.shop_calls_per_shop_per_min",
            ours["calls"] / len(shops) / minutes,
            movements_per_shop_min,
            "calls",
        ),
        duration("fleet_1000.bridge_peak_rss_mb", ours["rss_mb"], idle_mb, "MB"),
    ]


def _bridge_round(
    broker: Broker, shops: Sequence[str], sims: Sequence[Any], workers: Sequence[WorkerProcess]
) -> dict[str, float]:
    boxes = [(shop, f"{shop}-till-{n}") for shop in shops for n in range(PER_SHOP)]
    fleet = Fleet("127.0.0.1", broker.port, boxes)
    fleet.connect()
    calls_before = sum(sim.total_calls for sim in sims)
    sold = _sell(fleet, ROUND_S)
    calls = sum(sim.total_calls for sim in sims) - calls_before
    rss = max(_peak_rss_mb(w) for w in workers)
    unacked = _drain(fleet)
    off = _stock_off(sims, sold)
    latencies = [lat for box in fleet.boxes for lat in box.latencies]
    fleet.close()
    return {
        "ack_p99_s": percentile(latencies, 99),
        "lost": float(unacked + off),
        "calls": float(calls),
        "rss_mb": rss,
    }


def _sell(fleet: Fleet, seconds: float) -> dict[tuple[int, str], int]:
    """Each box sells once every EVERY_S from a random phase; returns units sold per (shop index, sku)."""
    rng = random.Random(7)
    weights = [1 / (rank + 1) for rank in range(SKUS)]  # Zipf-like: a few skus sell most
    skus = [f"SKU-{n:03d}" for n in range(SKUS)]
    start = time.monotonic()
    due = [start + rng.uniform(0, EVERY_S) for _ in fleet.boxes]
    report = [start + rng.uniform(0, TELEMETRY_S) for _ in fleet.boxes]
    sold: dict[tuple[int, str], int] = {}
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        for n, box in enumerate(fleet.boxes):
            if report[n] <= now:
                box.report()
                report[n] += TELEMETRY_S
            if due[n] <= now:
                sku = rng.choices(skus, weights)[0]
                box.journal(sku, now)
                key = (n // PER_SHOP, sku)
                sold[key] = sold.get(key, 0) + 1
                due[n] += EVERY_S
            box.resend_if_late(now, ack_timeout=10.0)
        fleet.run_for(0.05)
    return sold


def _drain(fleet: Fleet) -> int:
    deadline = time.monotonic() + DRAIN_S
    while any(box.unacked for box in fleet.boxes) and time.monotonic() < deadline:
        now = time.monotonic()
        for box in fleet.boxes:
            box.resend_if_late(now, ack_timeout=10.0)
        fleet.run_for(0.1)
    return sum(len(box.unacked) for box in fleet.boxes)


def _stock_off(sims: Sequence[Any], sold: dict[tuple[int, str], int]) -> int:
    """Units the shops have not taken off after the drain window: sales lost on the way to the shop."""
    deadline = time.monotonic() + DRAIN_S

    def off() -> int:
        return sum(abs(sims[shop].stock(sku) - (10**6 - units)) for (shop, sku), units in sold.items())

    while (missing := off()) and time.monotonic() < deadline:
        time.sleep(1.0)
    return missing


def _echo_round(broker: Broker, shops: Sequence[str], prefix: str) -> float:
    """The same fleet and pace for ECHO_S, acked at once by one client: the broker round trip's p99."""
    boxes = [(shop, f"{shop}-{prefix}-{n}") for shop in shops for n in range(PER_SHOP)]
    with _echo(broker):
        fleet = Fleet("127.0.0.1", broker.port, boxes)
        fleet.connect()
        _sell(fleet, ECHO_S)
        _drain(fleet)
        latencies = [lat for box in fleet.boxes for lat in box.latencies]
        fleet.close()
    return percentile(latencies, 99)


@contextlib.contextmanager
def _echo(broker: Broker) -> Iterator[None]:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="fleet-echo")

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        where = parse_topic(msg.topic)
        try:
            batch = decode(Kind.JOURNAL, msg.payload)
        except WireError:
            return
        assert isinstance(batch, JournalBatch)
        topic = build_topic(where.shop, where.box, Kind.ACK)
        client.publish(topic, encode(Ack(batch.last_seq, batch.epoch)), qos=1)

    connected = threading.Event()

    def on_connect(client: Any, *_: Any) -> None:
        client.subscribe("tillbridge/v1/+/+/journal", qos=1)
        connected.set()

    client.on_message = on_message
    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        if not connected.wait(10):
            raise TimeoutError("the echo client did not connect")
        yield
    finally:
        client.disconnect()
        client.loop_stop()


def _rss_mb(worker: WorkerProcess) -> float:
    return _status_kb(worker, "VmRSS") / 1024


def _peak_rss_mb(worker: WorkerProcess) -> float:
    return _status_kb(worker, "VmHWM") / 1024


def _status_kb(worker: WorkerProcess, field: str) -> float:
    assert worker.process is not None
    for line in Path(f"/proc/{worker.process.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    raise RuntimeError(f"no {field} for worker {worker.config.worker_id}")


def _open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise RuntimeError(f"the fleet needs {needed} open files; this shell allows {hard} (ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
