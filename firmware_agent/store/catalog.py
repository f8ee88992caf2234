"""The catalog's statements beyond one product at a time: what a snapshot, a delta or a price check needs.

Named functions, so the link's catalog code and the shelf labels never write SQL of their own. A bulk
read scans the table once rather than looking thousands of skus up one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from firmware_agent.store.database import Store

SCAN_PAST: Final = 500
"""Past this many skus, one scan of the product table beats looking each one up."""


def clear(store: Store) -> None:
    """Every product and barcode goes (a snapshot replaces the whole catalog, in the caller's transaction)."""
    store.sql("DELETE FROM barcode")
    store.sql("DELETE FROM product")


def delete_products(store: Store, skus: Iterable[str]) -> None:
    store.sql_many("DELETE FROM product WHERE sku = ?", [(sku,) for sku in skus])


def units_by_weight(store: Store) -> dict[str, str]:
    """sku → unit of the products the box sells by measure (the rest are "each", the wire's default)."""
    return dict(store.sql("SELECT sku, unit FROM product WHERE unit != 'each'").fetchall())


def stock_of(store: Store, skus: Iterable[str]) -> dict[str, int]:
    """sku → local stock of those of `skus` the box has."""
    return {sku: stock for sku, stock in _products(store, "stock", set(skus))}


def prices_of(store: Store, skus: Iterable[str]) -> dict[str, tuple[int, str]]:
    """sku → (price in cents, unit) of those of `skus` the box has."""
    return {sku: (price, unit) for sku, price, unit in _products(store, "price_cents, unit", set(skus))}


def _products(store: Store, columns: str, wanted: set[str]) -> list[Any]:
    """(sku, *columns) rows of the `wanted` skus the box has."""
    if not wanted:
        return []
    if len(wanted) > SCAN_PAST:
        rows = store.sql(f"SELECT sku, {columns} FROM product").fetchall()
        return [row for row in rows if row[0] in wanted]
    marks = ",".join("?" * len(wanted))
    return store.sql(f"SELECT sku, {columns} FROM product WHERE sku IN ({marks})", tuple(wanted)).fetchall()
