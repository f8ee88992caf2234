"""Carrying a decided fact out against the store: the stock change and its journal entry, together.

Called inside the core loop's transaction, so a fact is written whole or not at all.
"""

from __future__ import annotations

from typing import TypedDict

from firmware_agent.domain import Counted, Fact, Mode, ModeChanged, OrderCollected, StockMove, UnknownBarcode
from firmware_agent.store import JournalRecord, Store, levels
from firmware_agent.store.orders import mark_collected
from wire import (
    STOCK_BODIES,
    CountEntry,
    ModeChangedEntry,
    OrderCollectedEntry,
    UnknownBarcodeEntry,
)


def apply_fact(store: Store, fact: Fact) -> JournalRecord:
    match fact:
        case StockMove():
            stock = store.change_stock(fact.sku, fact.delta)
            body = STOCK_BODIES[fact.kind](
                **_stock(fact.sku, fact.delta, stock, fact.barcode),
                weight_g=fact.weight_g,
                price_cents=fact.price_cents,
                reason=fact.reason,
            )
            return _moved(store, store.append(body), fact.sku, fact.delta)
        case Counted():
            # Absolute: the units counted are what is on hand (open online orders' units included, they
            # are still here). The entry names the cloud level counted against, so the cloud keeps what
            # other channels did since; the delta only moves what this box shows meanwhile.
            tally = store.add_to_tally(fact.sku, fact.qty)
            product = store.product(fact.sku)
            level = levels.level_of(store, fact.sku)
            reserved = level.reserved if level is not None else 0
            delta = tally - ((product.stock if product else 0) + reserved)
            stock = store.change_stock(fact.sku, delta)
            count = CountEntry(
                **_stock(fact.sku, delta, stock, fact.barcode),
                counted=tally,
                level_version=level.version if level is not None else None,
            )
            return _moved(store, store.append(count), fact.sku, delta)
        case ModeChanged():
            store.set_setting("mode", fact.mode.value)
            if fact.mode is Mode.COUNT:
                store.clear_tallies()  # a new count session starts from zero
            return store.append(
                ModeChangedEntry(mode=fact.mode.value, previous=fact.previous.value, source=fact.source)
            )
        case UnknownBarcode():
            return store.append(UnknownBarcodeEntry(raw=fact.raw, mode=fact.mode.value, reason=fact.reason))
        case OrderCollected():
            record = store.append(
                OrderCollectedEntry(
                    order_id=fact.order_id, pickup_code=fact.pickup_code, number=fact.number or None
                )
            )
            mark_collected(store, fact.order_id, record.seq)
            return record


def _moved(store: Store, record: JournalRecord, sku: str, delta: int) -> JournalRecord:
    """Every stock movement also counts locally until the cloud's level includes it (store/levels.py)."""
    levels.note_move(store, record.seq, sku, delta)
    return record


class _Stock(TypedDict):
    sku: str
    delta: int
    stock_after: int
    barcode: str | None
    negative: bool | None


def _stock(sku: str, delta: int, stock: int, barcode: str) -> _Stock:
    return {
        "sku": sku,
        "delta": delta,
        "stock_after": stock,
        "barcode": barcode or None,  # an adjustment by hand has no barcode
        # allowed (the till sells anyway) but flagged for the shop to look at
        "negative": True if stock < 0 else None,
    }
