"""Every message survives encode → decode unchanged, and every kind of bad payload gets the right error."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.wire_helpers import TS, journal_batches, messages
from wire import (
    MAX_LEVELS,
    MAX_MESSAGE_BYTES,
    ROUTES,
    Ack,
    CatalogDelta,
    CatalogSnapshotChunk,
    Command,
    CommandReply,
    JournalBatch,
    JournalEntry,
    Kind,
    Levels,
    MalformedMessage,
    Message,
    MessageTooLarge,
    Product,
    SkuLevel,
    State,
    Telemetry,
    UnknownCommand,
    UnsupportedVersion,
    WireError,
    decode,
    encode,
    pack_journal,
    publication,
)


@given(messages)
@settings(max_examples=300)
def test_every_message_round_trips(msg: Message) -> None:
    assert decode(msg.KIND, encode(msg)) == msg


@given(messages)
@settings(max_examples=50)
def test_a_message_decodes_from_its_full_topic_name(msg: Message) -> None:
    published = publication("shop-1", "box-1", msg)
    assert decode(published.topic, published.payload) == msg
    assert (published.qos, published.retain) == (ROUTES[msg.KIND].qos, ROUTES[msg.KIND].retain)


def test_the_birth_is_retained_and_the_will_says_offline_with_the_boot_counter() -> None:
    birth = publication("shop-1", "box-1", State(True, "1.2.0", 7, "c0ffee", TS))
    will = publication("shop-1", "box-1", State.offline(boot=7))
    assert (birth.topic, birth.qos, birth.retain) == ("tillbridge/v1/shop-1/box-1/state", 1, True)
    assert json.loads(will.payload) == {"v": 1, "online": False, "boot": 7}


def test_unknown_fields_are_ignored_and_journal_extras_are_kept() -> None:
    assert decode(Kind.ACK, b'{"v":1,"upto":5,"from_the_future":[1,2]}') == Ack(5)
    entry = {"seq": 1, "kind": "sale", "ts": TS, "sku": "A", "delta": -1, "stock_after": 4, "till": "T2"}
    batch = decode(Kind.JOURNAL, json.dumps({"v": 1, "entries": [entry]}).encode())
    assert isinstance(batch, JournalBatch)
    assert batch.entries[0].data == {"sku": "A", "delta": -1, "stock_after": 4, "till": "T2"}


def test_an_entry_of_a_kind_this_side_does_not_know_still_decodes() -> None:
    entry = {"seq": 3, "kind": "loyalty_points", "ts": TS, "points": 12}
    batch = decode(Kind.JOURNAL, json.dumps({"v": 1, "entries": [entry]}).encode())
    assert isinstance(batch, JournalBatch)
    assert not batch.entries[0].known and batch.entries[0].data == {"points": 12}


def _payload(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def _entry(**fields: Any) -> dict[str, Any]:
    base = {"seq": 1, "kind": "sale", "ts": TS, "sku": "A", "delta": -1, "stock_after": 4}
    return {key: value for key, value in {**base, **fields}.items() if value is not ...}


def _journal(*entries: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"v": 1, "entries": list(entries) or [_entry()], **fields}


_PRODUCT = {"sku": "A", "name": "Apple", "price_cents": 50}
_SNAPSHOT = {"v": 1, "type": "snapshot", "version": 3, "chunk": 0, "chunks": 1, "products": [_PRODUCT]}
_LINE = {"sku": "A", "name": "Apple", "qty": 1, "price_cents": 50}
_ORDER = {
    "v": 1,
    "type": "order",
    "order_id": "o1",
    "placed_at": TS,
    "kind": "pickup",
    "lines": [_LINE],
    "total_cents": 50,
    "rev": 1,
    "state": "open",
    "ticket": True,
}
_BIRTH = {"v": 1, "online": True, "version": "1.0", "boot": 1, "config_hash": "ab", "ts": TS}
_TELEMETRY = {
    "v": 1,
    "uptime_s": 5,
    "backlog": 0,
    "devices": {},
    "disk_free_mb": 1,
    "journal_mb": 0,
    "ts": TS,
}

_SKU_LEVEL = {"sku": "BREAD", "on_hand": 15, "reserved": 2, "available": 13}
_LEVELS = {"v": 1, "version": 7, "upto": 12, "levels": [_SKU_LEVEL]}
MALFORMED: list[tuple[Kind, Any, str]] = [
    (Kind.JOURNAL, _journal(_entry(seq="x")), "journal.entries[0].seq: expected an integer, got 'x'"),
    (Kind.JOURNAL, _journal(_entry(seq=True)), "journal.entries[0].seq: expected an integer, got true"),
    (Kind.JOURNAL, _journal(_entry(seq=0)), "journal.entries[0].seq: expected an integer ≥ 1, got 0"),
    (
        Kind.JOURNAL,
        _journal(_entry(seq=2**63)),
        "journal.entries[0].seq: expected an integer that fits in 64",
    ),
    (Kind.JOURNAL, _journal(_entry(sku=...)), "journal.entries[0].sku: required field is missing"),
    (Kind.JOURNAL, _journal(_entry(sku="")), "journal.entries[0].sku: expected a non-empty string, got ''"),
    (Kind.JOURNAL, _journal(_entry(delta=1.5)), "journal.entries[0].delta: expected an integer, got 1.5"),
    (Kind.JOURNAL, _journal(_entry(delta=False)), "journal.entries[0].delta: expected an integer, got false"),
    (Kind.JOURNAL, _journal(_entry(barcode=5)), "journal.entries[0].barcode: expected a string, got 5"),
    (
        Kind.JOURNAL,
        _journal(_entry(weight_g=-5)),
        "journal.entries[0].weight_g: expected an integer from 0 to",
    ),
    (
        Kind.JOURNAL,
        _journal(_entry(delta=2**63 - 1)),
        "journal.entries[0].delta: expected an integer from -1000000000 to 1000000000, got 92233720",
    ),
    (Kind.JOURNAL, _journal(_entry(delta=2**63)), "journal.entries[0].delta: expected an integer that fits"),
    (Kind.JOURNAL, _journal(_entry(stock_after=-(10**9) - 1)), "journal.entries[0].stock_after: expected an"),
    (
        Kind.JOURNAL,
        _journal(epoch="A1B2C3D4E5F60718"),
        "journal.epoch: expected a store epoch (16 characters",
    ),
    (Kind.JOURNAL, _journal(epoch="a1b2c3"), "journal.epoch: expected a store epoch"),
    (Kind.JOURNAL, _journal(_entry(seq=5), acked=5), "journal.acked: expected less than the first seq 5"),
    (Kind.JOURNAL, _journal(acked=-1), "journal.acked: expected an integer ≥ 0, got -1"),
    (Kind.ACK, {"v": 1, "upto": 5, "epoch": 7}, "ack.epoch: expected a store epoch"),
    (Kind.STATE, {"v": 1, "online": False, "epoch": "x"}, "state.epoch: expected a store epoch"),
    (
        Kind.JOURNAL,
        _journal(_entry(ts="2024-05-01T12:34:56Z")),
        "journal.entries[0].ts: expected an ISO-8601",
    ),
    (Kind.JOURNAL, _journal(_entry(ts="2024-13-01T12:34:56.789Z")), "journal.entries[0].ts: expected an ISO"),
    (Kind.JOURNAL, _journal(_entry(kind="count")), "journal.entries[0].counted: required field is missing"),
    (Kind.JOURNAL, _journal(_entry(kind=["sale"])), "journal.entries[0].kind: expected a string, got a list"),
    (
        Kind.JOURNAL,
        _journal(_entry(kind="store_recovered", moved_to="/x", lost_after_seq=-1)),
        "journal.entries[0].lost_after_seq: expected an integer ≥ 0, got -1",
    ),
    (Kind.JOURNAL, _journal(_entry(seq=5), _entry(seq=5)), "journal.entries[1].seq: expected more than 5"),
    (Kind.JOURNAL, _journal(_entry(seq=5), _entry(seq=4)), "journal.entries[1].seq: expected more than 5"),
    (Kind.JOURNAL, {"v": 1, "entries": []}, "journal.entries: expected 1 to 500 items, got 0"),
    (Kind.JOURNAL, {"v": 1, "entries": "x"}, "journal.entries: expected a list, got 'x'"),
    (Kind.JOURNAL, {"v": 1, "entries": [7]}, "journal.entries[0]: expected an object, got 7"),
    (Kind.JOURNAL, {"v": 1}, "journal.entries: required field is missing"),
    (Kind.JOURNAL, _journal(box="Box/1"), "journal.box: expected a box id"),
    (Kind.ACK, {"v": 1, "upto": -1}, "ack.upto: expected an integer ≥ 0, got -1"),
    (Kind.ACK, {"v": 1, "upto": True}, "ack.upto: expected an integer, got true"),
    (Kind.ACK, {"v": 1, "upto": "5"}, "ack.upto: expected an integer, got '5'"),
    (Kind.ACK, {"v": 1}, "ack.upto: required field is missing"),
    (
        Kind.CATALOG,
        {**_SNAPSHOT, "type": None},
        "catalog.type: expected one of 'delta', 'snapshot', got null",
    ),
    (Kind.CATALOG, {**_SNAPSHOT, "type": "full"}, "catalog.type: expected one of 'delta', 'snapshot'"),
    (Kind.CATALOG, {**_SNAPSHOT, "chunk": 1}, "catalog.chunk: expected an integer from 0 to 0, got 1"),
    (Kind.CATALOG, {**_SNAPSHOT, "version": 0}, "catalog.version: expected an integer ≥ 1, got 0"),
    (Kind.CATALOG, {**_SNAPSHOT, "products": [_PRODUCT, _PRODUCT]}, "catalog.products: 'A' appears more"),
    (
        Kind.CATALOG,
        {**_SNAPSHOT, "products": [{**_PRODUCT, "price_cents": -1}]},
        "catalog.products[0].price_cents: expected an integer ≥ 0, got -1",
    ),
    (
        Kind.CATALOG,
        {**_SNAPSHOT, "products": [{**_PRODUCT, "unit": "lb"}]},
        "catalog.products[0].unit: expected one of 'each', 'kg', 'l', 'm', got 'lb'",
    ),
    (
        Kind.CATALOG,
        {**_SNAPSHOT, "products": [{**_PRODUCT, "barcodes": ["1", ""]}]},
        "catalog.products[0].barcodes[1]: expected a non-empty string",
    ),
    (
        Kind.CATALOG,
        {"v": 1, "type": "delta", "from_version": 4, "version": 4},
        "catalog.version: expected an integer ≥ 5, got 4",
    ),
    (
        Kind.CATALOG,
        {"v": 1, "type": "delta", "from_version": 4, "version": 5, "upserts": [_PRODUCT], "deletes": ["A"]},
        "catalog.deletes: 'A' appears more than once (in upserts and deletes together)",
    ),
    (Kind.CATALOG_REQUEST, {"v": 1, "have_version": 2}, "catalog/request.reason: required field is missing"),
    (Kind.CATALOG_REQUEST, {"v": 1, "have_version": -2, "reason": "gap"}, "catalog/request.have_version"),
    (
        Kind.ORDERS,
        {**_ORDER, "kind": "takeaway"},
        "orders.kind: expected one of 'delivery', 'kitchen', 'pickup'",
    ),
    (Kind.ORDERS, {**_ORDER, "lines": []}, "orders.lines: expected 1 to 500 items, got 0"),
    (Kind.ORDERS, {**_ORDER, "lines": [{**_LINE, "qty": 0}]}, "orders.lines[0].qty: expected an integer ≥ 1"),
    (Kind.ORDERS, {**_ORDER, "placed_at": "yesterday"}, "orders.placed_at: expected an ISO-8601"),
    (Kind.ORDERS, {**_ORDER, "type": None}, "orders.type: expected one of 'order', 'pickup_key', got null"),
    (Kind.ORDERS, {**_ORDER, "rev": 0}, "orders.rev: expected an integer ≥ 1, got 0"),
    (
        Kind.ORDERS,
        {**_ORDER, "state": "lost"},
        "orders.state: expected one of 'cancelled', 'collected', 'open'",
    ),
    (Kind.ORDERS, {**_ORDER, "ticket": None}, "orders.ticket: expected true or false, got null"),
    (
        Kind.ORDERS,
        {**_ORDER, "pickup_hash": "AB" * 32, "pickup_key": 1},
        "orders.pickup_hash: expected 64 lower",
    ),
    (Kind.ORDERS, {**_ORDER, "pickup_hash": "ab" * 32}, "orders.pickup_key: required field is missing"),
    (
        Kind.ORDERS,
        {"v": 1, "type": "pickup_key", "key_id": 1, "key": "x"},
        "orders.key: expected 64 lower-case",
    ),
    (Kind.ORDERS_ACK, {"v": 1, "rev": 2}, "orders/ack.order_id: expected exactly one of order_id and key_id"),
    (Kind.ORDERS_ACK, {"v": 1, "order_id": "o1"}, "orders/ack.rev: required field is missing"),
    (
        Kind.ORDERS_ACK,
        {"v": 1, "order_id": "o1", "rev": -1},
        "orders/ack.rev: expected an integer ≥ 1, got -1",
    ),
    (Kind.CMD, {"v": 1, "cmd": "status"}, "cmd.id: required field is missing"),
    (Kind.CMD, {"v": 1, "id": "c1", "cmd": "status", "args": []}, "cmd.args: expected an object, got a list"),
    (Kind.CMD, {"v": 1, "id": "c1", "cmd": "status", "sig": "abc"}, "cmd.sig: expected an HMAC-SHA256"),
    (Kind.CMD_REPLY, {"v": 1, "id": "c1", "ok": False}, "cmd/reply.error: required when ok is false"),
    (Kind.CMD_REPLY, {"v": 1, "id": "c1", "ok": "yes"}, "cmd/reply.ok: expected true or false, got 'yes'"),
    (Kind.CMD_REPLY, {"v": 1, "id": "c1", "ok": 1}, "cmd/reply.ok: expected true or false, got 1"),
    (Kind.STATE, {**_BIRTH, "version": None}, "state.version: required field is missing (an online state"),
    (Kind.STATE, {**_BIRTH, "online": "true"}, "state.online: expected true or false, got 'true'"),
    (Kind.STATE, {**_BIRTH, "boot": -1}, "state.boot: expected an integer ≥ 0, got -1"),
    (Kind.TELEMETRY, {**_TELEMETRY, "devices": {"scan": 1}}, "telemetry.devices['scan']: expected a string"),
    (Kind.TELEMETRY, {**_TELEMETRY, "temperature_c": "hot"}, "telemetry.temperature_c: expected a number"),
    (Kind.TELEMETRY, {**_TELEMETRY, "journal_mb": True}, "telemetry.journal_mb: expected a number, got true"),
    (Kind.TELEMETRY, {**_TELEMETRY, "journal_mb": 1e300}, "telemetry.journal_mb: expected a number within"),
    (Kind.LEVELS, {**_LEVELS, "version": 0}, "levels.version: expected an integer ≥ 1, got 0"),
    (Kind.LEVELS, {**_LEVELS, "levels": []}, "levels.levels: expected 1 to 1000 items, got 0"),
    (Kind.LEVELS, {**_LEVELS, "upto": -1}, "levels.upto: expected an integer ≥ 0, got -1"),
    (Kind.LEVELS, {**_LEVELS, "epoch": "ABC"}, "levels.epoch: expected"),
    (
        Kind.LEVELS,
        {**_LEVELS, "levels": [{**_SKU_LEVEL, "reserved": -2}]},
        "levels.levels[0].reserved: expected an integer ≥ 0, got -2",
    ),
    (
        Kind.LEVELS,
        {**_LEVELS, "levels": [{**_SKU_LEVEL, "available": 15}]},
        "levels.levels[0].available: expected on_hand - reserved = 13, got 15",
    ),
    (
        Kind.LEVELS,
        {**_LEVELS, "levels": [_SKU_LEVEL, _SKU_LEVEL]},
        "levels.levels: 'BREAD' appears more than once",
    ),
    (Kind.LEVELS, {**_LEVELS, "levels": [{"sku": "BREAD"}]}, "levels.levels[0].on_hand: required field"),
    (Kind.JOURNAL, [1], "journal: expected a JSON object, got a list"),
    (Kind.JOURNAL, {"entries": []}, "journal.v: required field is missing"),
    (Kind.JOURNAL, {"v": "1"}, "journal.v: expected the integer 1, got '1'"),
    (Kind.JOURNAL, {"v": True}, "journal.v: expected the integer 1, got true"),
]


@pytest.mark.parametrize(("kind", "obj", "message"), MALFORMED, ids=[m for _, _, m in MALFORMED])
def test_a_malformed_message_names_the_field_and_the_problem(kind: Kind, obj: Any, message: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        decode(kind, _payload(obj))
    assert str(caught.value).startswith(message)


RAW: list[tuple[bytes, str]] = [
    (b"", "journal: empty payload"),
    (b"\xff\xfe{}", "journal: not valid UTF-8 (byte 0"),
    (b'{"v":1,"entries":"caf\xc3"}', "journal: not valid UTF-8 (byte 21"),
    ('{"v":1}'.encode("utf-16"), "journal: not valid UTF-8"),
    (b'\xef\xbb\xbf{"v":1}', "journal: not valid JSON: Unexpected UTF-8 BOM"),
    (b'{"v":1,"entries":[]', "journal: not valid JSON: Expecting"),
    (b'{"v":1} trailing junk', "journal: not valid JSON: Extra data"),
    (b'{"v":1,"x":NaN}', "journal: not valid JSON: NaN is not a JSON number"),
    (b'{"v":1,"x":-Infinity}', "journal: not valid JSON: -Infinity is not a JSON number"),
    (b'{"v":1,"x":1e999}', "journal: not valid JSON: 1e999 is out of range"),
    (b'{"v":1,"x":' + b"9" * 5000 + b"}", "journal: not valid JSON: Exceeds the limit"),
    (b'{"v":1,"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "journal: not valid JSON: nested too deeply"),
]


@pytest.mark.parametrize(("payload", "message"), RAW, ids=[m for _, m in RAW])
def test_bytes_that_are_not_a_json_object_are_refused_with_a_reason(payload: bytes, message: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        decode(Kind.JOURNAL, payload)
    assert str(caught.value).startswith(message)


def test_every_truncation_and_every_trailing_junk_of_a_valid_payload_is_refused() -> None:
    payload = encode(
        JournalBatch((JournalEntry(1, "sale", TS, {"sku": "A", "delta": -1, "stock_after": 2}),))
    )
    for cut in range(len(payload)):
        with pytest.raises(MalformedMessage):
            decode(Kind.JOURNAL, payload[:cut])
    for junk in (b"x", b"\x00", b"{}", b",", b"\xff"):
        with pytest.raises(MalformedMessage):
            decode(Kind.JOURNAL, payload + junk)
    assert decode(Kind.JOURNAL, b" \n" + payload + b"\r\n") == decode(Kind.JOURNAL, payload)


def test_another_version_is_refused_by_number_before_its_fields_are_read() -> None:
    with pytest.raises(UnsupportedVersion) as caught:
        decode(Kind.JOURNAL, b'{"v":2,"entries":"a v2 shape"}')
    assert caught.value.version == 2
    assert str(caught.value) == 'journal: wire version 2 is not supported (this side speaks "v": 1)'


def test_an_oversized_payload_is_refused_before_it_is_parsed() -> None:
    junk = b"\xff" * (MAX_MESSAGE_BYTES + 1)  # not even UTF-8: the size check must come first
    with pytest.raises(MessageTooLarge) as caught:
        decode(Kind.JOURNAL, junk)
    assert (caught.value.size, caught.value.limit) == (MAX_MESSAGE_BYTES + 1, MAX_MESSAGE_BYTES)
    with pytest.raises(MessageTooLarge):
        decode(Kind.ACK, b'{"v":1,"upto":1}', max_bytes=10)


def test_an_unknown_command_keeps_its_id_so_the_box_can_reply() -> None:
    with pytest.raises(UnknownCommand) as caught:
        decode(Kind.CMD, b'{"v":1,"id":"c-42","cmd":"shell","args":{"line":"rm -rf /"}}')
    assert caught.value.command_id == "c-42" and caught.value.cmd == "shell"
    assert str(caught.value) == "cmd 'c-42': unknown command 'shell'"


def test_a_command_with_bad_arguments_keeps_its_id_and_one_without_an_id_has_none() -> None:
    with pytest.raises(MalformedMessage) as caught:
        decode(Kind.CMD, b'{"v":1,"id":"c-43","cmd":"logs","args":"all"}')
    assert caught.value.command_id == "c-43"
    with pytest.raises(MalformedMessage) as caught:
        decode(Kind.CMD, b'{"v":1,"id":7,"cmd":"logs"}')
    assert caught.value.command_id is None


def test_an_attacker_chosen_string_is_clipped_in_the_error() -> None:
    with pytest.raises(UnknownCommand) as caught:
        decode(Kind.CMD, _payload({"v": 1, "id": "c1", "cmd": "x" * 100}))
    assert len(str(caught.value)) < 100


ENCODE_REFUSED: list[tuple[Message, type[WireError], str]] = [
    (JournalBatch((JournalEntry(0, "sale", TS),)), MalformedMessage, "journal.entries[0].seq: expected an"),
    (JournalBatch(()), MalformedMessage, "journal.entries: expected 1 to 500 items, got 0"),
    (
        JournalBatch((JournalEntry(1, "sale", TS, {"seq": 2}),)),
        MalformedMessage,
        "journal.data: entry seq 1: ['seq'] belong to the envelope",
    ),
    (
        JournalBatch((JournalEntry(1, "future", TS, {"when": object()}),)),  # type: ignore[dict-item]
        MalformedMessage,
        "journal: cannot be sent as JSON",
    ),
    (Ack(-1), MalformedMessage, "ack.upto: expected an integer ≥ 0, got -1"),
    (State(True), MalformedMessage, "state.version: required field is missing"),
    (Command("c1", "reboot"), UnknownCommand, "cmd 'c1': unknown command 'reboot'"),
    (CommandReply("c1", False), MalformedMessage, "cmd/reply.error: required when ok is false"),
    (
        CatalogSnapshotChunk(1, 0, 1, (Product("A", "Apple", 1, unit="lb"),)),
        MalformedMessage,
        "catalog.products[0].unit: expected one of 'each', 'kg', 'l', 'm', got 'lb'",
    ),
    (CatalogDelta(5, 5), MalformedMessage, "catalog.version: expected an integer ≥ 6, got 5"),
    (
        Telemetry(1, 0, {}, float("nan"), 0.0, None, TS),
        MalformedMessage,
        "telemetry.disk_free_mb: expected a finite number",
    ),
    (Command("c1", "status", {"note": "\ud800"}), MalformedMessage, "cmd: cannot be sent as JSON"),
]


@pytest.mark.parametrize(("msg", "error", "message"), ENCODE_REFUSED, ids=[m for _, _, m in ENCODE_REFUSED])
def test_encode_refuses_what_the_other_side_would_refuse(
    msg: Message, error: type[WireError], message: str
) -> None:
    with pytest.raises(error) as caught:
        encode(msg)
    assert str(caught.value).startswith(message)


def test_encode_refuses_a_message_over_the_limit() -> None:
    with pytest.raises(MessageTooLarge):
        encode(CommandReply("c1", True, "x" * MAX_MESSAGE_BYTES))


def _entries(count: int, pad: int = 0) -> list[JournalEntry]:
    return [
        JournalEntry(seq, "sale", TS, {"sku": f"S{seq}", "delta": -1, "stock_after": 3, "note": "n" * pad})
        for seq in range(1, count + 1)
    ]


@given(
    count=st.integers(0, 40),
    pad=st.integers(0, 300),
    max_entries=st.integers(1, 12),
    max_bytes=st.integers(500, 4000),
    box=st.none() | st.just("box-7"),
)
@settings(max_examples=60, deadline=None)
def test_pack_journal_fills_batches_up_to_both_limits_in_seq_order(count, pad, max_entries, max_bytes, box):
    entries = _entries(count, pad)
    packed = list(pack_journal(entries, box=box, max_entries=max_entries, max_bytes=max_bytes))
    assert [entry for batch, _ in packed for entry in batch.entries] == entries
    for index, (batch, payload) in enumerate(packed):
        assert payload == encode(batch) and len(payload) <= max_bytes
        assert len(batch.entries) <= max_entries and batch.box == box
        if index + 1 < len(packed):  # a batch is cut only when the next entry would not fit
            grown = JournalBatch((*batch.entries, packed[index + 1][0].entries[0]), box)
            assert len(grown.entries) > max_entries or len(encode(grown)) > max_bytes


def test_pack_journal_names_an_entry_too_large_to_send_even_alone() -> None:
    with pytest.raises(MessageTooLarge) as caught:
        list(pack_journal(_entries(3, pad=2000), max_bytes=1000))
    assert str(caught.value).startswith("journal entry seq 1:")


@given(journal_batches(max_entries=30))
@settings(max_examples=30)
def test_pack_journal_keeps_what_any_batch_says(batch: JournalBatch) -> None:
    packed = list(pack_journal(batch.entries, box=batch.box, epoch=batch.epoch, acked=batch.acked))
    assert packed[0][0] == batch and len(packed) == 1


def test_a_full_levels_message_of_the_longest_skus_and_numbers_fits_one_message() -> None:
    worst = tuple(SkuLevel(f"{index:04d}" + "x" * 124, -(2**62), 2**62 - 1) for index in range(MAX_LEVELS))
    assert len(encode(Levels(2**63 - 1, worst, 2**63 - 1))) < MAX_MESSAGE_BYTES


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b'{"v":1,"reason":"missing","missing":[1]}', "catalog/request.missing: names chunks without"),
        (b'{"v":1,"reason":"missing","version":3,"missing":[1,1]}', "names a chunk more than once"),
        (b'{"v":1,"reason":"missing","version":3,"missing":[100000]}', "catalog/request.missing[0]"),
        (
            b'{"v":1,"reason":"missing","version":3,"missing":'
            + b"["
            + b",".join(b"%d" % i for i in range(1001))
            + b"]}",
            "expected 0 to 1000 items",
        ),
        (b'{"v":1,"reason":"missing","version":0,"missing":[1]}', "catalog/request.version"),
    ],
)
def test_a_request_for_missing_chunks_is_bounded_and_names_what_is_wrong(
    payload: bytes, problem: str
) -> None:
    with pytest.raises(MalformedMessage, match=re.escape(problem)):
        decode(Kind.CATALOG_REQUEST, payload)


def test_pack_journal_refuses_an_entry_encode_would_refuse_with_encode_s_words() -> None:
    good = _entries(2, 0)
    bad = JournalEntry(3, "sale", TS, {"delta": -1})  # no sku
    with pytest.raises(WireError) as packed:
        list(pack_journal([*good, bad], max_entries=2))
    with pytest.raises(WireError) as encoded:
        encode(JournalBatch((bad,)))
    assert str(packed.value) == str(encoded.value)
