"""The box under live load: durable scans while its link drains to a real bridge.

`scan_vs_sqlite_online` — ours: one cashier scanning (each scan waits for the previous one's commit) through
the box's core loop while its MQTT link, in the same process as on the box and with its default settings,
is online and draining: a backlog of `BACKLOG` journal entries (an outage's worth) plus the scans go through
mosquitto to a real bridge worker process on PostgreSQL, which applies them and acks each batch after its
commit, at its own pace. Baseline: raw `sqlite3` in a process of its own inserting one journal-sized row per
transaction with the store's pragmas (WAL, synchronous=FULL), after writing the same backlog in one
transaction (a WAL file that has grown makes later fsyncs cheaper) — the cheapest a durable scan could be.

Both sides stay up for the whole measurement and take short turns (`alternate`: `ROUNDS` turns of `SCANS`
each), so the drain runs behind both and whatever the neighbours do to the shared disk falls on both: on
this shared virtual machine an fsync's cost moves several-fold from one second to the next, more than any
difference between the two sides. The backlog must still be draining when the first turn starts, and the
bridge must ack the last scan afterwards, or the benchmark fails.

`rss_catalog_wire` — the box's peak resident memory while a new version of a 50,000-product catalog
arrives over MQTT and a cashier scans every 20 ms: a box process (store with the old version, core loop,
link) gets the snapshot's 50 chunks of 1,000 products (the bridge's chunk size), published at once with
QoS 1 as the bridge's outbox does, until the new version is live; RSS sampled every 20 ms from /proc.
Baseline, in the same run: the same process, same store, online and scanning, before the first chunk.

Needs PostgreSQL on 127.0.0.1:5432 (trust auth) and mosquitto. `TILLBRIDGE_BENCH_BOX_ROUNDS` and
`TILLBRIDGE_BENCH_BOX_SCANS` shorten it while iterating.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench.bench_core import ROW, raw_inserts, raw_journal
from bench.bench_link import _client, _rss_mb, _sample
from bench.common import Result, alternate, duration, running_broker
from devices.barcodes import BarcodeConfig
from devices.readings import ScanRead
from firmware_agent.catalog import load_products
from firmware_agent.core import Applied, CoreLoop
from firmware_agent.events import Stop
from firmware_agent.link import Link
from firmware_agent.link.catalog import VERSION_KEY
from firmware_agent.store import Store
from firmware_agent.store.database import PRAGMAS
from simulators.catalog import SAMPLE_CATALOG, generated_catalog
from tests.bridge_helpers import (
    FAST,
    PostgresServer,
    WorkerProcess,
    bridge_config,
    seed,
    shop_config,
    start_simulator,
)
from tests.mqtt_helpers import SHOP, link_config, seed_journal
from wire import CatalogSnapshotChunk, Kind, Product, build_topic, encode

ROUNDS = int(os.environ.get("TILLBRIDGE_BENCH_BOX_ROUNDS", "30"))
SCANS = int(os.environ.get("TILLBRIDGE_BENCH_BOX_SCANS", "100"))
BACKLOG = 50_000  # entries waiting when the link comes up: it drains them while the cashier scans
BARCODE = "8410000000023"
PRODUCTS = 50_000
CHUNK = 1_000  # products per snapshot chunk, as the bridge cuts them (cloud_bridge/catalog.py)
WAIT_S = 120.0


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        results = rss_catalog_wire(Path(tmp))
    server = PostgresServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return [*scan_vs_sqlite_online(server, Path(tmp)), *results]
    finally:
        server.drop()


def rss_catalog_wire(folder: Path) -> list[Result]:
    """(peak RSS while the catalog streams in, against the same box idle) and how long it took."""
    box = "rss-box"
    data = folder / "box"
    store = Store.open(data / "tillbridge.db")
    load_products(store, generated_catalog(PRODUCTS))
    with store.transaction():
        store.set_setting(VERSION_KEY, "1")
    store.close()
    chunks = [
        encode(CatalogSnapshotChunk(2, index, PRODUCTS // CHUNK, _products(index * CHUNK)))
        for index in range(PRODUCTS // CHUNK)
    ]
    with running_broker(folder) as broker:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.catalog_box", str(data), str(broker.port), SHOP, box],
            cwd=Path(__file__).resolve().parent.parent,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "online":
                raise AssertionError("the box process did not come online")
            idle = statistics.median(_rss_samples(process.pid, 2.0))
            peak, stop = [idle], threading.Event()
            sampler = threading.Thread(target=_sample, args=(process.pid, peak, stop), daemon=True)
            sampler.start()
            cloud = _client(broker.port, "rss-cloud")
            started = time.perf_counter()
            topic = build_topic(SHOP, box, Kind.CATALOG)
            sent = [cloud.publish(topic, payload, 1) for payload in chunks]
            for info in sent:
                info.wait_for_publish(WAIT_S)
            _wait_for(lambda: _live_version(data) == "2", "the new catalog did not go live")
            elapsed = time.perf_counter() - started
            stop.set()
            sampler.join()
            cloud.disconnect()
            cloud.loop_stop()
            scanned = _scans(data)
        finally:
            process.kill()
            process.wait()
    if scanned == 0:
        raise AssertionError("the box recorded no scan while the catalog streamed in")
    return [
        duration("rss_catalog_wire", max(peak), idle, "MB"),
        duration("rss_catalog_wire.seconds_to_live", elapsed, None, "s"),
    ]


def _products(start: int) -> tuple[Product, ...]:
    """1,000 products of the new version: every price up by one cent."""
    return tuple(
        Product(p.sku, p.name, p.price_cents + 1, p.barcodes, p.stock)
        for p in itertools.islice(generated_catalog(PRODUCTS), start, start + CHUNK)
    )


def _live_version(data: Path) -> str | None:
    with sqlite3.connect(data / "tillbridge.db") as conn:
        row = conn.execute("SELECT value FROM setting WHERE key = ?", (VERSION_KEY,)).fetchone()
    return None if row is None else str(row[0])


def _scans(data: Path) -> int:
    with sqlite3.connect(data / "tillbridge.db") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM journal WHERE kind = 'sale'").fetchone()[0])


def _rss_samples(pid: int, seconds: float) -> list[float]:
    samples, until = [], time.monotonic() + seconds
    while time.monotonic() < until:
        samples.append(_rss_mb(pid))
        time.sleep(0.02)
    return samples


def scan_vs_sqlite_online(server: PostgresServer, folder: Path) -> list[Result]:
    box = "scan-box"
    with running_broker(folder) as broker:
        sim = start_simulator("woocommerce", seed(10, 10**6))
        timing = replace(FAST, poll_s=5.0, orders_s=600.0, products_s=600.0)
        config = bridge_config(server.url, broker.url, [shop_config(SHOP, sim, [box])], timing=timing)
        worker = WorkerProcess(config, folder / "worker").start()
        raw = RawSqlite(folder / "raw")
        online = OnlineBox(folder / "box", broker.port, box)
        try:
            samples = alternate(ROUNDS, lambda: online.scans(SCANS), lambda: raw.inserts(SCANS))
            floor = alternate(ROUNDS, lambda: raw.statements(SCANS), lambda: raw.inserts(SCANS))
            hop = alternate(ROUNDS, lambda: online.nothings(SCANS), lambda: raw.inserts(SCANS))
            online.wait_all_acked()
        finally:
            online.close()
            raw.close()
            worker.stop()
            sim.stop()
    return [
        samples.throughput("scan_vs_sqlite_online", "scans/s"),
        floor.throughput("scan_vs_sqlite_online.statements_only", "scans/s"),
        hop.throughput("scan_vs_sqlite_online.empty_event", "events/s"),
    ]


class Nothing:
    """An event that writes nothing: what the core loop costs an event before the event's own work."""


