"""The link's own door to the journal: it reads what to send and deletes what the cloud has applied.

The journal is the outbox: the core loop writes it (a scan's entry commits with its stock change), the MQTT
link drains it. Reading committed entries and deleting acknowledged ones touch nothing the core loop decides
with, so the link does both on a connection of its own, on its own thread, and a scan never queues behind
them on the core loop. SQLite makes that safe: in WAL mode a reader sees every committed entry while the
core loop writes, and a prune is a write transaction of its own, serialised with the core loop's by
SQLite's lock (`busy_timeout` waits it out).

Deletes are batched: an ack only records how far the cloud got; the rows go at most once per
`prune_every_s`, or sooner when `prune_entries` acknowledged entries are waiting, in one transaction with
its one fsync (`synchronous=FULL`, like every write to the store). The side mark (`EpochMark`) follows only
after that commit, so the store never holds an entry the mark calls acknowledged. Durability is unchanged:
an entry leaves only after the cloud's ack; one acknowledged but not yet deleted when the box dies is sent
again after the restart, and the cloud applies each `(box, epoch, seq)` once.

The core loop's running total of journal bytes (the disk bound) shrinks when it is told what a prune
freed (`Store.note_pruned`), posted to it as an event: until then the bound is counted high, never low.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from firmware_agent.store.database import ROW_OVERHEAD
from firmware_agent.store.epochmark import EpochMark, mark_path
from firmware_agent.store.levels import FORGET_ACKED_SQL
from wire import SPELLING, Journaled, JournalEntry, SpelledEntry

BUSY_TIMEOUT_MS: Final = 5000


@dataclass(frozen=True, slots=True)
class Row:
    """A journal row as stored: `data` is its JSON text; `spelled` the mark of an entry checked when it was
    written (`wire.SPELLING`), None in rows of older releases."""

    seq: int
    kind: str
    ts: str
    data: str
    spelled: int | None = None

    def entry(self) -> Journaled:
        """What the drain sends: a marked row as it is stored (no decoding, no checks again at every send),
        any other decoded, to be checked and refused at send time as it always was."""
        if self.spelled == SPELLING:
            return SpelledEntry(self.seq, self.kind, self.ts, self.data)
        return JournalEntry(self.seq, self.kind, self.ts, json.loads(self.data))


@dataclass(frozen=True, slots=True)
class Pruned:
    upto: int
    entries: int
    freed_bytes: int


class Outbox:
    """Not thread-safe: the link's thread owns it, as the core loop owns the `Store`."""

    def __init__(
        self,
        path: Path,
        epoch: str,
        acked: int,
        *,
        prune_every_s: float = 1.0,
        prune_entries: int = 5000,
    ) -> None:
        self.path = path
        self.epoch = epoch
        self.pruned_upto = acked
        self.acked = acked
        self.prune_every_s = prune_every_s
        self.prune_entries = prune_entries
        self._mark = EpochMark(mark_path(path))
        self._due_at: float | None = None
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA synchronous = FULL")

    def rows_after(self, seq: int, limit: int) -> list[Row]:
        """Committed journal rows with seq > `seq`, in seq order."""
        rows = self._conn.execute(
            "SELECT seq, kind, ts, data, spelled FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [Row(*row) for row in rows]

    def on_ack(self, upto: int, now: float) -> Pruned | None:
        """The cloud applied everything up to `upto`: pruned now if enough is waiting, else soon."""
        if upto <= self.acked:
            return None
        self.acked = upto
        if self._due_at is None:
            self._due_at = now + self.prune_every_s
        return self.tick(now)

    def tick(self, now: float) -> Pruned | None:
        """A prune, if one is due."""
        if self._due_at is None:
            return None
        if now < self._due_at and self.acked - self.pruned_upto < self.prune_entries:
            return None
        return self.prune()

    def prune(self) -> Pruned | None:
        """Deletes every acknowledged entry now (and the local moves no cloud level needs: store/levels.py),
        in one transaction; then the mark follows."""
        upto = self.acked
        self._due_at = None
        if upto <= self.pruned_upto:
            return None
        sql = self._conn.execute
        sql("BEGIN IMMEDIATE")
        try:
            freed = sql(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(data) + LENGTH(kind) + LENGTH(ts) + "
                f"{ROW_OVERHEAD}), 0) FROM journal WHERE seq <= ?",
                (upto,),
            ).fetchone()
            sql("DELETE FROM journal WHERE seq <= ?", (upto,))
            sql(FORGET_ACKED_SQL, (upto,))
            sql("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                sql("ROLLBACK")
            self._due_at = 0.0  # try again at the next tick
            raise
        self.pruned_upto = upto
        self._mark.write(self.epoch, upto)
        return Pruned(upto, int(freed[0]), int(freed[1]))

    def close(self) -> None:
        self._conn.close()
