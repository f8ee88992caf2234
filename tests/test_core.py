"""The core loop on a real store: what a scan does, and that nothing is acknowledged before it commits."""

import sqlite3

from devices.barcodes import Mode, Quantity, Return, SetMode, encode_command
from devices.readings import DeviceState, DeviceStatus
from firmware_agent.domain import Feedback
from firmware_agent.events import ModeRequest
from tests.core_helpers import running_core
from tests.store_helpers import open_store

OIL, MILK, HAM_350G = "8410000000016", "8410000000023", "2000042003500"


def journal(tmp_path):
    with sqlite3.connect(tmp_path / "tillbridge.db") as conn:
        return conn.execute("SELECT seq, kind, data FROM journal ORDER BY seq").fetchall()


def test_a_sale_lowers_stock_and_journals_it_with_a_seq(tmp_path):
    with running_core(tmp_path) as box:
        [applied] = box.scan(OIL)
        assert applied.acknowledged and applied.outcome.feedback is Feedback.OK
        [record] = applied.records
        assert (record.seq, record.kind) == (1, "sale")
        assert record.data == {"sku": "OIL-1L", "delta": -1, "stock_after": 9, "barcode": OIL}


def test_every_scan_is_acknowledged_only_after_its_commit(tmp_path):
    seen_by_another_connection = []

    def check_committed(applied):
        for record in applied.records:
            with sqlite3.connect(tmp_path / "tillbridge.db") as conn:
                row = conn.execute("SELECT kind FROM journal WHERE seq = ?", (record.seq,)).fetchone()
            seen_by_another_connection.append(row)

    with running_core(tmp_path, check_committed) as box:
        box.scan(OIL, MILK, OIL)
    assert seen_by_another_connection == [("sale",), ("sale",), ("sale",)]


def test_a_burst_is_group_committed_with_gap_free_seqs(tmp_path):
    with running_core(tmp_path) as box:
        applied = box.scan(*[MILK] * 50)
    assert [r.seq for a in applied for r in a.records] == list(range(1, 51))
    assert applied[-1].records[0].data["stock_after"] == 24 - 50


def test_quantity_prefix_and_receive_mode(tmp_path):
    with running_core(tmp_path) as box:
        box.scan(encode_command(SetMode(Mode.RECEIVE)), encode_command(Quantity(12)))
        [applied] = box.scan(OIL)
    assert applied.records[0].kind == "receive" and applied.records[0].data["stock_after"] == 22
    assert [row[1] for row in journal(tmp_path)] == ["mode_changed", "receive"]


def test_a_return_puts_the_item_back(tmp_path):
    with running_core(tmp_path) as box:
        _, applied = box.scan(encode_command(Return()), OIL)
    assert applied.records[0].kind == "return" and applied.records[0].data["delta"] == 1


def test_count_mode_sets_stock_to_what_was_counted(tmp_path):
    with running_core(tmp_path) as box:
        box.scan(encode_command(SetMode(Mode.COUNT)))
        *_, last = box.scan(OIL, OIL, encode_command(Quantity(5)), OIL)
    assert last.records[0].kind == "count"
    assert last.records[0].data["counted"] == 7 and last.records[0].data["stock_after"] == 7


def test_a_weighed_label_sells_its_grams(tmp_path):
    with running_core(tmp_path) as box:
        [applied] = box.scan(HAM_350G)
    assert applied.records[0].data == {
        "sku": "HAM",
        "delta": -350,
        "stock_after": 4650,
        "barcode": HAM_350G,
        "weight_g": 350,
    }


def test_unknown_and_unreadable_barcodes_are_kept_never_dropped(tmp_path):
    with running_core(tmp_path) as box:
        unknown, unreadable = box.scan("8410000000108", "8410000000017")
    assert unknown.records[0].kind == "unknown_barcode"
    assert unknown.records[0].data["reason"] == "not in the catalog"
    assert unreadable.records[0].data["raw"] == "8410000000017"
    assert "check digit" in unreadable.records[0].data["reason"]


def test_a_scale_label_of_an_unknown_item_says_which_item(tmp_path):
    with running_core(tmp_path) as box:
        (label,) = box.scan("2099999012505")  # default layout 20IIIIIWWWWWC: item 99999, 1250 g
    assert label.records[0].data["reason"] == "scale item 99999 is not in the catalog"


