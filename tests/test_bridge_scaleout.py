"""Two workers on one shared subscription and one PostgreSQL: every box's journal applied once, in order,
even when one worker is killed mid-stream (speed is measured in bench/bench_bridge.py, not asserted here).
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

from cloud_bridge import models as m
from cloud_bridge.db import Database
from simulators.broker import Broker
from tests.bridge_helpers import (
    PlayedBox,
    PostgresServer,
    WorkerProcess,
    bridge_config,
    postgres,
    seed,
    shop_config,
    start_simulator,
    wait_for,
)

__all__ = ["postgres"]  # fixtures

BOXES = [f"till-{n}" for n in range(6)]
ENTRIES = 400  # per box


def test_two_workers_share_the_journals_and_a_killed_one_loses_nothing(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    postgres.truncate()
    broker = Broker(tmp_path / "broker").start()
    sim = start_simulator("woocommerce", seed(20, 100_000))
    shop = shop_config("big", sim, BOXES)
    workers = [
        WorkerProcess(bridge_config(postgres.url, broker.url, [shop], worker_id=f"w{n}"), tmp_path)
        for n in range(2)
    ]
    db = Database(postgres.url).open()
    boxes = [PlayedBox("big", box, broker.url, max_entries=20) for box in BOXES]
    try:
        for worker in workers:
            worker.start()
        rng = random.Random(9)
        sold: dict[str, int] = {}
        for _, box in itertools.product(range(ENTRIES), boxes):
            sku = f"SKU-{rng.randrange(20):03d}"
            box.sell(sku)
            sold[sku] = sold.get(sku, 0) + 1
        wait_for(lambda: m.Movement.select().count() > len(BOXES) * ENTRIES // 4, 30, "a quarter applied")
        workers[0].kill()
        for box in boxes:
            box.wait_acked(timeout=30)
        sources = [row.source for row in m.Movement.select(m.Movement.source)]
        assert len(sources) == len(set(sources)) == len(BOXES) * ENTRIES
        assert all(row.last_seq == ENTRIES for row in m.Box.select())
        wait_for(
            lambda: all(sim.stock(sku) == 100_000 - n for sku, n in sold.items()),
            20,
            "the shop to show every sale",
        )
    finally:
        for box in boxes:
            box.close()
        for worker in workers:
            worker.stop()
        db.close()
        sim.stop()
        broker.stop()
