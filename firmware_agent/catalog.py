"""Loading products into the store from anything shaped like a catalog item (sample data, the cloud's)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from firmware_agent.labels import note_price_changes
from firmware_agent.store import ProductRecord, Store
from wire import Product


class CatalogItem(Protocol):
    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def price_cents(self) -> int: ...
    @property
    def unit(self) -> str: ...
    @property
    def stock(self) -> int: ...
    @property
    def barcodes(self) -> Sequence[str]: ...


def load_products(store: Store, items: Iterable[CatalogItem]) -> int:
    """Insert or update `items` in one transaction; returns how many."""
    with store.transaction():
        return store.upsert_products(
            (ProductRecord(i.sku, i.name, i.price_cents, i.unit, i.stock), i.barcodes) for i in items
        )


def import_products(store: Store, products: Sequence[Product]) -> dict[str, str]:
    """Insert or update `products` in one transaction (all or nothing); returns sku → "new", "changed" or
    "same". A product without a stock figure keeps the box's; one without barcodes keeps its barcodes.
    """
    with store.transaction():
        plan = _plan(store, products)
        note_price_changes(store, products)
        store.upsert_products((record, codes) for record, _, codes in plan)
    return {record.sku: verdict for record, verdict, _ in plan}


def compare(store: Store, products: Sequence[Product]) -> dict[str, str]:
    """What `import_products` would say of each product, without changing anything (a dry run)."""
    return {record.sku: verdict for record, verdict, _ in _plan(store, products)}


def _plan(store: Store, products: Sequence[Product]) -> list[tuple[ProductRecord, str, Sequence[str]]]:
    plan: list[tuple[ProductRecord, str, Sequence[str]]] = []
    for p in products:
        known = store.product(p.sku)
        stock = p.stock if p.stock is not None else (known.stock if known is not None else 0)
        record = ProductRecord(p.sku, p.name, p.price_cents, p.unit or "each", stock)
        verdict = "new" if known is None else "same" if known == record else "changed"
        plan.append((record, verdict, p.barcodes))
    return plan
