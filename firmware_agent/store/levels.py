"""The cloud's stock levels beside this box's own movements: the till shows the truth of every channel.

The cloud sends, per sku, the shop's level (`on_hand`, `reserved`) at a level version, and up to which seq of
this box's journal it includes (`upto`). Every stock movement the box journals is also kept in `local_move`
until a level that includes it arrives. What the box shows, prints and journals as `stock_after` is then

    product.stock = level.on_hand − level.reserved + Σ local_move(sku)      (a sku with a level)
    product.stock = its own running stock                                     (a sku without one yet)

so another till's sale or an online order shows at once, and the box's own sale is counted exactly once:
in its local moves until the cloud has applied it, in the level from then on. `product.stock` is kept up to
date as a column (the scan path reads it), recomputed whenever a level or a catalog snapshot arrives.

Every function runs on the core loop inside its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from firmware_agent.store.database import Store
from wire import Levels

FORGET_ACKED_SQL = "DELETE FROM local_move WHERE seq <= ? AND sku NOT IN (SELECT sku FROM level)"
"""Local moves the cloud has acknowledged, of skus without a level: done with (`forget_acked`)."""


@dataclass(frozen=True)
class LevelRecord:
    sku: str
    on_hand: int
    reserved: int
    version: int
    upto: int


def note_move(store: Store, seq: int, sku: str, delta: int) -> None:
    """A stock movement just journaled at `seq`: counted locally until a level includes it."""
    store.sql("INSERT OR REPLACE INTO local_move (seq, sku, delta) VALUES (?, ?, ?)", (seq, sku, delta))


def level_of(store: Store, sku: str) -> LevelRecord | None:
    row = store.sql(
        "SELECT sku, on_hand, reserved, version, upto FROM level WHERE sku = ?", (sku,)
    ).fetchone()
    return None if row is None else LevelRecord(*row)


def apply_levels(store: Store, message: Levels) -> int:
    """Keeps the levels of `message` that are newer than (or as new as) the box's; returns how many.

    A sku's older version is never taken over a newer one: a late or redelivered message changes nothing.
    """
    sql = store.sql
    known = dict(
        sql(
            f"SELECT sku, version FROM level WHERE sku IN ({_marks(message.levels)})",
            tuple(level.sku for level in message.levels),
        ).fetchall()
    )
    fresh = [level for level in message.levels if known.get(level.sku, 0) <= message.version]
    if not fresh:
        return 0
    # `upto` counts in the stream named by `epoch`: of another store (the bridge has not heard from this
    # one yet) the levels include none of this store's movements.
    upto = message.upto if message.epoch in (None, store.epoch) else 0
    store.sql_many(
        "INSERT OR REPLACE INTO level (sku, on_hand, reserved, version, upto) VALUES (?, ?, ?, ?, ?)",
        [(level.sku, level.on_hand, level.reserved, message.version, upto) for level in fresh],
    )
    store.sql_many(
        "DELETE FROM local_move WHERE sku = ? AND seq <= ?", [(level.sku, upto) for level in fresh]
    )
    refresh_stock(store, [level.sku for level in fresh])
    return len(fresh)


def refresh_stock(store: Store, skus: Iterable[str] | None = None) -> None:
    """`product.stock` from the level and the local moves, for these skus (all with a level if None)."""
    where = "sku IN (SELECT sku FROM level)"
    params: tuple[Any, ...] = ()
    if skus is not None:
        wanted = tuple(skus)
        if not wanted:
            return
        where = f"sku IN ({_marks(wanted)}) AND {where}"
        params = wanted
    store.sql(
        "UPDATE product SET stock = "
        "(SELECT on_hand - reserved FROM level WHERE level.sku = product.sku) + "
        "(SELECT COALESCE(SUM(delta), 0) FROM local_move WHERE local_move.sku = product.sku) "
        f"WHERE {where}",
        params,
    )


_ADD_BACK = (
    "UPDATE product SET stock = stock + "
    "(SELECT COALESCE(SUM(delta), 0) FROM local_move WHERE local_move.sku = product.sku) "
    "WHERE sku IN ({}) AND sku NOT IN (SELECT sku FROM level)"
)


def add_back_unsettled(store: Store, skus: Iterable[str]) -> None:
    """Stock just taken from a catalog snapshot, for skus without a level: plus the box's own movements the
    cloud has not acknowledged yet (the snapshot cannot contain them).
    """
    wanted = tuple(skus)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        store.sql(_ADD_BACK.format(_marks(chunk)), chunk)


def add_back_unsettled_selected(store: Store, select: str) -> None:
    """`add_back_unsettled` for the skus an SQL `select` names: a staged snapshot's 50,000 skus are never
    listed in memory."""
    store.sql(_ADD_BACK.format(select))


def forget_acked(store: Store, seq: int) -> None:
    """The cloud acknowledged the journal up to `seq`: local moves of skus without a level are done with.

    Skus with a level keep theirs until a level that includes them arrives (an ack can overtake it).
    """
    store.sql(FORGET_ACKED_SQL, (seq,))


def summary(store: Store) -> dict[str, int]:
    """For `status`: the highest level version held, how many skus have one, local moves not yet in one."""
    version, skus = store.sql("SELECT COALESCE(MAX(version), 0), COUNT(*) FROM level").fetchone()
    moves = store.sql("SELECT COUNT(*) FROM local_move").fetchone()[0]
    return {"levels_version": int(version), "skus_with_level": int(skus), "local_moves": int(moves)}


def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))
