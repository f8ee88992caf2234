"""Applying a box's journal: in seq order, exactly once, under the box's lock; the ack follows the commit.

A batch is applied in one transaction that also moves the box's position (`Box.last_seq`), so a crash
leaves both or neither. Entries at or below the position are duplicates (a box resends everything after its
last ack when an ack is late) and are skipped; the unique `(shop, source)` key on movements is a second
guard. A batch that starts past the next expected seq is kept in `PendingBatch`, where any worker applies it
as soon as the missing batch arrives (with a shared subscription the batches of one box are spread over
workers, so the one that fills the gap is often not the one that holds the rest). The box resends from its
last ack if the gap is never filled.

A gap is accepted only when the entry after it is `store_recovered`: the box lost its store, and the entries
in between are gone for good. That loss window is parked where the fleet view shows it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.db import Database
from cloud_bridge.parking import park
from wire import STOCK_KINDS, JournalBatch, JournalEntry, WireError, decode
from wire import Kind as WireKind

log = logging.getLogger(__name__)

MAX_PENDING: Final = 64  # out-of-order batches kept per box; past that the box's resend fills the gap


@dataclass(frozen=True)
class Applied:
    """What became of a batch. `upto` is the ack to send (None: send none, e.g. a box not of this shop)."""

    upto: int | None
    applied: int = 0
    buffered: bool = False
    skus: frozenset[str] = field(default_factory=frozenset)  # skus whose ledger moved


def apply_batch(
    db: Database, shop: str, box: str, batch: JournalBatch, payload: bytes, now: float
) -> Applied:
    with db.box_transaction(shop, box):
        row = _box_row(shop, box)
        start = row.last_seq
        run = _Run(shop, box, row.last_seq, now)
        fresh = [e for e in batch.entries if e.seq > run.last_seq]
        buffered = False
        if fresh and not run.follows(fresh[0]):
            buffered = _keep_for_later(row, fresh, payload, now)
        elif fresh:
            run.apply(fresh)
            if row.pending:
                _apply_pending(row, run)
        if run.last_seq != start or buffered:
            m.Box.update(
                last_seq=run.last_seq, applied=m.Box.applied + run.applied, pending=row.pending
            ).where(m.Box.shop == shop, m.Box.box == box).execute()
    if run.applied:
        log.debug("box %s/%s: applied %d entries, now at seq %d", shop, box, run.applied, run.last_seq)
    return Applied(run.last_seq, run.applied, buffered, frozenset(run.skus))


def _box_row(shop: str, box: str) -> Any:
    row = m.Box.get_or_none(m.Box.shop == shop, m.Box.box == box)
    if row is None:
        m.Box.insert(shop=shop, box=box).on_conflict_ignore().execute()
        row = m.Box.get(m.Box.shop == shop, m.Box.box == box)
    return row


def _keep_for_later(row: Any, fresh: Sequence[JournalEntry], payload: bytes, now: float) -> bool:
    if row.pending >= MAX_PENDING:
        log.warning(
            "box %s/%s: %d batches wait for seq %d; dropping one",
            row.shop,
            row.box,
            row.pending,
            row.last_seq + 1,
        )
        return False
    key = (m.PendingBatch.shop == row.shop) & (m.PendingBatch.box == row.box)
    existing = m.PendingBatch.get_or_none(key & (m.PendingBatch.first_seq == fresh[0].seq))
    if existing is not None and existing.last_seq >= fresh[-1].seq:
        return False
    if existing is not None:
        existing.delete_instance()
        row.pending -= 1
    m.PendingBatch.create(
        shop=row.shop,
        box=row.box,
        first_seq=fresh[0].seq,
        last_seq=fresh[-1].seq,
        payload=payload,
        received_at=now,
    )
    row.pending += 1
    log.info(
        "box %s/%s: seqs %d-%d wait for seq %d",
        row.shop,
        row.box,
        fresh[0].seq,
        fresh[-1].seq,
        row.last_seq + 1,
    )
    return True


def _apply_pending(row: Any, run: _Run) -> None:
    query = m.PendingBatch.select().where(m.PendingBatch.shop == row.shop, m.PendingBatch.box == row.box)
    for pending in query.order_by(m.PendingBatch.first_seq):
        entries = _entries(pending.payload)
        fresh = [e for e in entries if e.seq > run.last_seq]
        if fresh and not run.follows(fresh[0]):
            break
        run.apply(fresh)
        pending.delete_instance()
        row.pending -= 1


def _entries(payload: bytes) -> list[JournalEntry]:
    try:
        batch = decode(WireKind.JOURNAL, bytes(payload))
    except WireError:  # it decoded when it was stored; a newer wire module must still read it
        log.exception("a stored out-of-order journal batch no longer decodes; the box will resend it")
        return []
    assert isinstance(batch, JournalBatch)
    return list(batch.entries)


class _Run:
    """Applies entries of one box inside the open transaction, collecting movements for one insert."""

    def __init__(self, shop: str, box: str, last_seq: int, now: float) -> None:
        self.shop, self.box, self.last_seq, self.now = shop, box, last_seq, now
        self.applied = 0
        self.skus: set[str] = set()

    def follows(self, entry: JournalEntry) -> bool:
        """Whether `entry` may be applied next: the next seq, or a recovered store after a loss window."""
        return entry.seq == self.last_seq + 1 or entry.kind == "store_recovered"

    def apply(self, entries: Sequence[JournalEntry]) -> None:
        rows: list[dict[str, Any]] = []
        for entry in entries:
            if entry.seq != self.last_seq + 1 and entry.kind == "store_recovered":
                self._loss_window(entry)
            if entry.kind in STOCK_KINDS:
                rows.append(self._movement(entry))
            else:
                _HANDLERS.get(entry.kind, _Run._park_unknown)(self, entry)
            self.last_seq = entry.seq
            self.applied += 1
        ledger.add_movements(rows)

    def _movement(self, entry: JournalEntry) -> dict[str, Any]:
        sku, delta = entry.data["sku"], entry.data["delta"]
        assert isinstance(sku, str) and isinstance(delta, int)  # the wire checked both
        self.skus.add(sku)
        if entry.kind == "count":
            m.Stock.update(counted=entry.data["counted"], counted_at=entry.ts).where(
                m.Stock.shop == self.shop, m.Stock.sku == sku
            ).execute()
        source = f"b/{self.box}/{entry.seq}"
        return ledger.movement_row(self.shop, sku, source, entry.kind, delta, entry.ts, push=True)

    def _order_printed(self, entry: JournalEntry) -> None:
        m.ShopOrder.update(printed_by=self.box).where(
            m.ShopOrder.shop == self.shop, m.ShopOrder.order_id == entry.data["order_id"]
        ).execute()

    def _order_collected(self, entry: JournalEntry) -> None:
        order_id, code = str(entry.data["order_id"]), str(entry.data["pickup_code"])
        order = m.ShopOrder.get_or_none(m.ShopOrder.shop == self.shop, m.ShopOrder.order_id == order_id)
        if order is None:
            return self._park(entry, f"order {order_id!r} was collected but the bridge does not know it")
        if order.pickup_code and order.pickup_code != code:
            return self._park(entry, f"order {order_id!r} was handed over against a wrong pickup code")
        self.skus |= ledger.consume(self.shop, order_id, entry.ts, "collected")
        mine = (m.ShopOrder.shop == self.shop) & (m.ShopOrder.order_id == order_id)
        m.ShopOrder.update(collected_by=self.box).where(mine).execute()  # polling may update the rest now
        m.ShopOrder.update(completion="wanted").where(mine & (m.ShopOrder.completion == "none")).execute()
        return None

    def _mode_changed(self, entry: JournalEntry) -> None:
        m.Box.update(mode=entry.data["mode"]).where(m.Box.shop == self.shop, m.Box.box == self.box).execute()

    def _nothing(self, entry: JournalEntry) -> None:
        """Facts the cloud has no use for yet (an unknown barcode, the recovery marker itself)."""

    def _park_unknown(self, entry: JournalEntry) -> None:
        self._park(entry, f"journal entry kind {entry.kind!r} is not known to this bridge")

    def _loss_window(self, entry: JournalEntry) -> None:
        lost = f"seqs {self.last_seq + 1}-{entry.seq - 1}"
        self._park(entry, f"the box lost its store ({entry.data.get('moved_to')}); {lost} never arrived")

    def _park(self, entry: JournalEntry, problem: str) -> None:
        log.warning("box %s/%s seq %d: %s", self.shop, self.box, entry.seq, problem)
        payload = json.dumps(entry.to_json(), ensure_ascii=False)
        park(
            self.shop,
            f"entry/{self.box}/{entry.seq}",
            "journal",
            problem,
            self.now,
            box=self.box,
            payload=payload,
        )


_HANDLERS: Final[dict[str, Callable[[_Run, JournalEntry], None]]] = {
    "order_printed": _Run._order_printed,
    "order_collected": _Run._order_collected,
    "mode_changed": _Run._mode_changed,
    "unknown_barcode": _Run._nothing,
    "store_recovered": _Run._nothing,
}
