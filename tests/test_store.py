import re
import sqlite3
from pathlib import Path

import pytest

from firmware_agent.errors import StoreFullError, StoreTooNewError
from firmware_agent.store import Store, StoreLimits
from firmware_agent.store.migrations import LATEST, MIGRATIONS
from firmware_agent.store.seqfloor import BLOCK
from tests.store_helpers import open_store
from wire import LEGACY_EPOCH, JournalBatch, JournalEntry, SaleEntry, decode, encode

SALE = SaleEntry(sku="MILK", delta=-1, stock_after=0)


def test_a_new_store_uses_wal_full_sync_and_foreign_keys(tmp_path):
    store = open_store(tmp_path)
    pragma = lambda name: store.sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2  # FULL
    assert pragma("foreign_keys") == 1
    assert pragma("user_version") == LATEST


def test_products_are_found_by_any_of_their_barcodes_in_the_order_asked(tmp_path):
    store = open_store(tmp_path)
    assert store.find_product(["0000", "08410000000023"]) == store.product("MILK")
    assert store.find_product(["nope"]) is None
    assert store.find_product([]) is None


def test_journal_seq_is_gap_free_and_survives_reopening(tmp_path):
    store = open_store(tmp_path)
    with store.transaction():
        seqs = [store.append(SALE).seq for _ in range(3)]
    store.close()
    store = Store.open(tmp_path / "tillbridge.db")
    with store.transaction():
        seqs.append(store.append(SALE).seq)
    assert seqs == [1, 2, 3, 4]
    assert [r.seq for r in store.journal_after(2, 10)] == [3, 4]


def test_a_rolled_back_transaction_leaves_no_seq_gap(tmp_path):
    store = open_store(tmp_path)
    with pytest.raises(RuntimeError), store.transaction():
        store.append(SALE)
        raise RuntimeError("power cut in the middle")
    with store.transaction():
        assert store.append(SALE).seq == 1
    assert store.journal_count() == 1


def test_seq_never_repeats_after_acknowledged_entries_are_forgotten(tmp_path):
    store = open_store(tmp_path)
    with store.transaction():
        for _ in range(3):
            store.append(SALE)
        assert store.forget_upto(3) == 3
    store.close()
    store = Store.open(tmp_path / "tillbridge.db")
    with store.transaction():
        assert store.append(SALE).seq == 4


def test_stock_may_go_negative_because_the_till_sells_anyway(tmp_path):
    store = open_store(tmp_path)
    with store.transaction():
        assert store.change_stock("OIL-1L", -12) == -2


def test_journal_size_bound_warns_before_it_refuses(tmp_path):
    store = open_store(tmp_path, StoreLimits(journal_max_bytes=2000, journal_warn_ratio=0.5))
    levels = []
    with store.transaction(), pytest.raises(StoreFullError, match="journal is full"):
        while True:
            store.append(SaleEntry(sku="MILK", delta=-1, stock_after=0, extra={"pad": "x" * 40}))
            levels.append(store.journal_level())
    assert levels[0] == "ok" and "warning" in levels
    with store.transaction():
        store.forget_upto(store.last_seq)
    assert store.journal_level() == "ok"