def test_lookup_mode_changes_nothing(tmp_path):
    with running_core(tmp_path) as box:
        box.core.post(ModeRequest(Mode.LOOKUP, "button"))
        box.next()
        [applied] = box.scan(OIL)
    assert applied.records == () and "stock 10" in applied.outcome.message


def test_the_mode_survives_a_restart(tmp_path):
    with running_core(tmp_path) as box:
        box.scan(encode_command(SetMode(Mode.RECEIVE)))
    with running_core(tmp_path, store=open_store(tmp_path, catalog=False)) as box:
        [applied] = box.scan(OIL)
    assert applied.records[0].kind == "receive"


def test_a_failing_listener_does_not_stop_the_box(tmp_path):
    def broken(_applied):
        raise RuntimeError("LED on fire")

    with running_core(tmp_path, broken) as box:
        assert all(a.acknowledged for a in box.scan(OIL, MILK))


def test_a_failing_event_rolls_back_alone(tmp_path):
    with running_core(tmp_path) as box:
        box.core.store.sql("DELETE FROM product WHERE sku = 'MILK'")  # barcode row dangles
        box.core.post(DeviceStatus("front", DeviceState.OK))
        box.next()
        oil, milk, oil2 = box.scan(OIL, MILK, OIL)
    assert oil.acknowledged and oil2.acknowledged
    assert milk.records == () or milk.records[0].kind == "unknown_barcode"
    assert [r[0] for r in journal(tmp_path)] == sorted(r[0] for r in journal(tmp_path))


def test_calls_run_on_the_loop_and_return_after_commit(tmp_path):
    with running_core(tmp_path) as box:
        assert box.core.call(lambda store: store.product("OIL-1L")).stock == 10
        box.next()


def test_services_handle_their_own_events_on_the_loop(tmp_path):
    class Knock:
        pass

    with running_core(tmp_path) as box:
        box.core.on(Knock, lambda event: f"knock handled at seq {box.core.store.last_seq}")
        box.core.post(Knock())
        assert box.next().outcome.message == "knock handled at seq 0"


def test_an_unknown_event_is_reported_not_fatal(tmp_path):
    with running_core(tmp_path) as box:
        box.core.post(object())
        assert "does not know events" in (box.next().error or "")
        assert box.scan(OIL)[0].acknowledged


def test_a_stock_adjustment_is_journaled_with_its_reason(tmp_path):
    from firmware_agent.events import StockAdjust

    with running_core(tmp_path) as box:
        box.core.post(StockAdjust("OIL-1L", -2, "two bottles broken"))
        applied = box.next()
        box.core.post(StockAdjust("NOPE", 1, "typo"))
        refused = box.next()
    assert applied.records[0].kind == "adjust"
    assert applied.records[0].data == {
        "sku": "OIL-1L",
        "delta": -2,
        "stock_after": 8,
        "reason": "two bottles broken",
    }
    assert not refused.acknowledged and "not in the catalog" in (refused.error or "")


def test_every_entry_the_box_journals_follows_the_wire_contract(tmp_path):
    from firmware_agent.events import StockAdjust
    from wire import JournalBatch, JournalEntry, decode, encode

    with running_core(tmp_path) as box:
        box.scan(OIL, HAM_350G, "8410000000108", "8410000000017", encode_command(Return()), MILK)
        box.scan(encode_command(SetMode(Mode.COUNT)), OIL, encode_command(SetMode(Mode.RECEIVE)), OIL)
        box.core.post(StockAdjust("MILK", 3, "found in the back"))
        box.next()
        records = box.core.call(lambda store: store.journal_after(0, 100))
    batch = JournalBatch(tuple(JournalEntry(r.seq, r.kind, r.ts, r.data) for r in records))
    decoded = decode("journal", encode(batch))
    assert isinstance(decoded, JournalBatch)
    kinds = {e.kind for e in decoded.entries}
    assert kinds == {"sale", "unknown_barcode", "return", "mode_changed", "count", "receive", "adjust"}
    assert all(e.known for e in decoded.entries)
