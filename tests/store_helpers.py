"""Building stores with sample catalogs for tests."""

from __future__ import annotations

from pathlib import Path

from firmware_agent.store import ProductRecord, Store, StoreLimits

SAMPLE = [
    (ProductRecord("OIL-1L", "Aceite de oliva 1 L", 1095, "each", 10), ["8410000000016"]),
    (ProductRecord("MILK", "Leche entera", 99, "each", 24), ["8410000000023", "08410000000023"]),
    (ProductRecord("HAM", "Jamón serrano", 2490, "kg", 5000), ["2000042000004"]),
    (ProductRecord("CHEESE", "Queso manchego", 1890, "kg", 3000), ["8410000000085"]),  # weighed on the scale
]


def open_store(tmp_path: Path, limits: StoreLimits | None = None, *, catalog: bool = True) -> Store:
    store = Store.open(tmp_path / "tillbridge.db", limits)
    if catalog:
        with store.transaction():
            store.upsert_products(SAMPLE)
    return store
