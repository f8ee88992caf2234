"""Cutting the box's unacknowledged journal into batches that fit the message limits.

An entry this release journaled is checked against the contract once, when it is written (`spell_data`),
and the store marks its row with `SPELLING`; such a row travels as a `SpelledEntry`, framed from the stored
JSON text without being decoded, checked or spelled again at each send. Rows without the mark (written by
an older release, or whose data did not pass) go the old way, as `JournalEntry`s checked at every send.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from wire._fields import JSON
from wire.codec import MAX_MESSAGE_BYTES, encode, to_json_bytes
from wire.errors import MessageTooLarge, WireError
from wire.journal import MAX_BATCH_ENTRIES, JournalBatch, JournalEntry

SPELLING: Final = 1
"""The mark a store keeps on a journal row whose entry passed this release's checks when it was written and
whose data text is the wire's spelling. A release whose checks tighten bumps it, so rows checked by the
looser ones go the old way again."""

_PROBE: Final = JournalEntry(1, "probe", "2024-01-01T00:00:00.000Z")


@dataclass(frozen=True, slots=True)
class SpelledEntry:
    """A journal entry as a store row marked `SPELLING` holds it: `data` is its data's JSON text.

    It was checked when it was written, so it goes into a batch as it is stored: `body` splices the envelope
    into that text, the bytes `encode` gives for the same entry (`spell_data` made sure of it).
    """

    seq: int
    kind: str
    ts: str
    data: str

    def body(self) -> bytes:
        """The entry's wire JSON: `{"seq":…,"kind":…,"ts":…` followed by the stored data's fields."""
        more = "," if len(self.data) > 2 else ""  # "{}" is the only text of an empty object
        return f'{{"seq":{self.seq},"kind":"{self.kind}","ts":"{self.ts}"{more}{self.data[1:]}'.encode()

    def entry(self) -> JournalEntry:
        """The decoded entry, for the rare path that needs one (an entry too large to travel)."""
        return JournalEntry(self.seq, self.kind, self.ts, json.loads(self.data))


Journaled = JournalEntry | SpelledEntry
"""What the box sends: entries it decoded from older rows, and entries it frames as they are stored."""
T = TypeVar("T", bound=Journaled)


def spell_data(kind: str, ts: str, data: Mapping[str, JSON]) -> tuple[str, bool]:
    """The JSON text a store keeps for an entry's `data`, and whether its row may carry the `SPELLING` mark.

    The text is what stores always kept (so older releases read it as before). The mark is given only when
    the entry passes the checks `encode` makes and `SpelledEntry.body` spells it byte for byte as `encode`
    does (a kind or data the wire escapes differently, NaN, a field out of contract: no mark, and the entry
    is checked and refused at send time exactly as before). TypeError if `data` is not JSON at all.
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    body, valid = _body(JournalEntry(1, kind, ts, data))
    return text, valid and body == SpelledEntry(1, kind, ts, text).body()


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
    for cut, payload in frame_journal(
        entries, box=box, epoch=epoch, acked=acked, max_entries=max_entries, max_bytes=max_bytes
    ):
        yield JournalBatch(tuple(cut), box, epoch, acked), payload


def frame_journal(
    entries: Sequence[T],
    *,
    box: str | None = None,
    epoch: str | None = None,
    acked: int | None = None,
    max_entries: int = MAX_BATCH_ENTRIES,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> Iterator[tuple[Sequence[T], bytes]]:
    """`pack_journal` for entries decoded or as stored: yields (the batch's entries, payload), cut on the
    same limits, the payload the bytes `encode` gives for a `JournalBatch` of those entries and arguments.

    A `SpelledEntry` is framed as stored (it was checked when written); errors are `pack_journal`'s.
    """
    head, tail = _frame(box, epoch, acked)
    overhead = len(head) + len(tail)
    bodies: list[bytes] = []
    start, size = 0, overhead

    def cut(stop: int) -> tuple[Sequence[T], bytes]:
        return entries[start:stop], head + b",".join(bodies) + tail

    for index, entry in enumerate(entries):
        body, valid = _spelled(entry)
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
            refused = tuple(_decoded(e) for e in entries[start : index + 1])
            encode(JournalBatch(refused, box, epoch, acked), max_bytes=max_bytes)
            raise AssertionError(f"journal entry seq {entry.seq} refused here but not by encode")
        size += len(body) + (1 if index > start else 0)  # the comma between entries
        bodies.append(body)
    if start < len(entries):
        yield cut(len(entries))


def _decoded(entry: Journaled) -> JournalEntry:
    return entry.entry() if isinstance(entry, SpelledEntry) else entry


def _spelled(entry: Journaled) -> tuple[bytes | None, bool]:
    """`_body` of an entry, or a stored entry's bytes as they are: it was checked when it was written."""
    return (entry.body(), True) if isinstance(entry, SpelledEntry) else _body(entry)


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
