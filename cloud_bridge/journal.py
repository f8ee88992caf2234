"""Applying a box's journal: per stream, strictly in seq order, exactly once, under the box's lock; the ack
follows the commit and names exactly the last seq applied.

A box's entries form streams, one per store (`streams.py`); the seq rules of one stream are `seqrules.py`.
A batch is applied in one transaction that also moves its stream's position (`Stream.last_seq`), so a crash
leaves both or neither. Entries at or below the position are duplicates and are skipped; the unique
`(shop, source)` key on movements is a second guard. A batch is applied up to its first hole; what lies past
the hole is kept in `HeldBatch` (at most `MAX_HELD` per stream), where any worker applies it as soon as the
hole is filled (with a shared subscription the batches of one box are spread over workers), and it is not
acknowledged until then. Past the bound, a batch is dropped unacknowledged: the box sends it again.

An entry the bridge cannot apply (its fields break the contract, its kind is unknown, its order unknown) is
parked with its reason and counts as applied, so the stream goes on: nothing stalls behind it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, assert_never

from cloud_bridge import ledger, orders
from cloud_bridge import models as m
from cloud_bridge.db import Database
from cloud_bridge.parking import park
from cloud_bridge.seqrules import Gap, Plan, plan, start_of
from cloud_bridge.streams import entry_ref, record_loss, source_of, stream_for, stream_key
from wire import (
    CountEntry,
    JournalBatch,
    JournalEntry,
    ModeChangedEntry,
    OrderCollectedEntry,
    OrderPrintedEntry,
    OrderRequestEntry,
    OrderStageEntry,
    PhoneOrder,
    StockEntry,
    StoreRecoveredEntry,
    UnknownBarcodeEntry,
    WireError,
    decode_journal,
)

log = logging.getLogger(__name__)

Fact = (
    OrderPrintedEntry
    | OrderCollectedEntry
    | OrderStageEntry
    | OrderRequestEntry
    | ModeChangedEntry
    | UnknownBarcodeEntry
    | StoreRecoveredEntry
)
"""Every kind that is not a stock movement: each has its case in `_Run._apply`."""
MAX_HELD: Final = 64  # batches held per stream; past that the box's resend fills the hole


@dataclass(frozen=True)
class Applied:
    """What became of a batch. `upto` is the ack to send: the last seq of the batch's stream applied (None:
    send none, nothing of this stream is applied yet). `epoch` goes back in the ack.
    """

    upto: int | None
    applied: int = 0
    held: bool = False
    skus: frozenset[str] = field(default_factory=frozenset)  # skus whose ledger moved
    epoch: str | None = None


def apply_batch(
    db: Database, shop: str, box: str, batch: JournalBatch, payload: bytes, now: float
) -> Applied:
    with db.box_transaction(shop, box):
        return apply_locked(shop, box, batch, payload, now)


def apply_locked(shop: str, box: str, batch: JournalBatch, payload: bytes, now: float) -> Applied:
    """`apply_batch` inside a transaction that already holds the box's lock (`grouped.py` holds many)."""
    key = stream_key(batch.epoch)
    stream = stream_for(shop, box, key, now)
    if stream.last_seq is None:  # the stream's first batch here: it starts where the box says
        stream.last_seq = start_of(batch.acked)
        stream.first_seq = stream.last_seq + 1
    run = _Run(shop, box, key, stream.last_seq, now)
    run.below_start(batch.entries, stream.first_seq)
    step = plan(stream.last_seq, batch.entries, batch.acked)
    run.carry_out(step)
    held = bool(step.held) and _hold(stream, step.held, payload, now)
    if step.moved and stream.pending:
        _apply_held(stream, run)
    _save(stream, run)
    if run.applied:
        log.debug("box %s/%s: applied %d entries, now at seq %d", shop, box, run.applied, run.position)
    upto = run.position if run.position >= stream.first_seq else None
    return Applied(upto, run.applied, held, frozenset(run.skus), batch.epoch)


def _save(stream: Any, run: _Run) -> None:
    mine = (m.Stream.shop == stream.shop) & (m.Stream.box == stream.box) & (m.Stream.epoch == stream.epoch)
    m.Stream.update(
        last_seq=run.position,
        first_seq=stream.first_seq,
        pending=stream.pending,
        applied=m.Stream.applied + run.applied,
    ).where(mine).execute()
    box = (m.Box.shop == stream.shop) & (m.Box.box == stream.box)
    m.Box.insert(shop=stream.shop, box=stream.box).on_conflict_ignore().execute()
    if stream.current:  # the fleet view's copy of the current stream
        m.Box.update(
            last_seq=run.position, pending=stream.pending, applied=m.Box.applied + run.applied
        ).where(box).execute()
    elif run.applied:
        m.Box.update(applied=m.Box.applied + run.applied).where(box).execute()