class OnlineBox:
    """Store, core loop and link in this process; returns once the bridge is acking the backlog."""

    def __init__(self, folder: Path, port: int, box: str) -> None:
        folder.mkdir(parents=True)
        self.box = box
        self.store = Store.open(folder / "tillbridge.db")
        load_products(self.store, SAMPLE_CATALOG)
        seed_journal(self.store, BACKLOG)
        self.done = threading.Semaphore(0)
        self.core = CoreLoop(self.store, BarcodeConfig(), listeners=[self._on_applied])
        self.core.on(Nothing, lambda event: "")
        self.link = Link(link_config(folder, f"mqtt://127.0.0.1:{port}", box))
        self.link.start(self.core)
        self.thread = threading.Thread(target=self.core.run, daemon=True)
        self.thread.start()
        if not self.link.online.wait(WAIT_S):
            raise AssertionError(f"box {box}: the link did not come online")
        _wait_for(lambda: self.link.drain.acked > 0, f"box {box}: the bridge acked nothing")
        if self.link.drain.acked >= BACKLOG:
            raise AssertionError(f"box {box}: the backlog was drained before the scans began")

    def _on_applied(self, applied: Applied) -> None:
        if isinstance(applied.event, ScanRead | Nothing):
            self.done.release()

    def scans(self, count: int) -> float:
        return self._events(count, lambda: ScanRead("bench", BARCODE))

    def nothings(self, count: int) -> float:
        return self._events(count, Nothing)

    def _events(self, count: int, event: Callable[[], object]) -> float:
        started = time.perf_counter()
        for _ in range(count):
            self.core.post(event())
            if not self.done.acquire(timeout=WAIT_S):
                raise AssertionError(f"box {self.box}: an event was not committed")
        return count / (time.perf_counter() - started)

    def wait_all_acked(self) -> None:
        last: int = self.core.call(lambda store: store.last_seq)
        _wait_for(lambda: self.link.drain.acked >= last, f"box {self.box}: the bridge did not ack every scan")

    def close(self) -> None:
        self.link.stop()
        self.core.post(Stop())
        self.thread.join(timeout=30)
        self.store.close()


