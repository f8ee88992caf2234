"""The box bench's `statements_only` bound replays what a sale runs: when the store's scan path changes,
the bound must change with it, or docs/performance.md would cite a ceiling for SQL the box no longer runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bench.bench_box import BARCODE, SALE
from devices.barcodes import BarcodeConfig
from devices.readings import ScanRead
from firmware_agent.catalog import load_products
from firmware_agent.core import CoreLoop
from firmware_agent.store import Store
from firmware_agent.store.database import sql_log
from simulators.catalog import SAMPLE_CATALOG


def test_the_bench_replays_the_statements_a_sale_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(tmp_path / "tillbridge.db")
    load_products(store, SAMPLE_CATALOG)
    core = CoreLoop(store, BarcodeConfig())
    core.post(ScanRead("till", BARCODE))
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=sql_log.name):
        core.run(until=lambda: bool(caplog.records))  # one batch: the scan's transaction, whatever it did
    store.close()

    assert [r.getMessage() for r in caplog.records] == ["BEGIN IMMEDIATE", *SALE, "COMMIT"]
