"""Applying many journal batches in one transaction: what a worker does with the batches waiting for it.

Live traffic is one sale per batch. Applied one transaction per batch, each entry costs a commit (a WAL
flush) and eight round trips to the database: about 2 ms of a loaded machine per entry, so a worker with a
queue of such batches fell behind at a few hundred entries a second. Here the batches waiting in a worker's
queue are applied together: one transaction holding every box's lock, the stream positions read in one
statement, the movements inserted in one, the positions written back in two. Each batch's result (its ack,
its skus) is exactly what `journal.apply_batch` would have given; the acks go out after the one commit.

Only the plain case takes this path: a stream already started, nothing held, the batch's new entries the
next seqs in order, each a stock movement that is not an absolute count. Entries the stream has applied
already are skipped here as the general rules skip them: a box whose ack came late sends everything after
its last ack again (go-back-N), so under load most batches start with duplicates, and sending those down
the general path (eight statements and a flush each) is what turned a late ack into a queue that never
emptied. A stream's first batch takes this path too when nothing else is known of its box (no stream, no
position from before streams) or a birth announced it: a fleet coming online at once starts a thousand
streams, and each taken alone held every other box's lock in the group for a dozen statements. Every other
batch (a box's next store, a hole, a count, an order entry, a parked entry) is applied by
`journal.apply_locked`, the one set of rules, inside the same transaction and in its turn, so the order
within a stream never changes.

A box's `state` message (its birth or its Will) is applied here too. A birth must come before its box's
next batch (it may announce that batch's stream), and nothing else depends on it: the births of a group wait
in a run until a batch of one of their boxes (or a box's second birth) comes, and the run is applied
together by `births.apply_births`, in a handful of statements. Applied alone, each birth was a transaction
of its own and split the run of batches around it; applied in its turn, each still cost fifteen statements,
and a fleet of a thousand boxes coming online at once had its first acks a minute late.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.births import Birth, Presence, apply_births
from cloud_bridge.db import Database
from cloud_bridge.journal import Applied, apply_locked
from cloud_bridge.seqrules import start_of
from cloud_bridge.sqlrows import chunks, values
from cloud_bridge.streams import source_of, stream_key
from wire import STOCK_KINDS, EntryKind, JournalBatch

log = logging.getLogger(__name__)

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
    """Where a stream stands. `last_seq` None: it has no batch yet (a birth announced it, or, with `new`, the
    bridge knows nothing of its box); its first plain batch starts it where the box says (`start_of`).
    """

    last_seq: int | None
    first_seq: int
    current: bool
    new: bool = False  # no row yet: the first batch inserts it
    starting: bool = False  # started by this group: its row is written at the next flush
    applied: int = 0  # entries applied by this group, written back at the end


def apply_group(db: Database, items: Sequence[Item | Birth], now: float) -> list[Applied | Presence]:
    """Applies `items` in order in one transaction; one `Applied` per batch, as `apply_batch` gives it, and
    one `Presence` per birth or Will.
    """
    with db.boxes_transaction((item.shop, item.box) for item in items):
        return _Group(now).apply(items)


class _Group:
    def __init__(self, now: float) -> None:
        self.now = now
        self.positions: dict[_StreamKey, _Position] = {}
        self.rows: list[dict[str, Any]] = []

    def apply(self, items: Sequence[Item | Birth]) -> list[Applied | Presence]:
        keys = {_key(item) for item in items if isinstance(item, Item)}
        self.positions = _load(keys)
        out: dict[int, Applied | Presence] = {}
        waiting: dict[tuple[str, str], tuple[int, Birth]] = {}  # the run of births: box → (index, birth)
        for n, item in enumerate(items):
            if (item.shop, item.box) in waiting:  # its birth first
                self._births(waiting, keys, out)
            if isinstance(item, Birth):
                waiting[(item.shop, item.box)] = (n, item)
                continue
            key = _key(item)
            position = self.positions.get(key)
            if position is not None and position.last_seq is None:
                self._start(key, position, item.batch)
            if position is not None and _plain(item.batch, position):
                out[n] = self._fast(item, key, position)
                continue
            self._flush()  # the general rules read the database: it must hold everything before this batch
            out[n] = apply_locked(item.shop, item.box, item.batch, item.payload, self.now)
            self._reload({key[:2]}, keys)
        self._births(waiting, keys, out)
        self._flush()
        return [out[n] for n in range(len(items))]

    def _births(
        self,
        waiting: dict[tuple[str, str], tuple[int, Birth]],
        keys: set[_StreamKey],
        out: dict[int, Applied | Presence],
    ) -> None:
        """Applies the run of births waiting. A birth reads and writes its box's rows, so they must hold
        what came before; it may announce a stream, so its box's positions are read again after it.
        """
        if not waiting:
            return
        self._flush()
        run = sorted(waiting.values(), key=lambda one: one[0])
        out.update(zip([n for n, _ in run], apply_births([birth for _, birth in run], self.now), strict=True))
        self._reload(set(waiting), keys)
        waiting.clear()

    def _start(self, key: _StreamKey, position: _Position, batch: JournalBatch) -> None:
        """A stream's first batch: where it starts, as `apply_locked` would set it. Only if the batch is plain
        from there does the stream start here; a new box's other keys in the group are then no longer new.
        """
        start = start_of(batch.acked)
        trial = _Position(start, start + 1, position.current)
        if not _plain(batch, trial):
            return
        position.last_seq, position.first_seq, position.starting = start, start + 1, True
        if position.new:
            for other in [k for k, p in self.positions.items() if k[:2] == key[:2] and k != key and p.new]:
                del self.positions[other]  # a second store of a box in one group: the general rules

    def _reload(self, boxes: set[tuple[str, str]], keys: set[_StreamKey]) -> None:
        """A birth or the general rules may have started a stream, which ends the box's other streams being
        current: every stream of these boxes in this group is read again.
        """
        again = {k for k in keys if k[:2] in boxes}
        for k in again:
            self.positions.pop(k, None)
        self.positions.update(_load(again))

    def _fast(self, item: Item, key: _StreamKey, position: _Position) -> Applied:
        shop, box, epoch = key
        assert position.last_seq is not None  # `_plain` said so
        skus = set()
        fresh = [entry for entry in item.batch.entries if entry.seq > position.last_seq]
        for entry in fresh:
            sku, delta = entry.data["sku"], entry.data["delta"]
            assert isinstance(sku, str) and isinstance(delta, int)  # the wire checked both
            skus.add(sku)
            source = source_of(box, epoch, entry.seq)
            self.rows.append(ledger.movement_row(shop, sku, source, entry.kind, delta, entry.ts, push=True))
        count = len(fresh)
        position.last_seq += count
        position.applied += count
        return Applied(position.last_seq, count, False, frozenset(skus), item.batch.epoch)

    def _flush(self) -> None:
        """Writes the streams started, the movements and the stream positions gathered so far."""
        starting = {key: p for key, p in self.positions.items() if p.starting}
        if starting:
            _write_starts(starting, self.now)
            for position in starting.values():
                position.new = position.starting = False
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


def _plain(batch: JournalBatch, position: _Position) -> bool:
    """Past the entries already applied, the batch is the next seqs of its stream, each a plain stock
    movement, and says nothing new (entries below where the stream started are parked: the general rules).
    """
    last_seq = position.last_seq
    if last_seq is None or not batch.entries or batch.entries[0].seq < position.first_seq:
        return False
    if batch.acked is not None and batch.acked > last_seq:
        return False
    fresh = [entry for entry in batch.entries if entry.seq > last_seq]
    for offset, entry in enumerate(fresh, start=1):
        if entry.seq != last_seq + offset or entry.problem is not None or entry.kind not in STOCK_KINDS:
            return False
        if entry.kind == EntryKind.COUNT:  # counts change the stock row, and may be absolute
            return False
    return True


def _load(keys: Iterable[_StreamKey]) -> dict[_StreamKey, _Position]:
    """Positions of the streams with nothing held (the others take the general rules), announced ones
    included, and a `new` position for each stream of a box the bridge knows nothing of.
    """
    wanted = sorted(keys)
    db = m.database.obj
    out: dict[_StreamKey, _Position] = {}
    for chunk in chunks(wanted):
        cursor = db.execute_sql(
            'SELECT "shop", "box", "epoch", "last_seq", "first_seq", "current" FROM "stream" '
            f'WHERE ("shop", "box", "epoch") IN (VALUES {values(db, 3, len(chunk))}) AND "pending" = 0',
            [part for key in chunk for part in key],
        )
        for shop, box, epoch, last_seq, first_seq, current in cursor.fetchall():
            if last_seq is None:
                out[(shop, box, epoch)] = _Position(None, 0, bool(current))
            else:
                start = int(first_seq) if first_seq is not None else 0
                out[(shop, box, epoch)] = _Position(int(last_seq), start, bool(current))
    unknown = sorted({key[:2] for key in wanted if key not in out})
    known: set[tuple[str, str]] = set()
    for pairs in chunks(unknown):
        listed = values(db, 2, len(pairs))
        cursor = db.execute_sql(
            f'SELECT "shop", "box" FROM "stream" WHERE ("shop", "box") IN (VALUES {listed}) '
            f'UNION SELECT "shop", "box" FROM "box" WHERE ("shop", "box") IN (VALUES {listed}) '
            'AND "last_seq" > 0',
            [part for pair in pairs for part in pair] * 2,
        )
        known.update((shop, box) for shop, box in cursor.fetchall())
    for key in wanted:
        if key not in out and key[:2] not in known:
            out[key] = _Position(None, 0, True, new=True)
    return out


def _write_starts(starting: dict[_StreamKey, _Position], now: float) -> None:
    """The rows of streams this group started, standing where they start (their entries follow in `_save`):
    a new box's stream and its fleet-view row inserted, an announced stream given its start.
    """
    new = [(key, p) for key, p in sorted(starting.items()) if p.new]
    for chunk in chunks(new):
        m.Stream.insert_many(
            [
                {
                    "shop": shop,
                    "box": box,
                    "epoch": epoch,
                    "last_seq": p.first_seq - 1,
                    "first_seq": p.first_seq,
                    "current": True,
                    "started_at": now,
                }
                for (shop, box, epoch), p in chunk
            ]
        ).execute()
        m.Box.insert_many(
            [{"shop": shop, "box": box} for (shop, box, _), _ in chunk]
        ).on_conflict_ignore().execute()
    for (shop, box, epoch), _ in new:
        log.info("box %s/%s: first journal stream recorded (epoch %s)", shop, box, epoch or "none")
    for (shop, box, epoch), p in sorted(starting.items()):
        if not p.new:
            m.Stream.update(last_seq=p.first_seq - 1, first_seq=p.first_seq).where(
                m.Stream.shop == shop, m.Stream.box == box, m.Stream.epoch == epoch
            ).execute()


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
    """`UPDATE table SET assign` for every row (keys..., last_seq, n), `sqlrows.IN_CHUNK` rows a statement."""
    db = m.database.obj
    names = ", ".join(f'"{k}"' for k in (*keys, "last_seq", "n"))
    match = " AND ".join(f'{table}."{k}" = v."{k}"' for k in keys)
    row = "(" + ", ".join([db.param] * len(keys) + [_int(db), _int(db)]) + ")"
    for chunk in chunks(rows):
        db.execute_sql(
            f"WITH v ({names}) AS (VALUES {', '.join([row] * len(chunk))}) "
            f"UPDATE {table} SET {assign} FROM v WHERE {match}",
            [value for r in chunk for value in r],
        )


def _int(db: Any) -> str:
    """A parameter PostgreSQL types as a bigint inside VALUES (it would guess text otherwise)."""
    return f"CAST({db.param} AS BIGINT)"