def _hold(stream: Any, entries: Sequence[JournalEntry], payload: bytes, now: float) -> bool:
    """Keeps entries past a hole for later; False when they are not kept (the box will send them again)."""
    where = f"box {stream.shop}/{stream.box}: seqs {entries[0].seq}-{entries[-1].seq}"
    mine = (
        (m.HeldBatch.shop == stream.shop)
        & (m.HeldBatch.box == stream.box)
        & (m.HeldBatch.epoch == stream.epoch)
    )
    existing = m.HeldBatch.get_or_none(mine & (m.HeldBatch.first_seq == entries[0].seq))
    if existing is not None and existing.last_seq >= entries[-1].seq:
        return True
    if existing is None and stream.pending >= MAX_HELD:
        log.warning(
            "%s wait for seq %d behind %d held batches: dropped", where, stream.last_seq + 1, MAX_HELD
        )
        return False
    if existing is not None:
        existing.delete_instance()
        stream.pending -= 1
    m.HeldBatch.create(
        shop=stream.shop,
        box=stream.box,
        epoch=stream.epoch,
        first_seq=entries[0].seq,
        last_seq=entries[-1].seq,
        payload=payload,
        received_at=now,
    )
    stream.pending += 1
    log.info("%s wait for seq %d (held, not acknowledged)", where, stream.last_seq + 1)
    return True


def _apply_held(stream: Any, run: _Run) -> None:
    mine = (
        (m.HeldBatch.shop == stream.shop)
        & (m.HeldBatch.box == stream.box)
        & (m.HeldBatch.epoch == stream.epoch)
    )
    for held in m.HeldBatch.select().where(mine).order_by(m.HeldBatch.first_seq):
        if held.first_seq > run.position + 1:
            break
        step = plan(run.position, _entries(held.payload))
        run.carry_out(step)
        held.delete_instance()
        stream.pending -= 1
        if step.held:  # a hole further on: keep the rest under its new first seq
            _hold(stream, step.held, bytes(held.payload), held.received_at)
            break


def _entries(payload: bytes) -> list[JournalEntry]:
    try:
        return list(decode_journal(bytes(payload)).entries)
    except WireError:  # it decoded when it was stored; a newer wire module must still read it
        log.exception("a held journal batch no longer decodes; the box will send it again")
        return []


