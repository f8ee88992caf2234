"""Hypothesis strategies that generate valid wire messages, for the wire tests and for either side's tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from wire import (
    COMMANDS,
    ORDER_KINDS,
    ORDER_STATES,
    UNITS,
    Ack,
    CatalogDelta,
    CatalogRequest,
    CatalogSnapshotChunk,
    Command,
    CommandReply,
    JournalBatch,
    JournalEntry,
    Levels,
    LineOption,
    Order,
    OrderAck,
    OrderLine,
    PickupKey,
    Product,
    SkuLevel,
    State,
    Telemetry,
    format_ts,
)
from wire._fields import INT_MAX, INT_MIN, QTY_MAX
from wire.orders import ORDER_SOURCES

TS = "2024-05-01T12:34:56.789Z"

texts = st.text(max_size=12)
ids = st.text(min_size=1, max_size=16)
node_ids = st.from_regex(r"[a-z0-9-]{1,64}", fullmatch=True)
ints = st.integers(INT_MIN, INT_MAX)
counts = st.integers(0, INT_MAX)
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(format_ts)
numbers = st.floats(-1e9, 1e9, allow_nan=False) | st.integers(-(10**9), 10**9)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(texts, json_values, max_size=4)
extras = st.dictionaries(st.text(min_size=1, max_size=6).map("x_".__add__), json_values, max_size=2)


quantities = st.integers(-QTY_MAX, QTY_MAX)
quantity_counts = st.integers(0, QTY_MAX)
epochs = st.from_regex(r"[0-9a-f]{16}", fullmatch=True)


def json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a decoded JSON value (keys and list indexes from the top; `()` is the whole): where a
    fuzz test may break a message."""
    found = [path]
    if isinstance(value, dict):
        found += [p for key, item in value.items() for p in json_paths(item, (*path, key))]
    elif isinstance(value, list):
        found += [p for index, item in enumerate(value) for p in json_paths(item, (*path, index))]
    return found


def replace_one(
    draw: Callable[[st.SearchStrategy[Any]], Any], obj: Any, values: st.SearchStrategy[Any]
) -> None:
    """Replaces one value anywhere below the top of `obj` (decoded JSON, changed in place) by a draw from
    `values`: a valid message broken in one place, as a fuzz test sends it."""
    paths = json_paths(obj)[1:]
    if not paths:
        return
    path = draw(st.sampled_from(paths))
    parent = obj
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = draw(values)


def _stock(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    required = {"sku": ids, "delta": quantities, "stock_after": quantities}
    if kind == "count":
        required["counted"] = quantity_counts
    return st.fixed_dictionaries(
        required, optional={"barcode": ids, "weight_g": quantity_counts, "price_cents": counts}
    )


_KIND_DATA: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    **{kind: _stock(kind) for kind in ("sale", "return", "receive", "count", "adjust")},
    "unknown_barcode": st.fixed_dictionaries({"raw": ids, "mode": ids}),
    "mode_changed": st.fixed_dictionaries({"mode": ids, "previous": ids, "source": ids}),
    "order_printed": st.fixed_dictionaries({"order_id": ids}),
    "order_collected": st.fixed_dictionaries({"order_id": ids, "pickup_code": ids}),
    "store_recovered": st.fixed_dictionaries({"moved_to": ids, "lost_after_seq": counts}),
}


