"""Box journals applied in seq order, exactly once, on PostgreSQL and SQLite."""

from __future__ import annotations

import json
import random
import threading
import time

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.db import Database
from cloud_bridge.fleet import on_state
from cloud_bridge.journal import apply_batch
from cloud_bridge.parking import open_problems
from tests.bridge_helpers import batch, database, postgres, sale
from wire import JournalBatch, JournalEntry, State, decode_journal, encode, now_ts

__all__ = ["database", "postgres"]  # fixtures

OLD, NEW = "a1b2c3d4e5f60718", "0f1e2d3c4b5a6978"


def apply(
    db: Database,
    *entries: JournalEntry,
    box: str = "till-1",
    epoch: str | None = None,
    acked: int | None = None,
) -> int | None:
    b, payload = batch(*entries, epoch=epoch, acked=acked)
    return apply_batch(db, "shop", box, b, payload, time.time()).upto


def apply_raw(db: Database, payload: bytes, box: str = "till-1") -> int | None:
    return apply_batch(db, "shop", box, decode_journal(payload), payload, time.time()).upto


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
    assert apply(database, sale(3, "A"), sale(4, "A"), acked=0) is None  # seqs 1-2 are still on their way
    assert movements() == []
    assert apply(database, sale(5, "A"), acked=0) is None
    assert apply(database, sale(1, "A"), sale(2, "A"), acked=0) == 5  # fills the gap: the held ones follow
    assert [source for source, _ in movements()] == [f"b/till-1/{n}" for n in range(1, 6)]
    assert m.HeldBatch.select().count() == 0


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


def test_a_retransmit_that_skips_a_seq_is_applied_up_to_the_hole_and_acked_no_further(
    database: Database,
) -> None:
    """An independent box client resends 4, 6, 7 after a partial loss: 5 must not be skipped for good."""
    assert apply(database, sale(1, "A"), sale(2, "A"), sale(3, "A")) == 3
    assert apply(database, sale(4, "A"), sale(6, "A"), sale(7, "A")) == 4  # the ack stops before the hole
    assert [source for source, _ in movements()] == [f"b/till-1/{n}" for n in range(1, 5)]
    assert apply(database, sale(5, "A")) == 7  # the held entries follow once the hole is filled
    assert [source for source, _ in movements()] == [f"b/till-1/{n}" for n in range(1, 8)]


def test_a_box_whose_store_was_deleted_starts_again_at_seq_1_and_its_sales_count(database: Database) -> None:
    assert apply(database, sale(1, "A"), sale(2, "A"), sale(3, "A"), epoch=OLD, acked=0) == 3
    assert apply(database, sale(1, "A", -5), sale(2, "A", -7), epoch=NEW, acked=0) == 2  # a fresh store
    assert sum(delta for _, delta in movements()) == -15  # no sale of the new store taken for a replay
    [window] = m.LossWindow.select()
    assert (window.epoch, window.after_seq, window.new_epoch) == (OLD, 3, NEW)
    [problem] = open_problems("shop")
    assert "store changed" in problem.error and "applied up to seq 3" in problem.error


def test_a_late_batch_of_the_old_store_is_applied_to_its_own_stream(database: Database) -> None:
    assert apply(database, sale(1, "A"), epoch=OLD, acked=0) == 1
    assert apply(database, sale(1, "B"), epoch=NEW, acked=0) == 1
    assert apply(database, sale(1, "A"), sale(2, "A"), epoch=OLD, acked=0) == 2  # sent before the change
    assert movements("A") == [(f"b/till-1/{OLD}/1", -1), (f"b/till-1/{OLD}/2", -1)]
    current = m.Stream.get(m.Stream.current == True)  # noqa: E712
    assert current.epoch == NEW and m.Box.get().last_seq == 1


def test_a_box_never_seen_is_applied_from_wherever_its_stream_starts(database: Database) -> None:
    assert apply(database, sale(1041, "A"), sale(1042, "A"), epoch=OLD, acked=1040) == 1042
    assert apply(database, sale(7, "A"), box="till-2") is None  # too old to say: seq 1 first, as before
    assert apply(database, *(sale(n, "A") for n in range(1, 7)), box="till-2") == 7
    assert len(movements()) == 9
    assert open_problems("shop") == []  # a first stream is recorded, not a loss


def test_a_box_that_had_entries_acked_elsewhere_reports_them_lost_and_goes_on(database: Database) -> None:
    assert apply(database, sale(1, "A"), epoch=OLD, acked=0) == 1
    assert apply(database, sale(9, "A"), epoch=OLD, acked=8) == 9  # seqs 2-8 were deleted on another ack
    [window] = m.LossWindow.select()
    assert (window.after_seq, window.upto_seq) == (1, 8)
    assert "seqs 2-8" in open_problems("shop")[0].error


