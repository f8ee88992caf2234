"""Typed journal entries: every kind's body goes to the wire and back unchanged, and bad data is refused
naming the field, the same way the journal decoder refuses it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.wire_helpers import TS, entry_data, json_objects, json_values
from wire import (
    ENTRY_FIELDS,
    STOCK_KINDS,
    CountEntry,
    EntryKind,
    JournalBatch,
    JournalEntry,
    Kind,
    MalformedMessage,
    OrderCollectedEntry,
    SaleEntry,
    StockEntry,
    decode,
    decode_body,
    encode,
)
from wire.entries import BODY_TYPES


def test_every_kind_has_one_body_and_the_decoder_checks_its_fields() -> None:
    assert set(BODY_TYPES) == set(EntryKind) == set(ENTRY_FIELDS)
    for kind, cls in BODY_TYPES.items():
        assert cls.KIND is kind
        assert issubclass(cls, StockEntry) == (kind in STOCK_KINDS)
    assert {key for key, _, required in ENTRY_FIELDS[EntryKind.ORDER_COLLECTED] if required} == {
        "order_id",
        "pickup_code",
    }


def test_a_kind_read_off_the_wire_as_text_is_the_member() -> None:
    read: str = "order_collected"
    assert read == EntryKind.ORDER_COLLECTED and hash(EntryKind.SALE) == hash("sale")
    assert "sale" in STOCK_KINDS and "order_printed" not in STOCK_KINDS


@given(entry_data())
def test_a_body_goes_to_data_and_back_unchanged(kind_data: tuple[str, dict[str, Any]]) -> None:
    kind, data = kind_data
    data = {key: value for key, value in data.items() if key not in ("seq", "kind", "ts")}
    body = decode_body(kind, data)
    if kind not in BODY_TYPES:
        assert body is None  # a kind this side does not know: the entry keeps its raw data
        return
    assert body is not None and kind == body.KIND
    assert body.to_data() == data
    assert decode_body(kind, body.to_data()) == body


@given(entry_data(), st.integers(1, 2**40))
def test_an_entry_of_a_body_crosses_the_wire_as_that_body(
    kind_data: tuple[str, dict[str, Any]], seq: int
) -> None:
    kind, data = kind_data
    body = decode_body(kind, {k: v for k, v in data.items() if k not in ("seq", "kind", "ts")})
    if body is None:
        return
    sent = JournalBatch((JournalEntry.of(seq, TS, body),))
    received = decode(Kind.JOURNAL, encode(sent))
    assert isinstance(received, JournalBatch)
    assert received.entries[0].body == body and received.entries[0].kind == body.KIND


@given(
    st.sampled_from(sorted(EntryKind)),
    json_objects,
    st.sampled_from(["sku", "order_id", "pickup_code", "raw"]),
)
def test_any_data_decodes_or_is_refused_naming_a_field_of_the_kind(
    kind: EntryKind, data: dict[str, Any], key: str
) -> None:
    fuzzed = {**data, key: data.get(key, 1)}
    entry = {
        "seq": 1,
        "kind": str(kind),
        "ts": TS,
        **{k: v for k, v in fuzzed.items() if k not in ("seq", "kind", "ts")},
    }
    try:
        body = decode_body(kind, fuzzed)
    except MalformedMessage as exc:
        assert exc.path in BODY_TYPES[kind].KEYS
        with pytest.raises(MalformedMessage):  # the journal decoder refuses the same entry
            JournalEntry.from_json(entry)
        return
    assert body is not None and body.KIND is kind
    assert JournalEntry.from_json(entry).body == body


@given(st.sampled_from(sorted(EntryKind)), st.data())
def test_a_wrong_value_in_any_field_is_refused_naming_that_field(
    kind: EntryKind, data: st.DataObject
) -> None:
    fields = ENTRY_FIELDS[kind]
    key, _, required = data.draw(st.sampled_from(fields))
    base = {k: _valid(check) for k, check, req in fields if req}  # every kind, a newer one too
    bad = data.draw(json_values.filter(lambda v: v is not None and not _fits(kind, key, v)))
    with pytest.raises(MalformedMessage) as caught:
        decode_body(kind, {**base, key: bad})
    assert caught.value.path == key
    if required:
        missing = {k: v for k, v in base.items() if k != key}
        with pytest.raises(MalformedMessage, match="required field is missing") as caught:
            decode_body(kind, missing)
        assert caught.value.path == key


def _valid(check: Any) -> Any:
    """A value `check` accepts: the first of a few that fit every checker kind of the contract."""
    samples: tuple[Any, ...] = ("A1", 1, True, {})
    for value in samples:
        try:
            check(value, "probe")
        except MalformedMessage:
            continue
        return value
    raise AssertionError(f"no sample value fits {check}")


def _fits(kind: EntryKind, key: str, value: Any) -> bool:
    check = dict((k, c) for k, c, _ in ENTRY_FIELDS[kind])[key]
    try:
        check(value, key)
    except MalformedMessage:
        return False
    return True


def test_a_collected_order_without_its_pickup_code_says_so() -> None:
    with pytest.raises(MalformedMessage, match="pickup_code: required field is missing"):
        decode_body("order_collected", {"order_id": "wc-1"})


def test_bodies_keep_what_the_box_added_and_refuse_extras_that_are_fields() -> None:
    sale = SaleEntry(sku="A", delta=-1, stock_after=-1, negative=True, extra={"till": "T2"})
    assert sale.to_data() == {"sku": "A", "delta": -1, "stock_after": -1, "negative": True, "till": "T2"}
    assert json.loads(json.dumps(JournalEntry.of(7, TS, sale).to_json()))["kind"] == "sale"
    with pytest.raises(MalformedMessage, match="extra"):
        OrderCollectedEntry(order_id="a", pickup_code="b", extra={"pickup_code": "c"}).to_data()
    count = CountEntry(sku="A", delta=2, stock_after=6, counted=6)
    assert "level_version" not in count.to_data()  # absent: the box had no cloud level to count against
