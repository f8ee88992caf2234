"""Box journals applied in seq order, exactly once, on PostgreSQL and SQLite."""

from __future__ import annotations

import random
import threading
import time

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.db import Database
from cloud_bridge.journal import apply_batch
from cloud_bridge.parking import open_problems
from tests.bridge_helpers import batch, database, postgres, sale
from wire import JournalBatch, JournalEntry, encode, now_ts

__all__ = ["database", "postgres"]  # fixtures


def apply(db: Database, *entries: JournalEntry, box: str = "till-1") -> int | None:
    b, payload = batch(*entries)
    return apply_batch(db, "shop", box, b, payload, time.time()).upto


def movements(sku: str = "A") -> list[tuple[str, int]]:
    query = m.Movement.select().where(m.Movement.sku == sku).order_by(m.Movement.source)
    return [(row.source, row.delta) for row in query]


def test_entries_apply_in_order_and_a_resent_batch_changes_nothing(database: Database) -> None:
    assert apply(database, sale(1, "A"), sale(2, "A", -2), sale(3, "B", 5, "receive")) == 3
    assert apply(database, sale(1, "A"), sale(2, "A", -2), sale(3, "B", 5, "receive")) == 3
    assert apply(database, sale(2, "A", -2), sale(3, "B", 5, "receive"), sale(4, "A", 1, "return")) == 4
    assert movements("A") == [("b/till-1/1", -1), ("b/till-1/2", -2), ("b/till-1/4", 1)]
    assert m.Box.get(m.Box.box == "till-1").applied == 4


def test_a_batch_that_arrives_early_waits_for_the_one_before_it(database: Database) -> None:
    assert apply(database, sale(3, "A"), sale(4, "A")) == 0  # seqs 1-2 are still on their way
    assert movements() == []
    assert apply(database, sale(5, "A")) == 0
    assert apply(database, sale(1, "A"), sale(2, "A")) == 5  # fills the gap: the waiting batches follow
    assert [source for source, _ in movements()] == [f"b/till-1/{n}" for n in range(1, 6)]
    assert m.PendingBatch.select().count() == 0


def test_boxes_do_not_share_positions(database: Database) -> None:
    assert apply(database, sale(1, "A"), box="till-1") == 1
    assert apply(database, sale(1, "A"), box="till-2") == 1
    assert len(movements()) == 2


def test_a_recovered_store_closes_a_gap_as_a_visible_loss_window(database: Database) -> None:
    apply(database, sale(1, "A"))
    recovered = JournalEntry(
        2049, "store_recovered", now_ts(), {"moved_to": "/x.corrupt", "lost_after_seq": 7}
    )
    assert apply(database, recovered, sale(2050, "A")) == 2050
    [problem] = open_problems("shop")
    assert "seqs 2-2048 never arrived" in problem.error and problem.box == "till-1"


def test_unknown_kinds_are_parked_and_the_journal_moves_on(database: Database) -> None:
    newer = JournalEntry(2, "loyalty_points", now_ts(), {"points": 5})
    assert apply(database, sale(1, "A"), newer, sale(3, "A")) == 3
    [problem] = open_problems("shop")
    assert problem.key == "entry/till-1/2" and "'loyalty_points'" in problem.error
    assert '"points": 5' in problem.payload
    assert len(movements()) == 2


def test_collecting_an_order_turns_its_reservation_into_a_movement(database: Database) -> None:
    with database.write():
        m.Stock.create(shop="shop", sku="A", baseline=10, baseline_at=0)
        ledger.reserve("shop", "o-1", [("l1", "A", 3)])
        m.ShopOrder.create(
            shop="shop", order_id="o-1", state="paid", status="processing", pickup_code="K-1", updated_at=0
        )
        assert ledger.levels("shop", ["A"])["A"].available == 7
    collected = JournalEntry(1, "order_collected", now_ts(), {"order_id": "o-1", "pickup_code": "K-1"})
    assert apply(database, collected) == 1
    level = ledger.levels("shop", ["A"])["A"]
    assert (level.on_hand, level.reserved, level.available) == (7, 0, 7)
    assert m.ShopOrder.get().completion == "wanted"
    assert (
        apply(
            database, JournalEntry(2, "order_collected", now_ts(), {"order_id": "o-1", "pickup_code": "K-1"})
        )
        == 2
    )
    assert ledger.levels("shop", ["A"])["A"].on_hand == 7  # collected twice, counted once


def test_a_wrong_pickup_code_is_parked_and_the_order_stays_reserved(database: Database) -> None:
    with database.write():
        m.Stock.create(shop="shop", sku="A", baseline=10, baseline_at=0)
        ledger.reserve("shop", "o-1", [("l1", "A", 3)])
        m.ShopOrder.create(
            shop="shop", order_id="o-1", state="paid", status="processing", pickup_code="K-1", updated_at=0
        )
    assert (
        apply(database, JournalEntry(1, "order_collected", now_ts(), {"order_id": "o-1", "pickup_code": "X"}))
        == 1
    )
    assert ledger.levels("shop", ["A"])["A"].reserved == 3
    assert "wrong pickup code" in open_problems("shop")[0].error


def test_concurrent_redelivered_batches_apply_each_entry_once(database: Database) -> None:
    entries = [sale(seq, random.choice("ABC")) for seq in range(1, 121)]
    batches = [JournalBatch(tuple(entries[i : i + 10])) for i in range(0, 120, 10)]
    deliveries = batches * 3  # every batch three times, in any order, on four threads at once
    random.Random(4).shuffle(deliveries)
    ups: list[int | None] = []

    def worker(part: list[JournalBatch]) -> None:
        for b in part:
            ups.append(apply_batch(database, "shop", "till-1", b, encode(b), time.time()).upto)
        database.close()

    threads = [threading.Thread(target=worker, args=(deliveries[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert max(u or 0 for u in ups) == 120
    rows = list(m.Movement.select())
    assert sorted(int(r.source.split("/")[-1]) for r in rows) == list(range(1, 121))
    assert sum(r.delta for r in rows) == -120


def test_pickup_codes_fit_the_box_s_pickup_barcodes():
    from cloud_bridge.orders import pickup_code
    from devices.barcodes import Kind, encode_pickup, interpret

    code = pickup_code(b"secret", "corner-woo", "1042")
    scanned = interpret(encode_pickup("1042", code))
    assert scanned.kind is Kind.PICKUP and scanned.pickup is not None and scanned.pickup.code == code