def test_a_newer_schema_that_breaks_this_release_is_refused_untouched(tmp_path):
    open_store(tmp_path).close()
    path = tmp_path / "tillbridge.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
        conn.execute(f"UPDATE setting SET value = '{LATEST + 1}' WHERE key = 'readable_from'")
    with pytest.raises(StoreTooNewError, match="install the newer release again"):
        Store.open(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST + 1


def test_a_rolled_back_release_keeps_using_a_store_a_newer_one_migrated_additively(tmp_path):
    open_store(tmp_path).close()
    path = tmp_path / "tillbridge.db"
    with sqlite3.connect(path) as conn:  # what a next release's additive migration would do
        conn.execute("ALTER TABLE product ADD COLUMN vat_rate INTEGER")
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    store = Store.open(path)
    with store.transaction():
        assert store.change_stock("OIL-1L", -1) == 9
        assert store.append(SaleEntry(sku="OIL-1L", delta=-1, stock_after=0)).seq == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST + 1


@pytest.mark.parametrize("version", range(1, LATEST))
def test_every_earlier_schema_migrates_forward_keeping_its_data(tmp_path, version):
    path = tmp_path / "tillbridge.db"
    with sqlite3.connect(path) as conn:
        for script in MIGRATIONS[:version]:
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("INSERT INTO product VALUES ('MILK', 'Leche', 99, 'each', 7)")
        conn.execute("INSERT INTO barcode VALUES ('8410000000023', 'MILK')")
        conn.execute("INSERT INTO journal (kind, ts, data) VALUES ('sale', '2026-01-01T00:00:00.000Z', '{}')")
    store = Store.open(path)
    product = store.find_product(["8410000000023"])
    assert product is not None and product.stock == 7
    with store.transaction():
        assert store.append(SALE).seq == 2
        assert store.enqueue_print("test", b"x", ttl_s=60) == 1  # the newest tables exist


def test_a_corrupt_database_is_moved_aside_and_the_loss_window_is_journaled(tmp_path, caplog):
    store = open_store(tmp_path)
    with store.transaction():
        for _ in range(5):
            store.append(SALE)
    store.close()
    path = tmp_path / "tillbridge.db"
    data = bytearray(path.read_bytes())
    data[0:16] = b"definitely-not-a"  # the SQLite header is gone
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"tillbridge.db{suffix}").unlink(missing_ok=True)

    store = Store.open(path)

    moved = list(tmp_path.glob("tillbridge.db.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes()[:16] == b"definitely-not-a"
    assert any(r.levelname == "CRITICAL" and "corrupt" in r.getMessage() for r in caplog.records)
    [entry] = store.journal_after(0, 10)
    assert entry.kind == "store_recovered" and entry.data["moved_to"] == str(moved[0])
    assert entry.seq > 5, "a fresh store must never reuse a seq the cloud may have seen"
    wire_entry = JournalEntry(entry.seq, entry.kind, entry.ts, entry.data)
    assert decode("journal", encode(JournalBatch((wire_entry,)))) == JournalBatch((wire_entry,))


def test_the_seq_floor_reserves_blocks_not_every_scan(tmp_path):
    store = open_store(tmp_path)
    floor_file = tmp_path / "tillbridge.db.seq"
    with store.transaction():
        store.append(SALE)
    first = floor_file.stat().st_mtime_ns, floor_file.read_text()
    with store.transaction():
        for _ in range(10):
            store.append(SALE)
    assert (floor_file.stat().st_mtime_ns, floor_file.read_text()) == first
    assert int(first[1]) == BLOCK


def test_inbound_ids_are_seen_once(tmp_path):
    store = open_store(tmp_path)
    with store.transaction():
        assert store.first_time_seen("order", "A-1")
        assert not store.first_time_seen("order", "A-1")
        assert store.first_time_seen("cmd", "A-1")


def test_every_schema_version_says_which_releases_can_read_it():
    from firmware_agent.store.migrations import READABLE_FROM

    assert len(READABLE_FROM) == LATEST
    assert all(1 <= oldest <= version for version, oldest in enumerate(READABLE_FROM, start=1))


def test_a_product_updated_without_barcodes_keeps_the_ones_the_box_has(tmp_path):
    from firmware_agent.store import ProductRecord

    store = open_store(tmp_path)
    with store.transaction():
        store.upsert_products([(ProductRecord("OIL-1L", "Aceite 1 L", 1195, "each", 30), [])])
    assert store.find_product(["8410000000016"]) == ProductRecord("OIL-1L", "Aceite 1 L", 1195, "each", 30)


# ---- the store's epoch: which journal stream its seqs belong to ----------------------------------------


def _sell(store, count: int) -> list[int]:
    with store.transaction():
        return [store.append(SALE).seq for _ in range(count)]


def _ack(store, seq: int) -> None:
    with store.transaction():
        store.forget_upto(seq)
    store.note_acked(seq)


def test_a_store_keeps_its_epoch_and_one_made_before_epochs_keeps_its_stream(tmp_path):
    store = open_store(tmp_path)
    epoch = store.epoch
    assert re.fullmatch(r"[0-9a-f]{16}", epoch) and epoch != LEGACY_EPOCH
    _ack(store, _sell(store, 3)[-1])
    store.close()
    store = Store.open(tmp_path / "tillbridge.db")
    assert store.epoch == epoch and store.store_lost is None and store.journal_count() == 0
    old = tmp_path / "old" / "tillbridge.db"
    old.parent.mkdir()
    with sqlite3.connect(old) as conn:
        for script in MIGRATIONS[:3]:
            conn.executescript(script)
        conn.execute("PRAGMA user_version = 3")
        conn.execute("INSERT INTO journal (kind, ts, data) VALUES ('sale', '2026-01-01T00:00:00.000Z', '{}')")
    assert Store.open(old).epoch == LEGACY_EPOCH  # the stream the cloud knew it by goes on


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_deleted_or_empty_store_starts_a_new_epoch_and_says_what_was_lost(tmp_path, how):
    """Issue 13 finding 10: it restarted at seq 1, and the cloud acked its sales as duplicates."""
    store = open_store(tmp_path)
    epoch = store.epoch
    _sell(store, 5)
    _ack(store, 3)
    store.close()
    path = tmp_path / "tillbridge.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if how == "deleted":
        path.unlink()
    else:
        path.write_bytes(b"")
    store = Store.open(path)
    assert store.epoch != epoch
    [entry] = store.journal_after(0, 10)
    assert entry.kind == "store_recovered" and entry.seq > 5 and entry.data["lost_after_seq"] == 3
    assert (
        store.store_lost is not None and "missing" in store.store_lost and "after seq 3" in store.store_lost
    )
    with store.transaction():
        assert store.append(SALE).seq == entry.seq + 1


def test_a_store_replaced_by_another_file_starts_a_new_epoch_and_sets_its_entries_aside(tmp_path):
    mine = open_store(tmp_path / "mine")
    _ack(mine, _sell(mine, 2)[-1])
    mine.close()
    other = open_store(tmp_path / "other")
    other_epoch = other.epoch
    _sell(other, 4)
    other.close()
    (tmp_path / "other" / "tillbridge.db").replace(tmp_path / "mine" / "tillbridge.db")
    store = Store.open(tmp_path / "mine" / "tillbridge.db")
    assert store.epoch not in (other_epoch, LEGACY_EPOCH)
    [entry] = store.journal_after(0, 10)  # the other file's 4 unacknowledged entries were set aside
    assert entry.kind == "store_recovered" and "replaced" in entry.data["reason"]
    [aside] = (tmp_path / "mine").glob("tillbridge.db.replaced-*")
    with sqlite3.connect(aside) as conn:
        assert conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 4


def test_an_older_copy_of_the_store_starts_a_new_epoch(tmp_path):
    """A store restored from a backup would hand out seqs the cloud has applied: a new stream instead."""
    store = open_store(tmp_path)
    epoch = store.epoch
    _sell(store, 3)
    store.sql("VACUUM INTO ?", (str(tmp_path / "backup.db"),))
    _sell(store, 3)
    _ack(store, 6)
    store.close()
    (tmp_path / "backup.db").replace(tmp_path / "tillbridge.db")
    store = Store.open(tmp_path / "tillbridge.db")
    assert store.epoch != epoch
    assert store.store_lost is not None and "older copy" in store.store_lost
    [entry] = store.journal_after(0, 10)
    assert entry.kind == "store_recovered" and entry.seq > 6
