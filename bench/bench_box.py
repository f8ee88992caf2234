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

Needs PostgreSQL on 127.0.0.1:5432 (trust auth) and mosquitto. `TILLBRIDGE_BENCH_BOX_ROUNDS` and
`TILLBRIDGE_BENCH_BOX_SCANS` shorten it while iterating.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench.bench_core import raw_inserts, raw_journal
from bench.common import Result, alternate, running_broker
from devices.barcodes import BarcodeConfig
from devices.readings import ScanRead
from firmware_agent.catalog import load_products
from firmware_agent.core import Applied, CoreLoop
from firmware_agent.events import Stop
from firmware_agent.link import Link
from firmware_agent.store import Store
from simulators.catalog import SAMPLE_CATALOG
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

ROUNDS = int(os.environ.get("TILLBRIDGE_BENCH_BOX_ROUNDS", "30"))
SCANS = int(os.environ.get("TILLBRIDGE_BENCH_BOX_SCANS", "100"))
BACKLOG = 50_000  # entries waiting when the link comes up: it drains them while the cashier scans
BARCODE = "8410000000023"
WAIT_S = 120.0


def run() -> list[Result]:
    server = PostgresServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return [scan_vs_sqlite_online(server, Path(tmp))]
    finally:
        server.drop()


def scan_vs_sqlite_online(server: PostgresServer, folder: Path) -> Result:
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
            online.wait_all_acked()
        finally:
            online.close()
            raw.close()
            worker.stop()
            sim.stop()
    return samples.throughput("scan_vs_sqlite_online", "scans/s")


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
        if isinstance(applied.event, ScanRead):
            self.done.release()

    def scans(self, count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            self.core.post(ScanRead("bench", BARCODE))
            if not self.done.acquire(timeout=WAIT_S):
                raise AssertionError(f"box {self.box}: a scan was not committed")
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
    """The baseline in a process of its own (`python -m bench.bench_box FOLDER`), told how many rows to
    insert per turn on stdin, answering the rate on stdout."""

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
        assert self.process.stdin is not None
        self.process.stdin.write(f"{count}\n")
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
    print("ready", flush=True)
    for line in sys.stdin:
        print(raw_inserts(conn, int(line)), flush=True)
    conn.close()
    return 0


def _wait_for(condition: Callable[[], bool], failure: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(0.01)


if __name__ == "__main__":
    raise SystemExit(_raw_child(Path(sys.argv[1])))