class _Run:
    """Applies entries of one stream inside the open transaction, collecting movements for one insert."""

    def __init__(self, shop: str, box: str, key: str, position: int, now: float) -> None:
        self.shop, self.box, self.key, self.position, self.now = shop, box, key, position, now
        self.applied = 0
        self.skus: set[str] = set()

    def below_start(self, entries: Sequence[JournalEntry], first_seq: int) -> None:
        """Entries below where this bridge started the stream were never applied, and never will be: the
        box said they were acknowledged, and sends them again (a store restored from a copy?). Parked, so
        they are not lost silently.
        """
        for entry in entries:
            if entry.seq >= first_seq:
                break
            self._park(entry, f"arrived after this bridge had started the box's journal at seq {first_seq}")

    def carry_out(self, step: Plan) -> None:
        for gap in step.gaps:
            self._gap(gap)
        rows: list[dict[str, Any]] = []
        for entry in step.run:
            if entry.problem is not None:
                self._park(entry, f"cannot be applied: {entry.problem}")
            elif (body := entry.body) is None:
                self._park(entry, f"journal entry kind {entry.kind!r} is not known to this bridge")
            elif isinstance(body, StockEntry):
                if _absolute(body):  # a count is set against everything applied before it
                    ledger.add_movements(rows)
                    rows = []
                rows.append(self._movement(entry, body))
            else:
                self._apply(entry, body)
            self.applied += 1
        ledger.add_movements(rows)
        self.position = step.position

    def _gap(self, gap: Gap) -> None:
        lost = f"seqs {gap.first}-{gap.last}" if gap.last > gap.first else f"seq {gap.first}"
        if gap.why == "acked":
            reason = (
                f"the box had {lost} acknowledged, but this bridge never applied them (a database restored "
                "from an older backup, or another bridge): they are lost"
            )
        else:
            reason = f"the box lost its store; {lost} never arrived"
        record_loss(self.shop, self.box, self.key, gap.first - 1, gap.last, reason, self.now)

    def _movement(self, entry: JournalEntry, body: StockEntry) -> dict[str, Any]:
        sku, delta = body.sku, body.delta
        self.skus.add(sku)
        if isinstance(body, CountEntry):
            m.Stock.update(counted=body.counted, counted_at=entry.ts).where(
                m.Stock.shop == self.shop, m.Stock.sku == sku
            ).execute()
            if body.level_version is not None:
                delta = ledger.count_delta(
                    self.shop, sku, f"b/{self.box}/", body.counted, body.level_version, delta
                )
        source = source_of(self.box, self.key, entry.seq)
        return ledger.movement_row(self.shop, sku, source, entry.kind, delta, entry.ts, push=True)

    def _apply(self, entry: JournalEntry, body: Fact) -> None:
        match body:
            case OrderPrintedEntry():
                m.ShopOrder.update(printed_by=self.box).where(
                    m.ShopOrder.shop == self.shop, m.ShopOrder.order_id == body.order_id
                ).execute()
            case OrderCollectedEntry():
                self._order_collected(entry, body)
            case OrderStageEntry():
                self._order_stage(entry, body)
            case OrderRequestEntry():
                self._order_request(entry, body)
            case ModeChangedEntry():
                m.Box.update(mode=body.mode).where(m.Box.shop == self.shop, m.Box.box == self.box).execute()
            case UnknownBarcodeEntry() | StoreRecoveredEntry():
                pass  # facts the cloud has no use for yet (an unknown barcode, the recovery marker itself)
            case _:
                assert_never(body)

    def _order_collected(self, entry: JournalEntry, body: OrderCollectedEntry) -> None:
        order_id, code = body.order_id, body.pickup_code
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

    def _order_stage(self, entry: JournalEntry, body: OrderStageEntry) -> None:
        """An order moved on the floor: the shop is told (`OrderNotice`, sent in order by the shop's loop);
        handed over (collected / delivered), its units leave the ledger as a collection's do."""
        mine = (m.ShopOrder.shop == self.shop) & (m.ShopOrder.order_id == body.order_id)
        if m.ShopOrder.get_or_none(mine) is None:
            return self._park(
                entry, f"order {body.order_id!r} moved to {body.stage} but the bridge does not know it"
            )
        if body.stage not in orders.STAGE_NAMES:
            return self._park(entry, f"order {body.order_id!r}: unknown stage {body.stage!r}")
        if body.stage in ("collected", "delivered"):
            self.skus |= ledger.consume(self.shop, body.order_id, entry.ts, body.stage)
            m.ShopOrder.update(collected_by=self.box).where(mine).execute()
        orders.note_stage(
            self.shop,
            body.order_id,
            body.stage,
            body.eta_min,
            entry_ref(self.box, self.key, entry.seq),
            self.now,
        )
        return None

    def _order_request(self, entry: JournalEntry, body: OrderRequestEntry) -> None:
        """A phone order to create in the shop: checked, then queued with the floor's other news for the
        shop (in order); the order comes back through the orders feed and prints like an online one."""
        try:
            request = PhoneOrder.from_json(dict(body.order))
        except WireError as exc:
            return self._park(entry, f"phone order {body.ref!r} cannot be created: {exc}")
        ref = f"{self.box}-{body.ref}"
        orders.note_request(self.shop, ref, request, entry_ref(self.box, self.key, entry.seq), self.now)
        return None

    def _park(self, entry: JournalEntry, problem: str) -> None:
        log.warning("box %s/%s seq %d: %s", self.shop, self.box, entry.seq, problem)
        raw = {"seq": entry.seq, "kind": entry.kind, "ts": entry.ts, **entry.data}
        payload = json.dumps(raw, ensure_ascii=False)
        park(
            self.shop,
            entry_ref(self.box, self.key, entry.seq),
            "journal",
            problem,
            self.now,
            box=self.box,
            payload=payload,
        )


def _absolute(body: StockEntry) -> bool:
    """A count made against a cloud level: it sets on-hand (`ledger.count_delta`), its delta is ignored."""
    return isinstance(body, CountEntry) and body.level_version is not None
