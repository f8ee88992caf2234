"""The agent process: cold start to READY, and resident memory with a 50,000-product catalog.

Baseline, in the same run: a bare Python process that opens the same database, counts the products and sends
READY=1 to the same notify socket — what any Python daemon on this machine costs at the least.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Result, duration
from firmware_agent.catalog import load_products
from firmware_agent.store import Store
from simulators.catalog import generated_catalog

PRODUCTS = 50_000
RUNS = 3
BASELINE = """
import os, socket, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("SELECT COUNT(*) FROM product").fetchone()
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
sys.stdin.read()
"""


def _catalog(folder: Path) -> Path:
    data = folder / "data"
    store = Store.open(data / "tillbridge.db")
    load_products(store, generated_catalog(PRODUCTS))
    store.close()
    config = folder / "agent.toml"
    config.write_text(f'[box]\nid = "bench"\nshop = "bench"\ndata_dir = "{data}"\nwatchdog = false\n')
    return config


def _start_until_ready(
    argv: list[str], notify: socket.socket
) -> tuple[float, float, subprocess.Popen[bytes]]:
    """Seconds from spawn to READY=1, the RSS in MB at that moment, and the process (still running)."""
    env = {**os.environ, "NOTIFY_SOCKET": notify.getsockname()}
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    while b"READY=1" not in notify.recv(4096):
        pass
    elapsed = time.perf_counter() - started
    return elapsed, _rss_mb(proc.pid), proc


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _measure(argv: list[str], notify: socket.socket) -> tuple[float, float]:
    times, rss = [], []
    for _ in range(RUNS):
        elapsed, mb, proc = _start_until_ready(argv, notify)
        times.append(elapsed)
        rss.append(mb)
        proc.terminate()
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)
    return statistics.median(times), statistics.median(rss)


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = _catalog(folder)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(str(folder / "notify.sock"))
        notify.settimeout(30)
        agent_argv = [
            sys.executable,
            "-m",
            "tillbridge",
            "agent",
            "--config",
            str(config),
            "--provisioning",
            "/none",
        ]
        base_argv = [sys.executable, "-c", BASELINE, str(folder / "data" / "tillbridge.db")]
        agent_s, agent_mb = _measure(agent_argv, notify)
        base_s, base_mb = _measure(base_argv, notify)
    return [
        duration("agent.cold_start_to_ready_s", agent_s, base_s, "s"),
        duration("agent.rss_with_50k_catalog_mb", agent_mb, base_mb, "MB"),
    ]
