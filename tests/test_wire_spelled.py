"""Entries framed as a store keeps them (`SpelledEntry`) travel byte for byte as `encode` spells them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.wire_helpers import TS, journal_batches
from wire import (
    JournalBatch,
    Journaled,
    JournalEntry,
    MessageTooLarge,
    SpelledEntry,
    encode,
    frame_journal,
    pack_journal,
    spell_data,
)


def _as_stored(entry: JournalEntry) -> SpelledEntry:
    """The entry as a store of this release keeps it: its data's text, marked once it passed."""
    text, marked = spell_data(entry.kind, entry.ts, entry.data)
    assert marked, f"a valid entry was not marked: {entry!r}"
    return SpelledEntry(entry.seq, entry.kind, entry.ts, text)


def _framed(
    entries: list[Journaled], batch: JournalBatch, **limits: int
) -> list[tuple[list[int], bytes]] | str:
    kw: dict[str, Any] = {"box": batch.box, "epoch": batch.epoch, "acked": batch.acked, **limits}
    try:
        return [([e.seq for e in cut], payload) for cut, payload in frame_journal(entries, **kw)]
    except MessageTooLarge as exc:
        return str(exc)


@given(
    batch=journal_batches(max_entries=30),
    stored=st.lists(st.booleans(), min_size=30, max_size=30),
    max_entries=st.integers(1, 12),
    max_bytes=st.integers(200, 3000),
)
@settings(max_examples=150, deadline=None)
def test_stored_entries_are_framed_byte_for_byte_as_encode_spells_them(batch, stored, max_entries, max_bytes):
    """Every kind, unicode, extra fields, both limits, entries as stored mixed with decoded ones."""
    mixed: list[Journaled] = [
        _as_stored(entry) if keep else entry for entry, keep in zip(batch.entries, stored, strict=False)
    ]
    limits = {"max_entries": max_entries, "max_bytes": max_bytes}
    framed = _framed(mixed, batch, **limits)
    assert framed == _framed(list(batch.entries), batch, **limits)  # the old path: the same cuts and bytes
    if isinstance(framed, str):
        return
    by_seq = {entry.seq: entry for entry in batch.entries}
    for seqs, payload in framed:
        entries = tuple(by_seq[seq] for seq in seqs)
        assert payload == encode(JournalBatch(entries, batch.box, batch.epoch, batch.acked))


@given(journal_batches(max_entries=30))
@settings(max_examples=50, deadline=None)
def test_a_stored_entry_decodes_back_to_the_entry_it_was(batch):
    for entry in batch.entries:
        assert _as_stored(entry).entry() == entry


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("sale", {"sku": "MILK", "delta": -1, "stock_after": float("nan")}),  # NaN: JSON has none
        ("sale", {"delta": -1, "stock_after": 4}),  # no sku
        ("sale", {"sku": "MILK", "delta": -1, "stock_after": 4, "seq": 9}),  # a field of the envelope
        ('say "hi"', {}),  # a kind the wire spells with escapes
    ],
)
def test_an_entry_the_wire_refuses_is_stored_as_before_but_unmarked(kind: str, data: dict[str, Any]) -> None:
    text, marked = spell_data(kind, TS, data)
    assert text == json.dumps(data, separators=(",", ":"), ensure_ascii=False) and not marked


def test_a_stored_entry_too_large_to_travel_alone_is_named_as_before() -> None:
    entry = JournalEntry(3, "sale", TS, {"sku": "MILK", "delta": -1, "stock_after": 4, "note": "n" * 2000})
    with pytest.raises(MessageTooLarge) as caught:
        list(frame_journal([_as_stored(entry)], max_bytes=1000))
    with pytest.raises(MessageTooLarge) as before:
        list(pack_journal([entry], max_bytes=1000))
    assert str(caught.value) == str(before.value)
