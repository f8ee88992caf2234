"""Sending the ledger's levels to the boxes: every change from any channel reaches every till of the shop.

Any ledger change is due for a push without its recorder knowing about boxes: a movement is due while its
id is past the shop's pushed watermark (`ledger.pushed`), and the ledger marks the skus of the changes that
are not movements (reservations, baselines) in `level_due` (`ledger.mark_levels`). A push takes the due
skus, gives them the shop's next level version, and queues one `levels` message per box (more when many skus
changed) into the outbox, which the shop's driver publishes in order. Each box's message says up to which
of its own journal seqs the levels include (`upto`), so the box can add its movements after that and show
the truth at once. A box back online gets every level at once (`push_all`); the movements that push carries
first are marked, so the other boxes still get them at the next push.

A push reads the ledger, the boxes' journal positions and the marks from one snapshot (REPEATABLE READ on
PostgreSQL, the write lock on SQLite), so `upto` and the levels always agree. The shop's newest movement id
in that snapshot (`ledger.newest`, exact because ids are taken in commit order) says which movements the
version holds: the push records it (`ledger.record_push`), so a count made against version v keeps exactly
the movements after it (`ledger.count_delta`), and moves the pushed watermark there. No movement row is
written again: releases before this one stamped each movement with its version, an UPDATE of every
movement that cost the apply path a quarter of its speed under a backlog.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.catalog import queue_for_boxes
from cloud_bridge.db import Database
from cloud_bridge.sqlrows import chunks
from cloud_bridge.state import Counter, count, set_count
from wire import MAX_LEVELS, Levels, SkuLevel

log = logging.getLogger(__name__)

PUSH_SKUS: Final = 10 * MAX_LEVELS  # due skus taken per transaction


def push_due(db: Database, shop: str, boxes: Sequence[str], now: float) -> int:
    """Sends the levels of every due sku to every box of the shop; returns the skus sent."""
    sent = 0
    while True:
        pushed, taken = db.in_snapshot(lambda: _push_due(shop, boxes, now), one_at_a_time=f"levels/{shop}")
        sent += pushed
        if taken < PUSH_SKUS:
            return sent


def push_all(db: Database, shop: str, boxes: Sequence[str], now: float) -> int:
    """Every sku's level to these boxes (they came online, or asked for the catalog): what they missed
    offline, in one version for all of them. The pushed watermark stays: the movements since are due for the
    other boxes still.
    """

    def push() -> int:
        skus = [row.sku for row in m.Stock.select(m.Stock.sku).where(m.Stock.shop == shop)]
        return _push(shop, skus, boxes, now, ledger.newest(shop)) if skus else 0

    return db.in_snapshot(push, one_at_a_time=f"levels/{shop}")


def _push_due(shop: str, boxes: Sequence[str], now: float) -> tuple[int, int]:
    """(skus sent, marked skus taken) for one transaction's worth of due skus: up to `PUSH_SKUS` marked
    ones, and every sku moved since the pushed watermark (the watermark moves past all of them at once).
    """
    after, upto = ledger.pushed(shop), ledger.newest(shop)
    moved = ledger.skus_moved(shop, after, upto) if upto > after else []
    marked = [
        row.sku
        for row in m.LevelDue.select(m.LevelDue.sku)
        .where(m.LevelDue.shop == shop)
        .order_by(m.LevelDue.sku)
        .limit(PUSH_SKUS)
    ]
    due = sorted({*moved, *marked})
    if not due:
        return 0, 0
    sent = _push(shop, due, boxes, now, upto)
    if upto > after:
        ledger.set_pushed(shop, upto)
    for chunk in chunks(marked):
        m.LevelDue.delete().where(m.LevelDue.shop == shop, m.LevelDue.sku.in_(chunk)).execute()
    return sent, len(marked)


def current_version(shop: str) -> int:
    return count(shop, Counter.LEVELS_VERSION)


def _push(shop: str, skus: Sequence[str], boxes: Sequence[str], now: float, upto: int) -> int:
    """Inside the caller's snapshot: the next version for these skus, holding the shop's movements up to
    id `upto`, queued for `boxes`.
    """
    version = current_version(shop) + 1
    set_count(shop, Counter.LEVELS_VERSION, version)
    # Recorded also for skus without a baseline (no level to send yet) and a shop without boxes.
    ledger.record_push(shop, version, upto, now)
    found = ledger.levels(shop, skus)
    if not found or not boxes:
        return 0
    positions = _positions(shop, boxes)
    levels = [SkuLevel(sku, level.on_hand, level.reserved) for sku, level in sorted(found.items())]
    for start in range(0, len(levels), MAX_LEVELS):
        chunk = tuple(levels[start : start + MAX_LEVELS])
        for box in boxes:
            upto, epoch = positions.get(box, (0, None))
            queue_for_boxes(shop, [box], Levels(version, chunk, upto, epoch), now)
    log.debug(
        "shop %s: levels version %d of %d skus queued for %d boxes", shop, version, len(levels), len(boxes)
    )
    return len(levels)


def _positions(shop: str, boxes: Sequence[str]) -> dict[str, tuple[int, str | None]]:
    """Per box: how far its current journal stream is applied, and that stream's epoch (None: unnamed)."""
    positions: dict[str, tuple[int, str | None]] = {}
    for chunk in chunks(boxes):
        rows = m.Box.select(m.Box.box, m.Box.last_seq).where(m.Box.shop == shop, m.Box.box.in_(chunk))
        positions.update((row.box, (int(row.last_seq), None)) for row in rows)
    for chunk in chunks(boxes):
        current = m.Stream.select(m.Stream.box, m.Stream.epoch, m.Stream.last_seq).where(
            m.Stream.shop == shop,
            m.Stream.box.in_(chunk),
            m.Stream.current == True,  # noqa: E712
        )
        for row in current:
            positions[row.box] = (int(row.last_seq or 0), row.epoch or None)
    return positions
