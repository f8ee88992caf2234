"""The journal drain: which entries go out next, and when to send them again. Sans-IO.

The journal is the outbox. An entry leaves the box's store only when the cloud's `ack {"upto": N}` says it is
durably applied; a PUBACK means only that the broker has the message, so it plays no part here. Entries go
out in seq order, in batches cut by `wire.frame_journal` (an entry cap and a byte cap), with at most `window`
batches awaiting the cloud's ack. After a reconnect, or when the oldest batch waits longer than the ack
timeout, everything unacknowledged is sent again from the last ack (go-back-N): the cloud applies each
`(box, seq)` once, so a duplicate costs bandwidth, never a double sale. The timeout doubles while the
cloud stays silent (it may be down for hours while the broker is up) and resets when an ack moves on.

Every batch names the store's `epoch` (its journal stream) and the last ack (`acked`), so a cloud that has
never seen the stream starts it where this box's entries start. Only acks of this epoch count: an ack of
another epoch is about a store this box no longer has, and is ignored with a log line.

The owner feeds it events (`connected`, `disconnected`, `journal_grew`, `on_ack`, `tick`) and asks `want()`
for the entries it should read next, then hands them to `send()`, which returns the payloads to publish.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wire import (
    MAX_MESSAGE_BYTES,
    JournalBatch,
    Journaled,
    JournalEntry,
    SpelledEntry,
    WireError,
    encode,
    frame_journal,
    now_ts,
    parse_ts,
)

log = logging.getLogger(__name__)

UNSENDABLE = "unsendable"
"""Kind of the stand-in for an entry the wire refuses (too large, a field out of contract), so the cloud
sees the gap explained instead of waiting forever for a seq that can never travel."""


@dataclass(frozen=True)
class Fetch:
    """Read up to `limit` journal entries with seq > `after` and pass them to `Drain.send`."""

    after: int
    limit: int


@dataclass(frozen=True)
class Batch:
    first_seq: int
    last_seq: int
    count: int
    payload: bytes


@dataclass
class _InFlight:
    last_seq: int
    sent_at: float


class Drain:
    def __init__(
        self,
        *,
        acked: int = 0,
        last_seq: int = 0,
        max_entries: int = 200,
        max_bytes: int = 64 * 1024,
        window: int = 4,
        ack_timeout_s: float = 30.0,
        max_ack_timeout_s: float = 600.0,
        epoch: str | None = None,
    ) -> None:
        self.epoch = epoch
        self.acked = acked
        self.last_seq = max(last_seq, acked)
        self.sent_upto = acked
        self.max_entries = max_entries
        self.max_bytes = min(max_bytes, MAX_MESSAGE_BYTES)
        self.window = window
        self.base_timeout_s = ack_timeout_s
        self.timeout_s = ack_timeout_s
        self.max_timeout_s = max(max_ack_timeout_s, ack_timeout_s)
        self.is_connected = False
        self.resends = 0
        self._inflight: deque[_InFlight] = deque()
        self._progress_at = 0.0

    @property
    def backlog(self) -> int:
        """Entries not yet acknowledged by the cloud (seq gaps make it an upper bound)."""
        return self.last_seq - self.acked

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    # ---- events --------------------------------------------------------------------------------------

    def connected(self, now: float) -> None:
        """A (re)connection: what was in flight may be lost with the old connection, so it goes again."""
        self.is_connected = True
        self._progress_at = now
        self._go_back()

    def disconnected(self) -> None:
        self.is_connected = False
        self._go_back()

    def journal_grew(self, last_seq: int) -> None:
        self.last_seq = max(self.last_seq, last_seq)

    def on_ack(self, upto: int, now: float, epoch: str | None = None) -> int | None:
        """The cloud applied every entry up to `upto`; returns the seq up to which the store may forget.

        An ack of another epoch, or a stale one (not past the last), returns None. An ack without an epoch
        comes from a cloud older than epochs and is taken as this store's. An ack beyond the last entry this
        box ever wrote is clamped: it cannot be for entries of this store, and must not swallow entries
        written later.
        """
        if epoch is not None and epoch != self.epoch:
            log.warning(
                "ack upto %d is for store epoch %s, not this store's %s: ignored", upto, epoch, self.epoch
            )
            return None
        if upto > self.last_seq:
            log.warning("ack upto %d is past the last journal entry %d: clamped", upto, self.last_seq)
            upto = self.last_seq
        if upto <= self.acked:
            return None
        self.acked = upto
        self.sent_upto = max(self.sent_upto, upto)
        while self._inflight and self._inflight[0].last_seq <= upto:
            self._inflight.popleft()
        self._progress_at = now
        self.timeout_s = self.base_timeout_s
        return upto

    def tick(self, now: float) -> bool:
        """True when the oldest batch waited too long for its ack and everything unacked will go again."""
        if not self._inflight or now - max(self._inflight[0].sent_at, self._progress_at) < self.timeout_s:
            return False
        log.warning(
            "no ack past seq %d for %.0f s: sending %d entries again",
            self.acked,
            self.timeout_s,
            self.sent_upto - self.acked,
        )
        self.timeout_s = min(self.timeout_s * 2, self.max_timeout_s)
        self._go_back()
        return True

    def nothing_after(self, seq: int) -> None:
        """The store holds no entry past `seq` (the drain's idea of the last seq was ahead of the store)."""
        if seq >= self.sent_upto:
            self.last_seq = max(seq, self.acked)

    def resend(self) -> None:
        """Support's `journal.resend`: send everything unacknowledged again, now."""
        self._go_back()

    # ---- what to send --------------------------------------------------------------------------------

    def want(self) -> Fetch | None:
        free = self.window - len(self._inflight)
        if not self.is_connected or free <= 0 or self.sent_upto >= self.last_seq:
            return None
        return Fetch(self.sent_upto, free * self.max_entries)

    def send(self, entries: Sequence[Journaled], now: float) -> list[Batch]:
        """Batches to publish now, from entries read after `want().after`; the rest wait for the window.

        Entries stored by this release come as `SpelledEntry`s and are framed as stored; older rows come
        decoded and are checked here, as they always were."""
        fresh = [e for e in entries if e.seq > self.sent_upto]
        if fresh:
            self.last_seq = max(self.last_seq, fresh[-1].seq)
        batches: list[Batch] = []
        for cut, payload in self._pack(fresh):
            if len(self._inflight) >= self.window:
                break
            last = cut[-1].seq
            self._inflight.append(_InFlight(last, now))
            self.sent_upto = last
            batches.append(Batch(cut[0].seq, last, len(cut), payload))
        return batches

    def _pack(self, entries: Sequence[Journaled]) -> Iterable[tuple[Sequence[Journaled], bytes]]:
        try:
            return list(frame_journal(entries, **self._packing()))
        except WireError:  # rare: find the culprits one by one, then pack the cleaned list
            cleaned = [sendable(entry, self.max_bytes) for entry in entries]
            return list(frame_journal(cleaned, **self._packing()))

    def _packing(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "acked": self.acked,
            "max_entries": self.max_entries,
            "max_bytes": self.max_bytes,
        }

    def _go_back(self) -> None:
        if self._inflight:
            self.resends += 1
        self._inflight.clear()
        self.sent_upto = self.acked


def sendable(item: Journaled, max_bytes: int = MAX_MESSAGE_BYTES) -> Journaled:
    """`item`, or an `unsendable` stand-in with the same seq that says why the entry cannot travel.

    The original stays in the box's store until the stand-in is acknowledged, and its content goes to the
    log at error level, so nothing is lost silently. A stored entry is decoded for this (rare) check only.
    """
    entry = item.entry() if isinstance(item, SpelledEntry) else item
    try:
        encode(JournalBatch((entry,)), max_bytes=max_bytes)
    except WireError as exc:
        log.error("journal entry seq %d (%s) cannot be sent (%s): %r", entry.seq, entry.kind, exc, entry)
        ts = entry.ts if parse_ts(entry.ts) else now_ts()
        data = {"original_kind": entry.kind[:64], "problem": str(exc)[:200]}
        return JournalEntry(entry.seq, UNSENDABLE, ts, data)
    return item
