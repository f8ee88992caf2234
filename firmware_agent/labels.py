"""Shelf labels to change: every price the catalog changes is noted, printed as one list, then cleared.

A price change from the shop (a catalog delta or snapshot) or from a catalog import is noted per sku with
the price the shelf label still shows (the first old price) and the latest new one; a price that goes back
to what the label shows drops off the list. The list lives in the store's settings, so it survives a
restart and changes in the same transaction as the catalog. `tillbridge labels` prints it and clears what
it printed; a change noted while printing stays for the next time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from firmware_agent.store import Store, catalog
from firmware_agent.tickets.model import PriceChange
from wire import Product

KEY: Final = "shelf_labels"
MAX_LABELS: Final = 5000  # a catalog rewrite beyond this is a new set of labels, not a list to work through


def note_price_changes(store: Store, products: Iterable[Product]) -> int:
    """Before `products` replace what the store has: notes each sku whose price changes; returns how many
    labels are pending. Runs inside the caller's transaction.
    """
    wanted = {p.sku: p for p in products}
    if not wanted:
        return len(pending(store))
    known = catalog.prices_of(store, wanted)
    labels = pending(store)
    for sku, (old, unit) in known.items():
        product = wanted[sku]
        if product.price_cents == old and sku not in labels:
            continue
        entry = labels.get(sku) or {"old": old}
        entry.update(
            name=product.name, new=product.price_cents, unit=unit, barcode=next(iter(product.barcodes), "")
        )
        if entry["new"] == entry["old"]:
            labels.pop(sku, None)
        else:
            labels[sku] = entry
    _save(store, labels)
    return len(labels)


def pending(store: Store) -> dict[str, dict[str, Any]]:
    """sku → {"name", "old", "new", "unit", "barcode"}, in the order the changes came."""
    text = store.setting(KEY)
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def summary(store: Store) -> dict[str, int]:
    """For the box's telemetry: how many shelf labels wait to be changed, so the owner's page shows it."""
    return {"shelf_labels": len(pending(store))}


def changes(labels: Mapping[str, Mapping[str, Any]]) -> tuple[PriceChange, ...]:
    """The pending labels as the price-change ticket lists them."""
    return tuple(
        PriceChange(
            str(entry.get("name", sku)),
            int(entry.get("old", 0)),
            int(entry.get("new", 0)),
            _ean13(str(entry.get("barcode", ""))),
            str(entry.get("unit", "each")),
        )
        for sku, entry in labels.items()
    )


def clear(store: Store, printed: Mapping[str, Mapping[str, Any]]) -> int:
    """Drops the labels that were printed as they were; one changed again since stays. Returns how many."""
    labels = pending(store)
    done = [sku for sku, entry in printed.items() if labels.get(sku) == entry]
    for sku in done:
        del labels[sku]
    _save(store, labels)
    return len(done)


def _save(store: Store, labels: dict[str, dict[str, Any]]) -> None:
    if len(labels) > MAX_LABELS:
        labels = dict(list(labels.items())[-MAX_LABELS:])
    store.set_setting(KEY, json.dumps(labels, ensure_ascii=False))


def _ean13(code: str) -> str:
    """The ticket prints EAN-13 bars only; other codes are shown as text by their product name alone."""
    return code if len(code) == 13 and code.isdigit() else ""
