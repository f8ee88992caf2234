"""Pickups at the counter, on a real core loop and store: a code beeps OK only if it verifies, once, offline.

The box never holds the codes: orders carry an HMAC of (order id, code) under the shop's pickup key, which
the bridge sends beforehand. These tests store orders and keys exactly as the link does (`store_order`,
`store_pickup_key`) and scan pickup barcodes as the till's scanner would.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.barcodes import encode_pickup
from firmware_agent.domain import Feedback
from firmware_agent.store.orders import check_pickup, store_order, store_pickup_key
from tests.core_helpers import running_core
from tests.store_helpers import open_store
from wire import Order, OrderLine, pickup_hash

KEY = bytes(range(32))
TS = "2024-05-01T12:34:56.789Z"


def order(order_id: str = "WC-7", code: str | None = "K7Q2XZ", **kw) -> Order:
    base = Order(order_id, TS, "pickup", (OrderLine("BREAD", "Bread", 2, 150),), 300, customer="Ana")
    if code is not None:
        base = replace(base, pickup_hash=pickup_hash(KEY, order_id, code), pickup_key=1)
    return replace(base, **kw)


def keep(box, *orders: Order, key: bool = True) -> None:
    def put(store):
        if key:
            store_pickup_key(store, 1, KEY.hex())
        for o in orders:
            store_order(store, o.to_json(), b"ticket", 3600)

    box.core.call(put)
    box.next()  # the call's own notification


def collected(tmp_path) -> list[str]:
    with sqlite3.connect(tmp_path / "tillbridge.db") as conn:
        rows = conn.execute("SELECT data FROM journal WHERE kind = 'order_collected' ORDER BY seq").fetchall()
    return [row[0] for row in rows]


def test_a_well_formed_but_unknown_pickup_code_gives_the_error_beep_and_says_why(tmp_path):
    with running_core(tmp_path) as box:
        [applied] = box.scan(encode_pickup("WC-404", "AAAAAAAA"))
    assert applied.outcome.feedback is Feedback.ERROR
    assert applied.outcome.message == "unknown pickup code: order WC-404 is not known at this till"
    assert applied.records == () and collected(tmp_path) == []


def test_a_good_code_collects_once_and_the_second_scan_is_refused(tmp_path):
    with running_core(tmp_path) as box:
        keep(box, order())
        first, second = box.scan(encode_pickup("WC-7", "K7Q2XZ"), encode_pickup("WC-7", "K7Q2XZ"))
    assert first.outcome.feedback is Feedback.OK and first.outcome.message == "order WC-7 collected"
    assert [r.kind for r in first.records] == ["order_collected"]
    assert second.outcome.feedback is Feedback.ERROR
    assert second.outcome.message == "order WC-7 was already collected"
    assert len(collected(tmp_path)) == 1


def test_a_wrong_code_for_a_known_order_is_refused(tmp_path):
    with running_core(tmp_path) as box:
        keep(box, order())
        [applied] = box.scan(encode_pickup("WC-7", "K7Q2XY"))
        [good] = box.scan(encode_pickup("WC-7", "K7Q2XZ"))
    assert applied.outcome.feedback is Feedback.ERROR
    assert applied.outcome.message == "wrong pickup code for order WC-7"
    assert good.outcome.feedback is Feedback.OK


def test_a_cancelled_order_is_refused_even_with_its_right_code(tmp_path):
    with running_core(tmp_path) as box:
        keep(box, order(), order(rev=2, state="cancelled"))
        [applied] = box.scan(encode_pickup("WC-7", "K7Q2XZ"))
    assert applied.outcome.feedback is Feedback.ERROR
    assert applied.outcome.message == "order WC-7 was cancelled: do not hand it over"
    assert collected(tmp_path) == []


def test_an_order_collected_at_another_till_is_refused_here(tmp_path):
    with running_core(tmp_path) as box:
        keep(box, order(ticket=False), order(rev=3, state="collected", ticket=False))
        [applied] = box.scan(encode_pickup("WC-7", "K7Q2XZ"))
    assert applied.outcome.feedback is Feedback.ERROR
    assert applied.outcome.message == "order WC-7 was already collected"


def test_without_the_shop_s_key_the_code_cannot_be_checked_and_is_refused(tmp_path):
    with running_core(tmp_path) as box:
        keep(box, order(), key=False)
        [applied] = box.scan(encode_pickup("WC-7", "K7Q2XZ"))
    assert applied.outcome.feedback is Feedback.ERROR
    assert "pickup key 1 has not reached this till yet, cannot check it" in applied.outcome.message


def test_a_delivery_order_has_no_pickup_code_to_collect_with(tmp_path):
    with running_core(tmp_path) as box:
        keep(box, order(code=None, kind="delivery"))
        [applied] = box.scan(encode_pickup("WC-7", "K7Q2XZ"))
    assert applied.outcome.feedback is Feedback.ERROR
    assert "has no pickup code" in applied.outcome.message


def test_the_store_keeps_the_hash_never_the_code(tmp_path):
    with running_core(tmp_path) as box:
        keep(box, order())
    raw = (tmp_path / "tillbridge.db").read_bytes()
    assert b"K7Q2XZ" not in raw and b"WC-7" in raw


def test_an_older_or_repeated_revision_changes_nothing(tmp_path):
    store = open_store(tmp_path)
    try:
        with store.transaction():
            store_pickup_key(store, 1, KEY.hex())
            first = store_order(store, order(rev=2, state="cancelled").to_json(), b"t", 60)
            again = store_order(store, order(rev=1).to_json(), b"t", 60)
            assert (first.changed, first.new_job) == (True, None)  # cancelled: no ticket
            assert (again.changed, again.rev) == (False, 2)
            assert check_pickup(store, "WC-7", "K7Q2XZ")[1] == "order WC-7 was cancelled: do not hand it over"
    finally:
        store.close()


def test_a_cancellation_takes_back_a_ticket_that_has_not_printed(tmp_path):
    store = open_store(tmp_path)
    try:
        with store.transaction():
            placed = store_order(store, order().to_json(), b"t", 60)
            cancelled = store_order(store, order(rev=2, state="cancelled").to_json(), b"t", 60)
            assert placed.new_job is not None and cancelled.withdrawn == placed.new_job
            assert store.print_jobs(["queued"]) == []
    finally:
        store.close()


codes = st.from_regex(r"[A-Z2-7]{8}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(code=codes, scanned=codes, order_id=st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,20}", fullmatch=True))
def test_only_the_order_s_own_code_verifies(tmp_path_factory, code, scanned, order_id):
    folder = tmp_path_factory.mktemp("pickup")
    store = open_store(folder)
    try:
        with store.transaction():
            store_pickup_key(store, 1, KEY.hex())
            store_order(store, order(order_id, code).to_json(), b"t", 60)
            _, problem = check_pickup(store, order_id.lower(), scanned)
        assert (problem is None) == (scanned == code)
    finally:
        store.close()
