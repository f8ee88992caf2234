"""Cutting the box's unacknowledged journal into batches that fit the message limits."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from wire.codec import MAX_MESSAGE_BYTES, encode, to_json_bytes
from wire.errors import MessageTooLarge, WireError
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

    Each entry is turned into JSON and checked once, and a payload is its batch's frame around the entries'
    bytes: the same bytes `encode` gives, which spelled and checked every entry twice more (a backlog's
    drain spent most of the box's link thread there). Anything `encode` would refuse is handed to it, so
    the error is the one it raises.
    """
    head, tail = _frame(box, epoch, acked)
    overhead = len(head) + len(tail)
    bodies: list[bytes] = []
    start, size = 0, overhead

    def cut(stop: int) -> tuple[JournalBatch, bytes]:
        return JournalBatch(tuple(entries[start:stop]), box, epoch, acked), head + b",".join(bodies) + tail

    for index, entry in enumerate(entries):
        body, valid = _body(entry)
        if body is not None and overhead + len(body) > max_bytes:
            raise MessageTooLarge(f"journal entry seq {entry.seq}", overhead + len(body), max_bytes)
        if (
            index > start
            and body is not None
            and (index - start == max_entries or size + 1 + len(body) > max_bytes)
        ):
            yield cut(index)
            start, size, bodies = index, overhead, []
        previous = entries[index - 1].seq if index > start else (acked or 0)
        if body is None or not valid or entry.seq <= previous:  # `encode` says what is wrong with the batch
            encode(JournalBatch(tuple(entries[start : index + 1]), box, epoch, acked), max_bytes=max_bytes)
            raise AssertionError(f"journal entry seq {entry.seq} refused here but not by encode")
        size += len(body) + (1 if index > start else 0)  # the comma between entries
        bodies.append(body)
    if start < len(entries):
        yield cut(len(entries))


def _frame(box: str | None, epoch: str | None, acked: int | None) -> tuple[bytes, bytes]:
    """The bytes of a batch before its first entry and after its last, from a checked one-entry batch."""
    probe = JournalEntry(max(1, (acked or 0) + 1), _PROBE.kind, _PROBE.ts)
    payload, (body, _) = encode(JournalBatch((probe,), box, epoch, acked)), _body(probe)
    assert body is not None and payload.count(body) == 1
    at = payload.index(body)
    return payload[:at], payload[at + len(body) :]


def _body(entry: JournalEntry) -> tuple[bytes | None, bool]:
    """The entry's wire JSON (None: it is not JSON), and whether the other side will take it."""
    try:
        obj = entry.to_json()
        body = to_json_bytes(obj)
    except (WireError, TypeError, ValueError, RecursionError):
        return None, False
    try:
        JournalEntry.from_json(obj)
    except WireError:
        return body, False
    return body, True
