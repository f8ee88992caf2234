"""Loading products into the store from anything shaped like a catalog item (sample data, the cloud's)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from firmware_agent.store import ProductRecord, Store


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
