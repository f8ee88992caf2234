"""Applying many journal batches in one transaction: what a worker does with the batches waiting for it.

Live traffic is one sale per batch. Applied one transaction per batch, each entry costs a commit (a WAL
flush) and eight round trips to the database: about 2 ms of a loaded machine per entry, so a worker with a
queue of such batches fell behind at a few hundred entries a second. Here the batches waiting in a worker's
queue are applied together: one transaction holding every box's lock, the stream positions read in one
statement, the movements inserted in one, the positions written back in two. Each batch's result (its ack,
its skus) is exactly what `journal.apply_batch` would have given; the acks go out after the one commit.

Only the plain case takes this path: a stream already started, nothing held, the batch's entries the next
seqs in order, each a stock movement that is not an absolute count. Every other batch (a new stream, a
duplicate, a hole, a count, an order entry, a parked entry) is applied by `journal.apply_locked`, the one
set of rules, inside the same transaction and in its turn, so the order within a stream never changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.db import Database
from cloud_bridge.journal import Applied, apply_locked
from cloud_bridge.streams import source_of, stream_key
from wire import STOCK_KINDS, EntryKind, JournalBatch

MAX_GROUP: Final = 500  # batches per transaction: bounds the transaction, and the wait of its first ack

_StreamKey = tuple[str, str, str]  # shop, box, epoch key


@dataclass(frozen=True)
class Item:
    shop: str
    box: str
    batch: JournalBatch
    payload: bytes


@dataclass
class _Position:
    last_seq: int
    current: bool
    applied: int = 0  # entries applied by this group, written back at the end


def apply_group(db: Database, items: Sequence[Item], now: float) -> list[Applied]:
    """Applies `items` in order in one transaction; one `Applied` per item, as `apply_batch` gives it."""
    with db.boxes_transaction((item.shop, item.box) for item in items):
        return _Group(now).apply(items)


class _Group:
    def __init__(self, now: float) -> None:
        self.now = now
        self.positions: dict[_StreamKey, _Position] = {}
        self.rows: list[dict[str, Any]] = []

    def apply(self, items: Sequence[Item]) -> list[Applied]:
        keys = {_key(item) for item in items}
        self.positions = _load(keys)
        out = []
        for item in items:
            key = _key(item)
            position = self.positions.get(key)
            if position is not None and _plain(item.batch, position.last_seq):
                out.append(self._fast(item, key, position))
                continue
            self._flush()  # the general rules read the database: it must hold everything before this batch
            out.append(apply_locked(item.shop, item.box, item.batch, item.payload, self.now))
            # The general rules may have started a stream, which ends the box's other streams being current:
            # every stream of the box in this group is read again.
            again = {k for k in keys if k[:2] == key[:2]}
            for k in again:
                self.positions.pop(k, None)
            self.positions.update(_load(again))
        self._flush()
        return out

    def _fast(self, item: Item, key: _StreamKey, position: _Position) -> Applied:
        shop, box, epoch = key
        skus = set()
        for entry in item.batch.entries:
            sku, delta = entry.data["sku"], entry.data["delta"]
            assert isinstance(sku, str) and isinstance(delta, int)  # the wire checked both
            skus.add(sku)
            source = source_of(box, epoch, entry.seq)
            self.rows.append(ledger.movement_row(shop, sku, source, entry.kind, delta, entry.ts, push=True))
        count = len(item.batch.entries)
        position.last_seq += count
        position.applied += count
        return Applied(position.last_seq, count, False, frozenset(skus), item.batch.epoch)

    def _flush(self) -> None:
        """Writes the movements and stream positions gathered so far."""
        ledger.add_movements(self.rows)
        self.rows = []
        moved = {key: p for key, p in self.positions.items() if p.applied}
        if not moved:
            return
        _save(moved)
        for position in moved.values():
            position.applied = 0


def _key(item: Item) -> _StreamKey:
    return item.shop, item.box, stream_key(item.batch.epoch)


def _plain(batch: JournalBatch, last_seq: int) -> bool:
    """The batch is the next seqs of its stream, each a plain stock movement, and says nothing new."""
    if not batch.entries or (batch.acked is not None and batch.acked > last_seq):
        return False
    for offset, entry in enumerate(batch.entries, start=1):
        if entry.seq != last_seq + offset or entry.problem is not None or entry.kind not in STOCK_KINDS:
            return False
        if entry.kind == EntryKind.COUNT:  # counts change the stock row, and may be absolute
            return False
    return True


def _load(keys: Iterable[_StreamKey]) -> dict[_StreamKey, _Position]:
    """Positions of the started streams with nothing held (the others take the general rules)."""
    wanted = sorted(keys)
    db = m.database.obj
    out: dict[_StreamKey, _Position] = {}
    for start in range(0, len(wanted), ledger.IN_CHUNK):
        chunk = wanted[start : start + ledger.IN_CHUNK]
        values = ", ".join([f"({db.param}, {db.param}, {db.param})"] * len(chunk))
        cursor = db.execute_sql(
            'SELECT "shop", "box", "epoch", "last_seq", "current" FROM "stream" '
            f'WHERE ("shop", "box", "epoch") IN (VALUES {values}) '
            'AND "last_seq" IS NOT NULL AND "pending" = 0',
            [part for key in chunk for part in key],
        )
        for shop, box, epoch, last_seq, current in cursor.fetchall():
            out[(shop, box, epoch)] = _Position(int(last_seq), bool(current))
    return out


def _save(moved: dict[_StreamKey, _Position]) -> None:
    """The streams' new positions and counts, and the fleet view's copy (`Box`): a statement for each, as
    `journal._save` writes them for one stream (nothing is held, so `pending` stays as it is).
    """
    boxes: dict[tuple[str, str], tuple[int, int | None]] = {}
    for (shop, box, _), p in moved.items():
        applied, last_seq = boxes.get((shop, box), (0, None))
        boxes[(shop, box)] = (applied + p.applied, p.last_seq if p.current else last_seq)
    _update(
        '"stream"',
        ("shop", "box", "epoch"),
        '"last_seq" = v."last_seq", "applied" = "stream"."applied" + v."n"',
        [(*key, p.last_seq, p.applied) for key, p in sorted(moved.items())],
    )
    _update(
        '"box"',
        ("shop", "box"),
        '"last_seq" = COALESCE(v."last_seq", "box"."last_seq"), "applied" = "box"."applied" + v."n"',
        [(*key, last_seq, applied) for key, (applied, last_seq) in sorted(boxes.items())],
    )


def _update(table: str, keys: Sequence[str], assign: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """`UPDATE table SET assign` for every row (keys..., last_seq, n), in statements of `IN_CHUNK` rows."""
    db = m.database.obj
    names = ", ".join(f'"{k}"' for k in (*keys, "last_seq", "n"))
    match = " AND ".join(f'{table}."{k}" = v."{k}"' for k in keys)
    row = "(" + ", ".join([db.param] * len(keys) + [_int(db), _int(db)]) + ")"
    for start in range(0, len(rows), ledger.IN_CHUNK):
        chunk = rows[start : start + ledger.IN_CHUNK]
        db.execute_sql(
            f"WITH v ({names}) AS (VALUES {', '.join([row] * len(chunk))}) "
            f"UPDATE {table} SET {assign} FROM v WHERE {match}",
            [value for r in chunk for value in r],
        )


def _int(db: Any) -> str:
    """A parameter PostgreSQL types as a bigint inside VALUES (it would guess text otherwise)."""
    return f"CAST({db.param} AS BIGINT)"