def test_a_birth_with_a_new_store_reports_the_loss_before_any_sale(database: Database) -> None:
    assert apply(database, sale(1, "A"), sale(2, "A"), epoch=OLD, acked=0) == 2
    birth = State(True, "1.0", 3, "cafe", now_ts(), epoch=NEW)
    with database.box_transaction("shop", "till-1"):
        on_state("shop", "till-1", birth, time.time())
        on_state("shop", "till-1", birth, time.time())  # every worker reads the retained birth
    [window] = m.LossWindow.select()
    assert (window.epoch, window.after_seq, window.new_epoch) == (OLD, 2, NEW)
    assert apply(database, sale(1, "A"), epoch=NEW, acked=0) == 1


def test_a_box_back_on_its_earlier_store_shows_that_stores_position_in_the_fleet_view(
    database: Database,
) -> None:
    """A birth naming the box's earlier store makes it current again: the fleet view showed the other
    store's position and held batches until the box's next batch."""
    assert apply(database, *(sale(n, "A") for n in range(1, 6)), epoch=OLD, acked=0) == 5
    assert apply(database, sale(1, "A"), epoch=NEW, acked=0) == 1
    assert apply(database, sale(3, "A"), epoch=NEW, acked=1) == 1  # seq 2 missing: held
    assert (m.Box.get().last_seq, m.Box.get().pending) == (1, 1)
    with database.box_transaction("shop", "till-1"):
        on_state("shop", "till-1", State(True, "1.0", 4, "cafe", now_ts(), epoch=OLD), time.time())
    assert (m.Box.get().last_seq, m.Box.get().pending) == (5, 0)


def _entry(seq: int, **fields: object) -> dict[str, object]:
    return {"seq": seq, "kind": "sale", "ts": now_ts(), "sku": "A", "delta": -1, "stock_after": 0, **fields}


def test_an_entry_with_an_absurd_delta_is_parked_and_the_journal_goes_on(database: Database) -> None:
    """Issue 13 finding 9: 2**63 - 1 reached the shop; 2**63 stalled every later entry of the box."""
    absurd = [_entry(seq, delta=delta) for seq, delta in ((2, 2**63 - 1), (3, 2**63), (4, 10**9 + 1))]
    entries = [_entry(1), *absurd, _entry(5, delta=-3)]
    payload = json.dumps({"v": 1, "epoch": OLD, "acked": 0, "entries": entries}).encode()
    assert apply_raw(database, payload) == 5
    assert [delta for _, delta in movements()] == [-1, -3]
    problems = {p.key: p.error for p in open_problems("shop")}
    assert set(problems) == {f"entry/till-1/{OLD}/{seq}" for seq in (2, 3, 4)}
    assert all("delta: expected an integer" in error for error in problems.values()), problems
    assert apply_raw(database, payload) == 5  # sent again: nothing applied or parked twice
    assert len(movements()) == 2 and all(p.count == 1 for p in open_problems("shop"))


def test_bridge_status_shows_a_replaced_store_as_lost_entries(database: Database) -> None:
    from cloud_bridge.config import ShopConfig
    from cloud_bridge.status import fleet_view, render
    from tests.bridge_helpers import bridge_config

    apply(database, sale(1, "A"), sale(2, "A"), epoch=OLD, acked=0)
    apply(database, sale(1, "A"), epoch=NEW, acked=0)
    shop = ShopConfig("shop", "woocommerce", "http://127.0.0.1:1", ("till-1",), {}, 0)
    view = fleet_view(bridge_config(database.url, "mqtt://127.0.0.1:1883", [shop]))
    [box] = json.loads(view.to_json())["shops"][0]["boxes"]
    assert box["epoch"] == NEW and box["last_seq"] == 1 and box["applied"] == 3
    [loss] = box["losses"]
    assert (loss["epoch"], loss["after_seq"], loss["upto_seq"], loss["new_epoch"]) == (OLD, 2, None, NEW)
    text = render(view)
    assert f"store {NEW}" in text and "LOST ENTRIES: 1 loss windows" in text
    assert "the box's store changed" in text  # and the parked problem says what happened


def test_held_batches_are_bounded_and_what_is_dropped_is_never_acked(database: Database) -> None:
    from cloud_bridge.journal import MAX_HELD

    assert apply(database, sale(1, "A"), epoch=OLD, acked=0) == 1
    last = 2 + MAX_HELD + 2  # seq 2 is missing; MAX_HELD batches are held, the last two are dropped
    for seq in range(3, last + 1):
        assert apply(database, sale(seq, "A"), epoch=OLD, acked=1) == 1
    assert m.HeldBatch.select().count() == MAX_HELD
    assert apply(database, sale(2, "A"), epoch=OLD, acked=1) == 2 + MAX_HELD  # stops before the dropped
    assert apply(database, sale(last - 1, "A"), sale(last, "A"), epoch=OLD, acked=1) == last  # resent
    assert len(movements()) == last and m.HeldBatch.select().count() == 0