class RawSqlite:
    """The baseline in a process of its own (`python -m bench.bench_box FOLDER`), told on stdin what to run
    per turn (`raw N`: N raw inserts, `scan N`: a sale's statements N times), answering the rate on stdout."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        root = Path(__file__).resolve().parent.parent
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_box", str(folder)],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._line() != "ready":
            raise AssertionError("the raw SQLite process did not start")

    def inserts(self, count: int) -> float:
        return self._turn("raw", count)

    def statements(self, count: int) -> float:
        return self._turn("scan", count)

    def _turn(self, what: str, count: int) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{what} {count}\n")
        self.process.stdin.flush()
        return float(self._line())

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            raise AssertionError(f"the raw SQLite process ended (exit {self.process.wait()})")
        return line

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def _raw_child(folder: Path) -> int:
    conn = raw_journal(folder, BACKLOG)
    sale = _sale_statements(folder / "store" / "tillbridge.db")
    turns = {"raw": lambda count: raw_inserts(conn, count), "scan": sale}
    print("ready", flush=True)
    for line in sys.stdin:
        what, count = line.split()
        print(turns[what](int(count)), flush=True)
    conn.close()
    return 0


SALE = (  # what one sale of BARCODE runs, as the store logs it (tests/test_bench_box.py holds them equal)
    (
        "SELECT b.code, p.sku, p.name, p.price_cents, p.unit, p.stock FROM barcode b "
        "JOIN product p ON p.sku = b.sku WHERE b.code IN (?,?)"
    ),
    "UPDATE product SET stock = stock + ? WHERE sku = ? RETURNING stock",
    "INSERT INTO journal (kind, ts, data, spelled) VALUES (?, ?, ?, ?)",
    "INSERT OR REPLACE INTO local_move (seq, sku, delta) VALUES (?, ?, ?)",
)


def _sale_statements(path: Path) -> Callable[[int], float]:
    """Sales per second as bare statements on a store `Store.open` made, with the same backlog."""
    store = Store.open(path)
    load_products(store, SAMPLE_CATALOG)
    seed_journal(store, BACKLOG)
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    for name, value in PRAGMAS.items():
        conn.execute(f"PRAGMA {name} = {value}")
    lookup, stock, journal, move = SALE
    sku = "MILK-1L"

    def sales(count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(lookup, (BARCODE, "0" + BARCODE)).fetchall()
            conn.execute(stock, (-1, sku)).fetchall()
            seq = conn.execute(journal, (*ROW, 1)).lastrowid  # the row raw inserts, marked spelled
            conn.execute(move, (seq, sku, -1))
            conn.execute("COMMIT")
        return count / (time.perf_counter() - started)

    return sales


def _wait_for(condition: Callable[[], bool], failure: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(0.01)


if __name__ == "__main__":
    raise SystemExit(_raw_child(Path(sys.argv[1])))