@st.composite
def entry_data(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """(kind, data) for a known kind with extra fields, or for a kind this side does not know."""
    kind = draw(st.sampled_from([*_KIND_DATA, "future_kind"]))
    data = draw(_KIND_DATA[kind]) if kind in _KIND_DATA else draw(json_objects)
    return kind, {**data, **draw(extras)}


@st.composite
def journal_batches(draw: st.DrawFn, max_entries: int = 8) -> JournalBatch:
    seqs = sorted(draw(st.sets(st.integers(1, INT_MAX), min_size=1, max_size=max_entries)))
    entries = []
    for seq in seqs:
        kind, data = draw(entry_data())
        data = {key: value for key, value in data.items() if key not in ("seq", "kind", "ts")}
        entries.append(JournalEntry(seq, kind, draw(timestamps), data))
    acked = draw(st.none() | st.integers(0, seqs[0] - 1))
    return JournalBatch(tuple(entries), draw(st.none() | node_ids), draw(st.none() | epochs), acked)


products = st.builds(
    Product,
    sku=ids,
    name=ids,
    price_cents=counts,
    barcodes=st.lists(ids, max_size=3).map(tuple),
    stock=st.none() | ints,
    unit=st.sampled_from(sorted(UNITS)),
)


def _unique(items: list[Product]) -> tuple[Product, ...]:
    return tuple({product.sku: product for product in items}.values())


@st.composite
def snapshot_chunks(draw: st.DrawFn) -> CatalogSnapshotChunk:
    chunks = draw(st.integers(1, 50))
    chunk = draw(st.integers(0, chunks - 1))
    return CatalogSnapshotChunk(
        draw(st.integers(1, INT_MAX)), chunk, chunks, _unique(draw(st.lists(products, max_size=4)))
    )


@st.composite
def catalog_deltas(draw: st.DrawFn) -> CatalogDelta:
    from_version = draw(st.integers(0, 10**12))
    upserts = _unique(draw(st.lists(products, max_size=4)))
    taken = {product.sku for product in upserts}
    deletes = tuple(sorted(set(draw(st.lists(ids, max_size=4))) - taken))
    return CatalogDelta(from_version, draw(st.integers(from_version + 1, INT_MAX)), upserts, deletes)


line_options = st.builds(LineOption, name=texts, value=ids)
order_lines = st.builds(
    OrderLine,
    sku=ids,
    name=ids,
    qty=st.integers(1, 1000),
    price_cents=counts,
    options=st.lists(line_options, max_size=3).map(tuple),
    note=texts,
    tags=st.lists(ids, max_size=2).map(tuple),
)
orders = st.builds(
    Order,
    order_id=ids,
    placed_at=timestamps,
    kind=st.sampled_from(sorted(ORDER_KINDS)),
    lines=st.lists(order_lines, min_size=1, max_size=4).map(tuple),
    total_cents=counts,
    customer=texts,
    notes=texts,
    rev=st.integers(1, INT_MAX),
    state=st.sampled_from(sorted(ORDER_STATES)),
    ticket=st.booleans(),
    number=st.just("") | ids,
    due_at=st.none() | timestamps,
    tz=st.just("") | st.just("Europe/Madrid"),
    phone=texts,
    address=texts,
    paid=st.booleans(),
    due_cents=counts,
    allergies=texts,
    warnings=st.lists(texts, max_size=2).map(tuple),
    source=st.sampled_from(sorted(ORDER_SOURCES)),
).flatmap(
    lambda order: st.one_of(
        st.just(order),
        st.builds(
            lambda h, k: replace(order, pickup_hash=h, pickup_key=k),
            st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
            st.integers(1, INT_MAX),
        ),
    )
)
pickup_keys = st.builds(
    PickupKey, key_id=st.integers(1, INT_MAX), key=st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
)
order_acks = st.one_of(
    st.builds(OrderAck, order_id=ids, rev=st.integers(1, INT_MAX), refused=st.none() | ids),
    st.builds(OrderAck, order_id=ids, refused=ids),
    st.builds(OrderAck, key_id=st.integers(1, INT_MAX), refused=st.none() | ids),
)

commands = st.builds(
    Command,
    id=ids,
    cmd=st.sampled_from(sorted(COMMANDS)),
    args=json_objects,
    ts=st.none() | timestamps,
    nonce=st.none() | ids,
    sig=st.none() | st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
)
command_replies = st.one_of(
    st.builds(CommandReply, id=ids, ok=st.just(True), result=json_values),
    st.builds(CommandReply, id=ids, ok=st.just(False), result=json_values, error=ids),
)

states = st.one_of(
    st.builds(
        State,
        online=st.just(True),
        version=ids,
        boot=counts,
        config_hash=ids,
        ts=timestamps,
        epoch=st.none() | epochs,
    ),
    st.builds(State.offline, boot=st.none() | counts, ts=st.none() | timestamps),
)
telemetry = st.builds(
    Telemetry,
    uptime_s=counts,
    backlog=counts,
    devices=st.dictionaries(texts, texts, max_size=4),
    disk_free_mb=numbers,
    journal_mb=numbers,
    temperature_c=st.none() | numbers,
    ts=timestamps,
    epoch=st.none() | epochs,
    store_lost=st.none() | ids,
)

sku_levels = st.builds(
    SkuLevel, sku=ids, on_hand=st.integers(-(10**12), 10**12), reserved=st.integers(0, 10**12)
)
levels = st.builds(
    Levels,
    version=st.integers(1, INT_MAX),
    levels=st.lists(sku_levels, min_size=1, max_size=4, unique_by=lambda level: level.sku).map(tuple),
    upto=counts,
    epoch=st.none() | epochs,
)

messages = st.one_of(
    states,
    journal_batches(),
    st.builds(Ack, upto=counts, epoch=st.none() | epochs),
    snapshot_chunks(),
    catalog_deltas(),
    st.builds(CatalogRequest, have_version=st.none() | counts, reason=ids),
    st.builds(  # a box resuming a streamed snapshot names the chunks it lacks
        CatalogRequest,
        have_version=st.none() | counts,
        reason=ids,
        version=st.integers(1, 2**40),
        missing=st.lists(st.integers(0, 99_999), min_size=1, max_size=50, unique=True).map(tuple),
    ),
    orders,
    pickup_keys,
    order_acks,
    commands,
    command_replies,
    telemetry,
    levels,
)
