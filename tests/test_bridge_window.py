"""Coalesced shop writes: at a live till's pace the sales of a window reach the shop together in one read
and one batch write, the shop lags the tills by at most the window, and a sale that takes a sku down to its
low-stock threshold reaches the shop at once (the last units are never sold twice online).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_bridge import models as m
from cloud_bridge.config import parse_config
from cloud_bridge.db import Database
from cloud_bridge.errors import BridgeConfigError
from cloud_bridge.journal import apply_batch
from cloud_bridge.parking import open_problems
from cloud_bridge.state import Timer, get_time
from cloud_bridge.sync import ShopDriver
from cloud_bridge.worker import Worker
from simulators.broker import Broker
from simulators.shops import ShopifySimulator, WooCommerceSimulator
from tests.bridge_helpers import (
    FAST,
    Clock,
    PlayedBox,
    RecordingPublisher,
    Simulator,
    batch,
    bridge_config,
    database,
    driver,
    postgres,
    run,
    sale,
    seed,
    shop_config,
    start_simulator,
    wait_for,
)
from wire import JournalEntry, format_ts

__all__ = ["database", "postgres"]  # fixtures

PLATFORMS = ["woocommerce", "prestashop", "shopify"]
WINDOW = 10.0


@contextmanager
def shop(
    platform: str, db: Database, stock: int = 20, window: float = WINDOW
) -> Iterator[tuple[Simulator, ShopDriver, Clock]]:
    sim = start_simulator(platform, seed(4, stock))
    try:
        clock = Clock()
        timing = replace(FAST, orders_s=3600.0, products_s=3600.0)  # only the stock calls are counted
        config = shop_config("shop", sim, ["till-1"], window=window)
        d = driver(db, config, RecordingPublisher(), clock, timing)
        d.run_pass(force=True)
        yield sim, d, clock
    finally:
        sim.stop()


def journal(db: Database, *entries: JournalEntry) -> None:
    b, payload = batch(*entries)
    apply_batch(db, "shop", "till-1", b, payload, time.time())


def sold(seq: int, sku: str, clock: Clock) -> JournalEntry:
    """A sale made at the till at the driver's time (a window counts from the sale's time at the till)."""
    at = format_ts(datetime.fromtimestamp(clock(), UTC))
    return JournalEntry(seq, "sale", at, {"sku": sku, "delta": -1, "stock_after": 0})


@pytest.mark.parametrize("platform", PLATFORMS)
def test_sales_at_live_pace_wait_for_the_window_and_go_together(database: Database, platform: str) -> None:
    with shop(platform, database) as (sim, d, clock):
        before = sim.total_calls
        for seq in range(1, 6):  # a sale every 1.5 s, passes between them as the worker makes them
            journal(database, sold(seq, f"SKU-00{seq % 3}", clock))
            run(d, clock, 1.5)
            assert [sim.stock(f"SKU-00{i}") for i in range(3)] == [20, 20, 20], "written before the window"
        waited = sim.total_calls - before
        run(d, clock, WINDOW)
        assert [sim.stock(f"SKU-00{i}") for i in range(4)] == [19, 18, 18, 20]
        assert get_time("shop", Timer.WRITES_OPEN) is None  # nothing waits: the window is closed
        written = sim.total_calls - before - waited
        # one read and one batch write (or one delta), then the orders feed read to its end (2 polls);
        # PrestaShop: its reads batched, then one PUT per sku, each read first as a whole document
        assert written <= {"prestashop": 12}.get(platform, 4), sim.calls


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_sale_taking_a_sku_to_the_low_stock_threshold_reaches_the_shop_at_once(
    database: Database, platform: str
) -> None:
    with shop(platform, database, stock=3) as (sim, d, clock):
        journal(database, sale(1, "SKU-001", 5, "receive"))  # SKU-001 now 8: not low
        run(d, clock, 0.1)
        assert sim.stock("SKU-001") == 3  # the window holds
        journal(database, sold(2, "SKU-000", clock))  # SKU-000 3 → 2: the last units
        run(d, clock, 0.1)
        assert sim.stock("SKU-000") == 2  # at once, not at the window's end
        # a batch write takes the rest of the window along; PrestaShop writes a sku per call, so the
        # other waits for its window
        assert sim.stock("SKU-001") == (3 if platform == "prestashop" else 8)
        run(d, clock, WINDOW)
        assert sim.stock("SKU-001") == 8


def test_the_window_and_the_threshold_are_per_shop_settings() -> None:
    shops = [
        {"id": "a", "platform": "shopify", "base_url": "http://x", "write_window_s": 4, "low_stock": 0},
        {"id": "b", "platform": "shopify", "base_url": "http://x"},
    ]
    config = parse_config({"shop": shops})
    a, b = config.shops
    assert (a.write_window_s, a.low_stock, b.write_window_s, b.low_stock) == (4.0, 0, 10.0, 2)
    bad = [{"id": "a", "platform": "shopify", "base_url": "http://x", "write_window_s": -1, "low_stock": -2}]
    with pytest.raises(
        BridgeConfigError, match=r"shop\[0\].write_window_s: -1.0 must be from 0 to 3600"
    ) as caught:
        parse_config({"shop": bad})
    assert "shop[0].low_stock: -2 must be 0 or more" in str(caught.value)


def test_through_a_running_worker_the_last_units_reach_the_shop_within_a_second(tmp_path: Path) -> None:
    """A real worker, mosquitto and the simulated shop, a 10 s window: a sale taking a sku to 2 shows in
    the shop within about a second; a sale of a well-stocked sku made just before it waits for the window
    (on WooCommerce it rides along in the same batch write).
    """
    broker = Broker(tmp_path / "broker").start()
    sim = start_simulator("prestashop", seed(3, 3))
    shop_cfg = shop_config("corner", sim, ["till-1"], window=WINDOW)
    worker = Worker(bridge_config(f"sqlite:///{tmp_path / 'bridge.db'}", broker.url, [shop_cfg])).start()
    till = PlayedBox("corner", "till-1", broker.url)
    try:
        assert worker.ready(10)
        # the first pass is over (it ends with a reconciliation, which writes whatever it finds)
        wait_for(lambda: m.ShopState.select().where(m.ShopState.name == Timer.RECONCILE.value).exists())
        till.record("receive", sku="SKU-001", delta=10, stock_after=13)
        till.wait_acked()
        started = time.monotonic()
        till.sell("SKU-000")  # 3 → 2
        wait_for(lambda: sim.stock("SKU-000") == 2, 3.0, "the last units in the shop")
        assert time.monotonic() - started < 2.0
        assert sim.stock("SKU-001") == 3  # the window still holds the well-stocked sku
        wait_for(lambda: sim.stock("SKU-001") == 13, WINDOW + 5, "the window's write")
    finally:
        till.close()
        worker.stop()
        sim.stop()
        broker.stop()


@pytest.mark.parametrize("platform", ["woocommerce", "shopify"])
def test_one_item_refused_in_a_windows_batch_parks_only_that_sku_naming_it(
    database: Database, platform: str
) -> None:
    with shop(platform, database) as (sim, d, clock):
        if isinstance(sim, WooCommerceSimulator):
            sim.reject_writes("SKU-001")  # answered 200 with an error object for that item only
        else:
            assert isinstance(sim, ShopifySimulator)
            sim.unstock("SKU-001")  # a userError for that item; the others of the mutation not applied
        journal(database, *(sold(seq, f"SKU-00{seq % 3}", clock) for seq in range(1, 7)))
        run(d, clock, 0.5)
        run(d, clock, WINDOW)  # the window closes: one batch with the three skus
        run(d, clock, 0.5)  # a delta shop sends the items held back by the refused one with a new key
        assert [sim.stock(f"SKU-00{i}") for i in range(3)] == [18, 20, 18]
        problems = open_problems("shop")
        assert [p.key for p in problems] == ["sku/SKU-001"]
        assert "SKU-001" in problems[0].error


def test_the_window_counts_from_the_sale_at_the_till_not_from_when_the_bridge_saw_it(
    database: Database,
) -> None:
    """A sale that took 4 s to reach the bridge (a slow link, a busy broker) waits only the rest of the
    window; one older than the window (a backlog after an outage) goes at once.
    """
    with shop("woocommerce", database) as (sim, d, clock):
        clock.advance(-4.0)
        journal(database, sold(1, "SKU-001", clock))  # made 4 s before the bridge sees it
        clock.advance(4.0)
        run(d, clock, 0.1)
        assert sim.stock("SKU-001") == 20
        run(d, clock, 5.0)  # 9.1 s after the sale
        assert sim.stock("SKU-001") == 20
        run(d, clock, 1.0)  # 10.1 s after it, 6 s after the bridge saw it
        assert sim.stock("SKU-001") == 19
        clock.advance(-3600.0)
        journal(database, sold(2, "SKU-002", clock))  # made an hour ago: a backlog after an outage
        clock.advance(3600.0)
        run(d, clock, 0.1)
        assert sim.stock("SKU-002") == 19
