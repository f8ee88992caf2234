"""History compaction: settled movements past the retention are folded into the running balances, so the
movement table holds recent history, not a shop's lifetime, and nothing a person sees changes: the shop's
stock, every level the ledger gives (settled or not), what the boxes are pushed, and a journal batch sent
again after compaction is still applied once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from cloud_bridge import ledger, levels
from cloud_bridge import models as m
from cloud_bridge.db import Database
from cloud_bridge.journal import apply_batch
from cloud_bridge.sync import ShopDriver
from simulators.shops import WooCommerceSimulator
from tests.bridge_helpers import (
    Clock,
    RecordingPublisher,
    batch,
    database,
    driver,
    postgres,
    seed,
    shop_config,
    start_simulator,
)
from wire import JournalEntry, format_ts

__all__ = ["database", "postgres"]  # fixtures

SKUS = ["SKU-000", "SKU-001", "SKU-002"]
EPOCH = "c0ffee00c0ffee00"


@contextmanager
def woo_shop(db: Database) -> Iterator[tuple[WooCommerceSimulator, ShopDriver, Clock]]:
    sim = start_simulator("woocommerce", seed(len(SKUS), 50))
    assert isinstance(sim, WooCommerceSimulator)
    try:
        d = driver(db, shop_config("shop", sim, ["till-1"]), RecordingPublisher(), Clock())
        d.run_pass(force=True)
        yield sim, d, d.clock  # type: ignore[misc]
    finally:
        sim.stop()


def _ts(days_ago: float) -> str:
    return format_ts(datetime.now(UTC) - timedelta(days=days_ago))


def _sales(first: int, count: int, days_ago: float) -> list[JournalEntry]:
    return [
        JournalEntry(seq, "sale", _ts(days_ago), {"sku": SKUS[seq % 3], "delta": -1, "stock_after": 0})
        for seq in range(first, first + count)
    ]


def _apply(db: Database, entries: list[JournalEntry]) -> int:
    b, payload = batch(*entries, epoch=EPOCH)
    return apply_batch(db, "shop", "till-1", b, payload, time.time()).applied


def _seen(db: Database) -> dict[str, object]:
    """Everything a person can see of the ledger's skus."""
    with db.db.connection_context():
        plain = ledger.levels("shop", SKUS)
        settled = ledger.levels("shop", SKUS, settled=True)
    return {
        "on_hand": {sku: plain[sku].on_hand for sku in SKUS},
        "available": {sku: plain[sku].available for sku in SKUS},
        "settled": {sku: settled[sku].on_hand for sku in SKUS},
    }


def _movements(db: Database) -> int:
    with db.db.connection_context():
        return int(m.Movement.select().where(m.Movement.shop == "shop").count())


def test_old_settled_history_is_folded_away_and_every_level_stays_the_same(database: Database) -> None:
    with woo_shop(database) as (sim, d, clock):
        order_id = sim.place_order("SKU-001", 2)  # an online order: its reservation and, shipped, a movement
        clock.advance(1)
        d.run_pass(force=True)
        assert _apply(database, _sales(1, 30, days_ago=200)) == 30  # a till's sales long ago
        clock.advance(1)
        d.run_pass(force=True)  # written to the shop, pushed to the boxes: settled
        assert _apply(database, _sales(31, 6, days_ago=1)) == 6  # recent sales, settled too
        clock.advance(1)
        d.run_pass(force=True)
        assert _apply(database, _sales(37, 3, days_ago=200)) == 3  # old by its clock, not written yet
        levels.push_due(database, "shop", ["till-1"], time.time())

        before, rows_before, shop_before = _seen(database), _movements(database), sim.stock("SKU-000")
        assert shop_before is not None
        cutoff = _ts(90)
        with database.write():
            folded = ledger.compact("shop", cutoff)
        assert folded == 30  # the old settled sales only: not the recent ones, not the unwritten ones
        assert _movements(database) == rows_before - 30
        assert _seen(database) == before

        # The same old batch sent again (a box restored, a late resend) is applied once: nothing moves.
        assert _apply(database, _sales(1, 30, days_ago=200)) == 0
        assert _seen(database) == before
        with database.write():
            assert ledger.compact("shop", cutoff) == 0  # nothing left to fold

        clock.advance(1)
        d.run_pass(force=True)  # the unwritten old sales still reach the shop, once
        assert sim.stock("SKU-000") == shop_before - 1
        del order_id


def test_compaction_folds_in_bounded_chunks(database: Database) -> None:
    with woo_shop(database) as (_, d, clock):
        assert _apply(database, _sales(1, 12, days_ago=120)) == 12
        clock.advance(1)
        d.run_pass(force=True)
        before = _seen(database)
        cutoff = _ts(90)
        chunks = []
        while True:
            with database.write():
                folded = ledger.compact("shop", cutoff, limit=5)
            if not folded:
                break
            chunks.append(folded)
            assert _seen(database) == before  # each chunk leaves the levels as they were
        assert chunks == [5, 5, 1]
        assert _movements(database) == 1  # the shop's newest stays: SQLite would hand out its id again
