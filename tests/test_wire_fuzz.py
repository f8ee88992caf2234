"""Whatever arrives on whatever topic, decoding yields a message or a `WireError`, never anything else."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.wire_helpers import journal_batches, json_values, messages, replace_one
from wire import (
    JournalBatch,
    JournalEntry,
    Kind,
    MalformedMessage,
    Message,
    WireError,
    decode,
    decode_journal,
    encode,
)

KINDS = st.sampled_from(Kind)
FIELD_NAMES = sorted(
    {"v", "type", "entries", "seq", "kind", "ts", "sku", "delta", "stock_after", "barcode", "weight_g"}
    | {"price_cents", "counted", "raw", "mode", "previous", "source", "order_id", "pickup_code", "moved_to"}
    | {"lost_after_seq", "upto", "version", "chunk", "chunks", "products", "from_version", "upserts"}
    | {"deletes", "have_version", "reason", "placed_at", "customer", "lines", "total_cents", "notes", "name"}
    | {"qty", "barcodes", "stock", "unit", "id", "cmd", "args", "nonce", "sig", "ok", "result", "error"}
    | {"online", "boot", "config_hash", "uptime_s", "backlog", "devices", "disk_free_mb", "journal_mb"}
    | {"temperature_c", "box", "levels", "on_hand", "reserved", "available"}
)
KEYS = st.sampled_from(FIELD_NAMES) | st.text(max_size=4)


def _decode_or_wire_error(kind: Kind | str, payload: bytes) -> Message | None:
    try:
        return decode(kind, payload)
    except WireError:
        return None


@given(KINDS, st.binary(max_size=400))
@settings(max_examples=300)
def test_arbitrary_bytes_decode_or_raise_a_wire_error(kind: Kind, payload: bytes) -> None:
    _decode_or_wire_error(kind, payload)


@given(st.text(max_size=80), st.binary(max_size=40))
@settings(max_examples=200)
def test_arbitrary_topics_decode_or_raise_a_wire_error(topic: str, payload: bytes) -> None:
    _decode_or_wire_error(topic, payload)


objects = st.dictionaries(
    KEYS, json_values | st.lists(st.dictionaries(KEYS, json_values, max_size=6), max_size=2), max_size=8
)


@given(KINDS, objects, st.sampled_from([1, 1, 1, 2, "1", None]))
@settings(max_examples=300)
def test_arbitrary_json_objects_with_our_field_names_decode_or_raise_a_wire_error(
    kind: Kind, obj: dict[str, Any], version: Any
) -> None:
    _decode_or_wire_error(kind, json.dumps({**obj, "v": version}).encode())


@given(messages, st.data())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_a_valid_message_with_one_value_replaced_decodes_or_raises_a_wire_error(
    msg: Message, data: Any
) -> None:
    obj = json.loads(encode(msg))
    replace_one(data.draw, obj, json_values)
    result = _decode_or_wire_error(msg.KIND, json.dumps(obj).encode())
    assert result is None or type(result) is type(msg)


SURROGATES = st.characters(categories=["Cs"])  # what JSON can spell ("\\ud800") and UTF-8 cannot carry
ANY_TEXT = st.lists(SURROGATES | st.characters(), min_size=1, max_size=6).map("".join)


@given(messages, st.data())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_whatever_decodes_can_be_written_as_utf8_so_the_box_can_store_log_and_answer_it(
    msg: Message, data: Any
) -> None:
    obj = json.loads(encode(msg))
    replace_one(data.draw, obj, ANY_TEXT)
    payload = json.dumps(obj).encode()  # ASCII JSON: a lone surrogate travels as "\\udXXX"
    try:
        message = decode(msg.KIND, payload)
    except WireError as exc:
        str(exc).encode()  # the reason itself can be logged and sent
        if exc.command_id is not None:
            exc.command_id.encode()
        return
    json.dumps(message.to_json(), ensure_ascii=False).encode()


def test_a_command_id_with_a_lone_surrogate_is_refused_naming_the_field_and_keeps_a_readable_id() -> None:
    try:
        decode(Kind.CMD, b'{"v":1,"id":"x\\udc00","cmd":"status"}')
    except WireError as exc:
        assert "cmd.id" in str(exc) and "surrogate" in str(exc)
        assert exc.command_id == "x\\udc00"
    else:
        raise AssertionError("a lone surrogate was accepted")


@given(objects, st.sampled_from([1, 1, 2]))
@settings(max_examples=300)
def test_a_journal_read_leniently_is_a_batch_or_a_wire_error(obj: dict[str, Any], version: Any) -> None:
    try:
        batch = decode_journal(json.dumps({**obj, "v": version}).encode())
    except WireError:
        return
    assert all(isinstance(e, JournalEntry) and e.seq >= 1 for e in batch.entries)


@given(journal_batches(), st.data())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_a_bad_field_in_an_entry_parks_that_entry_or_refuses_the_batch_naming_the_field(
    batch: JournalBatch, data: Any
) -> None:
    """The cloud reads what a box cannot have sent, too: one bad entry must not hide the others."""
    obj = json.loads(encode(batch))
    index = data.draw(st.integers(0, len(batch.entries) - 1))
    entry = obj["entries"][index]
    key = data.draw(st.sampled_from(sorted(entry)))
    entry[key] = data.draw(json_values)
    try:
        read = decode_journal(json.dumps(obj).encode())
    except MalformedMessage as exc:
        assert exc.path.startswith("journal.")  # names the field: an envelope or a seq the order needs
        return
    assert [e.seq for e in read.entries] == [e.seq for e in batch.entries]
    others = [e for n, e in enumerate(read.entries) if n != index]
    assert all(e.problem is None for e in others)
    bad = read.entries[index]
    if bad.problem is not None and key != "kind":  # another kind asks for other fields
        assert bad.problem.startswith(f"{key}: ")
