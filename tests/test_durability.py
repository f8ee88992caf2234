"""kill -9 at random moments while scans pour in: nothing acknowledged is ever lost.

The agent is a real child process reading a real (pty) serial scanner. After every kill we restart it on the
same data folder and check: every scan it had acknowledged is in the journal with its seq; seqs have no gap
and no duplicate; and each product's stock equals its starting stock plus the sum of its journal deltas.
"""

from __future__ import annotations

import json
import queue
import random
import sqlite3

import pytest

from simulators.catalog import SAMPLE_CATALOG
from simulators.scanner import VirtualSerialScanner
from tests.agent_helpers import AgentProcess, seed_catalog, write_config

ROUNDS = 8
SCANS_PER_ROUND = 60
SELLABLE = [p.barcodes[0] for p in SAMPLE_CATALOG if p.unit == "each"]


def check_journal(db_path, acknowledged: dict[int, str], start_stock: dict[str, int]) -> int:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT seq, kind, data FROM journal ORDER BY seq").fetchall()
        stock = dict(conn.execute("SELECT sku, stock FROM product").fetchall())
    seqs = [seq for seq, _, _ in rows]
    assert seqs == list(range(1, len(seqs) + 1)), "seq must have no gap and no duplicate"
    journal = {seq: json.loads(data) for seq, _, data in rows}
    for seq, barcode in acknowledged.items():
        assert seq in journal, f"acknowledged scan {barcode} (seq {seq}) was lost"
        assert journal[seq]["barcode"] == barcode
    moved = {sku: 0 for sku in start_stock}
    for data in journal.values():
        moved[data["sku"]] += data["delta"]
    assert stock == {sku: start_stock[sku] + moved[sku] for sku in start_stock}
    return len(seqs)


@pytest.mark.slow
def test_no_acknowledged_scan_is_lost_under_kill_9(tmp_path):
    rng = random.Random(20261123)
    start_stock = seed_catalog(tmp_path / "data")
    acknowledged: dict[int, str] = {}
    with VirtualSerialScanner("CR") as scanner:
        scanner_config = f'[[scanner]]\nname = "till"\ntype = "serial"\nport = "{scanner.port_path}"\n'
        config = write_config(tmp_path, scanner_config)
        for _ in range(ROUNDS):
            agent = AgentProcess(config)
            try:
                agent.wait_ready()
                agent.wait_device_ok()
                for _ in range(SCANS_PER_ROUND):
                    scanner.scan(rng.choice(SELLABLE))
                kill_after = rng.randint(1, SCANS_PER_ROUND - 10)
                for _ in range(kill_after):
                    barcode, seq = agent.acks.get(timeout=20)
                    acknowledged[seq] = barcode
            finally:
                agent.kill()  # somewhere in the middle of the burst (or after a failure: never left behind)
            while True:  # acks printed before the kill landed count too
                try:
                    barcode, seq = agent.acks.get_nowait()
                except queue.Empty:
                    break
                acknowledged[seq] = barcode
            total = check_journal(tmp_path / "data" / "tillbridge.db", acknowledged, start_stock)
    assert len(acknowledged) >= ROUNDS
    assert total >= len(acknowledged)
