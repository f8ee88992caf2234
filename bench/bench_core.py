"""The core loop: durable scans per second, scan-to-commit latency.

Baseline, measured in the same run on the same disk: raw `sqlite3` inserting one journal-sized row per
transaction with the store's pragmas (WAL, synchronous=FULL) — the cheapest a durable scan could be.
"""

from __future__ import annotations

import queue
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.common import Result, Rounds, alternate, duration, percentile
from devices.barcodes import BarcodeConfig
from devices.readings import ScanRead
from firmware_agent.catalog import load_products
from firmware_agent.core import Applied, CoreLoop
from firmware_agent.events import Stop
from firmware_agent.store import Store
from simulators.catalog import SAMPLE_CATALOG

SCANS = 1000
ROUNDS = 5


def raw_sqlite_inserts(folder: Path, count: int) -> float:
    conn = raw_journal(folder)
    rate = raw_inserts(conn, count)
    conn.close()
    return rate


ROW = ("sale", "2026-11-23T00:00:00.000Z", '{"sku":"MILK-1L","delta":-1,"stock_after":47,"barcode":"x"}')


def raw_journal(folder: Path, backlog: int = 0) -> sqlite3.Connection:
    """A bare journal table with the store's pragmas; `backlog` rows written first in one transaction, as a
    box's store holds its unacknowledged journal."""
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=full")
    conn.execute(
        "CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, ts TEXT, data TEXT)"
    )
    if backlog:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO journal (kind, ts, data) VALUES (?, ?, ?)", [ROW] * backlog)
        conn.execute("COMMIT")
    return conn


def raw_inserts(conn: sqlite3.Connection, count: int) -> float:
    """Rows per second, one per transaction: the cheapest a durable scan could be."""
    started = time.perf_counter()
    for _ in range(count):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO journal (kind, ts, data) VALUES (?, ?, ?)", ROW)
        conn.execute("COMMIT")
    return count / (time.perf_counter() - started)


def _core(folder: Path) -> tuple[CoreLoop, queue.Queue[Applied], threading.Thread]:
    store = Store.open(folder / "tillbridge.db")
    load_products(store, SAMPLE_CATALOG)
    done: queue.Queue[Applied] = queue.Queue()
    core = CoreLoop(store, BarcodeConfig(), listeners=[done.put])
    thread = threading.Thread(target=core.run, daemon=True)
    thread.start()
    return core, done, thread


def core_scans(folder: Path, count: int, *, paced: bool) -> tuple[float, list[float]]:
    """Scans per second, and per-scan latency from posting to commit (seconds)."""
    core, done, thread = _core(folder)
    latencies: list[float] = []
    started = time.perf_counter()
    if paced:  # one cashier: each scan waits for the previous acknowledgement
        for _ in range(count):
            core.post(ScanRead("bench", "8410000000023"))
            applied = done.get()
            latencies.append(applied.committed_at - applied.received_at)
    else:  # a burst: several scanners, or a backlog after a stall
        for _ in range(count):
            core.post(ScanRead("bench", "8410000000023"))
        latencies = [(a.committed_at - a.received_at) for a in (done.get() for _ in range(count))]
    elapsed = time.perf_counter() - started
    core.post(Stop())
    thread.join()
    core.store.close()
    return count / elapsed, latencies


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        rounds = iter(range(10_000))

        def fresh() -> Path:  # every round on a new database, as each side's first run was
            folder = Path(tmp) / str(next(rounds))
            folder.mkdir()
            return folder

        raw_ms: list[float] = []  # the raw commit's time per commit, each round
        paced: dict[str, list[float]] = {"p50": [], "p99": []}
        burst: dict[str, list[float]] = {"p99": []}

        def baseline() -> float:
            rate = raw_sqlite_inserts(fresh(), SCANS)
            raw_ms.append(1000 / rate)
            return rate

        def ours_paced() -> float:
            rate, latencies = core_scans(fresh(), SCANS, paced=True)
            paced["p50"].append(percentile(latencies, 50) * 1000)
            paced["p99"].append(percentile(latencies, 99) * 1000)
            return rate

        def ours_burst() -> float:
            rate, latencies = core_scans(fresh(), SCANS, paced=False)
            burst["p99"].append(percentile(latencies, 99) * 1000)
            return rate

        one = alternate(ROUNDS, ours_paced, baseline)
        paced_raw_ms = raw_ms[:]
        many = alternate(ROUNDS, ours_burst, baseline)
    return [
        one.throughput("core.durable_scans_per_s.one_at_a_time", "scans/s"),
        many.throughput("core.durable_scans_per_s.burst_group_commit", "scans/s"),
        Rounds(paced["p50"], paced_raw_ms).duration("core.scan_to_commit_ms.p50", "ms"),
        Rounds(paced["p99"], paced_raw_ms).duration("core.scan_to_commit_ms.p99", "ms"),
        duration("core.scan_to_commit_ms.burst_p99", statistics.median(burst["p99"]), None, "ms"),
    ]
