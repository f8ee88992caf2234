"""Cutting the box's unacknowledged journal into batches that fit the message limits."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from wire.codec import MAX_MESSAGE_BYTES, encode, to_json_bytes
from wire.errors import MessageTooLarge
from wire.journal import MAX_BATCH_ENTRIES, JournalBatch, JournalEntry

_PROBE: Final = JournalEntry(1, "probe", "2024-01-01T00:00:00.000Z")


def pack_journal(
    entries: Sequence[JournalEntry],
    *,
    box: str | None = None,
    epoch: str | None = None,
    acked: int | None = None,
    max_entries: int = MAX_BATCH_ENTRIES,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> Iterator[tuple[JournalBatch, bytes]]:
    """Yields (batch, payload) in seq order, each batch as large as the limits allow; every batch names the
    stream (`epoch`) and the box's last ack in it (`acked`).

    Lazy, so a box that sends one batch at a time encodes only what it sends. An entry too large to travel
    even alone raises `MessageTooLarge` naming its seq: it needs fixing at the source, not skipping.
    """

    def cut(part: Sequence[JournalEntry]) -> tuple[JournalBatch, bytes]:
        batch = JournalBatch(tuple(part), box, epoch, acked)
        return batch, encode(batch, max_bytes=max_bytes)

    probe = JournalEntry(max(1, (acked or 0) + 1), _PROBE.kind, _PROBE.ts)
    overhead = len(encode(JournalBatch((probe,), box, epoch, acked))) - _size(probe)
    start, size = 0, overhead
    for index, entry in enumerate(entries):
        entry_size = _size(entry)
        if overhead + entry_size > max_bytes:
            raise MessageTooLarge(f"journal entry seq {entry.seq}", overhead + entry_size, max_bytes)
        if index > start and (index - start == max_entries or size + 1 + entry_size > max_bytes):
            yield cut(entries[start:index])
            start, size = index, overhead
        size += entry_size + (1 if index > start else 0)  # the comma between entries
    if start < len(entries):
        yield cut(entries[start:])


def _size(entry: JournalEntry) -> int:
    return len(to_json_bytes(entry.to_json()))
