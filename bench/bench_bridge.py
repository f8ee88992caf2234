"""The cloud bridge: journal entries applied per second (one worker, and two sharing a subscription),
scan → online shop latency, and shop API calls per 1,000 movements.

Baselines, measured in the same run: raw psycopg2 inserting the same movement rows, one multi-row INSERT and
one commit per batch (what applying a batch costs at the very least); one worker for the scale-out; a single
direct stock write through the connector for the latency; one shop call per movement for the call count.
Needs PostgreSQL on 127.0.0.1:5432 (trust auth) and mosquitto, like the bridge tests.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import psycopg2  # type: ignore[import-untyped]
from psycopg2.extras import execute_values  # type: ignore[import-untyped]

from bench.common import Result, alternate, duration, percentile, running_broker, throughput
from cloud_bridge import models as m
from cloud_bridge.connectors import StockChange
from cloud_bridge.db import Database
from cloud_bridge.intake import Inbound
from cloud_bridge.journal import apply_batch
from cloud_bridge.worker import Worker
from tests.bridge_helpers import (
    FAST,
    Clock,
    PlayedBox,
    PostgresServer,
    RecordingPublisher,
    WorkerProcess,
    bridge_config,
    connector,
    driver,
    seed,
    shop_config,
    start_simulator,
)
from wire import JournalBatch, JournalEntry, Kind, build_topic, encode, now_ts

BOXES, BATCHES, PER_BATCH = 20, 5, 100  # 10,000 entries for the apply rate
SCALE_BOXES, SCALE_ENTRIES = 12, 2000  # per box, over MQTT, for one worker against two
SCANS = 40
MOVEMENTS, SKUS, PASSES = 1000, 50, 10
SINGLE_BOXES, SINGLE_OURS, SINGLE_BASE, SINGLE_ROUNDS = 20, 4000, 400, 3


def run() -> list[Result]:
    server = PostgresServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            results = [apply_rate(server), apply_single(server, folder / "single")]
            results.append(scale_out(server, folder))
            results.extend(scan_latency(server, folder))
            results.extend(calls_per_movements(folder))
            return results
    finally:
        server.drop()


# --- journal entries applied per second -----------------------------------------------------------------


def _batches() -> list[tuple[str, JournalBatch, bytes]]:
    rng = random.Random(1)
    out = []
    for box, start in itertools.product(range(BOXES), range(0, BATCHES * PER_BATCH, PER_BATCH)):
        entries = tuple(
            JournalEntry(
                seq, "sale", now_ts(), {"sku": f"SKU-{rng.randrange(500):03d}", "delta": -1, "stock_after": 9}
            )
            for seq in range(start + 1, start + PER_BATCH + 1)
        )
        batch = JournalBatch(entries)
        out.append((f"till-{box}", batch, encode(batch)))
    return out


def apply_rate(server: PostgresServer) -> Result:
    batches = _batches()
    server.truncate()
    db = Database(server.url).open()
    started = time.perf_counter()
    for box, batch, payload in batches:
        apply_batch(db, "bench", box, batch, payload, time.time())
    ours = BOXES * BATCHES * PER_BATCH / (time.perf_counter() - started)
    db.close()
    return throughput(
        "bridge journal entries applied per second, one worker, PostgreSQL",
        ours,
        _raw(server, batches),
        "entries/s",
    )


def _raw(server: PostgresServer, batches: list[tuple[str, JournalBatch, bytes]]) -> float:
    with contextlib.closing(psycopg2.connect(server.url)) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE raw_movement (LIKE movement INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        for box, batch, _ in batches:
            rows = [
                ("bench", e.data["sku"], f"b/{box}/{e.seq}", e.kind, e.data["delta"], e.ts, True, None)
                for e in batch.entries
            ]
            execute_values(
                cur,
                'INSERT INTO raw_movement (shop, sku, source, kind, delta, "at", push, "write") VALUES %s',
                rows,
            )
            conn.commit()
        return BOXES * BATCHES * PER_BATCH / (time.perf_counter() - started)


# --- one entry per batch, as live traffic sends them --------------------------------------------------------


def apply_single(server: PostgresServer, folder: Path) -> Result:
    """A worker's queue holding one-entry batches of 20 boxes (what live tills send, or a backlog of them),
    handed to a running worker as paho's thread hands them over; entries/s until the last is applied.
    Baseline, alternated with it in the same worker: the same kind of batches each applied in its own
    transaction, the path every batch took before (`apply_batch` via `Worker.handle`). The baseline applies
    fewer entries per round (it is two orders of magnitude slower); both figures are rates.
    """
    server.truncate()
    with running_broker(folder) as broker:
        sim = start_simulator("woocommerce", seed(10, 10**6))
        boxes = [f"till-{n}" for n in range(SINGLE_BOXES)]
        shop = shop_config("live", sim, boxes)
        timing = replace(FAST, poll_s=600.0, orders_s=600.0, products_s=600.0)
        worker = Worker(bridge_config(server.url, broker.url, [shop], timing=timing)).start()
        seqs = dict.fromkeys(boxes, 0)
        rng = random.Random(5)

        def items(count: int) -> list[Inbound]:
            out = []
            for n in range(count):
                box = boxes[n % len(boxes)]
                seqs[box] += 1
                entry = JournalEntry(
                    seqs[box],
                    "sale",
                    now_ts(),
                    {"sku": f"SKU-{rng.randrange(10):03d}", "delta": -1, "stock_after": 9},
                )
                out.append(
                    Inbound(
                        build_topic("live", box, Kind.JOURNAL),
                        encode(JournalBatch((entry,), acked=seqs[box] - 1)),
                    )
                )
            return out

        def grouped() -> float:
            batch = items(SINGLE_OURS)
            target = worker.applied + len(batch)
            started = time.perf_counter()
            for item in batch:
                worker.intake.offer(item)
            _wait(lambda: worker.applied >= target, timeout=120)
            return len(batch) / (time.perf_counter() - started)

        def one_by_one() -> float:
            batch = items(SINGLE_BASE)
            started = time.perf_counter()
            for item in batch:
                worker.handle(item)
            return len(batch) / (time.perf_counter() - started)

        try:
            worker.ready(10)
            grouped()  # every stream started, as on a bridge that has run a while
            rounds = alternate(SINGLE_ROUNDS, grouped, one_by_one)
        finally:
            worker.stop()
            sim.stop()
    return rounds.throughput("bridge_apply_single", "entries/s")


# --- two workers against one ------------------------------------------------------------------------------


def scale_out(server: PostgresServer, folder: Path) -> Result:
    one = _end_to_end(server, folder / "one", workers=1)
    two = _end_to_end(server, folder / "two", workers=2)
    return throughput(
        "bridge entries applied per second over MQTT, two workers against one", two, one, "entries/s"
    )


def _end_to_end(server: PostgresServer, folder: Path, workers: int) -> float:
    server.truncate()
    with running_broker(folder) as broker:
        sim = start_simulator("woocommerce", seed(50, 10**6))
        shop = shop_config("big", sim, [f"till-{n}" for n in range(SCALE_BOXES)])
        timing = replace(FAST, poll_s=1.0, orders_s=60.0, products_s=600.0)
        procs = [
            WorkerProcess(
                bridge_config(server.url, broker.url, [shop], worker_id=f"s{n}", timing=timing), folder
            )
            for n in range(workers)
        ]
        boxes = [PlayedBox("big", box, broker.url, max_entries=100) for box in shop.boxes]
        try:
            for proc in procs:
                proc.start()
            started = time.perf_counter()
            for _, box in itertools.product(range(SCALE_ENTRIES), boxes):
                box.sell(f"SKU-{random.randrange(50):03d}")
            for box in boxes:
                box.wait_acked(timeout=60)
            return SCALE_BOXES * SCALE_ENTRIES / (time.perf_counter() - started)
        finally:
            for box in boxes:
                box.close()
            for proc in procs:
                proc.stop()
            sim.stop()


# --- scan → shop latency ----------------------------------------------------------------------------------


def scan_latency(server: PostgresServer, folder: Path) -> list[Result]:
    """A sale published by a box until the simulated WooCommerce (answering in 20 ms) shows it."""
    server.truncate()
    with running_broker(folder / "latency") as broker:
        sim = start_simulator("woocommerce", seed(5, 10_000), delay=0.02)
        shop = shop_config("corner", sim, ["till-1"])
        timing = replace(FAST, poll_s=1.0, orders_s=10.0, products_s=600.0)
        worker = Worker(bridge_config(server.url, broker.url, [shop], timing=timing)).start()
        box = PlayedBox("corner", "till-1", broker.url)
        try:
            worker.ready(10)
            _wait(lambda: m.ShopState.select().where(m.ShopState.name == "initialised").exists())
            samples = []
            for n in range(SCANS):
                before = sim.stock("SKU-001")
                started = time.perf_counter()
                box.sell("SKU-001")
                _wait(lambda: sim.stock("SKU-001") != before)  # noqa: B023 - used at once
                samples.append((time.perf_counter() - started) * 1000)
                threading.Event().wait(0.05 if n % 2 else 0.2)  # scans at a till come one by one
            direct = _direct_write_ms(shop)
        finally:
            box.close()
            worker.stop()
            sim.stop()
    return [
        duration(
            "bridge scan to online shop p50 (shop answers in 20 ms)", percentile(samples, 50), direct, "ms"
        ),
        duration(
            "bridge scan to online shop p99 (shop answers in 20 ms)", percentile(samples, 99), direct, "ms"
        ),
    ]


def _direct_write_ms(shop: object) -> float:
    """One stock write straight through the connector (sku lookup cached): the floor for any bridge."""
    conn = connector(shop)  # type: ignore[arg-type]
    conn.get_stock(["SKU-002"])
    times = []
    for n in range(10):
        started = time.perf_counter()
        conn.set_stock([StockChange("SKU-002", 5000 + n)])
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return percentile(times, 50)


def _wait(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        time.sleep(0.001)


# --- shop calls per 1,000 movements -----------------------------------------------------------------------


def calls_per_movements(folder: Path) -> list[Result]:
    """1,000 till movements on 50 skus, arriving in 10 bursts with a bridge pass after each: every shop
    request the bridge makes (reads, writes, polls) against one write per movement.
    """
    out = []
    for platform in ("woocommerce", "shopify", "prestashop"):
        db = Database(f"sqlite:///{folder / f'calls-{platform}.db'}").open()
        sim = start_simulator(platform, seed(SKUS, 10**6))
        try:
            clock = Clock()
            timing = replace(FAST, orders_s=5.0, products_s=600.0, reconcile_s=3600.0)
            d = driver(db, shop_config("calls", sim, ["till-1"]), RecordingPublisher(), clock, timing)
            d.run_pass(force=True)
            rng = random.Random(3)
            before = sim.total_calls
            seq = itertools.count(1)
            for _ in range(PASSES):
                entries = tuple(
                    JournalEntry(
                        next(seq),
                        "sale",
                        now_ts(),
                        {"sku": f"SKU-{rng.randrange(SKUS):03d}", "delta": -1, "stock_after": 0},
                    )
                    for _ in range(MOVEMENTS // PASSES)
                )
                batch = JournalBatch(entries)
                apply_batch(db, "calls", "till-1", batch, encode(batch), time.time())
                clock.advance(1.0)
                d.run_pass(force=True)
            ours = sim.total_calls - before
        finally:
            sim.stop()
            db.close()
        out.append(duration(f"bridge shop calls per 1000 movements, {platform}", ours, MOVEMENTS, "calls"))
    return out
